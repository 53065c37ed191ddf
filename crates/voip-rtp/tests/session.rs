//! Two RTP sessions joined by a simulated network (loss, delay, reordering, an
//! address translator), driven only through the sans-IO contract with simulated time.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use voip_rtp::codec::{Pcma, Pcmu};
use voip_rtp::packet::RtpPacket;
use voip_rtp::rtcp::{RtcpPacket, parse_compound};
use voip_rtp::tone::{measure, sine, trim_silence};
use voip_rtp::{Channel, MediaParams, RtpConfig, RtpEvent, RtpInput, RtpOutput, RtpSession};

fn addr(s: &str) -> SocketAddr {
    s.parse().unwrap()
}

fn config(ssrc: u32, seed: u64) -> RtpConfig {
    RtpConfig {
        ssrc,
        sequence: 65_500,
        timestamp: u32::MAX - 2000,
        seed,
        ..RtpConfig::fixed("test@example")
    }
}

fn params(remote: &str) -> MediaParams {
    let mut p = MediaParams::new(
        Some(addr(remote)),
        0,
        Box::new(Pcmu),
        Duration::from_millis(20),
    );
    p.telephone_event = Some(101);
    p
}

/// A SplitMix64 for the network's dice.
struct Dice(u64);
impl Dice {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn percent(&mut self) -> u64 {
        self.next() % 100
    }
}

/// One end: the session, its own address, what it saw.
struct End {
    session: RtpSession,
    rtp: SocketAddr,
    /// The address its packets appear to come from (an address translator in between).
    seen_as: SocketAddr,
    audio: Vec<i16>,
    digits: String,
    events: Vec<RtpEvent>,
    sent: Vec<(Instant, Channel, SocketAddr, bytes::Bytes)>,
}

impl End {
    fn new(session: RtpSession, rtp: &str) -> End {
        End {
            session,
            rtp: addr(rtp),
            seen_as: addr(rtp),
            audio: Vec::new(),
            digits: String::new(),
            events: Vec::new(),
            sent: Vec::new(),
        }
    }

    fn rtcp(&self) -> SocketAddr {
        SocketAddr::new(self.rtp.ip(), self.rtp.port() + 1)
    }
}

/// Two ends and the network between them.
struct Net {
    ends: [End; 2],
    now: Instant,
    dice: Dice,
    loss_percent: u64,
    /// Delay 20 ms plus up to this much jitter (which reorders).
    jitter_ms: u64,
    in_flight: BTreeMap<(Instant, u64), (usize, Channel, SocketAddr, bytes::Bytes)>,
    counter: u64,
}

impl Net {
    fn new(a: End, b: End, now: Instant, seed: u64) -> Net {
        Net {
            ends: [a, b],
            now,
            dice: Dice(seed),
            loss_percent: 0,
            jitter_ms: 0,
            in_flight: BTreeMap::new(),
            counter: 0,
        }
    }

    fn drain(&mut self, i: usize) {
        while let Some(out) = self.ends[i].session.poll_output() {
            match out {
                RtpOutput::Transmit(t) => {
                    let from = match t.channel {
                        Channel::Rtp => self.ends[i].seen_as,
                        Channel::Rtcp => SocketAddr::new(
                            self.ends[i].seen_as.ip(),
                            self.ends[i].seen_as.port() + 1,
                        ),
                    };
                    self.ends[i]
                        .sent
                        .push((self.now, t.channel, t.to, t.bytes.clone()));
                    let other = 1 - i;
                    let reaches = t.to == self.ends[other].rtp || t.to == self.ends[other].rtcp();
                    if !reaches || self.dice.percent() < self.loss_percent {
                        continue;
                    }
                    let jitter = if self.jitter_ms > 0 {
                        self.dice.next() % (self.jitter_ms * 1000)
                    } else {
                        0
                    };
                    let at = self.now + Duration::from_millis(20) + Duration::from_micros(jitter);
                    let channel = if t.to == self.ends[other].rtp {
                        Channel::Rtp
                    } else {
                        Channel::Rtcp
                    };
                    self.counter += 1;
                    self.in_flight
                        .insert((at, self.counter), (other, channel, from, t.bytes));
                }
                RtpOutput::Event(RtpEvent::Audio(f)) => self.ends[i].audio.extend(f.samples),
                RtpOutput::Event(RtpEvent::Dtmf(d)) => self.ends[i].digits.push(d.digit),
                RtpOutput::Event(e) => self.ends[i].events.push(e),
            }
        }
    }

