//! One call's media as a sans-IO machine, driven by the same contract as the SIP
//! machines: [`RtpSession::handle_input`] with each datagram, [`RtpSession::poll_output`]
//! drained after every call, and one deadline ([`RtpSession::poll_timeout`],
//! [`RtpSession::handle_timeout`]).
//!
//! Every packet time (`ptime`, 20 ms by default) the session sends one packet (the
//! application's audio, a DTMF event, or silence) and hands the application one frame
//! of received audio out of the jitter buffer. The ticks follow a schedule fixed at
//! the start (`start + n · ptime`), so late wake-ups never make the stream drift. RTP
//! goes to where the peer's RTP comes from once it comes (symmetric RTP, RFC 4961),
//! else to the address in its SDP; RTCP reports go out about every 5 s, and a BYE
//! when the session closes.

mod receive;
mod report;
mod send;

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::time::{Duration, Instant, SystemTime};

use bytes::Bytes;

use crate::codec::Codec;
use crate::dtmf::{DtmfDigit, DtmfError, DtmfReceiver, DtmfSender};
use crate::jitter::JitterBuffer;
use crate::stats::ReceiverStats;

/// The two sockets of a session.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Channel {
    /// The RTP port.
    Rtp,
    /// The RTCP port (RTP's plus one).
    Rtcp,
}

/// What the network feeds a session.
#[derive(Clone, Debug)]
pub enum RtpInput {
    /// A datagram received on one of the session's sockets.
    Datagram {
        /// The socket it came in on.
        channel: Channel,
        /// Its source.
        from: SocketAddr,
        /// Its bytes.
        bytes: Bytes,
    },
}

/// A datagram to send from one of the session's sockets.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RtpTransmit {
    /// The socket to send from (and so the kind of packet).
    pub channel: Channel,
    /// Where to.
    pub to: SocketAddr,
    /// What.
    pub bytes: Bytes,
}

/// One packet time of received audio.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AudioFrame {
    /// 16-bit linear samples at the codec's clock rate (silence where nothing was heard).
    pub samples: Vec<i16>,
    /// How many came from packets.
    pub played: usize,
    /// How many are silence standing in for lost packets.
    pub concealed: usize,
}

/// What a session reports.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RtpEvent {
    /// The next frame of received audio (one per packet time while receiving).
    Audio(AudioFrame),
    /// A DTMF digit from RFC 4733 telephone events.
    Dtmf(DtmfDigit),
    /// Media now goes to where the peer's media comes from (symmetric RTP).
    Latched {
        /// The socket.
        channel: Channel,
        /// The peer's source address.
        to: SocketAddr,
    },
    /// The peer's source said RTCP BYE.
    RemoteBye {
        /// Its reason, if given.
        reason: Option<Bytes>,
    },
}

/// What a session's driver gets.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RtpOutput {
    /// A datagram to send.
    Transmit(RtpTransmit),
    /// An event for the application.
    Event(RtpEvent),
}

/// The parts of a session fixed when it is made.
#[derive(Clone, Debug)]
pub struct RtpConfig {
    /// Our synchronisation source.
    pub ssrc: u32,
    /// The first sequence number.
    pub sequence: u16,
    /// The first timestamp.
    pub timestamp: u32,
    /// Seeds the spread of RTCP intervals.
    pub seed: u64,
    /// Our RTCP CNAME (`user@host`).
    pub cname: String,
    /// The wall-clock time matching the `now` the session is made at (for SR's NTP time).
    pub wallclock: SystemTime,
    /// Received audio held before playing (absorbs network jitter).
    pub jitter_delay: Duration,
    /// The most received audio held.
    pub jitter_max: Duration,
    /// The most audio the application may queue for sending.
    pub send_queue: Duration,
    /// Send silence when the application has nothing to send (keeps NAT bindings
    /// and the peer's jitter buffer fed); else send nothing.
    pub send_silence: bool,
    /// How long each DTMF digit sounds.
    pub dtmf_tone: Duration,
    /// The pause between two digits.
    pub dtmf_pause: Duration,
    /// The mean interval between RTCP reports (RFC 3550 §6.2's 5 s minimum).
    pub rtcp_interval: Duration,
}

