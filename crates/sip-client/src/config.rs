//! How an [`crate::Endpoint`] behaves as a UA.

use std::time::Duration;

use sip_auth::AuthPolicy;
use sip_message::Method;
use sip_message::offer_answer::{Codec, default_codecs};

use crate::timers::TimerConfig;
use crate::transaction::UDP_SIZE_THRESHOLD;

/// How the endpoint behaves as a UA.
#[derive(Clone, Debug)]
pub struct EndpointConfig {
    /// Transaction timers.
    pub timers: TimerConfig,
    /// What the digest client may answer.
    pub auth_policy: AuthPolicy,
    /// The User-Agent (requests) and Server (responses) header, if any.
    pub user_agent: Option<String>,
    /// The methods the application takes outside calls, delivered as
    /// [`crate::Event::IncomingRequest`] (MESSAGE, NOTIFY, INFO...). INVITE, ACK,
    /// CANCEL, BYE, UPDATE and OPTIONS are handled by the endpoint and its calls;
    /// other methods get 405 (known) or 501 (unknown).
    pub methods: Vec<Method>,
    /// The option tags we support (Supported; Require is checked against it):
    /// `100rel` (RFC 3262) by default; `timer` is added when session timers are on.
    pub supported: Vec<String>,
    /// The bodies we accept (Accept).
    pub accept: Vec<String>,
    /// UDP requests larger than this go over TCP (RFC 3261 §18.1.1); `None` never.
    pub udp_size_threshold: Option<usize>,
    /// The codecs calls offer and accept, most preferred first; an incoming INVITE
    /// whose offer has none of them is answered 488.
    pub codecs: Vec<Codec>,
    /// How long an outgoing call rings before it is cancelled, unless the call says
    /// otherwise.
    pub ring_timeout: Duration,
    /// How long an incoming call may ring unanswered before it is refused with 480
    /// (a caller that vanished without CANCEL leaves nothing behind); an INVITE's
    /// own Expires, when shorter, ends it earlier with 487 (RFC 3261 §13.3.1).
    /// `None`: it rings until its Expires, the caller's CANCEL or the application.
    pub incoming_ring_limit: Option<Duration>,
    /// Session timers (RFC 4028): keep-alive re-INVITEs, so a call whose peer
    /// vanished ends by itself. `None` turns them off.
    pub session_timer: Option<SessionTimerConfig>,
}

/// The session timer we ask for and accept (RFC 4028).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SessionTimerConfig {
    /// The session interval we ask for (Session-Expires), seconds.
    pub interval: u32,
    /// The shortest interval we accept (Min-SE), seconds; 90 at least.
    pub min_se: u32,
}

impl Default for SessionTimerConfig {
    /// 30 minutes asked, 90 s accepted (RFC 4028's defaults).
    fn default() -> SessionTimerConfig {
        SessionTimerConfig {
            interval: 1800,
            min_se: 90,
        }
    }
}

impl Default for EndpointConfig {
    fn default() -> EndpointConfig {
        EndpointConfig {
            timers: TimerConfig::default(),
            auth_policy: AuthPolicy::default(),
            user_agent: Some(concat!("rust-sip/", env!("CARGO_PKG_VERSION")).to_string()),
            methods: vec![Method::Message, Method::Info, Method::Notify, Method::Refer],
            supported: vec!["100rel".to_string()],
            accept: vec!["application/sdp".to_string()],
            udp_size_threshold: Some(UDP_SIZE_THRESHOLD),
            codecs: default_codecs(),
            ring_timeout: Duration::from_secs(180),
            incoming_ring_limit: Some(Duration::from_secs(300)),
            session_timer: Some(SessionTimerConfig::default()),
        }
    }
}

impl EndpointConfig {
    /// Whether we support an option tag (the configured ones, and `timer` when
    /// session timers are on).
    pub fn supports(&self, tag: &str) -> bool {
        (tag.eq_ignore_ascii_case("timer") && self.session_timer.is_some())
            || self.supported.iter().any(|s| s.eq_ignore_ascii_case(tag))
    }

    /// The Supported header value.
    pub fn supported_value(&self) -> String {
        let mut v: Vec<&str> = self.supported.iter().map(String::as_str).collect();
        if self.session_timer.is_some() && !v.iter().any(|s| s.eq_ignore_ascii_case("timer")) {
            v.push("timer");
        }
        v.join(", ")
    }

    /// The Allow header value: the methods the endpoint takes.
    pub fn allow_value(&self) -> String {
        let mut v: Vec<&str> = [
            "INVITE", "ACK", "CANCEL", "BYE", "OPTIONS", "UPDATE", "PRACK",
        ]
        .to_vec();
        for m in &self.methods {
            if !v.contains(&m.as_str()) {
                v.push(m.as_str());
            }
        }
        v.join(", ")
    }
}
