//! Which host name we give a peer: pyVoIP's NAT rules, without its pitfalls.
//!
//! A destination inside `bind_network` gets `hostname`; one outside gets
//! `remote_hostname` (or, unlike pyVoIP, the public address learned from `rport`);
//! with neither, [`NatError`]. Unlike pyVoIP, an unspecified bind address (`0.0.0.0`,
//! `::`) is never advertised: without a `hostname`, the local address of the route
//! toward the destination is used, as the transport reports it through [`RouteLookup`].

use std::net::{IpAddr, SocketAddr};

use ipnet::IpNet;

/// Whether a host is us (this machine, as we advertise it) or someone else.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reach {
    /// The host is one of our own names or addresses.
    Local,
    /// Any other host.
    Remote,
}

/// No address can be given for a destination.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum NatError {
    /// The destination is outside the bind network and no remote host name (or learned
    /// public address) is known.
    #[error(
        "no remote hostname for {0}: cannot give a return path to hosts outside the bind network"
    )]
    NoRemoteHostname(IpAddr),
    /// Bound to an unspecified address, no host name set, and no route toward the
    /// destination.
    #[error("no local address toward {0}")]
    NoRoute(IpAddr),
}

/// Finds the local address the system would use to reach a destination (the
/// transport answers with a connected UDP socket's local address).
pub trait RouteLookup {
    /// The local address of the route toward `dest`, if there is one.
    fn local_address_toward(&self, dest: IpAddr) -> Option<IpAddr>;
}

/// A lookup that knows no routes (for tests and fully configured policies).
#[derive(Clone, Copy, Debug, Default)]
pub struct NoRoutes;

impl RouteLookup for NoRoutes {
    fn local_address_toward(&self, _dest: IpAddr) -> Option<IpAddr> {
        None
    }
}

impl<F: Fn(IpAddr) -> Option<IpAddr>> RouteLookup for F {
    fn local_address_toward(&self, dest: IpAddr) -> Option<IpAddr> {
        self(dest)
    }
}

/// The address rules of one UA.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NatPolicy {
    /// The address the sockets are bound to (may be unspecified).
    pub bind_ip: IpAddr,
    /// The network whose hosts reach us at `hostname` (IPv4 or IPv6 CIDR).
    pub bind_network: IpNet,
    /// How hosts inside the bind network reach us; `None` means the bind address, or
    /// when that is unspecified, the local address of the route.
    pub hostname: Option<String>,
    /// How hosts outside the bind network reach us (a public name or address).
    pub remote_hostname: Option<String>,
    /// The public address learned from `received`/`rport`, used for remote hosts when
    /// no `remote_hostname` is set.
    pub learned_public: Option<SocketAddr>,
}

impl NatPolicy {
    /// A policy for `bind_ip` and `bind_network`, with no host names.
    pub fn new(bind_ip: IpAddr, bind_network: IpNet) -> NatPolicy {
        NatPolicy {
            bind_ip,
            bind_network,
            hostname: None,
            remote_hostname: None,
            learned_public: None,
        }
    }

    /// Sets the name hosts inside the bind network use.
    pub fn with_hostname(mut self, hostname: &str) -> NatPolicy {
        self.hostname = Some(hostname.to_string());
        self
    }

    /// Sets the name hosts outside the bind network use.
    pub fn with_remote_hostname(mut self, hostname: &str) -> NatPolicy {
        self.remote_hostname = Some(hostname.to_string());
        self
    }

    /// The host we give `dest` for reaching us (for Via, Contact and SDP).
    pub fn get_host(&self, dest: IpAddr, routes: &dyn RouteLookup) -> Result<String, NatError> {
        if self.bind_network.contains(&dest) {
            if let Some(h) = &self.hostname {
                return Ok(h.clone());
            }
            if !self.bind_ip.is_unspecified() {
                return Ok(self.bind_ip.to_string());
            }
            return routes
                .local_address_toward(dest)
                .filter(|a| !a.is_unspecified())
                .map(|a| a.to_string())
                .ok_or(NatError::NoRoute(dest));
        }
        if let Some(h) = &self.remote_hostname {
            return Ok(h.clone());
        }
        if let Some(p) = self.learned_public {
            return Ok(p.ip().to_string());
        }
        Err(NatError::NoRemoteHostname(dest))
    }

