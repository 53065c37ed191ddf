//! The caller's side of the initial INVITE (RFC 3261 §13.2, §9.1): sending it, with
//! or without an offer; 401/407 answered with a new branch and CSeq + 1; CANCEL
//! once a provisional response came, at most once, given up 64·T1 later; a ring
//! timeout that cancels. Provisional responses, forks and 2xx are in `forks.rs`.

use std::time::Instant;

use bytes::Bytes;
use sip_auth::{AuthError, AuthSession, AuthorizationValue, RequestTarget};
use sip_message::{HeaderName, Message, MessageBuilder, Method, Request, Response, TransportMode};

use super::media::MediaState;
use super::{CallError, CallEvent, CallSpec, CallState, EndReason, InviteSession, Role};
use crate::context::{CallId, Ctx, Identity};
use crate::ids;
use crate::peer::Peer;
use crate::request_build::{Extras, finish_request};
use crate::transaction::TxId;

/// Where our CANCEL stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Cancel {
    /// Not asked for.
    No,
    /// Asked for before any provisional response: sent when one comes (§9.1).
    Wanted,
    /// Sent; the INVITE is given up at this instant if no final response comes.
    Sent { give_up: Instant },
}

/// Our INVITE and what its retries and CANCEL need.
#[derive(Debug)]
pub(crate) struct UacInvite {
    /// The INVITE's current client transaction.
    pub(crate) tx: TxId,
    uri: String,
    to: String,
    headers: Vec<(String, String)>,
    /// The INVITE's body: our offer, or empty for a late offer.
    pub(super) body: Bytes,
    peer: Peer,
    cseq: u32,
    auth: AuthSession,
    /// The credentials the current INVITE carries; its ACK carries them too.
    pub(super) authorization: Vec<AuthorizationValue>,
    /// The current INVITE as sent and where it went: a 2xx of a fork that comes
    /// after its transaction makes its dialog from it.
    pub(super) sent: Option<(Request, Peer)>,
    pub(super) provisional: bool,
    /// A final response came (or we gave the INVITE up).
    pub(super) finished: bool,
    /// The INVITE's transaction still lives (2xx of forks may come through it).
    pub(crate) tx_alive: bool,
    /// After a CANCEL given up, until when a late 2xx is still acknowledged and
    /// ended.
    linger_until: Option<Instant>,
    cancel: Cancel,
    /// Why we cancel (the caller's wish, or the ring timeout).
    pub(super) cancel_reason: EndReason,
    ring_deadline: Option<Instant>,
}

impl UacInvite {
    pub(crate) fn deadline(&self) -> Option<Instant> {
        if self.finished {
            return self.linger_until;
        }
        match self.cancel {
            Cancel::Sent { give_up } => Some(give_up),
            Cancel::Wanted => None,
            Cancel::No => self.ring_deadline,
        }
    }

    /// Whether a CANCEL was asked for before any provisional response (it goes
    /// with the first one).
    pub(super) fn cancel_wanted(&self) -> bool {
        self.cancel == Cancel::Wanted
    }

    /// Whether a call that ended must stay for late 2xx of forks.
    pub(crate) fn lingers(&self) -> bool {
        self.tx_alive || self.linger_until.is_some()
    }
}

