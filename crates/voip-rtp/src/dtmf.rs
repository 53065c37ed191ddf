//! DTMF as RFC 4733 telephone events: the four-byte payload, a sender that spreads
//! one digit over packets (the marker on the first, the end packet three times) and
//! a receiver that reports each digit once, whether its end packets arrive or not.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

/// Why a payload is not a telephone event.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DtmfError {
    /// Fewer than the four bytes of an event.
    #[error("telephone-event payload of {0} bytes, 4 needed")]
    Short(usize),
    /// A character that is not a DTMF digit (`0-9`, `*`, `#`, `A-D`).
    #[error("{0:?} is not a DTMF digit")]
    NotADigit(char),
    /// The call did not negotiate telephone-event (send the digits by SIP INFO).
    #[error("telephone-event was not negotiated")]
    NotNegotiated,
    /// More digits than the sender queues at once.
    #[error("{queued} DTMF digits already queued; {limit} at most")]
    QueueFull {
        /// Digits waiting.
        queued: usize,
        /// The bound.
        limit: usize,
    },
}

/// One telephone-event payload (RFC 4733 §2.3).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EventPayload {
    /// The event code (0-9, 10 = `*`, 11 = `#`, 12-15 = `A`-`D`).
    pub event: u8,
    /// Whether this packet ends the event.
    pub end: bool,
    /// The power level, in -dBm0 (0 to 63).
    pub volume: u8,
    /// How long the event has lasted so far, in timestamp units.
    pub duration: u16,
}

impl EventPayload {
    /// Reads the first four bytes of `payload` (more events may follow, RFC 4733 §2.5.1.5).
    pub fn parse(payload: &[u8]) -> Result<EventPayload, DtmfError> {
        let b = payload.get(..4).ok_or(DtmfError::Short(payload.len()))?;
        Ok(EventPayload {
            event: b[0],
            end: b[1] & 0x80 != 0,
            volume: b[1] & 0x3F,
            duration: u16::from_be_bytes([b[2], b[3]]),
        })
    }

    /// The four bytes.
    pub fn to_bytes(self) -> [u8; 4] {
        let d = self.duration.to_be_bytes();
        [
            self.event,
            (u8::from(self.end) << 7) | (self.volume & 0x3F),
            d[0],
            d[1],
        ]
    }
}

/// The event code of a DTMF digit.
pub fn event_of(digit: char) -> Result<u8, DtmfError> {
    Ok(match digit.to_ascii_uppercase() {
        c @ '0'..='9' => c as u8 - b'0',
        '*' => 10,
        '#' => 11,
        c @ 'A'..='D' => c as u8 - b'A' + 12,
        other => return Err(DtmfError::NotADigit(other)),
    })
}

/// The DTMF digit of an event code (`None` for other telephone events: flash, tones).
pub fn digit_of(event: u8) -> Option<char> {
    match event {
        0..=9 => Some(char::from(b'0' + event)),
        10 => Some('*'),
        11 => Some('#'),
        12..=15 => Some(char::from(b'A' + event - 12)),
        _ => None,
    }
}

/// A digit received, reported once.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DtmfDigit {
    /// `0-9`, `*`, `#`, `A-D`.
    pub digit: char,
    /// How long it was held (the last duration seen).
    pub duration: Duration,
    /// Whether its end packet arrived (else it was concluded by the next event or by
    /// silence).
    pub ended: bool,
}

/// How many times the end packet is sent (RFC 4733 §2.5.1.4).
const END_REPEATS: u8 = 3;
/// The volume we send, -dBm0.
const VOLUME: u8 = 10;

/// A digit being sent.
#[derive(Debug)]
struct Sending {
    event: u8,
    /// The event's timestamp: the media clock when it began.
    timestamp: u32,
    /// The duration so far, timestamp units.
    elapsed: u32,
    /// The whole duration, timestamp units.
    total: u32,
    /// End packets sent.
    ends: u8,
}

