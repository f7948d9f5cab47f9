//! A team's workspace: the echo function and two functions made by `cargo xtask new` (one
//! `--http`), in a copy of the checkout at another path with an empty target directory. One
//! `cargo xtask build` builds all three; one `cargo xtask deploy` deploys all three from an
//! empty account, one of them failing its smoke test.

use super::*;

/// The copy, and a command of this checkout's xtask (or xtask-aws) run in it, as `cargo run`
/// runs the xtask in a checkout moved or copied together with its `target/`.
struct Copy {
    _parent: tempfile::TempDir,
    root: PathBuf,
}

impl Copy {
    fn new() -> Copy {
        let parent = tempfile::tempdir().unwrap();
        let root = parent.path().join("a-much-longer-checkout-directory-name");
        let checkout = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        for rel in ["Cargo.toml", "Cargo.lock", ".cargo", "function", "xtask"] {
            xtask::util::fs::copy_tree(&checkout.join(rel), &root.join(rel)).unwrap();
        }
        Copy {
            _parent: parent,
            root,
        }
    }

    fn in_copy(&self, mut cmd: Command) -> Command {
        cmd.current_dir(self.root.join("function"))
            .env_remove("XTASK_PROJECT_ROOT")
            .env("CARGO_MANIFEST_DIR", self.root.join("xtask"))
            .env("CARGO_TARGET_DIR", self.root.join("target"));
        cmd
    }

    fn xtask(&self, args: &[&str]) -> std::process::Output {
        let mut cmd = Command::new(common::invoke::xtask_binary());
        cmd.args(args);
        run(&mut self.in_copy(cmd))
    }
}

