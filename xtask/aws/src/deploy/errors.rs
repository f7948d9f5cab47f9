//! Failed API calls: reduced to what decides the message ([`classify`]), then told as one or
//! two sentences naming the fix ([`explain`]). Pure; the SDK side is in `aws.rs`.

use xtask::deploy::Operation;

/// An API failure reduced to what decides the message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ApiFailure {
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
    /// No answer within deploy's timeouts (`timeouts.rs`).
    TimedOut(String),
    /// An HTML page: a web server or a captive portal, not the Lambda API.
    NotLambda,
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
    /// The answer was an HTML page.
    pub html: bool,
    /// No answer within the attempt or operation timeout.
    pub timed_out: bool,
}

pub fn classify(raw: &RawFailure) -> ApiFailure {
    let message = raw.message.clone().unwrap_or_else(|| raw.detail.clone());
    let detail_lower = raw.detail.to_lowercase();
    if raw.timed_out {
        return ApiFailure::TimedOut(raw.detail.clone());
    }
    if raw.html && raw.code.is_none() && raw.status.is_some_and(|s| s < 500) {
        return ApiFailure::NotLambda;
    }
    if raw.no_response {
        if detail_lower.contains("credentials") || detail_lower.contains("identity") {
            return ApiFailure::NoCredentials(raw.detail.clone());
        }
        return ApiFailure::Unreachable(raw.detail.clone());
    }
    match raw.code.as_deref() {
        Some("ResourceNotFoundException") => ApiFailure::NotFound,
        Some("ResourceConflictException") => ApiFailure::Conflict(message),
        Some("PreconditionFailedException") => ApiFailure::StaleRevision,
        Some("AccessDeniedException" | "AccessDenied") => ApiFailure::AccessDenied(message),
        Some(
            "UnrecognizedClientException"
            | "InvalidSignatureException"
            | "ExpiredTokenException"
            | "InvalidClientTokenId"
            | "IncompleteSignature",
        ) => ApiFailure::BadCredentials(message),
        Some(code)
            if code.contains("Throttl")
                || code == "TooManyRequestsException"
                || raw.status == Some(429) =>
        {
            ApiFailure::Throttled(message)
        }
        _ => match raw.status {
            Some(429) => ApiFailure::Throttled(message),
            Some(s) if s >= 500 => ApiFailure::Server(s, message),
            Some(403) if raw.code.is_none() => ApiFailure::AccessDenied(message),
            _ => ApiFailure::Other(match &raw.code {
                Some(code) => format!("{code}: {message}"),
                None => message,
            }),
        },
    }
}

/// What the failing call was doing, for the message.
#[derive(Debug, Clone)]
pub struct CallContext<'a> {
    pub operation: Operation,
    pub function: &'a str,
    pub endpoint: &'a str,
}

pub const CREDENTIAL_SOURCES: &str = "AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY (and \
AWS_SESSION_TOKEN), `--profile NAME` or AWS_PROFILE (static keys, SSO after `aws sso login`, \
assume-role, credential_process), web identity (AWS_ROLE_ARN + AWS_WEB_IDENTITY_TOKEN_FILE), \
or an ECS/EC2 instance role; in GitHub Actions, aws-actions/configure-aws-credentials with \
role-to-assume trades the job's OIDC token for keys in the environment";

pub fn no_credentials(detail: &str) -> String {
    format!("no usable AWS credentials were found ({detail}); supply them through one of: {CREDENTIAL_SOURCES}")
}

