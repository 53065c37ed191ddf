//! pyVoIP's `VoIPCall`: one call, placed or received, with its state, its commands,
//! its audio and its DTMF. Cloning a `VoipCall` shares the call.

use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use sip_client::{CallControl, EndReason};
use sip_message::offer_answer::LocalMedia;
use sip_message::{Method, StatusCode};
use tokio::sync::watch;
use voip_rtp::SessionStats;
use voip_rtp::codec::{from_u8, to_u8};
use voip_rtp::driver::MediaHandle;

use crate::error::PhoneError;
use crate::media::{CallMedia, MediaConfig, lock};

/// Where a call stands (pyVoIP's `CallState`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CallState {
    /// Ours: the INVITE is out, nothing back yet.
    Dialing,
    /// Theirs: it rings here; answer or deny it.
    Ringing,
    /// Ours: the far end rings or plays early media.
    Progress,
    /// Up.
    Answered,
    /// Ours: cancelled, waiting for the far end to confirm.
    Canceling,
    /// Over, and why.
    Ended(EndReason),
}

impl fmt::Display for CallState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CallState::Dialing => f.write_str("dialing"),
            CallState::Ringing => f.write_str("ringing"),
            CallState::Progress => f.write_str("in progress"),
            CallState::Answered => f.write_str("answered"),
            CallState::Canceling => f.write_str("canceling"),
            CallState::Ended(r) => write!(f, "ended ({r:?})"),
        }
    }
}

/// Whether we placed the call or received it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Direction {
    /// We called.
    Outgoing,
    /// They called.
    Incoming,
}

/// What a call's parts share.
pub(crate) struct CallShared {
    pub(crate) control: CallControl,
    pub(crate) direction: Direction,
    pub(crate) remote: String,
    pub(crate) state: watch::Sender<CallState>,
    pub(crate) media: Arc<CallMedia>,
    /// For the media of calls this one is transferred to.
    pub(crate) media_config: Arc<MediaConfig>,
    pub(crate) answered_at: Mutex<Option<Instant>>,
    /// Whether the dialog is confirmed (the ACK for our 2xx came, or we sent ours).
    pub(crate) confirmed: watch::Sender<bool>,
    /// The progress of a transfer we asked for: (status, done).
    pub(crate) transfer: watch::Sender<Option<(u16, bool)>>,
    pub(crate) runtime: tokio::runtime::Handle,
}

impl CallShared {
    pub(crate) fn set_state(&self, s: CallState) {
        if s == CallState::Answered {
            lock(&self.answered_at).get_or_insert_with(Instant::now);
        }
        self.state.send_replace(s);
    }
}

/// One call.
#[derive(Clone)]
pub struct VoipCall {
    pub(crate) shared: Arc<CallShared>,
}

impl fmt::Debug for VoipCall {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("VoipCall")
            .field("direction", &self.shared.direction)
            .field("remote", &self.shared.remote)
            .field("state", &self.state())
            .finish_non_exhaustive()
    }
}

impl VoipCall {
    /// Where the call stands.
    pub fn state(&self) -> CallState {
        self.shared.state.borrow().clone()
    }

    /// Whether we placed it or received it.
    pub fn direction(&self) -> Direction {
        self.shared.direction
    }

    /// The other party (its From or To value: display name and URI).
    pub fn remote_party(&self) -> &str {
        &self.shared.remote
    }

    /// How long the call has been up (`None` before it was answered).
    pub fn duration(&self) -> Option<Duration> {
        lock(&self.shared.answered_at).map(|t| t.elapsed())
    }

    /// Our RTP address for this call.
    pub fn local_media(&self) -> &LocalMedia {
        self.shared.media.local()
    }

    /// Waits until the state differs from `from` (or the call ended), and returns it.
    pub async fn next_state(&self, from: &CallState) -> CallState {
        let mut rx = self.shared.state.subscribe();
        let result = rx
            .wait_for(|s| s != from || matches!(s, CallState::Ended(_)))
            .await;
        result.map(|s| s.clone()).unwrap_or_else(|_| self.state())
    }

    /// Waits until the call is answered; the reason if it ended first.
    pub async fn wait_answered(&self) -> Result<(), PhoneError> {
        let mut rx = self.shared.state.subscribe();
        let result = rx
            .wait_for(|s| matches!(s, CallState::Answered | CallState::Ended(_)))
            .await;
        match result.map(|s| s.clone()) {
            Ok(CallState::Answered) => Ok(()),
            Ok(CallState::Ended(r)) => Err(PhoneError::CallEnded(r)),
            _ => Err(PhoneError::NotRunning),
        }
    }

