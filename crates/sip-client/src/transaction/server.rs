//! Server transactions (RFC 3261 §17.2 with RFC 6026's Accepted state).

use std::time::{Duration, Instant};

use bytes::Bytes;

use crate::peer::Peer;
use crate::timers::TimerConfig;

/// The state of a server transaction.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ServerState {
    /// The request arrived; no final response yet (Proceeding / Trying).
    Proceeding,
    /// A final response was sent; answering retransmissions with it.
    Completed,
    /// The ACK for a non-2xx final response to INVITE arrived.
    Confirmed,
    /// A 2xx to INVITE was sent (RFC 6026); the TU retransmits it until the ACK.
    Accepted,
    /// Done.
    Terminated,
}

/// What a server transaction asks of the layer.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum ServerAction {
    /// Send these bytes to the peer.
    Send(Bytes),
    /// No ACK came for a non-2xx final response to INVITE (Timer H).
    AckTimeout,
}

/// One server transaction.
#[derive(Debug)]
pub(crate) struct ServerTx {
    pub(crate) state: ServerState,
    pub(crate) invite: bool,
    pub(crate) peer: Peer,
    reliable: bool,
    last_response: Option<Bytes>,
    /// When to send 100 Trying for an INVITE the TU has not answered yet.
    trying_at: Option<Instant>,
    retransmit_at: Option<Instant>,
    interval: Duration,
    timeout_at: Option<Instant>,
    end_at: Option<Instant>,
    timers: TimerConfig,
}

impl ServerTx {
    pub(crate) fn new(invite: bool, peer: Peer, timers: TimerConfig, now: Instant) -> ServerTx {
        let reliable = peer.reliable();
        ServerTx {
            state: ServerState::Proceeding,
            invite,
            peer,
            reliable,
            last_response: None,
            // RFC 3261 §17.2.1: a 100 Trying unless the TU answers within 200 ms.
            trying_at: invite.then(|| now + Duration::from_millis(200)),
            retransmit_at: None,
            interval: timers.t1,
            timeout_at: None,
            // A TU that never answers a non-INVITE request must not leak the
            // transaction: after 64·T1 the client has given up (Timer F). An INVITE
            // rings as long as its TU lets it (RFC 3261 §13.3.1.1); the TU answers
            // it or ends it.
            end_at: (!invite).then(|| now + timers.t1x64()),
            timers,
        }
    }

    pub(crate) fn deadline(&self) -> Option<Instant> {
        [
            self.trying_at,
            self.retransmit_at,
            self.timeout_at,
            self.end_at,
        ]
        .into_iter()
        .flatten()
        .min()
    }

    /// The request came again.
    pub(crate) fn on_retransmission(&mut self) -> Option<ServerAction> {
        match self.state {
            ServerState::Proceeding | ServerState::Completed => {
                self.last_response.clone().map(ServerAction::Send)
            }
            // Accepted: absorbed (RFC 6026: the TU retransmits the 2xx itself).
            _ => None,
        }
    }

    /// An ACK matched (non-2xx final response to INVITE).
    pub(crate) fn on_ack(&mut self, now: Instant) {
        if self.state == ServerState::Completed && self.invite {
            self.state = ServerState::Confirmed;
            self.retransmit_at = None;
            self.timeout_at = None;
            let wait = self.timers.t4_unless_reliable(self.reliable); // Timer I
            self.end_at = Some(now + wait);
            if wait.is_zero() {
                self.state = ServerState::Terminated;
            }
        }
    }

    /// The TU sends a response with status `code`. Returns false when the transaction
    /// cannot send it any more.
    pub(crate) fn respond(
        &mut self,
        code: u16,
        bytes: Bytes,
        now: Instant,
    ) -> Option<ServerAction> {
        self.trying_at = None;
        match (self.state, code) {
            (ServerState::Proceeding, 100..=199) => {}
            (ServerState::Proceeding, 200..=299) if self.invite => {
                self.state = ServerState::Accepted;
                self.end_at = Some(now + self.timers.t1x64()); // Timer L
            }
            (ServerState::Accepted, 200..=299) => {
                // The TU retransmits its 2xx until the ACK comes.
            }
            (ServerState::Proceeding, _) => {
                self.state = ServerState::Completed;
                if self.invite {
                    self.end_at = None;
                    if !self.reliable {
                        self.retransmit_at = Some(now + self.timers.t1); // Timer G
                        self.interval = self.timers.t1;
                    }
                    self.timeout_at = Some(now + self.timers.t1x64()); // Timer H
                } else {
                    let wait = self.timers.timer_j(self.reliable);
                    self.end_at = Some(now + wait);
                    if wait.is_zero() {
                        self.state = ServerState::Terminated;
                    }
                }
            }
            _ => return None,
        }
        self.last_response = Some(bytes.clone());
        Some(ServerAction::Send(bytes))
    }

    /// Time passed. `trying` is the 100 Trying to send if one is due.
    pub(crate) fn on_timer(
        &mut self,
        now: Instant,
        trying: impl FnOnce() -> Bytes,
    ) -> Vec<ServerAction> {
        let mut out = Vec::new();
        if self.end_at.is_some_and(|t| now >= t) {
            self.state = ServerState::Terminated;
            return out;
        }
        if self.timeout_at.is_some_and(|t| now >= t) {
            self.state = ServerState::Terminated;
            out.push(ServerAction::AckTimeout);
            return out;
        }
        if self.trying_at.is_some_and(|t| now >= t) {
            self.trying_at = None;
            let t = trying();
            self.last_response = Some(t.clone());
            out.push(ServerAction::Send(t));
        }
        if let Some(at) = self.retransmit_at
            && now >= at
            && let Some(r) = &self.last_response
        {
            out.push(ServerAction::Send(r.clone()));
            self.interval = (self.interval * 2).min(self.timers.t2); // Timer G
            self.retransmit_at = Some(at + self.interval);
        }
        out
    }

    pub(crate) fn on_transport_error(&mut self) {
        self.state = ServerState::Terminated;
    }
}
