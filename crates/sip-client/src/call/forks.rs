//! The caller's side of forking (RFC 3261 §12.1.2, §13.2.2.4; RFC 3262): the
//! provisional responses of our INVITE make one early dialog per fork's To tag
//! (101-199 only, [`MAX_FORKS`] at most; further tags are ignored). A reliable one
//! is PRACKed in RSeq order, and one out of order or already PRACKed is ignored
//! before anything of it is used. The SDP of a provisional response answers our
//! offer for its fork (early media); with a late offer, that of a reliable one is
//! the fork's offer, answered in the PRACK (§5). The first 2xx confirms its dialog
//! and keeps its own fork's exchange; a 2xx of another fork, also one that comes
//! after the INVITE's transaction or after the call ended, is ACKed and ended with
//! BYE.

use std::time::Instant;

use sip_auth::AuthorizationValue;
use sip_message::offer_answer::OfferAnswerError;
use sip_message::{Method, Response};

use super::in_dialog::{Body, Purpose};
use super::media::{Completed, is_sdp};
use super::reliable::Rseq;
use super::{CallEvent, CallState, EndReason, InviteSession, MAX_FORKS, Role};
use crate::context::Ctx;
use crate::dialog::{Dialog, DialogState};

impl InviteSession {
    /// A provisional response to our INVITE.
    pub(super) fn on_invite_provisional(
        &mut self,
        response: Response,
        ctx: &mut Ctx<'_>,
        now: Instant,
    ) {
        let status = response.status().as_u16();
        let Some(uac) = self.uac.as_mut() else {
            return;
        };
        if uac.finished || self.state == CallState::Terminated {
            return;
        }
        uac.provisional = true;
        let cancel_now = uac.cancel_wanted();
        if self.state == CallState::Calling {
            self.state = CallState::Proceeding;
        }
        let mut media = None;
        // §12.1: only 101-199 with a To tag make an early dialog.
        if status > 100
            && let Some(tag) = response.to_tag().map(str::to_string)
        {
            let rseq = self.rseq_of(&response, &tag);
            if matches!(rseq, Rseq::Stale) || !self.fork_allowed(&tag) {
                // Already PRACKed, out of order (RFC 3262 §4), or a fork too many.
                if cancel_now {
                    self.send_cancel(ctx, now);
                }
                return;
            }
            self.early_dialog(&tag, &response);
            let reliable = matches!(rseq, Rseq::Next(_));
            let (prack_body, done) = self.early_sdp(&tag, &response, reliable);
            if let Rseq::Next(n) = rseq {
                self.send_prack(&tag, n, response.cseq_seq(), prack_body, ctx, now);
            }
            media = done.map(|d| (tag, d));
        }
        self.events.push_back(CallEvent::Progress { response });
        if let Some((tag, done)) = media {
            self.media_tag = Some(tag);
            self.media_event(done);
        }
        if cancel_now {
            self.send_cancel(ctx, now);
        }
    }

    /// Whether a fork with this To tag may have a dialog: one it has, or a new one
    /// within the cap.
    pub(super) fn fork_allowed(&self, tag: &str) -> bool {
        self.fork_tags.iter().any(|t| t == tag) || self.fork_tags.len() < MAX_FORKS
    }

    /// Remembers a fork's tag (within the cap [`InviteSession::fork_allowed`]
    /// checked).
    fn known_fork(&mut self, tag: &str) {
        if !self.fork_tags.iter().any(|t| t == tag) && self.fork_tags.len() < MAX_FORKS {
            self.fork_tags.push(tag.to_string());
        }
    }

    /// Makes or updates the early dialog of a fork.
    fn early_dialog(&mut self, tag: &str, response: &Response) {
        if let Some(d) = self.dialog_mut(tag) {
            if let Some(c) = response.contacts().next() {
                d.remote_target = c.uri().as_str().to_string();
            }
            return;
        }
        let Some(d) = self.uac_dialog(response) else {
            return;
        };
        self.known_fork(tag);
        self.dialogs.push(d);
    }

