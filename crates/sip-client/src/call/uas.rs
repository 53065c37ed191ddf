//! The callee's side of the initial INVITE (RFC 3261 §13.3, §9.2, §15.1.2): the
//! offer checked on arrival (488 when no codec matches), provisional responses with
//! our one To tag (§8.2.6.2) making the early dialog and repeated every minute while
//! the call rings (§13.3.1.1), the answer and its 2xx retransmitted until the ACK,
//! refusals, CANCEL answered 200 with the INVITE's 487, a BYE before the answer
//! ending the INVITE with 487, and a call that rings out: 487 when the INVITE's
//! Expires runs out (§13.3.1), 480 after the endpoint's ring limit.

use std::time::{Duration, Instant};

use bytes::Bytes;
use sip_message::offer_answer::{LocalMedia, OfferAnswerError};
use sip_message::{HeaderName, MessageBuilder, Request, StatusCode};

use super::media::{Completed, MediaState, is_sdp};
use super::retransmit::Retransmit2xx;
use super::{CallError, CallEvent, CallState, EndReason, InviteSession, Role};
use crate::context::{CallId, Ctx, Identity};
use crate::dialog::{Dialog, DialogState};
use crate::ids;
use crate::peer::Peer;
use crate::transaction::TxId;

/// How often a ringing call repeats its provisional response (§13.3.1.1).
const PROVISIONAL_REFRESH: Duration = Duration::from_secs(60);

/// The INVITE we received and have not answered finally.
#[derive(Debug)]
pub(crate) struct UasInvite {
    /// Its server transaction.
    pub(crate) tx: TxId,
    request: Request,
    peer: Peer,
    /// The last provisional response, repeated while the call rings.
    last_provisional: Option<(u16, Bytes)>,
    refresh_at: Option<Instant>,
    /// When the call stops ringing unanswered, and the status it is refused with
    /// then (487 for the INVITE's Expires, 480 for our ring limit).
    expires_at: Option<(Instant, StatusCode)>,
    /// A final response was sent.
    pub(crate) final_sent: bool,
}

impl UasInvite {
    pub(crate) fn deadline(&self) -> Option<Instant> {
        [self.refresh_at, self.expires_at.map(|(t, _)| t)]
            .into_iter()
            .flatten()
            .min()
    }

    /// The CSeq number of the INVITE (a PRACK's RAck names it).
    pub(crate) fn invite_cseq(&self) -> u32 {
        self.request.cseq_seq()
    }
}

/// Why an incoming INVITE was answered at once instead of ringing.
#[derive(Debug)]
pub(crate) enum Refused {
    /// The offer is not SDP we can read (400) or has no codec we take (488).
    Media(OfferAnswerError),
    /// The session interval asked for is below our minimum (422 with this Min-SE).
    SessionInterval(u32),
}

