//! `cargo xtask deploy`: upload the built zip to an existing Lambda function, safely and
//! idempotently (UpdateFunctionCode guarded by RevisionId, then wait, verify, publish, alias).
//!
//! The zip checks and every decision (unchanged? right architecture? OS-only runtime? is the
//! update done?) are pure functions below; the SDK calls live in [`Deployer`].

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Context, Result};
use aws_sdk_lambda::config::interceptors::BeforeTransmitInterceptorContextRef;
use aws_sdk_lambda::config::{ConfigBag, Intercept, RuntimeComponents};
use aws_sdk_lambda::error::{BoxError, ProvideErrorMetadata, SdkError};
use aws_sdk_lambda::primitives::Blob;
use aws_sdk_lambda::types::{Architecture, FunctionCode, Runtime};
use aws_sdk_lambda::Client;
use serde::Serialize;

use crate::lambda::Arch;
use crate::util::status::status;
use crate::workspace::metadata;
use crate::{build, verify};

#[derive(Debug, Default, clap::Args)]
pub struct Args {
    /// Function to update. Default: $LAMBDA_FUNCTION_NAME, then `[package.metadata.lambda]
    /// function-name` in function/Cargo.toml.
    #[arg(long, env = "LAMBDA_FUNCTION_NAME", value_name = "NAME")]
    pub function_name: Option<String>,
    /// Deploy this zip instead of building `target/lambda/<arch>/bootstrap.zip`.
    #[arg(long, value_name = "PATH")]
    pub zip: Option<PathBuf>,
    /// Architecture of the artifact [default: `[package.metadata.lambda] arch`, else x86_64].
    #[arg(long, value_enum)]
    pub arch: Option<Arch>,
    /// AWS region (default: AWS_REGION, then the profile's region).
    #[arg(long)]
    pub region: Option<String>,
    /// Named profile from ~/.aws/config (SSO, assume-role, credential_process, ...).
    #[arg(long)]
    pub profile: Option<String>,
    /// Send requests here instead of AWS (LocalStack, moto). AWS_ENDPOINT_URL works too.
    #[arg(long, value_name = "URL")]
    pub endpoint_url: Option<String>,
    /// Publish a version of exactly the uploaded code (PublishVersion with its CodeSha256).
    #[arg(long)]
    pub publish: bool,
    /// Point this alias at the published version, creating it if missing (implies --publish).
    #[arg(long, value_name = "NAME")]
    pub alias: Option<String>,
    /// Upload even when the function already runs this exact zip.
    #[arg(long)]
    pub force: bool,
    /// Validate everything (UpdateFunctionCode with DryRun) and change nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Create the function (provided.al2023, handler bootstrap) if it does not exist.
    #[arg(long, requires = "role")]
    pub create: bool,
    /// Execution role for --create.
    #[arg(long, value_name = "ARN", requires = "create")]
    pub role: Option<String>,
    /// Print the result as JSON on stdout.
    #[arg(long)]
    pub json: bool,
}

// ---------------------------------------------------------------------------------------------
// Pure part: the zip, the remote function, and what to do about them.

/// What GetFunction and its relatives say about the function, as plain data.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Remote {
    pub name: String,
    pub arn: Option<String>,
    pub code_sha256: Option<String>,
    pub architectures: Vec<String>,
    pub runtime: Option<String>,
    pub package_type: Option<String>,
    pub revision_id: Option<String>,
    pub version: Option<String>,
    pub state: Option<String>,
    pub state_reason: Option<String>,
    pub last_update_status: Option<String>,
    pub last_update_status_reason: Option<String>,
}

/// The next step after reading the function.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Plan {
    /// It already runs exactly this zip.
    Unchanged,
    Upload,
}

/// Refuses a function this artifact cannot run on, then compares the code.
pub fn plan(remote: &Remote, local_code_sha256: &str, arch: Arch, force: bool) -> Result<Plan> {
    if remote.package_type.as_deref() == Some("Image") {
        bail!(
            "function {} is a container-image function; a zip can only be deployed to a \
             zip-packaged function with an OS-only runtime (provided.al2023)",
            remote.name
        );
    }
    if let Some(runtime) = &remote.runtime {
        if !runtime.starts_with("provided") {
            bail!(
                "function {} uses the {runtime} runtime, which would not run a `bootstrap` \
                 executable; switch it to provided.al2023 (aws lambda update-function-configuration \
                 --function-name {} --runtime provided.al2023 --handler bootstrap)",
                remote.name,
                remote.name
            );
        }
    }
    // Lambda omits Architectures for functions created before arm64 existed: those are x86_64.
    let remote_arch = remote
        .architectures
        .first()
        .map(String::as_str)
        .unwrap_or("x86_64");
    if remote_arch != arch.lambda_name() {
        bail!(
            "architecture mismatch: function {} runs on {remote_arch} but the artifact is built \
             for {arch}; deploy a `cargo xtask build --arch {remote_arch}` artifact with \
             `--arch {remote_arch}`, or change the function's architecture",
            remote.name
        );
    }
    if !force && remote.code_sha256.as_deref() == Some(local_code_sha256) {
        return Ok(Plan::Unchanged);
    }
    Ok(Plan::Upload)
}

