//! Session timers (RFC 4028): the side chosen as refresher sends a re-INVITE every
//! half interval; the other side, hearing nothing, ends the call with BYE shortly
//! before the interval runs out. So a call whose peer vanished (a crash, a lost
//! network) ends by itself. Requests carry `Session-Expires` and `Min-SE`; an
//! interval below our minimum gets 422 with our `Min-SE`, and a 422 to ours raises
//! the interval and tries again. An interval in a response is taken as at least
//! our `Min-SE` (§7.4), and no interval longer than a day is taken from the peer.

use std::time::{Duration, Instant};

use sip_message::headers::{Refresher, SessionExpires};
use sip_message::{HeaderName, Method, Request, Response};

use super::{EndReason, InviteSession};
use crate::context::Ctx;

/// The longest session interval we take from the peer, seconds (a day); its
/// `Session-Expires` above it is answered and used as this.
pub(crate) const MAX_SESSION_INTERVAL: u32 = 86_400;

/// RFC 4028's smallest `Min-SE`, seconds.
const LOWEST_MIN_SE: u32 = 90;

/// The running session timer of a call.
#[derive(Clone, Copy, Debug)]
pub(crate) struct SessionTimer {
    /// The session interval agreed, seconds.
    interval: u32,
    /// Whether we send the refreshes.
    we_refresh: bool,
    /// When we refresh, or (not the refresher) when we give up.
    due: Instant,
}

impl SessionTimer {
    pub(crate) fn deadline(&self) -> Instant {
        self.due
    }
}

/// The `Min-SE` of a message, seconds.
fn min_se_of(m: &sip_message::MessageParts) -> Option<u32> {
    m.header(HeaderName::MinSe)
        .and_then(|v| v.split(';').next())
        .and_then(|v| v.trim().parse().ok())
}

/// What we put in our 2xx to a request: the header lines, the interval, and
/// whether we are the refresher.
pub(super) struct TimerAnswer {
    pub(super) headers: Vec<(HeaderName, String)>,
    interval: u32,
    we_refresh: bool,
}

impl InviteSession {
    /// `Session-Expires` and `Min-SE` for a request we send (the INVITE, a re-INVITE,
    /// an UPDATE): the interval agreed (or the one we ask for), with
    /// `refresher=uac` when we are the refresher.
    pub(super) fn timer_request_headers(&self, ctx: &Ctx<'_>) -> Vec<(String, String)> {
        let Some(config) = ctx.config.session_timer else {
            return Vec::new();
        };
        let floor = self.se_floor.max(config.min_se);
        let (interval, refresher) = match self.session_timer {
            Some(t) => (
                t.interval.max(floor),
                t.we_refresh.then_some(";refresher=uac"),
            ),
            None => (config.interval.max(floor), None),
        };
        vec![
            (
                "Session-Expires".to_string(),
                format!("{interval}{}", refresher.unwrap_or_default()),
            ),
            ("Min-SE".to_string(), floor.to_string()),
        ]
    }

    /// Checks a request's `Session-Expires` against our minimum: `Err(min_se)` when
    /// it is shorter (the request gets 422 with `Min-SE`, §8.1).
    pub(super) fn timer_check(request: &Request, ctx: &Ctx<'_>) -> Result<(), u32> {
        let Some(config) = ctx.config.session_timer else {
            return Ok(());
        };
        match request
            .typed::<SessionExpires<'_>>(HeaderName::SessionExpires)
            .and_then(Result::ok)
        {
            Some(se) if se.seconds < config.min_se => Err(config.min_se),
            _ => Ok(()),
        }
    }

    /// The session timer our 2xx to `request` sets up (§9): the interval it asked for
    /// (or ours), and the refresher it chose, else the UAC when it supports timers,
    /// else us; `Require: timer` when the UAC refreshes.
    pub(super) fn timer_answer(request: &Request, ctx: &Ctx<'_>) -> Option<TimerAnswer> {
        let config = ctx.config.session_timer?;
        let asked = request
            .typed::<SessionExpires<'_>>(HeaderName::SessionExpires)
            .and_then(Result::ok);
        let uac_supports = request
            .header_values(HeaderName::Supported)
            .flat_map(|v| v.split(','))
            .any(|t| t.trim().eq_ignore_ascii_case("timer"));
        let (interval, refresher) = match asked {
            Some(se) => (
                se.seconds.min(MAX_SESSION_INTERVAL),
                se.refresher().unwrap_or(if uac_supports {
                    Refresher::Uac
                } else {
                    Refresher::Uas
                }),
            ),
            None => (config.interval, Refresher::Uas),
        };
        let name = if refresher == Refresher::Uac {
            "uac"
        } else {
            "uas"
        };
        let mut headers = vec![(
            HeaderName::SessionExpires,
            format!("{interval};refresher={name}"),
        )];
        if refresher == Refresher::Uac {
            headers.push((HeaderName::Require, "timer".to_string()));
        }
        Some(TimerAnswer {
            headers,
            interval,
            we_refresh: refresher == Refresher::Uas,
        })
    }