impl RtpConfig {
    /// A configuration with random SSRC, sequence number, timestamp and seed (RFC
    /// 3550 §5.1) from the operating system's generator, and the defaults: 40 ms of
    /// jitter delay, 1 s held at most, 2 s of send queue, silence sent, 100 ms digits
    /// with 60 ms pauses, RTCP every 5 s.
    pub fn random(cname: &str) -> RtpConfig {
        let mut b = [0u8; 18];
        // Without randomness the fields stay zero, still a valid session; the OS
        // generator does not fail once the process runs.
        let _ = getrandom::fill(&mut b);
        RtpConfig {
            ssrc: u32::from_be_bytes([b[0], b[1], b[2], b[3]]),
            sequence: u16::from_be_bytes([b[4], b[5]]),
            timestamp: u32::from_be_bytes([b[6], b[7], b[8], b[9]]),
            seed: u64::from_be_bytes([b[10], b[11], b[12], b[13], b[14], b[15], b[16], b[17]]),
            ..RtpConfig::fixed(cname)
        }
    }

    /// The defaults of [`RtpConfig::random`] with SSRC, sequence number, timestamp and
    /// seed all zero (tests set their own).
    pub fn fixed(cname: &str) -> RtpConfig {
        RtpConfig {
            ssrc: 0,
            sequence: 0,
            timestamp: 0,
            seed: 0,
            cname: cname.to_string(),
            wallclock: SystemTime::now(),
            jitter_delay: Duration::from_millis(40),
            jitter_max: Duration::from_secs(1),
            send_queue: Duration::from_secs(2),
            send_silence: true,
            dtmf_tone: Duration::from_millis(100),
            dtmf_pause: Duration::from_millis(60),
            rtcp_interval: Duration::from_secs(5),
        }
    }
}

/// What was negotiated, and may change with each re-INVITE.
#[derive(Debug)]
pub struct MediaParams {
    /// Where the peer's SDP says to send RTP (`None`: nowhere, as on hold with
    /// `c=0.0.0.0`).
    pub remote_rtp: Option<SocketAddr>,
    /// Where to send RTCP (by default the RTP port plus one).
    pub remote_rtcp: Option<SocketAddr>,
    /// The voice payload type both sides use.
    pub payload_type: u8,
    /// The voice codec.
    pub codec: Box<dyn Codec>,
    /// The telephone-event payload type, when negotiated.
    pub telephone_event: Option<u8>,
    /// The packet time.
    pub ptime: Duration,
    /// Whether we send (false on hold or recvonly).
    pub send: bool,
    /// Whether we play what we receive (false on inactive or sendonly).
    pub receive: bool,
}

impl MediaParams {
    /// Sending and receiving `codec` on `payload_type` with `ptime`, RTP to `remote`
    /// and RTCP to the next port.
    pub fn new(
        remote: Option<SocketAddr>,
        payload_type: u8,
        codec: Box<dyn Codec>,
        ptime: Duration,
    ) -> MediaParams {
        MediaParams {
            remote_rtp: remote,
            remote_rtcp: remote.map(|r| SocketAddr::new(r.ip(), r.port().wrapping_add(1))),
            payload_type,
            codec,
            telephone_event: None,
            ptime: ptime.max(Duration::from_millis(10)),
            send: true,
            receive: true,
        }
    }
}

/// Counters of a session.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SessionStats {
    /// RTP packets sent.
    pub sent_packets: u64,
    /// RTP payload bytes sent.
    pub sent_octets: u64,
    /// RTP packets received from the current source.
    pub received_packets: u64,
    /// Packets of the current source never received.
    pub lost: u64,
    /// Interarrival jitter of the current source.
    pub jitter: Duration,
    /// Packets that came after their time had been played.
    pub late: u64,
    /// Samples of silence played in place of lost packets.
    pub concealed_samples: u64,
    /// Datagrams that were neither RTP nor RTCP we read.
    pub malformed: u64,
    /// Packets from a second source while the first was sending, or of a payload
    /// type not negotiated.
    pub ignored: u64,
    /// DTMF digits received.
    pub dtmf_received: u64,
    /// DTMF digits sent.
    pub dtmf_sent: u64,
    /// The fraction of our packets the peer last reported lost, in 1/256.
    pub remote_fraction_lost: u8,
    /// RTCP reports sent.
    pub rtcp_sent: u64,
    /// RTCP packets received.
    pub rtcp_received: u64,
}

