//! CloudWatch Logs' events, as plain data read from FilterLogEvents (`cloudwatch`).

/// One log event: a line the function (or Lambda) wrote.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LogEvent {
    /// Unique within the log group; `None` if an endpoint leaves it out.
    pub event_id: Option<String>,
    /// `2026/12/03/[7]4f0c…`: the date, the version and the execution environment.
    pub stream: String,
    /// When it was written, in milliseconds since the epoch.
    pub timestamp: i64,
    pub message: String,
}

/// One page of FilterLogEvents' answer.
#[derive(Debug, Clone, Default)]
pub struct Page {
    pub events: Vec<LogEvent>,
    /// More to read: the same request again with this token.
    pub next_token: Option<String>,
}

/// The version in a Lambda log stream's name (`2026/12/03/[7]4f0c…` -> `7`, `[$LATEST]` ->
/// `$LATEST`); `None` for a stream of another shape.
pub fn stream_version(stream: &str) -> Option<&str> {
    let rest = &stream[stream.find('[')? + 1..];
    let version = &rest[..rest.find(']')?];
    (!version.is_empty()).then_some(version)
}

/// The function in a stream's name in a group of its own (`2026/12/03/orders[7]4f0c…` ->
/// `orders`); `None` in Lambda's default form (`2026/12/03/[7]4f0c…`) or another shape.
pub fn stream_function(stream: &str) -> Option<&str> {
    let before = &stream[..stream.find('[')?];
    let name = &before[before.rfind('/').map_or(0, |i| i + 1)..];
    (!name.is_empty()).then_some(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn functions_from_stream_names() {
        assert_eq!(stream_function("2026/12/03/orders[7]abc"), Some("orders"));
        assert_eq!(stream_function("2026/12/03/[7]abc"), None);
        assert_eq!(stream_function("plain"), None);
    }

    #[test]
    fn versions_from_stream_names() {
        assert_eq!(
            stream_version("2026/12/03/[7]4f0c2e1d8a9b4c7e9f1a2b3c4d5e6f70"),
            Some("7")
        );
        assert_eq!(stream_version("2026/12/03/[$LATEST]abc"), Some("$LATEST"));
        assert_eq!(stream_version("2026/12/03/echo[12]abc"), Some("12"));
        for other in ["", "2026/12/03/abc", "[]x", "2026/12/03/[7"] {
            assert_eq!(stream_version(other), None, "{other}");
        }
    }
}
