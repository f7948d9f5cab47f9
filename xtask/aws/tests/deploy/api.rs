//! `deploy --api http` against moto's API Gateway v2 (its HTTP API quick create is not
//! implemented: deploy makes the integration, route and stage explicitly, which AWS accepts
//! too), read back with the SDK; faults through the proxy.

use super::*;
use xtask_aws::dev::moto_clients::apigateway_client;

const ARN: &str = "arn:aws:lambda:us-east-1:123456789012:function:echo";

impl Aws {
    fn apigateway(&self) -> aws_sdk_apigatewayv2::Client {
        apigateway_client(&self.moto.endpoint(), "us-east-1")
    }

    /// The function's resource policy (of the alias `qualifier`), as JSON.
    fn policy(&self, qualifier: Option<&str>) -> Value {
        let out = moto::block_on(
            self.lambda()
                .get_policy()
                .function_name("echo")
                .set_qualifier(qualifier.map(str::to_string))
                .send(),
        )
        .expect("GetPolicy on moto");
        serde_json::from_str(out.policy().unwrap()).unwrap()
    }

    /// The API Gateway writes and resource-policy grants the proxy saw.
    fn api_writes(&self) -> Vec<&'static str> {
        self.proxy
            .operations()
            .into_iter()
            .filter(|op| {
                *op == "AddPermission"
                    || xtask::deploy::ApiCall::ALL
                        .iter()
                        .any(|c| c.name() == *op && !c.reads())
            })
            .collect()
    }
}

#[test]
fn an_http_api_is_made_from_an_empty_account_then_found_again() {
    let aws = Aws::start();
    let role = aws.role.clone();
    let made = aws
        .deploy_built(&[
            "--create", "--role", &role, "--alias", "live", "--api", "http", "--json",
        ])
        .success();
    let api = &made["api"];
    assert_eq!(api["outcome"], "created", "{made}");
    assert_eq!(api["target"], format!("{ARN}:live"));
    let id = api["api_id"].as_str().unwrap().to_string();

    // Read back: the API, tagged; its one integration, route and stage.
    let gateway = aws.apigateway();
    let (apis, integrations, routes, stages) = moto::block_on(async {
        (
            gateway.get_apis().send().await.unwrap(),
            gateway.get_integrations().api_id(&id).send().await.unwrap(),
            gateway.get_routes().api_id(&id).send().await.unwrap(),
            gateway.get_stages().api_id(&id).send().await.unwrap(),
        )
    });
    let [found] = apis.items() else {
        panic!("one API: {apis:?}")
    };
    assert_eq!(found.name(), Some("echo"));
    assert_eq!(found.protocol_type().map(|p| p.as_str()), Some("HTTP"));
    assert_eq!(
        found
            .tags()
            .unwrap()
            .get("xtask:lambda-function")
            .map(String::as_str),
        Some(ARN)
    );
    // The URL printed is the one API Gateway answered with.
    assert_eq!(api["url"], format!("{}/", found.api_endpoint().unwrap()));
    let [integration] = integrations.items() else {
        panic!("one integration: {integrations:?}")
    };
    assert_eq!(
        integration.integration_type().map(|t| t.as_str()),
        Some("AWS_PROXY")
    );
    assert_eq!(
        integration.integration_uri(),
        Some(format!("{ARN}:live").as_str())
    );
    assert_eq!(integration.payload_format_version(), Some("2.0"));
    let [route] = routes.items() else {
        panic!("one route: {routes:?}")
    };
    assert_eq!(route.route_key(), Some("$default"));
    assert_eq!(
        route.target(),
        Some(format!("integrations/{}", integration.integration_id().unwrap()).as_str())
    );
    let [stage] = stages.items() else {
        panic!("one stage: {stages:?}")
    };
    assert_eq!(
        (stage.stage_name(), stage.auto_deploy()),
        (Some("$default"), Some(true))
    );

    // The alias, and only from this API's $default route, may be invoked by API Gateway.
    let policy = aws.policy(Some("live"));
    let statement = &policy["Statement"][0];
    assert_eq!(
        statement["Principal"]["Service"],
        "apigateway.amazonaws.com"
    );
    assert_eq!(statement["Action"], "lambda:InvokeFunction");
    assert_eq!(
        statement["Condition"]["ArnLike"]["AWS:SourceArn"],
        format!("arn:aws:execute-api:us-east-1:123456789012:{id}/*/$default")
    );

    // A rerun reads, and changes nothing.
    aws.proxy.clear();
    let again = aws
        .deploy_built(&["--alias", "live", "--api", "http", "--json"])
        .success();
    assert_eq!(again["api"]["outcome"], "unchanged", "{again}");
    assert_eq!(again["api"]["url"], api["url"]);
    assert_eq!(aws.api_writes(), Vec::<&str>::new());

    // A deploy without --alias does not move public traffic to $LATEST: the API keeps the
    // alias it targets.
    let kept = aws.deploy_built(&["--api", "http", "--json"]).success();
    let report = &kept["api"];
    assert_eq!(report["outcome"], "unchanged", "{kept}");
    assert_eq!(report["target"], format!("{ARN}:live"));
    assert_eq!(
        moto::block_on(gateway.get_apis().send())
            .unwrap()
            .items()
            .len(),
        1
    );

    // The integration pointed elsewhere by hand is drift: said, and corrected in place.
    let integration_id = integration.integration_id().unwrap().to_string();
    moto::block_on(
        gateway
            .update_integration()
            .api_id(&id)
            .integration_id(&integration_id)
            .integration_uri(format!("{ARN}2"))
            .send(),
    )
    .unwrap();
    let fixed = aws
        .deploy_built(&["--alias", "live", "--api", "http", "--json"])
        .success();
    let report = &fixed["api"];
    assert_eq!(report["outcome"], "corrected", "{fixed}");
    assert_eq!(report["api_id"], id.as_str());
    assert!(
        report["changes"][0]
            .as_str()
            .unwrap()
            .contains(&format!("target {ARN}2, not AWS_PROXY to {ARN}:live")),
        "{report}"
    );
    assert_eq!(
        moto::block_on(gateway.get_apis().send())
            .unwrap()
            .items()
            .len(),
        1
    );
}

