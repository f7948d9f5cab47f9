//! `cargo xtask logs`: the function's log group (GetFunction's LoggingConfig, else
//! `/aws/lambda/NAME`), the versions asked for (an alias read with GetAlias), then
//! FilterLogEvents page by page over the window, and with `--follow` again every few seconds
//! until Ctrl-C. `entry` reads an event, `view` prints it, `stats` sums the window up, `tail`
//! knows what was printed; this file does the requests and the output.

pub mod entry;
pub mod stats;
pub mod tail;
pub mod view;

use std::io::Write;

use crate::sdk::runtime;
use anyhow::{bail, Result};
use xtask::lambda::names::{check_alias, parse_function, FunctionRef};
use xtask::lambda::report::Report;
use xtask::logs::{check_version, Args};
use xtask::util::status::status;
use xtask::util::time::rfc3339_ms;

use crate::cloudwatch::{LogGroup, Query};
use crate::lambda::Lambda;
use crate::model::failure::ApiFailure;
use crate::model::log::{stream_function, stream_version, LogEvent};
use crate::sdk::{check_connection, connect};
use tail::Tail;
use view::Reader;

/// The name Lambda gives a function's log group unless its LoggingConfig names another.
pub fn default_group(function: &str) -> String {
    format!("/aws/lambda/{function}")
}

pub fn run(args: Args) -> Result<()> {
    let function = args
        .package
        .function_name(args.function_name.as_deref(), "logs shows the logs of")?;
    let target = parse_function(&function)?;
    if let Some(alias) = &args.alias {
        check_alias(alias)?;
    }
    if let Some(version) = &args.version {
        check_version(version)?;
    }
    check_connection(&args.aws)?;
    let now = now_ms();
    // CloudWatch Logs refuses times before the epoch.
    let start_ms = args.since.resolve(now).max(0);
    let end_ms = args.until.map(|until| until.resolve(now));
    if let Some(end) = end_ms.filter(|end| *end < start_ms) {
        bail!(
            "--since ({}) is after --until ({}): nothing can be in that window",
            rfc3339_ms(start_ms),
            rfc3339_ms(end)
        );
    }
    let runtime = runtime::current_thread("the AWS SDK")?;
    runtime.block_on(async {
        let session = connect(&args.aws, &target).await?;
        let lambda = Lambda::new(&session, &function);
        let Some(remote) = lambda.get().await? else {
            bail!(
                "function {} does not exist at {}: check --function-name and --region",
                target.name,
                lambda.endpoint
            );
        };
        if let Some(arn) = &remote.arn {
            target.check_answer(arn)?;
        }
        let versions = versions(&lambda, &target, &args).await?;
        let group_name = remote
            .log_group
            .clone()
            .unwrap_or_else(|| default_group(&target.name));
        let group = LogGroup::new(&session, &group_name, &target.name);
        let which = match &versions {
            Some(v) => format!(", version {}", v.join(" and ")),
            None => String::new(),
        };
        let until = end_ms.map_or("now".to_string(), rfc3339_ms);
        status(
            "Reading",
            format!(
                "{group_name}{which}, from {} to {until}",
                rfc3339_ms(start_ms)
            ),
        );
        // A group of its own may be shared: its streams name the function that wrote them.
        let only = remote.log_group.as_ref().map(|_| target.name.clone());
        let mut show = Show::new(&args, versions, only);
        let query = Query {
            start_ms,
            end_ms,
            pattern: args.filter.as_deref(),
        };
        let mut tail = Tail::new(start_ms);
        match read_all(&group, &query, &mut tail, &mut show).await {
            Ok(()) => {}
            // Following a function not invoked yet: its first invocation makes the group.
            Err((ApiFailure::NotFound, _)) if args.follow => status(
                "Waiting",
                format!("for {group_name}, which Lambda makes at the first invocation"),
            ),
            Err((_, error)) => return Err(error),
        }
        if args.follow && !show.closed {
            let alias = args.alias.as_deref().map(|alias| (&lambda, alias));
            follow(&group, &query, &mut tail, &mut show, alias).await?;
        } else if args.stats {
            show.stats()?;
        } else if show.matched == 0 {
            status(
                "Empty",
                format!("no events in {group_name}{which} in that window"),
            );
        }
        Ok(())
    })
}

/// The versions to show: the one asked for, or those the alias sends traffic to.
async fn versions(
    lambda: &Lambda<'_>,
    target: &FunctionRef,
    args: &Args,
) -> Result<Option<Vec<String>>> {
    if let Some(version) = &args.version {
        // A deleted version's logs remain: say so, and show them.
        if version != "$LATEST" && lambda.get_version(version).await?.is_none() {
            status(
                "Warning",
                format!(
                    "version {version} of {} does not exist (any more): showing what it logged",
                    target.name
                ),
            );
        }
        return Ok(Some(vec![version.clone()]));
    }
    let Some(alias) = &args.alias else {
        return Ok(None);
    };
    let Some(state) = lambda.get_alias(alias).await? else {
        bail!(
            "alias {alias} of {} does not exist (deploy --alias {alias} makes it)",
            target.name
        );
    };
    let mut versions = vec![state.version];
    versions.extend(state.additional_versions);
    Ok(Some(versions))
}

