//! The API Gateway (v2) calls `deploy --api http` makes: one list for the code that makes them
//! (xtask-aws's `apigateway/`, where a test reads them from the source), for the README's
//! rights and for CI's policy, which allows the reads.

/// One API Gateway call of `deploy --api`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ApiCall {
    /// Finds the function's API again, by its tag.
    GetApis,
    CreateApi,
    GetIntegrations,
    CreateIntegration,
    UpdateIntegration,
    GetRoutes,
    CreateRoute,
    UpdateRoute,
    GetStages,
    CreateStage,
    UpdateStage,
}

impl ApiCall {
    pub const ALL: &'static [ApiCall] = &[
        ApiCall::GetApis,
        ApiCall::CreateApi,
        ApiCall::GetIntegrations,
        ApiCall::CreateIntegration,
        ApiCall::UpdateIntegration,
        ApiCall::GetRoutes,
        ApiCall::CreateRoute,
        ApiCall::UpdateRoute,
        ApiCall::GetStages,
        ApiCall::CreateStage,
        ApiCall::UpdateStage,
    ];

    pub fn name(self) -> &'static str {
        match self {
            ApiCall::GetApis => "GetApis",
            ApiCall::CreateApi => "CreateApi",
            ApiCall::GetIntegrations => "GetIntegrations",
            ApiCall::CreateIntegration => "CreateIntegration",
            ApiCall::UpdateIntegration => "UpdateIntegration",
            ApiCall::GetRoutes => "GetRoutes",
            ApiCall::CreateRoute => "CreateRoute",
            ApiCall::UpdateRoute => "UpdateRoute",
            ApiCall::GetStages => "GetStages",
            ApiCall::CreateStage => "CreateStage",
            ApiCall::UpdateStage => "UpdateStage",
        }
    }

    /// API Gateway's IAM actions are the HTTP methods of its resource paths.
    pub fn iam_action(self) -> &'static str {
        match self.name() {
            n if n.starts_with("Get") => "apigateway:GET",
            n if n.starts_with("Create") => "apigateway:POST",
            _ => "apigateway:PATCH",
        }
    }

    /// A read: CI's deploy role may make it (a rerun in CI only reads and verifies).
    pub fn reads(self) -> bool {
        self.iam_action() == "apigateway:GET"
    }
}

/// The API Gateway resources `deploy --api` reads and writes, in IAM's form: every HTTP API of
/// the region and what is under them (an API's id is not known before it exists).
pub fn api_resources(partition: &str, region: &str) -> [String; 2] {
    [
        format!("arn:{partition}:apigateway:{region}::/apis"),
        format!("arn:{partition}:apigateway:{region}::/apis/*"),
    ]
}

impl std::fmt::Display for ApiCall {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn actions_are_http_methods() {
        assert_eq!(ApiCall::GetApis.iam_action(), "apigateway:GET");
        assert_eq!(ApiCall::CreateStage.iam_action(), "apigateway:POST");
        assert_eq!(ApiCall::UpdateIntegration.iam_action(), "apigateway:PATCH");
        let reads: Vec<&str> = ApiCall::ALL
            .iter()
            .filter(|c| c.reads())
            .map(|c| c.name())
            .collect();
        assert_eq!(
            reads,
            ["GetApis", "GetIntegrations", "GetRoutes", "GetStages"]
        );
        assert_eq!(
            api_resources("aws", "eu-west-1")[1],
            "arn:aws:apigateway:eu-west-1::/apis/*"
        );
    }
}
