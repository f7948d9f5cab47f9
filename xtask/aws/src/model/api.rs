//! The HTTP API `deploy --api http` puts in front of a function, as plain data read from API
//! Gateway (`apigateway`), and the decisions over it, all pure: which API is the function's
//! (by its tag, never by its name), what of it is missing or differs (drift), and whether
//! the function's resource policy lets this API invoke it.

use anyhow::{bail, Result};
use serde::Serialize;
use serde_json::Value;

/// The tag that marks an API as the one `deploy` made for a function: its value is the
/// function's unqualified ARN.
pub const TAG: &str = "xtask:lambda-function";
/// The route and stage of a proxy for everything.
pub const DEFAULT: &str = "$default";
pub const PAYLOAD_FORMAT: &str = "2.0";
pub const PROXY: &str = "AWS_PROXY";

/// An API as GetApis lists it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ApiSeen {
    pub id: String,
    pub name: String,
    /// `https://ID.execute-api.REGION.amazonaws.com`.
    pub endpoint: Option<String>,
    /// The value of [`TAG`], if it has one.
    pub function_tag: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IntegrationSeen {
    pub id: String,
    pub kind: Option<String>,
    pub uri: Option<String>,
    pub payload_format: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RouteSeen {
    pub id: String,
    pub key: String,
    /// `integrations/ID`.
    pub target: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StageSeen {
    pub name: String,
    pub auto_deploy: bool,
}

/// What is under an API.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Parts {
    pub integrations: Vec<IntegrationSeen>,
    pub routes: Vec<RouteSeen>,
    pub stages: Vec<StageSeen>,
}

/// The function's API among `apis`: the one tagged with `function_arn`. Several is an error
/// (which one to keep is the owner's call); an API of the same name without the tag is
/// someone else's and never adopted.
pub fn find<'a>(apis: &'a [ApiSeen], function_arn: &str) -> Result<Option<&'a ApiSeen>> {
    let ours: Vec<&ApiSeen> = apis
        .iter()
        .filter(|a| a.function_tag.as_deref() == Some(function_arn))
        .collect();
    match ours.as_slice() {
        [] => Ok(None),
        [one] => Ok(Some(one)),
        several => bail!(
            "{} HTTP APIs are tagged {TAG}={function_arn} ({}): deploy keeps one API per \
             function; delete the extra ones (aws apigatewayv2 delete-api --api-id ID) or \
             remove their tag, then deploy again",
            several.len(),
            several
                .iter()
                .map(|a| a.id.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

/// One thing to write, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fix {
    CreateIntegration,
    /// The integration the route uses, pointed at the right target (drift: what it was).
    UpdateIntegration {
        id: String,
        drift: String,
    },
    /// The `$default` route, to the integration (created or found).
    CreateRoute,
    UpdateRoute {
        id: String,
        drift: String,
    },
    CreateStage,
    UpdateStage {
        drift: String,
    },
}

impl Fix {
    /// For status lines and the report.
    pub fn describe(&self) -> String {
        match self {
            Fix::CreateIntegration => "the Lambda proxy integration (payload 2.0)".into(),
            Fix::UpdateIntegration { id, drift } => format!("integration {id}: {drift}"),
            Fix::CreateRoute => "the $default route".into(),
            Fix::UpdateRoute { id, drift } => format!("route {id}: {drift}"),
            Fix::CreateStage => "the $default stage (auto-deployed)".into(),
            Fix::UpdateStage { drift } => format!("the $default stage: {drift}"),
        }
    }

    pub fn is_drift(&self) -> bool {
        matches!(
            self,
            Fix::UpdateIntegration { .. } | Fix::UpdateRoute { .. } | Fix::UpdateStage { .. }
        )
    }
}

/// What to write under an API so it proxies everything to `uri` (the function's or the
/// alias's ARN), and which integration the route is to use when it exists already.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartsPlan {
    /// The integration to route to, when one is kept or corrected (else the created one).
    pub integration: Option<String>,
    pub fixes: Vec<Fix>,
}

fn is_right(i: &IntegrationSeen, uri: &str) -> bool {
    i.kind.as_deref() == Some(PROXY)
        && i.uri.as_deref() == Some(uri)
        && i.payload_format.as_deref() == Some(PAYLOAD_FORMAT)
}

fn integration_drift(i: &IntegrationSeen, uri: &str) -> String {
    let mut what = Vec::new();
    if i.kind.as_deref() != Some(PROXY) {
        what.push(format!("type {}", i.kind.as_deref().unwrap_or("(none)")));
    }
    if i.uri.as_deref() != Some(uri) {
        what.push(format!("target {}", i.uri.as_deref().unwrap_or("(none)")));
    }
    if i.payload_format.as_deref() != Some(PAYLOAD_FORMAT) {
        what.push(format!(
            "payload format {}",
            i.payload_format.as_deref().unwrap_or("(none)")
        ));
    }
    format!(
        "{}, not {PROXY} to {uri} with payload {PAYLOAD_FORMAT}",
        what.join(", ")
    )
}

/// The plan for `parts` of an existing API.
pub fn plan_parts(parts: &Parts, uri: &str) -> PartsPlan {
    let route = parts.routes.iter().find(|r| r.key == DEFAULT);
    let routed = route
        .and_then(|r| r.target.as_deref()?.strip_prefix("integrations/"))
        .and_then(|id| parts.integrations.iter().find(|i| i.id == id));
    let mut fixes = Vec::new();
    // The route's integration is corrected in place; without one, a right one is reused.
    let integration = match routed {
        Some(i) if is_right(i, uri) => Some(i.id.clone()),
        Some(i) => {
            fixes.push(Fix::UpdateIntegration {
                id: i.id.clone(),
                drift: integration_drift(i, uri),
            });
            Some(i.id.clone())
        }
        None => match parts.integrations.iter().find(|i| is_right(i, uri)) {
            Some(i) => Some(i.id.clone()),
            None => {
                fixes.push(Fix::CreateIntegration);
                None
            }
        },
    };
    let wanted_target = integration.as_ref().map(|id| format!("integrations/{id}"));
    match route {
        None => fixes.push(Fix::CreateRoute),
        Some(r) if wanted_target.is_none() || r.target != wanted_target => {
            fixes.push(Fix::UpdateRoute {
                id: r.id.clone(),
                drift: format!(
                    "targets {}, not the proxy integration",
                    r.target.as_deref().unwrap_or("nothing")
                ),
            })
        }
        Some(_) => {}
    }
    match parts.stages.iter().find(|s| s.name == DEFAULT) {
        None => fixes.push(Fix::CreateStage),
        Some(s) if !s.auto_deploy => fixes.push(Fix::UpdateStage {
            drift: "not auto-deployed (a change would not reach the URL)".into(),
        }),
        Some(_) => {}
    }
    PartsPlan { integration, fixes }
}

/// What the integration is to target: the alias when one is given; else, when the API already
/// targets an alias (or version) of this function, that one still (a deploy without `--alias`
/// must not move public traffic to `$LATEST`); else the function itself.
pub fn target(parts: &Parts, function_arn: &str, alias: Option<&str>) -> String {
    if let Some(alias) = alias {
        return format!("{function_arn}:{alias}");
    }
    let routed = parts
        .routes
        .iter()
        .find(|r| r.key == DEFAULT)
        .and_then(|r| r.target.as_deref()?.strip_prefix("integrations/"))
        .and_then(|id| parts.integrations.iter().find(|i| i.id == id))
        .and_then(|i| i.uri.as_deref());
    match routed {
        Some(uri)
            if uri
                .strip_prefix(function_arn)
                .and_then(|q| q.strip_prefix(':'))
                .is_some_and(|q| !q.is_empty() && !q.contains(':')) =>
        {
            uri.to_string()
        }
        _ => function_arn.to_string(),
    }
}

/// The source ARN API Gateway invokes with for any stage of `api_id`'s `$default` route.
pub fn source_arn(partition: &str, region: &str, account: &str, api_id: &str) -> String {
    format!("arn:{partition}:execute-api:{region}:{account}:{api_id}/*/{DEFAULT}")
}

/// The resource-policy statement id of the API's grant.
pub fn statement_id(api_id: &str) -> String {
    format!("apigateway-{api_id}")
}

/// Does `policy` (GetPolicy's document) let API Gateway invoke the function from `source`?
/// By content: Allow, lambda:InvokeFunction, the service principal, exactly that source.
pub fn granted(policy: Option<&str>, source: &str) -> bool {
    statements(policy).iter().any(|s| {
        let principal = &s["Principal"];
        let service = principal["Service"] == "apigateway.amazonaws.com"
            || principal == "apigateway.amazonaws.com";
        let from = s["Condition"]["ArnLike"]["AWS:SourceArn"] == source
            || s["Condition"]["ArnLike"]["aws:SourceArn"] == source;
        let action = match &s["Action"] {
            Value::Array(actions) => actions.iter().any(|a| a == "lambda:InvokeFunction"),
            one => one == "lambda:InvokeFunction",
        };
        s["Effect"] == "Allow" && action && service && from
    })
}

/// A policy's statements (IAM allows one statement without the list around it).
fn statements(policy: Option<&str>) -> Vec<Value> {
    match policy.and_then(|p| serde_json::from_str::<Value>(p).ok()) {
        Some(p) => match &p["Statement"] {
            Value::Array(all) => all.clone(),
            Value::Object(_) => vec![p["Statement"].clone()],
            _ => Vec::new(),
        },
        None => Vec::new(),
    }
}

/// Does `policy` hold a statement `sid` (which then does not grant what it should)?
pub fn has_statement(policy: Option<&str>, sid: &str) -> bool {
    statements(policy).iter().any(|s| s["Sid"] == sid)
}

/// What `--api` found or made, for the report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ApiReport {
    pub kind: &'static str,
    /// Empty when a dry run would create it.
    pub api_id: String,
    /// The invoke URL of the `$default` stage.
    pub url: String,
    /// What the integration targets: the function's ARN, or the alias's.
    pub target: String,
    /// `created`, `unchanged`, `corrected`, or with a dry run `would-create`, `would-correct`.
    pub outcome: String,
    /// What was made or corrected (or would be), in words.
    pub changes: Vec<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    const URI: &str = "arn:aws:lambda:eu-west-1:123456789012:function:echo:live";

    fn api(id: &str, tag: Option<&str>) -> ApiSeen {
        ApiSeen {
            id: id.into(),
            name: "echo".into(),
            endpoint: None,
            function_tag: tag.map(str::to_string),
        }
    }

    fn right_parts() -> Parts {
        Parts {
            integrations: vec![IntegrationSeen {
                id: "i1".into(),
                kind: Some(PROXY.into()),
                uri: Some(URI.into()),
                payload_format: Some("2.0".into()),
            }],
            routes: vec![RouteSeen {
                id: "r1".into(),
                key: DEFAULT.into(),
                target: Some("integrations/i1".into()),
            }],
            stages: vec![StageSeen {
                name: DEFAULT.into(),
                auto_deploy: true,
            }],
        }
    }

    #[test]
    fn the_api_is_found_by_its_tag_only() {
        let arn = "arn:aws:lambda:eu-west-1:123456789012:function:echo";
        let apis = [
            api("a1", None),
            api("a2", Some(arn)),
            api("a3", Some("other")),
        ];
        assert_eq!(find(&apis, arn).unwrap().unwrap().id, "a2");
        assert_eq!(find(&apis[..1], arn).unwrap(), None);
        let twice = [api("a2", Some(arn)), api("a4", Some(arn))];
        let err = find(&twice, arn).unwrap_err().to_string();
        assert!(
            err.contains("2 HTTP APIs are tagged") && err.contains("a2, a4"),
            "{err}"
        );
    }

    #[test]
    fn a_complete_api_needs_nothing() {
        let plan = plan_parts(&right_parts(), URI);
        assert_eq!(plan.fixes, []);
        assert_eq!(plan.integration.as_deref(), Some("i1"));
    }

    #[test]
    fn an_empty_api_gets_everything() {
        let plan = plan_parts(&Parts::default(), URI);
        assert_eq!(
            plan.fixes,
            [Fix::CreateIntegration, Fix::CreateRoute, Fix::CreateStage]
        );
        assert_eq!(plan.integration, None);
    }

    #[test]
    fn drift_is_corrected_in_place() {
        let mut parts = right_parts();
        parts.integrations[0].uri = Some("arn:aws:lambda:eu-west-1:123456789012:function:x".into());
        parts.stages[0].auto_deploy = false;
        let plan = plan_parts(&parts, URI);
        assert_eq!(plan.integration.as_deref(), Some("i1"));
        assert!(
            matches!(&plan.fixes[0], Fix::UpdateIntegration { id, drift }
            if id == "i1" && drift.contains("target arn:aws:lambda:eu-west-1:123456789012:function:x"))
        );
        assert!(matches!(plan.fixes[1], Fix::UpdateStage { .. }));
        assert_eq!(plan.fixes.len(), 2);
        assert!(plan.fixes.iter().all(Fix::is_drift));

        // A route to nowhere is pointed at a right integration that is there.
        let mut parts = right_parts();
        parts.routes[0].target = Some("integrations/gone".into());
        let plan = plan_parts(&parts, URI);
        assert!(matches!(&plan.fixes[..], [Fix::UpdateRoute { id, .. }] if id == "r1"));
        assert_eq!(plan.integration.as_deref(), Some("i1"));

        // A missing route is made again.
        let mut parts = right_parts();
        parts.routes.clear();
        assert_eq!(plan_parts(&parts, URI).fixes, [Fix::CreateRoute]);
    }

    #[test]
    fn a_deploy_without_alias_keeps_the_alias_the_api_targets() {
        let arn = "arn:aws:lambda:eu-west-1:123456789012:function:echo";
        let parts = right_parts();
        assert_eq!(target(&parts, arn, None), URI);
        assert_eq!(target(&parts, arn, Some("beta")), format!("{arn}:beta"));
        assert_eq!(target(&Parts::default(), arn, None), arn);
        // Another function's alias is drift, not a target to keep.
        let other = "arn:aws:lambda:eu-west-1:123456789012:function:echo2";
        assert_eq!(target(&parts, other, None), other);
    }

    #[test]
    fn grants_are_read_as_aws_and_moto_write_them() {
        let source = source_arn("aws", "eu-west-1", "123456789012", "a2");
        assert_eq!(
            source,
            "arn:aws:execute-api:eu-west-1:123456789012:a2/*/$default"
        );
        assert!(!granted(None, &source));
        let policy = |from: &str| {
            format!(
                r#"{{"Statement":[{{"Sid":"apigateway-a2","Effect":"Allow","Principal":{{"Service":"apigateway.amazonaws.com"}},
                "Action":"lambda:InvokeFunction","Resource":"arn:x","Condition":{{"ArnLike":{{"AWS:SourceArn":"{from}"}}}}}}]}}"#
            )
        };
        assert!(granted(Some(&policy(&source)), &source));
        // Wider (any API) or another API's: not this grant.
        assert!(!granted(
            Some(&policy("arn:aws:execute-api:eu-west-1:123456789012:*")),
            &source
        ));
        assert!(!granted(
            Some(&policy(
                "arn:aws:execute-api:eu-west-1:123456789012:a9/*/$default"
            )),
            &source
        ));
    }
}
