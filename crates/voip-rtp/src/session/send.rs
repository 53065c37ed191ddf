//! The sending half of a session: the tick schedule, the application's audio queue,
//! DTMF events, and one RTP packet per tick.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use bytes::Bytes;

use super::{Channel, MediaParams, RtpConfig, RtpEvent, RtpSession, dtmf_pair};
use crate::dtmf::DtmfSender;
use crate::packet::RtpPacket;

/// Ticks run back to back after a late wake-up; older ones are skipped (their audio
/// dropped) so the stream stays in real time.
const MAX_BURST: u32 = 5;

/// What the sending half keeps.
#[derive(Debug)]
pub(super) struct Sender {
    /// When the next tick is due: the schedule's start plus a whole number of ticks.
    next_tick: Instant,
    ptime: Duration,
    sequence: u16,
    queue: VecDeque<i16>,
    dtmf: DtmfSender,
    /// Whether the last tick sent voice (the next voice after a pause is marked).
    talking: bool,
    /// Whether anything was sent since the last RTCP report (then it is an SR).
    pub(super) sent_since_report: bool,
    /// Packets and payload octets sent, for SR.
    pub(super) packets: u32,
    pub(super) octets: u32,
}

impl Sender {
    pub(super) fn new(config: &RtpConfig, params: &MediaParams, now: Instant) -> Sender {
        let (dtmf, _) = dtmf_pair(config, params.codec.clock_rate(), params.ptime);
        Sender {
            next_tick: now,
            ptime: params.ptime,
            sequence: config.sequence,
            queue: VecDeque::new(),
            dtmf,
            talking: false,
            sent_since_report: false,
            packets: 0,
            octets: 0,
        }
    }

    pub(super) fn next_tick(&self) -> Instant {
        self.next_tick
    }

    pub(super) fn queued(&self) -> usize {
        self.queue.len()
    }

    pub(super) fn dtmf(&mut self) -> &mut DtmfSender {
        &mut self.dtmf
    }

    pub(super) fn dtmf_busy(&self) -> bool {
        self.dtmf.busy()
    }

    /// Takes up to `limit` queued samples in all.
    pub(super) fn write(&mut self, samples: &[i16], limit: usize) -> usize {
        let room = limit.saturating_sub(self.queue.len());
        let n = room.min(samples.len());
        self.queue.extend(&samples[..n]);
        n
    }

    /// A new packet time applies from the next tick on.
    pub(super) fn retime(&mut self, params: &MediaParams, _now: Instant) {
        self.ptime = params.ptime;
    }

    /// The next `n` queued samples, padded with silence; whether any were queued.
    fn take_frame(&mut self, n: usize) -> (Vec<i16>, bool) {
        let had = !self.queue.is_empty();
        let take = n.min(self.queue.len());
        let mut frame: Vec<i16> = self.queue.drain(..take).collect();
        frame.resize(n, 0);
        (frame, had)
    }

    fn next_sequence(&mut self) -> u16 {
        let s = self.sequence;
        self.sequence = self.sequence.wrapping_add(1);
        s
    }
}

impl RtpSession {
    /// Runs every tick due by `now` (at most [`MAX_BURST`] of them; older ones are
    /// skipped with their audio).
    pub(super) fn run_ticks(&mut self, now: Instant) {
        let ptime = self.tx.ptime;
        if now < self.tx.next_tick {
            return;
        }
        let behind = ((now - self.tx.next_tick).as_micros() / ptime.as_micros().max(1)) as u32 + 1;
        if behind > MAX_BURST {
            let skip = behind - MAX_BURST;
            let samples = self.samples_in(ptime) * skip as usize;
            let drop = samples.min(self.tx.queue.len());
            self.tx.queue.drain(..drop);
            self.tx.next_tick += ptime * skip;
            self.tx.talking = false;
        }
        while self.tx.next_tick <= now {
            let at = self.tx.next_tick;
            self.tick(at);
            self.tx.next_tick = at + ptime;
        }
    }

    /// One packet time starting at `at`: send a packet, play a frame.
    fn tick(&mut self, at: Instant) {
        let ts = self.timestamp_at(at);
        let units = self.samples_in(self.tx.ptime);
        let (frame, had_audio) = self.tx.take_frame(units);
        let dest = self.rtp_destination();
        match (self.params.send, dest) {
            (true, Some(dest)) => {
                let event = match self.params.telephone_event {
                    Some(pt) => self.tx.dtmf.on_tick(ts, units as u32).map(|e| (pt, e)),
                    None => None,
                };
                if let Some((pt, e)) = event {
                    // A DTMF event replaces the voice of its ticks.
                    if e.marker {
                        self.stats.dtmf_sent += 1;
                    }
                    let payload = Bytes::copy_from_slice(&e.payload.to_bytes());
                    self.send_rtp(dest, pt, e.timestamp, e.marker, payload);
                    self.tx.talking = false;
                } else if had_audio || self.config.send_silence {
                    let mut payload = Vec::with_capacity(units);
                    self.encoder.encode(&frame, &mut payload);
                    let marker = !self.tx.talking;
                    self.send_rtp(
                        dest,
                        self.params.payload_type,
                        ts,
                        marker,
                        Bytes::from(payload),
                    );
                    self.tx.talking = true;
                } else {
                    self.tx.talking = false;
                }
            }
            _ => self.tx.talking = false,
        }
        if self.params.receive {
            let mut samples = vec![0i16; units];
            let pulled = self.rx.pull(&mut samples);
            self.event(RtpEvent::Audio(super::AudioFrame {
                samples,
                played: pulled.played,
                concealed: pulled.concealed,
            }));
        }
    }

    fn send_rtp(
        &mut self,
        dest: std::net::SocketAddr,
        pt: u8,
        ts: u32,
        marker: bool,
        payload: Bytes,
    ) {
        let mut p = RtpPacket::new(pt, self.tx.next_sequence(), ts, self.config.ssrc, payload);
        p.marker = marker;
        self.tx.packets = self.tx.packets.wrapping_add(1);
        self.tx.octets = self.tx.octets.wrapping_add(p.payload.len() as u32);
        self.tx.sent_since_report = true;
        self.stats.sent_packets += 1;
        self.stats.sent_octets += p.payload.len() as u64;
        self.transmit(Channel::Rtp, dest, p.to_bytes());
    }
}
