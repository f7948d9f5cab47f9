//! What real Lambda does and moto does not, played by the proxy on every request:
//!
//! - aliases carry a RevisionId that changes on every UpdateAlias, and an UpdateAlias with a
//!   stale one is refused (412 PreconditionFailedException); CreateAlias of an alias that exists
//!   is ResourceConflictException (moto says ConflictException);
//! - after UpdateFunctionCode the function stays `LastUpdateStatus: InProgress` for a while
//!   (here: for a number of GetFunction reads, [`Lambda::update_reads`], 0 by default as in
//!   moto), and meanwhile UpdateFunctionCode and PublishVersion answer 409
//!   ResourceConflictException;
//! - UpdateFunctionUrlConfig changes a URL's InvokeMode (moto keeps only the one it was
//!   created with).

use std::collections::HashMap;

use serde_json::Value;

/// An answer the proxy makes instead of moto's: status, `x-amzn-ErrorType`, message.
pub type Refusal = (u16, &'static str, String);

#[derive(Debug, Default)]
pub struct Lambda {
    /// GetFunction reads an update stays InProgress for.
    pub update_reads: usize,
    /// Reads left until the function's update is done, by function name.
    in_progress: HashMap<String, usize>,
    /// The current RevisionId of each (function, alias).
    aliases: HashMap<(String, String), String>,
    revisions: u64,
    /// The InvokeMode an UpdateFunctionUrlConfig set, by function.
    invoke_modes: HashMap<String, Value>,
}

/// The path's segments, percent-decoded: `["2015-03-31", "functions", "echo", "aliases", "live"]`.
fn segments(path: &str) -> Vec<String> {
    let path = path.split('?').next().unwrap_or("");
    path.trim_matches('/')
        .split('/')
        .map(|s| {
            s.replace("%3A", ":")
                .replace("%3a", ":")
                .replace("%24", "$")
        })
        .collect()
}

/// The function's name in a path segment that may be a name or an ARN.
fn function_name(segment: &str) -> String {
    match segment.rsplit_once("function:") {
        Some((_, name)) => name.split(':').next().unwrap_or(name).to_string(),
        None => segment.to_string(),
    }
}

/// The function a request's path is about.
pub fn function_of(path: &str) -> String {
    segments(path)
        .get(2)
        .map(|s| function_name(s))
        .unwrap_or_default()
}

fn json(body: &[u8]) -> Value {
    serde_json::from_slice(body).unwrap_or(Value::Null)
}

impl Lambda {
    fn new_revision(&mut self) -> String {
        self.revisions += 1;
        format!(
            "{:08x}-0000-4000-8000-{:012x}",
            self.revisions, self.revisions
        )
    }

    /// The (function, alias) a request is about, if it is about an alias.
    fn alias_of(operation: &str, path: &str, body: &[u8]) -> Option<(String, String)> {
        let parts = segments(path);
        let function = function_name(parts.get(2)?);
        match operation {
            "GetAlias" | "UpdateAlias" => Some((function, parts.get(4)?.clone())),
            "CreateAlias" => Some((function, json(body)["Name"].as_str()?.to_string())),
            _ => None,
        }
    }

    /// Refuses what Lambda would refuse before doing anything.
    pub fn before(&mut self, operation: &str, path: &str, body: &[u8]) -> Option<Refusal> {
        let parts = segments(path);
        let function = parts.get(2).map(|s| function_name(s)).unwrap_or_default();
        if matches!(operation, "UpdateFunctionCode" | "PublishVersion")
            && self
                .in_progress
                .get(&function)
                .is_some_and(|left| *left > 0)
        {
            return Some((
                409,
                "ResourceConflictException",
                format!(
                    "The operation cannot be performed at this time. An update is in progress \
                     for resource: arn:aws:lambda:us-east-1:123456789012:function:{function}"
                ),
            ));
        }
        if operation == "UpdateAlias" {
            let key = Self::alias_of(operation, path, body)?;
            let sent = json(body)["RevisionId"].as_str().map(str::to_string);
            if let (Some(sent), Some(current)) = (sent, self.aliases.get(&key)) {
                if &sent != current {
                    return Some((
                        412,
                        "PreconditionFailedException",
                        "The Revision Id provided does not match the latest Revision Id. Call \
                         the GetAlias API to retrieve the latest Revision Id"
                            .to_string(),
                    ));
                }
            }
        }
        None
    }

    /// Lambda's answer from moto's: a refusal in Lambda's words, or the body as Lambda
    /// would send it.
    pub fn after(
        &mut self,
        operation: &str,
        path: &str,
        request: &[u8],
        status: u16,
        answer: Vec<u8>,
    ) -> Result<Vec<u8>, Refusal> {
        if operation == "CreateAlias" && status == 409 {
            let name = json(request)["Name"].as_str().unwrap_or("").to_string();
            return Err((
                409,
                "ResourceConflictException",
                format!("Alias already exists: {name}"),
            ));
        }
        if !(200..300).contains(&status) {
            return Ok(answer);
        }
        let function = segments(path)
            .get(2)
            .map(|s| function_name(s))
            .unwrap_or_default();
        let mut patch = serde_json::Map::new();
        match operation {
            "UpdateFunctionCode" if json(request)["DryRun"] != true && self.update_reads > 0 => {
                self.in_progress.insert(function, self.update_reads);
                patch.insert("LastUpdateStatus".into(), "InProgress".into());
            }
            "GetFunction" => {
                if let Some(left) = self.in_progress.get_mut(&function).filter(|l| **l > 0) {
                    *left -= 1;
                    patch.insert("LastUpdateStatus".into(), "InProgress".into());
                }
            }
            "UpdateFunctionUrlConfig" => {
                if let Some(mode) = json(request).get("InvokeMode") {
                    self.invoke_modes.insert(function, mode.clone());
                    patch.insert("InvokeMode".into(), mode.clone());
                }
            }
            "GetFunctionUrlConfig" | "CreateFunctionUrlConfig" => {
                if operation == "CreateFunctionUrlConfig" {
                    self.invoke_modes.remove(&function);
                }
                if let Some(mode) = self.invoke_modes.get(&function) {
                    patch.insert("InvokeMode".into(), mode.clone());
                }
            }
            "GetAlias" | "CreateAlias" | "UpdateAlias" => {
                if let Some(key) = Self::alias_of(operation, path, request) {
                    let revision = match (operation, self.aliases.get(&key)) {
                        ("GetAlias", Some(current)) => current.clone(),
                        _ => self.new_revision(),
                    };
                    self.aliases.insert(key, revision.clone());
                    patch.insert("RevisionId".into(), revision.into());
                }
            }
            _ => {}
        }
        if patch.is_empty() {
            return Ok(answer);
        }
        Ok(super::proxy::patch(answer.into(), &Value::Object(patch)).to_vec())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_name_functions_and_aliases() {
        assert_eq!(
            segments("/2015-03-31/functions/arn%3Aaws%3Alambda%3Aus-east-1%3A1%3Afunction%3Aecho/aliases/live?x=1"),
            ["2015-03-31", "functions", "arn:aws:lambda:us-east-1:1:function:echo", "aliases", "live"]
        );
        assert_eq!(
            function_name("arn:aws:lambda:us-east-1:1:function:echo:3"),
            "echo"
        );
        assert_eq!(function_name("echo"), "echo");
    }
}