    /// Waits until the call ends, and says why.
    pub async fn wait_ended(&self) -> EndReason {
        let mut rx = self.shared.state.subscribe();
        let result = rx.wait_for(|s| matches!(s, CallState::Ended(_))).await;
        match result.map(|s| s.clone()) {
            Ok(CallState::Ended(r)) => r,
            _ => EndReason::Transport,
        }
    }

    fn invalid(&self, action: &'static str) -> PhoneError {
        PhoneError::InvalidState {
            action,
            state: self.state(),
        }
    }

    /// Answers a ringing incoming call with our media.
    pub async fn answer(&self) -> Result<(), PhoneError> {
        if self.shared.direction != Direction::Incoming || self.state() != CallState::Ringing {
            return Err(self.invalid("answer"));
        }
        self.shared
            .control
            .answer(Some(self.shared.media.local().clone()))
            .await?;
        // Answered as far as the application goes; in-call requests wait for the ACK.
        self.shared.set_state(CallState::Answered);
        Ok(())
    }

    /// Refuses a ringing incoming call with 486 Busy Here (pyVoIP's `deny`).
    pub async fn deny(&self) -> Result<(), PhoneError> {
        self.reject(StatusCode::BUSY_HERE).await
    }

    /// Refuses a ringing incoming call with any 3xx-6xx status.
    pub async fn reject(&self, status: StatusCode) -> Result<(), PhoneError> {
        if self.shared.direction != Direction::Incoming || self.state() != CallState::Ringing {
            return Err(self.invalid("deny"));
        }
        self.shared.control.reject(status).await?;
        Ok(())
    }

    /// Sends 180 Ringing for an incoming call (the phone does not ring by itself,
    /// so a bot can answer at once without a provisional response).
    pub async fn ring(&self) -> Result<(), PhoneError> {
        if self.state() != CallState::Ringing {
            return Err(self.invalid("ring"));
        }
        self.shared.control.ring(StatusCode::RINGING, None).await?;
        Ok(())
    }

    /// Ends the call whatever its state: BYE when up, CANCEL while ours rings, a
    /// refusal while theirs rings.
    pub async fn hangup(&self) -> Result<(), PhoneError> {
        if let CallState::Ended(_) = self.state() {
            return Err(self.invalid("hang up"));
        }
        self.shared.control.hangup().await?;
        Ok(())
    }

    /// Cancels our call that has not been answered.
    pub async fn cancel(&self) -> Result<(), PhoneError> {
        if !matches!(self.state(), CallState::Dialing | CallState::Progress) {
            return Err(self.invalid("cancel"));
        }
        self.shared.control.cancel().await?;
        self.shared.set_state(CallState::Canceling);
        Ok(())
    }

    /// Puts the other party on hold (our media becomes sendonly).
    pub async fn hold(&self) -> Result<(), PhoneError> {
        self.require_answered("hold").await?;
        self.shared.control.hold(true).await?;
        Ok(())
    }

    /// Takes the other party off hold.
    pub async fn unhold(&self) -> Result<(), PhoneError> {
        self.require_answered("unhold").await?;
        self.shared.control.hold(false).await?;
        Ok(())
    }

    /// For requests inside the call: it must be answered, and its dialog confirmed
    /// (our 2xx acknowledged), which is waited for.
    async fn require_answered(&self, action: &'static str) -> Result<(), PhoneError> {
        if self.state() != CallState::Answered {
            return Err(self.invalid(action));
        }
        let mut confirmed = self.shared.confirmed.subscribe();
        let mut state = self.shared.state.subscribe();
        loop {
            if *confirmed.borrow_and_update() {
                return Ok(());
            }
            if let CallState::Ended(r) = state.borrow_and_update().clone() {
                return Err(PhoneError::CallEnded(r));
            }
            tokio::select! {
                r = confirmed.changed() => if r.is_err() { return Err(PhoneError::NotRunning) },
                r = state.changed() => if r.is_err() { return Err(PhoneError::NotRunning) },
            }
        }
    }

    /// Transfers the other party to `uri` (blind transfer, REFER) and waits for the
    /// outcome of the call it places: `Ok` once that call is answered.
    pub async fn transfer(&self, uri: &str) -> Result<(), PhoneError> {
        self.require_answered("transfer").await?;
        let mut progress = self.shared.transfer.subscribe();
        self.shared.transfer.send_replace(None);
        self.shared.control.refer(uri).await?;
        loop {
            let (status, done) = {
                let result = progress.wait_for(|p| p.is_some_and(|(_, done)| done)).await;
                match result {
                    Ok(p) => p.unwrap_or((500, true)),
                    Err(_) => return Err(PhoneError::NotRunning),
                }
            };
            if done {
                return if (200..300).contains(&status) {
                    Ok(())
                } else {
                    Err(PhoneError::Refused {
                        status,
                        reason: StatusCode::new(status)
                            .map_or("", |s| s.phrase())
                            .to_string(),
                    })
                };
            }
        }
    }

