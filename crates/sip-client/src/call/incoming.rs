//! The peer's requests inside a call's dialogs (RFC 3261 §12.2.2, §14.2, §15.1.2;
//! RFC 3311; INFO DTMF): the CSeq check (lower refused with 500, equal accepted);
//! BYE (before our answer, the INVITE gets 487; on the early dialog of one fork of
//! ours, only that fork ends); re-INVITE and UPDATE with offer/answer, 491 when
//! they cross our own offer, 500 with Retry-After when an offer of the peer's is
//! still unanswered or our 2xx to the previous INVITE waits for its ACK, 488 when
//! no codec fits (the session stays); session timers only once the session is
//! established; INFO DTMF as an event; OPTIONS answered; anything else answered
//! 200 and given to the application.

use std::time::Instant;

use bytes::Bytes;
use sip_message::{HeaderName, MessageBuilder, Method, Request, StatusCode};

use super::media::{Completed, is_sdp};
use super::retransmit::Retransmit2xx;
use super::{CallEvent, CallState, EndReason, InviteSession, Role};
use crate::context::Ctx;
use crate::peer::Peer;
use crate::transaction::TxId;

/// A DTMF digit in an INFO body: `application/dtmf-relay` (`Signal=5`,
/// `Duration=160`) or `application/dtmf` (the digit alone).
fn dtmf_of(request: &Request) -> Option<(char, Option<u32>)> {
    let t = request.content_type()?;
    let text = std::str::from_utf8(request.body()).ok()?;
    let digit_of = |s: &str| {
        let s = s.trim();
        let mut c = s.chars();
        match (c.next(), c.next()) {
            (Some(d), None) if d.is_ascii_digit() || "*#ABCDabcd".contains(d) => {
                Some(d.to_ascii_uppercase())
            }
            _ => match s.parse::<u8>().ok()? {
                10 => Some('*'),
                11 => Some('#'),
                n @ 12..=15 => Some((b'A' + n - 12) as char),
                _ => None,
            },
        }
    };
    if t.is("application", "dtmf-relay") {
        let mut digit = None;
        let mut duration = None;
        for line in text.lines() {
            let Some((k, v)) = line.split_once('=') else {
                continue;
            };
            match k.trim().to_ascii_lowercase().as_str() {
                "signal" => digit = digit_of(v),
                "duration" => duration = v.trim().parse().ok(),
                _ => {}
            }
        }
        return digit.map(|d| (d, duration));
    }
    if t.is("application", "dtmf") {
        return digit_of(text).map(|d| (d, None));
    }
    None
}

/// Answers one request in our dialog (its To tag is already ours).
struct Answerer<'r, 'c, 'a> {
    ctx: &'c mut Ctx<'a>,
    tx: TxId,
    request: &'r Request,
    now: Instant,
}

impl Answerer<'_, '_, '_> {
    /// A response with these header lines and an SDP body, if any; its bytes when sent.
    fn send(
        &mut self,
        status: StatusCode,
        extra: &[(HeaderName, String)],
        sdp: Option<&Bytes>,
    ) -> Option<Bytes> {
        let mut b = MessageBuilder::response_to(self.request, status, None);
        if let Some(ua) = &self.ctx.config.user_agent {
            b = b.header(HeaderName::Server, ua);
        }
        for (n, v) in extra {
            b = b.header(*n, v);
        }
        let bytes = match sdp {
            Some(body) => b.finish_with_body(Some("application/sdp"), body).freeze(),
            None => b.finish().freeze(),
        };
        self.ctx
            .tx
            .respond_status(self.tx, status.as_u16(), bytes.clone(), self.now)
            .ok()
            .map(|_| bytes)
    }

    /// A response with nothing more than its status.
    fn status(&mut self, status: StatusCode) {
        self.send(status, &[], None);
    }
}

/// Whether the peer's request carried an offer and what we made of it.
enum TheirOffer {
    /// No session description: nothing to answer.
    None,
    /// Answered: our answer and what the exchange settled.
    Answered(Bytes, Completed),
    /// Not acceptable (no codec fits, or not SDP we can read): 488.
    Refused,
}