impl InviteSession {
    /// A call for an INVITE that arrived on server transaction `tx`. Its offer is
    /// checked first: a session description that does not parse gets 400, one with
    /// no codec we take 488, and no call is made.
    pub(crate) fn incoming(
        id: CallId,
        me: Identity,
        tx: TxId,
        request: Request,
        peer: Peer,
        ctx: &mut Ctx<'_>,
        now: Instant,
    ) -> Result<InviteSession, Refused> {
        let local = LocalMedia {
            codecs: ctx.config.codecs.clone(),
            ..LocalMedia::new(me.via_addr.ip(), 0)
        };
        let mut media = MediaState::new(local, ctx.rng.next_u64() >> 20);
        let local_tag = ids::tag(ctx.rng);
        if let Err(min_se) = Self::timer_check(&request, ctx) {
            // §8.1: the interval asked for is below our minimum.
            let b = MessageBuilder::response_to(
                &request,
                StatusCode::SESSION_INTERVAL_TOO_SMALL,
                Some(&local_tag),
            )
            .header(HeaderName::MinSe, min_se);
            let code = StatusCode::SESSION_INTERVAL_TOO_SMALL.as_u16();
            let _ = ctx.tx.respond_status(tx, code, b.finish().freeze(), now);
            return Err(Refused::SessionInterval(min_se));
        }
        if is_sdp(request.content_type(), request.body())
            && let Err(e) = media.take_offer(request.body())
        {
            let status = match e {
                OfferAnswerError::Sdp(_) => StatusCode::BAD_REQUEST,
                _ => StatusCode::NOT_ACCEPTABLE_HERE,
            };
            let mut b = MessageBuilder::response_to(&request, status, Some(&local_tag));
            if status == StatusCode::NOT_ACCEPTABLE_HERE {
                b = b.header(HeaderName::Warning, "305 - \"Incompatible media format\"");
            }
            let _ = ctx
                .tx
                .respond_status(tx, status.as_u16(), b.finish().freeze(), now);
            return Err(Refused::Media(e));
        }
        ctx.adopt(tx);
        let call_id = request.call_id().to_string();
        let mut s = InviteSession::new(id, Role::Callee, me, call_id, local_tag, media);
        // RFC 3262 §3: the first RSeq is random, below 2^31.
        s.next_rseq = (ctx.rng.next_u64() % (1 << 30)) as u32;
        s.events.push_back(CallEvent::Incoming {
            request: request.clone(),
            peer: peer.clone(),
        });
        // §13.3.1: the INVITE's Expires, else (and at most) our ring limit.
        let expires = request.expires().map(|secs| {
            (
                now + Duration::from_secs(u64::from(secs)),
                StatusCode::REQUEST_TERMINATED,
            )
        });
        let limit = ctx
            .config
            .incoming_ring_limit
            .map(|l| (now + l, StatusCode::TEMPORARILY_UNAVAILABLE));
        let expires_at = match (expires, limit) {
            (Some(e), Some(l)) => Some(if e.0 <= l.0 { e } else { l }),
            (e, l) => e.or(l),
        };
        s.uas = Some(UasInvite {
            tx,
            request,
            peer,
            last_provisional: None,
            refresh_at: None,
            expires_at,
            final_sent: false,
        });
        Ok(s)
    }

    /// A response to the INVITE with our To tag; responses that make the dialog
    /// (101-299) carry the Record-Route and our Contact, a 2xx also Allow and
    /// Supported.
    fn uas_response(
        &self,
        request: &Request,
        status: StatusCode,
        body: Option<&Bytes>,
        extra: &[(HeaderName, String)],
        ctx: &Ctx<'_>,
    ) -> Bytes {
        let tag = request
            .to_tag()
            .is_none()
            .then_some(self.local_tag.as_str());
        let mut b = MessageBuilder::response_to(request, status, tag);
        if let Some(ua) = &ctx.config.user_agent {
            b = b.header(HeaderName::Server, ua);
        }
        let code = status.as_u16();
        if (101..300).contains(&code) {
            if request.to_tag().is_none() {
                for rr in request.header_values(HeaderName::RecordRoute) {
                    b = b.header(HeaderName::RecordRoute, rr);
                }
            }
            b = b.header(HeaderName::Contact, format_args!("<{}>", self.me.contact));
        }
        for (n, v) in extra {
            b = b.header(*n, v);
        }
        if (200..300).contains(&code) {
            b = b.header(HeaderName::Allow, ctx.config.allow_value());
            let supported = ctx.config.supported_value();
            if !supported.is_empty() {
                b = b.header(HeaderName::Supported, supported);
            }
        }
        match body {
            Some(body) => b.finish_with_body(Some("application/sdp"), body).freeze(),
            None => b.finish().freeze(),
        }
    }

    /// The dialog our response to the INVITE makes (§12.1.1).
    fn ensure_uas_dialog(&mut self, confirmed: bool) {
        let Some(remote) = self
            .uas
            .as_ref()
            .map(|u| u.request.from_tag().unwrap_or_default().to_string())
        else {
            return;
        };
        let state = if confirmed {
            DialogState::Confirmed
        } else {
            DialogState::Early
        };
        if let Some(d) = self.dialog_mut(&remote) {
            d.state = state;
            return;
        }
        let Some(uas) = self.uas.as_ref() else {
            return;
        };
        if let Some(d) = Dialog::uas(
            &uas.request,
            &self.local_tag,
            &self.me.contact,
            confirmed,
            uas.peer.clone(),
            self.me.via_addr,
        ) {
            self.dialogs.push(d);
        }
    }

