//! The task behind each [`VoipCall`]: it reads the call's SIP events, keeps the
//! state, starts and updates the media as offer/answer exchanges settle, collects
//! DTMF from INFO, follows transfers, and closes the media at the end.

use std::sync::{Arc, Mutex};

use sip_client::{CallEvent, CallHandle, CallSpec, EndReason};
use sip_message::StatusCode;
use tokio::sync::{mpsc, watch};

use crate::call::{CallShared, CallState, Direction, VoipCall};
use crate::media::{CallMedia, MediaConfig};
use crate::phone::PhoneEvent;

/// What a new call starts from.
pub(crate) struct NewCall {
    pub(crate) handle: CallHandle,
    pub(crate) direction: Direction,
    pub(crate) remote: String,
    pub(crate) media: CallMedia,
    pub(crate) media_config: Arc<MediaConfig>,
    pub(crate) phone_events: mpsc::Sender<PhoneEvent>,
}

/// Wraps a call handle in a [`VoipCall`] and starts its task.
pub(crate) fn start(new: NewCall) -> VoipCall {
    let (control, events) = new.handle.into_parts();
    let initial = match new.direction {
        Direction::Outgoing => CallState::Dialing,
        Direction::Incoming => CallState::Ringing,
    };
    let shared = Arc::new(CallShared {
        control,
        direction: new.direction,
        remote: new.remote,
        state: watch::Sender::new(initial),
        media: Arc::new(new.media),
        media_config: new.media_config,
        answered_at: Mutex::new(None),
        confirmed: watch::Sender::new(false),
        transfer: watch::Sender::new(None),
        runtime: tokio::runtime::Handle::current(),
    });
    tokio::spawn(run(shared.clone(), events, new.phone_events));
    VoipCall { shared }
}

async fn run(
    shared: Arc<CallShared>,
    mut events: mpsc::UnboundedReceiver<CallEvent>,
    phone_events: mpsc::Sender<PhoneEvent>,
) {
    let mut reason = EndReason::Transport;
    while let Some(event) = events.recv().await {
        match event {
            CallEvent::Progress { response } => {
                let status = response.status().as_u16();
                if status > 100 && *shared.state.borrow() == CallState::Dialing {
                    shared.set_state(CallState::Progress);
                }
            }
            CallEvent::Answered { .. } | CallEvent::Confirmed => {
                shared.set_state(CallState::Answered);
                shared.confirmed.send_replace(true);
            }
            CallEvent::Media { negotiated, .. } => {
                // A codec we cannot play leaves the call without our media; it goes on.
                let _ = shared.media.negotiated(&negotiated).await;
            }
            CallEvent::Dtmf { digit, .. } => shared.media.push_digit(digit),
            CallEvent::Transfer { target, .. } => {
                follow_transfer(&shared, &target, &phone_events).await
            }
            CallEvent::TransferProgress { status, done } => {
                shared.transfer.send_replace(Some((status, done)));
            }
            CallEvent::Ended { reason: r } => {
                reason = r;
                break;
            }
            _ => {}
        }
    }
    shared.media.close().await;
    shared.set_state(CallState::Ended(reason));
}

/// The peer asked us to call `target` (REFER): place that call with fresh media; it
/// reports its progress to the transferor, and reaches the application as
/// [`PhoneEvent::Transferred`].
async fn follow_transfer(
    shared: &Arc<CallShared>,
    target: &str,
    phone_events: &mpsc::Sender<PhoneEvent>,
) {
    let media = match CallMedia::reserve(&shared.media_config).await {
        Ok(m) => m,
        Err(_) => {
            let _ = shared
                .control
                .notify_transfer(StatusCode::SERVICE_UNAVAILABLE, true)
                .await;
            return;
        }
    };
    let spec = CallSpec::new(target, media.local().clone());
    let Ok(handle) = shared.control.follow_transfer(spec).await else {
        return;
    };
    let call = start(NewCall {
        handle,
        direction: Direction::Outgoing,
        remote: target.to_string(),
        media,
        media_config: shared.media_config.clone(),
        phone_events: phone_events.clone(),
    });
    let _ = phone_events.try_send(PhoneEvent::Transferred { call });
}
