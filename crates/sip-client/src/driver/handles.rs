//! What the application holds: handles on calls and requests, and the client's
//! events.

use bytes::Bytes;
use sip_message::offer_answer::LocalMedia;
use sip_message::{Method, Request, Response, StatusCode};
use tokio::sync::{mpsc, oneshot};

use super::api::{CallCommand, ClientError, Command, ResponseItem, stopped};
use crate::call::CallEvent;
use crate::context::{AccountId, CallId, RequestId};
use crate::peer::Peer;
use crate::registration::RegistrationEvent;
use crate::requests::RequestError;
use crate::transaction::TxId;

/// What the client reports besides calls and requests.
#[derive(Debug)]
#[allow(clippy::large_enum_variant)]
pub enum ClientEvent {
    /// A registration changed.
    Registration {
        /// The account.
        account: AccountId,
        /// What happened.
        event: RegistrationEvent,
    },
    /// A call arrived: ring, answer or reject it through its handle.
    IncomingCall(IncomingCall),
    /// A voicemail server says messages wait (RFC 3842).
    MessageSummary {
        /// The account.
        account: AccountId,
        /// What waits.
        summary: crate::mwi::MessageSummary,
    },
    /// A request outside any call for the application (MESSAGE, NOTIFY...): answer
    /// it with [`SipClient::reply`](super::SipClient::reply).
    IncomingRequest {
        /// Its server transaction.
        tx: TxId,
        /// The request.
        request: Request,
        /// Where it came from.
        peer: Peer,
    },
}

/// An incoming call.
#[derive(Debug)]
pub struct IncomingCall {
    /// Its handle.
    pub call: CallHandle,
    /// The INVITE.
    pub request: Request,
    /// Where it came from.
    pub peer: Peer,
}

/// The responses to one request sent with [`SipClient::send`](super::SipClient::send) (pyVoIP's
/// `VoIPConnection`): provisional ones, then the final one, then `None`.
#[derive(Debug)]
pub struct RequestHandle {
    /// The request's id in the endpoint.
    pub id: RequestId,
    pub(super) rx: mpsc::UnboundedReceiver<ResponseItem>,
}

impl RequestHandle {
    /// The next response, or the error that ended the request; `None` once it is
    /// over.
    pub async fn next(&mut self) -> Option<ResponseItem> {
        self.rx.recv().await
    }

    /// Waits for the final response.
    pub async fn final_response(&mut self) -> Result<Response, RequestError> {
        while let Some(r) = self.next().await {
            match r {
                Ok(resp) if resp.status().as_u16() >= 200 => return Ok(resp),
                Ok(_) => {}
                Err(e) => return Err(e),
            }
        }
        Err(RequestError::Transport)
    }
}

/// One call, placed or received: its events, and (through [`CallControl`], which it
/// dereferences to) the commands that drive it. Dropping the handle does not end the
/// call; [`CallControl::hangup`] does.
#[derive(Debug)]
pub struct CallHandle {
    control: CallControl,
    events: mpsc::UnboundedReceiver<CallEvent>,
}

impl CallHandle {
    pub(super) fn new(
        id: CallId,
        commands: mpsc::Sender<Command>,
        events: mpsc::UnboundedReceiver<CallEvent>,
    ) -> CallHandle {
        CallHandle {
            control: CallControl { id, commands },
            events,
        }
    }

    /// The next event of the call; `None` once it ended and everything was read.
    pub async fn next_event(&mut self) -> Option<CallEvent> {
        self.events.recv().await
    }

    /// A control of the call that can be cloned and used from other tasks while this
    /// handle reads the events.
    pub fn control(&self) -> CallControl {
        self.control.clone()
    }

    /// The control and the events apart (one task reads events, others command).
    pub fn into_parts(self) -> (CallControl, mpsc::UnboundedReceiver<CallEvent>) {
        (self.control, self.events)
    }
}

impl std::ops::Deref for CallHandle {
    type Target = CallControl;

    fn deref(&self) -> &CallControl {
        &self.control
    }
}

/// The commands of one call, cloneable.
#[derive(Clone, Debug)]
pub struct CallControl {
    id: CallId,
    commands: mpsc::Sender<Command>,
}

impl CallControl {
    /// The call's id.
    pub fn id(&self) -> CallId {
        self.id
    }

    async fn command(&self, c: CallCommand) -> Result<(), ClientError> {
        let (tx, rx) = oneshot::channel();
        self.commands
            .send(Command::OnCall(self.id, c, tx))
            .await
            .map_err(stopped)?;
        rx.await.map_err(stopped)?.map_err(ClientError::Call)
    }

    /// Sends a provisional response (180, 183); with `early_media`, our answer.
    pub async fn ring(
        &self,
        status: StatusCode,
        early_media: Option<LocalMedia>,
    ) -> Result<(), ClientError> {
        self.command(CallCommand::Ring(status, early_media)).await
    }

    /// Answers with 200 and our media.
    pub async fn answer(&self, media: Option<LocalMedia>) -> Result<(), ClientError> {
        self.command(CallCommand::Answer(media)).await
    }

    /// Refuses with a 3xx-6xx status (486 Busy Here, 603 Decline...).
    pub async fn reject(&self, status: StatusCode) -> Result<(), ClientError> {
        self.command(CallCommand::Reject(status)).await
    }

    /// Cancels our unanswered INVITE.
    pub async fn cancel(&self) -> Result<(), ClientError> {
        self.command(CallCommand::Cancel).await
    }

    /// Ends the call whatever its state.
    pub async fn hangup(&self) -> Result<(), ClientError> {
        self.command(CallCommand::Hangup).await
    }

    /// Puts the peer on hold (`true`) or takes it off hold.
    pub async fn hold(&self, on: bool) -> Result<(), ClientError> {
        self.command(CallCommand::Hold(on)).await
    }

    /// Sends a fresh offer in a re-INVITE or UPDATE; `media` changes ours (a codec
    /// change).
    pub async fn reoffer(
        &self,
        method: Method,
        media: Option<LocalMedia>,
    ) -> Result<(), ClientError> {
        self.command(CallCommand::Reoffer(method, media)).await
    }

    /// Transfers the peer to `target` (REFER); the peer's progress comes as
    /// [`CallEvent::TransferProgress`].
    pub async fn refer(&self, target: &str) -> Result<(), ClientError> {
        self.command(CallCommand::Refer(target.to_string())).await
    }

    /// Reports to the transferor how the call it asked for goes (NOTIFY).
    pub async fn notify_transfer(&self, status: StatusCode, last: bool) -> Result<(), ClientError> {
        self.command(CallCommand::NotifyTransfer(status, last))
            .await
    }

    /// Places the call a [`CallEvent::Transfer`] asked for; its progress is reported
    /// to the transferor by itself. The new call's handle.
    pub async fn follow_transfer(
        &self,
        spec: crate::call::CallSpec,
    ) -> Result<CallHandle, ClientError> {
        let (tx, rx) = oneshot::channel();
        self.commands
            .send(Command::FollowTransfer(self.id, Box::new(spec), tx))
            .await
            .map_err(stopped)?;
        let (id, events) = rx.await.map_err(stopped)??;
        Ok(CallHandle::new(id, self.commands.clone(), events))
    }

    /// Sends a request in the call (INFO, MESSAGE...).
    pub async fn send_request(
        &self,
        method: Method,
        content_type: Option<&str>,
        body: Bytes,
    ) -> Result<(), ClientError> {
        let ct = content_type.map(str::to_string);
        self.command(CallCommand::Send(method, ct, body)).await
    }
}
