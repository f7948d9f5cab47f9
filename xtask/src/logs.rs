//! `cargo xtask logs`: what the deployed function printed, from CloudWatch Logs. Talks to AWS,
//! so it runs in `xtask-aws` like `deploy`; here are its flags (for `--help` without the SDK)
//! and the times they name.

use std::convert::Infallible;
use std::time::Duration;

use anyhow::{bail, Result};

#[derive(Debug, clap::Args)]
#[command(
    about = "Show what the deployed function logged: its lines, one line per invocation \
             from its REPORT, or --stats",
    after_help = "\
The log group is the one the function logs to (its LoggingConfig), else /aws/lambda/NAME. \
Lines are shown as time, [version], request id, level and message; Lambda's START, END and \
REPORT lines (or its platform records, with the JSON log format) are folded into one line per \
invocation: duration, billed duration, memory used of memory size, the init duration of a cold \
start, and errors or timeouts.

WHEN is a duration back from now (30s, 10m, 2h, 3d) or an RFC 3339 time \
(2026-12-03T10:00:00Z, or with an offset: 2026-12-03T11:00:00+01:00).

The calls it makes: lambda:GetFunction (the log group), lambda:GetAlias (with --alias), \
logs:FilterLogEvents on the log group.

Examples:
  cargo xtask logs                        # the last 10 minutes
  cargo xtask logs --alias live --follow  # the versions the alias serves, as they log
  cargo xtask logs --since 1d --stats     # invocations, cold starts, p50/p90/p99 durations
  cargo xtask logs --filter ERROR --json  # CloudWatch Logs' filter pattern; one JSON object a line"
)]
pub struct Args {
    /// The function. Default: $LAMBDA_FUNCTION_NAME, then the function's
    /// `function-name` in its [package.metadata.lambda], else its package's name.
    #[arg(long, env = "LAMBDA_FUNCTION_NAME", value_name = "NAME")]
    pub function_name: Option<String>,
    #[command(flatten)]
    pub package: crate::workspace::Package,
    /// Only the version(s) this alias points to (both, when it splits traffic).
    #[arg(long, value_name = "NAME", conflicts_with = "version")]
    pub alias: Option<String>,
    /// Only this version (a number, or $LATEST).
    #[arg(long, value_name = "VERSION")]
    pub version: Option<String>,
    /// Events from this time on.
    #[arg(long, value_name = "WHEN", default_value = "10m", value_parser = When::parse)]
    pub since: When,
    /// Events up to this time [default: now].
    #[arg(long, value_name = "WHEN", value_parser = When::parse, conflicts_with = "follow")]
    pub until: Option<When>,
    /// Only events matching this CloudWatch Logs filter pattern (`ERROR`, `"timed out"`,
    /// `{ $.level = "ERROR" }`).
    #[arg(long, value_name = "PATTERN")]
    pub filter: Option<String>,
    /// Keep printing events as they arrive, until Ctrl-C.
    #[arg(short, long)]
    pub follow: bool,
    /// Print a summary of the window's invocations instead of its events (from their REPORT
    /// lines: a --filter would leave them out).
    #[arg(long, conflicts_with_all = ["follow", "filter"])]
    pub stats: bool,
    #[command(flatten)]
    pub aws: crate::deploy::AwsArgs,
    /// One JSON object per event on stdout (with --stats: the summary as one object).
    #[arg(long)]
    pub json: bool,
}

/// `--since`/`--until`: a time back from now, or a point in time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum When {
    Ago(Duration),
    /// Milliseconds since the epoch.
    At(i64),
}

/// The longest look back: CloudWatch Logs keeps nothing older than its longest retention (10
/// years); more is a typo.
const MAX_AGO: Duration = Duration::from_secs(10 * 366 * 86_400);

impl When {
    pub fn parse(text: &str) -> Result<When> {
        let text = text.trim();
        if let Some(at) = crate::util::time::parse_rfc3339(text) {
            return Ok(When::At(at));
        }
        let split = text
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(text.len());
        let (number, unit) = text.split_at(split);
        let seconds = match unit {
            "s" => 1,
            "m" => 60,
            "h" => 3600,
            "d" => 86_400,
            _ => bail!(
                "`{text}` is not a time: give a duration back from now (30s, 10m, 2h, 3d) or \
                 an RFC 3339 time (2026-12-03T10:00:00Z)"
            ),
        };
        let ago = number
            .parse::<u64>()
            .ok()
            .and_then(|n| n.checked_mul(seconds))
            .map(Duration::from_secs)
            .filter(|ago| *ago <= MAX_AGO);
        match ago {
            Some(ago) => Ok(When::Ago(ago)),
            None if number.is_empty() => bail!("`{text}` has no number: write it as 10m, 2h, 3d"),
            None => bail!("`{text}` is too far back: CloudWatch Logs keeps at most 10 years"),
        }
    }