impl InviteSession {
    /// Places a call: builds and sends the INVITE.
    pub(crate) fn outgoing(
        id: CallId,
        me: Identity,
        spec: CallSpec,
        ctx: &mut Ctx<'_>,
        now: Instant,
    ) -> Result<InviteSession, CallError> {
        let session_id = ctx.rng.next_u64() >> 20;
        let mut media = MediaState::new(spec.media, session_id);
        let body = if spec.late_offer {
            Bytes::new()
        } else {
            media.make_offer()
        };
        let peer = spec.peer.unwrap_or_else(|| me.peer.clone());
        let ring = spec.ring_timeout.unwrap_or(ctx.config.ring_timeout);
        let uac = UacInvite {
            tx: TxId(0),
            to: spec.to.unwrap_or_else(|| format!("<{}>", spec.uri)),
            uri: spec.uri,
            headers: spec.headers,
            body,
            peer,
            cseq: 1,
            auth: AuthSession::new(),
            authorization: Vec::new(),
            sent: None,
            provisional: false,
            finished: false,
            tx_alive: false,
            linger_until: None,
            cancel: Cancel::No,
            cancel_reason: EndReason::Cancelled,
            ring_deadline: Some(now + ring),
        };
        let call_id = ids::call_id(ctx.rng);
        let local_tag = ids::tag(ctx.rng);
        let mut s = InviteSession::new(id, Role::Caller, me, call_id, local_tag, media);
        s.uac = Some(uac);
        s.send_invite(ctx, now)?;
        Ok(s)
    }

    /// Builds the INVITE from what `uac` holds and starts its transaction.
    fn send_invite(&mut self, ctx: &mut Ctx<'_>, now: Instant) -> Result<(), CallError> {
        let Some(uac) = self.uac.as_ref() else {
            return Err(self.wrong_state("invite"));
        };
        let branch = ids::branch(ctx.rng);
        let mut b = MessageBuilder::request(&Method::Invite, &uac.uri)
            .header(
                HeaderName::Via,
                format_args!(
                    "SIP/2.0/{} {};rport;branch={branch}",
                    uac.peer.mode.via_token(),
                    self.me.via_addr
                ),
            )
            .header(HeaderName::MaxForwards, "70")
            .header(
                HeaderName::From,
                format_args!("{};tag={}", self.me.from, self.local_tag),
            )
            .header(HeaderName::To, &uac.to)
            .header(HeaderName::CallId, &self.call_id)
            .header(HeaderName::CSeq, format_args!("{} INVITE", uac.cseq))
            .header(HeaderName::Contact, format_args!("<{}>", self.me.contact))
            .header(HeaderName::Allow, ctx.config.allow_value());
        let supported = ctx.config.supported_value();
        if !supported.is_empty() {
            b = b.header(HeaderName::Supported, supported);
        }
        let mut headers = uac.headers.clone();
        headers.extend(self.timer_request_headers(ctx));
        let request = finish_request(
            b,
            Extras {
                user_agent: ctx.config.user_agent.as_deref(),
                headers: &headers,
                authorization: &uac.authorization,
                content_type: Some("application/sdp"),
                body: &uac.body,
            },
        )
        .map_err(CallError::Invalid)?;
        let peer = uac.peer.clone();
        // The call owns the INVITE's lifetime after a provisional response: its ring
        // timeout cancels, and 64·T1 after the CANCEL it gives up.
        let tx = ctx
            .send_invite(request, peer, None, now)
            .map_err(CallError::Transaction)?;
        let sent = ctx
            .tx
            .client_request(tx)
            .cloned()
            .zip(ctx.tx.client_peer(tx).cloned());
        if let Some(u) = self.uac.as_mut() {
            u.tx = tx;
            u.tx_alive = true;
            if sent.is_some() {
                u.sent = sent;
            }
        }
        Ok(())
    }

    /// A response to our INVITE.
    pub(super) fn on_invite_response(
        &mut self,
        response: Response,
        ctx: &mut Ctx<'_>,
        now: Instant,
    ) {
        let status = response.status().as_u16();
        match status {
            100..=199 => self.on_invite_provisional(response, ctx, now),
            200..=299 => self.on_invite_2xx(response, ctx, now),
            _ => self.on_invite_failure(response, ctx, now),
        }
    }