/// Where an update (or a creation) stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Progress {
    Done,
    Pending(String),
}

/// Reads State and LastUpdateStatus: done, still going, or failed (with Lambda's reason).
pub fn progress(remote: &Remote) -> Result<Progress> {
    let reason = |r: &Option<String>| r.clone().unwrap_or_else(|| "no reason given".to_string());
    match remote.state.as_deref() {
        Some("Failed") => bail!(
            "function {} is in state Failed: {}",
            remote.name,
            reason(&remote.state_reason)
        ),
        Some("Pending") => return Ok(Progress::Pending("State Pending".into())),
        _ => {}
    }
    match remote.last_update_status.as_deref() {
        Some("Failed") => bail!(
            "Lambda could not apply the update to {}: LastUpdateStatus Failed: {}; \
             the previous code keeps running, fix the cause and deploy again",
            remote.name,
            reason(&remote.last_update_status_reason)
        ),
        Some("InProgress") => Ok(Progress::Pending("LastUpdateStatus InProgress".into())),
        _ => Ok(Progress::Done),
    }
}

/// Waits between polls and conflict retries: 0.5 s, 1 s, 2 s, then every 2 s.
pub fn backoff(attempt: u32) -> Duration {
    Duration::from_millis(500u64.saturating_mul(1 << attempt.min(2)))
}

/// How long to keep retrying while another update is in progress.
const CONFLICT_BUDGET: Duration = Duration::from_secs(120);
/// How long an update may stay InProgress before we give up waiting (Lambda's take seconds).
const UPDATE_BUDGET: Duration = Duration::from_secs(300);

/// An API failure reduced to what decides the message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    NotFound,
    /// ResourceConflictException: another update is in progress.
    Conflict(String),
    /// PreconditionFailedException: the RevisionId we sent is stale.
    StaleRevision,
    AccessDenied(String),
    BadCredentials(String),
    NoCredentials(String),
    Throttled(String),
    Server(u16, String),
    Unreachable(String),
    Other(String),
}

/// How an SDK error presented itself, before classification.
#[derive(Debug, Clone, Default)]
pub struct RawFailure {
    pub status: Option<u16>,
    pub code: Option<String>,
    pub message: Option<String>,
    /// No response: the request timed out or could not be sent.
    pub no_response: bool,
    /// The full error chain, for the message and for spotting credential problems.
    pub detail: String,
}

pub fn classify(raw: &RawFailure) -> Failure {
    let message = raw.message.clone().unwrap_or_else(|| raw.detail.clone());
    let detail_lower = raw.detail.to_lowercase();
    if raw.no_response {
        if detail_lower.contains("credentials") || detail_lower.contains("identity") {
            return Failure::NoCredentials(raw.detail.clone());
        }
        return Failure::Unreachable(raw.detail.clone());
    }
    match raw.code.as_deref() {
        Some("ResourceNotFoundException") => Failure::NotFound,
        Some("ResourceConflictException") => Failure::Conflict(message),
        Some("PreconditionFailedException") => Failure::StaleRevision,
        Some("AccessDeniedException" | "AccessDenied") => Failure::AccessDenied(message),
        Some(
            "UnrecognizedClientException"
            | "InvalidSignatureException"
            | "ExpiredTokenException"
            | "InvalidClientTokenId"
            | "IncompleteSignature",
        ) => Failure::BadCredentials(message),
        Some(code)
            if code.contains("Throttl")
                || code == "TooManyRequestsException"
                || raw.status == Some(429) =>
        {
            Failure::Throttled(message)
        }
        _ => match raw.status {
            Some(429) => Failure::Throttled(message),
            Some(s) if s >= 500 => Failure::Server(s, message),
            Some(403) if raw.code.is_none() => Failure::AccessDenied(message),
            _ => Failure::Other(match &raw.code {
                Some(code) => format!("{code}: {message}"),
                None => message,
            }),
        },
    }
}

/// What the failing call was doing, for the message.
#[derive(Debug, Clone)]
pub struct CallContext<'a> {
    /// IAM action, e.g. `lambda:UpdateFunctionCode`.
    pub action: &'a str,
    pub function: &'a str,
    pub endpoint: &'a str,
}

pub const CREDENTIAL_SOURCES: &str = "AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY (and \
AWS_SESSION_TOKEN), `--profile NAME` or AWS_PROFILE (static keys, SSO after `aws sso login`, \
assume-role, credential_process), web identity (AWS_ROLE_ARN + AWS_WEB_IDENTITY_TOKEN_FILE), \
or an ECS/EC2 instance role; in GitHub Actions, aws-actions/configure-aws-credentials with \
role-to-assume trades the job's OIDC token for keys in the environment";

fn no_credentials(detail: &str) -> String {
    format!("no usable AWS credentials were found ({detail}); supply them through one of: {CREDENTIAL_SOURCES}")
}

