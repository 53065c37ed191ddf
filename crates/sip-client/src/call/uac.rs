//! The caller's side of the initial INVITE (RFC 3261 §13.2, §9.1): sending it, with
//! or without an offer; 401/407 answered with a new branch and CSeq + 1; provisional
//! responses and early dialogs (one per fork's To tag, 101-199 only); the first 2xx
//! confirms its dialog and is ACKed with the INVITE's credentials (and our answer
//! when the 2xx offered); a 2xx from another fork is ACKed and ended with BYE; CANCEL
//! once a provisional response came, at most once, given up 64·T1 later; a ring
//! timeout that cancels.

use std::time::Instant;

use bytes::Bytes;
use sip_auth::{AuthError, AuthSession, AuthorizationValue, RequestTarget};
use sip_message::offer_answer::OfferAnswerError;
use sip_message::{HeaderName, Message, MessageBuilder, Method, Response, TransportMode};

use super::media::{MediaState, is_sdp};
use super::{
    CallError, CallEvent, CallSpec, CallState, EndReason, InviteSession, Role, in_dialog::Purpose,
};
use crate::context::{CallId, Ctx, Identity};
use crate::dialog::{Dialog, DialogState};
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
    body: Bytes,
    peer: Peer,
    cseq: u32,
    auth: AuthSession,
    /// The credentials the current INVITE carries; its ACK carries them too.
    authorization: Vec<AuthorizationValue>,
    provisional: bool,
    /// A final response came.
    finished: bool,
    cancel: Cancel,
    /// Why we cancel (the caller's wish, or the ring timeout).
    cancel_reason: EndReason,
    ring_deadline: Option<Instant>,
}