/// One packet the sender wants sent now.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EventPacket {
    /// The payload.
    pub payload: EventPayload,
    /// The RTP timestamp (the event's start, the same for all its packets).
    pub timestamp: u32,
    /// The marker bit (the first packet of an event).
    pub marker: bool,
}

/// Sends queued digits, one packet per media tick.
#[derive(Debug)]
pub struct DtmfSender {
    queue: VecDeque<u8>,
    current: Option<Sending>,
    /// Ticks of ordinary media still to go between two digits.
    gap: u32,
    /// How long each digit lasts, timestamp units.
    tone: u32,
    /// Ticks between digits.
    pause_ticks: u32,
    /// The most digits queued at once.
    limit: usize,
}

impl DtmfSender {
    /// A sender of `tone`-long digits with `pause` between them, at `clock_rate`, for
    /// media ticks of `tick`.
    pub fn new(tone: Duration, pause: Duration, clock_rate: u32, tick: Duration) -> DtmfSender {
        let units = |d: Duration| (d.as_micros() * u128::from(clock_rate) / 1_000_000) as u32;
        let tick_us = tick.as_micros().max(1);
        DtmfSender {
            queue: VecDeque::new(),
            current: None,
            gap: 0,
            tone: units(tone).clamp(1, u32::from(u16::MAX)),
            pause_ticks: pause.as_micros().div_ceil(tick_us) as u32,
            limit: 256,
        }
    }

    /// Queues `digits` (all or none: the first character that is not a digit is the
    /// error). Digits beyond the queue's bound of 256 are refused the same way.
    pub fn queue(&mut self, digits: &str) -> Result<(), DtmfError> {
        let events = digits
            .chars()
            .map(event_of)
            .collect::<Result<Vec<u8>, _>>()?;
        if self.queue.len() + events.len() > self.limit {
            return Err(DtmfError::QueueFull {
                queued: self.queue.len(),
                limit: self.limit,
            });
        }
        self.queue.extend(events);
        Ok(())
    }

    /// Whether a digit is being sent or waits.
    pub fn busy(&self) -> bool {
        self.current.is_some() || !self.queue.is_empty()
    }

    /// The packet to send at the media tick whose timestamp is `now_ts` and which
    /// covers `tick_units` timestamp units; `None` means the tick carries ordinary
    /// media.
    pub fn on_tick(&mut self, now_ts: u32, tick_units: u32) -> Option<EventPacket> {
        if self.current.is_none() {
            if self.gap > 0 {
                self.gap -= 1;
                return None;
            }
            let event = self.queue.pop_front()?;
            self.current = Some(Sending {
                event,
                timestamp: now_ts,
                elapsed: 0,
                total: self.tone,
                ends: 0,
            });
        }
        let s = self.current.as_mut()?;
        let marker = s.elapsed == 0;
        s.elapsed = (s.elapsed + tick_units).min(s.total);
        let end = s.elapsed >= s.total;
        if end {
            s.ends += 1;
        }
        let packet = EventPacket {
            payload: EventPayload {
                event: s.event,
                end,
                volume: VOLUME,
                duration: s.elapsed as u16,
            },
            timestamp: s.timestamp,
            marker,
        };
        if s.ends >= END_REPEATS {
            self.current = None;
            self.gap = self.pause_ticks;
        }
        Some(packet)
    }
}

/// An event being received.
#[derive(Debug)]
struct Receiving {
    timestamp: u32,
    event: u8,
    duration: u16,
    last_seen: Instant,
}

/// Turns telephone-event packets into digits, each reported once.
#[derive(Debug)]
pub struct DtmfReceiver {
    clock_rate: u32,
    current: Option<Receiving>,
    /// Timestamps of events already reported (their late end packets are ignored).
    done: VecDeque<u32>,
    /// How long an event may go without a packet before it is concluded.
    silence: Duration,
}

/// How many finished events are remembered.
const DONE_MEMORY: usize = 8;

