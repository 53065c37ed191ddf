//! Reading and driving calls on the simulated network: what an endpoint's events say
//! about its calls and registrations, and a whole call from INVITE to BYE with both
//! applications acting as people do (ring and answer at once, talk, hang up).

use std::time::{Duration, Instant};

use sip_message::StatusCode;
use sip_message::offer_answer::LocalMedia;

use super::{Node, SimNet, SimUa};
use crate::call::{CallEvent, EndReason};
use crate::context::CallId;
use crate::endpoint::Event;
use crate::registration::RegistrationEvent;

impl SimUa {
    /// The events of its calls so far, in order.
    pub fn call_events(&self) -> Vec<(CallId, &CallEvent)> {
        self.events
            .iter()
            .filter_map(|e| match e {
                Event::Call { call, event } => Some((*call, event)),
                _ => None,
            })
            .collect()
    }

    /// Why call `id` ended, if it did.
    pub fn ended(&self, id: CallId) -> Option<EndReason> {
        self.call_events().into_iter().find_map(|(c, e)| match e {
            CallEvent::Ended { reason } if c == id => Some(reason.clone()),
            _ => None,
        })
    }

    /// The calls that arrived, in order.
    pub fn incoming_calls(&self) -> Vec<CallId> {
        self.call_events()
            .into_iter()
            .filter_map(|(c, e)| matches!(e, CallEvent::Incoming { .. }).then_some(c))
            .collect()
    }

    /// Whether a registration succeeded.
    pub fn registered(&self) -> bool {
        self.events.iter().any(|e| {
            matches!(
                e,
                Event::Registration {
                    event: RegistrationEvent::Registered { .. },
                    ..
                }
            )
        })
    }
}

/// How a whole call went when it did not complete.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Incomplete {
    /// How the caller's side ended, if it did.
    pub caller: Option<EndReason>,
    /// How the callee's side ended, if the call reached it and it ended.
    pub callee: Option<EndReason>,
    /// Whether both sides ended (with a reason) by the limit.
    pub ended_cleanly: bool,
}

/// How the people behave in [`whole_call`].
#[derive(Clone, Debug)]
pub struct CallPlan {
    /// The callee's media, answered with at once.
    pub answer: LocalMedia,
    /// How long the caller talks before hanging up.
    pub talk: Duration,
    /// When the simulation gives up.
    pub limit: Instant,
}

/// Drives call `call`, just placed by `caller`, to its end: the callee rings and
/// answers as soon as it arrives, the caller hangs up after the plan's talk. `others`
/// (a proxy) run alongside. `Ok` when the caller saw the answer, the callee the ACK,
/// and both ended with BYE (the caller's, answered) before the limit.
pub fn whole_call(
    net: &mut SimNet,
    caller: &mut SimUa,
    callee: &mut SimUa,
    others: &mut [&mut dyn Node],
    call: CallId,
    plan: &CallPlan,
) -> Result<(), Incomplete> {
    let (answer, talk, limit) = (&plan.answer, plan.talk, plan.limit);
    let (mut theirs, mut answered_at, mut hung_up) = (None, None::<Instant>, false);
    loop {
        let stepped = {
            let mut nodes: Vec<&mut dyn Node> = Vec::with_capacity(2 + others.len());
            nodes.push(&mut *caller);
            nodes.push(&mut *callee);
            for o in others.iter_mut() {
                nodes.push(&mut **o);
            }
            net.step(&mut nodes, limit)
        };
        if !stepped {
            break;
        }
        let now = net.now();
        if theirs.is_none()
            && let Some(c) = callee.incoming_calls().first().copied()
        {
            theirs = Some(c);
            let _ = callee.machine.ring(c, StatusCode::RINGING, None, now);
            let _ = callee.machine.answer(c, Some(answer.clone()), now);
        }
        if answered_at.is_none()
            && caller
                .call_events()
                .iter()
                .any(|(c, e)| *c == call && matches!(e, CallEvent::Answered { .. }))
        {
            answered_at = Some(now);
        }
        if !hung_up && answered_at.is_some_and(|t| now >= t + talk) {
            hung_up = true;
            let _ = caller.machine.hangup(call, now);
        }
        if caller.machine.call_count() == 0 && callee.machine.call_count() == 0 {
            break;
        }
    }
    let ours = caller.ended(call);
    let theirs_end = theirs.and_then(|c| callee.ended(c));
    let confirmed = theirs.is_some_and(|c| {
        callee
            .call_events()
            .iter()
            .any(|(id, e)| *id == c && matches!(e, CallEvent::Confirmed))
    });
    if answered_at.is_some()
        && confirmed
        && ours == Some(EndReason::LocalBye)
        && theirs_end == Some(EndReason::RemoteBye)
    {
        return Ok(());
    }
    Err(Incomplete {
        ended_cleanly: ours.is_some() && (theirs.is_none() || theirs_end.is_some()),
        caller: ours,
        callee: theirs_end,
    })
}