    /// The dialog a response to our INVITE makes (§12.1.2).
    fn uac_dialog(&self, response: &Response) -> Option<Dialog> {
        let (invite, peer) = self.uac.as_ref()?.sent.as_ref()?;
        Dialog::uac(invite, response, peer.clone(), self.me.via_addr)
    }

    /// The SDP of a provisional response from fork `tag`: the fork's answer to our
    /// offer, or (late offer, reliable response) its offer, whose answer goes in
    /// the PRACK. Returns that answer and the exchange completed; the first SDP of
    /// a fork counts, the later ones repeat it.
    fn early_sdp(
        &mut self,
        tag: &str,
        response: &Response,
        reliable: bool,
    ) -> (Option<bytes::Bytes>, Option<Completed>) {
        if !is_sdp(response.content_type(), response.body())
            || self.early_answers.iter().any(|(t, _)| t == tag)
        {
            return (None, None);
        }
        let late = self.uac.as_ref().is_some_and(|u| u.body.is_empty());
        let (answer, done) = if late {
            if !reliable {
                return (None, None);
            }
            match self
                .media
                .take_offer(response.body())
                .and_then(|()| self.media.make_answer())
            {
                Ok((answer, done)) => (Some(answer), done),
                Err(e) => {
                    tracing::debug!(call = ?self.id, error = %e, "a fork's early offer we cannot answer");
                    return (None, None);
                }
            }
        } else if self.media.offer_pending() {
            match self.media.peek_answer(response.body()) {
                Ok(done) => (None, done),
                Err(_) => return (None, None),
            }
        } else {
            return (None, None);
        };
        self.early_answers.push((tag.to_string(), done.clone()));
        (answer, Some(done))
    }