/// One sentence (or two) saying what went wrong and how to fix it.
pub fn explain(failure: &Failure, cx: &CallContext<'_>) -> String {
    let CallContext {
        action,
        function,
        endpoint,
    } = cx;
    match failure {
        Failure::NotFound => format!(
            "function {function} does not exist at {endpoint}; check --function-name and \
             --region, or create it with `--create --role ARN`"
        ),
        Failure::Conflict(m) => format!(
            "{action} on {function} conflicts with an update still in progress ({m}); \
             wait for it to finish and deploy again"
        ),
        Failure::StaleRevision => format!(
            "function {function} changed while deploying ({action} was refused because its \
             RevisionId is stale): another deploy or change ran at the same time; nothing was \
             overwritten, rerun the deploy to go on top of it"
        ),
        Failure::AccessDenied(m) => format!(
            "access denied: the credentials in use may not call {action} on function \
             {function} ({m}); allow `{action}` on the function's ARN \
             (arn:aws:lambda:REGION:ACCOUNT:function:{function}) in the IAM policy of the \
             deploying identity"
        ),
        Failure::BadCredentials(m) => format!(
            "AWS rejected the credentials ({m}); they are invalid or expired: refresh them \
             (e.g. `aws sso login`) or supply others: {CREDENTIAL_SOURCES}"
        ),
        Failure::NoCredentials(d) => no_credentials(d),
        Failure::Throttled(m) => format!(
            "Lambda kept throttling {action} ({m}) after the SDK's retries; try again later, \
             or raise the attempts with AWS_MAX_ATTEMPTS"
        ),
        Failure::Server(s, m) => format!(
            "Lambda kept failing {action} with HTTP {s} ({m}) after the SDK's retries; \
             this is on the service's side: try again later"
        ),
        Failure::Unreachable(d) => format!(
            "could not reach the Lambda endpoint {endpoint} ({d}); check the network, \
             --endpoint-url / AWS_ENDPOINT_URL and --region"
        ),
        Failure::Other(m) => format!("{action} on {function} failed: {m}"),
    }
}

// ---------------------------------------------------------------------------------------------
// Result and output.

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Outcome {
    Updated,
    Created,
    Unchanged,
    /// `--dry-run`: Lambda validated the update; nothing changed.
    DryRun,
    /// `--dry-run --create`: the function would be created.
    WouldCreate,
}

impl std::fmt::Display for Outcome {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Outcome::Updated => "updated",
            Outcome::Created => "created",
            Outcome::Unchanged => "unchanged",
            Outcome::DryRun => "dry run (validated, nothing changed)",
            Outcome::WouldCreate => "dry run (would create the function)",
        })
    }
}

/// One HTTP request the SDK sent (retries included).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ApiCall {
    pub operation: String,
    pub request_bytes: u64,
}

/// What carrying the code cost: the request bodies of the calls that upload a zip.
pub fn code_bytes(calls: &[ApiCall]) -> u64 {
    calls
        .iter()
        .filter(|c| {
            matches!(
                c.operation.as_str(),
                "UpdateFunctionCode" | "CreateFunction"
            )
        })
        .map(|c| c.request_bytes)
        .sum()
}

#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub function: String,
    pub function_arn: Option<String>,
    pub outcome: Outcome,
    pub arch: Arch,
    pub zip: PathBuf,
    pub code_sha256: String,
    /// `$LATEST`, or the number PublishVersion returned.
    pub version: String,
    pub alias: Option<String>,
    /// Bytes of code sent: the bodies of UpdateFunctionCode and CreateFunction requests (the
    /// zip, base64 in JSON), every attempt counted. `api_calls` has every request's size.
    pub bytes_uploaded: u64,
    pub api_calls: Vec<ApiCall>,
    pub seconds: f64,
}

impl Report {
    pub fn human(&self) -> String {
        let mut out = format!(
            "function:    {}{}\noutcome:     {}\nversion:     {}\n",
            self.function,
            self.function_arn
                .as_deref()
                .map(|a| format!(" ({a})"))
                .unwrap_or_default(),
            self.outcome,
            self.version
        );
        if let Some(alias) = &self.alias {
            out.push_str(&format!("alias:       {alias} -> {}\n", self.version));
        }
        out.push_str(&format!(
            "CodeSha256:  {}\nuploaded:    {} bytes\nAPI calls:   {} ({})\ntime:        {:.2} s\n",
            self.code_sha256,
            self.bytes_uploaded,
            self.api_calls.len(),
            self.api_calls
                .iter()
                .map(|c| c.operation.as_str())
                .collect::<Vec<_>>()
                .join(", "),
            self.seconds
        ));
        out
    }

    /// For `$GITHUB_STEP_SUMMARY`.
    pub fn markdown(&self) -> String {
        format!(
            "### Lambda deploy: `{}`\n\n| | |\n|---|---|\n| outcome | {} |\n| version | `{}` |\n\
             | alias | {} |\n| architecture | {} |\n| CodeSha256 | `{}` |\n| uploaded | {} bytes |\n\
             | API calls | {} |\n| time | {:.2} s |\n\n",
            self.function,
            self.outcome,
            self.version,
            self.alias
                .as_deref()
                .map(|a| format!("`{a}`"))
                .unwrap_or_else(|| "-".into()),
            self.arch,
            self.code_sha256,
            self.bytes_uploaded,
            self.api_calls.len(),
            self.seconds
        )
    }
}

