//! Names deploy sends to AWS, checked locally before the first request: a function name or
//! ARN (never qualified, in the region and partition deploy talks to), an alias name, a
//! region, an endpoint URL, and the SDK's retry settings from the environment. Each check is a
//! pure function whose error names the input and the fix. Also the names of the two IAM roles
//! made for a function: the execution role (`deploy --create`) and CI's deploy role
//! (`setup-ci`).
//!
//! ARNs are read here only: [`Arn::split`] and [`check_arn_place`] (the partitions and which
//! regions are in each), which `--function-name` and `iam-policy`'s function ARN both use.

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

/// A function's name as Lambda accepts it: 1 to 64 letters, digits, `-` or `_`.
pub(crate) fn valid_function_name(name: &str) -> bool {
    (1..=64).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// An AWS account id: 12 digits.
pub(crate) fn valid_account(account: &str) -> bool {
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
        _ => {
            let arn = Arn::split(input).filter(|arn| arn.service == "lambda");
            let resource: Vec<&str> =
                arn.map_or(Vec::new(), |arn| arn.resource.split(':').collect());
            match (arn, resource.as_slice()) {
                (Some(arn), ["function", name]) => FunctionRef {
                    name: name.to_string(),
                    account: Some(arn.account.to_string()),
                    region: Some(arn.region.to_string()),
                    partition: Some(arn.partition.to_string()),
                },
                (Some(_), ["function", _name, q]) => return Err(qualified(q)),
                _ => bail!(
                    "--function-name {input:?} is neither a function name (letters, digits, - \
                     and _), nor ACCOUNT:function:NAME, nor \
                     arn:aws:lambda:REGION:ACCOUNT:function:NAME"
                ),
            }
        }
    };
    if !valid_function_name(&parsed.name) {
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
    if let (Some(partition), Some(region)) = (&parsed.partition, &parsed.region) {
        check_arn_place(partition, region)
            .map_err(|e| anyhow::anyhow!("--function-name {input:?}: {e}"))?;
    }
    Ok(parsed)
}

/// The partitions an ARN may name: those [`partition_of_region`] gives.
pub const PARTITIONS: [&str; 5] = ["aws", "aws-cn", "aws-us-gov", "aws-iso", "aws-iso-b"];

/// An ARN's fields, `arn:PARTITION:SERVICE:REGION:ACCOUNT:RESOURCE`; the resource keeps its
/// own `:`s (`function:NAME`, `function:NAME:QUALIFIER`). A global service's ARN has an
/// empty region (`arn:aws:iam::123456789012:role/x`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Arn<'a> {
    pub partition: &'a str,
    pub service: &'a str,
    pub region: &'a str,
    pub account: &'a str,
    pub resource: &'a str,
}

impl<'a> Arn<'a> {
    /// The fields of `arn`, if it starts with `arn:` and has all six; nothing is checked.
    pub fn split(arn: &'a str) -> Option<Arn<'a>> {
        let mut fields = arn.splitn(6, ':');
        if fields.next()? != "arn" {
            return None;
        }
        Some(Arn {
            partition: fields.next()?,
            service: fields.next()?,
            region: fields.next()?,
            account: fields.next()?,
            resource: fields.next()?,
        })
    }
}

/// The partition of any service's ARN (`arn:aws-cn:sts::123456789012:assumed-role/x/y` →
/// `aws-cn`), if it is one of [`PARTITIONS`].
pub fn partition_of(arn: &str) -> Option<&str> {
    Arn::split(arn)
        .map(|arn| arn.partition)
        .filter(|partition| PARTITIONS.contains(partition))
}

/// Refuses a regional ARN's place unless its partition is one of [`PARTITIONS`] and its
/// region a region name of that partition; the error is the reason, for the caller to say
/// which ARN it is about.
pub fn check_arn_place(partition: &str, region: &str) -> Result<()> {
    if !PARTITIONS.contains(&partition) {
        bail!(
            "unknown partition `{partition}`: ARNs name {}",
            PARTITIONS.join(", ")
        );
    }
    if !is_region_name(region) {
        bail!("`{region}` is not a region name like eu-west-1");
    }
    let home = partition_of_region(region);
    if partition != home {
        bail!("region {region} is in the `{home}` partition, not `{partition}`");
    }
    Ok(())
}

/// `xx-name-N`, as every region of [`PARTITIONS`] is named: eu-west-1, us-gov-west-1,
/// us-isob-east-1, ap-southeast-4.
fn is_region_name(region: &str) -> bool {
    let parts: Vec<&str> = region.split('-').collect();
    parts.len() >= 3
        && parts[0].len() == 2
        && parts[..parts.len() - 1]
            .iter()
            .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_lowercase()))
        && parts[parts.len() - 1].bytes().all(|b| b.is_ascii_digit())
        && !parts[parts.len() - 1].is_empty()
}

