//! Transport errors.

use std::net::SocketAddr;
use std::path::PathBuf;

use sip_message::TransportMode;

/// What went wrong on a transport.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TransportError {
    /// A socket could not be bound.
    #[error("cannot bind {mode} on {addr}: {source}")]
    Bind {
        /// The transport.
        mode: TransportMode,
        /// The address.
        addr: SocketAddr,
        /// The cause.
        source: std::io::Error,
    },
    /// The transport was not configured (no TLS listener and client, say).
    #[error("{0} is not enabled on this transport")]
    NotEnabled(TransportMode),
    /// A host name did not resolve.
    #[error("cannot resolve {host}: {reason}")]
    Resolve {
        /// The name.
        host: String,
        /// Why.
        reason: String,
    },
    /// Connecting failed or timed out.
    #[error("cannot connect to {addr} over {mode}: {reason}")]
    Connect {
        /// The transport.
        mode: TransportMode,
        /// The address.
        addr: SocketAddr,
        /// Why.
        reason: String,
    },
    /// The TLS handshake failed (certificate for another name, untrusted issuer...).
    #[error("TLS with {addr} failed: {reason}")]
    Tls {
        /// The peer.
        addr: SocketAddr,
        /// Why, as rustls tells it.
        reason: String,
    },
    /// A certificate or key file could not be loaded.
    #[error("cannot load {path}: {reason}")]
    Load {
        /// The file.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// An encrypted private key did not decrypt with the password given.
    #[error("cannot decrypt the private key in {path}: wrong password or unsupported encryption")]
    KeyPassword {
        /// The file.
        path: PathBuf,
    },
    /// An encrypted private key but no password.
    #[error("the private key in {path} is encrypted and no key password was given")]
    KeyPasswordMissing {
        /// The file.
        path: PathBuf,
    },
    /// The connection is closed (a reply on a connection that went away).
    #[error("connection {0} is closed")]
    ConnectionClosed(u64),
    /// The connection limit is reached.
    #[error("too many connections (limit {0})")]
    TooManyConnections(usize),
    /// Sending failed.
    #[error("send to {addr} over {mode} failed: {source}")]
    Send {
        /// The transport.
        mode: TransportMode,
        /// The address.
        addr: SocketAddr,
        /// The cause.
        source: std::io::Error,
    },
    /// The message is larger than a UDP datagram can carry and TCP is not allowed.
    #[error("message of {0} bytes too large for UDP")]
    TooLargeForUdp(usize),
}