impl DtmfReceiver {
    /// A receiver at `clock_rate` that concludes an event after `silence` without
    /// packets (its end packets lost).
    pub fn new(clock_rate: u32, silence: Duration) -> DtmfReceiver {
        DtmfReceiver {
            clock_rate,
            current: None,
            done: VecDeque::new(),
            silence,
        }
    }

    fn finish(&mut self, ended: bool) -> Option<DtmfDigit> {
        let r = self.current.take()?;
        if self.done.len() == DONE_MEMORY {
            self.done.pop_front();
        }
        self.done.push_back(r.timestamp);
        Some(DtmfDigit {
            digit: digit_of(r.event)?,
            duration: Duration::from_micros(
                u64::from(r.duration) * 1_000_000 / u64::from(self.clock_rate.max(1)),
            ),
            ended,
        })
    }

    /// One telephone-event packet with RTP timestamp `timestamp`. Returns the digits
    /// it completes: the previous event when this one is new and the previous never
    /// ended, then this one when it is its end.
    pub fn on_packet(
        &mut self,
        timestamp: u32,
        payload: EventPayload,
        now: Instant,
    ) -> Vec<DtmfDigit> {
        let mut out = Vec::new();
        if self.done.contains(&timestamp) {
            return out;
        }
        match &mut self.current {
            Some(r) if r.timestamp == timestamp => {
                r.duration = r.duration.max(payload.duration);
                r.last_seen = now;
            }
            _ => {
                out.extend(self.finish(false));
                self.current = Some(Receiving {
                    timestamp,
                    event: payload.event,
                    duration: payload.duration,
                    last_seen: now,
                });
            }
        }
        if payload.end {
            out.extend(self.finish(true));
        }
        out
    }

    /// When an event without its end would be concluded.
    pub fn deadline(&self) -> Option<Instant> {
        self.current.as_ref().map(|r| r.last_seen + self.silence)
    }

