//! Credentials as the AWS CLI picks them, resolved in bounded time: an explicit `--profile`
//! wins over keys in the environment, a profile that no file defines is an error before any
//! request, and a `credential_process` (or SSO, or assume-role) that does not finish fails
//! after [`timeouts::CREDENTIALS`].

use std::ffi::OsString;
use std::path::PathBuf;

use anyhow::{bail, Context, Result};
use aws_config::profile::ProfileFileCredentialsProvider;
use aws_config::provider_config::ProviderConfig;
use aws_config::SdkConfig;
use aws_sdk_lambda::config::{ProvideCredentials, SharedCredentialsProvider};
use aws_types::os_shim_internal::{Env, Fs};
use xtask::lambda::names::check_retry_env;

use super::raw::chain;
use crate::model::failure::no_credentials;
use crate::model::timeouts;

/// The two files profiles come from, as the SDK finds them: AWS_CONFIG_FILE and
/// AWS_SHARED_CREDENTIALS_FILE, else `~/.aws/config` and `~/.aws/credentials`.
pub fn profile_paths(
    config: Option<OsString>,
    credentials: Option<OsString>,
    home: Option<PathBuf>,
) -> [PathBuf; 2] {
    let home = home.unwrap_or_else(|| PathBuf::from("~"));
    let path = |set: Option<OsString>, default: &str| match set.filter(|p| !p.is_empty()) {
        Some(p) => match p.to_str().and_then(|s| s.strip_prefix("~/")) {
            Some(rest) => home.join(rest),
            None => PathBuf::from(p),
        },
        None => home.join(".aws").join(default),
    };
    [path(config, "config"), path(credentials, "credentials")]
}

fn env_profile_paths() -> [PathBuf; 2] {
    profile_paths(
        std::env::var_os("AWS_CONFIG_FILE"),
        std::env::var_os("AWS_SHARED_CREDENTIALS_FILE"),
        std::env::var_os("HOME").map(PathBuf::from),
    )
}

/// The profile the command reads (`--profile`, else AWS_PROFILE), for messages.
pub fn selected_profile(flag: Option<&str>) -> Option<String> {
    flag.map(str::to_string)
        .or_else(|| std::env::var("AWS_PROFILE").ok())
        .filter(|p| !p.is_empty())
}

/// The sentence for a profile no file defines.
pub fn missing_profile(name: &str, [config, credentials]: &[PathBuf; 2]) -> String {
    format!(
        "profile {name} is not defined in {} nor in {}: check --profile (or AWS_PROFILE), or \
         create it (`aws configure --profile {name}`)",
        config.display(),
        credentials.display()
    )
}

/// The selected profile's `max_attempts` and `retry_mode`, which the SDK would panic on.
pub fn check_profile_retry(
    name: &str,
    max_attempts: Option<&str>,
    retry_mode: Option<&str>,
) -> Result<()> {
    if let Some(value) = max_attempts {
        if check_retry_env(Some(value), None).is_err() {
            bail!(
                "max_attempts = {value} in profile {name} is not a whole number of attempts \
                 from 1: set it to e.g. 3, or remove it"
            );
        }
    }
    if let Some(value) = retry_mode {
        if check_retry_env(None, Some(value)).is_err() {
            bail!("retry_mode = {value} in profile {name} must be standard or adaptive");
        }
    }
    Ok(())
}

/// Before the SDK reads them: the selected profile exists (when one is named, or when
/// `--profile` is given at all) and its retry settings are ones the SDK takes.
pub async fn check_profile(flag: Option<&str>) -> Result<()> {
    let Some(name) = selected_profile(flag) else {
        return Ok(());
    };
    let paths = env_profile_paths();
    let profiles = aws_config::profile::load(
        &Fs::real(),
        &Env::real(),
        &Default::default(),
        Some(name.clone().into()),
    )
    .await
    .with_context(|| {
        format!(
            "reading the AWS profiles in {} and {}",
            paths[0].display(),
            paths[1].display()
        )
    })?;
    let Some(profile) = profiles.get_profile(&name) else {
        // AWS_PROFILE=default without files is the SDK's ordinary default.
        if flag.is_none() && name == "default" {
            return Ok(());
        }
        bail!(missing_profile(&name, &paths));
    };
    // The environment variables, when set, win over the profile's (and are checked apart).
    let unless_env =
        |var: &str, key: &str| profile.get(key).filter(|_| std::env::var_os(var).is_none());
    check_profile_retry(
        &name,
        unless_env("AWS_MAX_ATTEMPTS", "max_attempts"),
        unless_env("AWS_RETRY_MODE", "retry_mode"),
    )
}

