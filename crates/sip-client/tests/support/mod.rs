//! A scripted peer for the simulated network: it records every request and answers
//! each as the test's closure says (the h2 "mock peer" shape).

#![allow(dead_code, unreachable_pub)]

pub mod rig;

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::time::Instant;

use bytes::Bytes;
use sip_auth::CredentialsManager;
use sip_client::simnet::{Node, SimUa};
use sip_client::{
    AccountId, Endpoint, EndpointConfig, Event, Peer, RegistrationConfig, RegistrationEvent,
};
use sip_message::offer_answer::{LocalMedia, answer, offer};
use sip_message::sdp::SessionDescription;
use sip_message::{
    HeaderName, Message, MessageBuilder, Request, Response, SeededRandom, StatusCode, TransportMode,
};

/// What the script answers: a status and extra headers, or nothing (silence).
pub type Answer = Option<(u16, Vec<(HeaderName, String)>)>;

/// The script: the request and how many of its method came before.
pub type Script = Box<dyn FnMut(&Request, usize) -> Answer>;

/// A peer that answers requests by script.
pub struct Scripted {
    pub addr: SocketAddr,
    pub script: Script,
    pub seen: Vec<(Instant, Request)>,
    pub raw_in: Vec<(Instant, Bytes)>,
    out: VecDeque<(Peer, Bytes)>,
    /// Extra raw packets to send (`send_raw`).
    pub to_send: VecDeque<(Peer, Bytes)>,
    /// When set, responses say (in Via `received`/`rport`) that the request came from
    /// this address: what a registrar behind which the client is NATed writes.
    pub nat: Option<SocketAddr>,
    /// When set, 2xx responses to INVITE carry SDP: the answer to the INVITE's offer,
    /// or an offer when it had none (a late offer).
    pub sdp: bool,
    /// The To tag of responses.
    pub tag: String,
}

impl Scripted {
    pub fn new(addr: &str, script: impl FnMut(&Request, usize) -> Answer + 'static) -> Scripted {
        Scripted {
            addr: addr.parse().unwrap(),
            script: Box::new(script),
            seen: Vec::new(),
            raw_in: Vec::new(),
            out: VecDeque::new(),
            to_send: VecDeque::new(),
            nat: None,
            sdp: false,
            tag: "srvtag".to_string(),
        }
    }

    /// Requests of one method, with their arrival times.
    pub fn requests(&self, method: &str) -> Vec<&(Instant, Request)> {
        self.seen
            .iter()
            .filter(|(_, r)| r.method().as_str() == method)
            .collect()
    }

    /// Queues raw bytes for `peer`.
    pub fn send_raw(&mut self, peer: Peer, bytes: Bytes) {
        self.to_send.push_back((peer, bytes));
    }
}

impl Node for Scripted {
    fn addr(&self) -> SocketAddr {
        self.addr
    }

    fn on_packet(&mut self, bytes: Bytes, from: Peer, now: Instant) {
        self.raw_in.push((now, bytes.clone()));
        let Ok(Message::Request(r)) = Message::parse(bytes) else {
            return;
        };
        let n = self
            .seen
            .iter()
            .filter(|(_, s)| s.method() == r.method())
            .count();
        self.seen.push((now, r.clone()));
        if r.method().as_str() == "ACK" {
            return;
        }
        if let Some((code, headers)) = (self.script)(&r, n) {
            let tag = r.to_tag().is_none().then_some(self.tag.as_str());
            let mut b = MessageBuilder::response_to(&r, StatusCode::new(code).unwrap(), tag);
            for (name, v) in headers {
                b = b.header(name, v);
            }
            let mut bytes =
                if self.sdp && r.method().as_str() == "INVITE" && (200..300).contains(&code) {
                    let body = peer_sdp(&r, self.addr);
                    b.header(HeaderName::Contact, format!("<sip:peer@{}>", self.addr))
                        .finish_with_body(Some("application/sdp"), body.as_bytes())
                        .freeze()
                } else {
                    b.finish().freeze()
                };
            if let Some(nat) = self.nat {
                let via = r.top_via().as_str().to_string();
                let seen = format!(
                    "{};received={}",
                    via.replace(";rport", &format!(";rport={}", nat.port())),
                    nat.ip()
                );
                let text = String::from_utf8_lossy(&bytes).replacen(&via, &seen, 1);
                bytes = Bytes::from(text);
            }
            self.out.push_back((from, bytes));
        }
    }

