//! Our requests inside a call's dialogs (RFC 3261 §12.2, §14, §15; RFC 3311): BYE;
//! re-INVITE and UPDATE with a new offer (hold, unhold), one at a time, sent again
//! after the §14.1 back-off when refused with 491, our media as it was when refused
//! otherwise (RFC 3264 §8); INFO and others for the application; a 481 or 408 (or
//! no answer) to any of them ends the dialog, with a BYE after a 408 (RFC 4028
//! §10), except for the requests of a transfer's subscription, whose failure ends
//! only that subscription (RFC 5057); a challenge is answered. The peer's requests
//! are in `incoming.rs`.

use std::time::{Duration, Instant};

use bytes::Bytes;
use sip_auth::{AuthSession, AuthorizationValue, RequestTarget};
use sip_message::offer_answer::{LocalMedia, OfferAnswerError};
use sip_message::sdp::Direction;
use sip_message::{Method, Response, TransportMode};

use super::media::is_sdp;
use super::{CallError, CallEvent, CallState, EndReason, InviteSession, Role};
use crate::context::Ctx;
use crate::ids;
use crate::peer::Peer;
use crate::request_build::{Extras, finish_request};
use crate::transaction::TxId;

/// What a request of ours inside the dialog is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Purpose {
    /// Ends the call.
    Bye,
    /// Ends a fork that answered after another (§13.2.2.4).
    EndFork,
    /// A re-INVITE or UPDATE carrying our offer (or asking for one).
    Offer,
    /// Anything else the application sends (INFO, MESSAGE...).
    Plain,
    /// The PRACK of a reliable provisional response (RFC 3262).
    Prack,
    /// A request of a transfer's subscription (our REFER, our NOTIFY for the
    /// peer's): its failure ends that subscription, not the call (RFC 5057).
    Subscription,
}

/// A body with its Content-Type, and extra header lines.
#[derive(Clone, Debug, Default)]
pub(crate) struct Body {
    pub(crate) content_type: Option<String>,
    pub(crate) body: Bytes,
    pub(crate) headers: Vec<(String, String)>,
}

impl Body {
    pub(super) fn none() -> Body {
        Body::default()
    }

    fn sdp(body: Bytes) -> Body {
        Body {
            content_type: Some("application/sdp".to_string()),
            body,
            headers: Vec::new(),
        }
    }
}

/// A request we sent inside a dialog, kept for its responses and retries.
#[derive(Debug)]
pub(crate) struct OurRequest {
    method: Method,
    remote_tag: String,
    purpose: Purpose,
    body: Body,
    auth: AuthSession,
    authorization: Vec<AuthorizationValue>,
    uri: String,
    cseq: u32,
}

/// The §14.1 back-off before a re-INVITE refused with 491 is tried again: from 2.1
/// to 4 s for the dialog's caller (who owns the Call-ID), up to 2 s for the callee,
/// in 10 ms steps.
fn glare_backoff(role: Role, rng: &mut dyn sip_message::Random) -> Duration {
    let steps = rng.next_u64();
    match role {
        Role::Caller => Duration::from_millis(2100 + (steps % 191) * 10),
        Role::Callee => Duration::from_millis((steps % 201) * 10),
    }
}

impl InviteSession {
    /// Sends a request in the dialog with `remote_tag`.
    pub(super) fn send_in_dialog(
        &mut self,
        remote_tag: &str,
        method: Method,
        body: Body,
        purpose: Purpose,
        ctx: &mut Ctx<'_>,
        now: Instant,
    ) -> Result<TxId, CallError> {
        let mut req = OurRequest {
            method,
            remote_tag: remote_tag.to_string(),
            purpose,
            body,
            auth: AuthSession::new(),
            authorization: Vec::new(),
            uri: String::new(),
            cseq: 0,
        };
        let tx = self.transmit(&mut req, ctx, now)?;
        self.ours.insert(tx, req);
        Ok(tx)
    }

