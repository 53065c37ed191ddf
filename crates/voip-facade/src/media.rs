//! A call's media, for [`VoipCall`](crate::VoipCall) and for programs that drive
//! sip-client's calls themselves (the `voip` command, load tools): the RTP port pair
//! reserved for the call and described for SDP, then the running session once an
//! offer/answer exchange settles, updated by later exchanges (hold, codec change),
//! closed when the call ends. What was negotiated (sip-client's `Negotiated`) becomes
//! voip-rtp's `MediaParams` here; received digits (RFC 4733, and INFO given to
//! [`CallMedia::push_digit`]) wait in one queue.

use std::collections::VecDeque;
use std::net::IpAddr;
use std::ops::RangeInclusive;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use sip_message::offer_answer::{Codec, LocalMedia, Negotiated, default_codecs};
use sip_message::sdp::Direction;
use tokio::sync::{Notify, mpsc};
use voip_rtp::driver::{MediaEvent, MediaHandle, spawn};
use voip_rtp::ports::{MediaSockets, PortAllocator};
use voip_rtp::{MediaParams, RtpConfig, RtpSession, SessionStats};

use crate::error::PhoneError;

/// Locks, carrying on after a panic elsewhere (every critical section is a few
/// assignments, so the data stays consistent).
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// Where calls' media binds and what it offers; shared by the calls of a phone.
#[derive(Debug)]
pub struct MediaConfig {
    ports: PortAllocator,
    address: IpAddr,
    codecs: Vec<Codec>,
    jitter_delay: Duration,
    cname: String,
}

impl MediaConfig {
    /// Media bound to `bind` within `ports`, announced at `address` in SDP, offering
    /// PCMU, PCMA and telephone-event 101, with 40 ms of jitter delay.
    pub fn new(
        bind: IpAddr,
        ports: RangeInclusive<u16>,
        address: IpAddr,
        cname: &str,
    ) -> Result<MediaConfig, PhoneError> {
        Ok(MediaConfig {
            ports: PortAllocator::new(bind, ports)?,
            address,
            codecs: default_codecs(),
            jitter_delay: Duration::from_millis(40),
            cname: cname.to_string(),
        })
    }

    /// The codecs to offer and accept, most preferred first.
    pub fn with_codecs(mut self, codecs: Vec<Codec>) -> MediaConfig {
        self.codecs = codecs;
        self
    }

    /// Received audio held before playing.
    pub fn with_jitter_delay(mut self, delay: Duration) -> MediaConfig {
        self.jitter_delay = delay;
        self
    }
}

/// The media parameters of a negotiated exchange.
fn params_for(n: &Negotiated) -> Result<MediaParams, PhoneError> {
    let codec = voip_rtp::codec::codec_for(&n.codec.encoding)
        .ok_or_else(|| PhoneError::UnsupportedCodec(n.codec.encoding.clone()))?;
    let mut p = MediaParams::new(
        n.remote,
        n.codec.payload_type,
        codec,
        Duration::from_millis(u64::from(n.ptime.max(10))),
    );
    p.telephone_event = n.telephone_event;
    p.send = matches!(n.direction, Direction::SendRecv | Direction::SendOnly) && n.remote.is_some();
    p.receive = matches!(n.direction, Direction::SendRecv | Direction::RecvOnly);
    Ok(p)
}

/// Where the media stands.
#[derive(Debug, Default)]
enum Slot {
    /// Closed.
    #[default]
    Closed,
    /// Ports reserved, no exchange settled yet.
    Reserved(MediaSockets),
    /// RTP flowing (or ready to).
    Running { handle: MediaHandle, events: bool },
}

/// The most received digits kept.
const DTMF_QUEUE: usize = 256;

/// The media of one call.
#[derive(Debug)]
pub struct CallMedia {
    config: Arc<MediaConfig>,
    local: LocalMedia,
    slot: Mutex<Slot>,
    digits: Mutex<VecDeque<char>>,
    /// Woken when a digit arrives, the media starts, or it closes.
    changed: Notify,
    final_stats: Mutex<Option<SessionStats>>,
}

impl CallMedia {
    /// Reserves a port pair (pyVoIP's `NoPortsAvailableError` when none is free).
    pub async fn reserve(config: &Arc<MediaConfig>) -> Result<CallMedia, PhoneError> {
        let sockets = config.ports.allocate().await?;
        let port = sockets
            .local_addr()
            .map_err(|_| PhoneError::NotRunning)?
            .port();
        let mut local = LocalMedia::new(config.address, port);
        local.codecs = config.codecs.clone();
        Ok(CallMedia {
            config: config.clone(),
            local,
            slot: Mutex::new(Slot::Reserved(sockets)),
            digits: Mutex::new(VecDeque::new()),
            changed: Notify::new(),
            final_stats: Mutex::new(None),
        })
    }

