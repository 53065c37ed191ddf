//! SIP transports: UDP, TCP and TLS on tokio. The only crate of the stack that owns
//! sockets.
//!
//! [`Transport::bind`] opens the configured UDP socket and TCP/TLS listeners and hands
//! up [`TransportEvent`]s: parsed messages with their source, local address, transport
//! and connection, CRLF pongs, STUN answers, connections opening and closing.
//! [`Transport::send`] takes a [`Transmit`]: to a host, an address, or an open
//! connection.
//!
//! What it does for the layers above:
//! - one connection pool keyed by (transport, remote address, TLS server name), used in
//!   both directions: a request that arrived on a connection is answered on it
//!   ([`reply_destination`]), outgoing requests reuse open connections, and a TLS
//!   connection is reused only for the name it verified;
//! - stream framing with the message layer's `StreamFramer`, CRLF keep-alive pongs
//!   (RFC 5626 §3.5.1), idle and slow-message timeouts, a connection limit, and message
//!   size limits, so a slow or hostile peer cannot make memory grow without bound;
//! - RFC 3261 §18: UDP requests over 1300 bytes move to TCP (top Via rewritten);
//!   responses on UDP go to `received`/`rport`, on streams to the same connection;
//! - a malformed request gets its 400 (or 505, 513) where a response can be built;
//!   malformed responses are dropped;
//! - TLS with rustls: certificate chain and key from PEM (PKCS#8, PKCS#1, SEC1,
//!   encrypted PKCS#8 with a password or password callback); clients verify the server
//!   certificate against the SIP domain (RFC 5922) with system roots and extra CAs,
//!   send SNI, and may present a client certificate.

#![forbid(unsafe_code)]

mod config;
mod error;
mod event;
mod pinned;
mod reply;
mod resolve;
mod size;
pub mod tls;
mod transport;

pub use config::{KeyPassword, TlsClientConfig, TlsServerConfig, TransportConfig};
pub use error::TransportError;
pub use event::{CloseReason, ConnectionId, Destination, Incoming, Sent, Transmit, TransportEvent};
pub use reply::reply_destination;
pub use resolve::{ResolveFuture, Resolver, StaticResolver, SystemResolver};
pub use sip_message::TransportMode;
pub use size::request_over_tcp;
pub use transport::Transport;
