//! setup-ci's calls: STS for who the credentials are, IAM for the provider, the role and its
//! policy, one method each. A failure becomes [`plan::explain`]'s sentence, naming the IAM
//! action; "no such entity" on a read is an answer (`None`), not a failure.

use anyhow::{anyhow, Result};
use aws_sdk_iam::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_lambda::config::SharedCredentialsProvider;
use serde_json::Value;
use xtask::iam_policy::AUDIENCE;

use super::plan::{self, Observed, ProviderSeen, RoleSeen};
use crate::deploy::aws::{raw_failure, Meter, Sdk};
use crate::deploy::errors::classify;

/// Who the credentials are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    pub arn: String,
    pub account: String,
    pub partition: String,
}

pub struct Iam {
    iam: aws_sdk_iam::Client,
    sts: aws_sdk_sts::Client,
    /// For messages: where IAM's and STS's requests go.
    iam_endpoint: String,
    sts_endpoint: String,
}

/// IAM's answer when what was asked for does not exist.
fn no_such_entity<E>(err: &SdkError<E>) -> bool
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    raw_failure(err).code.as_deref() == Some("NoSuchEntity")
}

impl Iam {
    pub fn new(sdk: &Sdk, credentials: &SharedCredentialsProvider, meter: &Meter) -> Iam {
        let sts = aws_sdk_sts::config::Builder::from(&sdk.config)
            .credentials_provider(credentials.clone())
            .interceptor(meter.clone())
            .build();
        let (iam_endpoint, sts_endpoint) = match sdk.config.endpoint_url() {
            Some(url) => (url.to_string(), url.to_string()),
            None => (
                "IAM's endpoint".to_string(),
                format!("STS's endpoint in {}", sdk.region),
            ),
        };
        Iam {
            iam: sdk.iam(credentials, meter),
            sts: aws_sdk_sts::Client::from_conf(sts),
            iam_endpoint,
            sts_endpoint,
        }
    }

    fn fail<E>(&self, action: &str, resource: &str, err: &SdkError<E>) -> anyhow::Error
    where
        E: ProvideErrorMetadata + std::error::Error + 'static,
    {
        let endpoint = if action.starts_with("sts:") {
            &self.sts_endpoint
        } else {
            &self.iam_endpoint
        };
        anyhow!(plan::explain(
            &classify(&raw_failure(err)),
            action,
            resource,
            endpoint
        ))
    }

    /// GetCallerIdentity: the account and partition everything is made in.
    pub async fn caller(&self) -> Result<Caller> {
        let out = self
            .sts
            .get_caller_identity()
            .send()
            .await
            .map_err(|e| self.fail("sts:GetCallerIdentity", "the credentials", &e))?;
        let arn = out.arn().unwrap_or_default().to_string();
        let account = out.account().unwrap_or_default().to_string();
        let partition = plan::partition_of_arn(&arn)
            .ok_or_else(|| anyhow!("STS answered GetCallerIdentity with no ARN ({arn:?})"))?
            .to_string();
        Ok(Caller {
            arn,
            account,
            partition,
        })
    }