impl InviteSession {
    /// A request inside one of the call's dialogs.
    pub(super) fn on_request(
        &mut self,
        tx: TxId,
        request: Request,
        peer: Peer,
        ctx: &mut Ctx<'_>,
        now: Instant,
    ) {
        ctx.adopt(tx);
        let from_tag = request.from_tag().unwrap_or_default().to_string();
        let over = self.state == CallState::Terminated;
        let checked = match self.dialog_mut(&from_tag) {
            Some(d) if !over => d.on_request(&request),
            _ => Err(StatusCode::CALL_TRANSACTION_DOES_NOT_EXIST),
        };
        let mut reply = Answerer {
            ctx,
            tx,
            request: &request,
            now,
        };
        if let Err(status) = checked {
            reply.status(status);
            return;
        }
        match request.method() {
            Method::Bye => {
                reply.status(StatusCode::OK);
                if self.role == Role::Caller && self.confirmed.as_deref() != Some(from_tag.as_str())
                {
                    // The early dialog of one fork, or a fork we are ending: the
                    // call goes on with the others.
                    self.drop_dialog(&from_tag);
                } else if self.state == CallState::Incoming {
                    self.bye_before_answer(reply.ctx, now);
                } else {
                    self.end(EndReason::RemoteBye, reply.ctx, now);
                }
            }
            Method::Invite => self.on_reinvite(&mut reply, peer),
            Method::Update => self.on_update(&mut reply),
            Method::Info => {
                reply.status(StatusCode::OK);
                match dtmf_of(&request) {
                    Some((digit, duration_ms)) => self
                        .events
                        .push_back(CallEvent::Dtmf { digit, duration_ms }),
                    None => self.events.push_back(CallEvent::Request { request }),
                }
            }
            Method::Options => {
                let extra = [
                    (HeaderName::Allow, reply.ctx.config.allow_value()),
                    (HeaderName::Accept, reply.ctx.config.accept.join(", ")),
                ];
                reply.send(StatusCode::OK, &extra, None);
            }
            Method::Prack => {
                if self.on_prack(&request, reply.ctx, now) {
                    reply.status(StatusCode::OK);
                } else {
                    reply.status(StatusCode::CALL_TRANSACTION_DOES_NOT_EXIST);
                }
            }
            Method::Refer => match self.accept_refer(&request) {
                Some(_) => {
                    reply.status(StatusCode::ACCEPTED);
                    let _ = self.notify_transfer(StatusCode::TRYING, false, reply.ctx, now);
                }
                None => reply.status(StatusCode::BAD_REQUEST),
            },
            Method::Notify if self.on_refer_notify(&request) => reply.status(StatusCode::OK),
            _ => {
                reply.status(StatusCode::OK);
                self.events.push_back(CallEvent::Request { request });
            }
        }
    }

    /// An offer in the peer's re-INVITE or UPDATE, answered from our media.
    fn their_offer(&mut self, request: &Request) -> TheirOffer {
        if !is_sdp(request.content_type(), request.body()) {
            return TheirOffer::None;
        }
        match self
            .media
            .take_offer(request.body())
            .and_then(|()| self.media.make_answer())
        {
            Ok((answer, done)) => TheirOffer::Answered(answer, done),
            Err(_) => TheirOffer::Refused,
        }
    }

    /// Whether an offer of ours is waiting for its answer (the peer's crosses it).
    fn offering(&self) -> bool {
        self.offer_tx.is_some() || self.media.offer_pending()
    }

    /// RFC 3261 §14.2, RFC 3311 §5.2: 500 with a Retry-After of 0 to 10 s.
    fn retry_later(reply: &mut Answerer<'_, '_, '_>) {
        let secs = reply.ctx.rng.next_u64() % 11;
        let retry = [(HeaderName::RetryAfter, secs.to_string())];
        reply.send(StatusCode::SERVER_INTERNAL_ERROR, &retry, None);
    }

    /// Whether the session is up (the INVITE answered), so session timers run.
    fn established(&self) -> bool {
        matches!(self.state, CallState::Confirmed | CallState::Answered)
    }