/// The credentials of exactly this profile, as the AWS CLI takes `--profile`: keys in the
/// environment do not override it. Its STS or SSO calls use the SDK's own client settings.
pub fn profile_provider(name: &str, sdk: &SdkConfig) -> SharedCredentialsProvider {
    let mut config = ProviderConfig::empty()
        .with_region(sdk.region().cloned())
        .with_behavior_version(sdk.behavior_version());
    if let Some(http) = sdk.http_client() {
        config = config.with_http_client(http);
    }
    if let Some(sleep) = sdk.sleep_impl() {
        config = config.with_sleep_impl(sleep);
    }
    if let Some(time) = sdk.time_source() {
        config = config.with_time_source(time);
    }
    if let Some(timeouts) = sdk.timeout_config() {
        config = config.with_timeout_config(timeouts.clone());
    }
    if let Some(retry) = sdk.retry_config() {
        config = config.with_retry_config(retry.clone());
    }
    SharedCredentialsProvider::new(
        ProfileFileCredentialsProvider::builder()
            .configure(&config)
            .profile_name(name)
            .build(),
    )
}

/// Resolves credentials once, up front, within [`timeouts::CREDENTIALS`]: "none found" or
/// "stuck" become one clear sentence before any request.
pub async fn resolve(provider: &SharedCredentialsProvider, profile: Option<&str>) -> Result<()> {
    let limit = timeouts::CREDENTIALS;
    match tokio::time::timeout(limit, provider.provide_credentials()).await {
        Ok(Ok(_)) => Ok(()),
        Ok(Err(e)) => bail!(no_credentials(&chain(&e))),
        Err(_) => {
            let (which, check) = match profile {
                Some(p) => (
                    format!("profile {p}"),
                    format!("aws sts get-caller-identity --profile {p}"),
                ),
                None => (
                    "the default chain".to_string(),
                    "aws sts get-caller-identity".to_string(),
                ),
            };
            bail!(
                "resolving AWS credentials ({which}) took longer than {} s: a \
                 credential_process, SSO or assume-role step did not finish; run `{check}` to \
                 see why",
                limit.as_secs()
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn profile_files_as_the_sdk_finds_them() {
        let home = Some(PathBuf::from("/home/ci"));
        assert_eq!(
            profile_paths(None, None, home.clone()),
            [
                PathBuf::from("/home/ci/.aws/config"),
                PathBuf::from("/home/ci/.aws/credentials")
            ]
        );
        assert_eq!(
            profile_paths(Some("~/cfg".into()), Some("/etc/creds".into()), home),
            [PathBuf::from("/home/ci/cfg"), PathBuf::from("/etc/creds")]
        );
        assert_eq!(
            profile_paths(Some("".into()), None, None)[0],
            PathBuf::from("~/.aws/config")
        );
    }

    #[test]
    fn a_missing_profile_names_the_files_searched() {
        let message = missing_profile(
            "nope",
            &[
                PathBuf::from("/h/.aws/config"),
                PathBuf::from("/h/.aws/credentials"),
            ],
        );
        assert!(
            message.starts_with(
                "profile nope is not defined in /h/.aws/config nor in /h/.aws/credentials"
            ),
            "{message}"
        );
    }

    #[test]
    fn profile_retry_settings_the_sdk_would_panic_on() {
        assert!(check_profile_retry("p", Some("5"), Some("adaptive")).is_ok());
        assert!(check_profile_retry("p", None, None).is_ok());
        let err = check_profile_retry("p", Some("0"), None).unwrap_err();
        assert!(err.to_string().contains("max_attempts = 0 in profile p"));
        assert!(check_profile_retry("p", Some("x"), None).is_err());
        let err = check_profile_retry("p", None, Some("fast")).unwrap_err();
        assert!(err.to_string().contains("retry_mode = fast"));
    }
}