    /// Builds `req` with the dialog's next CSeq and starts its transaction.
    fn transmit(
        &mut self,
        req: &mut OurRequest,
        ctx: &mut Ctx<'_>,
        now: Instant,
    ) -> Result<TxId, CallError> {
        let branch = ids::branch(ctx.rng);
        let state = self.state;
        let Some(d) = self.dialog_mut(&req.remote_tag) else {
            return Err(CallError::WrongState {
                action: "send in",
                state,
            });
        };
        let b = d.request(&req.method, &branch);
        let peer: Peer = d.next_hop();
        req.cseq = d.local_seq;
        req.uri = d.target_and_routes().0;
        let request = finish_request(
            b,
            Extras {
                user_agent: ctx.config.user_agent.as_deref(),
                headers: &req.body.headers,
                authorization: &req.authorization,
                content_type: req.body.content_type.as_deref(),
                body: &req.body.body,
            },
        )
        .map_err(CallError::Invalid)?;
        ctx.send_request(request, peer, now)
            .map_err(CallError::Transaction)
    }

    /// Sends BYE on the confirmed dialog; the call ends with `reason` when it is
    /// answered (or fails).
    pub(super) fn send_bye(
        &mut self,
        reason: EndReason,
        ctx: &mut Ctx<'_>,
        now: Instant,
    ) -> Result<(), CallError> {
        let Some(tag) = self.confirmed.clone() else {
            self.end(reason, ctx, now);
            return Ok(());
        };
        self.retransmit = None;
        self.glare_retry = None;
        // Nothing more to refresh or retransmit while the BYE waits for its answer.
        self.session_timer = None;
        self.reliable = None;
        self.answer_after_prack = None;
        self.bye_wanted = false;
        self.state = CallState::Terminating;
        self.ending = Some(reason.clone());
        match self.send_in_dialog(&tag, Method::Bye, Body::none(), Purpose::Bye, ctx, now) {
            Ok(_) => Ok(()),
            Err(e) => {
                self.end(reason, ctx, now);
                Err(e)
            }
        }
    }

    /// Sends a re-INVITE or UPDATE with a new offer from our media.
    pub(super) fn send_offer(
        &mut self,
        method: Method,
        ctx: &mut Ctx<'_>,
        now: Instant,
    ) -> Result<(), CallError> {
        if self.state != CallState::Confirmed {
            return Err(self.wrong_state("re-offer in"));
        }
        if self.offer_tx.is_some() || self.media.offer_pending() || self.retransmit.is_some() {
            return Err(CallError::OfferPending);
        }
        let Some(tag) = self.confirmed.clone() else {
            return Err(self.wrong_state("re-offer in"));
        };
        let offer = self.media.make_offer();
        let body = Body {
            headers: self.timer_request_headers(ctx),
            ..Body::sdp(offer)
        };
        match self.send_in_dialog(&tag, method, body, Purpose::Offer, ctx, now) {
            Ok(tx) => {
                self.offer_tx = Some(tx);
                Ok(())
            }
            Err(e) => {
                self.media.offer_refused();
                Err(e)
            }
        }
    }

    /// Puts the peer on hold (a re-INVITE offering sendonly, or inactive when it
    /// holds us too) or takes it off hold.
    pub(crate) fn hold(
        &mut self,
        on: bool,
        ctx: &mut Ctx<'_>,
        now: Instant,
    ) -> Result<(), CallError> {
        if self.state != CallState::Confirmed {
            return Err(self.wrong_state(if on { "hold" } else { "unhold" }));
        }
        let before = self.media.local().clone();
        self.media.set_direction(if on {
            Direction::SendOnly
        } else {
            Direction::SendRecv
        });
        self.offer_changed(before, Method::Invite, ctx, now)
    }

    /// Sends the offer of our media just changed from `before`; `before` comes back
    /// if it cannot be sent or is refused.
    fn offer_changed(
        &mut self,
        before: LocalMedia,
        method: Method,
        ctx: &mut Ctx<'_>,
        now: Instant,
    ) -> Result<(), CallError> {
        let r = self.send_offer(method, ctx, now);
        if r.is_err() {
            self.media.set_local(before);
        } else if self.rollback.is_none() {
            self.rollback = Some(before);
        }
        r
    }

    /// Sends a re-INVITE (or UPDATE) with a fresh offer of our media, changed to
    /// `media` when given (another codec list, port or address).
    pub(crate) fn reoffer(
        &mut self,
        method: Method,
        media: Option<LocalMedia>,
        ctx: &mut Ctx<'_>,
        now: Instant,
    ) -> Result<(), CallError> {
        let before = self.media.local().clone();
        if let Some(m) = media {
            self.media.set_local(m);
        }
        self.offer_changed(before, method, ctx, now)
    }

