//! Reception statistics of one source (RFC 3550 Appendix A.1, A.3, A.8): sequence
//! numbers extended across wrap-around, packets expected and lost, interarrival
//! jitter, and the report block they make.

use crate::rtcp::ReportBlock;

/// A jump larger than this ahead is a restart of the source, not loss (A.1).
const MAX_DROPOUT: u16 = 3000;
/// A packet this far behind is late or duplicated, not a restart (A.1).
const MAX_MISORDER: u16 = 100;

/// What we received from one source.
#[derive(Clone, Debug)]
pub struct ReceiverStats {
    ssrc: u32,
    /// Whether a first packet was seen.
    started: bool,
    base_seq: u32,
    max_seq: u16,
    /// Wrap count, shifted left by 16 (A.1's `cycles`).
    cycles: u32,
    /// The sequence number after which a restart would be believed (A.1's `bad_seq`).
    bad_seq: Option<u16>,
    received: u64,
    /// Packets repeating the highest sequence number.
    duplicates: u64,
    expected_prior: u64,
    received_prior: u64,
    /// Interarrival jitter in timestamp units, scaled by 16 (A.8).
    jitter_q4: u64,
    last_transit: Option<u32>,
    payload_bytes: u64,
}

impl ReceiverStats {
    /// Statistics for `ssrc`, before its first packet.
    pub fn new(ssrc: u32) -> ReceiverStats {
        ReceiverStats {
            ssrc,
            started: false,
            base_seq: 0,
            max_seq: 0,
            cycles: 0,
            bad_seq: None,
            received: 0,
            duplicates: 0,
            expected_prior: 0,
            received_prior: 0,
            jitter_q4: 0,
            last_transit: None,
            payload_bytes: 0,
        }
    }

    /// Starts counting afresh at `seq` (the first packet, or a restarted source).
    fn restart(&mut self, seq: u16) {
        self.started = true;
        self.base_seq = u32::from(seq);
        self.max_seq = seq;
        self.cycles = 0;
        self.bad_seq = None;
        self.received = 0;
        self.expected_prior = 0;
        self.received_prior = 0;
    }

    /// The source these statistics are about.
    pub fn ssrc(&self) -> u32 {
        self.ssrc
    }

    /// Counts one packet with sequence number `seq`, RTP timestamp `timestamp`,
    /// `payload_len` payload bytes, arriving at `arrival` (in timestamp units on our
    /// own clock). Returns whether the packet is new and in order or nearly so (to be
    /// played); `false` for a duplicate, a very late packet, or a jump not yet
    /// believed.
    pub fn record(&mut self, seq: u16, timestamp: u32, payload_len: usize, arrival: u64) -> bool {
        let delta = seq.wrapping_sub(self.max_seq);
        let fresh = if !self.started {
            self.restart(seq);
            true
        } else if delta != 0 && delta < MAX_DROPOUT {
            // In order, with a permissible gap.
            if seq < self.max_seq {
                self.cycles = self.cycles.wrapping_add(1 << 16);
            }
            self.max_seq = seq;
            true
        } else if delta == 0 || delta > u16::MAX - MAX_MISORDER {
            // A duplicate or a reordered packet: counted, but played only when the
            // jitter buffer still wants it (it decides by timestamp).
            self.duplicates += u64::from(delta == 0);
            delta != 0
        } else if self.bad_seq == Some(seq) {
            // Two sequential packets after a big jump: the source restarted.
            self.restart(seq);
            true
        } else {
            self.bad_seq = Some(seq.wrapping_add(1));
            return false;
        };
        self.received += 1;
        self.payload_bytes += payload_len as u64;
        // A.8: the transit time's change, smoothed by 1/16.
        // On the 32-bit circle, so the timestamp's wrap is no jump.
        let transit = (arrival as u32).wrapping_sub(timestamp);
        if let Some(last) = self.last_transit {
            let d = u64::from((transit.wrapping_sub(last) as i32).unsigned_abs());
            // jitter += (d - jitter) / 16, kept scaled by 16.
            self.jitter_q4 = self.jitter_q4 + d - (self.jitter_q4 + 8) / 16;
        }
        self.last_transit = Some(transit);
        fresh
    }

    /// The highest sequence number received, with the wrap count above it.
    pub fn extended_max(&self) -> u32 {
        self.cycles | u32::from(self.max_seq)
    }

    /// Packets expected since the first (A.3).
    pub fn expected(&self) -> u64 {
        u64::from(
            self.extended_max()
                .wrapping_sub(self.base_seq)
                .wrapping_add(1),
        )
    }

    /// Packets received (duplicates included, as A.3 counts them).
    pub fn received(&self) -> u64 {
        self.received
    }