    /// A 422 with our Min-SE when the request's session interval is too short.
    fn interval_too_small(&self, reply: &mut Answerer<'_, '_, '_>) -> bool {
        match Self::timer_check(reply.request, reply.ctx) {
            Ok(()) => false,
            Err(min_se) => {
                let extra = [(HeaderName::MinSe, min_se.to_string())];
                reply.send(StatusCode::SESSION_INTERVAL_TOO_SMALL, &extra, None);
                true
            }
        }
    }

    /// A re-INVITE: its offer answered (or our offer in the 2xx, answered in the
    /// ACK); the 2xx retransmitted until the ACK.
    fn on_reinvite(&mut self, reply: &mut Answerer<'_, '_, '_>, peer: Peer) {
        if self.state == CallState::Incoming || self.media.answer_due() {
            // §14.2: the INVITE that made the dialog (and its offer) is not
            // answered yet.
            Self::retry_later(reply);
            return;
        }
        if !self.established() || self.offering() {
            reply.status(StatusCode::REQUEST_PENDING);
            return;
        }
        if self.retransmit.is_some() {
            // §14.2: our 2xx to the previous INVITE still waits for its ACK.
            Self::retry_later(reply);
            return;
        }
        if self.interval_too_small(reply) {
            return;
        }
        let (body, offered, completed) = match self.their_offer(reply.request) {
            TheirOffer::Refused => {
                reply.status(StatusCode::NOT_ACCEPTABLE_HERE);
                return;
            }
            TheirOffer::Answered(answer, done) => (answer, false, Some(done)),
            TheirOffer::None => (self.media.make_offer(), true, None),
        };
        let timer = Self::timer_answer(reply.request, reply.ctx);
        let mut extra = vec![
            (HeaderName::Contact, format!("<{}>", self.me.contact)),
            (HeaderName::Allow, reply.ctx.config.allow_value()),
        ];
        extra.extend(timer.iter().flat_map(|t| t.headers.iter().cloned()));
        let Some(bytes) = reply.send(StatusCode::OK, &extra, Some(&body)) else {
            return;
        };
        if let Some(t) = &timer {
            self.timer_answered(t, reply.now);
        }
        let peer = reply.ctx.tx.server_peer(reply.tx).cloned().unwrap_or(peer);
        self.retransmit = Some(Retransmit2xx::new(
            bytes,
            peer,
            reply.request.cseq_seq(),
            false,
            offered,
            &reply.ctx.config.timers,
            reply.now,
        ));
        if let Some(done) = completed {
            self.media_event(done);
        }
    }

    /// An UPDATE (RFC 3311): its offer, if any, answered in the 200.
    fn on_update(&mut self, reply: &mut Answerer<'_, '_, '_>) {
        let offers = is_sdp(reply.request.content_type(), reply.request.body());
        if offers && self.media.answer_due() {
            // RFC 3311 §5.2: an offer of the peer's still waits for our answer.
            Self::retry_later(reply);
            return;
        }
        if offers && self.offering() {
            reply.status(StatusCode::REQUEST_PENDING);
            return;
        }
        if self.interval_too_small(reply) {
            return;
        }
        // RFC 4028: the session timer runs for an established session only (an
        // UPDATE in an early dialog refreshes nothing).
        let timer = if self.established() {
            Self::timer_answer(reply.request, reply.ctx)
        } else {
            None
        };
        let mut extra = vec![(HeaderName::Contact, format!("<{}>", self.me.contact))];
        extra.extend(timer.iter().flat_map(|t| t.headers.iter().cloned()));
        let sent = match self.their_offer(reply.request) {
            TheirOffer::Refused => {
                reply.status(StatusCode::NOT_ACCEPTABLE_HERE);
                return;
            }
            TheirOffer::None => reply.send(StatusCode::OK, &extra, None).is_some(),
            TheirOffer::Answered(answer, done) => {
                let sent = reply.send(StatusCode::OK, &extra, Some(&answer)).is_some();
                self.media_event(done);
                sent
            }
        };
        if sent && let Some(t) = &timer {
            self.timer_answered(t, reply.now);
        }
    }
}