/// The machine.
#[derive(Debug)]
pub struct RtpSession {
    config: RtpConfig,
    params: MediaParams,
    encoder: Box<dyn Codec>,
    decoder: Box<dyn Codec>,
    /// The `now` the session was made at.
    start: Instant,
    out: VecDeque<RtpOutput>,
    closed: bool,
    tx: send::Sender,
    rx: receive::Receiver,
    rtcp: report::Reporter,
    stats: SessionStats,
}

impl RtpSession {
    /// A session starting at `now`; its first packet is due at once.
    pub fn new(config: RtpConfig, params: MediaParams, now: Instant) -> RtpSession {
        let rate = params.codec.clock_rate();
        let tx = send::Sender::new(&config, &params, now);
        let rx = receive::Receiver::new(&config, rate, params.ptime);
        let rtcp = report::Reporter::new(&config, now);
        RtpSession {
            encoder: params.codec.fresh(),
            decoder: params.codec.fresh(),
            config,
            params,
            start: now,
            out: VecDeque::new(),
            closed: false,
            tx,
            rx,
            rtcp,
            stats: SessionStats::default(),
        }
    }

    /// Our SSRC.
    pub fn ssrc(&self) -> u32 {
        self.config.ssrc
    }

    /// The counters so far.
    pub fn stats(&self) -> SessionStats {
        let mut s = self.stats;
        if let Some(r) = self.rx.source() {
            s.received_packets = r.received();
            s.lost = r.lost();
            s.jitter = Duration::from_micros(
                u64::from(r.jitter()) * 1_000_000 / u64::from(self.clock_rate()),
            );
        }
        let j = self.rx.jitter_stats();
        s.late = j.late;
        s.concealed_samples = j.concealed_samples;
        s
    }

    /// The clock rate of the voice codec.
    pub fn clock_rate(&self) -> u32 {
        self.params.codec.clock_rate().max(1)
    }

    /// The negotiated parameters in use.
    pub fn params(&self) -> &MediaParams {
        &self.params
    }

    /// Where RTP goes now (the latched source, else the SDP address).
    pub fn rtp_destination(&self) -> Option<SocketAddr> {
        self.rx.latched(Channel::Rtp).or(self.params.remote_rtp)
    }

    fn rtcp_destination(&self) -> Option<SocketAddr> {
        self.rx.latched(Channel::Rtcp).or(self.params.remote_rtcp)
    }

    /// Queues audio to send (16-bit linear at the codec's rate). Returns how many
    /// samples were taken: fewer than given when the send queue is full.
    pub fn write_audio(&mut self, samples: &[i16]) -> usize {
        let limit = self.samples_in(self.config.send_queue);
        self.tx.write(samples, limit)
    }

    /// Audio queued and not yet sent.
    pub fn queued_audio(&self) -> Duration {
        Duration::from_micros(self.tx.queued() as u64 * 1_000_000 / u64::from(self.clock_rate()))
    }

    /// Queues DTMF digits to send as RFC 4733 events ([`DtmfError::NotNegotiated`]
    /// when the call has no telephone-event: then use SIP INFO).
    pub fn send_dtmf(&mut self, digits: &str) -> Result<(), DtmfError> {
        if self.params.telephone_event.is_none() {
            return Err(DtmfError::NotNegotiated);
        }
        self.tx.dtmf().queue(digits)
    }

    /// Whether DTMF digits are being sent or wait.
    pub fn dtmf_pending(&self) -> bool {
        self.tx.dtmf_busy()
    }

