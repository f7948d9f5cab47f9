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
/// credentials may be for (`allowed-account-ids`), the region and the function.
pub fn variables(
    repo: &str,
    role_arn: &str,
    account: &str,
    region: &str,
    function: &str,
) -> Vec<Variable> {
    [
        ("AWS_ROLE_ARN", role_arn),
        ("AWS_ACCOUNT_ID", account),
        ("AWS_REGION", region),
        ("LAMBDA_FUNCTION_NAME", function),
    ]
    .into_iter()
    .map(|(name, value)| Variable {
        name,
        value: value.to_string(),
        gh: format!(
            "gh variable set {name} --repo {} --body {}",
            shell_quote(repo),
            shell_quote(value)
        ),
    })
    .collect()
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
            "echo",
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
        assert_eq!(shell_quote("a b"), "'a b'");
        assert_eq!(shell_quote("it's"), r"'it'\''s'");
        assert_eq!(shell_quote("$HOME"), "'$HOME'");
        assert_eq!(shell_quote(""), "''");
        assert_eq!(shell_quote("eu-west-1"), "eu-west-1");
    }
}
