//! Where a message goes or came from, as the sans-IO core sees it.

use std::fmt;
use std::net::SocketAddr;

use sip_message::{TransportMode, Uri};

/// A transport endpoint: the transport, the address, and for streams the connection
/// to use (the one a request came on) and the TLS name to verify.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Peer {
    /// UDP, TCP or TLS.
    pub mode: TransportMode,
    /// The remote address.
    pub addr: SocketAddr,
    /// The connection to send on (streams), when known.
    pub connection: Option<u64>,
    /// The name a TLS certificate must carry.
    pub tls_name: Option<String>,
}

impl Peer {
    /// A UDP peer.
    pub fn udp(addr: SocketAddr) -> Peer {
        Peer {
            mode: TransportMode::Udp,
            addr,
            connection: None,
            tls_name: None,
        }
    }

    /// A peer on any transport, with no connection yet.
    pub fn new(mode: TransportMode, addr: SocketAddr) -> Peer {
        Peer {
            mode,
            addr,
            connection: None,
            tls_name: None,
        }
    }

    /// The peer a URI names when its host (or `maddr`) is an IP literal: the
    /// transport from `sips:` or the `transport` parameter, the port or the
    /// transport's default. Names need a resolver and give `None`. A value in angle
    /// brackets (a Route entry) is read for the URI inside.
    pub fn for_uri(uri: &str) -> Option<Peer> {
        let u = Uri::parse(uri_in(uri)).ok()?;
        let host = u.maddr().unwrap_or(u.host());
        let ip: std::net::IpAddr = host.trim_matches(['[', ']']).parse().ok()?;
        let mode = TransportMode::for_uri(&u)?;
        let port = u.port().unwrap_or(mode.default_port());
        Some(Peer::new(mode, SocketAddr::new(ip, port)))
    }

    /// Where responses to a request that came from this peer go (RFC 3261 §18.2.2,
    /// RFC 3581): the same connection on streams; on UDP the source address, with
    /// the sent-by port unless the top Via asked for `rport`.
    pub fn reply_to(&self, top_via: &sip_message::headers::Via<'_>) -> Peer {
        if self.mode.is_stream() {
            return self.clone();
        }
        Peer {
            addr: sip_nat::response_address(top_via, self.addr, self.mode),
            ..self.clone()
        }
    }

    /// Whether the transport is reliable (no retransmissions).
    pub fn reliable(&self) -> bool {
        self.mode.is_reliable()
    }
}

/// The URI inside a name-addr value (`<sip:p1.example.com;lr>` gives
/// `sip:p1.example.com;lr`); a bare URI as it is.
pub fn uri_in(value: &str) -> &str {
    match (value.find('<'), value.find('>')) {
        (Some(a), Some(b)) if a < b => &value[a + 1..b],
        _ => value,
    }
}

impl fmt::Display for Peer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.mode, self.addr)?;
        if let Some(c) = self.connection {
            write!(f, " (conn {c})")?;
        }
        Ok(())
    }
}