// ---------------------------------------------------------------------------------------------
// Edges: settings, the zip on disk, the SDK.

pub fn run(args: Args) -> Result<()> {
    let started = Instant::now();
    // Settings first: a missing name must fail before a long build.
    let metadata::Target {
        function_name: function,
        arch,
    } = metadata::target(args.function_name.as_deref(), args.arch)?;
    if args.create && args.role.is_none() {
        bail!("--create needs the execution role: add --role ARN");
    }

    let zip_path = match &args.zip {
        Some(path) => path.clone(),
        None => build::build(arch)?.zip,
    };
    let bytes =
        std::fs::read(&zip_path).with_context(|| format!("reading {}", zip_path.display()))?;
    let zip = verify::check_zip(&zip_path, bytes, arch)?;
    status(
        "Checked",
        format!(
            "{} ({} bytes, {} unzipped, static {arch} bootstrap, CodeSha256 {})",
            zip_path.display(),
            zip.bytes.len(),
            zip.unzipped_bytes,
            zip.code_sha256
        ),
    );

    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the async runtime for the AWS SDK")?;
    let mut report = runtime.block_on(deploy(&args, &function, arch, &zip_path, &zip))?;
    report.seconds = started.elapsed().as_secs_f64();

    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print!("{}", report.human());
    }
    if let Some(summary) = std::env::var_os("GITHUB_STEP_SUMMARY").filter(|s| !s.is_empty()) {
        append(Path::new(&summary), &report.markdown())
            .context("writing the GitHub step summary ($GITHUB_STEP_SUMMARY)")?;
    }
    Ok(())
}

fn append(path: &Path, text: &str) -> Result<()> {
    use std::io::Write;
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .with_context(|| format!("opening {}", path.display()))?;
    file.write_all(text.as_bytes())
        .with_context(|| format!("appending to {}", path.display()))
}

/// Counts every HTTP request the SDK sends and its body size, retries included.
#[derive(Debug, Clone, Default)]
pub struct Meter(Arc<Mutex<Vec<ApiCall>>>);

impl Meter {
    pub fn calls(&self) -> Vec<ApiCall> {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }
}

impl Intercept for Meter {
    fn name(&self) -> &'static str {
        "xtask-deploy-meter"
    }

    fn read_before_transmit(
        &self,
        context: &BeforeTransmitInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let operation = cfg
            .load::<aws_smithy_runtime_api::client::orchestrator::Metadata>()
            .map(|m| m.name().to_string())
            .unwrap_or_else(|| "unknown".to_string());
        let request_bytes = context.request().body().content_length().unwrap_or(0);
        self.0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(ApiCall {
                operation,
                request_bytes,
            });
        Ok(())
    }
}

/// HTTPS through rustls on ring: the one TLS stack compiled in (see xtask/Cargo.toml).
pub fn http_client() -> aws_sdk_lambda::config::SharedHttpClient {
    use aws_smithy_http_client::tls;
    aws_smithy_http_client::Builder::new()
        .tls_provider(tls::Provider::Rustls(
            tls::rustls_provider::CryptoMode::Ring,
        ))
        .build_https()
}

/// Loads configuration the way the AWS CLI does, plus the flags, with bounded timeouts.
pub async fn client(
    region: Option<&str>,
    profile: Option<&str>,
    endpoint_url: Option<&str>,
    meter: &Meter,
) -> Result<(Client, String)> {
    use aws_config::timeout::TimeoutConfig;

    let mut loader = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .http_client(http_client())
        .timeout_config(
            TimeoutConfig::builder()
                // An unreachable endpoint fails in seconds, not minutes.
                .connect_timeout(Duration::from_secs(5))
                // A 50 MB upload on a slow CI link still fits in one attempt.
                .operation_attempt_timeout(Duration::from_secs(180))
                .operation_timeout(Duration::from_secs(420))
                .build(),
        );
    if let Some(region) = region {
        loader = loader.region(aws_config::Region::new(region.to_string()));
    }
    if let Some(profile) = profile {
        loader = loader.profile_name(profile);
    }
    if let Some(url) = endpoint_url {
        loader = loader.endpoint_url(url);
    }
    let sdk = loader.load().await;
    let Some(region) = sdk.region().map(|r| r.to_string()) else {
        bail!(
            "no AWS region is set: pass --region, set AWS_REGION, or set `region` in the \
             profile (~/.aws/config)"
        );
    };
    // Resolving credentials up front turns "none found" into one clear message before any
    // request, instead of a dispatch failure deep in the first call.
    let provider = sdk
        .credentials_provider()
        .ok_or_else(|| anyhow!(no_credentials("no credentials provider is configured")))?;
    if let Err(e) = aws_sdk_lambda::config::ProvideCredentials::provide_credentials(&provider).await
    {
        bail!(no_credentials(&chain(&e)));
    }
    let endpoint = sdk
        .endpoint_url()
        .map(str::to_string)
        .unwrap_or_else(|| format!("https://lambda.{region}.amazonaws.com"));
    let config = aws_sdk_lambda::config::Builder::from(&sdk)
        .interceptor(meter.clone())
        .build();
    Ok((Client::from_conf(config), endpoint))
}