    /// A 2xx to our INVITE.
    pub(super) fn on_invite_2xx(&mut self, response: Response, ctx: &mut Ctx<'_>, now: Instant) {
        let tag = response.to_tag().unwrap_or_default().to_string();
        let cseq = response.cseq_seq();
        let Some(uac) = self.uac.as_mut() else {
            return;
        };
        uac.finished = true;
        let invite_tx = uac.tx;
        let authorization = uac.authorization.clone();
        let late_offer = uac.body.is_empty();
        let cancelling = self.state == CallState::Cancelling;
        let cancel_reason = uac.cancel_reason.clone();
        if self.confirmed.is_some() || self.state == CallState::Terminated {
            if self.resend_ack(&tag, cseq, ctx) {
                // The same 2xx again: our ACK was lost. Nothing new to report.
                return;
            }
            if self.confirmed.as_deref() != Some(tag.as_str()) {
                self.end_extra_fork(&tag, &response, &authorization, ctx, now);
            }
            return;
        }
        // The first 2xx: its dialog is the call's (§13.2.2.4).
        let fresh = self.uac_dialog(&response);
        match (self.dialog_mut(&tag), fresh) {
            (Some(d), Some(f)) => {
                d.state = DialogState::Confirmed;
                d.route_set = f.route_set;
                d.remote_target = f.remote_target;
            }
            (None, Some(f)) => {
                self.known_fork(&tag);
                self.dialogs.push(Dialog {
                    state: DialogState::Confirmed,
                    ..f
                });
            }
            _ => {}
        }
        self.confirmed = Some(tag.clone());
        let early = self
            .early_answers
            .iter()
            .position(|(t, _)| *t == tag)
            .map(|i| self.early_answers.swap_remove(i).1);
        self.end_other_early_dialogs(&tag);
        let sdp = is_sdp(response.content_type(), response.body());
        let reported = self.media_tag.as_deref() == Some(tag.as_str());
        let mut ack_body = None;
        let media = match early {
            // This fork answered (or offered, and our PRACK answered) in a
            // provisional response: that exchange stands, the 2xx repeats it.
            Some(done) => {
                self.media.settle(done.negotiated.clone());
                (!reported).then_some(Ok(done))
            }
            // The 2xx offers; our ACK answers (§13.2.2.4).
            None if late_offer => match self.media.take_offer(response.body()) {
                Ok(()) if sdp => match self.media.make_answer() {
                    Ok((answer, done)) => {
                        ack_body = Some(answer);
                        Some(Ok(done))
                    }
                    Err(e) => Some(Err(e)),
                },
                Ok(()) => Some(Err(OfferAnswerError::NoCommonCodec)),
                Err(e) => Some(Err(e)),
            },
            None if self.media.offer_pending() => Some(if sdp {
                self.media.take_answer(response.body())
            } else {
                Err(OfferAnswerError::NoCommonCodec)
            }),
            None => None,
        };
        self.media_tag = Some(tag.clone());
        self.send_ack(&tag, cseq, &authorization, ack_body, Some(invite_tx), ctx);
        self.state = CallState::Confirmed;
        if cancelling {
            // The 2xx crossed our CANCEL: the call is ended at once (§9.1).
            let _ = self.send_bye(cancel_reason, ctx, now);
            return;
        }
        self.timer_from_response(&response, ctx, now);
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
                self.rseqs.remove(&d.remote_tag);
                self.events.push_back(CallEvent::EarlyDialogEnded {
                    remote_tag: d.remote_tag,
                });
            }
        }
        self.dialogs = kept;
        self.early_answers.clear();
    }

    /// A 2xx from a fork after another answered, or after the call ended
    /// (§13.2.2.4): acknowledged, then ended with BYE. The application hears nothing
    /// of it. A fork beyond the cap is ignored.
    fn end_extra_fork(
        &mut self,
        tag: &str,
        response: &Response,
        authorization: &[AuthorizationValue],
        ctx: &mut Ctx<'_>,
        now: Instant,
    ) {
        if !self.fork_allowed(tag) {
            tracing::debug!(call = ?self.id, "a 2xx of a fork too many: ignored");
            return;
        }
        let fresh = self.uac_dialog(response);
        let was_early = match (self.dialog_mut(tag), fresh) {
            (Some(d), Some(f)) => {
                let early = d.state == DialogState::Early;
                d.state = DialogState::Confirmed;
                d.route_set = f.route_set;
                d.remote_target = f.remote_target;
                early
            }
            (Some(_), None) => false,
            (None, Some(f)) => {
                self.known_fork(tag);
                self.dialogs.push(Dialog {
                    state: DialogState::Confirmed,
                    ..f
                });
                false
            }
            (None, None) => return,
        };
        if was_early && self.state != CallState::Terminated {
            self.events.push_back(CallEvent::EarlyDialogEnded {
                remote_tag: tag.to_string(),
            });
        }
        self.rseqs.remove(tag);
        self.early_answers.retain(|(t, _)| t != tag);
        let invite_tx = self.uac.as_ref().filter(|u| u.tx_alive).map(|u| u.tx);
        self.send_ack(
            tag,
            response.cseq_seq(),
            authorization,
            None,
            invite_tx,
            ctx,
        );
        let _ = self.send_in_dialog(tag, Method::Bye, Body::none(), Purpose::EndFork, ctx, now);
    }

    /// A 2xx whose INVITE transaction has ended: acknowledged again if we sent its
    /// ACK; a 2xx to our INVITE from a fork with no confirmed dialog is ACKed and
    /// ended with BYE (§13.2.2.4). Others (a 2xx of a dialog we have, whose ACK is
    /// gone with its transaction) are dropped (RFC 6026 §7.2).
    pub(super) fn on_stray_2xx(&mut self, response: &Response, ctx: &mut Ctx<'_>, now: Instant) {
        let tag = response.to_tag().unwrap_or_default().to_string();
        let cseq = response.cseq_seq();
        if self.resend_ack(&tag, cseq, ctx) {
            return;
        }
        let ours = self.role == Role::Caller
            && self
                .uac
                .as_ref()
                .and_then(|u| u.sent.as_ref())
                .is_some_and(|(invite, _)| invite.cseq_seq() == cseq);
        let confirmed = self
            .dialogs
            .iter()
            .any(|d| d.remote_tag == tag && d.state == DialogState::Confirmed);
        if !ours || confirmed {
            tracing::debug!(call = ?self.id, "a 2xx we never acknowledged, after its transaction");
            return;
        }
        let authorization = self
            .uac
            .as_ref()
            .map(|u| u.authorization.clone())
            .unwrap_or_default();
        self.end_extra_fork(&tag, response, &authorization, ctx, now);
    }
}