    fn poll_transmit(&mut self) -> Option<(Peer, Bytes)> {
        self.to_send.pop_front().or_else(|| self.out.pop_front())
    }

    fn poll_timeout(&self) -> Option<Instant> {
        None
    }

    fn on_timeout(&mut self, _now: Instant) {}
}

/// The peer's SDP for an INVITE: the answer to its offer, or an offer of PCMU and
/// telephone-event at the peer's address, port 30000.
pub fn peer_sdp(invite: &Request, addr: SocketAddr) -> String {
    let local = LocalMedia::new(addr.ip(), 30000);
    if invite.body().is_empty() {
        offer(&local, 77, 1).to_string()
    } else {
        let o = SessionDescription::parse_bytes(invite.body()).unwrap();
        answer(&local, &o, 77, 1).unwrap().0.to_string()
    }
}

/// Media at 192.0.2.20 (the UA's address), on `port`.
pub fn media(port: u16) -> LocalMedia {
    LocalMedia::new("192.0.2.20".parse().unwrap(), port)
}

/// Every message in raw bytes received, parsed.
pub fn parsed(raw: &[(Instant, Bytes)]) -> Vec<(Instant, Message)> {
    raw.iter()
        .filter_map(|(t, b)| Message::parse(b.clone()).ok().map(|m| (*t, m)))
        .collect()
}

/// The responses among them, with their arrival times.
pub fn responses_in(raw: &[(Instant, Bytes)]) -> Vec<(Instant, Response)> {
    parsed(raw)
        .into_iter()
        .filter_map(|(t, m)| match m {
            Message::Response(r) => Some((t, r)),
            _ => None,
        })
        .collect()
}

pub const SERVER: &str = "192.0.2.10:5060";
pub const CLIENT: &str = "192.0.2.20:5070";

/// A UA with one account for alice at SERVER.
pub fn ua(seed: u64, mode: TransportMode, expires: u32) -> (SimUa, AccountId) {
    ua_with(seed, mode, expires, EndpointConfig::default())
}

/// [`ua`] with its own endpoint configuration (other timers, say).
pub fn ua_with(
    seed: u64,
    mode: TransportMode,
    expires: u32,
    config: EndpointConfig,
) -> (SimUa, AccountId) {
    let mut creds = CredentialsManager::new();
    creds.add("alice", "secret-a", Some("example.test"), None, None);
    let mut ep = Endpoint::new(config, creds, Box::new(SeededRandom::new(seed)));
    let mut reg = RegistrationConfig::new(
        "sip:alice@example.test",
        "sip:example.test",
        Peer::new(mode, SERVER.parse().unwrap()),
        CLIENT.parse().unwrap(),
    );
    reg.expires = expires;
    let id = ep.add_account(reg);
    (SimUa::new(ep, CLIENT.parse().unwrap()), id)
}

/// The registration events so far.
pub fn reg_events(ua: &SimUa) -> Vec<RegistrationEvent> {
    ua.events
        .iter()
        .filter_map(|e| match e {
            Event::Registration { event, .. } => Some(event.clone()),
            _ => None,
        })
        .collect()
}

/// A WWW-Authenticate challenge for realm example.test.
pub fn challenge(nonce: &str, stale: bool) -> Vec<(HeaderName, String)> {
    let mut v =
        format!("Digest realm=\"example.test\", nonce=\"{nonce}\", algorithm=MD5, qop=\"auth\"");
    if stale {
        v.push_str(", stale=true");
    }
    vec![(HeaderName::WwwAuthenticate, v)]
}

/// Whether a request carries Authorization.
pub fn has_auth(r: &Request) -> bool {
    r.has_header(HeaderName::Authorization)
}
