//! What the transport hands up and what it takes.

use std::net::SocketAddr;

use bytes::Bytes;
use sip_message::Message;

use sip_message::TransportMode;

/// Identifies one TCP or TLS connection for as long as it is open.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ConnectionId(pub u64);

impl std::fmt::Display for ConnectionId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "conn-{}", self.0)
    }
}

/// A message that arrived.
#[derive(Debug)]
pub struct Incoming {
    /// The parsed message.
    pub message: Message,
    /// Who sent it.
    pub source: SocketAddr,
    /// Where it arrived.
    pub local: SocketAddr,
    /// On which transport.
    pub mode: TransportMode,
    /// The connection it came on (streams only): reply on it.
    pub connection: Option<ConnectionId>,
}

/// Why a connection closed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CloseReason {
    /// The peer closed it.
    PeerClosed,
    /// No traffic for the idle timeout.
    Idle,
    /// A message did not complete within the message timeout (slow peer).
    MessageTimeout,
    /// The stream could not be framed (bad Content-Length, a line too long...).
    Framing(String),
    /// A read or write failed.
    Io(String),
    /// The transport shut down.
    Shutdown,
}

/// What the transport reports.
#[derive(Debug)]
pub enum TransportEvent {
    /// A SIP message arrived.
    Message(Box<Incoming>),
    /// A CRLF pong arrived on a connection (RFC 5626 keep-alive answer).
    Pong(ConnectionId),
    /// A STUN message arrived on UDP (a keep-alive answer with our public address).
    Stun {
        /// Who sent it.
        source: SocketAddr,
        /// The decoded message.
        message: sip_nat::stun::StunMessage,
    },
    /// A connection opened (accepted or connected).
    ConnectionOpened {
        /// The connection.
        id: ConnectionId,
        /// TCP or TLS.
        mode: TransportMode,
        /// The peer.
        remote: SocketAddr,
    },
    /// A connection closed.
    ConnectionClosed {
        /// The connection.
        id: ConnectionId,
        /// TCP or TLS.
        mode: TransportMode,
        /// The peer.
        remote: SocketAddr,
        /// Why.
        reason: CloseReason,
    },
}

/// Where to send.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Destination {
    /// A host name or IP literal and a port. For TLS the certificate is checked
    /// against `tls_name`, or against `host` when none is given (RFC 5922).
    Host {
        /// The transport.
        mode: TransportMode,
        /// The host.
        host: String,
        /// The port.
        port: u16,
        /// The name the TLS certificate must carry.
        tls_name: Option<String>,
    },
    /// A resolved address.
    Addr {
        /// The transport.
        mode: TransportMode,
        /// The address.
        addr: SocketAddr,
        /// The name the TLS certificate must carry (required for TLS).
        tls_name: Option<String>,
    },
    /// An open connection (replies to requests that came on a stream); when it is gone,
    /// `fallback` (if any) is used.
    Connection {
        /// The connection.
        id: ConnectionId,
        /// Where to connect instead.
        fallback: Option<Box<Destination>>,
    },
}

/// A message to send.
#[derive(Clone, Debug)]
pub struct Transmit {
    /// Where.
    pub destination: Destination,
    /// The bytes of one SIP message.
    pub bytes: Bytes,
    /// Whether a UDP request too large for a datagram may go over TCP instead
    /// (RFC 3261 §18.1.1); false when the target URI insists on UDP.
    pub allow_tcp_upgrade: bool,
}

/// How a message went out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Sent {
    /// The transport used (TCP when a large UDP request was moved).
    pub mode: TransportMode,
    /// The peer.
    pub remote: SocketAddr,
    /// Our address.
    pub local: SocketAddr,
    /// The connection, for streams.
    pub connection: Option<ConnectionId>,
}
