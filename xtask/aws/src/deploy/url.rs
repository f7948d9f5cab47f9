//! `deploy --url public|iam`: a Function URL, created or kept, on `--alias` when given, else on
//! the function itself; for `public`, the two resource-policy statements a URL without auth
//! needs, added only when missing.

use anyhow::{bail, Result};
use aws_sdk_lambda::types::FunctionUrlAuthType;
use serde::Serialize;
use serde_json::Value;
use xtask::deploy::{Operation, UrlAuth};
use xtask::util::status::status;

use super::errors::ApiFailure;
use super::lambda_api::Lambda;

/// The Lambda actions `--url` needs, besides the deploy's own.
pub const URL_ACTIONS: &[&str] = &[
    "lambda:GetFunctionUrlConfig",
    "lambda:CreateFunctionUrlConfig",
    "lambda:GetPolicy",
    "lambda:AddPermission",
];

/// One statement a public URL needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Grant {
    /// lambda:InvokeFunctionUrl to everyone, when FunctionUrlAuthType is NONE.
    InvokeFunctionUrl,
    /// lambda:InvokeFunction to everyone, when invoked via the function URL.
    InvokeFunction,
}

impl Grant {
    pub const PUBLIC: [Grant; 2] = [Grant::InvokeFunctionUrl, Grant::InvokeFunction];

    pub fn action(self) -> &'static str {
        match self {
            Grant::InvokeFunctionUrl => "lambda:InvokeFunctionUrl",
            Grant::InvokeFunction => "lambda:InvokeFunction",
        }
    }

    /// The statement id (the console's, so a URL made there is recognised too).
    pub fn statement_id(self) -> &'static str {
        match self {
            Grant::InvokeFunctionUrl => "FunctionURLAllowPublicAccess",
            Grant::InvokeFunction => "FunctionURLInvokeAllowPublicAccess",
        }
    }

    /// The condition key that ties the grant to the URL.
    fn condition_key(self) -> &'static str {
        match self {
            Grant::InvokeFunctionUrl => "FunctionUrlAuthType",
            Grant::InvokeFunction => "InvokedViaFunctionUrl",
        }
    }

    /// Does this statement grant it? (By content: Allow, the action, everyone, the condition.)
    fn granted_by(self, s: &Value) -> bool {
        let everyone = s["Principal"] == "*" || s["Principal"]["AWS"] == "*";
        let key = self.condition_key();
        let condition = |v: &Value| {
            v.as_object().is_some_and(|ops| {
                ops.values().any(|keys| {
                    keys.get(format!("lambda:{key}")).is_some() || keys.get(key).is_some()
                })
            })
        };
        s["Effect"] == "Allow"
            && s["Action"] == self.action()
            && everyone
            // AWS puts it under Condition; moto keeps the request's field as it came.
            && (condition(&s["Condition"]) || s.get(key).is_some())
    }
}

/// The grants a public URL needs that `policy` (GetPolicy's document, if any) lacks.
pub fn missing_grants(policy: Option<&str>) -> Vec<Grant> {
    let statements: Vec<Value> = policy
        .and_then(|p| serde_json::from_str::<Value>(p).ok())
        .and_then(|p| p["Statement"].as_array().cloned())
        .unwrap_or_default();
    Grant::PUBLIC
        .into_iter()
        .filter(|g| !statements.iter().any(|s| g.granted_by(s)))
        .collect()
}

/// What `--url` found or made.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UrlReport {
    pub url: String,
    pub auth: UrlAuth,
    /// The alias it is on, else none (the function itself).
    pub qualifier: Option<String>,
    /// `created` or `unchanged` (`would-create` on a dry run).
    pub outcome: String,
    /// The statements added to the function's resource policy by this run.
    pub permissions_added: Vec<String>,
}

