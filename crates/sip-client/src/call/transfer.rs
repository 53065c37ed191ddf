//! Blind transfer (RFC 3515), both ways.
//!
//! Transferor: a REFER in the call names the target (`Refer-To`, `Referred-By`); the
//! NOTIFYs of the implicit subscription (`Event: refer`, a `message/sipfrag` status
//! line) are answered 200 and reported as [`super::CallEvent::TransferProgress`].
//!
//! Transferee: a REFER is answered 202 and reported as
//! [`super::CallEvent::Transfer`]; the first NOTIFY says `100 Trying`, and the
//! application (or the endpoint following the new call) reports how the call to the
//! target goes with further NOTIFYs, the last one ending the subscription.

use std::time::Instant;

use bytes::Bytes;
use sip_message::headers::{Event as EventHeader, SubscriptionState};
use sip_message::{HeaderName, Method, Request, StatusCode};

use super::in_dialog::{Body, Purpose};
use super::{CallError, CallEvent, CallState, InviteSession};
use crate::context::Ctx;
use crate::peer::uri_in;

/// How long the implicit subscription of a REFER we accept lasts, seconds.
const REFER_SUBSCRIPTION: u32 = 60;

/// The status code of a `message/sipfrag` body (`SIP/2.0 180 Ringing`).
fn sipfrag_status(body: &[u8]) -> Option<u16> {
    let text = std::str::from_utf8(body).ok()?;
    let line = text.lines().next()?;
    let mut parts = line.split_whitespace();
    (parts.next()? == "SIP/2.0")
        .then(|| parts.next()?.parse().ok())
        .flatten()
}

impl InviteSession {
    /// Asks the peer to call `target` (a SIP URI) instead: a REFER in the call.
    pub(crate) fn refer(
        &mut self,
        target: &str,
        ctx: &mut Ctx<'_>,
        now: Instant,
    ) -> Result<(), CallError> {
        if self.state != CallState::Confirmed {
            return Err(self.wrong_state("transfer"));
        }
        let Some(tag) = self.confirmed.clone() else {
            return Err(self.wrong_state("transfer"));
        };
        let body = Body {
            headers: vec![
                ("Refer-To".to_string(), format!("<{}>", uri_in(target))),
                ("Referred-By".to_string(), self.me.from.clone()),
            ],
            ..Body::none()
        };
        self.send_in_dialog(&tag, Method::Refer, body, Purpose::Subscription, ctx, now)
            .map(|_| ())
    }

    /// A REFER from the peer: its target, for the 202 and the event; `None` when it
    /// names none (400). The NOTIFYs of a second REFER in the dialog name it by
    /// its CSeq (`Event: refer;id=`, RFC 3515 §2.4.6).
    pub(super) fn accept_refer(&mut self, request: &Request) -> Option<String> {
        let target = request.header(HeaderName::ReferTo)?;
        let target = uri_in(target).to_string();
        self.refer_subscription = true;
        self.refers = self.refers.saturating_add(1);
        self.refer_event = if self.refers > 1 {
            format!("refer;id={}", request.cseq_seq())
        } else {
            "refer".to_string()
        };
        self.events.push_back(CallEvent::Transfer {
            target: target.clone(),
            referred_by: request
                .header(HeaderName::ReferredBy)
                .map(|v| uri_in(v).to_string()),
        });
        Some(target)
    }

    /// Reports to the transferor how the call to the target goes (RFC 3515 §2.4.4):
    /// a NOTIFY with the status line; `final` ends the subscription.
    pub(crate) fn notify_transfer(
        &mut self,
        status: StatusCode,
        last: bool,
        ctx: &mut Ctx<'_>,
        now: Instant,
    ) -> Result<(), CallError> {
        if !self.refer_subscription {
            return Err(self.wrong_state("report a transfer in"));
        }
        let Some(tag) = self.confirmed.clone() else {
            return Err(self.wrong_state("report a transfer in"));
        };
        let state = if last {
            self.refer_subscription = false;
            "terminated;reason=noresource".to_string()
        } else {
            format!("active;expires={REFER_SUBSCRIPTION}")
        };
        let body = Body {
            content_type: Some("message/sipfrag;version=2.0".to_string()),
            body: Bytes::from(format!(
                "SIP/2.0 {} {}\r\n",
                status.as_u16(),
                status.phrase()
            )),
            headers: vec![
                ("Event".to_string(), self.refer_event.clone()),
                ("Subscription-State".to_string(), state),
            ],
        };
        self.send_in_dialog(&tag, Method::Notify, body, Purpose::Subscription, ctx, now)
            .map(|_| ())
    }

    /// A NOTIFY of the subscription our REFER made: the call to the target's
    /// progress. False when it is about something else.
    pub(super) fn on_refer_notify(&mut self, request: &Request) -> bool {
        let is_refer = request
            .typed::<EventHeader<'_>>(HeaderName::Event)
            .and_then(Result::ok)
            .is_some_and(|e| e.package.eq_ignore_ascii_case("refer"));
        if !is_refer {
            return false;
        }
        let Some(status) = sipfrag_status(request.body()) else {
            return false;
        };
        let done = request
            .typed::<SubscriptionState<'_>>(HeaderName::SubscriptionState)
            .and_then(Result::ok)
            .is_some_and(|s| s.state.eq_ignore_ascii_case("terminated"));
        self.events
            .push_back(CallEvent::TransferProgress { status, done });
        true
    }
}
