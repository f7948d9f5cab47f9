//! Names deploy sends to AWS, checked locally before the first request: a function name or
//! ARN (never qualified, in the region and partition deploy talks to), an alias name, a
//! region, an endpoint URL, and the SDK's retry settings from the environment. Each check is a
//! pure function whose error names the input and the fix.

use anyhow::{bail, Result};

/// A function as `--function-name` gave it: a name, a partial ARN (`ACCOUNT:function:NAME`)
/// or a full ARN (`arn:PARTITION:lambda:REGION:ACCOUNT:function:NAME`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FunctionRef {
    pub name: String,
    pub account: Option<String>,
    pub region: Option<String>,
    pub partition: Option<String>,
}

fn valid_name(name: &str) -> bool {
    (1..=64).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

fn valid_account(account: &str) -> bool {
    account.len() == 12 && account.bytes().all(|b| b.is_ascii_digit())
}

/// Parses `--function-name`. A qualifier (`NAME:1`, `NAME:live`, an ARN ending in one) is
/// refused: UpdateFunctionCode always updates `$LATEST`, so a qualified name would report
/// on one version while changing another.
pub fn parse_function(input: &str) -> Result<FunctionRef> {
    let parts: Vec<&str> = input.split(':').collect();
    let qualified = |q: &str| -> anyhow::Error {
        anyhow::anyhow!(
            "--function-name {input:?} names a version or alias ({q:?}); give the unqualified \
             function name (deploy updates $LATEST and publishes from there; versions and \
             aliases have flags of their own, such as --alias)"
        )
    };
    let parsed = match parts.as_slice() {
        [name] => FunctionRef {
            name: name.to_string(),
            account: None,
            region: None,
            partition: None,
        },
        [_name, q] => return Err(qualified(q)),
        [account, "function", name] => FunctionRef {
            name: name.to_string(),
            account: Some(account.to_string()),
            region: None,
            partition: None,
        },
        [account, "function", _name, q] if valid_account(account) => return Err(qualified(q)),
        ["arn", partition, "lambda", region, account, "function", name] => FunctionRef {
            name: name.to_string(),
            account: Some(account.to_string()),
            region: Some(region.to_string()),
            partition: Some(partition.to_string()),
        },
        ["arn", _, "lambda", _, _, "function", _, q] => return Err(qualified(q)),
        _ => bail!(
            "--function-name {input:?} is neither a function name (letters, digits, - and _), \
             nor ACCOUNT:function:NAME, nor arn:aws:lambda:REGION:ACCOUNT:function:NAME"
        ),
    };
    if !valid_name(&parsed.name) {
        bail!(
            "--function-name {input:?}: the name {:?} must be 1 to 64 letters, digits, hyphens \
             or underscores",
            parsed.name
        );
    }
    if let Some(account) = &parsed.account {
        if !valid_account(account) {
            bail!("--function-name {input:?}: the account {account:?} must be 12 digits");
        }
    }
    if let Some(partition) = &parsed.partition {
        if !["aws", "aws-cn", "aws-us-gov", "aws-iso", "aws-iso-b"].contains(&partition.as_str()) {
            bail!("--function-name {input:?}: unknown partition {partition:?}");
        }
    }
    if let Some(region) = &parsed.region {
        check_region(region).map_err(|e| anyhow::anyhow!("--function-name {input:?}: {e}"))?;
    }
    Ok(parsed)
}

/// The partition a region belongs to, as ARNs spell it.
pub fn partition_of(region: &str) -> &'static str {
    if region.starts_with("cn-") {
        "aws-cn"
    } else if region.starts_with("us-gov-") {
        "aws-us-gov"
    } else if region.starts_with("us-isob-") {
        "aws-iso-b"
    } else if region.starts_with("us-iso-") {
        "aws-iso"
    } else {
        "aws"
    }
}

impl FunctionRef {
    /// Refuses an ARN whose region or partition is not the one requests go to: the SDK
    /// would send them to `region` whatever the ARN says.
    pub fn check_region(&self, region: &str) -> Result<()> {
        if let Some(arn_region) = &self.region {
            if arn_region != region {
                bail!(
                    "the function ARN is in {arn_region} but the requests go to {region}: pass \
                     --region {arn_region} (or give the function's name alone)"
                );
            }
        }
        if let Some(partition) = &self.partition {
            if partition != partition_of(region) {
                bail!(
                    "the function ARN is in partition {partition} but region {region} is in {}",
                    partition_of(region)
                );
            }
        }
        Ok(())
    }