    /// Runs until `until`, waking each session up to `late_us` late (deterministic dice).
    fn run(&mut self, until: Instant, late_us: u64) {
        loop {
            self.drain(0);
            self.drain(1);
            let mut next = until;
            for e in &self.ends {
                if let Some(t) = e.session.poll_timeout() {
                    next = next.min(t);
                }
            }
            if let Some((&(t, _), _)) = self.in_flight.first_key_value() {
                next = next.min(t);
            }
            if next >= until {
                self.now = until;
                return;
            }
            let late = if late_us > 0 {
                Duration::from_micros(self.dice.next() % late_us)
            } else {
                Duration::ZERO
            };
            self.now = next.max(self.now);
            // Deliver what is due.
            while let Some((&(t, c), _)) = self.in_flight.first_key_value() {
                if t > self.now {
                    break;
                }
                let (to, channel, from, bytes) = self.in_flight.remove(&(t, c)).unwrap();
                self.ends[to].session.handle_input(
                    RtpInput::Datagram {
                        channel,
                        from,
                        bytes,
                    },
                    self.now,
                );
            }
            for i in 0..2 {
                if self.ends[i]
                    .session
                    .poll_timeout()
                    .is_some_and(|t| t <= self.now)
                {
                    // The timer fires a little late, as a real one does.
                    self.ends[i].session.handle_timeout(self.now + late);
                }
            }
        }
    }
}

fn pair(seed: u64) -> Net {
    let now = Instant::now();
    let a = RtpSession::new(config(0xA, seed), params("10.0.0.2:5000"), now);
    let b = RtpSession::new(config(0xB, seed + 1), params("10.0.0.1:4000"), now);
    Net::new(
        End::new(a, "10.0.0.1:4000"),
        End::new(b, "10.0.0.2:5000"),
        now,
        seed,
    )
}

fn rtp_sent(end: &End) -> Vec<(Instant, RtpPacket)> {
    end.sent
        .iter()
        .filter(|(_, c, ..)| *c == Channel::Rtp)
        .map(|(t, _, _, b)| (*t, RtpPacket::parse(b.clone()).unwrap()))
        .collect()
}

#[test]
fn pacing_holds_20_ms_over_60_s_despite_late_wake_ups() {
    let mut net = pair(1);
    let start = net.now;
    // Wake-ups up to 0.9 ms late, as a loaded machine's timers are.
    net.run(start + Duration::from_secs(60), 900);
    let sent = rtp_sent(&net.ends[0]);
    assert_eq!(sent.len(), 3000, "one packet per 20 ms");
    for (n, (at, p)) in sent.iter().enumerate() {
        let due = start + Duration::from_millis(20) * n as u32;
        let off = at.duration_since(due);
        assert!(
            off < Duration::from_millis(1),
            "packet {n} sent {off:?} after its time"
        );
        assert_eq!(p.sequence, 65_500u16.wrapping_add(n as u16));
        assert_eq!(p.timestamp, (u32::MAX - 2000).wrapping_add(160 * n as u32));
        assert_eq!(p.payload.len(), 160);
    }
    for w in sent.windows(2) {
        let gap = w[1].0 - w[0].0;
        assert!(
            gap > Duration::from_millis(19) && gap < Duration::from_millis(21),
            "gap {gap:?}"
        );
    }
    assert!(sent[0].1.marker && sent[1..].iter().all(|(_, p)| !p.marker));
}

#[test]
fn a_long_stall_is_skipped_not_burst() {
    let mut net = pair(2);
    let start = net.now;
    net.run(start + Duration::from_millis(100), 0);
    // The process sleeps for a second: at most five packets go out at once, and the
    // timestamps say how much time passed.
    let before = rtp_sent(&net.ends[0]).len();
    net.ends[0]
        .session
        .handle_timeout(start + Duration::from_millis(1100));
    net.drain(0);
    let sent = rtp_sent(&net.ends[0]);
    assert_eq!(sent.len() - before, 5);
    let last = &sent.last().unwrap().1;
    assert_eq!(last.timestamp, (u32::MAX - 2000).wrapping_add(8 * 1100));
}

