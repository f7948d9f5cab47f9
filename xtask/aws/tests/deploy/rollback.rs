//! `cargo xtask rollback`: the alias back to where the last deploy moved it from, as the
//! alias's description (written by deploy, kept by Lambda) records it; never a guess; guarded
//! by the alias's RevisionId.

use super::*;

impl Aws {
    fn rollback(&self, args: &[&str]) -> Deployed {
        self.rollback_of("echo", args)
    }

    fn rollback_of(&self, function: &str, args: &[&str]) -> Deployed {
        let mut cmd = xtask_aws();
        cmd.args(["rollback", "--endpoint-url", &self.proxy.endpoint()])
            .args(["--function-name", function, "--alias", "live"])
            .args(args);
        isolate_aws_env(&mut cmd, self.dir.path());
        deployed(&mut cmd)
    }

    /// UpdateAlias straight at moto, as the console or the CLI would (no description given:
    /// the alias keeps the one it has).
    fn move_by_hand(&self, version: &str, description: Option<&str>) {
        moto::block_on(
            self.lambda()
                .update_alias()
                .function_name("echo")
                .name("live")
                .function_version(version)
                .set_description(description.map(str::to_string))
                .send(),
        )
        .unwrap();
    }

    fn alias_description(&self) -> String {
        let alias = moto::block_on(
            self.lambda()
                .get_alias()
                .function_name("echo")
                .name("live")
                .send(),
        )
        .expect("GetAlias on moto");
        alias.description().unwrap_or_default().to_string()
    }
}

#[test]
fn rollback_goes_back_one_deploy_and_never_guesses() {
    let aws = Aws::with_echo();
    // Version 1 (the alias created), then version 2 (moved from 1).
    aws.deploy_built(&["--alias", "live"]).success();
    let second = second_zip(aws.dir.path());
    aws.deploy_zip("echo", second.to_str().unwrap(), &["--alias", "live"])
        .success();
    assert_eq!(aws.alias_version("echo", "live"), "2");
    assert_eq!(
        aws.alias_description(),
        "cargo xtask deploy moved this alias from version 1 to version 2"
    );

    // A dry run reads, says, and changes nothing.
    aws.proxy.clear();
    let dry = aws.rollback(&["--dry-run", "--json"]).success();
    assert_eq!(
        (&dry["from"], &dry["to"], &dry["changed"]),
        (&json!("2"), &json!("1"), &json!(false))
    );
    assert_eq!(aws.proxy.operations(), ["GetAlias", "GetFunction"]);
    assert_eq!(aws.alias_version("echo", "live"), "2");

    let done = aws.rollback(&[]);
    assert!(done.ok, "{}", done.stderr);
    assert!(
        done.stdout
            .contains("echo:live rolled back from version 2 to version 1"),
        "{}",
        done.stdout
    );
    assert_eq!(aws.alias_version("echo", "live"), "1");
    assert_eq!(
        aws.alias_description(),
        "cargo xtask rollback moved this alias back from version 2 to version 1"
    );
    // Guarded: the UpdateAlias carried the RevisionId GetAlias read.
    let update = aws.last_body("UpdateAlias");
    assert!(update["RevisionId"].is_string(), "{update}");

    // Again without --to: it says what it would take, and changes nothing.
    aws.proxy.clear();
    let err = aws.rollback(&[]).failure();
    assert!(
        err.contains("last moved by a rollback, from version 2 to version 1")
            && err.contains("`--to 2` undoes that rollback"),
        "{err}"
    );
    assert_eq!(aws.proxy.operations(), ["GetAlias"]);
    assert_eq!(aws.alias_version("echo", "live"), "1");

    // --to: anywhere published; a version that does not exist is refused before any move.
    let err = aws.rollback(&["--to", "9"]).failure();
    assert!(err.contains("version 9 of echo does not exist"), "{err}");
    let forward = aws.rollback(&["--to", "2", "--json"]).success();
    assert_eq!(
        (&forward["from"], &forward["to"]),
        (&json!("1"), &json!("2"))
    );
    assert_eq!(aws.alias_version("echo", "live"), "2");
    let same = aws.rollback(&["--to", "2", "--json"]).success();
    assert_eq!(same["changed"], false);
}

#[test]
fn rollback_refuses_when_the_alias_moved_meanwhile_or_records_nothing() {
    let aws = Aws::with_echo();
    aws.deploy_built(&["--alias", "live"]).success();
    // Created by a deploy: there is no earlier version.
    let err = aws.rollback(&[]).failure();
    assert!(err.contains("no earlier version"), "{err}");
    let second = second_zip(aws.dir.path());
    aws.deploy_zip("echo", second.to_str().unwrap(), &["--alias", "live"])
        .success();

    // Another change of the alias between GetAlias and UpdateAlias: 412, nothing changed.
    aws.proxy.fail(
        "UpdateAlias",
        1,
        Fault::Error(
            412,
            "PreconditionFailedException",
            "The Revision Id provided does not match the latest Revision Id.",
        ),
    );
    let err = aws.rollback(&[]).failure();
    assert!(
        err.contains("alias live of echo moved while rolling back")
            && err.contains("nothing changed"),
        "{err}"
    );
    assert_eq!(aws.alias_version("echo", "live"), "2");

    // Moved by hand, the description kept: the record is not about where the alias is now.
    aws.move_by_hand("1", None);
    let err = aws.rollback(&[]).failure();
    assert!(
        err.contains("is at version 1, but its description records a move to version 2"),
        "{err}"
    );
    assert_eq!(aws.alias_version("echo", "live"), "1");

    // An ARN in another account than the one Lambda answers for: refused, nothing moved.
    let err = aws
        .rollback_of(
            "arn:aws:lambda:us-east-1:999999999999:function:echo",
            &["--to", "2"],
        )
        .failure();
    assert!(err.contains("but Lambda answered about"), "{err}");
    assert_eq!(aws.alias_version("echo", "live"), "1");
    // A function that does not exist is named as such.
    let err = aws.rollback_of("nope", &["--to", "1"]).failure();
    assert!(err.contains("function nope does not exist"), "{err}");

    // Moved by hand with a description of one's own (no record): only --to.
    aws.move_by_hand("1", Some("pinned by the on-call engineer"));
    let err = aws.rollback(&[]).failure();
    assert!(
        err.contains("does not record the version it had before")
            && err.contains("pinned by the on-call engineer"),
        "{err}"
    );
    let err = aws.rollback(&["--to", "$LATEST"]).failure();
    assert!(err.contains("not a version number"), "{err}");
}
