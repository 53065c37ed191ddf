//! A phone in the shape of pyVoIP's `VoIPPhone` and `VoIPCall`, composed of
//! sip-client (registration, calls) and voip-rtp (RTP, G.711, DTMF), with no protocol
//! logic of its own: this crate only decides which call gets which RTP ports, turns
//! what a call negotiated into media parameters, and gives the application audio and
//! digits.
//!
//! ```no_run
//! use voip_facade::{VoipPhone, VoipPhoneParameter};
//!
//! # async fn run() -> Result<(), voip_facade::PhoneError> {
//! let phone = VoipPhone::new(VoipPhoneParameter::new("pbx.example.com", "alice", "secret"));
//! phone.start().await?;
//! let call = phone.call("bob").await?;
//! call.wait_answered().await?;
//! call.write_audio(&voip_rtp::tone::sine(440.0, -12.0, 8000, 0, 8000)).await?;
//! call.send_dtmf("1234#").await?;
//! let heard = call.read_audio(8000).await?;
//! call.hangup().await?;
//! phone.stop().await;
//! # let _ = heard; Ok(()) }
//! ```

#![forbid(unsafe_code)]

mod call;
mod call_task;
mod error;
mod media;
mod params;
mod phone;
pub mod wav;

pub use call::{CallState, Direction, VoipCall};
pub use error::PhoneError;
pub use media::{CallMedia, MediaConfig};
pub use params::VoipPhoneParameter;
pub use phone::{FailReason, PhoneEvent, PhoneStatus, VoipPhone};
pub use sip_client::EndReason;
pub use voip_rtp::SessionStats;
