//! The receiving half of a session: which source we listen to, latching our
//! destination onto it (symmetric RTP), its statistics, the jitter buffer, telephone
//! events, and what its RTCP tells us.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use bytes::Bytes;

use super::{Channel, RtpConfig, RtpEvent, RtpSession, SourceStats, dtmf_pair, jitter_buffer};
use crate::dtmf::{DtmfDigit, DtmfReceiver, EventPayload};
use crate::jitter::{JitterBuffer, JitterStats, Pulled};
use crate::packet::RtpPacket;
use crate::rtcp::{RtcpPacket, parse_compound};

/// A second source is taken over from the first only after the first was silent this
/// long (or when it comes from the first's address: the peer restarted its stream).
const SOURCE_SILENCE: Duration = Duration::from_millis(500);

/// What the receiving half keeps.
#[derive(Debug)]
pub(super) struct Receiver {
    source: Option<SourceStats>,
    source_addr: Option<SocketAddr>,
    last_packet: Option<Instant>,
    jitter: JitterBuffer,
    dtmf: DtmfReceiver,
    latched_rtp: Option<SocketAddr>,
    latched_rtcp: Option<SocketAddr>,
    /// The middle 32 bits of the NTP time of the source's last SR, and when it came.
    pub(super) last_sr: Option<(u32, Instant)>,
    rate: u32,
    ptime: Duration,
}

impl Receiver {
    pub(super) fn new(config: &RtpConfig, rate: u32, ptime: Duration) -> Receiver {
        let (_, dtmf) = dtmf_pair(config, rate, ptime);
        Receiver {
            source: None,
            source_addr: None,
            last_packet: None,
            jitter: jitter_buffer(config, rate),
            dtmf,
            latched_rtp: None,
            latched_rtcp: None,
            last_sr: None,
            rate,
            ptime,
        }
    }

    pub(super) fn source(&self) -> Option<&SourceStats> {
        self.source.as_ref()
    }

    pub(super) fn source_mut(&mut self) -> Option<&mut SourceStats> {
        self.source.as_mut()
    }

    pub(super) fn latched(&self, channel: Channel) -> Option<SocketAddr> {
        match channel {
            Channel::Rtp => self.latched_rtp,
            Channel::Rtcp => self.latched_rtcp,
        }
    }

    pub(super) fn unlatch(&mut self) {
        self.latched_rtp = None;
        self.latched_rtcp = None;
    }

    pub(super) fn jitter_stats(&self) -> JitterStats {
        self.jitter.stats()
    }

    pub(super) fn pull(&mut self, out: &mut [i16]) -> Pulled {
        self.jitter.pull(out)
    }

    pub(super) fn dtmf_deadline(&self) -> Option<Instant> {
        self.dtmf.deadline()
    }

    pub(super) fn dtmf_timeout(&mut self, now: Instant) -> Option<DtmfDigit> {
        self.dtmf.on_timeout(now)
    }

    /// Starts listening to a new source.
    fn switch_source(&mut self, ssrc: u32, from: SocketAddr, config: &RtpConfig) {
        self.source = Some(SourceStats::new(ssrc));
        self.source_addr = Some(from);
        self.jitter = jitter_buffer(config, self.rate);
        let (_, dtmf) = dtmf_pair(config, self.rate, self.ptime);
        self.dtmf = dtmf;
        self.last_sr = None;
    }

    /// Whether a packet of `ssrc` from `from` at `now` is from the source we listen
    /// to, switching to it when it takes over.
    fn accepts(&mut self, ssrc: u32, from: SocketAddr, now: Instant, config: &RtpConfig) -> bool {
        let current = self.source.as_ref().map(SourceStats::ssrc);
        if current == Some(ssrc) {
            return true;
        }
        let silent = self
            .last_packet
            .is_none_or(|t| now.saturating_duration_since(t) >= SOURCE_SILENCE);
        if current.is_none() || silent || self.source_addr == Some(from) {
            self.switch_source(ssrc, from, config);
            return true;
        }
        false
    }
}

