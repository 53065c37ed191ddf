//! Addressing and NAT traversal for SIP, sans-IO.
//!
//! This crate will hold the bind-network policy (local or remote hostname per
//! destination), learning the public address from `received`/`rport` (RFC 3581),
//! keep-alive scheduling and a STUN binding codec (RFC 5389). It is empty until the
//! transport issue lands.

#![forbid(unsafe_code)]