    /// Takes new negotiated parameters (after a re-INVITE or UPDATE): a new
    /// address forgets the latched one, a new codec starts fresh coders, a new
    /// packet time takes effect from the next tick.
    pub fn update(&mut self, params: MediaParams, now: Instant) {
        if params.remote_rtp != self.params.remote_rtp {
            self.rx.unlatch();
        }
        if params.codec.name() != self.params.codec.name()
            || params.payload_type != self.params.payload_type
        {
            self.encoder = params.codec.fresh();
            self.decoder = params.codec.fresh();
        }
        self.tx.retime(&params, now);
        self.params = params;
    }

    /// Ends the session: an RTCP report and BYE go out, then nothing more.
    pub fn close(&mut self, now: Instant) {
        if self.closed {
            return;
        }
        self.send_report(now, true);
        self.closed = true;
    }

    /// Whether [`RtpSession::close`] was called.
    pub fn is_closed(&self) -> bool {
        self.closed
    }

    /// One datagram from the network.
    pub fn handle_input(&mut self, input: RtpInput, now: Instant) {
        if self.closed {
            return;
        }
        match input {
            RtpInput::Datagram {
                channel,
                from,
                bytes,
            } => {
                if channel == Channel::Rtcp || crate::rtcp::is_rtcp(&bytes) {
                    self.on_rtcp(from, channel, bytes, now);
                } else {
                    self.on_rtp(from, bytes, now);
                }
            }
        }
    }

    /// The next output, or `None`.
    pub fn poll_output(&mut self) -> Option<RtpOutput> {
        self.out.pop_front()
    }

    /// When [`RtpSession::handle_timeout`] is next due (`None` once closed).
    pub fn poll_timeout(&self) -> Option<Instant> {
        if self.closed {
            return None;
        }
        let mut next = self.tx.next_tick().min(self.rtcp.next());
        if let Some(d) = self.rx.dtmf_deadline() {
            next = next.min(d);
        }
        Some(next)
    }

    /// Runs the ticks, reports and DTMF time-outs due by `now`.
    pub fn handle_timeout(&mut self, now: Instant) {
        if self.closed {
            return;
        }
        self.run_ticks(now);
        if let Some(d) = self.rx.dtmf_timeout(now) {
            self.stats.dtmf_received += 1;
            self.out.push_back(RtpOutput::Event(RtpEvent::Dtmf(d)));
        }
        if now >= self.rtcp.next() {
            self.send_report(now, false);
        }
    }

    /// How many samples `d` holds at the codec's rate.
    fn samples_in(&self, d: Duration) -> usize {
        (d.as_micros() * u128::from(self.clock_rate()) / 1_000_000) as usize
    }

    /// The RTP timestamp of instant `at` on our media clock.
    fn timestamp_at(&self, at: Instant) -> u32 {
        let units = at.saturating_duration_since(self.start).as_micros()
            * u128::from(self.clock_rate())
            / 1_000_000;
        self.config.timestamp.wrapping_add(units as u32)
    }

    fn transmit(&mut self, channel: Channel, to: SocketAddr, bytes: Bytes) {
        self.out
            .push_back(RtpOutput::Transmit(RtpTransmit { channel, to, bytes }));
    }

    fn event(&mut self, e: RtpEvent) {
        self.out.push_back(RtpOutput::Event(e));
    }
}

/// DTMF machinery with the session's settings.
fn dtmf_pair(config: &RtpConfig, rate: u32, ptime: Duration) -> (DtmfSender, DtmfReceiver) {
    (
        DtmfSender::new(config.dtmf_tone, config.dtmf_pause, rate, ptime),
        DtmfReceiver::new(rate, Duration::from_millis(250).max(ptime * 4)),
    )
}

/// A jitter buffer with the session's settings.
fn jitter_buffer(config: &RtpConfig, rate: u32) -> JitterBuffer {
    let samples = |d: Duration| (d.as_micros() * u128::from(rate) / 1_000_000) as usize;
    JitterBuffer::new(samples(config.jitter_delay), samples(config.jitter_max))
}

/// The receiving side's view of the current source, for stats and reports.
pub(crate) type SourceStats = ReceiverStats;
