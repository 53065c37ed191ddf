//! SIP transports: the only crate that owns sockets.
//!
//! This crate will hold UDP sockets, TCP and TLS (rustls) listeners and connectors, the
//! connection pool keyed by transport, remote address and TLS server name, and the
//! RFC 3261 §18 sending and response rules. It is empty until the transport issue lands.

#![forbid(unsafe_code)]