impl RtpSession {
    /// An RTP datagram.
    pub(super) fn on_rtp(&mut self, from: SocketAddr, bytes: Bytes, now: Instant) {
        let Ok(packet) = RtpPacket::parse(bytes) else {
            self.stats.malformed += 1;
            return;
        };
        let is_event = Some(packet.payload_type) == self.params.telephone_event;
        let is_voice = packet.payload_type == self.params.payload_type;
        // Only what was negotiated is listened to or latched onto (comfort noise,
        // other payload types and our own packets looped back are not).
        if (!is_event && !is_voice) || packet.ssrc == self.config.ssrc {
            self.stats.ignored += 1;
            return;
        }
        if !self.rx.accepts(packet.ssrc, from, now, &self.config) {
            self.stats.ignored += 1;
            return;
        }
        self.rx.last_packet = Some(now);
        self.rx.source_addr = Some(from);
        if self.rx.latched_rtp != Some(from) {
            self.rx.latched_rtp = Some(from);
            self.event(RtpEvent::Latched {
                channel: Channel::Rtp,
                to: from,
            });
        }
        let arrival = (now.saturating_duration_since(self.start).as_micros()
            * u128::from(self.clock_rate())
            / 1_000_000) as u64;
        let Some(source) = self.rx.source.as_mut() else {
            return;
        };
        if !source.record(
            packet.sequence,
            packet.timestamp,
            packet.payload.len(),
            arrival,
        ) {
            return;
        }
        if !self.params.receive {
            return;
        }
        if is_event {
            let Ok(payload) = EventPayload::parse(&packet.payload) else {
                self.stats.malformed += 1;
                return;
            };
            for digit in self.rx.dtmf.on_packet(packet.timestamp, payload, now) {
                self.stats.dtmf_received += 1;
                self.event(RtpEvent::Dtmf(digit));
            }
        } else {
            let mut samples = Vec::with_capacity(packet.payload.len());
            self.decoder.decode(&packet.payload, &mut samples);
            self.rx.jitter.push(packet.timestamp, samples);
        }
    }

    /// An RTCP datagram (on the RTCP port, or multiplexed on RTP's).
    pub(super) fn on_rtcp(
        &mut self,
        from: SocketAddr,
        channel: Channel,
        bytes: Bytes,
        now: Instant,
    ) {
        let Ok(packets) = parse_compound(&bytes) else {
            self.stats.malformed += 1;
            return;
        };
        self.stats.rtcp_received += 1;
        if channel == Channel::Rtcp && self.rx.latched_rtcp != Some(from) {
            self.rx.latched_rtcp = Some(from);
            self.event(RtpEvent::Latched {
                channel: Channel::Rtcp,
                to: from,
            });
        }
        let current = self.rx.source().map(SourceStats::ssrc);
        for p in packets {
            match p {
                RtcpPacket::SenderReport {
                    ssrc,
                    info,
                    reports,
                } => {
                    if Some(ssrc) == current {
                        self.rx.last_sr = Some(((info.ntp_time >> 16) as u32, now));
                    }
                    self.take_reports(&reports);
                }
                RtcpPacket::ReceiverReport { reports, .. } => self.take_reports(&reports),
                RtcpPacket::Bye { ssrcs, reason } => {
                    if current.is_some_and(|c| ssrcs.contains(&c)) {
                        self.event(RtpEvent::RemoteBye { reason });
                    }
                }
                RtcpPacket::SourceDescription { .. } | RtcpPacket::Other { .. } => {}
            }
        }
    }

    fn take_reports(&mut self, reports: &[crate::rtcp::ReportBlock]) {
        if let Some(r) = reports.iter().find(|r| r.ssrc == self.config.ssrc) {
            self.stats.remote_fraction_lost = r.fraction_lost;
        }
    }
}
