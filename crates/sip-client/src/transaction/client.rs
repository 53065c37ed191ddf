//! Client transactions (RFC 3261 §17.1 with RFC 6026's Accepted state).

use std::time::{Duration, Instant};

use bytes::Bytes;
use sip_message::{HeaderName, MessageBuilder, Method, Request, Response};

use crate::peer::Peer;
use crate::timers::TimerConfig;

/// The state of a client transaction.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ClientState {
    /// INVITE sent, nothing heard (Calling / Trying).
    Calling,
    /// A provisional response arrived.
    Proceeding,
    /// A final response arrived; absorbing retransmissions of it.
    Completed,
    /// A 2xx to INVITE arrived; further 2xx go to the TU (RFC 6026).
    Accepted,
    /// Done.
    Terminated,
}

/// What a transaction asks of the layer.
#[derive(Debug)]
#[allow(clippy::large_enum_variant)]
pub(crate) enum ClientAction {
    /// Send these bytes to the transaction's peer.
    Send(Bytes),
    /// Hand this response to the TU.
    Deliver(Response),
    /// No final response came in time.
    Timeout,
}

/// One client transaction.
#[derive(Debug)]
pub(crate) struct ClientTx {
    pub(crate) state: ClientState,
    pub(crate) invite: bool,
    pub(crate) request: Request,
    pub(crate) wire: Bytes,
    pub(crate) peer: Peer,
    reliable: bool,
    retransmit_at: Option<Instant>,
    interval: Duration,
    timeout_at: Option<Instant>,
    end_at: Option<Instant>,
    ack: Option<Bytes>,
    timers: TimerConfig,
    /// How long an INVITE waits in Proceeding for its final response (`None`: until
    /// the TU ends it).
    proceeding_limit: Option<Duration>,
}

/// The ACK for a non-2xx final response to an INVITE (RFC 3261 §17.1.1.3).
pub(crate) fn ack_for(invite: &Request, resp: &Response) -> Bytes {
    let mut b = MessageBuilder::request(&Method::Ack, invite.uri().as_str());
    b.add_header(HeaderName::Via, invite.top_via().as_str());
    b.add_header(HeaderName::MaxForwards, 70);
    b.add_header(HeaderName::From, invite.from().as_str());
    b.add_header(HeaderName::To, resp.to().as_str());
    b.add_header(HeaderName::CallId, invite.call_id());
    b.add_header(HeaderName::CSeq, format!("{} ACK", invite.cseq_seq()));
    for route in invite.header_values(HeaderName::Route) {
        b.add_header(HeaderName::Route, route);
    }
    b.finish().freeze()
}

impl ClientTx {
    /// Starts the transaction: the first send happens now.
    pub(crate) fn start(
        request: Request,
        wire: Bytes,
        peer: Peer,
        timers: TimerConfig,
        proceeding_limit: Option<Duration>,
        now: Instant,
    ) -> (ClientTx, ClientAction) {
        let reliable = peer.reliable();
        let invite = *request.method() == Method::Invite;
        let tx = ClientTx {
            state: ClientState::Calling,
            invite,
            request,
            wire: wire.clone(),
            peer,
            reliable,
            retransmit_at: (!reliable).then(|| now + timers.t1),
            interval: timers.t1,
            // Timer B (INVITE) or F (non-INVITE).
            timeout_at: Some(now + timers.t1x64()),
            end_at: None,
            ack: None,
            timers,
            proceeding_limit,
        };
        (tx, ClientAction::Send(wire))
    }

    /// The next instant this transaction needs attention.
    pub(crate) fn deadline(&self) -> Option<Instant> {
        [self.retransmit_at, self.timeout_at, self.end_at]
            .into_iter()
            .flatten()
            .min()
    }

    fn complete(&mut self, now: Instant) {
        self.state = ClientState::Completed;
        self.retransmit_at = None;
        self.timeout_at = None;
        // Timer D (INVITE) or K (non-INVITE).
        let wait = if self.invite {
            self.timers.timer_d(self.reliable)
        } else {
            self.timers.t4_unless_reliable(self.reliable)
        };
        self.end_at = Some(now + wait);
        if wait.is_zero() {
            self.state = ClientState::Terminated;
        }
    }

    /// A response matched this transaction.
    pub(crate) fn on_response(&mut self, resp: Response, now: Instant) -> Vec<ClientAction> {
        let code = resp.status().as_u16();
        let mut out = Vec::new();
        match (self.state, code) {
            (ClientState::Calling | ClientState::Proceeding, 100..=199) => {
                self.state = ClientState::Proceeding;
                if self.invite {
                    // No more retransmissions of an INVITE; wait for the final answer
                    // as long as the TU asked.
                    self.retransmit_at = None;
                    self.timeout_at = self.proceeding_limit.map(|l| now + l);
                }
                // A non-INVITE request keeps its pending Timer E: when it fires in
                // Proceeding it is reset to T2 (§17.1.2.2).
                out.push(ClientAction::Deliver(resp));
            }
            (ClientState::Calling | ClientState::Proceeding, 200..=299) if self.invite => {
                self.state = ClientState::Accepted;
                self.retransmit_at = None;
                self.timeout_at = None;
                self.end_at = Some(now + self.timers.t1x64()); // Timer M
                out.push(ClientAction::Deliver(resp));
            }
            (ClientState::Accepted, 200..=299) => {
                // Retransmitted or forked 2xx: the TU acknowledges each.
                out.push(ClientAction::Deliver(resp));
            }
            (ClientState::Calling | ClientState::Proceeding, _) => {
                if self.invite {
                    let ack = ack_for(&self.request, &resp);
                    out.push(ClientAction::Send(ack.clone()));
                    self.ack = Some(ack);
                }
                self.complete(now);
                out.push(ClientAction::Deliver(resp));
            }
            (ClientState::Completed, 300..=699) if self.invite => {
                // The final response again: our ACK was lost.
                if let Some(ack) = &self.ack {
                    out.push(ClientAction::Send(ack.clone()));
                }
            }
            _ => {}
        }
        out
    }

    /// Time passed.
    pub(crate) fn on_timer(&mut self, now: Instant) -> Vec<ClientAction> {
        let mut out = Vec::new();
        if self.end_at.is_some_and(|t| now >= t) {
            self.state = ClientState::Terminated;
            return out;
        }
        if self.timeout_at.is_some_and(|t| now >= t) {
            self.state = ClientState::Terminated;
            out.push(ClientAction::Timeout);
            return out;
        }
        if let Some(at) = self.retransmit_at
            && now >= at
        {
            out.push(ClientAction::Send(self.wire.clone()));
            self.interval = if self.invite {
                self.interval * 2 // Timer A doubles without a cap.
            } else if self.state == ClientState::Proceeding {
                self.timers.t2
            } else {
                (self.interval * 2).min(self.timers.t2) // Timer E.
            };
            self.retransmit_at = Some(at + self.interval);
        }
        out
    }

    /// A transport error while sending: the transaction ends (RFC 3261 §17.1.4).
    pub(crate) fn on_transport_error(&mut self) {
        self.state = ClientState::Terminated;
    }

    /// The request, parsed.
    pub(crate) fn request(&self) -> &Request {
        &self.request
    }
}