    /// Starts (or starts again) the timer our 2xx set up.
    pub(super) fn timer_answered(&mut self, answer: &TimerAnswer, now: Instant) {
        self.start_timer(answer.interval, answer.we_refresh, now);
    }

    /// Starts (or stops) the timer a 2xx to our request sets up (§7.2): its
    /// `Session-Expires` says the interval (taken as at least our `Min-SE` and the
    /// peer's last one, §7.4, at most [`MAX_SESSION_INTERVAL`]) and who refreshes.
    /// Without one, a peer that supports timers turned ours off; a peer that knows
    /// nothing of them (no `Supported: timer`) leaves us refreshing as we were, so
    /// that a call with it still ends when it vanishes (as PJSIP does).
    pub(super) fn timer_from_response(&mut self, response: &Response, ctx: &Ctx<'_>, now: Instant) {
        let se = response
            .typed::<SessionExpires<'_>>(HeaderName::SessionExpires)
            .and_then(Result::ok);
        let peer_supports = response
            .header_values(HeaderName::Supported)
            .flat_map(|v| v.split(','))
            .any(|t| t.trim().eq_ignore_ascii_case("timer"));
        match (se, self.session_timer) {
            (Some(se), _) => {
                let we_refresh = se.refresher() != Some(Refresher::Uas);
                let floor = ctx
                    .config
                    .session_timer
                    .map_or(LOWEST_MIN_SE, |c| c.min_se)
                    .max(self.se_floor)
                    .min(MAX_SESSION_INTERVAL);
                let interval = se.seconds.clamp(floor, MAX_SESSION_INTERVAL);
                self.start_timer(interval, we_refresh, now);
            }
            (None, Some(t)) if t.we_refresh && !peer_supports => {
                self.start_timer(t.interval, true, now);
            }
            (None, _) => self.session_timer = None,
        }
    }

    fn start_timer(&mut self, interval: u32, we_refresh: bool, now: Instant) {
        let interval = interval.min(MAX_SESSION_INTERVAL);
        let secs = u64::from(interval.max(1));
        let wait = if we_refresh {
            Duration::from_secs(secs) / 2
        } else {
            // §10: BYE before the session expires at the peer's end too.
            Duration::from_secs(secs - (secs / 3).min(32))
        };
        self.session_timer = Some(SessionTimer {
            interval,
            we_refresh,
            due: now + wait,
        });
    }

    /// A 422 to our request: its `Min-SE` becomes our floor; false when it gives no
    /// higher one (the request then failed for good).
    pub(super) fn timer_too_small(&mut self, response: &Response) -> bool {
        match min_se_of(response.parts()) {
            Some(m) if m > self.se_floor => {
                self.se_floor = m;
                true
            }
            _ => false,
        }
    }

    /// The refresh is due (we send a re-INVITE), or the session expired (BYE).
    pub(super) fn session_timer_timeout(&mut self, ctx: &mut Ctx<'_>, now: Instant) {
        let Some(t) = self.session_timer else {
            return;
        };
        if t.due > now {
            return;
        }
        if !t.we_refresh {
            self.session_timer = None;
            tracing::debug!(call = ?self.id, "the session expired without a refresh");
            let _ = self.send_bye(EndReason::SessionExpired, ctx, now);
            return;
        }
        if self.send_offer(Method::Invite, ctx, now).is_err() {
            // An offer is under way (glare, a hold): try again in a moment.
            if let Some(t) = self.session_timer.as_mut() {
                t.due = now + Duration::from_secs(1);
            }
        } else if let Some(t) = self.session_timer.as_mut() {
            // Until the refresh is answered, the session runs on its old interval.
            t.due = now + Duration::from_secs(u64::from(t.interval.max(2)) / 2);
        }
    }
}