    /// Sends a request in the call (INFO, MESSAGE...).
    pub async fn send_request(
        &self,
        method: Method,
        content_type: Option<&str>,
        body: Bytes,
    ) -> Result<(), PhoneError> {
        self.shared
            .control
            .send_request(method, content_type, body)
            .await?;
        Ok(())
    }

    /// Waits for the media to run (the call answered and the offer/answer settled);
    /// the reason when the call ends first.
    async fn media(&self) -> Result<MediaHandle, PhoneError> {
        match self.shared.media.running().await {
            Some(h) => Ok(h),
            // The media closes only as the call ends.
            None => Err(PhoneError::CallEnded(self.wait_ended().await)),
        }
    }

    /// Sends 16-bit linear samples at 8 kHz, waiting for the media to start and for
    /// room in the send queue (so a writer is paced by the call).
    pub async fn write_audio(&self, samples: &[i16]) -> Result<(), PhoneError> {
        self.media().await?.write_audio(samples).await?;
        Ok(())
    }

    /// Waits until everything written has been sent, so a hang-up does not cut the
    /// end of an announcement.
    pub async fn flush_audio(&self) -> Result<(), PhoneError> {
        self.media().await?.drain().await?;
        Ok(())
    }

    /// pyVoIP's format: 8-bit unsigned samples.
    pub async fn write_audio_u8(&self, samples: &[u8]) -> Result<(), PhoneError> {
        self.write_audio(&from_u8(samples)).await
    }

    /// The next `n` received samples (16-bit linear, 8 kHz), waiting for them; fewer
    /// once the call has ended.
    pub async fn read_audio(&self, n: usize) -> Result<Vec<i16>, PhoneError> {
        Ok(self.media().await?.read_audio(n).await)
    }

    /// pyVoIP's format: 8-bit unsigned samples.
    pub async fn read_audio_u8(&self, n: usize) -> Result<Vec<u8>, PhoneError> {
        Ok(to_u8(&self.read_audio(n).await?))
    }

    /// Up to `n` received samples without waiting, silence where there are none
    /// (pyVoIP's `read_audio(blocking=False)`).
    pub fn try_read_audio(&self, n: usize) -> Vec<i16> {
        match self.shared.media.handle() {
            Some(h) => h.try_read_audio(n),
            None => vec![0; n],
        }
    }

    /// [`VoipCall::read_audio`] for threads outside the async runtime.
    pub fn read_audio_blocking(&self, n: usize) -> Result<Vec<i16>, PhoneError> {
        self.shared.runtime.block_on(self.read_audio(n))
    }

    /// [`VoipCall::write_audio`] for threads outside the async runtime.
    pub fn write_audio_blocking(&self, samples: &[i16]) -> Result<(), PhoneError> {
        self.shared.runtime.block_on(self.write_audio(samples))
    }

    /// Sends DTMF digits: as RFC 4733 events when the call negotiated them, else as
    /// SIP INFO (`application/dtmf-relay`), one request per digit.
    pub async fn send_dtmf(&self, digits: &str) -> Result<(), PhoneError> {
        for d in digits.chars() {
            voip_rtp::dtmf::event_of(d)?;
        }
        let media = &self.shared.media;
        match media.handle() {
            Some(h) if media.has_events() => Ok(h.send_dtmf(digits).await?),
            _ => {
                self.require_answered("send DTMF to").await?;
                for d in digits.chars() {
                    let body = format!("Signal={d}\r\nDuration=160\r\n");
                    self.send_request(
                        Method::Info,
                        Some("application/dtmf-relay"),
                        Bytes::from(body),
                    )
                    .await?;
                }
                Ok(())
            }
        }
    }

    /// Up to `n` digits received so far, without waiting (pyVoIP's `get_dtmf`): RFC
    /// 4733 events and INFO alike, in the order they came.
    pub fn get_dtmf(&self, n: usize) -> String {
        self.shared.media.take_digits(n)
    }

    /// The next digit, waiting for it; `None` once the call ended and none is left.
    pub async fn next_dtmf(&self) -> Option<char> {
        self.shared.media.next_digit().await
    }

    /// The media counters (the final ones once the call ended).
    pub async fn stats(&self) -> SessionStats {
        self.shared.media.stats().await
    }
}
