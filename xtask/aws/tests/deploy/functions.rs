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
            .env("CARGO_TARGET_DIR", self.root.join("target"))
            .env(
                xtask::xtask_local::BIN_ENV,
                common::invoke::xtask_local_binary(),
            );
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

    serve_all_three(&copy);

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

    #[cfg(feature = "iam")]
    setup_ci_grants_them_all(&copy, &aws);
    a_streaming_function_from_the_template(&copy);
}

/// `new --stream`: the template builds (beside the others, their dependencies), is static,
/// and streams its lines through the local Runtime API.
fn a_streaming_function_from_the_template(copy: &Copy) {
    let out = copy.xtask(&["new", "delta", "--stream"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let manifest = std::fs::read_to_string(copy.root.join("delta/Cargo.toml")).unwrap();
    assert!(
        manifest.contains("invoke-mode = \"RESPONSE_STREAM\""),
        "{manifest}"
    );
    let smoke = copy.root.join("delta/smoke/event.json");
    let out = copy.xtask(&[
        "invoke",
        "-p",
        "delta",
        "--data-file",
        smoke.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    // lambda_runtime's stream: its function URL prelude, then the lines as they came.
    assert!(
        stdout.ends_with("1/3 hello, smoke\n2/3 hello, smoke\n3/3 hello, smoke\n"),
        "{stdout:?}"
    );
    assert!(stdout.starts_with("{\"statusCode\":200"), "{stdout:?}");
}

/// CI's role deploys exactly the workspace's functions; after `new`, a rerun of setup-ci
/// updates the policy and nothing else.
#[cfg(feature = "iam")]
fn setup_ci_grants_them_all(copy: &Copy, aws: &Aws) {
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

/// `invoke --serve` serves every function at once: boto3 invokes each by name (or by ARN),
/// an unknown name (the RIE's `function` too) gets the Invoke API's ResourceNotFoundException,
/// and the front door routes `/NAME/…` to NAME with the rest of the path.
fn serve_all_three(copy: &Copy) {
    use std::io::BufRead;
    let mut cmd = Command::new(common::invoke::xtask_binary());
    cmd.args(["invoke", "--serve", "--port", "0", "--json"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let mut server = copy.in_copy(cmd).spawn().unwrap();
    struct Stop(std::process::Child);
    impl Drop for Stop {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
    let mut stdout = std::io::BufReader::new(server.stdout.take().unwrap());
    let stderr = server.stderr.take().unwrap();
    let server = Stop(server);
    let mut first = String::new();
    stdout.read_line(&mut first).unwrap();
    let port = serde_json::from_str::<Value>(&first)
        .unwrap_or_else(|e| panic!("the address line ({e}): {first:?}"))["port"]
        .as_u64()
        .unwrap();
    let home = tempfile::tempdir().unwrap();
    let boto3 = |function: &str, payload: &str| -> Value {
        let program = format!(
            "import json, boto3, botocore.config, botocore.exceptions\n\
             lam = boto3.client('lambda', endpoint_url='http://127.0.0.1:{port}', \
             config=botocore.config.Config(retries={{'total_max_attempts': 1}}))\n\
             try:\n    \
                 r = lam.invoke(FunctionName={function:?}, Payload={payload:?})\n    \
                 out = {{'status': r['StatusCode'], 'payload': json.loads(r['Payload'].read())}}\n\
             except botocore.exceptions.ClientError as e:\n    \
                 out = {{'status': e.response['ResponseMetadata']['HTTPStatusCode'], \
                 'code': e.response['Error']['Code'], 'message': e.response['Error']['Message']}}\n\
             print(json.dumps(out))\n"
        );
        let out = run(
            Command::new(xtask_local::dev::tools::venv().join("bin/python"))
                .args(["-c", &program])
                .env("HOME", home.path())
                .env("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE")
                .env("AWS_SECRET_ACCESS_KEY", "secret")
                .env("AWS_DEFAULT_REGION", "us-east-1")
                .env("AWS_CONFIG_FILE", home.path().join("config"))
                .env(
                    "AWS_SHARED_CREDENTIALS_FILE",
                    home.path().join("credentials"),
                )
                .env_remove("AWS_ENDPOINT_URL")
                .env_remove("AWS_PROFILE"),
        );
        assert!(out.status.success(), "{}", text(&out.stderr));
        serde_json::from_slice(&out.stdout).unwrap()
    };
    let alpha = boto3("alpha", r#"{"n": 1}"#);
    assert_eq!(alpha["status"], 200, "{alpha}");
    assert_eq!(
        alpha["payload"],
        json!({"function": "alpha", "event": {"n": 1}})
    );
    let beta = boto3(
        "arn:aws:lambda:us-east-1:123456789012:function:beta",
        r#"{"rawPath": "/hello", "queryStringParameters": {"name": "b"}, "requestContext": {"http": {"method": "GET"}}}"#,
    );
    assert_eq!(beta["payload"]["body"], r#"{"hello":"b"}"#, "{beta}");
    let echo = boto3("echo-function", r#"{"ping": true}"#);
    assert_eq!(echo["payload"]["statusCode"], 200, "{echo}");
    for unknown in ["gamma", "function"] {
        let missing = boto3(unknown, "{}");
        assert_eq!(
            (&missing["status"], &missing["code"]),
            (&json!(404), &json!("ResourceNotFoundException")),
            "{missing}"
        );
        assert!(
            missing["message"]
                .as_str()
                .unwrap()
                .contains("echo-function, alpha, beta"),
            "{missing}"
        );
    }
    let get = |path: &str| {
        let request = hyper::Request::get(path)
            .header("host", format!("127.0.0.1:{port}"))
            .body(http_body_util::Full::new(hyper::body::Bytes::new()))
            .unwrap();
        let addr = std::net::SocketAddr::from(([127, 0, 0, 1], port as u16));
        xtask_local::dev::http_client::send_blocking(addr, request).unwrap()
    };
    let hello = get("/beta/hello?name=ada");
    assert_eq!(hello.status(), 200);
    assert_eq!(hello.body().as_ref(), br#"{"hello":"ada"}"#);
    assert_eq!(get("/hello").status(), 404);
    // Ctrl-C: every function's sandbox stops, what is queued is written, the server exits.
    let mut server = server;
    let interrupted = Command::new("kill")
        .args(["-INT", &server.0.id().to_string()])
        .status()
        .unwrap();
    assert!(interrupted.success());
    let status = server.0.wait().unwrap();
    assert!(status.success(), "{status}");
    // Each function's lines on stderr carry its name.
    let mut lines = String::new();
    let _ = std::io::Read::read_to_string(&mut std::io::BufReader::new(stderr), &mut lines);
    for name in ["alpha", "beta", "echo-function"] {
        assert!(
            lines.contains(&format!("[{name}] REPORT RequestId")),
            "{lines}"
        );
    }
}
