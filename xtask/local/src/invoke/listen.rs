//! Where `--serve` listens: `localhost` as clients resolve it, 127.0.0.1 and ::1 on one port.
//!
//! Clients differ in which address of `localhost` they dial: curl and boto3 try both,
//! cargo-lambda's `invoke` dials `[::1]` alone. Listening on both answers them all.

use std::io;
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr};

use anyhow::{bail, Context, Result};
use tokio::net::TcpListener;

/// How many ports `--port 0` tries for one free on both addresses.
const ATTEMPTS: usize = 20;

/// The loopback listeners, all on one port.
pub(super) struct Loopback {
    pub listeners: Vec<TcpListener>,
    pub port: u16,
    /// Why ::1 is not among them, when it is not.
    pub no_ipv6: Option<io::Error>,
}

impl Loopback {
    pub(super) fn addresses(&self) -> Vec<SocketAddr> {
        self.listeners
            .iter()
            .filter_map(|l| l.local_addr().ok())
            .collect()
    }
}

/// What to do when ::1 cannot be had on the port 127.0.0.1 got.
#[derive(Debug, PartialEq, Eq)]
enum OnIpv6Error {
    /// Taken there, and any port will do: try another.
    AnotherPort,
    /// This machine has no IPv6 loopback (none configured, or IPv6 disabled).
    Ipv4Only,
    Fail,
}

fn on_ipv6_error(err: &io::Error, any_port: bool) -> OnIpv6Error {
    match err.kind() {
        io::ErrorKind::AddrInUse if any_port => OnIpv6Error::AnotherPort,
        io::ErrorKind::AddrNotAvailable => OnIpv6Error::Ipv4Only,
        _ if err.raw_os_error() == Some(libc::EAFNOSUPPORT) => OnIpv6Error::Ipv4Only,
        _ => OnIpv6Error::Fail,
    }
}

/// Listens on 127.0.0.1 and ::1 on `port` (0: one free on both), or on 127.0.0.1 alone
/// where the machine has no ::1.
pub(super) async fn bind_localhost(port: u16) -> Result<Loopback> {
    for _ in 0..ATTEMPTS {
        let v4 = TcpListener::bind((Ipv4Addr::LOCALHOST, port))
            .await
            .with_context(|| {
                format!(
                    "cannot listen on 127.0.0.1:{port}: pass another --port (0 picks a free one)"
                )
            })?;
        let bound = v4
            .local_addr()
            .context("reading the listening address")?
            .port();
        match TcpListener::bind((Ipv6Addr::LOCALHOST, bound)).await {
            Ok(v6) => {
                return Ok(Loopback {
                    listeners: vec![v4, v6],
                    port: bound,
                    no_ipv6: None,
                })
            }
            Err(err) => match on_ipv6_error(&err, port == 0) {
                OnIpv6Error::AnotherPort => continue,
                OnIpv6Error::Ipv4Only => {
                    return Ok(Loopback {
                        listeners: vec![v4],
                        port: bound,
                        no_ipv6: Some(err),
                    })
                }
                OnIpv6Error::Fail => {
                    return Err(err).with_context(|| {
                        format!(
                            "cannot listen on [::1]:{bound}, where clients resolving localhost \
                             to ::1 would connect: pass another --port (0 picks a free one)"
                        )
                    })
                }
            },
        }
    }
    bail!("found no port free on both 127.0.0.1 and ::1 in {ATTEMPTS} tries: pass one with --port")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_port_taken_on_ipv6_is_tried_again_only_when_any_will_do() {
        let in_use = io::Error::from(io::ErrorKind::AddrInUse);
        assert_eq!(on_ipv6_error(&in_use, true), OnIpv6Error::AnotherPort);
        assert_eq!(on_ipv6_error(&in_use, false), OnIpv6Error::Fail);
    }

    #[test]
    fn no_ipv6_loopback_means_ipv4_only() {
        let no_address = io::Error::from_raw_os_error(libc::EADDRNOTAVAIL);
        assert_eq!(on_ipv6_error(&no_address, false), OnIpv6Error::Ipv4Only);
        let no_family = io::Error::from_raw_os_error(libc::EAFNOSUPPORT);
        assert_eq!(on_ipv6_error(&no_family, true), OnIpv6Error::Ipv4Only);
        let denied = io::Error::from_raw_os_error(libc::EACCES);
        assert_eq!(on_ipv6_error(&denied, true), OnIpv6Error::Fail);
    }
}