    /// Milliseconds since the epoch, `now_ms` being now.
    pub fn resolve(self, now_ms: i64) -> i64 {
        match self {
            When::Ago(ago) => now_ms - ago.as_millis() as i64,
            When::At(at) => at,
        }
    }
}

/// `--version`'s value: a published version's number or `$LATEST`.
pub fn check_version(version: &str) -> Result<()> {
    let number = !version.is_empty()
        && version.len() <= 10
        && version.bytes().all(|b| b.is_ascii_digit())
        && !version.starts_with('0');
    if number || version == "$LATEST" {
        return Ok(());
    }
    bail!("--version `{version}` is not a version: give a number (7) or $LATEST")
}

/// The `cargo xtask logs` line that shows one invocation of `version` (deploy prints it when
/// its smoke test fails), made at `at_ms` (the window opens a minute before, so the line still
/// shows it later), with the connection flags given (`--region R`, ...).
pub fn command_for(
    function: &str,
    version: &str,
    request_id: &str,
    at_ms: i64,
    aws: &crate::deploy::AwsArgs,
) -> String {
    let mut line = format!("cargo xtask logs --function-name {function} --version {version}");
    for (flag, value) in [
        ("--region", &aws.region),
        ("--profile", &aws.profile),
        ("--endpoint-url", &aws.endpoint_url),
    ] {
        if let Some(value) = value {
            line.push_str(&format!(" {flag} '{value}'"));
        }
    }
    let since = crate::util::time::rfc3339_ms(at_ms - 60_000);
    // The request id in quotes: CloudWatch Logs matches it as one term, in every line of the
    // invocation (START, the function's lines in either format, END, REPORT).
    line.push_str(&format!(" --since {since} --filter '\"{request_id}\"'"));
    line
}

/// Checks the flags (names, times), then runs the command in `xtask-aws`; returns only on
/// error.
pub fn run(args: Args) -> Result<Infallible> {
    let function = args
        .package
        .function_name(args.function_name.as_deref(), "logs shows the logs of")?;
    crate::lambda::names::parse_function(&function)?;
    if let Some(alias) = &args.alias {
        crate::lambda::names::check_alias(alias)?;
    }
    if let Some(version) = &args.version {
        check_version(version)?;
    }
    crate::xtask_aws::exec(&[crate::xtask_aws::Needs::Logs])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_and_times() {
        assert_eq!(
            When::parse("10m").unwrap(),
            When::Ago(Duration::from_secs(600))
        );
        assert_eq!(
            When::parse("30s").unwrap(),
            When::Ago(Duration::from_secs(30))
        );
        assert_eq!(
            When::parse(" 2h ").unwrap(),
            When::Ago(Duration::from_secs(7200))
        );
        assert_eq!(
            When::parse("3d").unwrap(),
            When::Ago(Duration::from_secs(259_200))
        );
        assert_eq!(When::parse("0s").unwrap(), When::Ago(Duration::ZERO));
        assert_eq!(
            When::parse("2026-12-03T10:00:00Z").unwrap(),
            When::At(1_796_292_000_000)
        );
        assert_eq!(When::Ago(Duration::from_secs(1)).resolve(5_000), 4_000);
        assert_eq!(When::At(7).resolve(5_000), 7);
    }

    #[test]
    fn bad_times_say_what_is_expected() {
        for (bad, says) in [
            ("", "not a time"),
            ("10", "not a time"),
            ("10min", "not a time"),
            ("-5m", "not a time"),
            ("m", "no number"),
            ("1.5h", "not a time"),
            ("99999999999999999999d", "too far back"),
            ("4000d", "too far back"),
            ("2026-12-03", "not a time"),
            ("yesterday", "not a time"),
        ] {
            let err = When::parse(bad).unwrap_err().to_string();
            assert!(err.contains(says), "{bad}: {err}");
        }
    }

    #[test]
    fn the_line_for_one_invocation() {
        let mut aws = crate::deploy::AwsArgs::default();
        let at = 1_796_292_060_000;
        assert_eq!(
            command_for("echo", "3", "r-1", at, &aws),
            "cargo xtask logs --function-name echo --version 3 --since \
             2026-12-03T10:00:00.000Z --filter '\"r-1\"'"
        );
        aws.region = Some("eu-west-1".into());
        assert!(command_for("echo", "3", "r-1", at, &aws)
            .contains("--version 3 --region 'eu-west-1' --since"));
    }

    #[test]
    fn versions_are_numbers_or_latest() {
        for good in ["1", "42", "$LATEST"] {
            check_version(good).unwrap();
        }
        for bad in ["", "0", "07", "v7", "live", "$latest", "12345678901"] {
            assert!(check_version(bad).is_err(), "{bad}");
        }
    }
}