    /// Refuses an answer about another function than the one asked for (another account,
    /// region or name in the returned FunctionArn).
    pub fn check_answer(&self, function_arn: &str) -> Result<()> {
        let returned = parse_function(function_arn)
            .map_err(|e| anyhow::anyhow!("Lambda answered with an unexpected ARN: {e:#}"))?;
        let differs = |asked: &Option<String>, got: &Option<String>| {
            asked.is_some() && got.is_some() && asked != got
        };
        if returned.name != self.name
            || differs(&self.account, &returned.account)
            || differs(&self.region, &returned.region)
        {
            bail!(
                "asked for function {} but Lambda answered about {function_arn}; check \
                 --function-name, --region and the credentials' account",
                self.display()
            );
        }
        Ok(())
    }

    fn display(&self) -> String {
        match (&self.account, &self.region) {
            (Some(account), Some(region)) => format!(
                "arn:{}:lambda:{region}:{account}:function:{}",
                self.partition.as_deref().unwrap_or("aws"),
                self.name
            ),
            (Some(account), None) => format!("{account}:function:{}", self.name),
            _ => self.name.clone(),
        }
    }
}

/// An alias name as CreateAlias accepts it: 1–128 letters, digits, `-` or `_`, not all
/// digits (that would read as a version), and not `$LATEST`.
pub fn check_alias(alias: &str) -> Result<()> {
    let fix =
        "alias names are 1 to 128 letters, digits, hyphens or underscores, and not all digits";
    if alias == "$LATEST" {
        bail!("--alias $LATEST: $LATEST is the unpublished code, not an alias; {fix}");
    }
    if alias.is_empty() || alias.len() > 128 {
        bail!(
            "--alias {alias:?} is {} characters long; {fix}",
            alias.len()
        );
    }
    if !alias
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    {
        bail!("--alias {alias:?} has characters Lambda refuses; {fix}");
    }
    if alias.bytes().all(|b| b.is_ascii_digit()) {
        bail!("--alias {alias:?} is all digits, which Lambda reads as a version number; {fix}");
    }
    Ok(())
}

/// A region as it appears in endpoints (`us-east-1`): lowercase letters, digits and hyphens.
pub fn check_region(region: &str) -> Result<()> {
    let ok = !region.is_empty()
        && region.len() <= 63
        && !region.starts_with('-')
        && !region.ends_with('-')
        && region
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    if !ok {
        bail!(
            "region {region:?} is not a region name like us-east-1: pass --region REGION or \
             set AWS_REGION"
        );
    }
    Ok(())
}

/// An endpoint URL: `http://` or `https://`, a host, nothing that is not a URL.
pub fn check_endpoint_url(url: &str) -> Result<()> {
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"));
    let host = rest.map(|r| r.split(['/', '?', '#']).next().unwrap_or(""));
    let host_ok = host.is_some_and(|h| {
        !h.is_empty()
            && h.bytes().all(|b| {
                b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b':' | b'[' | b']' | b'_')
            })
    });
    if !host_ok || url.chars().any(char::is_whitespace) {
        bail!(
            "--endpoint-url {url:?} is not a URL like http://127.0.0.1:5000 or \
             https://lambda.us-east-1.amazonaws.com"
        );
    }
    Ok(())
}

