//! The two rigs the call tests share: our UA calling a scripted callee
//! ([`CallerRig`]), and a scripted caller calling our UA ([`CalleeRig`]), on the
//! simulated network, with the messages they exchange at hand.

use std::time::{Duration, Instant};

use bytes::Bytes;
use sip_client::simnet::{NetConditions, SimNet, SimUa};
use sip_client::{AccountId, CallEvent, CallId, CallSpec, EndpointConfig, Peer};
use sip_message::offer_answer::{LocalMedia, offer};
use sip_message::sdp::Direction;
use sip_message::{HeaderName, MessageBuilder, Request, Response, StatusCode, TransportMode};

use super::{Answer, CLIENT, SERVER, Scripted, media, peer_sdp, responses_in, ua_with};

/// Our UA (alice at CLIENT) and a scripted callee at SERVER, which is also the
/// outbound proxy; its 2xx to INVITE carry SDP.
pub struct CallerRig {
    pub net: SimNet,
    pub ua: SimUa,
    pub peer: Scripted,
    pub t0: Instant,
}

impl CallerRig {
    pub fn new(
        config: EndpointConfig,
        script: impl FnMut(&Request, usize) -> Answer + 'static,
    ) -> CallerRig {
        let t0 = Instant::now();
        let (ua, _) = ua_with(1, TransportMode::Udp, 3600, config);
        let mut peer = Scripted::new(SERVER, script);
        peer.sdp = true;
        CallerRig {
            net: SimNet::new(1, NetConditions::perfect(), t0),
            ua,
            peer,
            t0,
        }
    }

    pub fn with(script: impl FnMut(&Request, usize) -> Answer + 'static) -> CallerRig {
        CallerRig::new(EndpointConfig::default(), script)
    }

    /// Places a call to bob offering media on port 40000, or `spec`.
    pub fn call(&mut self, spec: Option<CallSpec>) -> CallId {
        let spec = spec.unwrap_or_else(|| CallSpec::new("sip:bob@example.test", media(40000)));
        let now = self.net.now();
        self.ua.machine.call(AccountId(0), spec, now).unwrap()
    }

    pub fn run(&mut self, secs: f64) {
        let t = self.net.now() + Duration::from_secs_f64(secs);
        self.net
            .run_until(&mut [&mut self.ua, &mut self.peer], t, |_| false);
    }

    pub fn now(&self) -> Instant {
        self.net.now()
    }

    /// A response to the last INVITE the peer got: To tag, Contact, extra header
    /// lines, and an SDP body.
    pub fn response(
        &self,
        code: u16,
        tag: Option<&str>,
        contact: &str,
        extra: &[(HeaderName, String)],
        sdp: Option<&str>,
    ) -> Bytes {
        let invite = self.last("INVITE");
        let mut b = MessageBuilder::response_to(&invite, StatusCode::new(code).unwrap(), tag);
        if !contact.is_empty() {
            b = b.header(HeaderName::Contact, format!("<{contact}>"));
        }
        for (n, v) in extra {
            b = b.header(*n, v);
        }
        match sdp {
            Some(body) => b.finish_with_body(Some("application/sdp"), body.as_bytes()),
            None => b.finish(),
        }
        .freeze()
    }

    /// Sends the UA a response to the last INVITE (with the peer's usual SDP when
    /// `sdp`).
    pub fn respond(&mut self, code: u16, tag: Option<&str>, contact: &str, sdp: bool) {
        let body = sdp.then(|| peer_sdp(&self.last("INVITE"), self.peer.addr));
        let bytes = self.response(code, tag, contact, &[], body.as_deref());
        self.send(bytes);
    }

    /// Sends the UA raw bytes from the peer.
    pub fn send(&mut self, bytes: Bytes) {
        self.peer
            .send_raw(Peer::udp(CLIENT.parse().unwrap()), bytes);
    }

    pub fn last(&self, method: &str) -> Request {
        self.peer.requests(method).last().expect(method).1.clone()
    }

    /// The requests of one method the peer got.
    pub fn sent(&self, method: &str) -> Vec<Request> {
        self.peer
            .requests(method)
            .into_iter()
            .map(|(_, r)| r.clone())
            .collect()
    }

    /// The To tags of the requests of one method the peer got.
    pub fn to_tags(&self, method: &str) -> Vec<String> {
        self.sent(method)
            .iter()
            .map(|r| r.to_tag().unwrap_or_default().to_string())
            .collect()
    }

    pub fn events(&self, id: CallId) -> Vec<&CallEvent> {
        self.ua
            .call_events()
            .into_iter()
            .filter(|(c, _)| *c == id)
            .map(|(_, e)| e)
            .collect()
    }

    /// The remote addresses of the call's Media events, in order.
    pub fn media_remotes(&self, id: CallId) -> Vec<Option<std::net::SocketAddr>> {
        self.events(id)
            .iter()
            .filter_map(|e| match e {
                CallEvent::Media { negotiated, .. } => Some(negotiated.remote),
                _ => None,
            })
            .collect()
    }

    /// The responses the peer got (to its own requests).
    pub fn responses(&self) -> Vec<Response> {
        responses_in(&self.peer.raw_in)
            .into_iter()
            .map(|(_, r)| r)
            .collect()
    }
}