    pub(super) fn on_invite_failure(
        &mut self,
        response: Response,
        ctx: &mut Ctx<'_>,
        now: Instant,
    ) {
        let status = response.status().as_u16();
        let Some(uac) = self.uac.as_mut() else {
            return;
        };
        if uac.finished {
            return;
        }
        let giving_up = matches!(self.state, CallState::Cancelling | CallState::Terminated);
        if status == 422 && !giving_up && self.timer_too_small(&response) {
            // §7.4: the interval was below the peer's Min-SE: ask again above it.
            if self.resend_invite(ctx, now).is_ok() {
                return;
            }
        }
        if (status == 401 || status == 407) && !giving_up {
            match self.retry_with_credentials(&response, ctx, now) {
                Ok(()) => return,
                Err(e) => {
                    if let Some(uac) = self.uac.as_mut() {
                        uac.finished = true;
                    }
                    self.media.offer_refused();
                    self.end(EndReason::Auth(e), ctx, now);
                    return;
                }
            }
        }
        let Some(uac) = self.uac.as_mut() else {
            return;
        };
        uac.finished = true;
        let reason = if self.state == CallState::Cancelling {
            uac.cancel_reason.clone()
        } else {
            EndReason::Rejected {
                status,
                reason: response.reason().to_string(),
            }
        };
        self.media.offer_refused();
        self.end(reason, ctx, now);
    }

    /// Answers a 401/407 to our INVITE: the same INVITE with credentials, a new
    /// branch and CSeq + 1 (§22.2).
    fn retry_with_credentials(
        &mut self,
        response: &Response,
        ctx: &mut Ctx<'_>,
        now: Instant,
    ) -> Result<(), AuthError> {
        let me = &self.me;
        let Some(uac) = self.uac.as_mut() else {
            return Err(AuthError::NoChallenge);
        };
        let target = RequestTarget {
            secure: uac.peer.mode == TransportMode::Tls,
            body: &uac.body,
            ..RequestTarget::new("INVITE", &uac.uri, &me.server, &me.auth_user)
        };
        uac.authorization = ctx.answer_challenge(&mut uac.auth, response, &target)?;
        self.resend_invite(ctx, now)
            .map_err(|_| AuthError::Unwritable("INVITE"))
    }

    /// Sends the INVITE again after a 401/407 or a 422: CSeq + 1, a new branch, no
    /// early dialog left from the refused one (each reported ended), and no RSeq
    /// remembered from it (the new INVITE's reliable responses count afresh).
    fn resend_invite(&mut self, ctx: &mut Ctx<'_>, now: Instant) -> Result<(), CallError> {
        let Some(uac) = self.uac.as_mut() else {
            return Err(self.wrong_state("invite"));
        };
        uac.cseq += 1;
        uac.provisional = false;
        let old = uac.tx;
        for d in std::mem::take(&mut self.dialogs) {
            if d.state == crate::dialog::DialogState::Early {
                self.events.push_back(CallEvent::EarlyDialogEnded {
                    remote_tag: d.remote_tag,
                });
            }
        }
        self.rseqs.clear();
        self.early_answers.clear();
        self.media_tag = None;
        self.fork_tags.clear();
        self.state = CallState::Calling;
        self.send_invite(ctx, now)?;
        ctx.release(old);
        Ok(())
    }

    /// Our INVITE timed out (Timer B) or could not be sent.
    pub(super) fn on_invite_failed(&mut self, timeout: bool, ctx: &mut Ctx<'_>, now: Instant) {
        let Some(uac) = self.uac.as_mut() else {
            return;
        };
        if uac.finished {
            return;
        }
        uac.finished = true;
        let reason = if self.state == CallState::Cancelling {
            uac.cancel_reason.clone()
        } else if timeout {
            EndReason::Timeout
        } else {
            EndReason::Transport
        };
        self.end(reason, ctx, now);
    }

