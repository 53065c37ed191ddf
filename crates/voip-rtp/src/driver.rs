//! The tokio edge of a session: one task owning the session and its two sockets,
//! sending from the socket it receives on (symmetric RTP), sleeping until the
//! session's one deadline, and a [`MediaHandle`] for the application: audio in and
//! out, DTMF in and out, new parameters, statistics, close.
//!
//! Everything between the task and the application is bounded: received audio is a
//! ring that drops its oldest samples when nobody reads (an application that never
//! reads cannot grow the process), audio to send waits in the session's own bounded
//! queue (a writer waits for room), events are a bounded channel.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use tokio::sync::{Notify, mpsc, oneshot};
use tokio::time::Instant;

use crate::dtmf::{DtmfDigit, DtmfError};
use crate::ports::MediaSockets;
use crate::session::{
    Channel, MediaParams, RtpEvent, RtpInput, RtpOutput, RtpSession, SessionStats,
};

/// The most received audio kept for a reader: two seconds at 8 kHz.
const RING_SAMPLES: usize = 16_000;
/// The most events waiting for the application.
const EVENT_QUEUE: usize = 256;

/// What the application hears about, besides audio.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MediaEvent {
    /// A DTMF digit arrived as RFC 4733 events.
    Dtmf(DtmfDigit),
    /// Media now goes to where the peer's media comes from.
    Latched(SocketAddr),
    /// The peer's RTCP said BYE.
    RemoteBye,
}

/// Received audio waiting for the application.
#[derive(Debug, Default)]
struct Ring {
    samples: VecDeque<i16>,
    dropped: u64,
    closed: bool,
}

#[derive(Debug, Default)]
struct Shared {
    ring: Mutex<Ring>,
    readable: Notify,
}

impl Shared {
    fn push(&self, samples: &[i16]) {
        let mut ring = self.ring.lock().unwrap_or_else(|e| e.into_inner());
        ring.samples.extend(samples);
        let over = ring.samples.len().saturating_sub(RING_SAMPLES);
        if over > 0 {
            ring.samples.drain(..over);
            ring.dropped += over as u64;
        }
        drop(ring);
        self.readable.notify_waiters();
    }

    fn close(&self) {
        self.ring.lock().unwrap_or_else(|e| e.into_inner()).closed = true;
        self.readable.notify_waiters();
    }
}

enum Command {
    Write(Vec<i16>),
    Dtmf(String, oneshot::Sender<Result<(), DtmfError>>),
    Update(MediaParams),
    Stats(oneshot::Sender<SessionStats>),
    Close(oneshot::Sender<SessionStats>),
    Drain(oneshot::Sender<()>),
}

/// Why a handle's request failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum MediaError {
    /// The session has ended.
    #[error("the media session has ended")]
    Closed,
    /// The digits could not be queued.
    #[error(transparent)]
    Dtmf(#[from] DtmfError),
}

/// The application's side of a running session. Cloning shares the session.
#[derive(Clone, Debug)]
pub struct MediaHandle {
    commands: mpsc::Sender<Command>,
    shared: Arc<Shared>,
    local: SocketAddr,
}

impl std::fmt::Debug for Command {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Command::Write(_) => "Write",
            Command::Dtmf(..) => "Dtmf",
            Command::Update(_) => "Update",
            Command::Stats(_) => "Stats",
            Command::Close(_) => "Close",
            Command::Drain(_) => "Drain",
        })
    }
}

/// Starts the session's task on the current tokio runtime. Returns the handle and
/// the receiver of events (DTMF, latching, RTCP BYE).
pub fn spawn(
    session: RtpSession,
    sockets: MediaSockets,
) -> std::io::Result<(MediaHandle, mpsc::Receiver<MediaEvent>)> {
    let local = sockets.local_addr()?;
    let (commands, command_rx) = mpsc::channel(4);
    let (event_tx, events) = mpsc::channel(EVENT_QUEUE);
    let shared = Arc::new(Shared::default());
    let task = Task {
        session,
        sockets,
        commands: command_rx,
        events: event_tx,
        shared: shared.clone(),
        pending: Vec::new(),
        drains: Vec::new(),
    };
    tokio::spawn(task.run());
    Ok((
        MediaHandle {
            commands,
            shared,
            local,
        },
        events,
    ))
}

