//! What a public function URL needs in the function's resource policy, decided from the
//! policy GetPolicy returns: pure.

use serde_json::Value;

/// One statement a public URL needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Grant {
    /// lambda:InvokeFunctionUrl to everyone, when FunctionUrlAuthType is NONE.
    InvokeFunctionUrl,
    /// lambda:InvokeFunction to everyone, when invoked via the function URL.
    InvokeFunction,
}

impl Grant {
    pub const PUBLIC: [Grant; 2] = [Grant::InvokeFunctionUrl, Grant::InvokeFunction];

    pub fn action(self) -> &'static str {
        match self {
            Grant::InvokeFunctionUrl => "lambda:InvokeFunctionUrl",
            Grant::InvokeFunction => "lambda:InvokeFunction",
        }
    }

    /// The statement id (the console's, so a URL made there is recognised too).
    pub fn statement_id(self) -> &'static str {
        match self {
            Grant::InvokeFunctionUrl => "FunctionURLAllowPublicAccess",
            Grant::InvokeFunction => "FunctionURLInvokeAllowPublicAccess",
        }
    }

    /// The condition key that ties the grant to the URL.
    fn condition_key(self) -> &'static str {
        match self {
            Grant::InvokeFunctionUrl => "FunctionUrlAuthType",
            Grant::InvokeFunction => "InvokedViaFunctionUrl",
        }
    }

    /// Does this statement grant it? (By content: Allow, the action, everyone, the condition.)
    fn granted_by(self, s: &Value) -> bool {
        let everyone = s["Principal"] == "*" || s["Principal"]["AWS"] == "*";
        let key = self.condition_key();
        let condition = |v: &Value| {
            v.as_object().is_some_and(|ops| {
                ops.values().any(|keys| {
                    keys.get(format!("lambda:{key}")).is_some() || keys.get(key).is_some()
                })
            })
        };
        s["Effect"] == "Allow"
            && s["Action"] == self.action()
            && everyone
            // AWS puts it under Condition; moto keeps the request's field as it came.
            && (condition(&s["Condition"]) || s.get(key).is_some())
    }
}

/// The grants a public URL needs that `policy` (GetPolicy's document, if any) lacks.
pub fn missing_grants(policy: Option<&str>) -> Vec<Grant> {
    let statements: Vec<Value> = policy
        .and_then(|p| serde_json::from_str::<Value>(p).ok())
        .and_then(|p| p["Statement"].as_array().cloned())
        .unwrap_or_default();
    Grant::PUBLIC
        .into_iter()
        .filter(|g| !statements.iter().any(|s| g.granted_by(s)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grants_are_recognised_as_aws_and_moto_write_them() {
        assert_eq!(missing_grants(None), Grant::PUBLIC);
        let aws = r#"{"Statement":[
            {"Sid":"a","Effect":"Allow","Principal":"*","Action":"lambda:InvokeFunctionUrl",
             "Condition":{"StringEquals":{"lambda:FunctionUrlAuthType":"NONE"}}},
            {"Sid":"b","Effect":"Allow","Principal":{"AWS":"*"},"Action":"lambda:InvokeFunction",
             "Condition":{"Bool":{"lambda:InvokedViaFunctionUrl":"true"}}}]}"#;
        assert!(missing_grants(Some(aws)).is_empty());
        let moto = r#"{"Statement":[{"Action":"lambda:InvokeFunctionUrl","Principal":"*",
            "FunctionUrlAuthType":"NONE","Effect":"Allow"}]}"#;
        assert_eq!(missing_grants(Some(moto)), [Grant::InvokeFunction]);
        // An InvokeFunction grant to everyone without the URL condition is not the URL's.
        let open = r#"{"Statement":[{"Action":"lambda:InvokeFunction","Principal":"*","Effect":"Allow"}]}"#;
        assert_eq!(missing_grants(Some(open)), Grant::PUBLIC);
    }
}