    /// Cancels our INVITE (§9.1): at once when a provisional response came, else as
    /// soon as one comes. A second cancel does nothing.
    pub(crate) fn cancel(
        &mut self,
        reason: EndReason,
        ctx: &mut Ctx<'_>,
        now: Instant,
    ) -> Result<(), CallError> {
        let state = self.state;
        let Some(uac) = self.uac.as_mut() else {
            return Err(self.wrong_state("cancel"));
        };
        match state {
            CallState::Calling => {
                uac.cancel = Cancel::Wanted;
                uac.cancel_reason = reason;
                self.state = CallState::Cancelling;
                Ok(())
            }
            CallState::Proceeding => {
                uac.cancel_reason = reason;
                self.state = CallState::Cancelling;
                self.send_cancel(ctx, now);
                Ok(())
            }
            CallState::Cancelling => Ok(()),
            _ => Err(self.wrong_state("cancel")),
        }
    }

    /// Sends the CANCEL: the INVITE's Request-URI, top Via (so its branch), From, To,
    /// Call-ID, CSeq number and Route, to where the INVITE went.
    pub(super) fn send_cancel(&mut self, ctx: &mut Ctx<'_>, now: Instant) {
        let Some(uac) = self.uac.as_mut() else {
            return;
        };
        let (Some(invite), Some(peer)) = (
            ctx.tx.client_request(uac.tx).cloned(),
            ctx.tx.client_peer(uac.tx).cloned(),
        ) else {
            return;
        };
        let mut b = MessageBuilder::request(&Method::Cancel, invite.uri().as_str())
            .header(HeaderName::Via, invite.top_via().as_str())
            .header(HeaderName::MaxForwards, "70")
            .header(HeaderName::From, invite.from().as_str())
            .header(HeaderName::To, invite.to().as_str())
            .header(HeaderName::CallId, invite.call_id())
            .header(
                HeaderName::CSeq,
                format_args!("{} CANCEL", invite.cseq_seq()),
            );
        for r in invite.header_values(HeaderName::Route) {
            b = b.header(HeaderName::Route, r);
        }
        if let Some(ua) = &ctx.config.user_agent {
            b = b.header(HeaderName::UserAgent, ua);
        }
        uac.cancel = Cancel::Sent {
            give_up: now + ctx.config.timers.t1x64(),
        };
        match b.build() {
            Ok(Message::Request(cancel)) => {
                let _ = ctx.send_request(cancel, peer, now);
            }
            _ => tracing::debug!("the CANCEL built does not parse"),
        }
    }

    /// The ring timeout, the give-up 64·T1 after our CANCEL, and the end of the
    /// time a late 2xx is still acknowledged after it.
    pub(super) fn uac_timeout(&mut self, ctx: &mut Ctx<'_>, now: Instant) {
        let Some(uac) = self.uac.as_mut() else {
            return;
        };
        if uac.finished {
            if uac.linger_until.is_some_and(|t| t <= now) {
                uac.linger_until = None;
            }
            return;
        }
        if let Cancel::Sent { give_up } = uac.cancel
            && give_up <= now
        {
            // §9.1: no final response 64·T1 after the CANCEL: the INVITE is over. A
            // 2xx of a fork may still come: it is acknowledged and ended for another
            // 64·T1.
            uac.finished = true;
            uac.linger_until = Some(now + ctx.config.timers.t1x64());
            let reason = uac.cancel_reason.clone();
            ctx.tx.terminate(uac.tx);
            self.end(reason, ctx, now);
            return;
        }
        if uac.cancel == Cancel::No && uac.ring_deadline.is_some_and(|t| t <= now) {
            uac.ring_deadline = None;
            let _ = self.cancel(EndReason::NoAnswer, ctx, now);
        }
    }

    /// Leaves nothing of our INVITE unfinished when the call ends: cancelled when
    /// a provisional response came (the call stays until the final response or the
    /// give-up), else its transaction ended at once.
    pub(super) fn abandon_invite(&mut self, ctx: &mut Ctx<'_>, now: Instant) {
        let Some(uac) = self.uac.as_mut() else {
            return;
        };
        if uac.finished {
            return;
        }
        if uac.provisional {
            if !matches!(uac.cancel, Cancel::Sent { .. }) {
                self.send_cancel(ctx, now);
            }
        } else {
            uac.finished = true;
            ctx.tx.terminate(uac.tx);
        }
    }
}