impl MediaHandle {
    /// The local RTP address.
    pub fn local_addr(&self) -> SocketAddr {
        self.local
    }

    /// Sends `samples` (16-bit linear at the codec's rate), waiting while the send
    /// queue is full, so a writer is paced by the call.
    pub async fn write_audio(&self, samples: &[i16]) -> Result<(), MediaError> {
        for chunk in samples.chunks(1600) {
            self.commands
                .send(Command::Write(chunk.to_vec()))
                .await
                .map_err(|_| MediaError::Closed)?;
        }
        Ok(())
    }

    /// The next `n` received samples, waiting until there are that many; fewer (then
    /// none) once the session has ended.
    pub async fn read_audio(&self, n: usize) -> Vec<i16> {
        loop {
            let notified = self.shared.readable.notified();
            {
                let mut ring = self.shared.ring.lock().unwrap_or_else(|e| e.into_inner());
                if ring.samples.len() >= n || ring.closed {
                    let take = n.min(ring.samples.len());
                    return ring.samples.drain(..take).collect();
                }
            }
            notified.await;
        }
    }

    /// Up to `n` received samples without waiting, padded with silence to `n` (pyVoIP's
    /// non-blocking `read_audio`).
    pub fn try_read_audio(&self, n: usize) -> Vec<i16> {
        let mut ring = self.shared.ring.lock().unwrap_or_else(|e| e.into_inner());
        let take = n.min(ring.samples.len());
        let mut out: Vec<i16> = ring.samples.drain(..take).collect();
        out.resize(n, 0);
        out
    }

    /// Received samples thrown away because nobody read them in time.
    pub fn dropped_samples(&self) -> u64 {
        self.shared
            .ring
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .dropped
    }

    /// Queues DTMF digits as RFC 4733 events.
    pub async fn send_dtmf(&self, digits: &str) -> Result<(), MediaError> {
        let (tx, rx) = oneshot::channel();
        self.commands
            .send(Command::Dtmf(digits.to_string(), tx))
            .await
            .map_err(|_| MediaError::Closed)?;
        Ok(rx.await.map_err(|_| MediaError::Closed)??)
    }

    /// Waits until every sample written so far has been sent (or dropped because
    /// the call is on hold): an announcement can hang up without cutting its end.
    pub async fn drain(&self) -> Result<(), MediaError> {
        let (tx, rx) = oneshot::channel();
        self.commands
            .send(Command::Drain(tx))
            .await
            .map_err(|_| MediaError::Closed)?;
        rx.await.map_err(|_| MediaError::Closed)
    }

    /// New negotiated parameters (after a re-INVITE: hold, a codec or address change).
    pub async fn update(&self, params: MediaParams) -> Result<(), MediaError> {
        self.commands
            .send(Command::Update(params))
            .await
            .map_err(|_| MediaError::Closed)
    }

    /// The session's counters.
    pub async fn stats(&self) -> Result<SessionStats, MediaError> {
        let (tx, rx) = oneshot::channel();
        self.commands
            .send(Command::Stats(tx))
            .await
            .map_err(|_| MediaError::Closed)?;
        rx.await.map_err(|_| MediaError::Closed)
    }

    /// Ends the session (RTCP BYE goes out) and returns its final counters.
    pub async fn close(&self) -> Result<SessionStats, MediaError> {
        let (tx, rx) = oneshot::channel();
        self.commands
            .send(Command::Close(tx))
            .await
            .map_err(|_| MediaError::Closed)?;
        rx.await.map_err(|_| MediaError::Closed)
    }
}

struct Task {
    session: RtpSession,
    sockets: MediaSockets,
    commands: mpsc::Receiver<Command>,
    events: mpsc::Sender<MediaEvent>,
    shared: Arc<Shared>,
    /// Audio written that the session's queue had no room for yet.
    pending: Vec<i16>,
    /// Who waits for the audio written so far to go out.
    drains: Vec<oneshot::Sender<()>>,
}

