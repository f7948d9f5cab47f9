//! The [`Meter`]: every HTTP request the SDK sends, retries included, with its body size, for
//! the reports (`API calls`, `uploaded`).

use std::sync::{Arc, Mutex};

use aws_sdk_lambda::config::interceptors::BeforeTransmitInterceptorContextRef;
use aws_sdk_lambda::config::{ConfigBag, Intercept, RuntimeComponents};
use aws_sdk_lambda::error::BoxError;
use serde::Serialize;

/// One HTTP request the SDK sent (retries included).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ApiCall {
    pub operation: String,
    pub request_bytes: u64,
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