impl UacInvite {
    pub(crate) fn deadline(&self) -> Option<Instant> {
        if self.finished {
            return None;
        }
        match self.cancel {
            Cancel::Sent { give_up } => Some(give_up),
            Cancel::Wanted => None,
            Cancel::No => self.ring_deadline,
        }
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
            provisional: false,
            finished: false,
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
        if let Some(u) = self.uac.as_mut() {
            u.tx = tx;
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

    fn on_invite_provisional(&mut self, response: Response, ctx: &mut Ctx<'_>, now: Instant) {
        let status = response.status().as_u16();
        let Some(uac) = self.uac.as_mut() else {
            return;
        };
        if uac.finished {
            return;
        }
        uac.provisional = true;
        let cancel_now = uac.cancel == Cancel::Wanted;
        if self.state == CallState::Calling {
            self.state = CallState::Proceeding;
        }
        // §12.1: only 101-199 with a To tag make an early dialog.
        if status > 100
            && let Some(tag) = response.to_tag()
        {
            self.early_dialog(tag, &response, ctx);
            if !self.prack_reliable(&response, ctx, now) {
                // A reliable response already PRACKed (or out of order).
                return;
            }
        }
        // Early media: the SDP of a provisional response answers our offer.
        let early = (status > 100
            && is_sdp(response.content_type(), response.body())
            && self.media.offer_pending())
        .then(|| self.media.take_answer(response.body()).ok())
        .flatten();
        self.events.push_back(CallEvent::Progress { response });
        if let Some(done) = early {
            self.media_event(done);
        }
        if cancel_now {
            self.send_cancel(ctx, now);
        }
    }

    /// Makes or updates the early dialog of a fork.
    fn early_dialog(&mut self, tag: &str, response: &Response, ctx: &mut Ctx<'_>) {
        if let Some(d) = self.dialog_mut(tag) {
            if let Some(c) = response.contacts().next() {
                d.remote_target = c.uri().as_str().to_string();
            }
            return;
        }
        let Some(d) = self.uac_dialog(response, ctx) else {
            return;
        };
        self.dialogs.push(d);
    }

    /// The dialog a response to our INVITE makes (§12.1.2).
    fn uac_dialog(&self, response: &Response, ctx: &mut Ctx<'_>) -> Option<Dialog> {
        let uac = self.uac.as_ref()?;
        let invite = ctx.tx.client_request(uac.tx)?;
        let peer = ctx
            .tx
            .client_peer(uac.tx)
            .cloned()
            .unwrap_or_else(|| uac.peer.clone());
        Dialog::uac(invite, response, peer, self.me.via_addr)
    }

    fn on_invite_2xx(&mut self, response: Response, ctx: &mut Ctx<'_>, now: Instant) {
        let tag = response.to_tag().unwrap_or_default().to_string();
        let cseq = response.cseq_seq();
        let Some(uac) = self.uac.as_mut() else {
            return;
        };
        uac.finished = true;
        let authorization = uac.authorization.clone();
        let late_offer = uac.body.is_empty();
        let cancelling = self.state == CallState::Cancelling;
        let cancel_reason = uac.cancel_reason.clone();
        if let Some(confirmed) = &self.confirmed {
            if self.resend_ack(&tag, cseq, ctx) {
                // The same 2xx again: our ACK was lost. Nothing new to report.
                return;
            }
            if *confirmed != tag {
                self.end_extra_fork(&tag, &response, &authorization, ctx, now);
            }
            return;
        }
        // The first 2xx: its dialog is the call's (§13.2.2.4).
        let fresh = self.uac_dialog(&response, ctx);
        match (self.dialog_mut(&tag), fresh) {
            (Some(d), Some(f)) => {
                d.state = DialogState::Confirmed;
                d.route_set = f.route_set;
                d.remote_target = f.remote_target;
            }
            (None, Some(f)) => self.dialogs.push(Dialog {
                state: DialogState::Confirmed,
                ..f
            }),
            _ => {}
        }
        self.confirmed = Some(tag.clone());
        self.end_other_early_dialogs(&tag);
        let sdp = is_sdp(response.content_type(), response.body());
        let mut ack_body = None;
        let media = if late_offer {
            // The 2xx offers; our ACK answers (§13.2.2.4).
            match self.media.take_offer(response.body()) {
                Ok(()) if sdp => match self.media.make_answer() {
                    Ok((answer, done)) => {
                        ack_body = Some(answer);
                        Some(Ok(done))
                    }
                    Err(e) => Some(Err(e)),
                },
                Ok(()) => Some(Err(OfferAnswerError::NoCommonCodec)),
                Err(e) => Some(Err(e)),
            }
        } else if self.media.offer_pending() {
            Some(if sdp {
                self.media.take_answer(response.body())
            } else {
                Err(OfferAnswerError::NoCommonCodec)
            })
        } else {
            // Answered already in a provisional response; the 2xx repeats it.
            None
        };
        self.send_ack(&tag, cseq, &authorization, ack_body, ctx);
        self.state = CallState::Confirmed;
        if cancelling {
            // The 2xx crossed our CANCEL: the call is ended at once (§9.1).
            let _ = self.send_bye(cancel_reason, ctx, now);
            return;
        }
        self.timer_from_response(&response, now);
        self.events.push_back(CallEvent::Answered { response });
        match media {
            Some(Ok(done)) => self.media_event(done),
            Some(Err(e)) => {
                let _ = self.send_bye(EndReason::NotAcceptable(e), ctx, now);
            }
            None => {}
        }
    }

    /// Early dialogs of other forks end when one fork answers.
    fn end_other_early_dialogs(&mut self, answered: &str) {
        let mut kept = Vec::with_capacity(1);
        for d in std::mem::take(&mut self.dialogs) {
            if d.remote_tag == answered || d.state == DialogState::Confirmed {
                kept.push(d);
            } else {
                self.events.push_back(CallEvent::EarlyDialogEnded {
                    remote_tag: d.remote_tag,
                });
            }
        }
        self.dialogs = kept;
    }

    /// A 2xx from a fork after another answered (§13.2.2.4): acknowledged, then
    /// ended with BYE. The application hears nothing of it.
    fn end_extra_fork(
        &mut self,
        tag: &str,
        response: &Response,
        authorization: &[AuthorizationValue],
        ctx: &mut Ctx<'_>,
        now: Instant,
    ) {
        if self.dialog_mut(tag).is_none() {
            let Some(d) = self.uac_dialog(response, ctx) else {
                return;
            };
            self.dialogs.push(Dialog {
                state: DialogState::Confirmed,
                ..d
            });
        }
        self.send_ack(tag, response.cseq_seq(), authorization, None, ctx);
        let _ = self.send_in_dialog(
            tag,
            Method::Bye,
            super::in_dialog::Body::none(),
            Purpose::EndFork,
            ctx,
            now,
        );
    }

    fn on_invite_failure(&mut self, response: Response, ctx: &mut Ctx<'_>, now: Instant) {
        let status = response.status().as_u16();
        let Some(uac) = self.uac.as_mut() else {
            return;
        };
        if uac.finished {
            return;
        }
        if status == 422 && self.state != CallState::Cancelling && self.timer_too_small(&response) {
            // §7.4: the interval was below the peer's Min-SE: ask again above it.
            if self.resend_invite(ctx, now).is_ok() {
                return;
            }
        }
        if (status == 401 || status == 407) && self.state != CallState::Cancelling {
            match self.retry_with_credentials(&response, ctx, now) {
                Ok(()) => return,
                Err(e) => {
                    self.media.offer_refused();
                    self.end(EndReason::Auth(e), ctx);
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
        self.end(reason, ctx);
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
    /// early dialog left from the refused one.
    fn resend_invite(&mut self, ctx: &mut Ctx<'_>, now: Instant) -> Result<(), CallError> {
        let Some(uac) = self.uac.as_mut() else {
            return Err(self.wrong_state("invite"));
        };
        uac.cseq += 1;
        uac.provisional = false;
        let old = uac.tx;
        self.dialogs.clear();
        self.state = CallState::Calling;
        self.send_invite(ctx, now)?;
        ctx.release(old);
        Ok(())
    }

    /// Our INVITE timed out (Timer B) or could not be sent.
    pub(super) fn on_invite_failed(&mut self, timeout: bool, ctx: &mut Ctx<'_>, _now: Instant) {
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
        self.end(reason, ctx);
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
    fn send_cancel(&mut self, ctx: &mut Ctx<'_>, now: Instant) {
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

    /// The ring timeout, and the give-up 64·T1 after our CANCEL.
    pub(super) fn uac_timeout(&mut self, ctx: &mut Ctx<'_>, now: Instant) {
        let Some(uac) = self.uac.as_mut() else {
            return;
        };
        if uac.finished {
            return;
        }
        if let Cancel::Sent { give_up } = uac.cancel
            && give_up <= now
        {
            // §9.1: no final response 64·T1 after the CANCEL: the INVITE is over.
            uac.finished = true;
            let reason = uac.cancel_reason.clone();
            ctx.tx.terminate(uac.tx);
            self.end(reason, ctx);
            return;
        }
        if uac.cancel == Cancel::No && uac.ring_deadline.is_some_and(|t| t <= now) {
            uac.ring_deadline = None;
            let _ = self.cancel(EndReason::NoAnswer, ctx, now);
        }
    }
}
