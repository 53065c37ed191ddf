//! Transaction timers (RFC 3261 §17, table 4; RFC 6026).

use std::time::Duration;

/// The timer base values; everything else derives from them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TimerConfig {
    /// T1: the round-trip estimate (500 ms).
    pub t1: Duration,
    /// T2: the longest retransmission interval of non-INVITE requests and INVITE
    /// responses (4 s).
    pub t2: Duration,
    /// T4: how long a message may stay in the network (5 s).
    pub t4: Duration,
    /// How long a client INVITE transaction waits in Proceeding (after a 1xx) for a
    /// final response before it gives up; RFC 3261 has no timer here, but a
    /// transaction must end (the UA then cancels the call).
    pub invite_proceeding_timeout: Duration,
}

impl Default for TimerConfig {
    fn default() -> TimerConfig {
        TimerConfig {
            t1: Duration::from_millis(500),
            t2: Duration::from_secs(4),
            t4: Duration::from_secs(5),
            invite_proceeding_timeout: Duration::from_secs(180),
        }
    }
}

impl TimerConfig {
    /// 64·T1: timers B, F, H, J (unreliable), L and M.
    pub fn t1x64(&self) -> Duration {
        self.t1 * 64
    }

    /// Timer D: how long a client INVITE transaction absorbs retransmitted final
    /// responses (at least 32 s on unreliable transports, 0 on reliable ones).
    pub fn timer_d(&self, reliable: bool) -> Duration {
        if reliable {
            Duration::ZERO
        } else {
            Duration::from_secs(32).max(self.t1x64() / 2)
        }
    }

    /// Timers I and K: T4 on unreliable transports, 0 on reliable ones.
    pub fn t4_unless_reliable(&self, reliable: bool) -> Duration {
        if reliable { Duration::ZERO } else { self.t4 }
    }

    /// Timer J: 64·T1 on unreliable transports, 0 on reliable ones.
    pub fn timer_j(&self, reliable: bool) -> Duration {
        if reliable {
            Duration::ZERO
        } else {
            self.t1x64()
        }
    }
}