/// The SDK's retry settings from the environment, which it would otherwise reject with a
/// panic: `AWS_MAX_ATTEMPTS` a whole number from 1, `AWS_RETRY_MODE` standard or adaptive.
pub fn check_retry_env(max_attempts: Option<&str>, retry_mode: Option<&str>) -> Result<()> {
    if let Some(value) = max_attempts {
        // As the SDK reads it: no surrounding spaces.
        if !value.parse::<u32>().is_ok_and(|n| n >= 1) {
            bail!(
                "AWS_MAX_ATTEMPTS={value:?} is not a whole number of attempts from 1: set it to \
                 e.g. 3, or unset it"
            );
        }
    }
    if let Some(value) = retry_mode {
        if !["standard", "adaptive"].contains(&value.trim().to_ascii_lowercase().as_str()) {
            bail!("AWS_RETRY_MODE={value:?} must be standard or adaptive (or unset)");
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn msg(r: Result<impl std::fmt::Debug>) -> String {
        format!("{:#}", r.unwrap_err())
    }

    #[test]
    fn names_partial_and_full_arns() {
        assert_eq!(parse_function("echo").unwrap().name, "echo");
        let partial = parse_function("123456789012:function:echo").unwrap();
        assert_eq!(partial.account.as_deref(), Some("123456789012"));
        let full = parse_function("arn:aws:lambda:us-west-2:123456789012:function:echo_1").unwrap();
        assert_eq!(
            (
                full.name.as_str(),
                full.region.as_deref(),
                full.partition.as_deref()
            ),
            ("echo_1", Some("us-west-2"), Some("aws"))
        );
    }

    #[test]
    fn qualified_names_are_refused() {
        for q in [
            "q1:1",
            "q1:live",
            "123456789012:function:q1:1",
            "arn:aws:lambda:us-east-1:123456789012:function:q1:$LATEST",
        ] {
            assert!(
                msg(parse_function(q)).contains("names a version or alias"),
                "{q}"
            );
        }
    }

    #[test]
    fn bad_names_are_refused() {
        for bad in [
            "",
            "has space",
            "x".repeat(65).as_str(),
            "a/b",
            "arn:aws:s3:::bucket",
        ] {
            assert!(parse_function(bad).is_err(), "{bad:?}");
        }
        assert!(msg(parse_function("12:function:echo")).contains("12 digits"));
        assert!(msg(parse_function(
            "arn:nope:lambda:us-east-1:123456789012:function:e"
        ))
        .contains("unknown partition"));
    }

    #[test]
    fn arns_must_match_the_region_and_partition() {
        let arn = parse_function("arn:aws:lambda:us-west-2:123456789012:function:echo").unwrap();
        assert!(arn.check_region("us-west-2").is_ok());
        assert!(msg(arn.check_region("us-east-1")).contains("--region us-west-2"));
        let cn = parse_function("arn:aws:lambda:cn-north-1:123456789012:function:echo").unwrap();
        assert!(msg(cn.check_region("cn-north-1")).contains("partition aws"));
        assert!(parse_function("echo")
            .unwrap()
            .check_region("eu-west-1")
            .is_ok());
    }

    #[test]
    fn answers_about_another_function_are_refused() {
        let asked = parse_function("arn:aws:lambda:us-east-1:111111111111:function:echo").unwrap();
        assert!(asked
            .check_answer("arn:aws:lambda:us-east-1:111111111111:function:echo")
            .is_ok());
        assert!(
            msg(asked.check_answer("arn:aws:lambda:us-east-1:222222222222:function:echo"))
                .contains("answered about")
        );
        let by_name = parse_function("echo").unwrap();
        assert!(by_name
            .check_answer("arn:aws:lambda:us-east-1:222222222222:function:echo")
            .is_ok());
        assert!(by_name
            .check_answer("arn:aws:lambda:us-east-1:222222222222:function:other")
            .is_err());
    }

    #[test]
    fn alias_names() {
        for ok in ["live", "v2-blue", "a_b", "1a"] {
            assert!(check_alias(ok).is_ok(), "{ok}");
        }
        assert!(msg(check_alias("bad alias!")).contains("characters Lambda refuses"));
        assert!(msg(check_alias("$LATEST")).contains("unpublished code"));
        assert!(msg(check_alias("42")).contains("all digits"));
        assert!(msg(check_alias(&"a".repeat(129))).contains("129 characters"));
        assert!(check_alias("").is_err());
    }

    #[test]
    fn regions_urls_and_retry_settings() {
        assert!(check_region("us-east-1").is_ok());
        for bad in ["", "US-EAST-1", "us east", "-x"] {
            assert!(
                msg(check_region(bad)).contains("not a region name"),
                "{bad:?}"
            );
        }
        assert!(check_endpoint_url("http://127.0.0.1:5000").is_ok());
        assert!(check_endpoint_url("https://lambda.us-east-1.amazonaws.com/").is_ok());
        for bad in ["not a url", "ftp://x", "http://", "127.0.0.1:5000"] {
            assert!(
                msg(check_endpoint_url(bad)).contains("is not a URL"),
                "{bad:?}"
            );
        }
        assert!(check_retry_env(Some("3"), Some("adaptive")).is_ok());
        assert!(check_retry_env(None, None).is_ok());
        for bad in ["0", "abc", "-1", "", " 3"] {
            assert!(
                msg(check_retry_env(Some(bad), None)).contains("AWS_MAX_ATTEMPTS"),
                "{bad:?}"
            );
        }
        assert!(msg(check_retry_env(None, Some("bogus"))).contains("standard or adaptive"));
    }
}