    /// Sends a provisional response (180, 183...). With `early_media`, a 183 carries
    /// our answer to the offer, which the 2xx then repeats.
    pub(crate) fn ring(
        &mut self,
        status: StatusCode,
        early_media: Option<LocalMedia>,
        ctx: &mut Ctx<'_>,
        now: Instant,
    ) -> Result<(), CallError> {
        if self.state != CallState::Incoming {
            return Err(self.wrong_state("ring"));
        }
        let code = status.as_u16();
        if !(101..200).contains(&code) {
            return Err(CallError::BadStatus(code));
        }
        let Some(invite) = self.uas.as_ref().map(|u| u.request.clone()) else {
            return Err(self.wrong_state("ring"));
        };
        let with_answer = early_media.is_some() && self.media.answer_due();
        let reliable = Self::reliable_wanted(&invite, with_answer, ctx);
        // §3: one reliable provisional response at a time; nothing is answered
        // before it may go.
        if reliable && self.reliable_pending() {
            return Err(CallError::ReliablePending);
        }
        let mut body = None;
        let mut completed = None;
        if let Some(m) = early_media.filter(|_| with_answer) {
            let (answer, done) = self.answer_with(m)?;
            body = Some(answer);
            completed = Some(done);
        }
        let extra = if reliable {
            self.reliable_headers()
        } else {
            Vec::new()
        };
        let bytes = self.uas_response(&invite, status, body.as_ref(), &extra, ctx);
        let tx = self.uas.as_ref().map(|u| u.tx).ok_or(CallError::NoCall)?;
        ctx.tx
            .respond_status(tx, code, bytes.clone(), now)
            .map_err(CallError::Transaction)?;
        if let Some(done) = completed {
            self.media_event(done);
        }
        self.ensure_uas_dialog(false);
        if reliable {
            self.reliable_sent(code, bytes, body.is_some(), ctx, now);
        } else if let Some(uas) = self.uas.as_mut() {
            uas.last_provisional = Some((code, bytes));
            uas.refresh_at = Some(now + PROVISIONAL_REFRESH);
        }
        Ok(())
    }

    /// Answers the INVITE with 200: our answer to its offer (or the one a 183
    /// already gave), or our offer when it had none. The 2xx is retransmitted until
    /// the ACK comes (§13.3.1.4).
    pub(crate) fn answer(
        &mut self,
        media: Option<LocalMedia>,
        ctx: &mut Ctx<'_>,
        now: Instant,
    ) -> Result<(), CallError> {
        if self.state != CallState::Incoming {
            return Err(self.wrong_state("answer"));
        }
        if self.answer_waits_for_prack(&media) {
            // §3: a 2xx does not overtake a reliable response with our answer.
            return Ok(());
        }
        let mut offered = false;
        let mut completed = None;
        let body = if self.media.answer_due() {
            let (answer, done) = match media {
                Some(m) => self.answer_with(m)?,
                None => self.media.make_answer().map_err(CallError::Media)?,
            };
            completed = Some(done);
            answer
        } else {
            if let Some(m) = media {
                self.media.set_local(m);
            }
            if self.media.negotiated().is_some() {
                // A 183 carried the answer: the 2xx repeats it.
                self.media.last_sent().unwrap_or_default()
            } else {
                offered = true;
                self.media.make_offer()
            }
        };
        let Some(uas) = self.uas.as_ref() else {
            return Err(self.wrong_state("answer"));
        };
        let timer = Self::timer_answer(&uas.request, ctx);
        let extra = timer.as_ref().map(|t| t.headers.as_slice()).unwrap_or(&[]);
        let bytes = self.uas_response(&uas.request, StatusCode::OK, Some(&body), extra, ctx);
        let (tx, cseq) = (uas.tx, uas.request.cseq_seq());
        let peer = ctx
            .tx
            .server_peer(tx)
            .cloned()
            .unwrap_or_else(|| uas.peer.clone());
        ctx.tx
            .respond_status(tx, 200, bytes.clone(), now)
            .map_err(CallError::Transaction)?;
        self.ensure_uas_dialog(true);
        self.confirmed = self
            .uas
            .as_ref()
            .map(|u| u.request.from_tag().unwrap_or_default().to_string());
        if let Some(uas) = self.uas.as_mut() {
            uas.refresh_at = None;
            uas.expires_at = None;
            uas.final_sent = true;
        }
        self.retransmit = Some(Retransmit2xx::new(
            bytes,
            peer,
            cseq,
            true,
            offered,
            &ctx.config.timers,
            now,
        ));
        self.state = CallState::Answered;
        if let Some(t) = &timer {
            self.timer_answered(t, now);
        }
        if let Some(done) = completed {
            self.media_event(done);
        }
        Ok(())
    }