/// An error and its sources as "a: b: c" (without the Debug dump `DisplayErrorContext` adds).
fn chain(err: &(dyn std::error::Error + 'static)) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut next = Some(err);
    while let Some(e) = next {
        let text = e.to_string();
        // Wrappers often repeat their source's text.
        if !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        next = e.source();
    }
    parts.join(": ")
}

fn raw_failure<E>(err: &SdkError<E>) -> RawFailure
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    let detail = chain(err);
    match err {
        SdkError::ServiceError(service) => RawFailure {
            status: Some(service.raw().status().as_u16()),
            code: service.err().code().map(str::to_string),
            message: service.err().message().map(str::to_string),
            no_response: false,
            detail,
        },
        SdkError::ResponseError(response) => RawFailure {
            status: Some(response.raw().status().as_u16()),
            no_response: false,
            detail,
            ..Default::default()
        },
        _ => RawFailure {
            no_response: true,
            detail,
            ..Default::default()
        },
    }
}

macro_rules! remote_from {
    ($name:expr, $c:expr) => {{
        let c = $c;
        Remote {
            name: c.function_name().unwrap_or($name).to_string(),
            arn: c.function_arn().map(str::to_string),
            code_sha256: c.code_sha256().map(str::to_string),
            architectures: c
                .architectures()
                .iter()
                .map(|a| a.as_str().to_string())
                .collect(),
            runtime: c.runtime().map(|r| r.as_str().to_string()),
            package_type: c.package_type().map(|p| p.as_str().to_string()),
            revision_id: c.revision_id().map(str::to_string),
            version: c.version().map(str::to_string),
            state: c.state().map(|s| s.as_str().to_string()),
            state_reason: c.state_reason().map(str::to_string),
            last_update_status: c.last_update_status().map(|s| s.as_str().to_string()),
            last_update_status_reason: c.last_update_status_reason().map(str::to_string),
        }
    }};
}

struct Deployer<'a> {
    client: Client,
    endpoint: String,
    function: &'a str,
}

impl Deployer<'_> {
    fn fail<E>(&self, action: &str, err: SdkError<E>) -> (Failure, anyhow::Error)
    where
        E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    {
        let failure = classify(&raw_failure(&err));
        let message = explain(
            &failure,
            &CallContext {
                action,
                function: self.function,
                endpoint: &self.endpoint,
            },
        );
        (failure, anyhow!(message))
    }

    /// GetFunction; `None` when the function does not exist.
    async fn get(&self) -> Result<Option<Remote>, (Failure, anyhow::Error)> {
        match self
            .client
            .get_function()
            .function_name(self.function)
            .send()
            .await
        {
            Ok(out) => Ok(Some(match out.configuration() {
                Some(c) => remote_from!(self.function, c),
                None => Remote {
                    name: self.function.to_string(),
                    ..Default::default()
                },
            })),
            Err(err) => match self.fail("lambda:GetFunction", err) {
                (Failure::NotFound, _) => Ok(None),
                other => Err(other),
            },
        }
    }

    /// GetFunction again, for polling. (Not GetFunctionConfiguration: one IAM action fewer.)
    async fn refresh(&self) -> Result<Remote> {
        match self.get().await {
            Ok(Some(remote)) => Ok(remote),
            Ok(None) => bail!(
                "function {} disappeared while deploying (deleted concurrently?); \
                 deploy again, with `--create --role ARN` to recreate it",
                self.function
            ),
            Err((_, error)) => Err(error),
        }
    }

    /// UpdateFunctionCode, retried while another update is in progress (bounded).
    async fn update(
        &self,
        zip: &verify::CheckedZip,
        revision: Option<&str>,
        dry_run: bool,
    ) -> Result<Remote> {
        let started = Instant::now();
        let mut attempt = 0;
        loop {
            let result = self
                .client
                .update_function_code()
                .function_name(self.function)
                .zip_file(Blob::new(zip.bytes.clone()))
                .set_revision_id(revision.map(str::to_string))
                .dry_run(dry_run)
                .send()
                .await;
            match result {
                Ok(out) => return Ok(remote_from!(self.function, &out)),
                Err(err) => match self.fail("lambda:UpdateFunctionCode", err) {
                    (Failure::Conflict(_), error) => {
                        let wait = backoff(attempt);
                        if started.elapsed() + wait > CONFLICT_BUDGET {
                            return Err(error.context(format!(
                                "another update kept {} busy for {} s",
                                self.function,
                                CONFLICT_BUDGET.as_secs()
                            )));
                        }
                        attempt += 1;
                        status(
                            "Waiting",
                            format!(
                                "another update of {} is in progress; retrying in {:.1} s \
                                 (attempt {})",
                                self.function,
                                wait.as_secs_f64(),
                                attempt + 1
                            ),
                        );
                        tokio::time::sleep(wait).await;
                    }
                    (_, error) => return Err(error),
                },
            }
        }
    }

    /// Polls until the update (or creation) has finished, with progress on stderr.
    async fn settle(&self, mut remote: Remote) -> Result<Remote> {
        let started = Instant::now();
        let mut attempt = 0;
        while let Progress::Pending(what) = progress(&remote)? {
            let wait = backoff(attempt);
            if started.elapsed() + wait > UPDATE_BUDGET {
                bail!(
                    "function {} is still {what} after {} s; check it in the Lambda console \
                     and deploy again once it settles",
                    self.function,
                    UPDATE_BUDGET.as_secs()
                );
            }
            status(
                "Waiting",
                format!(
                    "for {} ({what}, {:.0} s so far)",
                    self.function,
                    started.elapsed().as_secs_f64()
                ),
            );
            tokio::time::sleep(wait).await;
            attempt += 1;
            remote = self.refresh().await?;
        }
        Ok(remote)
    }

    async fn create(&self, zip: &verify::CheckedZip, arch: Arch, role: &str) -> Result<Remote> {
        let out = self
            .client
            .create_function()
            .function_name(self.function)
            .runtime(Runtime::Providedal2023)
            .handler("bootstrap")
            .role(role)
            .architectures(Architecture::from(arch.lambda_name()))
            .code(
                FunctionCode::builder()
                    .zip_file(Blob::new(zip.bytes.clone()))
                    .build(),
            )
            .send()
            .await
            .map_err(|e| self.fail("lambda:CreateFunction", e).1)?;
        Ok(remote_from!(self.function, &out))
    }

    async fn publish(&self, code_sha256: &str, revision: Option<&str>) -> Result<String> {
        let out = self
            .client
            .publish_version()
            .function_name(self.function)
            .code_sha256(code_sha256)
            .set_revision_id(revision.map(str::to_string))
            .send()
            .await
            .map_err(|e| self.fail("lambda:PublishVersion", e).1)?;
        out.version()
            .map(str::to_string)
            .context("PublishVersion answered without a version number")
    }

    /// Moves the alias to `version`, creating it when it does not exist yet.
    async fn alias(&self, alias: &str, version: &str) -> Result<()> {
        let updated = self
            .client
            .update_alias()
            .function_name(self.function)
            .name(alias)
            .function_version(version)
            .send()
            .await;
        match updated {
            Ok(_) => Ok(()),
            Err(err) => match self.fail("lambda:UpdateAlias", err) {
                (Failure::NotFound, _) => {
                    self.client
                        .create_alias()
                        .function_name(self.function)
                        .name(alias)
                        .function_version(version)
                        .send()
                        .await
                        .map_err(|e| self.fail("lambda:CreateAlias", e).1)?;
                    Ok(())
                }
                (_, error) => Err(error),
            },
        }
    }
}

