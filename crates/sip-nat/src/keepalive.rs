//! Keep-alive scheduling (RFC 5626 §3.5, §4.4.1) as a sans-IO timer.
//!
//! Streams send a double CRLF ping and expect a single CRLF pong; UDP flows send a
//! double CRLF (which servers ignore) or a STUN binding request, whose response
//! doubles as a pong and tells the public address. Each interval is drawn between
//! 80% and 100% of the configured one, so many clients do not ping in step. A ping
//! unanswered for the pong timeout fails the flow.
//!
//! It is driven like every machine of the stack (sip-client's `Machine` contract):
//! `handle_input` (a pong), `poll_output` (what to do), `poll_timeout` and
//! `handle_timeout`. Its jitter comes from a generator seeded at creation from the
//! injected one.

use std::time::{Duration, Instant};

use std::collections::VecDeque;

use sip_message::{Random, SeededRandom};

/// What the keep-alive sends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeepAliveKind {
    /// CRLFCRLF on a TCP or TLS connection; the answer is a CRLF pong.
    StreamCrlf,
    /// CRLFCRLF in a UDP datagram; no answer is expected.
    UdpCrlf,
    /// A STUN binding request on UDP; the answer is the binding response.
    Stun,
}

/// What the timer asks the driver to do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeepAliveAction {
    /// Send a ping now.
    SendPing,
    /// No pong came in time: the flow is dead (re-register over a new one).
    FlowFailed,
}

/// What a keep-alive is told.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeepAliveInput {
    /// A pong (CRLF, or the STUN response) arrived.
    Pong,
}

/// The keep-alive timer of one flow.
#[derive(Debug)]
pub struct KeepAlive {
    kind: KeepAliveKind,
    interval: Duration,
    pong_timeout: Duration,
    next_ping: Instant,
    awaiting_pong_until: Option<Instant>,
    rng: SeededRandom,
    out: VecDeque<KeepAliveAction>,
}

impl KeepAlive {
    /// RFC 5626 §4.4.1's defaults: 120 s on streams, 25 s on UDP (within common NAT
    /// binding lifetimes); pongs are awaited 10 s.
    pub fn default_interval(kind: KeepAliveKind) -> Duration {
        match kind {
            KeepAliveKind::StreamCrlf => Duration::from_secs(120),
            KeepAliveKind::UdpCrlf | KeepAliveKind::Stun => Duration::from_secs(25),
        }
    }

    /// A timer whose first ping is one (randomized) interval after `now`; `rng`
    /// seeds its jitter.
    pub fn new(
        kind: KeepAliveKind,
        interval: Duration,
        now: Instant,
        rng: &mut dyn Random,
    ) -> KeepAlive {
        let mut k = KeepAlive {
            kind,
            interval,
            pong_timeout: Duration::from_secs(10),
            next_ping: now,
            awaiting_pong_until: None,
            rng: SeededRandom::new(rng.next_u64()),
            out: VecDeque::new(),
        };
        k.next_ping = now + k.jittered();
        k
    }

    /// Sets how long a pong is awaited.
    pub fn with_pong_timeout(mut self, timeout: Duration) -> KeepAlive {
        self.pong_timeout = timeout;
        self
    }

    /// The kind of ping.
    pub fn kind(&self) -> KeepAliveKind {
        self.kind
    }

    /// The bytes of a CRLF ping (for STUN, build a binding request instead).
    pub fn ping_bytes(&self) -> &'static [u8] {
        b"\r\n\r\n"
    }

    fn jittered(&mut self) -> Duration {
        // 80% to 100% of the interval.
        let frac = 0.8 + 0.2 * (self.rng.next_u64() as f64 / u64::MAX as f64);
        self.interval.mul_f64(frac)
    }

    /// The next instant the timer needs attention.
    pub fn poll_timeout(&self) -> Option<Instant> {
        Some(match self.awaiting_pong_until {
            Some(t) => t.min(self.next_ping),
            None => self.next_ping,
        })
    }

    /// Runs what is due by `now`: a ping to send, or a flow that failed.
    pub fn handle_timeout(&mut self, now: Instant) {
        if let Some(deadline) = self.awaiting_pong_until
            && now >= deadline
        {
            self.awaiting_pong_until = None;
            self.out.push_back(KeepAliveAction::FlowFailed);
            return;
        }
        if now >= self.next_ping {
            self.next_ping = now + self.jittered();
            if self.kind != KeepAliveKind::UdpCrlf && self.awaiting_pong_until.is_none() {
                self.awaiting_pong_until = Some(now + self.pong_timeout);
            }
            self.out.push_back(KeepAliveAction::SendPing);
        }
    }

    /// One input: a pong arrived.
    pub fn handle_input(&mut self, input: KeepAliveInput, _now: Instant) {
        match input {
            KeepAliveInput::Pong => self.awaiting_pong_until = None,
        }
    }

    /// The next thing to do, drained after every input and timeout.
    pub fn poll_output(&mut self) -> Option<KeepAliveAction> {
        self.out.pop_front()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Runs the timer at `now` and takes what it asks for.
    fn step(k: &mut KeepAlive, now: Instant) -> Option<KeepAliveAction> {
        k.handle_timeout(now);
        let out = k.poll_output();
        assert_eq!(k.poll_output(), None, "one action per deadline");
        out
    }

    #[test]
    fn pings_on_schedule_and_fails_without_pong() {
        let t0 = Instant::now();
        let mut rng = SeededRandom::new(3);
        let mut k = KeepAlive::new(
            KeepAliveKind::StreamCrlf,
            Duration::from_secs(100),
            t0,
            &mut rng,
        );
        let first = k.poll_timeout().unwrap();
        assert!(first >= t0 + Duration::from_secs(80) && first <= t0 + Duration::from_secs(100));
        assert_eq!(step(&mut k, first - Duration::from_millis(1)), None);
        assert_eq!(step(&mut k, first), Some(KeepAliveAction::SendPing));
        // The pong deadline comes before the next ping.
        assert_eq!(k.poll_timeout(), Some(first + Duration::from_secs(10)));
        k.handle_input(KeepAliveInput::Pong, first);
        let next = k.poll_timeout().unwrap();
        assert!(next >= first + Duration::from_secs(80));
        assert_eq!(step(&mut k, next), Some(KeepAliveAction::SendPing));
        assert_eq!(
            step(&mut k, next + Duration::from_secs(10)),
            Some(KeepAliveAction::FlowFailed)
        );
    }

    #[test]
    fn udp_crlf_expects_no_pong_and_intervals_are_jittered() {
        let t0 = Instant::now();
        let mut rng = SeededRandom::new(4);
        let mut k = KeepAlive::new(
            KeepAliveKind::UdpCrlf,
            KeepAlive::default_interval(KeepAliveKind::UdpCrlf),
            t0,
            &mut rng,
        );
        let mut now = t0;
        let mut gaps = Vec::new();
        for _ in 0..50 {
            let t = k.poll_timeout().unwrap();
            gaps.push(t - now);
            now = t;
            assert_eq!(step(&mut k, now), Some(KeepAliveAction::SendPing));
        }
        assert!(
            gaps.iter()
                .all(|g| *g >= Duration::from_secs(20) && *g <= Duration::from_secs(25))
        );
        assert!(gaps.windows(2).any(|w| w[0] != w[1]));
    }
}
