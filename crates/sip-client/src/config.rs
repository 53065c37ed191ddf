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
    /// The option tags we support (Supported; Require is checked against it).
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
}

impl Default for EndpointConfig {
    fn default() -> EndpointConfig {
        EndpointConfig {
            timers: TimerConfig::default(),
            auth_policy: AuthPolicy::default(),
            user_agent: Some(concat!("rust-sip/", env!("CARGO_PKG_VERSION")).to_string()),
            methods: vec![Method::Message, Method::Info, Method::Notify],
            supported: Vec::new(),
            accept: vec!["application/sdp".to_string()],
            udp_size_threshold: Some(UDP_SIZE_THRESHOLD),
            codecs: default_codecs(),
            ring_timeout: Duration::from_secs(180),
        }
    }
}

impl EndpointConfig {
    /// The Allow header value: the methods the endpoint takes.
    pub fn allow_value(&self) -> String {
        let mut v: Vec<&str> = ["INVITE", "ACK", "CANCEL", "BYE", "OPTIONS", "UPDATE"].to_vec();
        for m in &self.methods {
            if !v.contains(&m.as_str()) {
                v.push(m.as_str());
            }
        }
        v.join(", ")
    }
}
