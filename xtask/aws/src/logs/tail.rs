//! `logs --follow`'s bookkeeping (pure): where the next poll starts and which events were
//! already printed. CloudWatch Logs takes events late (a write reaches FilterLogEvents
//! seconds after its timestamp) and many share a millisecond, so each poll reads again from
//! [`OVERLAP_MS`] before the newest event seen, and the events already printed are known by
//! their ids.

use std::collections::HashMap;
use std::time::Duration;

use crate::model::log::LogEvent;

/// How far back each poll reads again, for events that reach CloudWatch Logs late.
pub const OVERLAP_MS: i64 = 30_000;

/// The pause between polls; FilterLogEvents allows an account a few calls a second in all.
pub const POLL: Duration = Duration::from_secs(2);

/// Polls between two reads of the alias `--alias --follow` shows (about a minute).
pub const ALIAS_EVERY: u32 = 30;

/// The longest pause after throttling, and how many throttled polls in a row end the command.
pub const MAX_BACKOFF: Duration = Duration::from_secs(30);
pub const MAX_THROTTLED: u32 = 8;

#[derive(Debug)]
pub struct Tail {
    /// The window's start: nothing before it is read.
    since_ms: i64,
    newest_ms: Option<i64>,
    /// The ids printed within the overlap, and their timestamps.
    printed: HashMap<String, i64>,
}

impl Tail {
    pub fn new(since_ms: i64) -> Tail {
        Tail {
            since_ms,
            newest_ms: None,
            printed: HashMap::new(),
        }
    }

    /// Where the next poll starts: not after now (`now_ms`), whatever timestamps a writer
    /// put in the future, so that no event of now is skipped.
    pub fn start_ms(&self, now_ms: i64) -> i64 {
        self.newest_ms.map_or(self.since_ms, |newest| {
            newest
                .min(now_ms)
                .saturating_sub(OVERLAP_MS)
                .max(self.since_ms)
        })
    }

    /// Whether `event` is new (and, if so, remembers it).
    pub fn admit(&mut self, event: &LogEvent) -> bool {
        // An event without an id (not FilterLogEvents') is known by where, when and what.
        let key = event.event_id.clone().unwrap_or_else(|| {
            format!(
                "{}\u{0}{}\u{0}{}",
                event.stream, event.timestamp, event.message
            )
        });
        if self.printed.contains_key(&key) {
            return false;
        }
        self.printed.insert(key, event.timestamp);
        self.newest_ms = Some(self.newest_ms.unwrap_or(i64::MIN).max(event.timestamp));
        true
    }

    /// Forgets the ids no poll can read again; call after each poll.
    pub fn prune(&mut self, now_ms: i64) {
        let start = self.start_ms(now_ms);
        self.printed.retain(|_, timestamp| *timestamp >= start);
    }
}

/// The pause after `throttled` throttled polls in a row (0: none).
pub fn pause(throttled: u32) -> Duration {
    (POLL * 2u32.saturating_pow(throttled.min(8))).min(MAX_BACKOFF)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(id: &str, timestamp: i64) -> LogEvent {
        LogEvent {
            event_id: Some(id.into()),
            stream: "s".into(),
            timestamp,
            message: "m".into(),
        }
    }

    #[test]
    fn polls_overlap_and_nothing_is_printed_twice() {
        let now = i64::MAX;
        let mut tail = Tail::new(1_000);
        assert_eq!(tail.start_ms(now), 1_000);
        // Two events in one millisecond, then the same two read again by the next poll.
        assert!(tail.admit(&event("a", 50_000)));
        assert!(tail.admit(&event("b", 50_000)));
        assert!(!tail.admit(&event("a", 50_000)));
        assert_eq!(tail.start_ms(now), 20_000);
        tail.prune(now);
        assert!(!tail.admit(&event("b", 50_000)));
        // A late event, older than the newest but within the overlap, is still shown.
        assert!(tail.admit(&event("late", 45_000)));
        assert!(tail.admit(&event("c", 100_000)));
        tail.prune(now);
        assert_eq!(tail.start_ms(now), 70_000);
        assert_eq!(tail.printed.len(), 1, "{:?}", tail.printed);
        // Never before the window's start.
        let mut early = Tail::new(90_000);
        early.admit(&event("d", 95_000));
        assert_eq!(early.start_ms(now), 90_000);
        // An event stamped in the future does not move the start past now.
        let mut ahead = Tail::new(0);
        ahead.admit(&event("future", 10_000_000));
        assert_eq!(ahead.start_ms(1_000_000), 970_000);
        // Nor does one stamped at the start of time overflow.
        let mut old = Tail::new(i64::MIN);
        old.admit(&event("old", i64::MIN + 1));
        assert_eq!(old.start_ms(0), i64::MIN);
    }

    #[test]
    fn events_without_ids_are_known_by_their_content() {
        let mut tail = Tail::new(0);
        let mut e = event("x", 5);
        e.event_id = None;
        assert!(tail.admit(&e));
        assert!(!tail.admit(&e));
        e.message = "other".into();
        assert!(tail.admit(&e));
    }

    #[test]
    fn backoff_doubles_up_to_a_bound() {
        assert_eq!(pause(0), POLL);
        assert_eq!(pause(1), POLL * 2);
        assert_eq!(pause(3), POLL * 8);
        assert_eq!(pause(4), MAX_BACKOFF);
        assert_eq!(pause(u32::MAX), MAX_BACKOFF);
    }
}
