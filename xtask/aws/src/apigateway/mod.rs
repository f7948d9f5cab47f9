//! The API Gateway (v2) service: one method per API call, each answer read into `model::api`'s
//! data, each failure classified and told in the sentences every service shares. Only this
//! module touches the API Gateway client, and it calls exactly the operations of
//! [`ApiCall::ALL`] (a test below reads them). Compiled with the package feature `api`.

use anyhow::{anyhow, Result};
use aws_sdk_apigatewayv2::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_apigatewayv2::types::{IntegrationType, ProtocolType};
use aws_sdk_apigatewayv2::Client;
use xtask::deploy::ApiCall;

use crate::model::api::{
    ApiSeen, IntegrationSeen, Parts, RouteSeen, StageSeen, DEFAULT, PAYLOAD_FORMAT, TAG,
};
use crate::model::failure::{classify, explain, Call};
use crate::sdk::raw::raw_failure;
use crate::sdk::Session;

/// API Gateway in one region, for one function's API.
pub struct ApiGateway {
    client: Client,
    endpoint: Option<String>,
    /// The partition of the session's region, for the ARNs the messages name.
    partition: &'static str,
    /// The function, for the messages.
    function: String,
}

/// An API made by [`ApiGateway::create_api`].
pub struct Made {
    pub id: String,
    pub endpoint: Option<String>,
}

impl ApiGateway {
    /// A client on the session's configuration and credentials, its requests metered; sends
    /// no request.
    pub fn new(session: &Session, function: &str) -> ApiGateway {
        let config = aws_sdk_apigatewayv2::config::Builder::from(&session.sdk.config)
            .credentials_provider(session.credentials.clone())
            .interceptor(session.meter.clone())
            .build();
        ApiGateway {
            client: Client::from_conf(config),
            endpoint: session.endpoint_url().map(str::to_string),
            partition: xtask::lambda::names::partition_of_region(&session.sdk.region),
            function: function.to_string(),
        }
    }

    fn fail<E>(&self, call: ApiCall, api_id: Option<&str>, err: &SdkError<E>) -> anyhow::Error
    where
        E: ProvideErrorMetadata + std::error::Error + 'static,
    {
        let resource = match api_id {
            Some(id) => format!("HTTP API {id} of function {}", self.function),
            None => format!("the HTTP APIs (looking for function {}'s)", self.function),
        };
        let action = call.iam_action();
        let p = self.partition;
        let when_denied = format!(
            "allow `{action}` on arn:{p}:apigateway:REGION::/apis and \
             arn:{p}:apigateway:REGION::/apis/* (and `apigateway:POST` on \
             arn:{p}:apigateway:REGION::/tags/* to create it tagged) for the identity \
             deploying: the README lists the one-time rights of `--api`"
        );
        anyhow!(explain(
            &classify(&raw_failure(err)),
            &Call {
                service: "API Gateway",
                action: &format!("{action} ({call})"),
                resource: &resource,
                endpoint: self.endpoint.as_deref(),
                when_denied: &when_denied,
                when_missing: None,
            },
        ))
    }

    /// GetApis, every page.
    pub async fn apis(&self) -> Result<Vec<ApiSeen>> {
        every_page(|token| async move {
            let out = self
                .client
                .get_apis()
                .set_next_token(token)
                .send()
                .await
                .map_err(|e| self.fail(ApiCall::GetApis, None, &e))?;
            let items = out.items().iter().map(|a| ApiSeen {
                id: a.api_id().unwrap_or_default().to_string(),
                name: a.name().unwrap_or_default().to_string(),
                endpoint: a.api_endpoint().map(str::to_string),
                function_tag: a.tags().and_then(|t| t.get(TAG)).cloned(),
            });
            Ok((items.collect(), out.next_token().map(str::to_string)))
        })
        .await
    }

    /// CreateApi: an HTTP API named after the function, tagged with its ARN.
    pub async fn create_api(&self, name: &str, function_arn: &str) -> Result<Made> {
        let out = self
            .client
            .create_api()
            .name(name)
            .protocol_type(ProtocolType::Http)
            .description(format!(
                "HTTP API of the Lambda function {name} (cargo xtask deploy --api http)"
            ))
            .tags(TAG, function_arn)
            .send()
            .await
            .map_err(|e| self.fail(ApiCall::CreateApi, None, &e))?;
        Ok(Made {
            id: out.api_id().unwrap_or_default().to_string(),
            endpoint: out.api_endpoint().map(str::to_string),
        })
    }

