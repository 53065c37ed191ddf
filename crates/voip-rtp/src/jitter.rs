//! A bounded jitter buffer of decoded audio, ordered by RTP timestamp: packets are
//! put back in order, a packet that comes after its time has been played is dropped,
//! gaps are played as silence, and playing starts (and restarts after a pause) once a
//! target delay is buffered.

use std::collections::BTreeMap;

/// What became of a pushed packet.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Pushed {
    /// Buffered for playing.
    Accepted,
    /// Its time was already played: dropped.
    Late,
    /// A packet with the same timestamp is buffered: dropped.
    Duplicate,
}

/// What one pull produced.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Pulled {
    /// Samples that came from packets.
    pub played: usize,
    /// Samples of silence standing in for packets lost or late inside the stream.
    pub concealed: usize,
}

/// Counters of the buffer's life.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct JitterStats {
    /// Packets dropped because their time had been played.
    pub late: u64,
    /// Packets dropped as duplicates.
    pub duplicates: u64,
    /// Samples thrown away to stay within the bound or to cut built-up delay.
    pub discarded_samples: u64,
    /// Samples of silence played in gaps.
    pub concealed_samples: u64,
}

/// The buffer.
#[derive(Debug)]
pub struct JitterBuffer {
    /// Decoded packets by extended timestamp.
    segments: BTreeMap<u64, Vec<i16>>,
    /// Samples held.
    buffered: usize,
    /// The extended timestamp played next, once playing.
    cursor: Option<u64>,
    /// The highest extended timestamp seen, to unwrap the next.
    reference: Option<u64>,
    /// Samples to buffer before playing.
    target: usize,
    /// The most samples held; also the delay above which old audio is cut.
    max: usize,
    stats: JitterStats,
}

impl JitterBuffer {
    /// A buffer that starts playing once `target` samples are held and never holds more
    /// than `max` (at least twice the target).
    pub fn new(target: usize, max: usize) -> JitterBuffer {
        JitterBuffer {
            segments: BTreeMap::new(),
            buffered: 0,
            cursor: None,
            reference: None,
            target,
            max: max.max(2 * target).max(1),
            stats: JitterStats::default(),
        }
    }

    /// The counters.
    pub fn stats(&self) -> JitterStats {
        self.stats
    }

    /// Samples held.
    pub fn buffered(&self) -> usize {
        self.buffered
    }

    /// A 32-bit timestamp placed on the 64-bit line near the ones seen before.
    fn extend(&mut self, timestamp: u32) -> u64 {
        let ext = match self.reference {
            // Start high enough that going back never goes below zero.
            None => (1u64 << 32) | u64::from(timestamp),
            Some(r) => {
                let delta = timestamp.wrapping_sub(r as u32) as i32;
                r.wrapping_add_signed(i64::from(delta))
            }
        };
        self.reference = Some(self.reference.map_or(ext, |r| r.max(ext)));
        ext
    }

    fn end(&self) -> Option<u64> {
        self.segments
            .last_key_value()
            .map(|(k, v)| k + v.len() as u64)
    }

    fn drop_first(&mut self) {
        if let Some((_, v)) = self.segments.pop_first() {
            self.buffered -= v.len();
            self.stats.discarded_samples += v.len() as u64;
        }
    }

    /// Buffers the decoded samples of a packet with RTP timestamp `timestamp`.
    pub fn push(&mut self, timestamp: u32, samples: Vec<i16>) -> Pushed {
        let ext = self.extend(timestamp);
        if let Some(cursor) = self.cursor {
            if ext + samples.len() as u64 <= cursor {
                self.stats.late += 1;
                return Pushed::Late;
            }
            if ext > cursor + self.max as u64 {
                // A jump far beyond anything bufferable: the sender restarted its clock.
                self.reset_keeping_reference();
            }
        }
        if self.segments.contains_key(&ext) {
            self.stats.duplicates += 1;
            return Pushed::Duplicate;
        }
        self.buffered += samples.len();
        self.segments.insert(ext, samples);
        if self.buffered > self.max {
            while self.buffered > self.max {
                self.drop_first();
            }
            // Play on from what is left.
            if let (Some(cursor), Some((&first, _))) =
                (self.cursor, self.segments.first_key_value())
            {
                self.cursor = Some(cursor.max(first));
            }
        }
        Pushed::Accepted
    }

    fn reset_keeping_reference(&mut self) {
        let dropped = self.buffered;
        self.segments.clear();
        self.buffered = 0;
        self.cursor = None;
        self.stats.discarded_samples += dropped as u64;
    }