/// The partition a region belongs to, as ARNs spell it.
pub fn partition_of_region(region: &str) -> &'static str {
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
            if partition != partition_of_region(region) {
                bail!(
                    "the function ARN is in partition {partition} but region {region} is in {}",
                    partition_of_region(region)
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

/// IAM's longest role name, in characters.
pub const MAX_ROLE_NAME_LEN: usize = 64;

/// The execution role `deploy --create` creates or reuses when given neither `--role` nor
/// `--role-name`: the function's name and `-role`, cut to IAM's limit (a function name may
/// take all 64 characters itself).
pub fn execution_role_name(function: &str) -> String {
    format!("{function}-role")
        .chars()
        .take(MAX_ROLE_NAME_LEN)
        .collect()
}

/// The role CI deploys with, `setup-ci`'s default: the function's name and `-deploy`. Never
/// cut: `setup-ci` refuses a name over IAM's limit and asks for `--role-name`, as a cut name
/// might be another function's role.
pub fn deploy_role_name(function: &str) -> String {
    format!("{function}-deploy")
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
        // parse_function refuses such an ARN (`check_arn_place`); a FunctionRef built by hand
        // is still checked.
        let cn = FunctionRef {
            name: "echo".into(),
            account: Some("123456789012".into()),
            region: Some("cn-north-1".into()),
            partition: Some("aws".into()),
        };
        assert!(msg(cn.check_region("cn-north-1")).contains("partition aws"));
        assert!(msg(parse_function(
            "arn:aws:lambda:cn-north-1:123456789012:function:echo"
        ))
        .contains("`aws-cn` partition"));
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
    fn arns_are_split_and_placed() {
        let arn = Arn::split("arn:aws:lambda:us-east-1:123456789012:function:echo:live").unwrap();
        assert_eq!(
            (arn.partition, arn.service, arn.region, arn.account),
            ("aws", "lambda", "us-east-1", "123456789012")
        );
        assert_eq!(arn.resource, "function:echo:live");
        assert_eq!(Arn::split("arn:aws:iam::123456789012"), None);
        assert_eq!(Arn::split("nra:aws:iam::123456789012:role/x"), None);
        assert_eq!(
            partition_of("arn:aws-cn:sts::123456789012:assumed-role/x/y"),
            Some("aws-cn")
        );
        assert_eq!(
            partition_of("arn:aws:iam::123456789012:role/x"),
            Some("aws")
        );
        assert_eq!(partition_of("arn::sts::1:user/x"), None);
        assert_eq!(partition_of("arn:azure:sts::1:user/x"), None);
        assert_eq!(partition_of("nope"), None);
        for (region, partition) in [
            ("eu-west-1", "aws"),
            ("cn-north-1", "aws-cn"),
            ("us-gov-west-1", "aws-us-gov"),
            ("us-iso-east-1", "aws-iso"),
            ("us-isob-east-1", "aws-iso-b"),
        ] {
            assert_eq!(partition_of_region(region), partition);
            assert!(check_arn_place(partition, region).is_ok(), "{region}");
        }
        assert!(msg(check_arn_place("aws", "us-isob-east-1")).contains("`aws-iso-b` partition"));
        assert!(msg(check_arn_place("aws", "US-EAST-1")).contains("not a region name"));
        assert!(msg(check_arn_place("aws-iso-e", "eu-isoe-west-1")).contains("unknown partition"));
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
