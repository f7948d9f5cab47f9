//! What real IAM does and moto does not, played by the proxy:
//!
//! - AddClientIDToOpenIDConnectProvider: moto does not implement it (it answers 500). The
//!   proxy does it with the operations moto has: it reads the provider
//!   (GetOpenIDConnectProvider), deletes it, and creates it again with the client ID added,
//!   keeping its URL, its other client IDs and its thumbprints (not its tags or creation
//!   date, which no test reads); then it answers as IAM does: 200 with an empty
//!   `AddClientIDToOpenIDConnectProviderResponse`. Adding a client ID the provider already has
//!   changes nothing, as in IAM. A provider moto does not have is moto's NoSuchEntity answer.
//!
//! The requests to moto reuse the SDK's headers (moto picks the service from the
//! `Authorization` header's credential scope and checks no signature).

use std::net::SocketAddr;

use http_body_util::Full;
use hyper::body::Bytes;
use hyper::header::HeaderMap;
use hyper::{Request, Response};

const NAMESPACE: &str = "https://iam.amazonaws.com/doc/2010-05-08/";

/// `a=b%3Ac&d=e+f` -> [("a", "b:c"), ("d", "e f")].
pub fn form(body: &[u8]) -> Vec<(String, String)> {
    // Form bodies are encoded as IAM encodes policy documents.
    let decode = |s: &str| xtask::util::text::percent_decode(s, true);
    String::from_utf8_lossy(body)
        .split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            (decode(k), decode(v))
        })
        .collect()
}

fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

fn param(params: &[(String, String)], name: &str) -> String {
    params
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.clone())
        .unwrap_or_default()
}

/// The text of `<name>…</name>` (no entities in what the tests read: URLs, ids, thumbprints).
fn element<'a>(xml: &'a str, name: &str) -> Option<&'a str> {
    let start = xml.find(&format!("<{name}>"))? + name.len() + 2;
    let end = start + xml[start..].find(&format!("</{name}>"))?;
    Some(&xml[start..end])
}

/// The `<member>`s of the list `<name>`.
pub fn members(xml: &str, name: &str) -> Vec<String> {
    let Some(list) = element(xml, name) else {
        return Vec::new();
    };
    list.split("<member>")
        .filter_map(|m| m.split_once("</member>").map(|(v, _)| v.to_string()))
        .collect()
}

/// One IAM query-protocol request to moto.
async fn call(
    upstream: SocketAddr,
    headers: &HeaderMap,
    params: &[(&str, String)],
) -> (u16, Bytes) {
    let mut body = String::from("Version=2010-05-08");
    for (k, v) in params {
        body += &format!("&{k}={}", encode(v));
    }
    let mut request = Request::builder().method("POST").uri("/");
    *request.headers_mut().unwrap() = headers.clone();
    let request = request.body(Full::new(Bytes::from(body))).unwrap();
    match xtask_local::dev::http_client::send(upstream, request).await {
        Ok(answer) => (answer.status().as_u16(), answer.into_body()),
        Err(err) => (502, Bytes::from(format!("{err:#}"))),
    }
}

fn answer(status: u16, body: Bytes) -> Response<Full<Bytes>> {
    Response::builder()
        .status(status)
        .header("Content-Type", "text/xml")
        .body(Full::new(body))
        .unwrap()
}

/// AddClientIDToOpenIDConnectProvider, done as the module's documentation says.
pub async fn add_client_id(
    upstream: SocketAddr,
    headers: &HeaderMap,
    body: &[u8],
) -> Response<Full<Bytes>> {
    let params = form(body);
    let arn = param(&params, "OpenIDConnectProviderArn");
    let client_id = param(&params, "ClientID");
    let arn_param = || ("OpenIDConnectProviderArn", arn.clone());
    let (status, provider) = call(
        upstream,
        headers,
        &[("Action", "GetOpenIDConnectProvider".into()), arn_param()],
    )
    .await;
    if status != 200 {
        return answer(status, provider);
    }
    let provider = String::from_utf8_lossy(&provider).into_owned();
    let mut client_ids = members(&provider, "ClientIDList");
    if !client_ids.contains(&client_id) {
        client_ids.push(client_id);
        let url = element(&provider, "Url").unwrap_or_default();
        let mut create = vec![
            ("Action", "CreateOpenIDConnectProvider".to_string()),
            ("Url", format!("https://{url}")),
        ];
        let ids = client_ids.iter().enumerate();
        let ids: Vec<(String, String)> = ids
            .map(|(i, id)| (format!("ClientIDList.member.{}", i + 1), id.clone()))
            .collect();
        let thumbprints: Vec<(String, String)> = members(&provider, "ThumbprintList")
            .into_iter()
            .enumerate()
            .map(|(i, t)| (format!("ThumbprintList.member.{}", i + 1), t))
            .collect();
        for (k, v) in ids.iter().chain(&thumbprints) {
            create.push((k.as_str(), v.clone()));
        }
        let delete = [
            ("Action", "DeleteOpenIDConnectProvider".into()),
            arn_param(),
        ];
        for request in [&delete[..], &create[..]] {
            let (status, body) = call(upstream, headers, request).await;
            if status != 200 {
                return answer(status, body);
            }
        }
    }
    answer(
        200,
        Bytes::from(format!(
            "<AddClientIDToOpenIDConnectProviderResponse xmlns=\"{NAMESPACE}\">\
             <ResponseMetadata><RequestId>00000000-0000-0000-0000-000000000000</RequestId>\
             </ResponseMetadata></AddClientIDToOpenIDConnectProviderResponse>"
        )),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_forms_and_lists() {
        assert_eq!(
            form(b"Action=X&Arn=arn%3Aaws%3Aiam%3A%3A1%3Aoidc-provider%2Fh&Y=a+b"),
            [
                ("Action".to_string(), "X".to_string()),
                ("Arn".into(), "arn:aws:iam::1:oidc-provider/h".into()),
                ("Y".into(), "a b".into()),
            ]
        );
        let xml = "<R><Url>h</Url><ClientIDList><member>a</member><member>b</member>\
                   </ClientIDList><ThumbprintList/></R>";
        assert_eq!(members(xml, "ClientIDList"), ["a", "b"]);
        assert!(members(xml, "ThumbprintList").is_empty());
        assert_eq!(element(xml, "Url"), Some("h"));
        assert_eq!(encode("arn:aws/x y"), "arn%3Aaws%2Fx%20y");
    }
}