    /// Concludes an event whose packets stopped without an end.
    pub fn on_timeout(&mut self, now: Instant) -> Option<DtmfDigit> {
        match self.deadline() {
            Some(d) if d <= now => self.finish(false),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TICK: Duration = Duration::from_millis(20);

    #[test]
    fn payload_round_trip_and_digits() {
        let p = EventPayload {
            event: 11,
            end: true,
            volume: 10,
            duration: 800,
        };
        assert_eq!(p.to_bytes(), [11, 0x8A, 0x03, 0x20]);
        assert_eq!(EventPayload::parse(&p.to_bytes()).unwrap(), p);
        assert_eq!(EventPayload::parse(&[1, 2]), Err(DtmfError::Short(2)));
        for (c, e) in [
            ('0', 0),
            ('9', 9),
            ('*', 10),
            ('#', 11),
            ('A', 12),
            ('d', 15),
        ] {
            assert_eq!(event_of(c), Ok(e));
            assert_eq!(digit_of(e), Some(c.to_ascii_uppercase()));
        }
        assert_eq!(event_of('x'), Err(DtmfError::NotADigit('X')));
        assert_eq!(digit_of(16), None);
    }

    #[test]
    fn a_digit_is_marked_then_ended_three_times() {
        let mut s = DtmfSender::new(
            Duration::from_millis(100),
            Duration::from_millis(40),
            8000,
            TICK,
        );
        s.queue("5#").unwrap();
        let mut packets = Vec::new();
        for tick in 0..30u32 {
            let ts = 1000 + tick * 160;
            packets.push(s.on_tick(ts, 160));
        }
        let first: Vec<_> = packets[..7].iter().map(|p| p.unwrap()).collect();
        assert!(first[0].marker && first[1..].iter().all(|p| !p.marker));
        assert!(
            first
                .iter()
                .all(|p| p.timestamp == 1000 && p.payload.event == 5)
        );
        let durations: Vec<u16> = first.iter().map(|p| p.payload.duration).collect();
        assert_eq!(durations, [160, 320, 480, 640, 800, 800, 800]);
        let ends: Vec<bool> = first.iter().map(|p| p.payload.end).collect();
        assert_eq!(ends, [false, false, false, false, true, true, true]);
        // Two ticks of pause, then `#` starting at its own timestamp.
        assert_eq!(packets[7], None);
        assert_eq!(packets[8], None);
        let hash = packets[9].unwrap();
        assert!(hash.marker);
        assert_eq!(hash.payload.event, 11);
        assert_eq!(hash.timestamp, 1000 + 9 * 160);
        assert!(packets[16..].iter().all(Option::is_none));
        assert!(!s.busy());
        assert!(s.queue("12x").is_err());
        assert!(!s.busy(), "nothing queued from a bad string");
    }

    #[test]
    fn the_three_end_packets_count_once() {
        let t0 = Instant::now();
        let mut r = DtmfReceiver::new(8000, Duration::from_millis(250));
        let mut got = Vec::new();
        for (i, (dur, end)) in [
            (160, false),
            (320, false),
            (800, true),
            (800, true),
            (800, true),
        ]
        .into_iter()
        .enumerate()
        {
            let now = t0 + TICK * i as u32;
            got.extend(r.on_packet(
                5000,
                EventPayload {
                    event: 1,
                    end,
                    volume: 10,
                    duration: dur,
                },
                now,
            ));
        }
        assert_eq!(
            got,
            [DtmfDigit {
                digit: '1',
                duration: Duration::from_millis(100),
                ended: true
            }]
        );
        assert_eq!(r.deadline(), None);
    }

    #[test]
    fn lost_end_packets_are_concluded_by_the_next_digit_or_silence() {
        let t0 = Instant::now();
        let mut r = DtmfReceiver::new(8000, Duration::from_millis(250));
        let p = |event, duration| EventPayload {
            event,
            end: false,
            volume: 10,
            duration,
        };
        assert!(r.on_packet(100, p(2, 160), t0).is_empty());
        // The next event starts: `2` is concluded with what was seen.
        let got = r.on_packet(2000, p(3, 160), t0 + TICK * 10);
        assert_eq!(
            got,
            [DtmfDigit {
                digit: '2',
                duration: Duration::from_millis(20),
                ended: false
            }]
        );
        // `3` never ends: silence concludes it, once.
        assert_eq!(r.on_timeout(t0 + TICK * 11), None);
        assert_eq!(
            r.deadline(),
            Some(t0 + TICK * 10 + Duration::from_millis(250))
        );
        let got = r.on_timeout(t0 + Duration::from_secs(1));
        assert_eq!(
            got,
            Some(DtmfDigit {
                digit: '3',
                duration: Duration::from_millis(20),
                ended: false
            })
        );
        assert_eq!(r.on_timeout(t0 + Duration::from_secs(2)), None);
        // A late end packet of `3` is not a new digit.
        assert!(
            r.on_packet(
                2000,
                EventPayload {
                    event: 3,
                    end: true,
                    volume: 10,
                    duration: 800
                },
                t0
            )
            .is_empty()
        );
    }

    #[test]
    fn sender_and_receiver_agree_when_end_packets_are_lost() {
        let t0 = Instant::now();
        let mut s = DtmfSender::new(
            Duration::from_millis(80),
            Duration::from_millis(40),
            8000,
            TICK,
        );
        s.queue("1234#").unwrap();
        let mut r = DtmfReceiver::new(8000, Duration::from_millis(250));
        let mut digits = String::new();
        let mut ends_seen = 0;
        for tick in 0..200u32 {
            let now = t0 + TICK * tick;
            if let Some(p) = s.on_tick(tick * 160, 160) {
                // Lose the first two end packets of every digit.
                if p.payload.end {
                    ends_seen += 1;
                    if ends_seen % 3 != 0 {
                        continue;
                    }
                }
                digits.extend(
                    r.on_packet(p.timestamp, p.payload, now)
                        .iter()
                        .map(|d| d.digit),
                );
            }
            digits.extend(r.on_timeout(now).map(|d| d.digit));
        }
        assert_eq!(digits, "1234#");
    }
}
