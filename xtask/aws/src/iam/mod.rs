//! The IAM and STS services: one method per API call, each failure classified and told in
//! the sentences every service shares, with the fix its command gives for a denied call.

use anyhow::{anyhow, Result};
use aws_sdk_iam::error::{ProvideErrorMetadata, SdkError};
use serde_json::Value;
use xtask::lambda::names::partition_of;

use crate::model::failure::{classify, explain, Call};
use crate::model::iam::{Caller, ProviderSeen, RoleSeen};
use crate::sdk::raw::raw_failure;
use crate::sdk::Session;

pub struct Iam {
    iam: aws_sdk_iam::Client,
    sts: aws_sdk_sts::Client,
    /// The endpoint URL set by the flag, the environment or a profile, if any.
    endpoint: Option<String>,
    /// What to do when a call is denied: each command that calls IAM says its own.
    when_denied: String,
}

/// IAM's answer when what was asked for does not exist.
fn no_such_entity<E>(err: &SdkError<E>) -> bool
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    raw_failure(err).code.as_deref() == Some("NoSuchEntity")
}

impl Iam {
    /// Clients on the session's configuration and credentials, their requests metered; a
    /// denied call is told with `when_denied`. Sends no request.
    pub fn new(session: &Session, when_denied: String) -> Iam {
        let iam = aws_sdk_iam::config::Builder::from(&session.sdk.config)
            .credentials_provider(session.credentials.clone())
            .interceptor(session.meter.clone())
            .build();
        let sts = aws_sdk_sts::config::Builder::from(&session.sdk.config)
            .credentials_provider(session.credentials.clone())
            .interceptor(session.meter.clone())
            .build();
        Iam {
            iam: aws_sdk_iam::Client::from_conf(iam),
            sts: aws_sdk_sts::Client::from_conf(sts),
            endpoint: session.endpoint_url().map(str::to_string),
            when_denied,
        }
    }

    fn fail<E>(&self, action: &str, resource: &str, err: &SdkError<E>) -> anyhow::Error
    where
        E: ProvideErrorMetadata + std::error::Error + 'static,
    {
        let service = if action.starts_with("sts:") {
            "STS"
        } else {
            "IAM"
        };
        anyhow!(explain(
            &classify(&raw_failure(err)),
            &Call {
                service,
                action,
                resource,
                endpoint: self.endpoint.as_deref(),
                when_denied: &self.when_denied,
                when_missing: None,
            }
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
        let partition = partition_of(&arn)
            .ok_or_else(|| {
                anyhow!(
                    "STS answered GetCallerIdentity with {arn:?}, not an ARN in a partition this \
                     tool knows ({})",
                    xtask::lambda::names::PARTITIONS.join(", ")
                )
            })?
            .to_string();
        Ok(Caller {
            arn,
            account,
            partition,
        })
    }

    /// ListOpenIDConnectProviders: their ARNs.
    pub async fn providers(&self) -> Result<Vec<String>> {
        let out = self
            .iam
            .list_open_id_connect_providers()
            .send()
            .await
            .map_err(|e| self.fail("iam:ListOpenIDConnectProviders", "the account", &e))?;
        Ok(out
            .open_id_connect_provider_list()
            .iter()
            .filter_map(|p| p.arn().map(str::to_string))
            .collect())
    }

    /// GetOpenIDConnectProvider: its audiences.
    pub async fn provider(&self, arn: &str) -> Result<ProviderSeen> {
        let out = self
            .iam
            .get_open_id_connect_provider()
            .open_id_connect_provider_arn(arn)
            .send()
            .await
            .map_err(|e| self.fail("iam:GetOpenIDConnectProvider", arn, &e))?;
        Ok(ProviderSeen {
            arn: arn.to_string(),
            client_ids: out.client_id_list().to_vec(),
        })
    }

    /// GetRole; `None` when there is no role of that name.
    pub async fn role(&self, name: &str) -> Result<Option<RoleSeen>> {
        match self.iam.get_role().role_name(name).send().await {
            Ok(out) => Ok(out.role().map(|r| RoleSeen {
                arn: r.arn().to_string(),
                trust_policy: r
                    .assume_role_policy_document()
                    .unwrap_or_default()
                    .to_string(),
            })),
            Err(err) if no_such_entity(&err) => Ok(None),
            Err(err) => Err(self.fail("iam:GetRole", &format!("role {name}"), &err)),
        }
    }

    /// GetRolePolicy: an inline policy's document, `None` when the role has none by that name.
    pub async fn role_policy(&self, role: &str, policy: &str) -> Result<Option<String>> {
        let request = self
            .iam
            .get_role_policy()
            .role_name(role)
            .policy_name(policy);
        match request.send().await {
            Ok(out) => Ok(Some(out.policy_document().to_string())),
            Err(err) if no_such_entity(&err) => Ok(None),
            Err(err) => Err(self.fail("iam:GetRolePolicy", &format!("role {role}"), &err)),
        }
    }

    /// CreateOpenIDConnectProvider for `url`'s tokens, with the one audience CI asks for.
    pub async fn create_provider(&self, url: &str, audience: &str) -> Result<String> {
        // No ThumbprintList: the API and the SDK no longer require one (IAM then fetches the
        // issuer's top intermediate CA itself), and for GitHub's issuer AWS ignores
        // thumbprints, trusting its own library of root CAs instead. moto accepts none too.
        let out = self
            .iam
            .create_open_id_connect_provider()
            .url(url)
            .client_id_list(audience)
            .send()
            .await
            .map_err(|e| self.fail("iam:CreateOpenIDConnectProvider", "the account", &e))?;
        Ok(out
            .open_id_connect_provider_arn()
            .unwrap_or_default()
            .to_string())
    }

    /// AddClientIDToOpenIDConnectProvider: `audience`, beside the provider's others.
    pub async fn add_audience(&self, arn: &str, audience: &str) -> Result<()> {
        self.iam
            .add_client_id_to_open_id_connect_provider()
            .open_id_connect_provider_arn(arn)
            .client_id(audience)
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

    /// ListAttachedRolePolicies: the ARNs of the managed policies attached to the role.
    pub async fn attached_policies(&self, role: &str) -> Result<Vec<String>> {
        let out = self
            .iam
            .list_attached_role_policies()
            .role_name(role)
            .send()
            .await
            .map_err(|e| self.fail("iam:ListAttachedRolePolicies", &format!("role {role}"), &e))?;
        Ok(out
            .attached_policies()
            .iter()
            .filter_map(|p| p.policy_arn().map(str::to_string))
            .collect())
    }

    /// AttachRolePolicy: a managed policy attached to the role.
    pub async fn attach_policy(&self, role: &str, policy_arn: &str) -> Result<()> {
        self.iam
            .attach_role_policy()
            .role_name(role)
            .policy_arn(policy_arn)
            .send()
            .await
            .map_err(|e| self.fail("iam:AttachRolePolicy", &format!("role {role}"), &e))?;
        Ok(())
    }
}