    /// Whether `host` names us: our host names, the bind address, or the learned
    /// public address.
    pub fn check_host(&self, host: &str) -> Reach {
        let host = host.trim_start_matches('[').trim_end_matches(']');
        let names = [self.hostname.as_deref(), self.remote_hostname.as_deref()];
        if names.iter().flatten().any(|n| n.eq_ignore_ascii_case(host)) {
            return Reach::Local;
        }
        match host.parse::<IpAddr>() {
            Ok(ip) if ip == self.bind_ip || self.learned_public.is_some_and(|p| p.ip() == ip) => {
                Reach::Local
            }
            _ => Reach::Remote,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn net(s: &str) -> IpNet {
        s.parse().unwrap()
    }

    #[test]
    fn pyvoip_get_host_cases() {
        for (network, inside, outside) in [
            ("192.168.1.0/24", "192.168.1.20", "192.168.2.20"),
            ("192.168.0.0/16", "192.168.200.1", "192.169.0.1"),
            ("10.0.0.0/8", "10.255.0.1", "11.0.0.1"),
            ("2001:db8:1::/48", "2001:db8:1::9", "2001:db8:2::9"),
        ] {
            let p = NatPolicy::new(ip("192.168.1.5"), net(network))
                .with_hostname("pbx-1.lan")
                .with_remote_hostname("voip.example.com");
            assert_eq!(
                p.get_host(ip(inside), &NoRoutes).unwrap(),
                "pbx-1.lan",
                "{network}"
            );
            assert_eq!(
                p.get_host(ip(outside), &NoRoutes).unwrap(),
                "voip.example.com",
                "{network}"
            );
            let no_remote = NatPolicy::new(ip("192.168.1.5"), net(network));
            assert_eq!(
                no_remote.get_host(ip(inside), &NoRoutes).unwrap(),
                "192.168.1.5"
            );
            assert_eq!(
                no_remote.get_host(ip(outside), &NoRoutes),
                Err(NatError::NoRemoteHostname(ip(outside)))
            );
        }
    }

    #[test]
    fn unspecified_bind_is_never_advertised() {
        let p = NatPolicy::new(ip("0.0.0.0"), net("0.0.0.0/0"));
        assert_eq!(
            p.get_host(ip("127.0.0.1"), &NoRoutes),
            Err(NatError::NoRoute(ip("127.0.0.1")))
        );
        let routes = |d: IpAddr| (d == ip("192.0.2.9")).then(|| ip("192.0.2.1"));
        assert_eq!(p.get_host(ip("192.0.2.9"), &routes).unwrap(), "192.0.2.1");
        let unspecified_route = |_d: IpAddr| Some(ip("0.0.0.0"));
        assert!(p.get_host(ip("192.0.2.9"), &unspecified_route).is_err());
        let v6 = NatPolicy::new(ip("::"), net("::/0"));
        assert_eq!(v6.get_host(ip("::1"), &|_| Some(ip("::1"))).unwrap(), "::1");
    }

    #[test]
    fn learned_public_address_serves_remote_hosts() {
        let mut p = NatPolicy::new(ip("192.168.1.5"), net("192.168.1.0/24"));
        p.learned_public = Some("203.0.113.7:41000".parse().unwrap());
        assert_eq!(
            p.get_host(ip("198.51.100.1"), &NoRoutes).unwrap(),
            "203.0.113.7"
        );
        assert_eq!(p.check_host("203.0.113.7"), Reach::Local);
    }

    #[test]
    fn check_host() {
        let p = NatPolicy::new(ip("192.168.1.5"), net("192.168.1.0/24"))
            .with_hostname("me.lan")
            .with_remote_hostname("me.example.com");
        assert_eq!(p.check_host("ME.lan"), Reach::Local);
        assert_eq!(p.check_host("me.example.com"), Reach::Local);
        assert_eq!(p.check_host("192.168.1.5"), Reach::Local);
        assert_eq!(p.check_host("192.168.1.6"), Reach::Remote);
        assert_eq!(p.check_host("pbx.example.com"), Reach::Remote);
        let v6 = NatPolicy::new(ip("2001:db8::5"), net("2001:db8::/64"));
        assert_eq!(v6.check_host("[2001:db8::5]"), Reach::Local);
    }
}