/// Every page of one FilterLogEvents query, the new events shown.
async fn read_all(
    group: &LogGroup,
    query: &Query<'_>,
    tail: &mut Tail,
    show: &mut Show,
) -> Result<(), (ApiFailure, anyhow::Error)> {
    let mut token: Option<String> = None;
    let mut seen_tokens = std::collections::HashSet::new();
    loop {
        let page = group.filter(query, token.clone()).await?;
        for event in &page.events {
            if tail.admit(event) {
                show.event(event)
                    .map_err(|e| (ApiFailure::Other(String::new()), e))?;
            }
        }
        if show.closed {
            return Ok(());
        }
        // CloudWatch Logs may answer a page with no events and a token: it goes on, unless
        // the token is one it gave already (an endpoint going round in circles).
        match page.next_token.filter(|t| !t.is_empty()) {
            Some(next) if !seen_tokens.insert(next.clone()) => {
                return Err((
                    ApiFailure::Other(String::new()),
                    anyhow::anyhow!(
                        "CloudWatch Logs answered FilterLogEvents with a nextToken it had given \
                         already: stopped reading rather than go round in circles"
                    ),
                ))
            }
            Some(next) => token = Some(next),
            None => break,
        }
    }
    tail.prune(now_ms());
    Ok(())
}

fn now_ms() -> i64 {
    xtask::util::time::epoch_ms() as i64
}

/// Polls from where the last one left off until Ctrl-C, backing off while throttled.
async fn follow(
    group: &LogGroup,
    query: &Query<'_>,
    tail: &mut Tail,
    show: &mut Show,
    alias: Option<(&Lambda<'_>, &str)>,
) -> Result<()> {
    let mut throttled = 0;
    let mut polls = 0u32;
    loop {
        polls += 1;
        // A deploy may move the alias meanwhile: its versions are read again now and then.
        if let (Some((lambda, alias)), true) = (alias, polls.is_multiple_of(tail::ALIAS_EVERY)) {
            if let Ok(Some(state)) = lambda.get_alias(alias).await {
                let mut now = vec![state.version];
                now.extend(state.additional_versions);
                if show.versions.as_ref() != Some(&now) {
                    status(
                        "Following",
                        format!("alias {alias}, now at version {}", now.join(" and ")),
                    );
                    show.versions = Some(now);
                }
            }
        }
        tokio::select! {
            _ = tokio::signal::ctrl_c() => return Ok(()),
            _ = tokio::time::sleep(tail::pause(throttled)) => {}
        }
        let poll = Query {
            start_ms: tail.start_ms(now_ms()),
            ..query.clone()
        };
        let result = tokio::select! {
            _ = tokio::signal::ctrl_c() => return Ok(()),
            result = read_all(group, &poll, tail, show) => result,
        };
        match result {
            Ok(()) => throttled = 0,
            // Not there yet: the first invocation makes it.
            Err((ApiFailure::NotFound, _)) => {}
            Err((ApiFailure::Throttled(_), error)) => {
                throttled += 1;
                if throttled > tail::MAX_THROTTLED {
                    return Err(error);
                }
                status(
                    "Throttled",
                    format!(
                        "CloudWatch Logs is throttling FilterLogEvents; next poll in {} s",
                        tail::pause(throttled).as_secs()
                    ),
                );
            }
            Err((_, error)) => return Err(error),
        }
        if show.closed {
            return Ok(());
        }
    }
}

/// Where events go: stdout for people or as JSON, or the REPORT lines kept for `--stats`.
struct Show {
    json: bool,
    stats: bool,
    versions: Option<Vec<String>>,
    /// In a shared group: the function whose streams are shown.
    function: Option<String>,
    reader: Reader,
    reports: Vec<Report>,
    /// Events of the versions asked for.
    matched: usize,
    /// stdout was closed (`| head`): nothing more to print.
    closed: bool,
}

impl Show {
    fn new(args: &Args, versions: Option<Vec<String>>, function: Option<String>) -> Show {
        Show {
            json: args.json,
            stats: args.stats,
            versions,
            function,
            reader: Reader::default(),
            reports: Vec::new(),
            matched: 0,
            closed: false,
        }
    }

    fn event(&mut self, event: &LogEvent) -> Result<()> {
        if let Some(function) = &self.function {
            if stream_function(&event.stream).is_some_and(|f| f != function) {
                return Ok(());
            }
        }
        if let Some(versions) = &self.versions {
            if !stream_version(&event.stream).is_some_and(|v| versions.iter().any(|w| w == v)) {
                return Ok(());
            }
        }
        self.matched += 1;
        let entry = self.reader.read(event);
        if self.stats {
            self.reports.extend(entry.report);
            return Ok(());
        }
        let line = match self.json {
            true => Some(serde_json::to_string(&entry)?),
            false => view::human(&entry),
        };
        match line {
            Some(line) => self.print(&line),
            None => Ok(()),
        }
    }

    fn stats(&mut self) -> Result<()> {
        let stats = stats::stats(&self.reports);
        match self.json {
            true => self.print(&serde_json::to_string(&stats)?),
            false => self.print(stats.human().trim_end()),
        }
    }

    /// One line on stdout; a closed stdout ends the output quietly, as `| head` expects.
    fn print(&mut self, line: &str) -> Result<()> {
        let mut out = std::io::stdout().lock();
        match writeln!(out, "{line}").and_then(|()| out.flush()) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {
                self.closed = true;
                Ok(())
            }
            Err(e) => Err(anyhow::anyhow!("writing to stdout: {e}")),
        }
    }
}
