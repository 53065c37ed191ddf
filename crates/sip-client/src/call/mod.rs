//! One call: an INVITE session (RFC 3261 §13–§15) as a sans-IO state machine.
//!
//! An [`InviteSession`] owns everything of one call: its initial INVITE client or
//! server transaction, the early dialogs of forks and the confirmed dialog, the 2xx
//! retransmission and ACK, CANCEL both ways, the offer/answer state (RFC 3264),
//! re-INVITE and UPDATE both ways with glare handling (§14), INFO DTMF, and BYE. The
//! [`crate::Endpoint`] routes to it what belongs to it (responses and failures of its
//! transactions, in-dialog requests, ACKs, CANCELs, 2xx retransmissions that outlived
//! their transaction) and drives it like every machine: an input with the endpoint's
//! context, then its events drained, and one deadline.

mod events;
mod forks;
mod in_dialog;
mod incoming;
mod media;
mod reliable;
mod retransmit;
mod session_timer;
mod transfer;
mod uac;
mod uas;

use std::collections::{HashMap, VecDeque};
use std::time::{Duration, Instant};

use sip_message::offer_answer::{LocalMedia, Negotiated};
use sip_message::{Method, Request, Response, StatusCode};

use crate::context::{CallId, Ctx, Identity};
use crate::dialog::{Dialog, DialogState};
use crate::peer::Peer;
use crate::transaction::TxId;

pub use events::{CallError, CallEvent, CallState, EndReason};
use in_dialog::OurRequest;
use media::MediaState;
use reliable::Reliable1xx;
use retransmit::{Retransmit2xx, SentAck};
use session_timer::SessionTimer;
use uac::UacInvite;
pub(crate) use uas::Refused;
use uas::UasInvite;

/// The most forks (To tags) one INVITE of ours deals with: early dialogs, PRACKs,
/// ACKs and BYEs go to this many at most; further tags are ignored.
const MAX_FORKS: usize = 16;

/// Which side of the call we are.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    /// We placed the call (UAC of the INVITE).
    Caller,
    /// We received it (UAS of the INVITE).
    Callee,
}

/// What the endpoint routes to a call.
#[derive(Debug)]
#[allow(clippy::large_enum_variant)]
pub(crate) enum CallInput {
    /// A response for one of the call's client transactions.
    Response { tx: TxId, response: Response },
    /// A client transaction of the call timed out or could not send.
    Failed { tx: TxId, timeout: bool },
    /// A transaction of the call ended.
    Terminated { tx: TxId },
    /// A request inside the call's dialogs (its server transaction is the call's).
    Request {
        tx: TxId,
        request: Request,
        peer: Peer,
    },
    /// A CANCEL for the call's INVITE (or re-INVITE) server transaction `invite`.
    Cancel {
        tx: TxId,
        request: Request,
        invite: TxId,
    },
    /// An ACK for a 2xx of the call.
    Ack { request: Request },
    /// A 2xx whose INVITE transaction has ended (retransmitted after Timer M).
    Stray { response: Response },
}

/// How to place a call.
#[derive(Clone, Debug)]
pub struct CallSpec {
    /// The Request-URI (`sip:bob@example.com`).
    pub uri: String,
    /// The To value; `<uri>` when `None`.
    pub to: Option<String>,
    /// Our media: the offer is built from it, and answers are checked against it.
    pub media: LocalMedia,
    /// Send the INVITE without an offer (the callee offers in its 2xx and our ACK
    /// answers).
    pub late_offer: bool,
    /// Further header lines of the INVITE.
    pub headers: Vec<(String, String)>,
    /// Where to send it; the account's outbound proxy (registrar) when `None`.
    pub peer: Option<Peer>,
    /// How long to let it ring before cancelling; the endpoint's ring timeout when
    /// `None`.
    pub ring_timeout: Option<Duration>,
}

impl CallSpec {
    /// A call to `uri` offering `media`, with the defaults.
    pub fn new(uri: &str, media: LocalMedia) -> CallSpec {
        CallSpec {
            uri: uri.to_string(),
            to: None,
            media,
            late_offer: false,
            headers: Vec::new(),
            peer: None,
            ring_timeout: None,
        }
    }
}