/// The echo function's zip built in the copy is byte-identical to this checkout's: clean
/// builds in different directories give the same bytes, and building beside other functions
/// changes none of them. Each new function is static and answers its own smoke event with its
/// expected answer, run with the memory its manifest (or the workspace's) declares.
#[test]
fn three_functions_build_in_one_go_and_deploy_together_one_failing_its_smoke_test() {
    let reference = std::fs::read(built_zip("x86_64")).unwrap();
    let copy = Copy::new();
    for args in [&["new", "alpha"][..], &["new", "beta", "--http"]] {
        let out = copy.xtask(args);
        assert!(out.status.success(), "{args:?}: {}", text(&out.stderr));
    }
    // Refused before anything is written: the workspace stays as it is.
    let manifest = std::fs::read(copy.root.join("Cargo.toml")).unwrap();
    for (args, why) in [
        (&["new", "alpha"][..], "already exists"),
        (&["new", "Alpha"], "lower case"),
        (&["new", "a\nb"], "cannot name a Lambda function"),
        (&["new", "xtask-aws"], "already has a package"),
    ] {
        let out = copy.xtask(args);
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        let stderr = text(&out.stderr);
        assert!(stderr.contains(why), "{args:?}: {stderr}");
    }
    assert_eq!(
        std::fs::read(copy.root.join("Cargo.toml")).unwrap(),
        manifest
    );
    // Settings as code: a workspace default, and one function's own value over it.
    let mut root_manifest = String::from_utf8(manifest).unwrap();
    root_manifest.push_str("\n[workspace.metadata.lambda]\nmemory = 256\n");
    std::fs::write(copy.root.join("Cargo.toml"), root_manifest).unwrap();
    let beta_manifest = copy.root.join("beta/Cargo.toml");
    let beta = std::fs::read_to_string(&beta_manifest).unwrap();
    std::fs::write(
        &beta_manifest,
        beta.replace(
            "[package.metadata.lambda]\n",
            "[package.metadata.lambda]\nmemory = 512\n",
        ),
    )
    .unwrap();

    let out = copy.xtask(&["build", "--json"]);
    assert!(out.status.success(), "build: {}", text(&out.stderr));
    let built: Vec<Value> = text(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let packages: Vec<&str> = built
        .iter()
        .map(|v| v["package"].as_str().unwrap())
        .collect();
    assert_eq!(packages, ["echo-function", "alpha", "beta"]);
    let echo = &built[0];
    let zip = echo["zip"].as_str().unwrap();
    assert!(zip.starts_with(copy.root.to_str().unwrap()), "{zip}");
    assert!(
        zip.ends_with("lambda/echo-function/x86_64/bootstrap.zip"),
        "{zip}"
    );
    assert_eq!(echo["fresh"], false, "a clean build writes its zip");
    assert_eq!(
        echo["zip_sha256"],
        xtask::util::digest::sha256_hex(&reference)
    );

    for (v, memory) in built[1..].iter().zip([256, 512]) {
        let name = v["package"].as_str().unwrap();
        assert_eq!(v["function_name"], name);
        let zip = PathBuf::from(v["zip"].as_str().unwrap());
        assert!(zip.ends_with(format!("lambda/{name}/x86_64/bootstrap.zip")));
        let verified = copy.xtask(&["verify-static", "-p", name]);
        assert!(verified.status.success(), "{}", text(&verified.stdout));
        let smoke = copy.root.join(name).join("smoke");
        let out = copy.xtask(&[
            "invoke",
            "-p",
            name,
            "--json",
            "--data-file",
            smoke.join("event.json").to_str().unwrap(),
        ]);
        assert!(out.status.success(), "{name}: {}", text(&out.stderr));
        let answer: Value = serde_json::from_slice(&out.stdout).unwrap();
        let expect: Value =
            serde_json::from_slice(&std::fs::read(smoke.join("expect.json")).unwrap()).unwrap();
        assert_eq!(answer["payload"], expect, "{name}");
        assert_eq!(answer["memorySizeMb"], memory, "{name}");
    }

    // -p picks; a command that runs one function asks for -p when there are several.
    let out = copy.xtask(&["build", "-p", "beta", "--json"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let only: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        (&only["package"], &only["fresh"]),
        (&json!("beta"), &json!(true))
    );
    for (args, says) in [
        (
            &["invoke", "{}"][..],
            "pass -p with one of: echo-function, alpha, beta",
        ),
        (
            &["build", "-p", "gamma"],
            "no function `gamma` in this workspace; its functions: echo-function, alpha, beta",
        ),
    ] {
        let out = copy.xtask(args);
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        assert!(text(&out.stderr).contains(says), "{}", text(&out.stderr));
    }

    // Deploy all three from an empty account; beta's expected answer is made wrong.
    let aws = Aws::start();
    std::fs::write(
        copy.root.join("beta/smoke/expect.json"),
        r#"{"statusCode": 418}"#,
    )
    .unwrap();
    let mut deploy = xtask_aws();
    deploy
        .args(["deploy", "--endpoint-url", &aws.proxy.endpoint()])
        .args(["--create", "--role", &aws.role, "--alias", "live", "--json"]);
    isolate_aws_env(&mut deploy, aws.dir.path());
    let summary = aws.dir.path().join("summary.md");
    deploy.env("GITHUB_STEP_SUMMARY", &summary);
    let out = run(&mut copy.in_copy(deploy));
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    let reports: Vec<Value> = serde_json::Deserializer::from_slice(&out.stdout)
        .into_iter()
        .collect::<Result<_, _>>()
        .unwrap();
    let by_name = |name: &str| {
        reports
            .iter()
            .find(|r| r["function"] == name)
            .unwrap_or_else(|| panic!("no report of {name}: {reports:?}"))
    };
    for name in ["echo-function", "alpha"] {
        let report = by_name(name);
        assert_eq!(report["outcome"], "created", "{report}");
        assert_eq!(report["smoke"]["passed"], true, "{report}");
        assert_eq!(report["alias"], "live", "{report}");
        assert_eq!(aws.alias_version(name, "live"), "1");
    }
    let beta = by_name("beta");
    assert_eq!(beta["outcome"], "created");
    assert_eq!(beta["smoke"]["passed"], false, "{beta}");
    assert_eq!(beta["alias"], Value::Null);
    assert!(
        stderr.contains("the smoke test of beta version 1 failed"),
        "{stderr}"
    );
    let no_alias = moto::block_on(
        aws.lambda()
            .get_alias()
            .function_name("beta")
            .name("live")
            .send(),
    );
    assert!(no_alias.is_err(), "beta's alias must not exist");
    // Each function's settings as code, applied to it alone.
    for (name, memory) in [("echo-function", 256), ("alpha", 256), ("beta", 512)] {
        assert_eq!(aws.remote(name).memory_size(), Some(memory), "{name}");
    }
    let summary = std::fs::read_to_string(summary).unwrap();
    assert!(summary.contains("| beta | created | 1 |"), "{summary}");
    assert!(summary.contains("| FAILED |"), "{summary}");
    assert!(
        summary.contains("| alpha | created | 1 | live -> 1 | passed |"),
        "{summary}"
    );

    // CI's role deploys exactly the workspace's functions; after `new`, a rerun of setup-ci
    // updates the policy and nothing else.
    let setup_ci = || {
        let mut cmd = xtask_aws();
        cmd.args([
            "setup-ci",
            "--repo",
            "octo-org/team",
            "--environment",
            "production",
        ])
        .args(["--endpoint-url", &aws.moto.endpoint(), "--json"]); // straight at moto: the proxy logs the deploy's calls
        isolate_aws_env(&mut cmd, aws.dir.path());
        let out = run(&mut copy.in_copy(cmd));
        assert!(out.status.success(), "{}", text(&out.stderr));
        serde_json::from_slice::<Value>(&out.stdout).unwrap()
    };
    let policy = || {
        let iam = xtask_aws::dev::moto_clients::iam_client(&aws.moto.endpoint());
        let got = moto::block_on(
            iam.get_role_policy()
                .role_name("echo-function-deploy")
                .policy_name("deploy-echo-function")
                .send(),
        )
        .unwrap();
        let document = xtask::util::text::percent_decode(got.policy_document(), false);
        let document: Value = serde_json::from_str(&document).unwrap();
        document["Statement"][0]["Resource"].clone()
    };
    let arn = |name: &str| format!("arn:aws:lambda:us-east-1:123456789012:function:{name}");
    let first = setup_ci();
    let outcome = |report: &Value, item: &str| {
        report["steps"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["item"] == item)
            .map(|s| s["outcome"].as_str().unwrap().to_string())
            .unwrap()
    };
    assert_eq!(outcome(&first, "policy"), "created", "{first}");
    let expected: Vec<String> = ["echo-function", "alpha", "beta"]
        .iter()
        .flat_map(|n| [arn(n), format!("{}:*", arn(n))])
        .collect();
    assert_eq!(policy(), json!(expected));
    let variables = first["variables"].to_string();
    assert!(
        variables.contains("gh variable delete LAMBDA_FUNCTION_NAME"),
        "{variables}"
    );
    let out = copy.xtask(&["new", "gamma"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let rerun = setup_ci();
    assert_eq!(
        ["oidc-provider", "role", "policy"].map(|item| outcome(&rerun, item)),
        ["unchanged", "unchanged", "updated"],
        "{rerun}"
    );
    assert_eq!(policy()[6], json!(arn("gamma")));
}