#[test]
fn drift_by_hand_is_corrected_and_others_apis_are_left_alone() {
    let aws = Aws::with_echo();
    let gateway = aws.apigateway();
    // Someone else's API of the same name, untagged: never adopted.
    let theirs = moto::block_on(
        gateway
            .create_api()
            .name("echo")
            .protocol_type(aws_sdk_apigatewayv2::types::ProtocolType::Http)
            .send(),
    )
    .unwrap();
    let made = aws.deploy_built(&["--api", "http", "--json"]).success();
    let id = made["api"]["api_id"].as_str().unwrap().to_string();
    assert_ne!(Some(id.as_str()), theirs.api_id());

    // The route and the stage deleted by hand (moto has no UpdateStage: a stage that is not
    // auto-deployed is the plan's unit tests').
    moto::block_on(async {
        let routes = gateway.get_routes().api_id(&id).send().await.unwrap();
        let route = routes.items()[0].route_id().unwrap();
        gateway
            .delete_route()
            .api_id(&id)
            .route_id(route)
            .send()
            .await
            .unwrap();
        gateway
            .delete_stage()
            .api_id(&id)
            .stage_name("$default")
            .send()
            .await
            .unwrap();
    });
    // --dry-run says what it would do, and does nothing.
    aws.proxy.clear();
    let dry = aws
        .deploy_built(&["--api", "http", "--dry-run", "--json"])
        .success();
    assert_eq!(dry["api"]["outcome"], "would-correct", "{dry}");
    assert_eq!(aws.api_writes(), Vec::<&str>::new());
    let fixed = aws.deploy_built(&["--api", "http"]);
    assert!(fixed.ok, "{}", fixed.stderr);
    assert!(
        fixed.stdout.contains(&format!(
            "HTTP API {id} to {ARN}, corrected: the $default route; the $default stage (auto-deployed))"
        )),
        "{}",
        fixed.stdout
    );
    let routes = moto::block_on(gateway.get_routes().api_id(&id).send()).unwrap();
    assert_eq!(routes.items().len(), 1);
    let stage = moto::block_on(gateway.get_stages().api_id(&id).send()).unwrap();
    assert_eq!(stage.items()[0].auto_deploy(), Some(true));
    // The other API is as it was, and two tagged APIs are refused, not guessed between.
    moto::block_on(
        gateway
            .tag_resource()
            .resource_arn(format!(
                "arn:aws:apigateway:us-east-1::/apis/{}",
                theirs.api_id().unwrap()
            ))
            .tags("xtask:lambda-function", ARN)
            .send(),
    )
    .unwrap();
    let err = aws.deploy_built(&["--api", "http"]).failure();
    assert!(
        err.contains("2 HTTP APIs are tagged xtask:lambda-function="),
        "{err}"
    );
}

#[test]
fn access_denied_and_throttling_through_the_proxy() {
    let aws = Aws::with_echo();
    aws.proxy.fail(
        "GetApis",
        2,
        Fault::Error(429, "TooManyRequestsException", "Too Many Requests"),
    );
    aws.proxy.fail(
        "CreateApi",
        1,
        Fault::Error(403, "AccessDeniedException", "User is not authorized"),
    );
    let err = aws.deploy_built(&["--api", "http"]).failure();
    assert!(
        err.contains("may not call apigateway:POST (CreateApi)")
            && err.contains("arn:aws:apigateway:REGION::/apis"),
        "{err}"
    );
    assert_eq!(
        aws.proxy.count("GetApis"),
        3,
        "two throttled, then answered"
    );
    // Nothing half-made: the next run makes it all.
    let made = aws.deploy_built(&["--api", "http", "--json"]).success();
    assert_eq!(made["api"]["outcome"], "created");

    // An unknown kind, and REST, are refused before any request.
    aws.proxy.clear();
    for (kind, says) in [
        ("rest", "deploy makes HTTP APIs only"),
        ("grpc", "not an API kind"),
    ] {
        let err = aws.deploy_built(&["--api", kind]).failure();
        assert!(err.contains(says), "{err}");
    }
    assert_eq!(aws.proxy.operations(), Vec::<&str>::new());
}