/// One call.
#[derive(Debug)]
pub struct InviteSession {
    id: CallId,
    role: Role,
    state: CallState,
    me: Identity,
    call_id: String,
    local_tag: String,
    /// Early dialogs of forks, the confirmed dialog, and forks being ended.
    dialogs: Vec<Dialog>,
    /// The remote tag of the confirmed dialog.
    confirmed: Option<String>,
    uac: Option<UacInvite>,
    uas: Option<UasInvite>,
    media: MediaState,
    /// Our 2xx to an INVITE (initial or re-INVITE) awaiting its ACK.
    retransmit: Option<Retransmit2xx>,
    /// ACKs we sent for 2xx, resent when a 2xx comes again.
    acks: Vec<SentAck>,
    /// Requests we sent inside the dialogs, by transaction.
    ours: HashMap<TxId, OurRequest>,
    /// Our re-INVITE or UPDATE with an offer, until its final response.
    offer_tx: Option<TxId>,
    /// When to try again a re-INVITE refused with 491 (§14.1), and whether it was
    /// an UPDATE.
    glare_retry: Option<(Instant, Method)>,
    /// A BYE the application asked for before the ACK of our 2xx came (§15: it goes
    /// out when the ACK comes or the 2xx is given up).
    bye_wanted: bool,
    /// The reason to report when the BYE we sent is answered.
    ending: Option<EndReason>,
    /// The session timer (RFC 4028), once a 2xx set one up.
    session_timer: Option<SessionTimer>,
    /// The lowest session interval the peer accepts (a 422's Min-SE), seconds.
    se_floor: u32,
    /// Our reliable provisional response waiting for its PRACK.
    reliable: Option<Reliable1xx>,
    /// The RSeq of our last reliable provisional response.
    next_rseq: u32,
    /// An answer the application gave while a reliable response with SDP waited for
    /// its PRACK: sent when the PRACK comes.
    answer_after_prack: Option<Option<LocalMedia>>,
    /// The last RSeq we PRACKed, per fork (To tag).
    rseqs: HashMap<String, u32>,
    /// A REFER we accepted whose subscription is still open (NOTIFYs are due).
    refer_subscription: bool,
    /// How many REFERs we accepted in the dialog, and the Event value of the
    /// current one's NOTIFYs (`refer`, then `refer;id=<CSeq>`, RFC 3515 §2.4.6).
    refers: u32,
    refer_event: String,
    /// The forks (To tags) our current INVITE made dialogs for, [`MAX_FORKS`] at
    /// most: those get ACK and BYE for a late 2xx, others are ignored.
    fork_tags: Vec<String>,
    /// Caller: the answers forks gave to our offer in provisional responses (or
    /// the exchange a fork's reliable offer and our PRACK made), by To tag.
    early_answers: Vec<(String, media::Completed)>,
    /// Caller: the fork whose media the last [`CallEvent::Media`] reported.
    media_tag: Option<String>,
    /// Our media before a re-offer that changed it, restored if it is refused.
    rollback: Option<LocalMedia>,
    events: VecDeque<CallEvent>,
}

impl InviteSession {
    /// The call's id in its endpoint.
    pub fn id(&self) -> CallId {
        self.id
    }

    /// Caller or callee.
    pub fn role(&self) -> Role {
        self.role
    }

    /// Where it stands.
    pub fn state(&self) -> CallState {
        self.state
    }

    /// The Call-ID header value.
    pub fn call_id(&self) -> &str {
        &self.call_id
    }

    /// Our tag.
    pub fn local_tag(&self) -> &str {
        &self.local_tag
    }

    /// The confirmed dialog, once there is one.
    pub fn dialog(&self) -> Option<&Dialog> {
        let tag = self.confirmed.as_deref()?;
        self.dialogs.iter().find(|d| d.remote_tag == tag)
    }

    /// Every dialog of the call (early ones of forks included).
    pub fn dialogs(&self) -> &[Dialog] {
        &self.dialogs
    }

    /// What the last offer/answer exchange settled.
    pub fn negotiated(&self) -> Option<&Negotiated> {
        self.media.negotiated()
    }

    /// Our media.
    pub fn local_media(&self) -> &LocalMedia {
        self.media.local()
    }

    /// Whether the call is over and has nothing left to report. A call we placed
    /// stays (over, but able to acknowledge and end a late 2xx of a fork) while its
    /// INVITE transaction lives, and 64·T1 after a CANCEL was given up.
    pub(crate) fn is_finished(&self) -> bool {
        self.state == CallState::Terminated
            && self.events.is_empty()
            && !self.uac.as_ref().is_some_and(UacInvite::lingers)
    }