/// The deploy against Lambda; the zip is already checked.
pub async fn deploy(
    args: &Args,
    function: &str,
    arch: Arch,
    zip_path: &Path,
    zip: &verify::CheckedZip,
) -> Result<Report> {
    let meter = Meter::default();
    let (client, endpoint) = client(
        args.region.as_deref(),
        args.profile.as_deref(),
        args.endpoint_url.as_deref(),
        &meter,
    )
    .await?;
    let d = Deployer {
        client,
        endpoint,
        function,
    };
    let publish = args.publish || args.alias.is_some();
    status("Deploying", format!("{function} at {}", d.endpoint));

    let (outcome, mut remote) = match d.get().await.map_err(|(_, e)| e)? {
        None => {
            let Some(role) = args.role.as_deref().filter(|_| args.create) else {
                bail!(explain(
                    &Failure::NotFound,
                    &CallContext {
                        action: "lambda:GetFunction",
                        function,
                        endpoint: &d.endpoint,
                    }
                ));
            };
            if args.dry_run {
                status("Skipped", format!("creating {function} (--dry-run)"));
                (Outcome::WouldCreate, None)
            } else {
                status(
                    "Creating",
                    format!(
                        "{function} (provided.al2023, {arch}, {} bytes)",
                        zip.bytes.len()
                    ),
                );
                (Outcome::Created, Some(d.create(zip, arch, role).await?))
            }
        }
        Some(remote) => match plan(&remote, &zip.code_sha256, arch, args.force)? {
            Plan::Unchanged => {
                status(
                    "Unchanged",
                    format!("{function} already runs CodeSha256 {}", zip.code_sha256),
                );
                (Outcome::Unchanged, Some(remote))
            }
            Plan::Upload => {
                let revision = remote.revision_id.clone();
                status(
                    if args.dry_run {
                        "Validating"
                    } else {
                        "Uploading"
                    },
                    format!(
                        "{} bytes to {function}{}",
                        zip.bytes.len(),
                        if args.dry_run { " (dry run)" } else { "" }
                    ),
                );
                let updated = d.update(zip, revision.as_deref(), args.dry_run).await?;
                if args.dry_run {
                    (Outcome::DryRun, Some(remote))
                } else {
                    (Outcome::Updated, Some(updated))
                }
            }
        },
    };

    let mut version = "$LATEST".to_string();
    // A dry run stops here: even an unchanged function gets no PublishVersion or alias move.
    let changes = !args.dry_run
        && matches!(
            outcome,
            Outcome::Updated | Outcome::Created | Outcome::Unchanged
        );
    if let (true, Some(r)) = (changes, remote.take()) {
        let settled = d.settle(r).await?;
        if settled.code_sha256.as_deref() != Some(zip.code_sha256.as_str()) {
            bail!(
                "after the update Lambda reports CodeSha256 {} for {function}, but the zip's is {}: \
                 another deploy replaced the code concurrently; rerun the deploy",
                settled.code_sha256.as_deref().unwrap_or("(none)"),
                zip.code_sha256
            );
        }
        // Rerun-safe: an unchanged $LATEST is still published (Lambda returns the existing
        // version when nothing changed), so a run that died before publishing is completed.
        if publish {
            version = d
                .publish(&zip.code_sha256, settled.revision_id.as_deref())
                .await?;
            status("Published", format!("{function} version {version}"));
            if let Some(alias) = &args.alias {
                d.alias(alias, &version).await?;
                status("Aliased", format!("{function}:{alias} -> {version}"));
            }
        }
        remote = Some(settled);
    }

    let api_calls = meter.calls();
    Ok(Report {
        function: function.to_string(),
        function_arn: remote.and_then(|r| r.arn),
        outcome,
        arch,
        zip: zip_path.to_path_buf(),
        code_sha256: zip.code_sha256.clone(),
        version,
        alias: args.alias.clone().filter(|_| changes),
        bytes_uploaded: code_bytes(&api_calls),
        api_calls,
        seconds: 0.0,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn remote() -> Remote {
        Remote {
            name: "echo".into(),
            code_sha256: Some("abc=".into()),
            architectures: vec!["x86_64".into()],
            runtime: Some("provided.al2023".into()),
            package_type: Some("Zip".into()),
            ..Default::default()
        }
    }

    #[test]
    fn plan_compares_code_after_checking_the_function() {
        let r = remote();
        assert_eq!(
            plan(&r, "abc=", Arch::X86_64, false).unwrap(),
            Plan::Unchanged
        );
        assert_eq!(plan(&r, "abc=", Arch::X86_64, true).unwrap(), Plan::Upload);
        assert_eq!(plan(&r, "xyz=", Arch::X86_64, false).unwrap(), Plan::Upload);
        // A function that has no code hash yet is never "unchanged".
        let fresh = Remote {
            code_sha256: None,
            ..remote()
        };
        assert_eq!(
            plan(&fresh, "abc=", Arch::X86_64, false).unwrap(),
            Plan::Upload
        );
    }

    #[test]
    fn plan_refuses_wrong_architecture_even_when_unchanged() {
        let err = plan(&remote(), "abc=", Arch::Arm64, false)
            .unwrap_err()
            .to_string();
        assert!(err.contains("architecture mismatch"), "{err}");
        assert!(
            err.contains("runs on x86_64") && err.contains("built for arm64"),
            "{err}"
        );
        // No Architectures field means x86_64.
        let old = Remote {
            architectures: vec![],
            ..remote()
        };
        assert_eq!(plan(&old, "x", Arch::X86_64, false).unwrap(), Plan::Upload);
        assert!(plan(&old, "x", Arch::Arm64, false).is_err());
        let arm = Remote {
            architectures: vec!["arm64".into()],
            ..remote()
        };
        assert_eq!(plan(&arm, "x", Arch::Arm64, false).unwrap(), Plan::Upload);
    }

    #[test]
    fn plan_requires_an_os_only_zip_function() {
        for ok in ["provided", "provided.al2", "provided.al2023"] {
            let r = Remote {
                runtime: Some(ok.into()),
                ..remote()
            };
            assert!(plan(&r, "x", Arch::X86_64, false).is_ok(), "{ok}");
        }
        let python = Remote {
            runtime: Some("python3.12".into()),
            ..remote()
        };
        let err = plan(&python, "x", Arch::X86_64, false)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("python3.12") && err.contains("provided.al2023"),
            "{err}"
        );
        let image = Remote {
            runtime: None,
            package_type: Some("Image".into()),
            ..remote()
        };
        assert!(plan(&image, "x", Arch::X86_64, false)
            .unwrap_err()
            .to_string()
            .contains("container-image"));
    }

    #[test]
    fn progress_reads_state_and_last_update_status() {
        let with = |state: Option<&str>, last: Option<&str>| Remote {
            state: state.map(Into::into),
            last_update_status: last.map(Into::into),
            last_update_status_reason: Some("bad zip".into()),
            state_reason: Some("no role".into()),
            ..remote()
        };
        assert_eq!(
            progress(&with(Some("Active"), Some("Successful"))).unwrap(),
            Progress::Done
        );
        assert_eq!(
            progress(&with(Some("Active"), None)).unwrap(),
            Progress::Done
        );
        assert!(matches!(
            progress(&with(Some("Active"), Some("InProgress"))).unwrap(),
            Progress::Pending(_)
        ));
        assert!(matches!(
            progress(&with(Some("Pending"), None)).unwrap(),
            Progress::Pending(_)
        ));
        let failed = progress(&with(Some("Active"), Some("Failed")))
            .unwrap_err()
            .to_string();
        assert!(
            failed.contains("Failed") && failed.contains("bad zip"),
            "{failed}"
        );
        let state = progress(&with(Some("Failed"), None))
            .unwrap_err()
            .to_string();
        assert!(state.contains("no role"), "{state}");
    }

    #[test]
    fn backoff_is_bounded() {
        assert_eq!(backoff(0), Duration::from_millis(500));
        assert_eq!(backoff(1), Duration::from_secs(1));
        assert_eq!(backoff(2), Duration::from_secs(2));
        assert_eq!(backoff(40), Duration::from_secs(2));
    }

    fn raw(status: u16, code: &str) -> RawFailure {
        RawFailure {
            status: Some(status),
            code: Some(code.into()),
            message: Some("msg".into()),
            no_response: false,
            detail: "detail".into(),
        }
    }

    #[test]
    fn classify_service_errors() {
        assert_eq!(
            classify(&raw(404, "ResourceNotFoundException")),
            Failure::NotFound
        );
        assert_eq!(
            classify(&raw(409, "ResourceConflictException")),
            Failure::Conflict("msg".into())
        );
        assert_eq!(
            classify(&raw(412, "PreconditionFailedException")),
            Failure::StaleRevision
        );
        assert_eq!(
            classify(&raw(403, "AccessDeniedException")),
            Failure::AccessDenied("msg".into())
        );
        assert_eq!(
            classify(&raw(403, "UnrecognizedClientException")),
            Failure::BadCredentials("msg".into())
        );
        assert_eq!(
            classify(&raw(429, "TooManyRequestsException")),
            Failure::Throttled("msg".into())
        );
        assert_eq!(
            classify(&raw(400, "ThrottlingException")),
            Failure::Throttled("msg".into())
        );
        assert_eq!(
            classify(&raw(503, "ServiceException")),
            Failure::Server(503, "msg".into())
        );
        assert_eq!(
            classify(&raw(400, "InvalidParameterValueException")),
            Failure::Other("InvalidParameterValueException: msg".into())
        );
    }

    #[test]
    fn classify_transport_errors() {
        let refused = RawFailure {
            no_response: true,
            detail: "dispatch failure: io error: Connection refused".into(),
            ..Default::default()
        };
        assert!(matches!(classify(&refused), Failure::Unreachable(_)));
        let creds = RawFailure {
            no_response: true,
            detail: "failed to construct request: no credentials in the chain".into(),
            ..Default::default()
        };
        assert!(matches!(classify(&creds), Failure::NoCredentials(_)));
    }

    #[test]
    fn explanations_name_the_fix() {
        let cx = CallContext {
            action: "lambda:UpdateFunctionCode",
            function: "echo",
            endpoint: "https://lambda.eu-west-1.amazonaws.com",
        };
        assert!(explain(&Failure::NotFound, &cx).contains("--create --role ARN"));
        let denied = explain(&Failure::AccessDenied("nope".into()), &cx);
        assert!(
            denied.contains("lambda:UpdateFunctionCode")
                && denied.contains("arn:aws:lambda:REGION:ACCOUNT:function:echo"),
            "{denied}"
        );
        let none = explain(&Failure::NoCredentials("x".into()), &cx);
        assert!(
            none.contains("AWS_ACCESS_KEY_ID") && none.contains("--profile"),
            "{none}"
        );
        assert!(none.contains("AWS_WEB_IDENTITY_TOKEN_FILE"), "{none}");
        let unreachable = explain(&Failure::Unreachable("refused".into()), &cx);
        assert!(unreachable.contains("--endpoint-url"), "{unreachable}");
        assert!(explain(&Failure::StaleRevision, &cx).contains("rerun"));
    }

    #[test]
    fn report_renders() {
        let report = Report {
            function: "echo".into(),
            function_arn: Some("arn:aws:lambda:us-east-1:123456789012:function:echo".into()),
            outcome: Outcome::Unchanged,
            arch: Arch::X86_64,
            zip: "bootstrap.zip".into(),
            code_sha256: "abc=".into(),
            version: "3".into(),
            alias: Some("live".into()),
            bytes_uploaded: 0,
            api_calls: vec![ApiCall {
                operation: "GetFunction".into(),
                request_bytes: 0,
            }],
            seconds: 0.25,
        };
        let human = report.human();
        assert!(human.contains("outcome:     unchanged"), "{human}");
        assert!(human.contains("alias:       live -> 3"), "{human}");
        assert!(human.contains("uploaded:    0 bytes"), "{human}");
        assert!(human.contains("API calls:   1 (GetFunction)"), "{human}");
        let md = report.markdown();
        assert!(md.contains("| CodeSha256 | `abc=` |"), "{md}");
        let json = serde_json::to_value(&report).unwrap();
        assert_eq!(json["outcome"], "unchanged");
        assert_eq!(json["bytes_uploaded"], 0);
    }
}
