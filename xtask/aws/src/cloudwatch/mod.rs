//! The CloudWatch Logs service: one method per API call (FilterLogEvents is the only one),
//! each failure classified and told in the sentences every service shares. Only this module
//! touches the CloudWatch Logs client. Compiled with the package feature `logs`.

use aws_sdk_cloudwatchlogs::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_cloudwatchlogs::Client;

use crate::lambda::Attempt;
use crate::model::failure::{classify, explain, Call};
use crate::model::log::{LogEvent, Page};
use crate::sdk::raw::raw_failure;
use crate::sdk::Session;

/// The IAM action of the one call, for the messages and the README's rights.
pub const FILTER_LOG_EVENTS: &str = "logs:FilterLogEvents";

/// One log group at one endpoint.
pub struct LogGroup {
    client: Client,
    /// The endpoint URL set by the flag, the environment or a profile, if any.
    endpoint: Option<String>,
    /// The partition of the session's region, for the ARNs the messages name.
    partition: &'static str,
    pub name: String,
    /// The function that logs there, for the messages.
    function: String,
}

/// Which events to read.
#[derive(Debug, Clone, Default)]
pub struct Query<'a> {
    /// Milliseconds since the epoch, both ends included.
    pub start_ms: i64,
    pub end_ms: Option<i64>,
    /// CloudWatch Logs' filter pattern.
    pub pattern: Option<&'a str>,
}

impl LogGroup {
    /// A client for the group `name` of `function` on the session's configuration and
    /// credentials, its requests metered; sends no request.
    pub fn new(session: &Session, name: &str, function: &str) -> LogGroup {
        let config = aws_sdk_cloudwatchlogs::config::Builder::from(&session.sdk.config)
            .credentials_provider(session.credentials.clone())
            .interceptor(session.meter.clone())
            .build();
        LogGroup {
            client: Client::from_conf(config),
            endpoint: session.endpoint_url().map(str::to_string),
            partition: xtask::lambda::names::partition_of_region(&session.sdk.region),
            name: name.to_string(),
            function: function.to_string(),
        }
    }

    fn fail<E>(&self, err: &SdkError<E>) -> (crate::model::failure::ApiFailure, anyhow::Error)
    where
        E: ProvideErrorMetadata + std::error::Error + 'static,
    {
        let failure = classify(&raw_failure(err));
        let resource = format!("log group {}", self.name);
        let when_denied = format!(
            "allow `{FILTER_LOG_EVENTS}` on the log group's ARN \
             (arn:{}:logs:REGION:ACCOUNT:log-group:{}:*) in the IAM policy of the identity \
             reading the logs",
            self.partition, self.name
        );
        let when_missing = format!(
            "Lambda makes it when the function first logs: {} has not been invoked since it \
             was created (or its logs go elsewhere)",
            self.function
        );
        let message = explain(
            &failure,
            &Call {
                service: "CloudWatch Logs",
                action: FILTER_LOG_EVENTS,
                resource: &resource,
                endpoint: self.endpoint.as_deref(),
                when_denied: &when_denied,
                when_missing: Some(&when_missing),
            },
        );
        (failure, anyhow::anyhow!(message))
    }

    /// One page of FilterLogEvents: the events of `query`, from `token` on.
    pub async fn filter(&self, query: &Query<'_>, token: Option<String>) -> Attempt<Page> {
        let out = self
            .client
            .filter_log_events()
            .log_group_name(&self.name)
            .start_time(query.start_ms)
            .set_end_time(query.end_ms)
            .set_filter_pattern(query.pattern.map(str::to_string))
            .set_next_token(token)
            .send()
            .await
            .map_err(|err| self.fail(&err))?;
        let events = out
            .events()
            .iter()
            .map(|e| LogEvent {
                event_id: e.event_id().map(str::to_string),
                stream: e.log_stream_name().unwrap_or_default().to_string(),
                timestamp: e.timestamp().unwrap_or_default(),
                message: e.message().unwrap_or_default().to_string(),
            })
            .collect();
        Ok(Page {
            events,
            next_token: out.next_token().map(str::to_string),
        })
    }
}