    /// Sends a request the application built (INFO, MESSAGE...) in the call.
    pub(crate) fn send_request(
        &mut self,
        method: Method,
        content_type: Option<String>,
        body: Bytes,
        headers: Vec<(String, String)>,
        ctx: &mut Ctx<'_>,
        now: Instant,
    ) -> Result<(), CallError> {
        if !matches!(self.state, CallState::Confirmed | CallState::Answered) {
            return Err(self.wrong_state("send a request in"));
        }
        if matches!(
            method,
            Method::Invite | Method::Ack | Method::Cancel | Method::Bye | Method::Update
        ) {
            return Err(CallError::WrongState {
                action: "send this method as a plain request in",
                state: self.state,
            });
        }
        let Some(tag) = self.confirmed.clone() else {
            return Err(self.wrong_state("send a request in"));
        };
        let body = Body {
            content_type,
            body,
            headers,
        };
        self.send_in_dialog(&tag, method, body, Purpose::Plain, ctx, now)
            .map(|_| ())
    }

    /// A response to a request of ours inside a dialog.
    pub(super) fn on_our_response(
        &mut self,
        tx: TxId,
        response: Response,
        ctx: &mut Ctx<'_>,
        now: Instant,
    ) {
        let status = response.status().as_u16();
        if status < 200 {
            return;
        }
        if (status == 401 || status == 407) && self.retry_in_dialog(tx, &response, ctx, now) {
            return;
        }
        let Some(req) = self.ours.get(&tx) else {
            return;
        };
        let (purpose, method, tag, cseq) = (
            req.purpose,
            req.method.clone(),
            req.remote_tag.clone(),
            req.cseq,
        );
        // A 2xx to a re-INVITE may come again while its transaction is Accepted:
        // it gets the same ACK and nothing else (RFC 6026).
        if method == Method::Invite && (200..300).contains(&status) {
            if self.resend_ack(&tag, cseq, ctx) {
                return;
            }
        } else {
            self.ours.remove(&tx);
        }
        match purpose {
            Purpose::Bye => {
                let reason = self.ending.take().unwrap_or(EndReason::LocalBye);
                self.end(reason, ctx, now);
            }
            Purpose::EndFork => self.dialogs.retain(|d| d.remote_tag != tag),
            Purpose::Prack => {}
            Purpose::Offer => self.on_offer_response(tx, &tag, cseq, &method, response, ctx, now),
            Purpose::Subscription => {
                self.events.push_back(CallEvent::Response {
                    method: method.clone(),
                    response,
                });
                if status >= 300 {
                    self.subscription_failed(method, status);
                }
            }
            Purpose::Plain => {
                if status == 481 || status == 408 {
                    self.events
                        .push_back(CallEvent::Response { method, response });
                    let _ = self.send_bye_or_end(EndReason::DialogGone { status }, ctx, now);
                } else {
                    self.events
                        .push_back(CallEvent::Response { method, response });
                }
            }
        }
    }

