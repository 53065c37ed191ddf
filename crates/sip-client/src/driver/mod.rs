//! The tokio side: one loop that drives any sans-IO [`Machine`] fed by
//! sip-transport (the UA's [`Endpoint`](crate::Endpoint) for [`SipClient`], the
//! registrar), written once.
//!
//! One task owns the machine and the transport's event channel. Commands arrive on a
//! bounded channel; the machine's transmits go, in order, through one writer task,
//! whose failures come back as [`Input::TransportError`] for their transaction. The
//! loop keeps one sleep, on the machine's deadline, and gives the machine tokio's
//! clock (`tokio::time::Instant`), so tests under `tokio::time::pause()` run the
//! protocol's timers in virtual time. No lock is held anywhere.

mod api;
mod client;
mod handles;
mod ua_host;

use std::time::Duration;

use sip_message::TransportMode;
use sip_transport::{Destination, Transmit as Send, Transport, TransportError, TransportEvent};
use tokio::sync::mpsc;

use crate::machine::{Input, Machine, Output, Transmit};
use crate::peer::Peer;
use crate::transaction::TxId;

pub use api::{ClientError, Registered};
pub use client::{SipClient, SipClientConfig};
pub use handles::{CallControl, CallHandle, ClientEvent, IncomingCall, RequestHandle};

/// A message crossing the wire, shown to a [`Tap`].
#[derive(Clone, Copy, Debug)]
pub enum Wire<'a> {
    /// Bytes handed to the transport for `peer`.
    Sent {
        /// Where.
        peer: &'a Peer,
        /// What.
        bytes: &'a bytes::Bytes,
    },
    /// A message received from `peer`.
    Received {
        /// From where.
        peer: &'a Peer,
        /// What.
        message: &'a sip_message::Message,
    },
}

