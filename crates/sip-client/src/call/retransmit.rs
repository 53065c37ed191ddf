//! The two halves of reliability for a 2xx to INVITE, which lives outside the
//! transactions (RFC 3261 §13.3.1.4, §13.2.2.4; RFC 6026): the callee retransmits
//! its 2xx until the ACK comes, over every transport, T1 doubling up to T2, and gives
//! up after 64·T1; the caller answers every copy of a 2xx with the same ACK.

use std::time::{Duration, Instant};

use bytes::Bytes;

use super::{CallEvent, CallState, EndReason, InviteSession};
use crate::context::Ctx;
use crate::peer::Peer;
use crate::timers::TimerConfig;
use crate::transaction::TxId;

/// Our 2xx waiting for its ACK.
#[derive(Debug)]
pub(crate) struct Retransmit2xx {
    bytes: Bytes,
    peer: Peer,
    /// The CSeq number of the INVITE it answers: only an ACK with it stops us.
    pub(crate) cseq: u32,
    /// Whether it answers the initial INVITE (its ACK confirms the call).
    pub(crate) initial: bool,
    /// Whether the 2xx carried an offer, so the ACK must carry the answer.
    pub(crate) offered: bool,
    next: Instant,
    interval: Duration,
    give_up: Instant,
    t2: Duration,
}

impl Retransmit2xx {
    pub(crate) fn new(
        bytes: Bytes,
        peer: Peer,
        cseq: u32,
        initial: bool,
        offered: bool,
        timers: &TimerConfig,
        now: Instant,
    ) -> Retransmit2xx {
        Retransmit2xx {
            bytes,
            peer,
            cseq,
            initial,
            offered,
            next: now + timers.t1,
            interval: timers.t1,
            give_up: now + timers.t1x64(),
            t2: timers.t2,
        }
    }

    pub(crate) fn deadline(&self) -> Instant {
        self.next.min(self.give_up)
    }
}

/// An ACK we sent for a 2xx, to send again when that 2xx comes again; kept while
/// the INVITE's transaction lives (after it, the 2xx cannot come again through it).
#[derive(Debug)]
pub(crate) struct SentAck {
    /// The INVITE transaction the 2xx came through, when it still lived.
    pub(crate) tx: Option<TxId>,
    pub(crate) remote_tag: String,
    pub(crate) cseq: u32,
    pub(crate) bytes: Bytes,
    pub(crate) peer: Peer,
}

impl InviteSession {
    /// Retransmits our 2xx when due; ends the call with BYE when no ACK came in
    /// 64·T1.
    pub(super) fn retransmit_timeout(&mut self, ctx: &mut Ctx<'_>, now: Instant) {
        let Some(r) = self.retransmit.as_mut() else {
            return;
        };
        if r.give_up <= now {
            let initial = r.initial;
            self.retransmit = None;
            tracing::debug!(call = ?self.id, "no ACK for our 2xx: ending the call");
            if initial {
                self.state = CallState::Confirmed;
            }
            let _ = self.send_bye(EndReason::NoAck, ctx, now);
            return;
        }
        if r.next <= now {
            ctx.tx.send_raw(r.peer.clone(), r.bytes.clone());
            r.interval = (r.interval * 2).min(r.t2);
            r.next = (now + r.interval).min(r.give_up);
        }
    }

    /// The ACK for one of our 2xx (§13.3.1.4): only one carrying that INVITE's CSeq
    /// stops the retransmissions; an ACK for an older INVITE is ignored. The ACK
    /// answers an offer our 2xx made.
    pub(super) fn on_ack(&mut self, ack: &sip_message::Request, ctx: &mut Ctx<'_>, now: Instant) {
        let Some(r) = self.retransmit.as_ref() else {
            return;
        };
        if ack.cseq_seq() != r.cseq {
            tracing::debug!(call = ?self.id, cseq = ack.cseq_seq(), "an ACK for an older INVITE");
            return;
        }
        let (initial, offered) = (r.initial, r.offered);
        self.retransmit = None;
        if offered {
            let body = ack.body();
            let answer = if super::media::is_sdp(ack.content_type(), body) {
                self.media.take_answer(body)
            } else {
                Err(sip_message::offer_answer::OfferAnswerError::NoCommonCodec)
            };
            match answer {
                Ok(done) => self.media_event(done),
                Err(e) => {
                    // §13.3.1.4: an ACK without a usable answer ends the session.
                    self.media.offer_refused();
                    if initial {
                        self.state = CallState::Confirmed;
                    }
                    let _ = self.send_bye(EndReason::NotAcceptable(e), ctx, now);
                    return;
                }
            }
        }
        if initial {
            self.state = CallState::Confirmed;
            self.events.push_back(CallEvent::Confirmed);
            if self.bye_wanted {
                self.bye_wanted = false;
                let _ = self.send_bye(EndReason::LocalBye, ctx, now);
            }
        }
    }

    /// Sends an ACK for a 2xx (that came through INVITE transaction `tx`) in the
    /// dialog with `remote_tag`, and remembers it.
    pub(super) fn send_ack(
        &mut self,
        remote_tag: &str,
        cseq: u32,
        authorization: &[sip_auth::AuthorizationValue],
        body: Option<Bytes>,
        tx: Option<TxId>,
        ctx: &mut Ctx<'_>,
    ) {
        let branch = crate::ids::branch(ctx.rng);
        let Some(d) = self.dialogs.iter().find(|d| d.remote_tag == remote_tag) else {
            return;
        };
        let peer = d.next_hop();
        let b = d.ack(cseq, &branch);
        let body = body.unwrap_or_default();
        let built = crate::request_build::finish_request(
            b,
            crate::request_build::Extras {
                user_agent: ctx.config.user_agent.as_deref(),
                authorization,
                content_type: Some("application/sdp"),
                body: &body,
                ..Default::default()
            },
        );
        let Ok(ack) = built else {
            return;
        };
        let bytes = ack.to_bytes();
        ctx.tx.send_raw(peer.clone(), bytes.clone());
        self.acks
            .retain(|a| a.remote_tag != remote_tag || a.cseq != cseq);
        self.acks.push(SentAck {
            tx,
            remote_tag: remote_tag.to_string(),
            cseq,
            bytes,
            peer,
        });
    }

    /// Sends again the ACK of a 2xx that came again; false when we never ACKed it.
    pub(super) fn resend_ack(&self, remote_tag: &str, cseq: u32, ctx: &mut Ctx<'_>) -> bool {
        match self
            .acks
            .iter()
            .find(|a| a.remote_tag == remote_tag && a.cseq == cseq)
        {
            Some(a) => {
                ctx.tx.send_raw(a.peer.clone(), a.bytes.clone());
                true
            }
            None => false,
        }
    }
}
