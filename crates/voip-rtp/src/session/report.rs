//! RTCP from a session: a sender report while we send (else a receiver report) with
//! a block about the source we hear, our CNAME, and BYE at the end; sent at intervals
//! spread over 0.5 to 1.5 times the mean (RFC 3550 §6.2, §6.3.1), the first after
//! half of one.

use std::time::{Duration, Instant, UNIX_EPOCH};

use bytes::Bytes;

use super::{Channel, RtpConfig, RtpSession};
use crate::rtcp::{RtcpPacket, SenderInfo, write_compound};

/// Seconds from 1900 (NTP's era) to 1970 (Unix's).
const NTP_UNIX_OFFSET: u64 = 2_208_988_800;

/// When reports are due.
#[derive(Debug)]
pub(super) struct Reporter {
    next: Instant,
    interval: Duration,
    /// SplitMix64 state for the spread.
    rng: u64,
}

impl Reporter {
    pub(super) fn new(config: &RtpConfig, now: Instant) -> Reporter {
        let mut r = Reporter {
            next: now,
            interval: config.rtcp_interval,
            rng: config.seed,
        };
        r.next = now + r.spread(config.rtcp_interval / 2);
        r
    }

    pub(super) fn next(&self) -> Instant {
        self.next
    }

    /// `mean` times a factor uniform in [0.5, 1.5).
    fn spread(&mut self, mean: Duration) -> Duration {
        self.rng = self.rng.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.rng;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        // The top 16 bits as a fraction of 1.
        let per_mille = 500 + (z >> 48) * 1000 / 65536;
        mean * per_mille as u32 / 1000
    }

    fn schedule(&mut self, now: Instant) {
        self.next = now + self.spread(self.interval);
    }
}

impl RtpSession {
    /// The NTP time (RFC 5905 format) of `now`.
    fn ntp_time(&self, now: Instant) -> u64 {
        let wall = self.config.wallclock + now.saturating_duration_since(self.start);
        let since_unix = wall.duration_since(UNIX_EPOCH).unwrap_or_default();
        let secs = since_unix.as_secs() + NTP_UNIX_OFFSET;
        let frac = (u64::from(since_unix.subsec_nanos()) << 32) / 1_000_000_000;
        (secs << 32) | frac
    }

    /// Sends a report now (with BYE when `bye`), and schedules the next.
    pub(super) fn send_report(&mut self, now: Instant, bye: bool) {
        self.rtcp.schedule(now);
        let Some(dest) = self.rtcp_destination() else {
            return;
        };
        let (lsr, dlsr) = match self.rx.last_sr {
            Some((middle, at)) => {
                let d = now.saturating_duration_since(at);
                let units = d.as_micros() * 65536 / 1_000_000;
                (middle, u32::try_from(units).unwrap_or(u32::MAX))
            }
            None => (0, 0),
        };
        let reports: Vec<_> = self
            .rx
            .source_mut()
            .map(|s| s.report(lsr, dlsr))
            .into_iter()
            .collect();
        let ssrc = self.config.ssrc;
        let first = if self.tx.sent_since_report {
            RtcpPacket::SenderReport {
                ssrc,
                info: SenderInfo {
                    ntp_time: self.ntp_time(now),
                    rtp_time: self.timestamp_at(now),
                    packet_count: self.tx.packets,
                    octet_count: self.tx.octets,
                },
                reports,
            }
        } else {
            RtcpPacket::ReceiverReport { ssrc, reports }
        };
        self.tx.sent_since_report = false;
        let mut packets = vec![
            first,
            RtcpPacket::SourceDescription {
                cnames: vec![(ssrc, Bytes::copy_from_slice(self.config.cname.as_bytes()))],
            },
        ];
        if bye {
            packets.push(RtcpPacket::Bye {
                ssrcs: vec![ssrc],
                reason: None,
            });
        }
        self.stats.rtcp_sent += 1;
        self.transmit(Channel::Rtcp, dest, write_compound(&packets));
    }
}