/// Sees every message the loop sends and receives (traces, the `voip` command's
/// ladder). It runs on the loop: keep it quick.
pub type Tap = std::sync::Arc<dyn Fn(Wire<'_>) + std::marker::Send + Sync>;

/// The current instant on tokio's clock, as the machines take it.
pub fn now() -> std::time::Instant {
    tokio::time::Instant::now().into_std()
}

/// Where sip-transport sends for a [`Peer`]: on its connection when it came on one
/// (falling back to a new connection to its address, except for TLS, whose name
/// would be unknown), else to its address.
pub fn destination(peer: &Peer) -> Destination {
    let addr = Destination::Addr {
        mode: peer.mode,
        addr: peer.addr,
        tls_name: peer.tls_name.clone(),
    };
    match peer.connection {
        Some(c) => Destination::Connection {
            id: sip_transport::ConnectionId(c),
            fallback: (peer.mode != TransportMode::Tls || peer.tls_name.is_some())
                .then(|| Box::new(addr)),
        },
        None => addr,
    }
}

/// What a program running a machine adds to the loop: its commands, what it does
/// with the machine's events, and when it is done.
pub trait Host<M: Machine> {
    /// The commands of its API.
    type Command: std::marker::Send;

    /// A command; false stops taking further commands (the host is stopping).
    fn on_command(&mut self, machine: &mut M, command: Self::Command) -> bool;

    /// Every command sender is gone.
    fn on_closed(&mut self, machine: &mut M);

    /// An event of the machine.
    fn on_event(&mut self, machine: &mut M, event: M::Event);

    /// A send failed (the transaction, if any, is told through the machine).
    fn on_send_failure(&mut self, _error: TransportError) {}

    /// A transport event other than a message (connections opening and closing).
    fn on_transport_event(&mut self, _event: TransportEvent) {}

    /// Whether the loop may end now.
    fn finished(&self, machine: &M) -> bool;

    /// A deadline of the host's own (the end of a graceful stop).
    fn deadline(&self) -> Option<tokio::time::Instant> {
        None
    }

    /// The loop ended.
    fn on_stopped(&mut self) {}
}

/// A transmission and the transaction it belongs to, for the writer task.
type Queued = Transmit;

/// Sends in order; reports failures back to the loop.
async fn writer(
    transport: Transport,
    mut rx: mpsc::UnboundedReceiver<Queued>,
    failures: mpsc::UnboundedSender<(Option<TxId>, TransportError)>,
) {
    while let Some(t) = rx.recv().await {
        let s = Send {
            destination: destination(&t.peer),
            bytes: t.bytes,
            // The transport was decided where the transaction was made.
            allow_tcp_upgrade: false,
        };
        if let Err(e) = transport.send(s).await {
            tracing::debug!(peer = %t.peer, error = %e, "send failed");
            let _ = failures.send((t.tx, e));
        }
    }
}

fn drain<M: Machine, H: Host<M>>(
    machine: &mut M,
    host: &mut H,
    out: &mpsc::UnboundedSender<Queued>,
    tap: Option<&Tap>,
) {
    while let Some(o) = machine.poll_output() {
        match o {
            Output::Transmit(t) => {
                if let Some(tap) = tap {
                    tap(Wire::Sent {
                        peer: &t.peer,
                        bytes: &t.bytes,
                    });
                }
                let _ = out.send(t);
            }
            Output::Event(e) => host.on_event(machine, e),
        }
    }
}

/// Runs `machine` on `transport` until the host is finished or the transport closes.
///
/// The writer's queue is unbounded on purpose: the writer drains it as fast as the
/// sockets take bytes, and a bounded queue would make the protocol core wait on a
/// slow peer's connection, stalling every other call.
pub async fn run<M, H>(
    mut machine: M,
    transport: Transport,
    mut transport_rx: mpsc::Receiver<TransportEvent>,
    mut commands: mpsc::Receiver<H::Command>,
    mut host: H,
    tap: Option<Tap>,
) where
    M: Machine<Input = Input>,
    H: Host<M>,
{
    let (out_tx, out_rx) = mpsc::unbounded_channel();
    let (fail_tx, mut fail_rx) = mpsc::unbounded_channel();
    tokio::spawn(writer(transport.clone(), out_rx, fail_tx));
    let mut accepting = true;
    loop {
        drain(&mut machine, &mut host, &out_tx, tap.as_ref());
        if host.finished(&machine) {
            break;
        }
        let deadline = machine.poll_timeout().map(tokio::time::Instant::from_std);
        let wake = [deadline, host.deadline()].into_iter().flatten().min();
        tokio::select! {
            ev = transport_rx.recv() => match ev {
                Some(TransportEvent::Message(m)) => {
                    let peer = Peer {
                        mode: m.mode,
                        addr: m.source,
                        connection: m.connection.map(|c| c.0),
                        tls_name: None,
                    };
                    if let Some(tap) = &tap {
                        tap(Wire::Received { peer: &peer, message: &m.message });
                    }
                    machine.handle_input(Input::Message { message: m.message, peer }, now());
                }
                Some(other) => host.on_transport_event(other),
                None => break,
            },
            cmd = commands.recv(), if accepting => match cmd {
                Some(c) => accepting = host.on_command(&mut machine, c),
                None => {
                    accepting = false;
                    host.on_closed(&mut machine);
                }
            },
            Some((tx, error)) = fail_rx.recv() => {
                host.on_send_failure(error);
                if let Some(tx) = tx {
                    machine.handle_input(Input::TransportError { tx }, now());
                }
            }
            _ = async {
                match wake {
                    Some(w) => tokio::time::sleep_until(w).await,
                    None => std::future::pending().await,
                }
            } => machine.handle_timeout(now()),
        }
    }
    drain(&mut machine, &mut host, &out_tx, tap.as_ref());
    // Let the writer flush the last messages (a deregistration, a BYE).
    drop(out_tx);
    tokio::time::sleep(Duration::from_millis(20)).await;
    transport.shutdown();
    host.on_stopped();
}
