//! The endpoint's calls: placing them, the commands on them, and collecting what
//! each did after every input (its events, its deadline, its end).

use std::cmp::Reverse;
use std::time::Instant;

use bytes::Bytes;
use sip_message::{Method, StatusCode};

use super::{Due, Endpoint, Event};
use crate::call::{CallError, CallEvent, CallSpec, CallState, EndReason, InviteSession};
use crate::context::{AccountId, CallId, Ctx, Owner};
use crate::machine::Output;
use crate::transaction::shrink_map;

impl Endpoint {
    /// Collects a call's events, schedules its deadline, and forgets it once over.
    pub(super) fn after_call(&mut self, id: CallId, now: Instant) {
        let Some(s) = self.calls.get_mut(&id) else {
            return;
        };
        let mut reports = Vec::new();
        while let Some(event) = s.poll_event() {
            if self.transfers.contains_key(&id)
                && let Some(report) = transfer_report(&event)
            {
                reports.push(report);
            }
            self.out
                .push_back(Output::Event(Event::Call { call: id, event }));
        }
        if s.is_finished() {
            let key = (s.call_id().to_string(), s.local_tag().to_string());
            self.calls.remove(&id);
            self.by_tag.remove(&key);
            self.scheduled.remove(&id);
            shrink_map(&mut self.calls);
            shrink_map(&mut self.by_tag);
            shrink_map(&mut self.scheduled);
        } else if let Some(d) = s.poll_timeout()
            && self.scheduled.get(&id).is_none_or(|&at| d < at)
        {
            // Only an earlier deadline is pushed: a later one is found when the
            // entry already in the heap comes up (and pushed then).
            self.scheduled.insert(id, d);
            self.due.push(Reverse((d, Due::Call(id.0))));
            self.bound_due();
        }
        self.pump(now);
        for (status, last) in reports {
            let Some(&transferor) = self.transfers.get(&id) else {
                break;
            };
            if last {
                self.transfers.remove(&id);
            }
            let _ = with_call!(self, transferor, now, |s, ctx| s
                .notify_transfer(status, last, &mut ctx, now));
        }
    }

    /// Rebuilds the timer heap from the live deadlines when stale entries make up
    /// most of it, so it stays within a small multiple of the live calls and
    /// accounts whatever the peers do.
    pub(super) fn bound_due(&mut self) {
        if self.due.len() <= 2 * (self.scheduled.len() + self.accounts.len()) + 64 {
            return;
        }
        let mut due: Vec<Reverse<(Instant, Due)>> = self
            .scheduled
            .iter()
            .map(|(id, d)| Reverse((*d, Due::Call(id.0))))
            .collect();
        for (i, r) in self.accounts.iter().enumerate() {
            if let Some(d) = r.poll_timeout() {
                due.push(Reverse((d, Due::Account(i as u32))));
            }
        }
        self.due = due.into();
    }

    /// How many entries the endpoint's timer heap holds (for tests: it stays
    /// bounded by the live calls and accounts).
    #[doc(hidden)]
    pub fn timer_entries(&self) -> usize {
        self.due.len()
    }

    pub(super) fn new_call_id(&mut self) -> CallId {
        self.next_call += 1;
        CallId(self.next_call)
    }

    /// Places a call for an account. Its events come as [`Event::Call`].
    pub fn call(
        &mut self,
        account: AccountId,
        spec: crate::call::CallSpec,
        now: Instant,
    ) -> Result<CallId, crate::call::CallError> {
        let me = self
            .account(account)
            .ok_or(crate::call::CallError::NoAccount)?
            .identity();
        let id = self.new_call_id();
        let mut ctx = ctx!(self, Owner::Call(id));
        let s = InviteSession::outgoing(id, me, spec, &mut ctx, now)?;
        self.by_tag
            .insert((s.call_id().to_string(), s.local_tag().to_string()), id);
        self.calls.insert(id, s);
        self.after_call(id, now);
        Ok(id)
    }

    /// A call, while it is not over.
    pub fn call_state(&self, id: CallId) -> Option<&InviteSession> {
        self.calls
            .get(&id)
            .filter(|s| s.state() != CallState::Terminated)
    }

    /// How many calls are alive (not over).
    pub fn call_count(&self) -> usize {
        self.calls
            .values()
            .filter(|s| s.state() != CallState::Terminated)
            .count()
    }