    /// Packets lost since the first: expected minus received, never below zero.
    pub fn lost(&self) -> u64 {
        self.expected().saturating_sub(self.received)
    }

    /// Packets that repeated the highest sequence number received.
    pub fn duplicates(&self) -> u64 {
        self.duplicates
    }

    /// Payload bytes received.
    pub fn payload_bytes(&self) -> u64 {
        self.payload_bytes
    }

    /// The interarrival jitter in timestamp units.
    pub fn jitter(&self) -> u32 {
        u32::try_from(self.jitter_q4 / 16).unwrap_or(u32::MAX)
    }

    /// A report block for an SR or RR (A.3), and the start of the next interval.
    /// `last_sr` and `delay_since_last_sr` come from the last SR of this source.
    pub fn report(&mut self, last_sr: u32, delay_since_last_sr: u32) -> ReportBlock {
        let expected = self.expected();
        let lost = expected as i64 - self.received as i64;
        let expected_interval = expected.saturating_sub(self.expected_prior);
        let received_interval = self.received.saturating_sub(self.received_prior);
        self.expected_prior = expected;
        self.received_prior = self.received;
        let lost_interval = expected_interval as i64 - received_interval as i64;
        let fraction_lost = if expected_interval == 0 || lost_interval <= 0 {
            0
        } else {
            ((lost_interval << 8) / expected_interval as i64).min(255) as u8
        };
        ReportBlock {
            ssrc: self.ssrc,
            fraction_lost,
            cumulative_lost: lost.clamp(-0x80_0000, 0x7F_FFFF) as i32,
            extended_highest_sequence: self.extended_max(),
            jitter: self.jitter(),
            last_sr,
            delay_since_last_sr,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_loss_across_the_sequence_wrap() {
        let mut s = ReceiverStats::new(1);
        let mut seq = 65530u16;
        for i in 0..20u32 {
            // Lose every fifth packet (never the last).
            if i % 5 != 2 {
                assert!(s.record(seq, i * 160, 160, u64::from(i * 160)));
            }
            seq = seq.wrapping_add(1);
        }
        assert_eq!(s.extended_max(), (1 << 16) | 13);
        assert_eq!(s.expected(), 20);
        assert_eq!(s.received(), 16);
        assert_eq!(s.lost(), 4);
        let block = s.report(0, 0);
        assert_eq!(block.cumulative_lost, 4);
        assert_eq!(block.fraction_lost, (4 * 256 / 20) as u8);
        // Nothing new: the next interval lost nothing.
        assert_eq!(s.report(0, 0).fraction_lost, 0);
    }

    #[test]
    fn late_and_duplicate_packets() {
        let mut s = ReceiverStats::new(1);
        assert!(s.record(100, 0, 160, 0));
        assert!(s.record(102, 320, 160, 320));
        // 101 arrives late: counted, still new.
        assert!(s.record(101, 160, 160, 400));
        // 102 again: a duplicate.
        assert!(!s.record(102, 320, 160, 420));
        assert_eq!(s.extended_max(), 102);
        assert_eq!(s.expected(), 3);
        assert_eq!(s.received(), 4);
        assert_eq!(s.lost(), 0);
        assert_eq!(s.report(0, 0).cumulative_lost, -1);
    }

    #[test]
    fn a_restarted_source_is_believed_after_two_packets() {
        let mut s = ReceiverStats::new(1);
        assert!(s.record(10, 0, 160, 0));
        assert!(!s.record(30_000, 0, 160, 160));
        assert!(s.record(30_001, 160, 160, 320));
        assert_eq!(s.expected(), 1);
        assert_eq!(s.received(), 1);
        assert!(s.record(30_002, 320, 160, 480));
        assert_eq!(s.extended_max(), 30_002);
    }

    #[test]
    fn jitter_follows_rfc_3550_a8() {
        let mut s = ReceiverStats::new(1);
        // Timestamps start just below the wrap: the wrap is not jitter.
        let base = u32::MAX - 1000;
        // Packets every 160 timestamp units arriving alternately 0 and 80 late.
        for i in 0..400u32 {
            let late = if i % 2 == 0 { 0 } else { 80 };
            s.record(
                i as u16,
                base.wrapping_add(i * 160),
                160,
                u64::from(i * 160 + late),
            );
        }
        // |D| is always 80, so the estimate converges to 80.
        assert!((78..=80).contains(&s.jitter()), "jitter {}", s.jitter());
        // Perfectly paced packets: it decays towards 0.
        for i in 400..800u32 {
            s.record(
                i as u16,
                base.wrapping_add(i * 160),
                160,
                u64::from(i * 160),
            );
        }
        assert!(s.jitter() <= 1, "jitter {}", s.jitter());
    }
}
