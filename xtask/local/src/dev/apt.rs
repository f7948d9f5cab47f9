//! Debian packages the tests need (qemu-user), installed with apt-get: as root directly, or
//! through passwordless sudo when not root, as steps run on GitHub's hosted runners.

use std::process::{Command, Stdio};

use anyhow::{bail, Result};
use xshell::Shell;
pub use xtask::dev::apt::Args;

use xtask::util::status::status;

/// How apt-get may run on this machine.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Privilege {
    /// This process is root: apt-get directly.
    Root,
    /// Not root, but `sudo -n` runs commands without asking for a password.
    Sudo,
}

/// The decision, kept pure: root needs nothing more; anyone else may use sudo only when it
/// asks no password (a prompt would hang a test run). `sudo_works` is asked only when needed.
pub fn privilege(is_root: bool, sudo_works: impl FnOnce() -> bool) -> Option<Privilege> {
    if is_root {
        Some(Privilege::Root)
    } else if sudo_works() {
        Some(Privilege::Sudo)
    } else {
        None
    }
}

/// The command line running `apt-get ARGS` with that privilege, non-interactively.
/// sudo resets the environment, so the frontend is passed through `env` in both cases.
pub fn apt_get(privilege: Privilege, args: &[&str]) -> Vec<String> {
    let sudo: &[&str] = match privilege {
        Privilege::Root => &[],
        Privilege::Sudo => &["sudo", "-n"],
    };
    // Another apt (e.g. an image's unattended upgrades) may hold the lock for a while.
    let apt: &[&str] = &[
        "env",
        "DEBIAN_FRONTEND=noninteractive",
        "apt-get",
        "-o",
        "DPkg::Lock::Timeout=300",
    ];
    sudo.iter()
        .chain(apt)
        .chain(args)
        .map(|s| s.to_string())
        .collect()
}

/// This process's privilege for apt-get, probing `sudo -n true` when not root.
pub fn current_privilege() -> Option<Privilege> {
    // SAFETY: geteuid has no preconditions and cannot fail.
    let is_root = unsafe { libc::geteuid() } == 0;
    privilege(is_root, || {
        Command::new("sudo")
            .args(["-n", "true"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    })
}

/// True when dpkg lists `package` as installed.
pub fn is_installed(package: &str) -> bool {
    Command::new("dpkg-query")
        .args(["-W", "-f", "${Status}", package])
        .stderr(Stdio::null())
        .output()
        .is_ok_and(|out| out.status.success() && out.stdout.ends_with(b" installed"))
}

/// Makes sure `present()` holds, installing the Debian `package` when it does not.
/// `missing` names what is missing for the error, e.g. "qemu-aarch64 (the arm64 invoke test
/// needs it)".
pub fn ensure(sh: &Shell, package: &str, missing: &str, present: impl Fn() -> bool) -> Result<()> {
    if present() {
        return Ok(());
    }
    let Some(privilege) = current_privilege() else {
        bail!(
            "{missing} is missing: run `sudo apt-get install -y {package}` and try again \
             (not root, and sudo asks for a password)"
        );
    };
    let install = apt_get(privilege, &["install", "-y", package]);
    let update = apt_get(privilege, &["update"]);
    status("Installing", format!("{package} ({})", install.join(" ")));
    // A fresh image may have no package lists yet, or stale ones.
    let runs = |argv: &[String]| sh.cmd(&argv[0]).args(&argv[1..]).quiet().run().is_ok();
    let installed = runs(&install) || (runs(&update) && runs(&install));
    if !installed || !present() {
        bail!(
            "could not install {package} ({missing} is missing): run \
             `sudo apt-get install -y {package}` and try again"
        );
    }
    Ok(())
}

pub fn run(args: Args) -> Result<()> {
    let sh = Shell::new()?;
    let package = args.package.as_str();
    ensure(&sh, package, package, || is_installed(package))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn root_runs_apt_get_itself_and_never_asks_sudo() {
        assert_eq!(
            privilege(true, || panic!("sudo probed as root")),
            Some(Privilege::Root)
        );
    }

    #[test]
    fn a_user_with_passwordless_sudo_goes_through_it() {
        assert_eq!(privilege(false, || true), Some(Privilege::Sudo));
    }

    #[test]
    fn a_user_without_it_gets_no_way_to_install() {
        assert_eq!(privilege(false, || false), None);
    }

    #[test]
    fn sudo_never_prompts_and_keeps_apt_non_interactive() {
        let root = apt_get(Privilege::Root, &["install", "-y", "qemu-user"]);
        assert_eq!(
            root,
            [
                "env",
                "DEBIAN_FRONTEND=noninteractive",
                "apt-get",
                "-o",
                "DPkg::Lock::Timeout=300",
                "install",
                "-y",
                "qemu-user"
            ]
        );
        let sudo = apt_get(Privilege::Sudo, &["install", "-y", "qemu-user"]);
        assert_eq!(sudo[..2], ["sudo", "-n"]);
        assert_eq!(sudo[2..], root[..]);
    }
}