fn now() -> std::time::Instant {
    Instant::now().into_std()
}

impl Task {
    async fn run(mut self) {
        let mut rtp_buf = vec![0u8; 2048];
        let mut rtcp_buf = vec![0u8; 2048];
        let mut close_reply = None;
        loop {
            self.flush().await;
            if self.session.is_closed() {
                break;
            }
            let deadline = self.session.poll_timeout().map(Instant::from_std);
            let sleep = tokio::time::sleep_until(
                deadline.unwrap_or_else(|| Instant::now() + Duration::from_secs(3600)),
            );
            tokio::select! {
                r = self.sockets.rtp.recv_from(&mut rtp_buf) => {
                    if let Ok((n, from)) = r {
                        let bytes = Bytes::copy_from_slice(&rtp_buf[..n]);
                        self.session.handle_input(RtpInput::Datagram { channel: Channel::Rtp, from, bytes }, now());
                    }
                }
                r = self.sockets.rtcp.recv_from(&mut rtcp_buf) => {
                    if let Ok((n, from)) = r {
                        let bytes = Bytes::copy_from_slice(&rtcp_buf[..n]);
                        self.session.handle_input(RtpInput::Datagram { channel: Channel::Rtcp, from, bytes }, now());
                    }
                }
                c = self.commands.recv(), if self.pending.is_empty() => match c {
                    Some(Command::Write(samples)) => self.pending = samples,
                    Some(Command::Dtmf(digits, reply)) => {
                        let _ = reply.send(self.session.send_dtmf(&digits));
                    }
                    Some(Command::Update(params)) => self.session.update(params, now()),
                    Some(Command::Stats(reply)) => {
                        let _ = reply.send(self.session.stats());
                    }
                    Some(Command::Drain(reply)) => self.drains.push(reply),
                    Some(Command::Close(reply)) => {
                        self.session.close(now());
                        close_reply = Some(reply);
                    }
                    // Every handle is gone: nobody can hear or speak any more.
                    None => self.session.close(now()),
                },
                () = sleep => self.session.handle_timeout(now()),
            }
            if !self.pending.is_empty() {
                let taken = self.session.write_audio(&self.pending);
                self.pending.drain(..taken);
            }
            if !self.drains.is_empty()
                && self.pending.is_empty()
                && self.session.queued_audio().is_zero()
            {
                for d in self.drains.drain(..) {
                    let _ = d.send(());
                }
            }
        }
        self.flush().await;
        self.shared.close();
        if let Some(reply) = close_reply {
            let _ = reply.send(self.session.stats());
        }
    }

    /// Sends and delivers everything the session has for us.
    async fn flush(&mut self) {
        while let Some(out) = self.session.poll_output() {
            match out {
                RtpOutput::Transmit(t) => {
                    let socket = match t.channel {
                        Channel::Rtp => &self.sockets.rtp,
                        Channel::Rtcp => &self.sockets.rtcp,
                    };
                    // A failed send (an ICMP error from an earlier one, a full
                    // buffer) loses that packet only, as the network could.
                    let _ = socket.send_to(&t.bytes, t.to).await;
                }
                RtpOutput::Event(RtpEvent::Audio(frame)) => self.shared.push(&frame.samples),
                RtpOutput::Event(RtpEvent::Dtmf(d)) => {
                    let _ = self.events.try_send(MediaEvent::Dtmf(d));
                }
                RtpOutput::Event(RtpEvent::Latched {
                    channel: Channel::Rtp,
                    to,
                }) => {
                    let _ = self.events.try_send(MediaEvent::Latched(to));
                }
                RtpOutput::Event(RtpEvent::Latched { .. }) => {}
                RtpOutput::Event(RtpEvent::RemoteBye { .. }) => {
                    let _ = self.events.try_send(MediaEvent::RemoteBye);
                }
            }
        }
    }
}
