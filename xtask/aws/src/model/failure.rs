//! Failed AWS calls, of every service: reduced to what decides the message ([`classify`]),
//! then told as one or two sentences naming the fix ([`explain`]). Pure; the SDK's errors
//! become [`RawFailure`]s in `sdk::raw_failure`.

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
    /// No answer within the timeouts (`timeouts.rs`).
    TimedOut(String),
    /// An HTML page: a web server or a captive portal, not the AWS API.
    NotTheApi,
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
        return ApiFailure::NotTheApi;
    }
    if raw.no_response {
        if detail_lower.contains("credentials") || detail_lower.contains("identity") {
            return ApiFailure::NoCredentials(raw.detail.clone());
        }
        return ApiFailure::Unreachable(raw.detail.clone());
    }
    match raw.code.as_deref() {
        // Lambda's and CloudWatch Logs' name for it, then API Gateway's.
        Some("ResourceNotFoundException" | "NotFoundException") => ApiFailure::NotFound,
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

/// What the failing call was, for the message: the same sentences serve every service.
#[derive(Debug, Clone)]
pub struct Call<'a> {
    /// The service as its API is named: `Lambda`, `IAM`, `STS`.
    pub service: &'a str,
    /// The IAM action of the call: `lambda:GetFunction`, `iam:CreateRole`.
    pub action: &'a str,
    /// What the call was about: `function echo`, `role echo-deploy`.
    pub resource: &'a str,
    /// Where requests went, when known (the flag, the environment, or the region's).
    pub endpoint: Option<&'a str>,
    /// The fix when access is denied: who may call the action, or what to do instead.
    pub when_denied: &'a str,
    /// The fix when the resource does not exist (a plain statement when `None`).
    pub when_missing: Option<&'a str>,
}

impl Call<'_> {
    /// `the Lambda endpoint https://…`, or `the IAM endpoint` when the SDK picks it.
    fn endpoint_phrase(&self) -> String {
        match self.endpoint {
            Some(url) => format!("the {} endpoint {url}", self.service),
            None => format!("the {} endpoint", self.service),
        }
    }
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
pub fn explain(failure: &ApiFailure, call: &Call<'_>) -> String {
    let Call {
        service,
        action,
        resource,
        ..
    } = call;
    let endpoint = call.endpoint_phrase();
    match failure {
        ApiFailure::NotFound => match call.when_missing {
            Some(fix) => format!("{resource} does not exist at {endpoint}; {fix}"),
            None => format!("{resource} does not exist at {endpoint}"),
        },
        ApiFailure::Conflict(m) => format!(
            "{action} on {resource} conflicts with an update still in progress ({m}); \
             wait for it to finish and deploy again"
        ),
        ApiFailure::StaleRevision => format!(
            "{resource} changed while deploying ({action} was refused because its \
             RevisionId is stale): another deploy or change ran at the same time; nothing was \
             overwritten, rerun the deploy to go on top of it"
        ),
        ApiFailure::AccessDenied(m) => format!(
            "access denied: the credentials in use may not call {action} on {resource} ({m}); \
             {}",
            call.when_denied
        ),
        ApiFailure::BadCredentials(m) => format!(
            "AWS rejected the credentials ({m}); they are invalid or expired: refresh them \
             (e.g. `aws sso login`) or supply others: {CREDENTIAL_SOURCES}"
        ),
        ApiFailure::NoCredentials(d) => no_credentials(d),
        ApiFailure::Throttled(m) => format!(
            "{service} kept throttling {action} ({m}) after the SDK's retries; try again later, \
             or raise the attempts with AWS_MAX_ATTEMPTS"
        ),
        ApiFailure::Server(s, m) => format!(
            "{service} kept failing {action} with HTTP {s} ({m}) after the SDK's retries; \
             this is on the service's side: try again later"
        ),
        ApiFailure::Unreachable(d) => format!(
            "could not reach {endpoint} ({d}); check the network, --endpoint-url / \
             AWS_ENDPOINT_URL and --region"
        ),
        ApiFailure::TimedOut(d) => format!(
            "{endpoint} did not answer {action} in time ({d}); check the network and \
             --endpoint-url / AWS_ENDPOINT_URL (the timeouts are in the README)"
        ),
        ApiFailure::NotTheApi => format!(
            "the endpoint at {} answered with HTML, not the {service} API: check \
             --endpoint-url (and AWS_ENDPOINT_URL, AWS_ENDPOINT_URL_{})",
            call.endpoint.unwrap_or("the default address"),
            service.to_ascii_uppercase().replace(' ', "_")
        ),
        ApiFailure::Other(m) => format!("{action} on {resource} failed: {m}"),
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
        assert_eq!(classify(&page(200)), ApiFailure::NotTheApi);
        assert_eq!(classify(&page(404)), ApiFailure::NotTheApi);
        // A load balancer's error page is still the service failing.
        assert!(matches!(classify(&page(503)), ApiFailure::Server(503, _)));
    }

    fn iam_call<'a>(endpoint: Option<&'a str>) -> Call<'a> {
        Call {
            service: "IAM",
            action: "iam:CreateRole",
            resource: "role echo-deploy",
            endpoint,
            when_denied: "run it as an administrator",
            when_missing: None,
        }
    }

    #[test]
    fn one_set_of_sentences_for_every_service() {
        let call = iam_call(Some("http://127.0.0.1:1"));
        let denied = explain(&ApiFailure::AccessDenied("not authorized".into()), &call);
        assert_eq!(
            denied,
            "access denied: the credentials in use may not call iam:CreateRole on role \
             echo-deploy (not authorized); run it as an administrator"
        );
        let unreachable = explain(&ApiFailure::Unreachable("refused".into()), &call);
        assert!(
            unreachable
                .starts_with("could not reach the IAM endpoint http://127.0.0.1:1 (refused)"),
            "{unreachable}"
        );
        assert!(explain(&ApiFailure::NotTheApi, &call).starts_with(
            "the endpoint at http://127.0.0.1:1 answered with HTML, not the IAM API: check \
                 --endpoint-url (and AWS_ENDPOINT_URL, AWS_ENDPOINT_URL_IAM)"
        ));
        let throttled = explain(&ApiFailure::Throttled("slow down".into()), &iam_call(None));
        assert!(
            throttled.starts_with("IAM kept throttling iam:CreateRole (slow down)"),
            "{throttled}"
        );
        assert_eq!(
            explain(&ApiFailure::NotFound, &iam_call(None)),
            "role echo-deploy does not exist at the IAM endpoint"
        );
        assert_eq!(
            explain(
                &ApiFailure::Other("MalformedPolicyDocument: bad".into()),
                &call
            ),
            "iam:CreateRole on role echo-deploy failed: MalformedPolicyDocument: bad"
        );
        let none = explain(&ApiFailure::NoCredentials("x".into()), &call);
        assert!(
            none.contains("AWS_ACCESS_KEY_ID") && none.contains("--profile"),
            "{none}"
        );
        assert!(none.contains("AWS_WEB_IDENTITY_TOKEN_FILE"), "{none}");
    }
}