/// One sentence (or two) saying what went wrong and how to fix it.
pub fn explain(failure: &ApiFailure, cx: &CallContext<'_>) -> String {
    let action = cx.operation.iam_action();
    let CallContext {
        function, endpoint, ..
    } = cx;
    match failure {
        ApiFailure::NotFound => format!(
            "function {function} does not exist at {endpoint}; check --function-name and \
             --region, or create it with `--create` (and --role ARN, or a role it creates)"
        ),
        ApiFailure::Conflict(m) => format!(
            "{action} on {function} conflicts with an update still in progress ({m}); \
             wait for it to finish and deploy again"
        ),
        ApiFailure::StaleRevision => format!(
            "function {function} changed while deploying ({action} was refused because its \
             RevisionId is stale): another deploy or change ran at the same time; nothing was \
             overwritten, rerun the deploy to go on top of it"
        ),
        ApiFailure::AccessDenied(m) => format!(
            "access denied: the credentials in use may not call {action} on function \
             {function} ({m}); allow `{action}` on the function's ARN \
             (arn:aws:lambda:REGION:ACCOUNT:function:{function}) in the IAM policy of the \
             deploying identity"
        ),
        ApiFailure::BadCredentials(m) => format!(
            "AWS rejected the credentials ({m}); they are invalid or expired: refresh them \
             (e.g. `aws sso login`) or supply others: {CREDENTIAL_SOURCES}"
        ),
        ApiFailure::NoCredentials(d) => no_credentials(d),
        ApiFailure::Throttled(m) => format!(
            "Lambda kept throttling {action} ({m}) after the SDK's retries; try again later, \
             or raise the attempts with AWS_MAX_ATTEMPTS"
        ),
        ApiFailure::Server(s, m) => format!(
            "Lambda kept failing {action} with HTTP {s} ({m}) after the SDK's retries; \
             this is on the service's side: try again later"
        ),
        ApiFailure::Unreachable(d) => format!(
            "could not reach the Lambda endpoint {endpoint} ({d}); check the network, \
             --endpoint-url / AWS_ENDPOINT_URL and --region"
        ),
        ApiFailure::TimedOut(d) => format!(
            "the Lambda endpoint {endpoint} did not answer {action} in time ({d}); check the \
             network and --endpoint-url / AWS_ENDPOINT_URL (deploy's timeouts are in the README)"
        ),
        ApiFailure::NotLambda => format!(
            "the endpoint at {endpoint} answered with HTML, not the Lambda API: check \
             --endpoint-url (and AWS_ENDPOINT_URL, AWS_ENDPOINT_URL_LAMBDA)"
        ),
        ApiFailure::Other(m) => format!("{action} on {function} failed: {m}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(status: u16, code: &str) -> RawFailure {
        RawFailure {
            status: Some(status),
            code: Some(code.into()),
            message: Some("msg".into()),
            no_response: false,
            detail: "detail".into(),
            ..Default::default()
        }
    }

    #[test]
    fn classify_service_errors() {
        assert_eq!(
            classify(&raw(404, "ResourceNotFoundException")),
            ApiFailure::NotFound
        );
        assert_eq!(
            classify(&raw(409, "ResourceConflictException")),
            ApiFailure::Conflict("msg".into())
        );
        assert_eq!(
            classify(&raw(412, "PreconditionFailedException")),
            ApiFailure::StaleRevision
        );
        assert_eq!(
            classify(&raw(403, "AccessDeniedException")),
            ApiFailure::AccessDenied("msg".into())
        );
        assert_eq!(
            classify(&raw(403, "UnrecognizedClientException")),
            ApiFailure::BadCredentials("msg".into())
        );
        assert_eq!(
            classify(&raw(429, "TooManyRequestsException")),
            ApiFailure::Throttled("msg".into())
        );
        assert_eq!(
            classify(&raw(400, "ThrottlingException")),
            ApiFailure::Throttled("msg".into())
        );
        assert_eq!(
            classify(&raw(503, "ServiceException")),
            ApiFailure::Server(503, "msg".into())
        );
        assert_eq!(
            classify(&raw(400, "InvalidParameterValueException")),
            ApiFailure::Other("InvalidParameterValueException: msg".into())
        );
    }

    #[test]
    fn classify_transport_errors() {
        let refused = RawFailure {
            no_response: true,
            detail: "dispatch failure: io error: Connection refused".into(),
            ..Default::default()
        };
        assert!(matches!(classify(&refused), ApiFailure::Unreachable(_)));
        let creds = RawFailure {
            no_response: true,
            detail: "failed to construct request: no credentials in the chain".into(),
            ..Default::default()
        };
        assert!(matches!(classify(&creds), ApiFailure::NoCredentials(_)));
        let slow = RawFailure {
            no_response: true,
            timed_out: true,
            detail: "operation timeout (all attempts including retries) occurred after 50s".into(),
            ..Default::default()
        };
        assert!(matches!(classify(&slow), ApiFailure::TimedOut(_)));
    }

    #[test]
    fn html_pages_are_not_the_lambda_api() {
        let page = |status| RawFailure {
            status: Some(status),
            html: true,
            detail: "unexpected token '<'".into(),
            ..Default::default()
        };
        assert_eq!(classify(&page(200)), ApiFailure::NotLambda);
        assert_eq!(classify(&page(404)), ApiFailure::NotLambda);
        // A load balancer's error page is still the service failing.
        assert!(matches!(classify(&page(503)), ApiFailure::Server(503, _)));
        let cx = CallContext {
            operation: Operation::GetFunction,
            function: "echo",
            endpoint: "http://127.0.0.1:8080",
        };
        assert!(explain(&ApiFailure::NotLambda, &cx).starts_with(
            "the endpoint at http://127.0.0.1:8080 answered with HTML, not the Lambda API: \
             check --endpoint-url"
        ));
        let late = explain(&ApiFailure::TimedOut("after 50s".into()), &cx);
        assert!(
            late.contains("did not answer lambda:GetFunction in time (after 50s)"),
            "{late}"
        );
    }

    #[test]
    fn explanations_name_the_fix() {
        let cx = CallContext {
            operation: Operation::UpdateFunctionCode,
            function: "echo",
            endpoint: "https://lambda.eu-west-1.amazonaws.com",
        };
        assert!(explain(&ApiFailure::NotFound, &cx).contains("--create` (and --role ARN"));
        let denied = explain(&ApiFailure::AccessDenied("nope".into()), &cx);
        assert!(
            denied.contains("lambda:UpdateFunctionCode")
                && denied.contains("arn:aws:lambda:REGION:ACCOUNT:function:echo"),
            "{denied}"
        );
        let none = explain(&ApiFailure::NoCredentials("x".into()), &cx);
        assert!(
            none.contains("AWS_ACCESS_KEY_ID") && none.contains("--profile"),
            "{none}"
        );
        assert!(none.contains("AWS_WEB_IDENTITY_TOKEN_FILE"), "{none}");
        let unreachable = explain(&ApiFailure::Unreachable("refused".into()), &cx);
        assert!(unreachable.contains("--endpoint-url"), "{unreachable}");
        assert!(explain(&ApiFailure::StaleRevision, &cx).contains("rerun"));
    }
}