    /// How many ACKs the call keeps to send again when their 2xx comes again (for
    /// tests: they go when their INVITE transaction ends).
    #[doc(hidden)]
    pub fn stored_acks(&self) -> usize {
        self.acks.len()
    }

    /// The next event.
    pub(crate) fn poll_event(&mut self) -> Option<CallEvent> {
        self.events.pop_front()
    }

    /// The account the call belongs to.
    pub fn account(&self) -> crate::context::AccountId {
        self.me.account
    }

    /// One input from the endpoint.
    pub(crate) fn handle_input(&mut self, input: CallInput, ctx: &mut Ctx<'_>, now: Instant) {
        match input {
            CallInput::Response { tx, response } => {
                if self.uac.as_ref().is_some_and(|u| u.tx == tx) {
                    self.on_invite_response(response, ctx, now);
                } else if self.ours.contains_key(&tx) {
                    self.on_our_response(tx, response, ctx, now);
                }
            }
            CallInput::Failed { tx, timeout } => {
                if self.uac.as_ref().is_some_and(|u| u.tx == tx) {
                    self.on_invite_failed(timeout, ctx, now);
                } else if self.ours.contains_key(&tx) {
                    self.on_our_failure(tx, timeout, ctx, now);
                } else if self.uas.as_ref().is_some_and(|u| u.tx == tx) {
                    // Our response to the INVITE could not be sent: nobody to talk to.
                    self.end(EndReason::Transport, ctx, now);
                }
            }
            CallInput::Terminated { tx } => {
                self.ours.remove(&tx);
                if self.offer_tx == Some(tx) {
                    self.offer_tx = None;
                }
                // No 2xx of that INVITE can come again through it: its ACKs go.
                self.acks.retain(|a| a.tx != Some(tx));
                if let Some(u) = self.uac.as_mut()
                    && u.tx == tx
                {
                    u.tx_alive = false;
                }
            }
            CallInput::Request { tx, request, peer } => {
                self.on_request(tx, request, peer, ctx, now)
            }
            CallInput::Cancel {
                tx,
                request,
                invite,
            } => self.on_cancel(tx, &request, invite, ctx, now),
            CallInput::Ack { request } => self.on_ack(&request, ctx, now),
            CallInput::Stray { response } => self.on_stray_2xx(&response, ctx, now),
        }
    }

    /// The next instant the call needs [`InviteSession::handle_timeout`].
    pub(crate) fn poll_timeout(&self) -> Option<Instant> {
        [
            self.retransmit.as_ref().map(Retransmit2xx::deadline),
            self.uac.as_ref().and_then(UacInvite::deadline),
            self.uas.as_ref().and_then(UasInvite::deadline),
            self.glare_retry.as_ref().map(|(t, _)| *t),
            self.session_timer.as_ref().map(SessionTimer::deadline),
            self.reliable.as_ref().map(Reliable1xx::deadline),
        ]
        .into_iter()
        .flatten()
        .min()
    }

    /// Runs what is due by `now`.
    pub(crate) fn handle_timeout(&mut self, ctx: &mut Ctx<'_>, now: Instant) {
        self.retransmit_timeout(ctx, now);
        self.uac_timeout(ctx, now);
        self.uas_timeout(ctx, now);
        self.session_timer_timeout(ctx, now);
        self.reliable_timeout(ctx, now);
        if let Some((at, method)) = self.glare_retry.clone()
            && at <= now
        {
            self.glare_retry = None;
            if self.state == CallState::Confirmed
                && self.offer_tx.is_none()
                && self.send_offer(method, ctx, now).is_err()
            {
                self.roll_back();
            }
        }
    }

    /// The dialog with the peer's tag `remote_tag`.
    fn dialog_mut(&mut self, remote_tag: &str) -> Option<&mut Dialog> {
        self.dialogs.iter_mut().find(|d| d.remote_tag == remote_tag)
    }

