//! A small registrar and location proxy with digest authentication, built on the same
//! sans-IO core as the client (the transaction layer of `sip-client`, the verifier
//! of `sip-auth`): the embedded peer of `voip demo` and of the tests. Not a
//! production PBX: one process, bindings in memory, stateless forwarding.
//!
//! [`Registrar`] is the sans-IO core (messages and instants in, transmissions out);
//! with the `tokio` feature, [`server::RegistrarServer`] runs it on UDP, TCP and TLS.

#![forbid(unsafe_code)]

pub mod bindings;
mod core;
mod proxy;
mod register;
#[cfg(feature = "tokio")]
pub mod server;
pub mod users;

pub use bindings::{Binding, Bindings};
pub use core::{Registrar, RegistrarConfig, Stats, aor_of};
pub use users::{Users, UsersError};