impl Lambda<'_> {
    /// Creates the URL (and for `public` its grants) unless it is there; reads only otherwise.
    pub async fn ensure_url(
        &self,
        auth: UrlAuth,
        qualifier: Option<&str>,
        dry_run: bool,
    ) -> Result<UrlReport> {
        let target = match qualifier {
            Some(q) => format!("{}:{q}", self.function),
            None => self.function.to_string(),
        };
        let qualifier_owned = qualifier.map(str::to_string);
        let found = match self
            .client
            .get_function_url_config()
            .function_name(self.function)
            .set_qualifier(qualifier_owned.clone())
            .send()
            .await
        {
            Ok(out) => Some((
                out.function_url().to_string(),
                out.auth_type().as_str().to_string(),
            )),
            Err(err) => match self.fail(Operation::GetFunctionUrlConfig, err) {
                (ApiFailure::NotFound, _) => None,
                (_, error) => return Err(error),
            },
        };
        let (url, mut outcome) = match found {
            Some((url, existing)) if existing == auth.auth_type() => (url, "unchanged"),
            Some((url, existing)) => bail!(
                "{target} already has the function URL {url} with AuthType {existing}, not {}: \
                 change it deliberately (aws lambda update-function-url-config) or pass --url \
                 matching it",
                auth.auth_type()
            ),
            None if dry_run => {
                status(
                    "Skipped",
                    format!("creating a function URL for {target} (--dry-run)"),
                );
                (String::new(), "would-create")
            }
            None => {
                let out = self
                    .client
                    .create_function_url_config()
                    .function_name(self.function)
                    .set_qualifier(qualifier_owned.clone())
                    .auth_type(FunctionUrlAuthType::from(auth.auth_type()))
                    .send()
                    .await
                    .map_err(|e| self.fail(Operation::CreateFunctionUrlConfig, e).1)?;
                status(
                    "Created",
                    format!("function URL {} for {target}", out.function_url()),
                );
                (out.function_url().to_string(), "created")
            }
        };
        let mut added = Vec::new();
        if auth == UrlAuth::Public && outcome != "would-create" {
            let policy = match self
                .client
                .get_policy()
                .function_name(self.function)
                .set_qualifier(qualifier_owned.clone())
                .send()
                .await
            {
                Ok(out) => out.policy().map(str::to_string),
                Err(err) => match self.fail(Operation::GetPolicy, err) {
                    (ApiFailure::NotFound, _) => None,
                    (_, error) => return Err(error),
                },
            };
            for grant in missing_grants(policy.as_deref()) {
                if dry_run {
                    status(
                        "Would add",
                        format!("{} for everyone on {target}", grant.action()),
                    );
                    continue;
                }
                let request = self
                    .client
                    .add_permission()
                    .function_name(self.function)
                    .set_qualifier(qualifier_owned.clone())
                    .statement_id(grant.statement_id())
                    .action(grant.action())
                    .principal("*");
                let request = match grant {
                    Grant::InvokeFunctionUrl => {
                        request.function_url_auth_type(FunctionUrlAuthType::None)
                    }
                    Grant::InvokeFunction => request.invoked_via_function_url(true),
                };
                request
                    .send()
                    .await
                    .map_err(|e| self.fail(Operation::AddPermission, e).1)?;
                status(
                    "Allowed",
                    format!("{} for everyone on {target}", grant.action()),
                );
                added.push(grant.statement_id().to_string());
            }
            if !added.is_empty() && outcome == "unchanged" {
                outcome = "permissions-added";
            }
        }
        if outcome == "unchanged" {
            status(
                "Unchanged",
                format!("function URL {url} ({})", auth.auth_type()),
            );
        }
        Ok(UrlReport {
            url,
            auth,
            qualifier: qualifier_owned,
            outcome: outcome.to_string(),
            permissions_added: added,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grants_are_recognised_as_aws_and_moto_write_them() {
        assert_eq!(missing_grants(None), Grant::PUBLIC);
        let aws = r#"{"Statement":[
            {"Sid":"a","Effect":"Allow","Principal":"*","Action":"lambda:InvokeFunctionUrl",
             "Condition":{"StringEquals":{"lambda:FunctionUrlAuthType":"NONE"}}},
            {"Sid":"b","Effect":"Allow","Principal":{"AWS":"*"},"Action":"lambda:InvokeFunction",
             "Condition":{"Bool":{"lambda:InvokedViaFunctionUrl":"true"}}}]}"#;
        assert!(missing_grants(Some(aws)).is_empty());
        let moto = r#"{"Statement":[{"Action":"lambda:InvokeFunctionUrl","Principal":"*",
            "FunctionUrlAuthType":"NONE","Effect":"Allow"}]}"#;
        assert_eq!(missing_grants(Some(moto)), [Grant::InvokeFunction]);
        // An InvokeFunction grant to everyone without the URL condition is not the URL's.
        let open = r#"{"Statement":[{"Action":"lambda:InvokeFunction","Principal":"*","Effect":"Allow"}]}"#;
        assert_eq!(missing_grants(Some(open)), Grant::PUBLIC);
    }
}