    /// §12.2.1.2: a 481 means the dialog is gone; after a 408 a BYE may still end it
    /// at the peer.
    fn send_bye_or_end(
        &mut self,
        reason: EndReason,
        ctx: &mut Ctx<'_>,
        now: Instant,
    ) -> Result<(), CallError> {
        match reason {
            EndReason::DialogGone { status: 408 } if self.state == CallState::Confirmed => {
                self.send_bye(reason, ctx, now)
            }
            r => {
                self.end(r, ctx, now);
                Ok(())
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn on_offer_response(
        &mut self,
        tx: TxId,
        tag: &str,
        cseq: u32,
        method: &Method,
        response: Response,
        ctx: &mut Ctx<'_>,
        now: Instant,
    ) {
        let status = response.status().as_u16();
        if self.offer_tx == Some(tx) {
            self.offer_tx = None;
        }
        match status {
            200..=299 => {
                self.rollback = None;
                if let Some(d) = self.dialog_mut(tag) {
                    d.on_refresh_response(&response);
                }
                self.timer_from_response(&response, ctx, now);
                let sdp = is_sdp(response.content_type(), response.body());
                let media = if self.media.offer_pending() {
                    Some(if sdp {
                        self.media.take_answer(response.body())
                    } else {
                        Err(OfferAnswerError::NoCommonCodec)
                    })
                } else {
                    None
                };
                if *method == Method::Invite {
                    let authorization = self
                        .ours
                        .get(&tx)
                        .map(|r| r.authorization.clone())
                        .unwrap_or_default();
                    self.send_ack(tag, cseq, &authorization, None, Some(tx), ctx);
                }
                self.events.push_back(CallEvent::Response {
                    method: method.clone(),
                    response,
                });
                match media {
                    Some(Ok(done)) => self.media_event(done),
                    Some(Err(e)) => {
                        let _ = self.send_bye(EndReason::NotAcceptable(e), ctx, now);
                    }
                    None => {}
                }
            }
            422 if self.timer_too_small(&response) => {
                // §7.4: ask again with an interval the peer takes.
                self.media.offer_refused();
                self.glare_retry = Some((now, method.clone()));
            }
            491 => {
                // §14.1: glare. Try again after the back-off.
                self.media.offer_refused();
                let wait = glare_backoff(self.role, ctx.rng);
                self.glare_retry = Some((now + wait, method.clone()));
                self.events.push_back(CallEvent::Response {
                    method: method.clone(),
                    response,
                });
            }
            481 | 408 => {
                self.media.offer_refused();
                self.roll_back();
                self.events.push_back(CallEvent::Response {
                    method: method.clone(),
                    response,
                });
                let _ = self.send_bye_or_end(EndReason::DialogGone { status }, ctx, now);
            }
            _ => {
                // Refused (488...): the session stays as it was (RFC 3264 §8).
                self.media.offer_refused();
                self.roll_back();
                self.events.push_back(CallEvent::Response {
                    method: method.clone(),
                    response,
                });
            }
        }
    }

    /// Answers a 401/407 to a request of ours in the dialog; false when it cannot.
    fn retry_in_dialog(
        &mut self,
        tx: TxId,
        response: &Response,
        ctx: &mut Ctx<'_>,
        now: Instant,
    ) -> bool {
        let Some(mut req) = self.ours.remove(&tx) else {
            return false;
        };
        let secure = self
            .dialog_mut(&req.remote_tag)
            .is_some_and(|d| d.next_hop().mode == TransportMode::Tls);
        let target = RequestTarget {
            secure,
            body: &req.body.body,
            ..RequestTarget::new(
                req.method.as_str(),
                &req.uri,
                &self.me.server,
                &self.me.auth_user,
            )
        };
        let Ok(values) = ctx.answer_challenge(&mut req.auth, response, &target) else {
            self.ours.insert(tx, req);
            return false;
        };
        req.authorization = values;
        match self.transmit(&mut req, ctx, now) {
            Ok(new) => {
                ctx.release(tx);
                if self.offer_tx == Some(tx) {
                    self.offer_tx = Some(new);
                }
                self.ours.insert(new, req);
                true
            }
            Err(_) => {
                self.ours.insert(tx, req);
                false
            }
        }
    }

    /// A request of ours in a dialog timed out (§12.2.1.2: as a 408) or could not
    /// be sent.
    pub(super) fn on_our_failure(
        &mut self,
        tx: TxId,
        timeout: bool,
        ctx: &mut Ctx<'_>,
        now: Instant,
    ) {
        let Some(req) = self.ours.remove(&tx) else {
            return;
        };
        if self.offer_tx == Some(tx) {
            self.offer_tx = None;
            self.media.offer_refused();
            self.roll_back();
        }
        let reason = if timeout {
            EndReason::DialogGone { status: 408 }
        } else {
            EndReason::Transport
        };
        match req.purpose {
            Purpose::Bye => {
                let r = self.ending.take().unwrap_or(EndReason::LocalBye);
                self.end(r, ctx, now);
            }
            Purpose::EndFork => self.dialogs.retain(|d| d.remote_tag != req.remote_tag),
            Purpose::Prack => {}
            Purpose::Subscription => {
                self.subscription_failed(req.method, if timeout { 408 } else { 503 });
            }
            // §12.2.1.2 and RFC 4028 §10: a BYE still tries to end it at the peer.
            Purpose::Offer | Purpose::Plain => {
                let _ = self.send_bye_or_end(reason, ctx, now);
            }
        }
    }

    /// A request of the transfer's subscription failed with `status` (408 when
    /// no answer came): that subscription is over, the call goes on (RFC 5057).
    fn subscription_failed(&mut self, method: Method, status: u16) {
        if method == Method::Notify {
            self.refer_subscription = false;
        }
        self.events
            .push_back(CallEvent::SubscriptionEnded { method, status });
    }
}
