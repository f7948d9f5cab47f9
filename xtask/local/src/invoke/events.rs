//! The events of one run: from the argument, the --data-file files or stdin, whole or
//! one a line, each checked against Lambda's payload limit; or the `--example` event.

use std::io::{IsTerminal, Read};

use anyhow::{bail, Context, Result};
use hyper::body::Bytes;

use super::front_door::{example, Stamp};
use super::Args;
use xtask::lambda::MAX_PAYLOAD_BYTES;

/// Every event of this run, in order, each checked against Lambda's payload limit.
pub(super) fn read_events(args: &Args) -> Result<Vec<Bytes>> {
    if let Some(front) = args.example {
        return Ok(vec![Bytes::from(example(front, &Stamp::now()))]);
    }
    let mut events = Vec::new();
    for (source, bytes) in read_sources(args)? {
        if args.lines {
            let lines = split_lines(&bytes);
            for (n, line) in lines {
                check_event_size(line.len(), &format!("{source}, line {n}"))?;
                events.push(Bytes::copy_from_slice(line));
            }
        } else {
            check_event_size(bytes.len(), &source)?;
            events.push(Bytes::from(bytes));
        }
    }
    if events.is_empty() {
        bail!("no events: the input holds no non-empty line; pass one JSON event per line with --lines");
    }
    Ok(events)
}

/// What the events are read from, named for messages, with everything each holds.
fn read_sources(args: &Args) -> Result<Vec<(String, Vec<u8>)>> {
    let mut sources: Vec<(String, Vec<u8>)> = Vec::new();
    if let Some(event) = &args.event {
        sources.push(("the EVENT argument".into(), event.clone().into_bytes()));
    } else if args.data_files.is_empty() {
        if std::io::stdin().is_terminal() {
            bail!(
                "no event given: pass it as an argument (`cargo xtask invoke '{{\"key\":\"value\"}}'`), \
                 with --data-file FILE, or on stdin"
            );
        }
        sources.push(("stdin".into(), read_stdin()?));
    } else {
        for file in &args.data_files {
            if file.as_os_str() == "-" {
                sources.push(("stdin".into(), read_stdin()?));
            } else {
                let bytes = std::fs::read(file).with_context(|| {
                    format!(
                        "cannot read the event file {}: check the path",
                        file.display()
                    )
                })?;
                sources.push((file.display().to_string(), bytes));
            }
        }
    }
    Ok(sources)
}

fn read_stdin() -> Result<Vec<u8>> {
    let mut bytes = Vec::new();
    std::io::stdin()
        .lock()
        .read_to_end(&mut bytes)
        .context("reading the event from stdin")?;
    Ok(bytes)
}

/// Non-blank lines with their 1-based numbers; a trailing `\r` is not part of the event.
fn split_lines(bytes: &[u8]) -> Vec<(usize, &[u8])> {
    bytes
        .split(|&b| b == b'\n')
        .enumerate()
        .map(|(i, line)| (i + 1, line.strip_suffix(b"\r").unwrap_or(line)))
        .filter(|(_, line)| !line.iter().all(u8::is_ascii_whitespace))
        .collect()
}

fn check_event_size(len: usize, source: &str) -> Result<()> {
    if len > MAX_PAYLOAD_BYTES {
        bail!(
            "the event from {source} is {len} bytes, over Lambda's 6 MB limit for a synchronous \
             invocation ({MAX_PAYLOAD_BYTES} bytes; Lambda answers \"{}\"): send a smaller event",
            request_too_large_message()
        );
    }
    Ok(())
}

/// What Lambda answers to an event over its payload limit.
pub(super) fn request_too_large_message() -> String {
    format!(
        "Request must be smaller than {MAX_PAYLOAD_BYTES} bytes for the InvokeFunction operation"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_skip_blanks_and_carriage_returns() {
        let got = split_lines(b"{\"a\":1}\r\n\n  \n[2]\n");
        assert_eq!(got, vec![(1, &b"{\"a\":1}"[..]), (4, &b"[2]"[..])]);
    }

    #[test]
    fn oversized_events_are_refused_with_the_limit() {
        assert!(check_event_size(MAX_PAYLOAD_BYTES, "x").is_ok());
        let err = check_event_size(MAX_PAYLOAD_BYTES + 1, "x")
            .unwrap_err()
            .to_string();
        assert!(err.contains("6291456"), "{err}");
    }
}
