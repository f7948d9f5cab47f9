//! `cargo xtask ensure-deb`'s flags.

/// `cargo xtask ensure-deb PACKAGE`: what `test` does for qemu-user, for any package, so the
/// tests can run it as a non-root user with sudo, as on GitHub's runners.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The Debian package to install unless dpkg lists it as installed.
    pub package: String,
}