    /// Our media for the offer or answer.
    pub fn local(&self) -> &LocalMedia {
        &self.local
    }

    /// An offer/answer exchange settled: starts the RTP session, or hands the
    /// running one the new parameters (hold, codec, address).
    pub async fn negotiated(self: &Arc<Self>, n: &Negotiated) -> Result<(), PhoneError> {
        let params = params_for(n)?;
        let events = params.telephone_event.is_some();
        let update = {
            let mut slot = lock(&self.slot);
            match std::mem::take(&mut *slot) {
                Slot::Reserved(sockets) => {
                    let mut config = RtpConfig::random(&self.config.cname);
                    config.jitter_delay = self.config.jitter_delay;
                    let now = tokio::time::Instant::now().into_std();
                    let session = RtpSession::new(config, params, now);
                    let (handle, rx) =
                        spawn(session, sockets).map_err(|_| PhoneError::NotRunning)?;
                    *slot = Slot::Running { handle, events };
                    tokio::spawn(self.clone().forward(rx));
                    None
                }
                Slot::Running { handle, .. } => {
                    *slot = Slot::Running {
                        handle: handle.clone(),
                        events,
                    };
                    Some((handle, params))
                }
                Slot::Closed => None,
            }
        };
        if let Some((handle, params)) = update {
            handle.update(params).await?;
        }
        self.changed.notify_waiters();
        Ok(())
    }

    /// Digits from RFC 4733 events join the queue.
    async fn forward(self: Arc<Self>, mut rx: mpsc::Receiver<MediaEvent>) {
        while let Some(e) = rx.recv().await {
            if let MediaEvent::Dtmf(d) = e {
                self.push_digit(d.digit);
            }
        }
    }

    /// A digit that came another way (SIP INFO).
    pub fn push_digit(&self, digit: char) {
        let mut d = lock(&self.digits);
        if d.len() < DTMF_QUEUE {
            d.push_back(digit);
        }
        drop(d);
        self.changed.notify_waiters();
    }

    /// Up to `n` digits received so far, without waiting.
    pub fn take_digits(&self, n: usize) -> String {
        let mut d = lock(&self.digits);
        let take = n.min(d.len());
        d.drain(..take).collect()
    }

    /// The next digit, waiting for it; `None` once closed with none left.
    pub async fn next_digit(&self) -> Option<char> {
        loop {
            let notified = self.changed.notified();
            if let Some(d) = lock(&self.digits).pop_front() {
                return Some(d);
            }
            if self.is_closed() {
                return None;
            }
            notified.await;
        }
    }

    /// The running session, if it runs.
    pub fn handle(&self) -> Option<MediaHandle> {
        match &*lock(&self.slot) {
            Slot::Running { handle, .. } => Some(handle.clone()),
            _ => None,
        }
    }

    /// Waits for the session to run; `None` once closed.
    pub async fn running(&self) -> Option<MediaHandle> {
        loop {
            let notified = self.changed.notified();
            if let Some(h) = self.handle() {
                return Some(h);
            }
            if self.is_closed() {
                return None;
            }
            notified.await;
        }
    }

    /// Whether RFC 4733 events were negotiated (else DTMF goes by INFO).
    pub fn has_events(&self) -> bool {
        matches!(&*lock(&self.slot), Slot::Running { events: true, .. })
    }

    /// Whether [`CallMedia::close`] ran.
    pub fn is_closed(&self) -> bool {
        matches!(&*lock(&self.slot), Slot::Closed)
    }

    /// Ends the media (RTCP BYE) and frees the ports; the final counters.
    pub async fn close(&self) -> SessionStats {
        let handle = match std::mem::take(&mut *lock(&self.slot)) {
            Slot::Running { handle, .. } => Some(handle),
            _ => None,
        };
        let stats = match handle {
            Some(h) => h.close().await.unwrap_or_default(),
            None => SessionStats::default(),
        };
        *lock(&self.final_stats) = Some(stats);
        self.changed.notify_waiters();
        stats
    }

    /// The counters: live while running, final once closed.
    pub async fn stats(&self) -> SessionStats {
        if let Some(s) = *lock(&self.final_stats) {
            return s;
        }
        match self.handle() {
            Some(h) => h.stats().await.unwrap_or_default(),
            None => SessionStats::default(),
        }
    }
}
