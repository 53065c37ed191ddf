//! Media for SIP calls: RTP and RTCP packets, symmetric RTP, G.711 µ-law and A-law,
//! RFC 4733 telephone events and a jitter buffer, as a sans-IO session with a small
//! tokio socket driver.
//!
//! The packet codecs are written here rather than taken from `rtp-types` or
//! webrtc-rs's `rtp`/`rtcp`: RTP's fixed header and the three RTCP packets a phone
//! sends (SR, RR, BYE) are a few hundred lines, read without copying from the
//! `bytes::Bytes` the rest of the stack uses, with errors of this crate's own; the
//! webrtc-rs crates bring their own buffer types and a dependency tree many times
//! the size of this crate, for features (SRTP, RTX, NACK) a SIP phone on G.711 does
//! not use.

#![forbid(unsafe_code)]

pub mod codec;
#[cfg(feature = "tokio")]
pub mod driver;
pub mod dtmf;
pub mod jitter;
pub mod packet;
#[cfg(feature = "tokio")]
pub mod ports;
pub mod rtcp;
pub mod session;
pub mod stats;
pub mod tone;

pub use session::{
    AudioFrame, Channel, MediaParams, RtpConfig, RtpEvent, RtpInput, RtpOutput, RtpSession,
    RtpTransmit, SessionStats,
};