    /// A call with no transaction yet: what placing and receiving share.
    fn new(
        id: CallId,
        role: Role,
        me: Identity,
        call_id: String,
        local_tag: String,
        media: MediaState,
    ) -> InviteSession {
        InviteSession {
            id,
            role,
            state: match role {
                Role::Caller => CallState::Calling,
                Role::Callee => CallState::Incoming,
            },
            me,
            call_id,
            local_tag,
            dialogs: Vec::new(),
            confirmed: None,
            uac: None,
            uas: None,
            media,
            retransmit: None,
            acks: Vec::new(),
            ours: HashMap::new(),
            offer_tx: None,
            glare_retry: None,
            bye_wanted: false,
            ending: None,
            session_timer: None,
            se_floor: 0,
            reliable: None,
            next_rseq: 0,
            answer_after_prack: None,
            rseqs: HashMap::new(),
            refer_subscription: false,
            refers: 0,
            refer_event: "refer".to_string(),
            fork_tags: Vec::new(),
            early_answers: Vec::new(),
            media_tag: None,
            rollback: None,
            events: VecDeque::new(),
        }
    }

    /// Reports an offer/answer exchange that completed.
    fn media_event(&mut self, done: media::Completed) {
        self.events.push_back(CallEvent::Media {
            negotiated: done.negotiated,
            remote_sdp: done.remote_sdp,
        });
    }

    /// Ends the call now with `reason` (once). Nothing is left unfinished: an
    /// INVITE we received and never answered gets 500; our INVITE still waiting for
    /// its final response is cancelled (after a provisional response; the call then
    /// stays until the 487 or the give-up 64·T1 later) or, before one, its
    /// transaction ended.
    fn end(&mut self, reason: EndReason, ctx: &mut Ctx<'_>, now: Instant) {
        if self.state == CallState::Terminated {
            return;
        }
        if self.state == CallState::Incoming && self.uas.as_ref().is_some_and(|u| !u.final_sent) {
            self.finish_invite(StatusCode::SERVER_INTERNAL_ERROR, ctx, now);
        }
        self.abandon_invite(ctx, now);
        self.state = CallState::Terminated;
        self.retransmit = None;
        self.glare_retry = None;
        self.session_timer = None;
        self.reliable = None;
        self.answer_after_prack = None;
        self.rollback = None;
        if let Some(u) = self.uas.take() {
            ctx.release(u.tx);
        }
        for d in &self.dialogs {
            if self.confirmed.as_deref() != Some(d.remote_tag.as_str())
                && d.state == DialogState::Early
                && self.role == Role::Caller
            {
                self.events.push_back(CallEvent::EarlyDialogEnded {
                    remote_tag: d.remote_tag.clone(),
                });
            }
        }
        self.early_answers.clear();
        self.events.push_back(CallEvent::Ended { reason });
    }

    /// Drops the dialog of one fork (it sent BYE on its early dialog, or it is a
    /// fork we end): the call goes on with the others.
    fn drop_dialog(&mut self, remote_tag: &str) {
        let Some(i) = self.dialogs.iter().position(|d| d.remote_tag == remote_tag) else {
            return;
        };
        let d = self.dialogs.remove(i);
        self.rseqs.remove(remote_tag);
        self.early_answers.retain(|(t, _)| t != remote_tag);
        if d.state == DialogState::Early {
            self.events.push_back(CallEvent::EarlyDialogEnded {
                remote_tag: d.remote_tag,
            });
        }
    }

    /// Restores our media as it was before a re-offer the peer refused (RFC 3264
    /// §8: a refused offer leaves the session as it was).
    fn roll_back(&mut self) {
        if let Some(m) = self.rollback.take() {
            self.media.set_local(m);
        }
    }

    fn wrong_state(&self, action: &'static str) -> CallError {
        CallError::WrongState {
            action,
            state: self.state,
        }
    }

    /// Hangs up whatever the state: CANCEL while our INVITE is unanswered, a refusal
    /// (603) of an INVITE we have not answered, BYE once the call is up (after the
    /// ACK of our 2xx, §15).
    pub(crate) fn hangup(&mut self, ctx: &mut Ctx<'_>, now: Instant) -> Result<(), CallError> {
        match self.state {
            CallState::Calling | CallState::Proceeding => {
                self.cancel(EndReason::Cancelled, ctx, now)
            }
            CallState::Incoming => self.reject(StatusCode::DECLINE, ctx, now),
            CallState::Answered => {
                self.bye_wanted = true;
                Ok(())
            }
            CallState::Confirmed => self.send_bye(EndReason::LocalBye, ctx, now),
            CallState::Cancelling | CallState::Terminating | CallState::Terminated => Ok(()),
        }
    }
}