    /// Our answer to the pending offer from `media` (which becomes ours); when it
    /// cannot answer, our media and the offer stay as they were.
    fn answer_with(&mut self, media: LocalMedia) -> Result<(Bytes, Completed), CallError> {
        let before = self.media.local().clone();
        self.media.set_local(media);
        self.media.make_answer().map_err(|e| {
            self.media.set_local(before);
            CallError::Media(e)
        })
    }

    /// Refuses the INVITE with a final status from 300 to 699.
    pub(crate) fn reject(
        &mut self,
        status: StatusCode,
        ctx: &mut Ctx<'_>,
        now: Instant,
    ) -> Result<(), CallError> {
        if self.state != CallState::Incoming {
            return Err(self.wrong_state("reject"));
        }
        let code = status.as_u16();
        if !(300..700).contains(&code) {
            return Err(CallError::BadStatus(code));
        }
        self.finish_invite(status, ctx, now);
        self.end(EndReason::Declined { status: code }, ctx, now);
        Ok(())
    }

    /// Answers the pending INVITE finally with `status` (a refusal, or 487).
    pub(super) fn finish_invite(&mut self, status: StatusCode, ctx: &mut Ctx<'_>, now: Instant) {
        let Some(uas) = self.uas.as_ref() else {
            return;
        };
        let bytes = self.uas_response(&uas.request, status, None, &[], ctx);
        let _ = ctx.tx.respond_status(uas.tx, status.as_u16(), bytes, now);
        if let Some(uas) = self.uas.as_mut() {
            uas.final_sent = true;
            uas.expires_at = None;
            uas.refresh_at = None;
        }
        self.dialogs.retain(|d| d.state == DialogState::Confirmed);
    }

    /// A CANCEL (§9.2): answered 200 whatever the state; an INVITE we have not
    /// answered gets 487 with the tag of our provisional responses, and the call ends.
    pub(super) fn on_cancel(
        &mut self,
        tx: TxId,
        cancel: &Request,
        invite: TxId,
        ctx: &mut Ctx<'_>,
        now: Instant,
    ) {
        let tag = cancel.to_tag().is_none().then_some(self.local_tag.as_str());
        let ok = MessageBuilder::response_to(cancel, StatusCode::OK, tag)
            .finish()
            .freeze();
        let _ = ctx.tx.respond_status(tx, 200, ok, now);
        if self.state == CallState::Incoming && self.uas.as_ref().is_some_and(|u| u.tx == invite) {
            self.finish_invite(StatusCode::REQUEST_TERMINATED, ctx, now);
            self.end(EndReason::CancelledByPeer, ctx, now);
        }
    }

    /// A BYE on the early dialog before we answered (§15.1.2): the INVITE gets 487.
    pub(super) fn bye_before_answer(&mut self, ctx: &mut Ctx<'_>, now: Instant) {
        self.finish_invite(StatusCode::REQUEST_TERMINATED, ctx, now);
        self.end(EndReason::CancelledByPeer, ctx, now);
    }

    /// Repeats the provisional response of a ringing call every minute; refuses
    /// it when it rang out (the INVITE's Expires, or our ring limit).
    pub(super) fn uas_timeout(&mut self, ctx: &mut Ctx<'_>, now: Instant) {
        let incoming = self.state == CallState::Incoming;
        let Some(uas) = self.uas.as_mut() else {
            return;
        };
        if !incoming {
            uas.refresh_at = None;
            uas.expires_at = None;
            return;
        }
        if let Some((at, status)) = uas.expires_at
            && at <= now
        {
            uas.expires_at = None;
            self.reliable = None;
            self.answer_after_prack = None;
            self.finish_invite(status, ctx, now);
            self.end(EndReason::NoAnswer, ctx, now);
            return;
        }
        if uas.refresh_at.is_some_and(|t| t <= now)
            && let Some((code, bytes)) = uas.last_provisional.clone()
        {
            uas.refresh_at = Some(now + PROVISIONAL_REFRESH);
            let _ = ctx.tx.respond_status(uas.tx, code, bytes, now);
        }
    }
}