#[test]
fn a_tone_crosses_a_lossy_jittery_network() {
    let mut net = pair(3);
    net.loss_percent = 5;
    net.jitter_ms = 30;
    let start = net.now;
    let tone = sine(1000.0, -10.0, 8000, 0, 8000 * 3);
    let mut written = 0;
    let mut t = start;
    while written < tone.len() {
        written += net.ends[1].session.write_audio(&tone[written..]);
        t += Duration::from_millis(200);
        net.run(t, 500);
    }
    while net.ends[1].session.queued_audio() > Duration::ZERO {
        t += Duration::from_millis(200);
        net.run(t, 500);
    }
    net.run(t + Duration::from_secs(1), 500);
    let heard = trim_silence(&net.ends[0].audio, 200).to_vec();
    let m = measure(&heard, 8000);
    assert!((m.freq_hz - 1000.0).abs() < 5.0, "frequency {}", m.freq_hz);
    assert!((m.level_dbfs + 10.0).abs() < 1.5, "level {}", m.level_dbfs);
    let stats = net.ends[0].session.stats();
    assert!(stats.received_packets > 100);
    assert!(stats.lost > 0, "5% loss seen: {stats:?}");
    assert!(stats.concealed_samples > 0);
    assert!(
        stats.jitter > Duration::ZERO && stats.jitter < Duration::from_millis(30),
        "{stats:?}"
    );
    // The tone's length survives: 3 s of it, give or take concealment at the ends.
    assert!(
        heard.len() >= 8000 * 29 / 10 && heard.len() <= 8000 * 31 / 10,
        "{} samples",
        heard.len()
    );
}

#[test]
fn dtmf_both_ways_with_end_packets_lost() {
    let mut net = pair(4);
    net.loss_percent = 15;
    let start = net.now;
    net.ends[0].session.send_dtmf("1234#").unwrap();
    net.ends[1].session.send_dtmf("*0A").unwrap();
    net.run(start + Duration::from_secs(5), 300);
    assert_eq!(net.ends[1].digits, "1234#");
    assert_eq!(net.ends[0].digits, "*0A");
    assert!(!net.ends[0].session.dtmf_pending());
    // What went on the wire: event packets on payload type 101, the first marked.
    let events: Vec<RtpPacket> = rtp_sent(&net.ends[0])
        .into_iter()
        .map(|(_, p)| p)
        .filter(|p| p.payload_type == 101)
        .collect();
    assert_eq!(events.iter().filter(|p| p.marker).count(), 5);
    assert_eq!(
        events.iter().filter(|p| p.payload[1] & 0x80 != 0).count(),
        15,
        "three ends per digit"
    );
    assert_eq!(net.ends[0].session.stats().dtmf_sent, 5);
}

#[test]
fn no_telephone_event_no_rfc_4733() {
    let now = Instant::now();
    let mut s = RtpSession::new(
        config(1, 1),
        MediaParams::new(None, 8, Box::new(Pcma), Duration::from_millis(20)),
        now,
    );
    assert_eq!(
        s.send_dtmf("1"),
        Err(voip_rtp::dtmf::DtmfError::NotNegotiated)
    );
}

#[test]
fn symmetric_rtp_latches_onto_the_translated_source() {
    let mut net = pair(5);
    // B is behind an address translator: its SDP says 10.0.0.2:5000, its packets come
    // from 203.0.113.9:40000, and only that address reaches it.
    net.ends[1].seen_as = addr("203.0.113.9:40000");
    net.ends[1].rtp = addr("203.0.113.9:40000");
    let start = net.now;
    net.run(start + Duration::from_secs(1), 0);
    let a_sent = rtp_sent(&net.ends[0]);
    // A first sends to the SDP address, then to where B's packets come from.
    assert_eq!(net.ends[0].sent[0].2, addr("10.0.0.2:5000"));
    let to_latched = a_sent
        .iter()
        .filter(|(t, _)| *t > start + Duration::from_millis(100))
        .count();
    assert!(to_latched > 0);
    assert!(
        net.ends[0]
            .sent
            .iter()
            .filter(|(t, c, ..)| *c == Channel::Rtp && *t > start + Duration::from_millis(100))
            .all(|(_, _, to, _)| *to == addr("203.0.113.9:40000"))
    );
    assert!(net.ends[0].events.contains(&RtpEvent::Latched {
        channel: Channel::Rtp,
        to: addr("203.0.113.9:40000")
    }));
    // And B hears A.
    assert!(net.ends[1].session.stats().received_packets > 30);
}

