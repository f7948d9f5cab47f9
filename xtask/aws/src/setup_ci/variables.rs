//! The repository variables the workflow reads, and the `gh` lines that set them.

use serde::Serialize;

/// One repository variable the workflow reads.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Variable {
    pub name: &'static str,
    pub value: String,
    /// The GitHub CLI command that sets it.
    pub gh: String,
}

/// What `.github/workflows/ci.yml` reads from `vars.`: the role to assume, the one account its
/// credentials may be for (`allowed-account-ids`), the region and, for a workspace of one
/// function, the function (several are named by the workspace, and the variable must then
/// be unset: deploy refuses one name for several functions).
pub fn variables(
    repo: &str,
    role_arn: &str,
    account: &str,
    region: &str,
    function: Option<&str>,
) -> Vec<Variable> {
    let repo = shell_quote(repo);
    let mut out: Vec<Variable> = [
        ("AWS_ROLE_ARN", role_arn),
        ("AWS_ACCOUNT_ID", account),
        ("AWS_REGION", region),
    ]
    .into_iter()
    .chain(function.map(|f| ("LAMBDA_FUNCTION_NAME", f)))
    .map(|(name, value)| Variable {
        name,
        value: value.to_string(),
        gh: format!(
            "gh variable set {name} --repo {repo} --body {}",
            shell_quote(value)
        ),
    })
    .collect();
    if function.is_none() {
        out.push(Variable {
            name: "LAMBDA_FUNCTION_NAME",
            value: "(unset: deploy reads the functions from the workspace)".into(),
            gh: format!("gh variable delete LAMBDA_FUNCTION_NAME --repo {repo} || true"),
        });
    }
    out
}

/// `s` as one word for a POSIX shell: as it is when nothing in it is special, else in single
/// quotes (a `'` inside as `'\''`).
pub fn shell_quote(s: &str) -> String {
    let plain = !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"@%+=:,./_-".contains(&b));
    if plain {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn variables_and_their_gh_commands() {
        let vars = variables(
            "octo-org/echo-lambda",
            "arn:aws:iam::123456789012:role/echo-deploy",
            "123456789012",
            "eu-west-1",
            Some("echo"),
        );
        let names: Vec<&str> = vars.iter().map(|v| v.name).collect();
        assert_eq!(
            names,
            [
                "AWS_ROLE_ARN",
                "AWS_ACCOUNT_ID",
                "AWS_REGION",
                "LAMBDA_FUNCTION_NAME"
            ]
        );
        assert_eq!(
            vars[0].gh,
            "gh variable set AWS_ROLE_ARN --repo octo-org/echo-lambda --body \
             arn:aws:iam::123456789012:role/echo-deploy"
        );
        let several = variables("o/r", "arn", "1", "eu-west-1", None);
        assert_eq!(several.len(), 4);
        assert_eq!(
            several[3].gh,
            "gh variable delete LAMBDA_FUNCTION_NAME --repo o/r || true"
        );
        assert_eq!(shell_quote("a b"), "'a b'");
        assert_eq!(shell_quote("it's"), r"'it'\''s'");
        assert_eq!(shell_quote("$HOME"), "'$HOME'");
        assert_eq!(shell_quote(""), "''");
        assert_eq!(shell_quote("eu-west-1"), "eu-west-1");
    }
}
