//! Why a phone or call operation failed, with the typed cause from the layer below.

use sip_client::{CallError, ClientError, EndReason};
use voip_rtp::driver::MediaError;
use voip_rtp::dtmf::DtmfError;
use voip_rtp::ports::PortError;

use crate::call::CallState;

/// A phone or call operation that could not be carried out.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PhoneError {
    /// The SIP client failed (registration, transport, a refused command).
    #[error(transparent)]
    Client(#[from] ClientError),
    /// The phone could not start (bind, resolve, the first registration).
    #[error("the phone could not start: {0}")]
    Start(std::sync::Arc<ClientError>),
    /// No RTP port pair was free (pyVoIP's `NoPortsAvailableError`).
    #[error(transparent)]
    Ports(#[from] PortError),
    /// The media session has ended or failed.
    #[error(transparent)]
    Media(#[from] MediaError),
    /// DTMF digits that cannot be sent.
    #[error(transparent)]
    Dtmf(#[from] DtmfError),
    /// The call is not in a state where this can be done (pyVoIP's `InvalidStateError`).
    #[error("cannot {action} a call that is {state}")]
    InvalidState {
        /// What was asked.
        action: &'static str,
        /// Where the call stands.
        state: CallState,
    },
    /// The call has no media (not answered yet, or on hold with no address).
    #[error("the call has no media yet")]
    NoMedia,
    /// The call ended before the operation finished.
    #[error("the call ended: {0:?}")]
    CallEnded(EndReason),
    /// The phone is not started or was stopped.
    #[error("the phone is not running")]
    NotRunning,
    /// The peer chose a codec this stack cannot encode.
    #[error("codec {0} is not supported for audio")]
    UnsupportedCodec(String),
    /// The request was answered with a failure status.
    #[error("{status} {reason}")]
    Refused {
        /// The status.
        status: u16,
        /// Its reason phrase.
        reason: String,
    },
    /// A WAV file could not be read or written.
    #[error(transparent)]
    Wav(#[from] crate::wav::WavError),
}

impl From<CallError> for PhoneError {
    fn from(e: CallError) -> PhoneError {
        PhoneError::Client(ClientError::Call(e))
    }
}
