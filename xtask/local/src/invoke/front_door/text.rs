//! Text the front door reads and writes: query strings, which bodies travel as text, and
//! JSON objects whose members keep their order. Percent-decoding is `util::text`'s.

use std::fmt;

use serde::de::{Deserialize, Deserializer, MapAccess, Visitor};
use serde::ser::{Serialize, SerializeMap, Serializer};
use serde_json::Value;

use xtask::util::text::percent_decode;

/// A query string's `name=value` pairs in order, decoded as API Gateway decodes them
/// (`+` is a space, so `a+b` is "a b" and `a%2Bb` is "a+b"); a pair without `=` has the
/// value "", and empty pairs (`a=1&&b=2`) are skipped.
pub(super) fn query_pairs(query: &str) -> Vec<(String, String)> {
    query
        .split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            (percent_decode(name, true), percent_decode(value, true))
        })
        .collect()
}

/// The values of each name, under the name's first spelling, in first-seen order.
pub(super) fn group(
    pairs: impl IntoIterator<Item = (String, String)>,
    ignore_case: bool,
) -> Vec<(String, Vec<String>)> {
    let mut groups: Vec<(String, Vec<String>)> = Vec::new();
    for (name, value) in pairs {
        let same = |seen: &String| {
            if ignore_case {
                seen.eq_ignore_ascii_case(&name)
            } else {
                *seen == name
            }
        };
        match groups.iter_mut().find(|(seen, _)| same(seen)) {
            Some((_, values)) => values.push(value),
            None => groups.push((name, vec![value])),
        }
    }
    groups
}

/// The first value of header `name` (any case).
pub(super) fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

/// Whether an HTTP API or a function URL passes a body of this `Content-Type` as text:
/// when the type names text, JSON or XML (`text/*`, `application/json`,
/// `application/problem+json`, `application/xml`, …). Anything else, a form post or no
/// type at all included, arrives base64-encoded. The rule is the one LocalStack checked
/// against function URLs; AWS documents only "if the content type is binary".
pub(super) fn textual(content_type: Option<&str>) -> bool {
    let content_type = content_type.unwrap_or_default().to_ascii_lowercase();
    ["text", "json", "xml"]
        .iter()
        .any(|word| content_type.contains(word))
}

/// A JSON object whose members are written in this order.
#[derive(Debug)]
pub(super) struct Object<V>(pub Vec<(String, V)>);

impl<V: Serialize> Serialize for Object<V> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.0.len()))?;
        for (name, value) in &self.0 {
            map.serialize_entry(name, value)?;
        }
        map.end()
    }
}

/// A JSON object's members in document order. (`serde_json::Map` sorts them, unless its
/// `preserve_order` feature happens to be on in this build.)
#[derive(Debug)]
pub(super) struct Members(pub Vec<(String, Value)>);

impl<'de> Deserialize<'de> for Members {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct MembersVisitor;
        impl<'de> Visitor<'de> for MembersVisitor {
            type Value = Members;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Members, A::Error> {
                let mut members = Vec::new();
                while let Some(member) = map.next_entry()? {
                    members.push(member);
                }
                Ok(Members(members))
            }
        }
        deserializer.deserialize_map(MembersVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_strings_as_api_gateway_reads_them() {
        // The query of a request captured through a live REST API.
        let pairs = query_pairs(
            "repeat=one&repeat=two&redirect=https%3A%2F%2Fexample.com%2Fa%2Fb&literalPlus=a+b&encodedPlus=a%2Bb&empty=",
        );
        let got: Vec<(&str, &str)> = pairs
            .iter()
            .map(|(n, v)| (n.as_str(), v.as_str()))
            .collect();
        assert_eq!(
            got,
            [
                ("repeat", "one"),
                ("repeat", "two"),
                ("redirect", "https://example.com/a/b"),
                ("literalPlus", "a b"),
                ("encodedPlus", "a+b"),
                ("empty", ""),
            ]
        );
        assert_eq!(
            query_pairs("flag&&x=1"),
            [("flag".into(), "".into()), ("x".into(), "1".into())]
        );
        assert!(query_pairs("").is_empty());
    }

    #[test]
    fn grouping_keeps_first_spelling_and_order() {
        let pairs = [("X-A", "1"), ("b", "2"), ("x-a", "3")].map(|(n, v)| (n.into(), v.into()));
        assert_eq!(
            group(pairs.clone(), true),
            [
                ("X-A".into(), vec!["1".into(), "3".into()]),
                ("b".into(), vec!["2".into()])
            ]
        );
        assert_eq!(group(pairs, false).len(), 3);
    }

    #[test]
    fn text_or_binary_by_content_type() {
        for text in [
            "text/plain",
            "application/json; charset=utf-8",
            "application/xml",
            "Application/Problem+JSON",
        ] {
            assert!(textual(Some(text)), "{text}");
        }
        for binary in [
            "application/octet-stream",
            "image/png",
            "application/x-www-form-urlencoded",
            "multipart/form-data; boundary=x",
        ] {
            assert!(!textual(Some(binary)), "{binary}");
        }
        assert!(!textual(None));
    }

    #[test]
    fn objects_keep_member_order_both_ways() {
        let json = r#"{"zeta":1,"alpha":[true],"mid":null}"#;
        let members: Members = serde_json::from_str(json).unwrap();
        let names: Vec<&str> = members.0.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, ["zeta", "alpha", "mid"]);
        assert_eq!(serde_json::to_string(&Object(members.0)).unwrap(), json);
        assert!(serde_json::from_str::<Members>("[1]").is_err());
    }
}
