//! The driver contract every state machine of the stack follows (after str0m and
//! quinn-proto): one input, one output queue, one deadline.
//!
//! - [`Machine::handle_input`]: something from the network (bytes or a parsed message
//!   with its [`Peer`]) or a transport failure. API commands are methods of each
//!   machine (they return the id of what they start), and count as inputs too.
//! - [`Machine::poll_output`]: drained until `None` after every input, command or
//!   timeout; an output is a [`Transmit`] (the peer and transport are decided by the
//!   machine, so a transaction's timers always match the transport it really uses)
//!   or an event for the layer above.
//! - [`Machine::poll_timeout`] and [`Machine::handle_timeout`]: the one deadline a
//!   driver sleeps until.
//!
//! Time is always an argument: the machines never read a clock, so tests run hours of
//! protocol time in milliseconds. The canonical loop of a driver:
//!
//! ```text
//! loop {
//!     while let Some(out) = machine.poll_output() { send the transmit / deliver the event }
//!     select {
//!         bytes from the transport => machine.handle_input(Input::Message { .. }, now),
//!         a command from the API   => machine.<command>(.., now),
//!         a send failed            => machine.handle_input(Input::TransportError { .. }, now),
//!         sleep until poll_timeout => machine.handle_timeout(now),
//!     }
//! }
//! ```
//!
//! Machines owned by another machine (a transaction inside a call, a call inside the
//! endpoint) are driven the same way by their owner, with the owner's context passed
//! as an argument.

use std::time::Instant;

use bytes::Bytes;
use sip_message::Message;

use crate::peer::Peer;
use crate::transaction::event::TxId;

/// Bytes for a peer, on the transport the machine chose.
#[derive(Clone, Debug)]
pub struct Transmit {
    /// Where (transport, address, connection, TLS name).
    pub peer: Peer,
    /// What.
    pub bytes: Bytes,
    /// The transaction sending it, if any: a failure to send is reported back as
    /// [`Input::TransportError`] for it.
    pub tx: Option<TxId>,
}

/// What a machine hands its driver.
#[derive(Debug)]
#[allow(clippy::large_enum_variant)]
pub enum Output<E> {
    /// Bytes to send.
    Transmit(Transmit),
    /// Something for the layer above or the application.
    Event(E),
}

/// What the network feeds a SIP machine.
#[derive(Debug)]
#[allow(clippy::large_enum_variant)]
pub enum Input {
    /// A datagram or framed stream message, still to be parsed (a malformed request
    /// gets the response the parser names: 400, 413, 505...).
    Bytes {
        /// The bytes.
        bytes: Bytes,
        /// Where they came from.
        peer: Peer,
    },
    /// A message the transport already parsed.
    Message {
        /// The message.
        message: Message,
        /// Where it came from.
        peer: Peer,
    },
    /// Sending for a transaction failed (connection refused, TLS verification, ICMP).
    TransportError {
        /// The transaction.
        tx: TxId,
    },
}

/// A sans-IO state machine driven by the contract above.
pub trait Machine {
    /// What it is fed.
    type Input;
    /// What it reports.
    type Event;

    /// One input; drain [`Machine::poll_output`] afterwards.
    fn handle_input(&mut self, input: Self::Input, now: Instant);

    /// The next output, or `None` when the queue is empty.
    fn poll_output(&mut self) -> Option<Output<Self::Event>>;

    /// When [`Machine::handle_timeout`] is next due.
    fn poll_timeout(&self) -> Option<Instant>;

    /// Runs everything due by `now`.
    fn handle_timeout(&mut self, now: Instant);
}