    /// Everything the plan needs, read: the provider, the role, its inline policy.
    pub async fn read(&self, role: &str, policy: &str) -> Result<Observed> {
        let providers = self
            .iam
            .list_open_id_connect_providers()
            .send()
            .await
            .map_err(|e| self.fail("iam:ListOpenIDConnectProviders", "the account", &e))?;
        let arns = providers
            .open_id_connect_provider_list()
            .iter()
            .filter_map(|p| p.arn());
        let provider = match plan::github_provider(arns) {
            Some(arn) => {
                let out = self
                    .iam
                    .get_open_id_connect_provider()
                    .open_id_connect_provider_arn(arn)
                    .send()
                    .await
                    .map_err(|e| self.fail("iam:GetOpenIDConnectProvider", arn, &e))?;
                Some(ProviderSeen {
                    arn: arn.to_string(),
                    client_ids: out.client_id_list().to_vec(),
                })
            }
            None => None,
        };
        let role_seen = match self.iam.get_role().role_name(role).send().await {
            Ok(out) => out.role().map(|r| RoleSeen {
                arn: r.arn().to_string(),
                trust_policy: r
                    .assume_role_policy_document()
                    .unwrap_or_default()
                    .to_string(),
            }),
            Err(err) if no_such_entity(&err) => None,
            Err(err) => return Err(self.fail("iam:GetRole", &format!("role {role}"), &err)),
        };
        let policy_seen = match &role_seen {
            None => None,
            Some(_) => {
                let request = self
                    .iam
                    .get_role_policy()
                    .role_name(role)
                    .policy_name(policy);
                match request.send().await {
                    Ok(out) => Some(out.policy_document().to_string()),
                    Err(err) if no_such_entity(&err) => None,
                    Err(err) => {
                        return Err(self.fail("iam:GetRolePolicy", &format!("role {role}"), &err))
                    }
                }
            }
        };
        Ok(Observed {
            provider,
            role: role_seen,
            policy: policy_seen,
        })
    }

    /// CreateOpenIDConnectProvider for GitHub's tokens, with the one audience CI asks for.
    pub async fn create_provider(&self) -> Result<String> {
        // No ThumbprintList: the API and the SDK no longer require one (IAM then fetches the
        // issuer's top intermediate CA itself), and for GitHub's issuer AWS ignores
        // thumbprints, trusting its own library of root CAs instead. moto accepts none too.
        let out = self
            .iam
            .create_open_id_connect_provider()
            .url(plan::provider_url())
            .client_id_list(AUDIENCE)
            .send()
            .await
            .map_err(|e| self.fail("iam:CreateOpenIDConnectProvider", "the account", &e))?;
        Ok(out
            .open_id_connect_provider_arn()
            .unwrap_or_default()
            .to_string())
    }

    /// AddClientIDToOpenIDConnectProvider: the `sts.amazonaws.com` audience, beside the
    /// provider's others.
    pub async fn add_audience(&self, arn: &str) -> Result<()> {
        self.iam
            .add_client_id_to_open_id_connect_provider()
            .open_id_connect_provider_arn(arn)
            .client_id(AUDIENCE)
            .send()
            .await
            .map_err(|e| self.fail("iam:AddClientIDToOpenIDConnectProvider", arn, &e))?;
        Ok(())
    }

    /// CreateRole with the trust policy; returns its ARN.
    pub async fn create_role(
        &self,
        name: &str,
        trust: &Value,
        description: &str,
    ) -> Result<String> {
        let out = self
            .iam
            .create_role()
            .role_name(name)
            .assume_role_policy_document(trust.to_string())
            .description(description)
            .send()
            .await
            .map_err(|e| self.fail("iam:CreateRole", &format!("role {name}"), &e))?;
        Ok(out.role().map(|r| r.arn().to_string()).unwrap_or_default())
    }

    /// UpdateAssumeRolePolicy: the role's trust policy replaced.
    pub async fn update_trust(&self, name: &str, trust: &Value) -> Result<()> {
        self.iam
            .update_assume_role_policy()
            .role_name(name)
            .policy_document(trust.to_string())
            .send()
            .await
            .map_err(|e| self.fail("iam:UpdateAssumeRolePolicy", &format!("role {name}"), &e))?;
        Ok(())
    }

    /// PutRolePolicy: the inline permissions policy, created or replaced.
    pub async fn put_policy(&self, role: &str, name: &str, document: &Value) -> Result<()> {
        self.iam
            .put_role_policy()
            .role_name(role)
            .policy_name(name)
            .policy_document(document.to_string())
            .send()
            .await
            .map_err(|e| self.fail("iam:PutRolePolicy", &format!("role {role}"), &e))?;
        Ok(())
    }
}