/// A scripted caller (bob at SERVER, answering our requests as its script says)
/// and our UA (alice at CLIENT).
pub struct CalleeRig {
    pub net: SimNet,
    pub ua: SimUa,
    pub peer: Scripted,
    pub t0: Instant,
}

impl CalleeRig {
    pub fn new(
        config: EndpointConfig,
        script: impl FnMut(&Request, usize) -> Answer + 'static,
    ) -> CalleeRig {
        let t0 = Instant::now();
        let (ua, _) = ua_with(1, TransportMode::Udp, 3600, config);
        CalleeRig {
            net: SimNet::new(1, NetConditions::perfect(), t0),
            ua,
            peer: Scripted::new(SERVER, script),
            t0,
        }
    }

    /// The caller answers our requests with 200.
    pub fn udp() -> CalleeRig {
        CalleeRig::new(EndpointConfig::default(), |_, _| Some((200, vec![])))
    }

    pub fn send(&mut self, text: String) {
        self.peer
            .send_raw(Peer::udp(CLIENT.parse().unwrap()), Bytes::from(text));
    }

    pub fn run(&mut self, secs: f64) {
        let t = self.net.now() + Duration::from_secs_f64(secs);
        self.net
            .run_until(&mut [&mut self.ua, &mut self.peer], t, |_| false);
    }

    pub fn now(&self) -> Instant {
        self.net.now()
    }

    /// Responses the caller got, with seconds since the start (to 10 ms).
    pub fn responses(&self) -> Vec<(f64, Response)> {
        responses_in(&self.peer.raw_in)
            .into_iter()
            .map(|(t, r)| (((t - self.t0).as_secs_f64() * 100.0).round() / 100.0, r))
            .collect()
    }

    /// The statuses of the responses to one method.
    pub fn statuses(&self, method: &str) -> Vec<u16> {
        self.responses()
            .iter()
            .filter(|(_, r)| r.cseq_method().as_str() == method)
            .map(|(_, r)| r.status().as_u16())
            .collect()
    }

    /// The last response to one method.
    pub fn last_response(&self, method: &str) -> Response {
        self.responses()
            .into_iter()
            .rev()
            .find(|(_, r)| r.cseq_method().as_str() == method)
            .expect(method)
            .1
    }

    /// The CSeq numbers of the requests of one method the caller got.
    pub fn sent_cseqs(&self, method: &str) -> Vec<u32> {
        self.peer
            .requests(method)
            .iter()
            .map(|(_, r)| r.cseq_seq())
            .collect()
    }

    /// The call that arrived.
    pub fn call(&self) -> CallId {
        *self.ua.incoming_calls().first().expect("a call arrived")
    }

    pub fn our_tag(&self) -> String {
        let c = self.call();
        self.ua
            .machine
            .call_state(c)
            .unwrap()
            .local_tag()
            .to_string()
    }

    pub fn events(&self, id: CallId) -> Vec<&CallEvent> {
        self.ua
            .call_events()
            .into_iter()
            .filter(|(c, _)| *c == id)
            .map(|(_, e)| e)
            .collect()
    }

    /// Rings, answers with media on port 40000, and delivers the ACK: an
    /// established call.
    pub fn established(&mut self) -> CallId {
        self.send(invite_with_offer());
        self.run(0.1);
        let c = self.call();
        let now = self.now();
        self.ua.machine.answer(c, Some(media(40000)), now).unwrap();
        self.run(0.1);
        let tag = self.our_tag();
        self.send(request("ACK", 5, "z9hG4bKack1", Some(&tag), "", None));
        self.run(0.1);
        c
    }
}

/// The caller's offer: PCMU, PCMA and telephone-event at 192.0.2.10:30000.
pub fn offer_sdp(direction: Direction) -> String {
    let mut m = LocalMedia::new("192.0.2.10".parse().unwrap(), 30000);
    m.direction = direction;
    offer(&m, 9, 1).to_string()
}

/// A request from bob to alice in call `call-1`, with `to_tag` when in a dialog.
pub fn request(
    method: &str,
    cseq: u32,
    branch: &str,
    to_tag: Option<&str>,
    extra: &str,
    body: Option<(&str, &str)>,
) -> String {
    let to = match to_tag {
        Some(t) => format!("<sip:alice@example.test>;tag={t}"),
        None => "<sip:alice@example.test>".to_string(),
    };
    let (ct, body) = match body {
        Some((t, b)) => (format!("Content-Type: {t}\r\n"), b.to_string()),
        None => (String::new(), String::new()),
    };
    format!(
        "{method} sip:alice@192.0.2.20:5070 SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.10:5060;branch={branch}\r\nMax-Forwards: 70\r\nFrom: <sip:bob@example.test>;tag=b1\r\nTo: {to}\r\nCall-ID: call-1\r\nCSeq: {cseq} {method}\r\nContact: <sip:bob@192.0.2.10:5060>\r\n{extra}{ct}Content-Length: {}\r\n\r\n{body}",
        body.len()
    )
}

/// The INVITE (CSeq 5) with the caller's sendrecv offer.
pub fn invite_with_offer() -> String {
    request(
        "INVITE",
        5,
        "z9hG4bKinv1",
        None,
        "",
        Some(("application/sdp", &offer_sdp(Direction::SendRecv))),
    )
}
