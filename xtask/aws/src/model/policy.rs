//! IAM policy documents as IAM returns them (URL-encoded JSON) or as plain JSON.

use serde_json::Value;
use xtask::util::text::percent_decode;

/// A policy field that holds one value or a list of them, as a list.
pub fn one_or_many(v: &Value) -> Vec<&Value> {
    match v {
        Value::Array(items) => items.iter().collect(),
        Value::Null => vec![],
        other => vec![other],
    }
}

/// A policy document as IAM returns it (URL-encoded JSON), or as plain JSON.
pub fn parse_policy(document: &str) -> Option<Value> {
    serde_json::from_str(document)
        .ok()
        .or_else(|| serde_json::from_str(&percent_decode(document, true)).ok())
}
