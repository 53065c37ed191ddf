//! What a call reports and how it fails: where it stands, its events, why it ended,
//! and why a command on it could not be carried out.

use bytes::Bytes;
use sip_auth::AuthError;
use sip_message::offer_answer::{Negotiated, OfferAnswerError};
use sip_message::{Method, Request, Response};

use crate::peer::Peer;
use crate::request_build::BuildError;
use crate::transaction::TxError;

/// Where a call stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CallState {
    /// Caller: INVITE sent, no provisional response yet.
    Calling,
    /// Caller: a provisional response came (ringing, progress, early media).
    Proceeding,
    /// Callee: the INVITE is here and not answered yet (ringing or not).
    Incoming,
    /// Callee: our 2xx is sent, its ACK not here yet.
    Answered,
    /// The call is up.
    Confirmed,
    /// Caller: CANCEL sent (or waiting for a provisional response to send it).
    Cancelling,
    /// BYE sent; waiting for its answer.
    Terminating,
    /// Over.
    Terminated,
}

/// Why a call ended.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum EndReason {
    /// We hung up with BYE.
    LocalBye,
    /// The peer hung up with BYE.
    RemoteBye,
    /// Our INVITE was refused (a final response from 300 to 699).
    Rejected {
        /// The status.
        status: u16,
        /// Its reason phrase.
        reason: String,
    },
    /// We refused the incoming INVITE with this status.
    Declined {
        /// The status we sent.
        status: u16,
    },
    /// We cancelled our INVITE (the 487 came, or a 2xx that crossed the CANCEL was
    /// ended with BYE, or no final response came within 64·T1 of the CANCEL).
    Cancelled,
    /// Nobody answered within the ring timeout; the INVITE was cancelled. For a
    /// call we received: it rang out unanswered (the INVITE's Expires or the
    /// endpoint's ring limit), and was refused with 487 or 480.
    NoAnswer,
    /// The caller cancelled the INVITE we had not answered (CANCEL, or BYE on the
    /// early dialog).
    CancelledByPeer,
    /// Our INVITE got no response at all (Timer B).
    Timeout,
    /// Our 2xx never got its ACK within 64·T1; the call was ended with BYE.
    NoAck,
    /// A request in the dialog was answered 481 or 408, or got no answer: the
    /// dialog is gone (RFC 3261 §12.2.1.2).
    DialogGone {
        /// 481, or 408 (also for no answer at all).
        status: u16,
    },
    /// Sending failed.
    Transport,
    /// A challenge to our INVITE could not be answered.
    Auth(AuthError),
    /// The offer and answer had no codec in common (488 sent, or BYE after the ACK).
    NotAcceptable(OfferAnswerError),
    /// The peer did not refresh the session in time (RFC 4028): it is gone; BYE sent.
    SessionExpired,
    /// Our reliable provisional response got no PRACK within 64·T1 (RFC 3262): the
    /// INVITE was refused with 500.
    NoPrack,
}

/// What a call reports.
#[derive(Debug)]
#[non_exhaustive]
#[allow(clippy::large_enum_variant)]
pub enum CallEvent {
    /// Callee: an INVITE arrived. Ring, answer or reject it.
    Incoming {
        /// The INVITE.
        request: Request,
        /// Where it came from.
        peer: Peer,
    },
    /// Caller: a provisional response (100, 180, 183...).
    Progress {
        /// The response.
        response: Response,
    },
    /// Caller: the call was answered (2xx); the ACK is sent.
    Answered {
        /// The 2xx.
        response: Response,
    },
    /// Callee: the ACK for our 2xx came: the call is up.
    Confirmed,
    /// An offer/answer exchange completed (in the INVITE and its answer, a
    /// re-INVITE, an UPDATE, or early media in a 183): the media to use from now on.
    Media {
        /// What both sides agreed.
        negotiated: Negotiated,
        /// The peer's session description.
        remote_sdp: Bytes,
    },
    /// A DTMF digit sent in INFO (`application/dtmf-relay` or `application/dtmf`).
    Dtmf {
        /// `0`-`9`, `*`, `#`, `A`-`D`.
        digit: char,
        /// How long, milliseconds (when given).
        duration_ms: Option<u32>,
    },
    /// A request inside the call for the application (INFO other than DTMF,
    /// MESSAGE, NOTIFY); it was answered 200.
    Request {
        /// The request.
        request: Request,
    },
    /// A final response to a request we sent inside the call (re-INVITE, UPDATE,
    /// INFO, MESSAGE...).
    Response {
        /// The request's method.
        method: Method,
        /// The response.
        response: Response,
    },
    /// The peer asks us to call `target` instead (REFER, RFC 3515); it was
    /// accepted (202). Place that call and report its progress with
    /// [`crate::Endpoint::notify_transfer`], or let the endpoint do both with
    /// [`crate::Endpoint::follow_transfer`].
    Transfer {
        /// The Refer-To URI.
        target: String,
        /// Who asked (Referred-By), when said.
        referred_by: Option<String>,
    },
    /// How the call our REFER asked for goes at the other side (its NOTIFYs).
    TransferProgress {
        /// The status of that call so far (100, 180, 200, 486...).
        status: u16,
        /// Whether this is the last report.
        done: bool,
    },
    /// A transfer's subscription ended because one of its requests failed (our
    /// REFER was refused or got no answer, or the peer refused or did not answer a
    /// NOTIFY we sent for its REFER): only that subscription ends, the call goes on
    /// (RFC 5057). A response, if any, was also reported as
    /// [`CallEvent::Response`].
    SubscriptionEnded {
        /// REFER or NOTIFY.
        method: Method,
        /// The response's status, 408 when none came, 503 when sending failed.
        status: u16,
    },
    /// An early dialog of a fork ended without being answered (another fork
    /// answered, the fork sent BYE on it, or the INVITE failed).
    EarlyDialogEnded {
        /// The fork's To tag.
        remote_tag: String,
    },
    /// The call is over.
    Ended {
        /// Why.
        reason: EndReason,
    },
}

/// Why a call command could not be carried out.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CallError {
    /// No such call (it ended, or never was).
    #[error("no such call")]
    NoCall,
    /// No such account.
    #[error("no such account")]
    NoAccount,
    /// The call is not in a state where this can be done.
    #[error("cannot {action} a call that is {state:?}")]
    WrongState {
        /// What was asked.
        action: &'static str,
        /// Where the call stands.
        state: CallState,
    },
    /// An INVITE or UPDATE of ours is still waiting for its answer in this call
    /// (RFC 3261 §14.1: one at a time).
    #[error("an offer of ours is still waiting for its answer")]
    OfferPending,
    /// A reliable provisional response still waits for its PRACK (RFC 3262 §3: one
    /// at a time).
    #[error("a reliable provisional response still waits for its PRACK")]
    ReliablePending,
    /// A status code that this command cannot send.
    #[error("status {0} cannot be sent here")]
    BadStatus(u16),
    /// The request could not be built.
    #[error(transparent)]
    Invalid(BuildError),
    /// The session description could not be made or read.
    #[error(transparent)]
    Media(OfferAnswerError),
    /// The transaction layer refused.
    #[error(transparent)]
    Transaction(TxError),
}