    /// Fills `out` with the next samples to play: audio where packets are, silence in
    /// gaps, and all silence while the buffer fills up to its target.
    pub fn pull(&mut self, out: &mut [i16]) -> Pulled {
        out.fill(0);
        let n = out.len() as u64;
        let Some(end) = self.end() else {
            // Nothing held: stop, and fill up to the target again before playing.
            self.cursor = None;
            return Pulled {
                played: 0,
                concealed: 0,
            };
        };
        let cursor = match self.cursor {
            Some(c) if c < end => c,
            _ => {
                let first = *self.segments.keys().next().unwrap_or(&end);
                if ((end - first) as usize) < self.target {
                    self.cursor = None;
                    return Pulled {
                        played: 0,
                        concealed: 0,
                    };
                }
                first
            }
        };
        // Cut delay that built up (a burst after a stall) back to the target.
        let cursor = if (end - cursor) as usize > 3 * self.target.max(out.len()) {
            let keep_from = end - self.target as u64;
            while let Some((&k, v)) = self.segments.first_key_value() {
                if k + v.len() as u64 <= keep_from {
                    self.drop_first();
                } else {
                    break;
                }
            }
            keep_from
        } else {
            cursor
        };
        let stop = cursor + n;
        let mut played = 0usize;
        let mut consumed = Vec::new();
        for (&start, samples) in self.segments.range(..stop) {
            let seg_end = start + samples.len() as u64;
            if seg_end <= cursor {
                consumed.push(start);
                continue;
            }
            let from = cursor.max(start);
            let to = stop.min(seg_end);
            let src = &samples[(from - start) as usize..(to - start) as usize];
            out[(from - cursor) as usize..(to - cursor) as usize].copy_from_slice(src);
            played += src.len();
            if seg_end <= stop {
                consumed.push(start);
            }
        }
        for k in consumed {
            if let Some(v) = self.segments.remove(&k) {
                self.buffered -= v.len();
            }
        }
        // Silence inside the stream (not after its end) stands in for lost packets.
        let concealed = (stop.min(end) - cursor) as usize - played;
        self.stats.concealed_samples += concealed as u64;
        self.cursor = Some(stop);
        Pulled { played, concealed }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A 160-sample frame whose samples all equal `v`.
    fn frame(v: i16) -> Vec<i16> {
        vec![v; 160]
    }

    fn pull(jb: &mut JitterBuffer) -> (Vec<i16>, Pulled) {
        let mut out = vec![7; 160];
        let p = jb.pull(&mut out);
        (out, p)
    }

    #[test]
    fn reorders_and_waits_for_the_target() {
        let mut jb = JitterBuffer::new(320, 8000);
        assert_eq!(jb.push(160, frame(2)), Pushed::Accepted);
        // One frame held, target two: silence.
        let (out, p) = pull(&mut jb);
        assert!(out.iter().all(|s| *s == 0));
        assert_eq!(
            p,
            Pulled {
                played: 0,
                concealed: 0
            }
        );
        assert_eq!(jb.push(0, frame(1)), Pushed::Accepted);
        assert_eq!(jb.push(320, frame(3)), Pushed::Accepted);
        for want in 1..=3 {
            let (out, p) = pull(&mut jb);
            assert!(out.iter().all(|s| *s == want), "frame {want}");
            assert_eq!(p.played, 160);
        }
        assert_eq!(jb.buffered(), 0);
    }

    #[test]
    fn conceals_a_lost_packet_and_drops_it_when_late() {
        let mut jb = JitterBuffer::new(320, 8000);
        for (ts, v) in [(0, 1), (320, 3), (480, 4)] {
            jb.push(ts, frame(v));
        }
        assert!(pull(&mut jb).0.iter().all(|s| *s == 1));
        let (out, p) = pull(&mut jb);
        assert!(out.iter().all(|s| *s == 0));
        assert_eq!(
            p,
            Pulled {
                played: 0,
                concealed: 160
            }
        );
        // The lost packet turns up after its time.
        assert_eq!(jb.push(160, frame(2)), Pushed::Late);
        assert!(pull(&mut jb).0.iter().all(|s| *s == 3));
        assert_eq!(jb.push(480, frame(4)), Pushed::Duplicate);
        assert!(pull(&mut jb).0.iter().all(|s| *s == 4));
        let stats = jb.stats();
        assert_eq!(
            (stats.late, stats.duplicates, stats.concealed_samples),
            (1, 1, 160)
        );
    }

    #[test]
    fn plays_across_the_timestamp_wrap_and_other_packet_sizes() {
        let mut jb = JitterBuffer::new(480, 8000);
        // 30 ms packets (240 samples) from just below the wrap.
        let start = u32::MAX - 239;
        for i in 0..4u32 {
            jb.push(start.wrapping_add(i * 240), vec![i as i16 + 1; 240]);
        }
        let mut heard = Vec::new();
        for _ in 0..6 {
            heard.extend(pull(&mut jb).0);
        }
        let want: Vec<i16> = (1..=4).flat_map(|v| vec![v; 240]).collect();
        assert_eq!(heard, want);
    }

    #[test]
    fn holds_at_most_its_bound() {
        let mut jb = JitterBuffer::new(320, 1600);
        for i in 0..100u32 {
            jb.push(i * 160, frame(i as i16));
            assert!(jb.buffered() <= 1600);
        }
        // Playing starts at what is left, the newest 10 frames cut to the target.
        let (out, _) = pull(&mut jb);
        assert!(out.iter().all(|s| *s == 98), "got {}", out[0]);
        assert!(jb.stats().discarded_samples >= 90 * 160);
    }

    #[test]
    fn a_pause_in_the_stream_refills_before_playing_again() {
        let mut jb = JitterBuffer::new(320, 8000);
        jb.push(0, frame(1));
        jb.push(160, frame(2));
        pull(&mut jb);
        pull(&mut jb);
        // Empty: silence without concealment, then the sender resumes 10 s later.
        assert_eq!(
            pull(&mut jb).1,
            Pulled {
                played: 0,
                concealed: 0
            }
        );
        jb.push(80_000, frame(5));
        assert_eq!(pull(&mut jb).1.played, 0, "one frame is below the target");
        jb.push(80_160, frame(6));
        assert!(pull(&mut jb).0.iter().all(|s| *s == 5));
        assert!(pull(&mut jb).0.iter().all(|s| *s == 6));
    }
}
