//! Addressing and NAT traversal for SIP, sans-IO: which address we are at for whom.
//!
//! - [`NatPolicy`]: pyVoIP's bind network, host name and remote host name rules
//!   (`get_host`, `check_host`), without advertising an unspecified address.
//! - [`AddressLearner`]: the public address from `received`/`rport` (RFC 3581), and when
//!   Contact must be refreshed.
//! - [`KeepAlive`]: the RFC 5626 keep-alive timer (CRLF ping/pong on streams, CRLF or
//!   STUN on UDP), driven by `poll_timeout`/`handle_timeout`.
//! - [`stun`]: a STUN binding codec (RFC 5389) checked against the RFC 5769 vectors.
//!
//! Nothing here opens a socket or reads the clock: time and routes are passed in.

#![forbid(unsafe_code)]

mod keepalive;
mod learn;
mod policy;
mod response;
pub mod stun;

pub use keepalive::{KeepAlive, KeepAliveAction, KeepAliveInput, KeepAliveKind};
pub use learn::{AddressLearner, Observation};
pub use policy::{NatError, NatPolicy, NoRoutes, Reach, RouteLookup};
pub use response::response_address;
