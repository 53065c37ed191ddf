//! The SIP protocol core: transactions (RFC 3261 §17, RFC 6026), dialogs,
//! registration and the UA's answers, as sans-IO state machines; and, behind the
//! `tokio` feature, the driver that joins them to sockets.
//!
//! # The driver contract
//!
//! Every state machine here is driven the same way (after quinn-proto and str0m):
//!
//! - `handle_*(input, now)`: a received message (with its [`Peer`]), an API command,
//!   or a transport error;
//! - `poll_output()`: drained until `None` after every input; outputs are transmits
//!   (bytes for a peer) and events for the layer above;
//! - `poll_timeout()` and `handle_timeout(now)`: one deadline for the driver.
//!
//! Time is an argument and randomness is injected, so tests run hours of protocol
//! time over a lossy simulated network in milliseconds. The canonical loop:
//!
//! ```text
//! loop {
//!     while let Some(out) = core.poll_output() { send or deliver it }
//!     select {
//!         message from the transport => core.handle_message(msg, peer, now),
//!         command from the API       => core.<command>(..., now),
//!         sleep until poll_timeout() => core.handle_timeout(now),
//!     }
//! }
//! ```

#![forbid(unsafe_code)]

pub mod dialog;
#[cfg(feature = "tokio")]
pub mod driver;
pub mod endpoint;
pub mod ids;
mod peer;
pub mod registration;
pub mod simnet;
mod timers;
pub mod transaction;

pub use dialog::{Dialog, DialogId, DialogState};
#[cfg(feature = "tokio")]
pub use driver::{ClientError, Registered, RequestHandle, SipClient, SipClientConfig};
pub use endpoint::{
    DialogRequest, Endpoint, EndpointConfig, Event, OutgoingRequest, Output, RequestError,
    RequestId,
};
pub use peer::{Peer, uri_in};
pub use registration::{
    AccountId, Registration, RegistrationConfig, RegistrationError, RegistrationEvent,
    RegistrationState,
};
pub use timers::TimerConfig;
pub use transaction::{TransactionLayer, TxError, TxEvent, TxId, TxOutput};
