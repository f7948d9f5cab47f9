//! The function URL calls: GetFunctionUrlConfig, CreateFunctionUrlConfig,
//! UpdateFunctionUrlConfig (its invoke mode); and the resource policy's, GetPolicy and
//! AddPermission (a public URL's grants, an API's), one method each.

use anyhow::Result;
use aws_sdk_lambda::types::{FunctionUrlAuthType, InvokeMode as SdkInvokeMode};
use xtask::deploy::{Operation, UrlAuth};
use xtask::lambda::settings::InvokeMode;

use super::Lambda;
use crate::model::failure::ApiFailure;
use crate::model::url::Grant;

/// A function URL as GetFunctionUrlConfig reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UrlSeen {
    pub url: String,
    pub auth_type: String,
    pub invoke_mode: InvokeMode,
}

impl Lambda<'_> {
    /// GetFunctionUrlConfig: the URL, its AuthType and invoke mode; `None` when there is none.
    pub async fn url_config(&self, qualifier: Option<&str>) -> Result<Option<UrlSeen>> {
        match self
            .client
            .get_function_url_config()
            .function_name(self.function)
            .set_qualifier(qualifier.map(str::to_string))
            .send()
            .await
        {
            Ok(out) => Ok(Some(UrlSeen {
                url: out.function_url().to_string(),
                auth_type: out.auth_type().as_str().to_string(),
                // Absent: Lambda's default.
                invoke_mode: out
                    .invoke_mode()
                    .and_then(|m| InvokeMode::from_lambda(m.as_str()))
                    .unwrap_or(InvokeMode::Buffered),
            })),
            Err(err) => match self.fail(Operation::GetFunctionUrlConfig, err) {
                (ApiFailure::NotFound, _) => Ok(None),
                (_, error) => Err(error),
            },
        }
    }

    /// CreateFunctionUrlConfig (with `mode`, else Lambda's default); returns the URL.
    pub async fn create_url(
        &self,
        qualifier: Option<&str>,
        auth: UrlAuth,
        mode: Option<InvokeMode>,
    ) -> Result<String> {
        let out = self
            .client
            .create_function_url_config()
            .function_name(self.function)
            .set_qualifier(qualifier.map(str::to_string))
            .auth_type(FunctionUrlAuthType::from(auth.auth_type()))
            .set_invoke_mode(mode.map(|m| SdkInvokeMode::from(m.as_str())))
            .send()
            .await
            .map_err(|e| self.fail(Operation::CreateFunctionUrlConfig, e).1)?;
        Ok(out.function_url().to_string())
    }

    /// UpdateFunctionUrlConfig of the invoke mode alone.
    pub async fn set_invoke_mode(&self, qualifier: Option<&str>, mode: InvokeMode) -> Result<()> {
        self.client
            .update_function_url_config()
            .function_name(self.function)
            .set_qualifier(qualifier.map(str::to_string))
            .invoke_mode(SdkInvokeMode::from(mode.as_str()))
            .send()
            .await
            .map_err(|e| self.fail(Operation::UpdateFunctionUrlConfig, e).1)?;
        Ok(())
    }

    /// GetPolicy: the resource policy's document, `None` when there is none.
    pub async fn policy(&self, qualifier: Option<&str>) -> Result<Option<String>> {
        match self
            .client
            .get_policy()
            .function_name(self.function)
            .set_qualifier(qualifier.map(str::to_string))
            .send()
            .await
        {
            Ok(out) => Ok(out.policy().map(str::to_string)),
            Err(err) => match self.fail(Operation::GetPolicy, err) {
                (ApiFailure::NotFound, _) => Ok(None),
                (_, error) => Err(error),
            },
        }
    }

    /// AddPermission of one statement a public URL needs, to everyone.
    pub async fn grant(&self, qualifier: Option<&str>, grant: Grant) -> Result<()> {
        let request = self
            .client
            .add_permission()
            .function_name(self.function)
            .set_qualifier(qualifier.map(str::to_string))
            .statement_id(grant.statement_id())
            .action(grant.action())
            .principal("*");
        let request = match grant {
            Grant::InvokeFunctionUrl => request.function_url_auth_type(FunctionUrlAuthType::None),
            Grant::InvokeFunction => request.invoked_via_function_url(true),
        };
        request
            .send()
            .await
            .map_err(|e| self.fail(Operation::AddPermission, e).1)?;
        Ok(())
    }
}

impl Lambda<'_> {
    /// AddPermission: API Gateway may invoke the function (or the alias `qualifier`) when the
    /// request comes from `source_arn` (one API's route), and from nowhere else.
    pub async fn allow_api(
        &self,
        qualifier: Option<&str>,
        statement_id: &str,
        source_arn: &str,
    ) -> Result<()> {
        self.client
            .add_permission()
            .function_name(self.function)
            .set_qualifier(qualifier.map(str::to_string))
            .statement_id(statement_id)
            .action("lambda:InvokeFunction")
            .principal("apigateway.amazonaws.com")
            .source_arn(source_arn)
            .send()
            .await
            .map_err(|e| self.fail(Operation::AddPermission, e).1)?;
        Ok(())
    }
}