    /// GetIntegrations, GetRoutes and GetStages of `api_id`, every page.
    pub async fn parts(&self, api_id: &str) -> Result<Parts> {
        let integrations = every_page(|token| async move {
            let out = self
                .client
                .get_integrations()
                .api_id(api_id)
                .set_next_token(token)
                .send()
                .await
                .map_err(|e| self.fail(ApiCall::GetIntegrations, Some(api_id), &e))?;
            let items = out.items().iter().map(|i| IntegrationSeen {
                id: i.integration_id().unwrap_or_default().to_string(),
                kind: i.integration_type().map(|t| t.as_str().to_string()),
                uri: i.integration_uri().map(str::to_string),
                payload_format: i.payload_format_version().map(str::to_string),
            });
            Ok((items.collect(), out.next_token().map(str::to_string)))
        });
        let routes = every_page(|token| async move {
            let out = self
                .client
                .get_routes()
                .api_id(api_id)
                .set_next_token(token)
                .send()
                .await
                .map_err(|e| self.fail(ApiCall::GetRoutes, Some(api_id), &e))?;
            let items = out.items().iter().map(|r| RouteSeen {
                id: r.route_id().unwrap_or_default().to_string(),
                key: r.route_key().unwrap_or_default().to_string(),
                target: r.target().map(str::to_string),
            });
            Ok((items.collect(), out.next_token().map(str::to_string)))
        });
        let stages = every_page(|token| async move {
            let out = self
                .client
                .get_stages()
                .api_id(api_id)
                .set_next_token(token)
                .send()
                .await
                .map_err(|e| self.fail(ApiCall::GetStages, Some(api_id), &e))?;
            let items = out.items().iter().map(|s| StageSeen {
                name: s.stage_name().unwrap_or_default().to_string(),
                auto_deploy: s.auto_deploy().unwrap_or(false),
            });
            Ok((items.collect(), out.next_token().map(str::to_string)))
        });
        Ok(Parts {
            integrations: integrations.await?,
            routes: routes.await?,
            stages: stages.await?,
        })
    }

    /// CreateIntegration: a Lambda proxy (payload 2.0) to `uri`; its id.
    pub async fn create_integration(&self, api_id: &str, uri: &str) -> Result<String> {
        let out = self
            .client
            .create_integration()
            .api_id(api_id)
            .integration_type(IntegrationType::AwsProxy)
            .integration_uri(uri)
            .payload_format_version(PAYLOAD_FORMAT)
            .send()
            .await
            .map_err(|e| self.fail(ApiCall::CreateIntegration, Some(api_id), &e))?;
        Ok(out.integration_id().unwrap_or_default().to_string())
    }

    /// UpdateIntegration: the integration made a Lambda proxy (payload 2.0) to `uri` again.
    pub async fn update_integration(&self, api_id: &str, id: &str, uri: &str) -> Result<()> {
        self.client
            .update_integration()
            .api_id(api_id)
            .integration_id(id)
            .integration_type(IntegrationType::AwsProxy)
            .integration_uri(uri)
            .payload_format_version(PAYLOAD_FORMAT)
            .send()
            .await
            .map_err(|e| self.fail(ApiCall::UpdateIntegration, Some(api_id), &e))?;
        Ok(())
    }

    /// CreateRoute: `$default` to the integration.
    pub async fn create_route(&self, api_id: &str, integration: &str) -> Result<()> {
        self.client
            .create_route()
            .api_id(api_id)
            .route_key(DEFAULT)
            .target(format!("integrations/{integration}"))
            .send()
            .await
            .map_err(|e| self.fail(ApiCall::CreateRoute, Some(api_id), &e))?;
        Ok(())
    }

    /// UpdateRoute: the route to the integration.
    pub async fn update_route(&self, api_id: &str, id: &str, integration: &str) -> Result<()> {
        self.client
            .update_route()
            .api_id(api_id)
            .route_id(id)
            .target(format!("integrations/{integration}"))
            .send()
            .await
            .map_err(|e| self.fail(ApiCall::UpdateRoute, Some(api_id), &e))?;
        Ok(())
    }

    /// CreateStage: `$default`, auto-deployed.
    pub async fn create_stage(&self, api_id: &str) -> Result<()> {
        self.client
            .create_stage()
            .api_id(api_id)
            .stage_name(DEFAULT)
            .auto_deploy(true)
            .send()
            .await
            .map_err(|e| self.fail(ApiCall::CreateStage, Some(api_id), &e))?;
        Ok(())
    }

    /// UpdateStage: `$default` auto-deployed again.
    pub async fn update_stage(&self, api_id: &str) -> Result<()> {
        self.client
            .update_stage()
            .api_id(api_id)
            .stage_name(DEFAULT)
            .auto_deploy(true)
            .send()
            .await
            .map_err(|e| self.fail(ApiCall::UpdateStage, Some(api_id), &e))?;
        Ok(())
    }
}

/// Every page of a listing: `page` is called with each page's token (none for the first)
/// until a page comes without one.
async fn every_page<T, F, Fut>(mut page: F) -> Result<Vec<T>>
where
    F: FnMut(Option<String>) -> Fut,
    Fut: std::future::Future<Output = Result<(Vec<T>, Option<String>)>>,
{
    let mut all = Vec::new();
    let mut token = None;
    loop {
        let (items, next) = page(token).await?;
        all.extend(items);
        match next.filter(|t| !t.is_empty()) {
            Some(next) => token = Some(next),
            None => return Ok(all),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use xtask::deploy::ApiCall;

    #[test]
    fn calls_exactly_the_listed_operations() {
        let listed: BTreeSet<String> = ApiCall::ALL.iter().map(|c| c.name().to_string()).collect();
        assert_eq!(
            crate::sdk::calls::operations_called(&[include_str!("mod.rs")]),
            listed,
            "the calls in apigateway/ (left) and xtask::deploy::ApiCall::ALL (right), which \
             the README's rights and CI's policy come from, differ"
        );
    }
}
