//! The echo handler: every event comes back as an API Gateway proxy response
//! whose body is the event itself, pretty-printed with 4-space indentation.

use std::collections::BTreeMap;

use lambda_runtime::{Error, LambdaEvent};
use serde::Serialize;
use serde_json::Value;

/// An API Gateway (REST/HTTP API v1) proxy integration response.
#[derive(Debug, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct ProxyResponse {
    pub status_code: u16,
    pub headers: BTreeMap<String, String>,
    pub body: String,
    pub is_base64_encoded: bool,
}

/// Pretty-prints `event` with 4-space indentation, keys in arrival order.
pub fn pretty(event: &Value) -> String {
    let mut out = Vec::with_capacity(128);
    let formatter = serde_json::ser::PrettyFormatter::with_indent(b"    ");
    let mut ser = serde_json::Serializer::with_formatter(&mut out, formatter);
    event
        .serialize(&mut ser)
        .expect("serialising a serde_json::Value into memory cannot fail");
    String::from_utf8(out).expect("serde_json writes UTF-8")
}

/// Builds the response for one event.
pub fn echo(event: &Value) -> ProxyResponse {
    ProxyResponse {
        status_code: 200,
        headers: BTreeMap::new(),
        body: pretty(event),
        is_base64_encoded: false,
    }
}

/// The Lambda entry point.
pub async fn handler(event: LambdaEvent<Value>) -> Result<ProxyResponse, Error> {
    lambda_runtime::tracing::info!(request_id = %event.context.request_id, "echoing event");
    Ok(echo(&event.payload))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn parse(text: &str) -> Value {
        serde_json::from_str(text).unwrap()
    }

    fn response_json(event: &Value) -> String {
        serde_json::to_string(&echo(event)).unwrap()
    }

    #[test]
    fn response_shape_is_api_gateway_proxy() {
        let got: serde_json::Value =
            serde_json::from_str(&response_json(&json!({"a": 1}))).unwrap();
        assert_eq!(got["statusCode"], json!(200));
        assert_eq!(got["headers"], json!({}));
        assert_eq!(got["isBase64Encoded"], json!(false));
        assert_eq!(got["body"], json!("{\n    \"a\": 1\n}"));
        let keys: Vec<_> = got.as_object().unwrap().keys().cloned().collect();
        assert_eq!(keys, ["statusCode", "headers", "body", "isBase64Encoded"]);
    }

    #[test]
    fn object() {
        assert_eq!(
            pretty(&parse(r#"{"name":"lambda","ok":true}"#)),
            "{\n    \"name\": \"lambda\",\n    \"ok\": true\n}"
        );
    }

    #[test]
    fn array() {
        assert_eq!(pretty(&parse("[1,2,3]")), "[\n    1,\n    2,\n    3\n]");
        assert_eq!(pretty(&parse("[]")), "[]");
        assert_eq!(pretty(&parse("{}")), "{}");
    }

    #[test]
    fn string_number_null() {
        assert_eq!(pretty(&parse(r#""hello""#)), "\"hello\"");
        assert_eq!(pretty(&parse("42")), "42");
        assert_eq!(pretty(&parse("-0.5")), "-0.5");
        assert_eq!(pretty(&parse("null")), "null");
        assert_eq!(pretty(&parse("true")), "true");
    }

    #[test]
    fn numbers_are_kept_as_written() {
        // Digits are kept; serde_json spells the exponent with an explicit sign.
        assert_eq!(pretty(&parse("1.0e3")), "1.0e+3");
        assert_eq!(pretty(&parse("1.0")), "1.0");
        assert_eq!(pretty(&parse("-2.50E-7")), "-2.50e-7");
        assert_eq!(
            pretty(&parse("123456789012345678901234567890")),
            "123456789012345678901234567890"
        );
        assert_eq!(pretty(&parse("0.1")), "0.1");
    }

    #[test]
    fn nested() {
        assert_eq!(
            pretty(&parse(r#"{"a":{"b":[{"c":null}]}}"#)),
            "{\n    \"a\": {\n        \"b\": [\n            {\n                \"c\": null\n            }\n        ]\n    }\n}"
        );
    }

    #[test]
    fn unicode_is_kept_not_escaped() {
        assert_eq!(
            pretty(&parse(
                r#"{"greeting":"héllo \u00e9 世界 🦀","esc":"a\"b\\c\n"}"#
            )),
            "{\n    \"greeting\": \"héllo é 世界 🦀\",\n    \"esc\": \"a\\\"b\\\\c\\n\"\n}"
        );
    }

    #[test]
    fn key_order_is_arrival_order() {
        let body = pretty(&parse(r#"{"zeta":1,"alpha":2,"mid":3}"#));
        assert_eq!(
            body,
            "{\n    \"zeta\": 1,\n    \"alpha\": 2,\n    \"mid\": 3\n}"
        );
    }

    #[test]
    fn body_round_trips_to_the_event() {
        let event = parse(r#"{"k":[1,{"x":"y"}],"n":null}"#);
        let body = echo(&event).body;
        assert_eq!(parse(&body), event);
    }
}
