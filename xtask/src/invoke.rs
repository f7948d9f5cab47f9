//! `cargo xtask invoke`'s flags, and the kinds of front door `invoke` and `watch` serve. The
//! command runs in xtask-local ([`crate::xtask_local`]): its local Runtime API, sandbox and
//! front door are in xtask/local/src/invoke/.

use std::convert::Infallible;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::Result;

use crate::lambda::settings::{MEMORY_MB, TIMEOUT_S};
use crate::lambda::Arch;
use crate::workspace::Package;

#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:\n  \
    cargo xtask invoke '{\"hello\":\"world\"}'\n  \
    cargo xtask invoke --data-file a.json --data-file b.json\n  \
    cargo xtask invoke --example rest        # GET /hello?name=world through a REST API\n  \
    printf '{\"n\":1}\\n{\"n\":2}\\n' | cargo xtask invoke --lines\n  \
    cargo xtask invoke --serve --port 9000   # then POST to http://127.0.0.1:9000/2015-03-31/functions/function/invocations")]
pub struct Args {
    /// The event, as inline JSON. Without it: the --data-file files, or stdin.
    #[arg(conflicts_with_all = ["data_files", "serve"])]
    pub event: Option<String>,
    /// Send the event FRONT makes of `GET /hello?name=world` (sent with curl to
    /// 127.0.0.1:9000), made by the code that turns HTTP requests into events.
    #[arg(long, value_enum, value_name = "FRONT", conflicts_with_all = ["event", "data_files", "lines", "serve"])]
    pub example: Option<Front>,
    /// A file holding one event (`-` for stdin); repeat it to send several events to one warm process.
    #[arg(long = "data-file", value_name = "FILE", conflicts_with = "serve")]
    pub data_files: Vec<PathBuf>,
    /// Read one event per line (JSON Lines) from stdin or the --data-file files.
    #[arg(long, conflicts_with = "serve")]
    pub lines: bool,
    /// Deployment zip to run. Default: the zip `cargo xtask build` writes for --arch (rebuilt if stale).
    #[arg(long, value_name = "PATH")]
    pub zip: Option<PathBuf>,
    /// Run a bootstrap that is not fully static (a dynamically linked or static-pie ELF):
    /// it may work here and fail on Lambda, which is why it is refused by default.
    #[arg(long)]
    pub allow_dynamic: bool,
    /// Architecture of the bootstrap; arm64 runs under qemu-aarch64 on an x86_64 host
    /// [default: `[package.metadata.lambda] arch`, else x86_64].
    #[arg(long, value_enum)]
    pub arch: Option<Arch>,
    #[command(flatten)]
    pub limits: Limits,
    /// AWS_LAMBDA_FUNCTION_NAME for the function [default: its `function-name` in
    /// [package.metadata.lambda], else its package's name].
    #[arg(long, value_name = "N")]
    pub function_name: Option<String>,
    #[command(flatten)]
    pub package: Package,
    /// Keep the function running behind the Runtime Interface Emulator's endpoint
    /// `POST /2015-03-31/functions/function/invocations` on localhost (127.0.0.1 and ::1),
    /// answering as Lambda's Invoke API does.
    #[arg(long)]
    pub serve: bool,
    /// With --serve, what stands in front of the function for every path outside the
    /// Invoke API: each HTTP request becomes the event FRONT would send, the function's
    /// answer the HTTP response FRONT would give [default: http-api for a function whose
    /// table declares `api = "http"`, else rest].
    #[arg(long, value_enum, value_name = "FRONT", requires = "serve")]
    pub http: Option<Front>,
    /// Port for --serve (0 picks one free on both 127.0.0.1 and ::1).
    #[arg(long, value_name = "P", default_value_t = 9000, requires = "serve")]
    pub port: u16,
    /// One JSON object per invocation on stdout (payload, status, durations, memory).
    #[arg(long)]
    pub json: bool,
}

/// The function's timeout and memory, as its configuration would set them (`invoke`, `watch`).
#[derive(Debug, Clone, Copy, clap::Args)]
pub struct Limits {
    /// Function timeout in seconds (Lambda's default is 3, its maximum 900)
    /// [default: the function's `timeout` in [package.metadata.lambda], else 3].
    #[arg(
        long,
        value_name = "SECONDS",
        value_parser = clap::value_parser!(u64).range(u64::from(*TIMEOUT_S.start())..=u64::from(*TIMEOUT_S.end()))
    )]
    pub timeout: Option<u64>,
    /// Memory size in MB, as Lambda reports it (128 to 10240)
    /// [default: the function's `memory` in [package.metadata.lambda], else 128].
    #[arg(
        long,
        value_name = "MB",
        value_parser = clap::value_parser!(u32).range(i64::from(*MEMORY_MB.start())..=i64::from(*MEMORY_MB.end()))
    )]
    pub memory: Option<u32>,
}

/// What stands in front of the function: which event it gets, how its answer is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum Front {
    /// API Gateway REST API, Lambda proxy integration (payload format 1.0) on `ANY /` and
    /// `ANY /{proxy+}`.
    #[default]
    Rest,
    /// API Gateway HTTP API, `$default` route and stage (payload format 2.0).
    HttpApi,
    /// Lambda function URL, auth type NONE (payload format 2.0, Lambda's own variant).
    FunctionUrl,
}

impl Front {
    /// The front `--http` picks for a function: the flag, else the API its table declares
    /// (`api = "http"`: what `deploy` puts in front of it in AWS), else a REST API's.
    pub fn for_function(
        flag: Option<Front>,
        api: Option<crate::lambda::settings::ApiKind>,
    ) -> Front {
        match (flag, api) {
            (Some(front), _) => front,
            (None, Some(crate::lambda::settings::ApiKind::Http)) => Front::HttpApi,
            (None, None) => Front::Rest,
        }
    }

    /// What the front is, for a status line.
    pub fn describe(self) -> &'static str {
        match self {
            Front::Rest => "an API Gateway REST API proxy (payload 1.0)",
            Front::HttpApi => "an API Gateway HTTP API (payload 2.0)",
            Front::FunctionUrl => "a Lambda function URL",
        }
    }

    /// How long the front waits for the function before answering on its own
    /// ([`HttpResponse::timed_out`]): a REST API's default (and usual maximum) integration
    /// timeout, an HTTP API's maximum. A function URL waits as long as the function may run.
    pub fn integration_timeout(self) -> Option<Duration> {
        match self {
            Front::Rest => Some(Duration::from_secs(29)),
            Front::HttpApi => Some(Duration::from_secs(30)),
            Front::FunctionUrl => None,
        }
    }
}

/// Hands the command over to xtask-local.
pub fn run(_args: Args) -> Result<Infallible> {
    crate::xtask_local::exec()
}
