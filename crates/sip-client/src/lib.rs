//! The SIP protocol core: transactions (RFC 3261 §17, RFC 6026), registration,
//! calls (INVITE sessions with their dialogs, offer/answer, CANCEL, re-INVITE,
//! UPDATE, BYE), plain requests, and the answers a UA gives on its own, as sans-IO
//! state machines; and, behind the `tokio` feature, the driver that joins them to
//! sockets.
//!
//! # The driver contract
//!
//! Every machine here is driven the same way (after quinn-proto and str0m); see
//! [`machine`] for the contract and the canonical loop:
//!
//! - [`Machine::handle_input`]: bytes or a parsed message with its [`Peer`], or a
//!   transport failure; commands are methods that return what they started;
//! - [`Machine::poll_output`]: drained until `None` after every input: a
//!   [`Transmit`] or an event;
//! - [`Machine::poll_timeout`] and [`Machine::handle_timeout`]: one deadline.
//!
//! Time is an argument and randomness is injected, so tests run hours of protocol
//! time over a lossy simulated network (the `sim` feature) in milliseconds.
//!
//! # One machine per concern
//!
//! - [`transaction`]: the transaction layer; it decides the transport of each request
//!   (RFC 3261 §18.1.1) where the transaction is made.
//! - [`registration`]: one [`Registration`] per account.
//! - [`call`]: one [`InviteSession`] per call.
//! - [`Endpoint`]: routes each message and timer to the machine that owns it, and
//!   answers what no machine owns.

#![forbid(unsafe_code)]

mod answers;
pub mod call;
mod config;
mod context;
pub mod dialog;
#[cfg(feature = "tokio")]
pub mod driver;
pub mod endpoint;
mod ids;
pub mod machine;
pub mod mwi;
mod peer;
pub mod registration;
mod request_build;
mod requests;
#[cfg(feature = "sim")]
pub mod simnet;
mod timers;
pub mod transaction;

pub use call::{CallError, CallEvent, CallSpec, CallState, EndReason, InviteSession, Role};
pub use config::{EndpointConfig, SessionTimerConfig};
pub use context::{AccountId, CallId, RequestId};
pub use dialog::{Dialog, DialogState};
#[cfg(feature = "tokio")]
pub use driver::{
    CallControl, CallHandle, ClientError, ClientEvent, IncomingCall, Registered, RequestHandle,
    SipClient, SipClientConfig, Tap, Wire,
};
pub use endpoint::{Endpoint, Event};
pub use ids::instance_id;
pub use machine::{Input, Machine, Output, Transmit};
pub use mwi::{MessageCounts, MessageSummary};
pub use peer::{Peer, uri_in};
pub use registration::{
    Registration, RegistrationConfig, RegistrationError, RegistrationEvent, RegistrationState,
};
pub use request_build::BuildError;
pub use requests::{OutgoingRequest, RequestError};
pub use timers::TimerConfig;
pub use transaction::{TransactionLayer, TxError, TxEvent, TxId, TxOutput};
