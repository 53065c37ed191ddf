//! Where a message goes or came from, as the sans-IO core sees it.

use std::fmt;
use std::net::SocketAddr;

use sip_message::TransportMode;

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

    /// Whether the transport is reliable (no retransmissions).
    pub fn reliable(&self) -> bool {
        self.mode.is_reliable()
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