#[test]
fn rtcp_reports_about_every_5_s_and_bye_at_the_end() {
    let mut net = pair(6);
    net.loss_percent = 10;
    let start = net.now;
    net.run(start + Duration::from_secs(30), 0);
    let reports: Vec<(Instant, Vec<RtcpPacket>)> = net.ends[0]
        .sent
        .iter()
        .filter(|(_, c, ..)| *c == Channel::Rtcp)
        .map(|(t, _, to, b)| {
            assert_eq!(*to, addr("10.0.0.2:5001"));
            (*t, parse_compound(b).unwrap())
        })
        .collect();
    assert!(
        (4..=9).contains(&reports.len()),
        "{} reports in 30 s",
        reports.len()
    );
    for w in reports.windows(2) {
        let gap = w[1].0 - w[0].0;
        assert!(
            gap >= Duration::from_millis(2500) && gap <= Duration::from_millis(7500),
            "gap {gap:?}"
        );
    }
    // A sends, so it reports as a sender, with a block about B and its CNAME.
    let (_, last) = reports.last().unwrap();
    match &last[0] {
        RtcpPacket::SenderReport {
            ssrc: 0xA,
            info,
            reports,
        } => {
            assert!(info.packet_count > 1000);
            assert_eq!(info.octet_count, info.packet_count * 160);
            assert_eq!(reports[0].ssrc, 0xB);
            assert!(reports[0].cumulative_lost > 0);
            // B's SRs reached A, so A echoes their time.
            assert_ne!(reports[0].last_sr, 0);
        }
        other => panic!("{other:?}"),
    }
    assert!(
        matches!(&last[1], RtcpPacket::SourceDescription { cnames } if &cnames[0].1[..] == b"test@example")
    );
    // B learned how much of its stream A lost.
    assert!(net.ends[1].session.stats().remote_fraction_lost > 0);
    net.loss_percent = 0;
    net.ends[0].session.close(net.now);
    assert_eq!(net.ends[0].session.poll_timeout(), None);
    net.run(net.now + Duration::from_secs(1), 0);
    assert!(
        net.ends[1]
            .events
            .iter()
            .any(|e| matches!(e, RtpEvent::RemoteBye { .. }))
    );
}

#[test]
fn hold_stops_sending_and_resume_restarts_it() {
    let mut net = pair(7);
    let start = net.now;
    net.run(start + Duration::from_secs(1), 0);
    let mut held = params("10.0.0.2:5000");
    held.send = false;
    net.ends[0].session.update(held, net.now);
    let before = rtp_sent(&net.ends[0]).len();
    net.run(start + Duration::from_secs(2), 0);
    assert_eq!(rtp_sent(&net.ends[0]).len(), before, "nothing sent on hold");
    net.ends[0].session.update(params("10.0.0.2:5000"), net.now);
    net.run(start + Duration::from_secs(3), 0);
    let sent = rtp_sent(&net.ends[0]);
    assert!(sent.len() - before >= 49);
    // The first packet after the hold is marked, and its timestamp tells of the pause.
    let resumed = &sent[before].1;
    assert!(resumed.marker);
    assert_eq!(
        resumed.timestamp.wrapping_sub(sent[before - 1].1.timestamp),
        8000 + 160
    );
}

#[test]
fn a_codec_change_is_heard() {
    let mut net = pair(8);
    let start = net.now;
    let tone = sine(440.0, -6.0, 8000, 0, 8000);
    net.ends[0].session.write_audio(&tone);
    net.run(start + Duration::from_millis(1500), 0);
    // Both switch to PCMA on payload type 8.
    for (i, remote) in [(0, "10.0.0.2:5000"), (1, "10.0.0.1:4000")] {
        let mut p = MediaParams::new(
            Some(addr(remote)),
            8,
            Box::new(Pcma),
            Duration::from_millis(20),
        );
        p.telephone_event = Some(101);
        net.ends[i].session.update(p, net.now);
    }
    net.ends[1].audio.clear();
    let tone = sine(440.0, -6.0, 8000, 8000, 8000);
    net.ends[0].session.write_audio(&tone);
    net.run(net.now + Duration::from_millis(1500), 0);
    assert!(rtp_sent(&net.ends[0]).last().unwrap().1.payload_type == 8);
    let m = measure(trim_silence(&net.ends[1].audio, 200), 8000);
    assert!(
        (m.freq_hz - 440.0).abs() < 3.0 && (m.level_dbfs + 6.0).abs() < 1.0,
        "{m:?}"
    );
}

#[test]
fn the_send_queue_is_bounded() {
    let now = Instant::now();
    let mut s = RtpSession::new(config(1, 1), params("10.0.0.2:5000"), now);
    let taken = s.write_audio(&vec![1000; 8000 * 10]);
    assert_eq!(taken, 16_000, "two seconds");
    assert_eq!(s.queued_audio(), Duration::from_secs(2));
    assert_eq!(s.write_audio(&[1; 10]), 0);
}
