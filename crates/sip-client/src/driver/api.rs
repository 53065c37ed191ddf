//! What the API and the loop's host share: the commands the API sends, the replies,
//! and the client's errors.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use sip_message::offer_answer::LocalMedia;
use sip_message::{Method, Request, Response, StatusCode};
use sip_transport::TransportError;
use tokio::sync::{mpsc, oneshot};

use crate::call::{CallError, CallEvent, CallSpec};
use crate::context::{AccountId, CallId, RequestId};
use crate::registration::{RegistrationConfig, RegistrationError};
use crate::requests::{OutgoingRequest, RequestError};
use crate::transaction::TxId;

/// Why the client could not start, register or send.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ClientError {
    /// The registrar refused our credentials (pyVoIP's `InvalidAccountInfo`).
    #[error("invalid account info: credentials refused for realm {realm:?}")]
    InvalidAccountInfo {
        /// The realm.
        realm: String,
    },
    /// The registration failed for another reason.
    #[error("registration failed: {0}")]
    Registration(RegistrationError),
    /// No answer in time.
    #[error("no answer from the registrar within {0:?}")]
    Timeout(Duration),
    /// The transport failed (bind, connect, TLS verification...).
    #[error("transport: {0}")]
    Transport(Arc<TransportError>),
    /// The server name did not resolve.
    #[error("cannot resolve {host}: {source}")]
    Resolve {
        /// The name.
        host: String,
        /// Why.
        source: std::io::Error,
    },
    /// No address to advertise (sip-nat).
    #[error(transparent)]
    Nat(#[from] sip_nat::NatError),
    /// A request could not be sent.
    #[error(transparent)]
    Request(#[from] RequestError),
    /// A call command could not be carried out.
    #[error(transparent)]
    Call(#[from] CallError),
    /// A response could not be sent.
    #[error(transparent)]
    Respond(#[from] crate::transaction::TxError),
    /// No server is configured, and the call or request names no peer.
    #[error("no server configured: give the call or request a peer")]
    NoServer,
    /// The client stopped.
    #[error("the client has stopped")]
    Stopped,
}

impl ClientError {
    pub(super) fn from_registration(
        e: RegistrationError,
        transport: Option<Arc<TransportError>>,
    ) -> ClientError {
        match (e, transport) {
            (RegistrationError::CredentialsRejected { realm }, _) => {
                ClientError::InvalidAccountInfo { realm }
            }
            (RegistrationError::Transport, Some(t)) => ClientError::Transport(t),
            (other, _) => ClientError::Registration(other),
        }
    }
}

/// What the registrar granted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Registered {
    /// The AOR.
    pub aor: String,
    /// The expiry granted, seconds.
    pub expires: u32,
    /// Our Contact as sent.
    pub contact: String,
    /// The Contacts the registrar holds for the AOR.
    pub bindings: Vec<String>,
}

pub(super) type Reply<T> = oneshot::Sender<T>;

pub(super) enum Command {
    Register(AccountId, Reply<Result<Registered, ClientError>>),
    Deregister(AccountId, Reply<Result<(), ClientError>>),
    AddAccount(Box<RegistrationConfig>, Reply<AccountId>),
    Send(
        AccountId,
        Box<OutgoingRequest>,
        Reply<Result<RequestParts, ClientError>>,
    ),
    Reply(
        TxId,
        Box<Request>,
        StatusCode,
        Reply<Result<(), ClientError>>,
    ),
    Respond(TxId, Bytes, Reply<Result<(), ClientError>>),
    Call(
        AccountId,
        Box<CallSpec>,
        Reply<Result<CallParts, ClientError>>,
    ),
    OnCall(CallId, CallCommand, Reply<Result<(), CallError>>),
    FollowTransfer(CallId, Box<CallSpec>, Reply<Result<CallParts, ClientError>>),
    Stop(Reply<()>),
}

pub(super) fn stopped<T>(_: T) -> ClientError {
    ClientError::Stopped
}

/// What the application can do with a call.
#[derive(Debug)]
pub(super) enum CallCommand {
    Ring(StatusCode, Option<LocalMedia>),
    Answer(Option<LocalMedia>),
    Reject(StatusCode),
    Cancel,
    Hangup,
    Hold(bool),
    Reoffer(Method, Option<LocalMedia>),
    Refer(String),
    NotifyTransfer(StatusCode, bool),
    Send(Method, Option<String>, Bytes),
}

/// One response of a request, or the error that ended it.
pub(super) type ResponseItem = Result<Response, RequestError>;

/// What a request handle is made of: its id and its responses.
pub(super) type RequestParts = (RequestId, mpsc::UnboundedReceiver<ResponseItem>);

/// What a call handle is made of: its id and its events.
pub(super) type CallParts = (CallId, mpsc::UnboundedReceiver<CallEvent>);
