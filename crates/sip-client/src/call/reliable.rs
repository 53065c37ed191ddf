//! Reliable provisional responses (RFC 3262), both ways.
//!
//! As callee: a provisional response goes reliably when the INVITE requires
//! `100rel`, or supports it and the response carries our answer (early media): with
//! `Require: 100rel` and an `RSeq`, retransmitted T1 doubling up to T2 until the
//! PRACK, one at a time; 64·T1 without a PRACK refuses the INVITE with 500. A 2xx
//! waits for the PRACK of a reliable response that carried SDP.
//!
//! As caller: every reliable provisional response is PRACKed once, in `RSeq` order
//! per fork; a retransmission of one already PRACKed, or one out of order, is
//! ignored (not reported, its Contact not taken).

use std::time::{Duration, Instant};

use bytes::Bytes;
use sip_message::headers::{RAck, Token};
use sip_message::offer_answer::LocalMedia;
use sip_message::{HeaderName, Method, Request, Response, StatusCode};

use super::in_dialog::{Body, Purpose};
use super::{CallState, EndReason, InviteSession};
use crate::context::Ctx;

/// What the RSeq of a provisional response to our INVITE says.
pub(super) enum Rseq {
    /// Not sent reliably.
    Unreliable,
    /// The next one of its fork: PRACKed and used.
    Next(u32),
    /// One already PRACKed, or out of order: ignored.
    Stale,
}

/// Our reliable provisional response waiting for its PRACK.
#[derive(Debug)]
pub(crate) struct Reliable1xx {
    rseq: u32,
    code: u16,
    bytes: Bytes,
    /// It carried our answer: the 2xx waits for its PRACK.
    sdp: bool,
    next: Instant,
    interval: Duration,
    give_up: Instant,
}

impl Reliable1xx {
    pub(crate) fn deadline(&self) -> Instant {
        self.next.min(self.give_up)
    }
}

/// Whether a message's `header` lists the option tag `tag`.
fn lists(m: &sip_message::MessageParts, header: HeaderName, tag: &str) -> bool {
    m.typed_all::<Token<'_>>(header)
        .filter_map(Result::ok)
        .any(|t| t.as_str().eq_ignore_ascii_case(tag))
}

impl InviteSession {
    /// Whether our provisional response to `invite` goes reliably.
    pub(super) fn reliable_wanted(invite: &Request, with_sdp: bool, ctx: &Ctx<'_>) -> bool {
        ctx.config.supports("100rel")
            && (lists(invite.parts(), HeaderName::Require, "100rel")
                || (with_sdp && lists(invite.parts(), HeaderName::Supported, "100rel")))
    }

    /// Whether a reliable provisional response still waits for its PRACK.
    pub(super) fn reliable_pending(&self) -> bool {
        self.reliable.is_some()
    }

    /// The header lines of our next reliable provisional response.
    pub(super) fn reliable_headers(&mut self) -> Vec<(HeaderName, String)> {
        self.next_rseq = self.next_rseq.wrapping_add(1).max(1);
        vec![
            (HeaderName::Require, "100rel".to_string()),
            (HeaderName::RSeq, self.next_rseq.to_string()),
        ]
    }

    /// A reliable provisional response went out: retransmit it until its PRACK.
    pub(super) fn reliable_sent(
        &mut self,
        code: u16,
        bytes: Bytes,
        sdp: bool,
        ctx: &Ctx<'_>,
        now: Instant,
    ) {
        let t = &ctx.config.timers;
        self.reliable = Some(Reliable1xx {
            rseq: self.next_rseq,
            code,
            bytes,
            sdp,
            next: now + t.t1,
            interval: t.t1,
            give_up: now + t.t1x64(),
        });
    }

    /// Retransmits our reliable provisional response; 64·T1 without its PRACK
    /// refuses the INVITE with 500 (§3).
    pub(super) fn reliable_timeout(&mut self, ctx: &mut Ctx<'_>, now: Instant) {
        let Some(r) = self.reliable.as_mut() else {
            return;
        };
        if r.give_up <= now {
            self.reliable = None;
            self.answer_after_prack = None;
            if self.state == CallState::Incoming {
                self.finish_invite(StatusCode::SERVER_INTERNAL_ERROR, ctx, now);
                self.end(EndReason::NoPrack, ctx, now);
            }
            return;
        }
        if r.next <= now
            && let Some(uas) = self.uas.as_ref()
        {
            let _ = ctx.tx.respond_status(uas.tx, r.code, r.bytes.clone(), now);
            r.interval = (r.interval * 2).min(ctx.config.timers.t2);
            r.next = now + r.interval;
        }
    }

    /// A PRACK: true when it acknowledges our pending reliable response (its RAck
    /// names that RSeq and the INVITE's CSeq). A 2xx that waited for it goes now.
    pub(super) fn on_prack(&mut self, prack: &Request, ctx: &mut Ctx<'_>, now: Instant) -> bool {
        let Some(rack) = prack.typed::<RAck>(HeaderName::RAck).and_then(Result::ok) else {
            return false;
        };
        let invite_cseq = self.uas.as_ref().map(|u| u.invite_cseq());
        let matches = self.reliable.as_ref().is_some_and(|r| {
            r.rseq == rack.rseq && Some(rack.cseq) == invite_cseq && rack.method == Method::Invite
        });
        if !matches {
            return false;
        }
        self.reliable = None;
        if let Some(media) = self.answer_after_prack.take() {
            let _ = self.answer(media, ctx, now);
        }
        true
    }

    /// Whether answering must wait for the PRACK of a reliable response that
    /// carried our answer; otherwise the pending one stops being retransmitted.
    pub(super) fn answer_waits_for_prack(&mut self, media: &Option<LocalMedia>) -> bool {
        match &self.reliable {
            Some(r) if r.sdp => {
                self.answer_after_prack = Some(media.clone());
                true
            }
            Some(_) => {
                self.reliable = None;
                false
            }
            None => false,
        }
    }

    /// As caller: what the RSeq of a provisional response from fork `tag` says,
    /// checked before anything of the response is used (RFC 3262 §4).
    pub(super) fn rseq_of(&self, response: &Response, tag: &str) -> Rseq {
        if !lists(response.parts(), HeaderName::Require, "100rel") {
            return Rseq::Unreliable;
        }
        let Some(rseq) = response
            .header(HeaderName::RSeq)
            .and_then(|v| v.trim().parse::<u32>().ok())
        else {
            return Rseq::Unreliable;
        };
        match self.rseqs.get(tag) {
            Some(last) if rseq != last.wrapping_add(1) => Rseq::Stale,
            _ => Rseq::Next(rseq),
        }
    }

    /// As caller: PRACKs the reliable provisional response `rseq` of fork `tag` to
    /// our INVITE with CSeq `cseq`, with our answer when the response offered.
    pub(super) fn send_prack(
        &mut self,
        tag: &str,
        rseq: u32,
        cseq: u32,
        sdp: Option<Bytes>,
        ctx: &mut Ctx<'_>,
        now: Instant,
    ) {
        self.rseqs.insert(tag.to_string(), rseq);
        let mut body = Body {
            headers: vec![("RAck".to_string(), format!("{rseq} {cseq} INVITE"))],
            ..Body::none()
        };
        if let Some(sdp) = sdp {
            body.content_type = Some("application/sdp".to_string());
            body.body = sdp;
        }
        let _ = self.send_in_dialog(tag, Method::Prack, body, Purpose::Prack, ctx, now);
    }
}
