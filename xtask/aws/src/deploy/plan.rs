//! Deploy's decisions, as pure functions over plain data: may this zip go to that function,
//! is it already there, does the published version hold it. (Whether an update is done, and
//! how long to wait before asking again, are `model`'s.)

use anyhow::{bail, Result};
use xtask::lambda::Arch;

use crate::model::function::Remote;

/// The next step after reading the function.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Plan {
    /// It already runs exactly this zip.
    Unchanged,
    Upload,
}

/// Refuses a function this artifact cannot run on, then compares the code.
pub fn plan(remote: &Remote, local_code_sha256: &str, arch: Arch, force: bool) -> Result<Plan> {
    if remote.package_type.as_deref() == Some("Image") {
        bail!(
            "function {} is a container-image function; a zip can only be deployed to a \
             zip-packaged function with an OS-only runtime (provided.al2023)",
            remote.name
        );
    }
    if let Some(runtime) = &remote.runtime {
        if !runtime.starts_with("provided") {
            bail!(
                "function {} uses the {runtime} runtime, which would not run a `bootstrap` \
                 executable; switch it to provided.al2023 (aws lambda update-function-configuration \
                 --function-name {} --runtime provided.al2023 --handler bootstrap)",
                remote.name,
                remote.name
            );
        }
    }
    // Lambda omits Architectures for functions created before arm64 existed: those are x86_64.
    let remote_arch = remote
        .architectures
        .first()
        .map(String::as_str)
        .unwrap_or("x86_64");
    if remote_arch != arch.lambda_name() {
        bail!(
            "architecture mismatch: function {} runs on {remote_arch} but the artifact is built \
             for {arch}; deploy a `cargo xtask build --arch {remote_arch}` artifact with \
             `--arch {remote_arch}`, or change the function's architecture",
            remote.name
        );
    }
    if !force && remote.code_sha256.as_deref() == Some(local_code_sha256) {
        return Ok(Plan::Unchanged);
    }
    Ok(Plan::Upload)
}

/// The version PublishVersion made holds the uploaded code: Lambda's answer names its
/// CodeSha256, which must be the zip's.
pub fn check_published(
    function: &str,
    version: &str,
    answered: Option<&str>,
    local: &str,
) -> Result<()> {
    if answered != Some(local) {
        bail!(
            "PublishVersion made version {version} of {function} with CodeSha256 {}, but the \
             zip's is {local}: the code changed between the update and the publish (another \
             deploy?); no alias was moved; rerun the deploy",
            answered.unwrap_or("(none given)")
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::model::function::tests::remote;

    #[test]
    fn plan_compares_code_after_checking_the_function() {
        let r = remote();
        assert_eq!(
            plan(&r, "abc=", Arch::X86_64, false).unwrap(),
            Plan::Unchanged
        );
        assert_eq!(plan(&r, "abc=", Arch::X86_64, true).unwrap(), Plan::Upload);
        assert_eq!(plan(&r, "xyz=", Arch::X86_64, false).unwrap(), Plan::Upload);
        // A function that has no code hash yet is never "unchanged".
        let fresh = Remote {
            code_sha256: None,
            ..remote()
        };
        assert_eq!(
            plan(&fresh, "abc=", Arch::X86_64, false).unwrap(),
            Plan::Upload
        );
    }

    #[test]
    fn plan_refuses_wrong_architecture_even_when_unchanged() {
        let err = plan(&remote(), "abc=", Arch::Arm64, false)
            .unwrap_err()
            .to_string();
        assert!(err.contains("architecture mismatch"), "{err}");
        assert!(
            err.contains("runs on x86_64") && err.contains("built for arm64"),
            "{err}"
        );
        // No Architectures field means x86_64.
        let old = Remote {
            architectures: vec![],
            ..remote()
        };
        assert_eq!(plan(&old, "x", Arch::X86_64, false).unwrap(), Plan::Upload);
        assert!(plan(&old, "x", Arch::Arm64, false).is_err());
        let arm = Remote {
            architectures: vec!["arm64".into()],
            ..remote()
        };
        assert_eq!(plan(&arm, "x", Arch::Arm64, false).unwrap(), Plan::Upload);
    }

    #[test]
    fn plan_requires_an_os_only_zip_function() {
        for ok in ["provided", "provided.al2", "provided.al2023"] {
            let r = Remote {
                runtime: Some(ok.into()),
                ..remote()
            };
            assert!(plan(&r, "x", Arch::X86_64, false).is_ok(), "{ok}");
        }
        let python = Remote {
            runtime: Some("python3.12".into()),
            ..remote()
        };
        let err = plan(&python, "x", Arch::X86_64, false)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("python3.12") && err.contains("provided.al2023"),
            "{err}"
        );
        let image = Remote {
            runtime: None,
            package_type: Some("Image".into()),
            ..remote()
        };
        assert!(plan(&image, "x", Arch::X86_64, false)
            .unwrap_err()
            .to_string()
            .contains("container-image"));
    }

    #[test]
    fn a_published_version_must_hold_the_zip() {
        assert!(check_published("echo", "4", Some("abc="), "abc=").is_ok());
        let err = check_published("echo", "4", Some("xyz="), "abc=")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("version 4 of echo with CodeSha256 xyz=")
                && err.contains("the zip's is abc="),
            "{err}"
        );
        assert!(check_published("echo", "4", None, "abc=").is_err());
    }
}