    /// Runs a command on a call.
    pub(super) fn call_command(
        &mut self,
        id: CallId,
        now: Instant,
        f: impl FnOnce(&mut InviteSession, &mut Ctx<'_>) -> Result<(), crate::call::CallError>,
    ) -> Result<(), crate::call::CallError> {
        if self.call_state(id).is_none() {
            // Over (it may still be kept a moment for a late 2xx of a fork).
            return Err(CallError::NoCall);
        }
        with_call!(self, id, now, |s, ctx| f(s, &mut ctx))
            .unwrap_or(Err(crate::call::CallError::NoCall))
    }

    /// Sends a provisional response (180 Ringing, 183 Session Progress) to an
    /// incoming call; with `early_media`, our answer goes in it.
    pub fn ring(
        &mut self,
        id: CallId,
        status: StatusCode,
        early_media: Option<sip_message::offer_answer::LocalMedia>,
        now: Instant,
    ) -> Result<(), crate::call::CallError> {
        self.call_command(id, now, |s, ctx| s.ring(status, early_media, ctx, now))
    }

    /// Answers an incoming call with 200 and our media (the callee's RTP address
    /// and port, its codecs).
    pub fn answer(
        &mut self,
        id: CallId,
        media: Option<sip_message::offer_answer::LocalMedia>,
        now: Instant,
    ) -> Result<(), crate::call::CallError> {
        self.call_command(id, now, |s, ctx| s.answer(media, ctx, now))
    }

    /// Refuses an incoming call (486 Busy Here, 603 Decline, any 3xx-6xx).
    pub fn reject(
        &mut self,
        id: CallId,
        status: StatusCode,
        now: Instant,
    ) -> Result<(), crate::call::CallError> {
        self.call_command(id, now, |s, ctx| s.reject(status, ctx, now))
    }

    /// Cancels an outgoing call that is not answered yet.
    pub fn cancel(&mut self, id: CallId, now: Instant) -> Result<(), crate::call::CallError> {
        self.call_command(id, now, |s, ctx| {
            s.cancel(crate::call::EndReason::Cancelled, ctx, now)
        })
    }

    /// Ends a call whatever its state (CANCEL, a refusal, or BYE).
    pub fn hangup(&mut self, id: CallId, now: Instant) -> Result<(), crate::call::CallError> {
        self.call_command(id, now, |s, ctx| s.hangup(ctx, now))
    }

    /// Puts the peer on hold (`true`) or takes it off hold, with a re-INVITE.
    pub fn hold(
        &mut self,
        id: CallId,
        on: bool,
        now: Instant,
    ) -> Result<(), crate::call::CallError> {
        self.call_command(id, now, |s, ctx| s.hold(on, ctx, now))
    }

    /// Sends a fresh offer of the call's media in a re-INVITE or an UPDATE, changed to
    /// `media` when given (a codec change).
    pub fn reoffer(
        &mut self,
        id: CallId,
        method: Method,
        media: Option<sip_message::offer_answer::LocalMedia>,
        now: Instant,
    ) -> Result<(), crate::call::CallError> {
        self.call_command(id, now, |s, ctx| s.reoffer(method, media, ctx, now))
    }

    /// Transfers the call's peer to `target` (REFER, RFC 3515); how the peer's call
    /// to it goes comes as [`CallEvent::TransferProgress`].
    pub fn refer(&mut self, id: CallId, target: &str, now: Instant) -> Result<(), CallError> {
        self.call_command(id, now, |s, ctx| s.refer(target, ctx, now))
    }

    /// Reports to the transferor how the call it asked for goes (a NOTIFY with the
    /// status; `last` ends the report).
    pub fn notify_transfer(
        &mut self,
        id: CallId,
        status: StatusCode,
        last: bool,
        now: Instant,
    ) -> Result<(), CallError> {
        self.call_command(id, now, |s, ctx| s.notify_transfer(status, last, ctx, now))
    }

    /// Places the call a transfer asked for (after [`CallEvent::Transfer`] on call
    /// `transferor`), and reports its progress to the transferor by itself.
    pub fn follow_transfer(
        &mut self,
        transferor: CallId,
        spec: CallSpec,
        now: Instant,
    ) -> Result<CallId, CallError> {
        let account = self
            .calls
            .get(&transferor)
            .ok_or(CallError::NoCall)?
            .account();
        let id = self.call(account, spec, now)?;
        self.transfers.insert(id, transferor);
        Ok(id)
    }

    /// Sends a request inside a call (INFO, MESSAGE...); its final response comes as
    /// [`CallEvent::Response`].
    pub fn send_in_call(
        &mut self,
        id: CallId,
        method: Method,
        content_type: Option<String>,
        body: Bytes,
        headers: Vec<(String, String)>,
        now: Instant,
    ) -> Result<(), crate::call::CallError> {
        self.call_command(id, now, |s, ctx| {
            s.send_request(method, content_type, body, headers, ctx, now)
        })
    }

    pub(super) fn call_by_tag(&self, call_id: &str, tag: &str) -> Option<CallId> {
        self.by_tag
            .get(&(call_id.to_string(), tag.to_string()))
            .copied()
    }
}

/// What a NOTIFY tells the transferor of an event of the call to the target: its
/// status so far, and whether that is the last report.
fn transfer_report(event: &CallEvent) -> Option<(StatusCode, bool)> {
    match event {
        CallEvent::Progress { response } if response.status().as_u16() > 100 => {
            Some((response.status(), false))
        }
        CallEvent::Answered { response } => Some((response.status(), true)),
        CallEvent::Ended { reason } => Some((
            match reason {
                EndReason::Rejected { status, .. } => {
                    StatusCode::new(*status).unwrap_or(StatusCode::SERVICE_UNAVAILABLE)
                }
                EndReason::Timeout => StatusCode::REQUEST_TIMEOUT,
                EndReason::Cancelled | EndReason::NoAnswer => StatusCode::REQUEST_TERMINATED,
                _ => StatusCode::SERVICE_UNAVAILABLE,
            },
            true,
        )),
        _ => None,
    }
}
