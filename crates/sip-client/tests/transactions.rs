//! The transaction layer on a simulated clock: exact retransmission schedules for each
//! transaction type on UDP and on reliable transports, timers A to M, matching.

use std::time::{Duration, Instant};

use bytes::Bytes;
use sip_client::transaction::{ClientState, ServerState};
use sip_client::{Output, Peer, TimerConfig, TransactionLayer, TxEvent, TxId};
use sip_message::{Message, MessageBuilder, Request, Response, StatusCode, TransportMode};

/// Runs the layer's timers from `start` to `until`, collecting outputs with their time
/// (in milliseconds from `start`).
struct Run {
    layer: TransactionLayer,
    start: Instant,
    now: Instant,
    sent: Vec<(u64, Bytes)>,
    events: Vec<(u64, TxEvent)>,
}

impl Run {
    fn new() -> Run {
        Run::with(TimerConfig::default())
    }

    fn with(timers: TimerConfig) -> Run {
        let start = Instant::now();
        Run {
            layer: TransactionLayer::new(timers),
            start,
            now: start,
            sent: Vec::new(),
            events: Vec::new(),
        }
    }

    fn ms(&self) -> u64 {
        (self.now - self.start).as_millis() as u64
    }

    fn drain(&mut self) {
        while let Some(o) = self.layer.poll_output() {
            let t = self.ms();
            match o {
                Output::Transmit(tr) => self.sent.push((t, tr.bytes)),
                Output::Event(e) => self.events.push((t, e)),
            }
        }
    }

    /// Advances to `ms`, firing every timer on its exact deadline.
    fn run_until(&mut self, ms: u64) {
        let end = self.start + Duration::from_millis(ms);
        self.drain();
        while let Some(d) = self.layer.poll_timeout() {
            if d > end {
                break;
            }
            self.now = d;
            self.layer.handle_timeout(d);
            self.drain();
        }
        self.now = end;
    }

    fn sent_times(&self) -> Vec<u64> {
        self.sent.iter().map(|(t, _)| *t).collect()
    }

    fn event_times(&self, pick: impl Fn(&TxEvent) -> bool) -> Vec<u64> {
        self.events
            .iter()
            .filter(|(_, e)| pick(e))
            .map(|(t, _)| *t)
            .collect()
    }
}

fn udp() -> Peer {
    Peer::udp("192.0.2.10:5060".parse().unwrap())
}

fn tcp() -> Peer {
    Peer::new(TransportMode::Tcp, "192.0.2.10:5060".parse().unwrap())
}

fn request(method: &str, branch: &str, transport: &str) -> Request {
    let raw = format!(
        "{method} sip:bob@192.0.2.10 SIP/2.0\r\nVia: SIP/2.0/{transport} 192.0.2.1:5060;branch={branch};rport\r\nMax-Forwards: 70\r\nFrom: <sip:alice@example.com>;tag=a1\r\nTo: <sip:bob@example.com>\r\nCall-ID: {branch}\r\nCSeq: 1 {method}\r\nContent-Length: 0\r\n\r\n"
    );
    match Message::parse(raw.into_bytes()).unwrap() {
        Message::Request(r) => r,
        _ => unreachable!(),
    }
}

fn response_to(req: &Request, code: u16) -> Response {
    let bytes = MessageBuilder::response_to(req, StatusCode::new(code).unwrap(), Some("b1"))
        .finish()
        .freeze();
    match Message::parse(bytes).unwrap() {
        Message::Response(r) => r,
        _ => unreachable!(),
    }
}

fn is_timeout(e: &TxEvent) -> bool {
    matches!(e, TxEvent::Timeout { .. })
}

fn is_terminated(e: &TxEvent) -> bool {
    matches!(e, TxEvent::Terminated { .. })
}

#[test]
fn client_invite_udp_timer_a_and_b() {
    let mut r = Run::new();
    r.layer
        .send_request(request("INVITE", "z9hG4bKa", "UDP"), udp(), r.now)
        .unwrap();
    r.run_until(40_000);
    // Timer A doubles from T1; Timer B (64·T1 = 32 s) ends it.
    assert_eq!(r.sent_times(), [0, 500, 1500, 3500, 7500, 15500, 31500]);
    assert_eq!(r.event_times(is_timeout), [32_000]);
    assert_eq!(r.event_times(is_terminated), [32_000]);
    assert_eq!(r.layer.counts(), (0, 0));
}

#[test]
fn client_non_invite_udp_timer_e_and_f() {
    let mut r = Run::new();
    r.layer
        .send_request(request("OPTIONS", "z9hG4bKb", "UDP"), udp(), r.now)
        .unwrap();
    r.run_until(40_000);
    // Timer E doubles up to T2 (4 s); Timer F (32 s) ends it.
    assert_eq!(
        r.sent_times(),
        [
            0, 500, 1500, 3500, 7500, 11500, 15500, 19500, 23500, 27500, 31500
        ]
    );
    assert_eq!(r.event_times(is_timeout), [32_000]);
}

#[test]
fn client_non_invite_provisional_moves_timer_e_to_t2() {
    let mut r = Run::new();
    let req = request("REGISTER", "z9hG4bKc", "UDP");
    r.layer.send_request(req.clone(), udp(), r.now).unwrap();
    r.run_until(600);
    r.layer.on_response(response_to(&req, 100), r.now);
    r.run_until(20_000);
    // §17.1.2.2: the 1xx does not restart Timer E; the pending one (due at 1.5 s,
    // T1 doubled once) fires first, and from then on E runs at T2.
    assert_eq!(r.sent_times(), [0, 500, 1500, 5500, 9500, 13500, 17500]);
    // A final response ends retransmissions; Timer K (T4 = 5 s) absorbs duplicates.
    r.layer.on_response(response_to(&req, 200), r.now);
    let id = TxId(1);
    assert_eq!(r.layer.client_state(id), Some(ClientState::Completed));
    r.layer.on_response(response_to(&req, 200), r.now);
    r.drain();
    let delivered = r.event_times(|e| matches!(e, TxEvent::Response { .. }));
    assert_eq!(delivered, [600, 20_000], "the duplicate 200 is absorbed");
    r.run_until(26_000);
    assert_eq!(r.event_times(is_terminated), [25_000]);
}

#[test]
fn timer_e_after_a_provisional_with_other_timers() {
    // T1 = 100 ms, T2 = 1 s, T4 = 2 s: a constant written into the code fails here.
    let timers = TimerConfig {
        t1: Duration::from_millis(100),
        t2: Duration::from_secs(1),
        t4: Duration::from_secs(2),
        ..TimerConfig::default()
    };
    let mut r = Run::with(timers);
    let req = request("OPTIONS", "z9hG4bKt", "UDP");
    r.layer.send_request(req.clone(), udp(), r.now).unwrap();
    r.run_until(150);
    r.layer.on_response(response_to(&req, 180), r.now);
    r.run_until(4_000);
    assert_eq!(r.sent_times(), [0, 100, 300, 1300, 2300, 3300]);
    // Timer F is 64·T1 = 6.4 s whatever the provisional said.
    r.run_until(7_000);
    assert_eq!(r.event_times(is_timeout), [6_400]);
}

#[test]
fn large_udp_requests_move_to_tcp_with_reliable_timers() {
    // §18.1.1: over 1300 bytes, and no path MTU known: TCP, decided with the
    // transaction so that it does not retransmit.
    let mut r = Run::new();
    let big = "x".repeat(1400);
    let raw = format!(
        "MESSAGE sip:bob@192.0.2.10 SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKbig;rport\r\nMax-Forwards: 70\r\nFrom: <sip:alice@example.com>;tag=a1\r\nTo: <sip:bob@example.com>\r\nCall-ID: big\r\nCSeq: 1 MESSAGE\r\nContent-Type: text/plain\r\nContent-Length: {}\r\n\r\n{big}",
        big.len()
    );
    let Message::Request(req) = Message::parse(raw.into_bytes()).unwrap() else {
        unreachable!()
    };
    r.layer.send_request(req, udp(), r.now).unwrap();
    let mut sent = Vec::new();
    while let Some(o) = r.layer.poll_output() {
        if let Output::Transmit(t) = o {
            sent.push(t);
        }
    }
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].peer.mode, TransportMode::Tcp);
    let on_wire = Message::parse(sent[0].bytes.clone()).unwrap();
    let via = on_wire.as_request().unwrap().top_via();
    assert_eq!(via.transport(), "TCP");
    assert_eq!(via.branch(), Some("z9hG4bKbig"));
    r.run_until(40_000);
    assert!(r.sent.is_empty(), "no retransmission over TCP");
    assert_eq!(r.event_times(is_timeout), [32_000]);
    // A small request stays on UDP, and so does a large one when the threshold is off.
    let mut r = Run::new();
    r.layer.set_udp_threshold(None);
    let small = request("OPTIONS", "z9hG4bKsm", "UDP");
    r.layer.send_request(small, udp(), r.now).unwrap();
    r.run_until(600);
    assert_eq!(r.sent_times(), [0, 500]);
}

#[test]
fn reliable_transports_do_not_retransmit() {
    for method in ["INVITE", "OPTIONS"] {
        let mut r = Run::new();
        r.layer
            .send_request(request(method, "z9hG4bKd", "TCP"), tcp(), r.now)
            .unwrap();
        r.run_until(40_000);
        assert_eq!(r.sent_times(), [0], "{method}");
        assert_eq!(r.event_times(is_timeout), [32_000], "{method}");
    }
    // Timer K is zero on a reliable transport: the transaction ends with the response.
    let mut r = Run::new();
    let req = request("OPTIONS", "z9hG4bKe", "TCP");
    r.layer.send_request(req.clone(), tcp(), r.now).unwrap();
    r.run_until(100);
    r.layer.on_response(response_to(&req, 200), r.now);
    r.drain();
    assert_eq!(r.event_times(is_terminated), [100]);
}

#[test]
fn invite_non_2xx_is_acked_by_the_transaction_timer_d() {
    let mut r = Run::new();
    let req = request("INVITE", "z9hG4bKf", "UDP");
    r.layer.send_request(req.clone(), udp(), r.now).unwrap();
    r.run_until(100);
    r.layer.on_response(response_to(&req, 486), r.now);
    r.drain();
    let (_, ack) = r.sent.last().unwrap().clone();
    let ack = Message::parse(ack).unwrap();
    let ack = ack.as_request().unwrap();
    assert_eq!(ack.method().as_str(), "ACK");
    assert_eq!(ack.top_via().branch(), Some("z9hG4bKf"));
    assert_eq!(ack.cseq().to_string(), "1 ACK");
    assert_eq!(ack.to_tag(), Some("b1"));
    // The 486 again (our ACK was lost): the ACK again, the TU hears nothing.
    r.run_until(2_000);
    r.layer.on_response(response_to(&req, 486), r.now);
    r.drain();
    assert_eq!(r.sent_times(), [0, 100, 2_000]);
    assert_eq!(
        r.event_times(|e| matches!(e, TxEvent::Response { .. })),
        [100]
    );
    // Timer D: 32 s on UDP.
    r.run_until(40_000);
    assert_eq!(r.event_times(is_terminated), [32_100]);
}

#[test]
fn invite_2xx_accepted_and_timer_m() {
    let mut r = Run::new();
    let req = request("INVITE", "z9hG4bKg", "UDP");
    r.layer.send_request(req.clone(), udp(), r.now).unwrap();
    r.run_until(700);
    r.layer.on_response(response_to(&req, 180), r.now);
    r.run_until(1_000);
    r.layer.on_response(response_to(&req, 200), r.now);
    r.run_until(5_000);
    // A retransmitted 2xx still reaches the TU, which ACKs it.
    r.layer.on_response(response_to(&req, 200), r.now);
    r.run_until(40_000);
    assert_eq!(r.sent_times(), [0, 500], "no retransmission after the 180");
    assert_eq!(
        r.event_times(|e| matches!(e, TxEvent::Response { .. })),
        [700, 1_000, 5_000]
    );
    assert_eq!(r.event_times(is_terminated), [33_000]);
}

#[test]
fn invite_proceeding_without_final_response_ends() {
    let mut r = Run::new();
    let req = request("INVITE", "z9hG4bKh", "UDP");
    r.layer.send_request(req.clone(), udp(), r.now).unwrap();
    r.run_until(200);
    r.layer.on_response(response_to(&req, 183), r.now);
    r.run_until(200_000);
    assert_eq!(r.event_times(is_timeout), [180_200]);
    assert_eq!(r.layer.counts(), (0, 0));
}

#[test]
fn server_invite_trying_timer_g_h() {
    let mut r = Run::new();
    let req = request("INVITE", "z9hG4bKi", "UDP");
    r.layer.on_request(req.clone(), udp(), r.now);
    r.drain();
    let id = match &r.events[0].1 {
        TxEvent::Request { id, .. } => *id,
        e => panic!("{e:?}"),
    };
    // The TU is slow: 100 Trying goes out at 200 ms.
    r.run_until(1_000);
    assert_eq!(r.sent_times(), [200]);
    let trying = Message::parse(r.sent[0].1.clone()).unwrap();
    assert_eq!(trying.as_response().unwrap().status().as_u16(), 100);
    // A retransmitted INVITE is answered with the last response, not passed up.
    r.layer.on_request(req.clone(), udp(), r.now);
    r.drain();
    assert_eq!(r.sent_times(), [200, 1_000]);
    assert_eq!(r.event_times(|e| matches!(e, TxEvent::Request { .. })), [0]);
    // A 486: Timer G retransmits it (T1 doubling to T2) until Timer H (32 s).
    let busy = MessageBuilder::response_to(&req, StatusCode::BUSY_HERE, Some("s1"))
        .finish()
        .freeze();
    r.layer.respond(id, busy, r.now).unwrap();
    r.run_until(40_000);
    assert_eq!(
        r.sent_times(),
        [
            200, 1_000, 1_000, 1_500, 2_500, 4_500, 8_500, 12_500, 16_500, 20_500, 24_500, 28_500,
            32_500
        ]
    );
    assert_eq!(
        r.event_times(|e| matches!(e, TxEvent::AckTimeout { .. })),
        [33_000]
    );
}

#[test]
fn server_invite_ack_confirms_timer_i() {
    let mut r = Run::new();
    let req = request("INVITE", "z9hG4bKj", "UDP");
    r.layer.on_request(req.clone(), udp(), r.now);
    r.drain();
    let id = TxId(1);
    let busy = MessageBuilder::response_to(&req, StatusCode::BUSY_HERE, Some("s1"))
        .finish()
        .freeze();
    r.layer.respond(id, busy.clone(), r.now).unwrap();
    r.run_until(600);
    // The ACK (same branch) confirms; Timer I (T4) ends the transaction.
    let resp = match Message::parse(busy).unwrap() {
        Message::Response(x) => x,
        _ => unreachable!(),
    };
    let ack_bytes = {
        let mut b = MessageBuilder::request(&sip_message::Method::Ack, req.uri().as_str());
        b.add_header(sip_message::HeaderName::Via, req.top_via().as_str());
        b.add_header(sip_message::HeaderName::From, req.from().as_str());
        b.add_header(sip_message::HeaderName::To, resp.to().as_str());
        b.add_header(sip_message::HeaderName::CallId, req.call_id());
        b.add_header(sip_message::HeaderName::CSeq, "1 ACK");
        b.finish().freeze()
    };
    let ack = match Message::parse(ack_bytes).unwrap() {
        Message::Request(x) => x,
        _ => unreachable!(),
    };
    r.layer.on_request(ack, udp(), r.now);
    r.drain();
    assert_eq!(r.layer.server_state(id), Some(ServerState::Confirmed));
    assert!(
        r.event_times(|e| matches!(e, TxEvent::Ack { .. }))
            .is_empty(),
        "absorbed"
    );
    r.run_until(10_000);
    assert_eq!(r.sent_times(), [0, 500]);
    assert_eq!(r.event_times(is_terminated), [5_600]);
}

#[test]
fn server_invite_2xx_timer_l_absorbs_retransmissions() {
    let mut r = Run::new();
    let req = request("INVITE", "z9hG4bKk", "UDP");
    r.layer.on_request(req.clone(), udp(), r.now);
    r.drain();
    let ok = MessageBuilder::response_to(&req, StatusCode::OK, Some("s1"))
        .finish()
        .freeze();
    r.layer.respond(TxId(1), ok, r.now).unwrap();
    r.run_until(3_000);
    r.layer.on_request(req.clone(), udp(), r.now);
    r.run_until(40_000);
    assert_eq!(r.sent_times(), [0], "the 2xx is the TU's to retransmit");
    assert_eq!(r.event_times(|e| matches!(e, TxEvent::Request { .. })), [0]);
    assert_eq!(r.event_times(is_terminated), [32_000]);
}

#[test]
fn server_non_invite_timer_j() {
    for (peer, transport, end) in [(udp(), "UDP", 32_100u64), (tcp(), "TCP", 100)] {
        let mut r = Run::new();
        let req = request("OPTIONS", "z9hG4bKl", transport);
        r.layer.on_request(req.clone(), peer.clone(), r.now);
        r.run_until(100);
        let ok = MessageBuilder::response_to(&req, StatusCode::OK, Some("s1"))
            .finish()
            .freeze();
        r.layer.respond(TxId(1), ok, r.now).unwrap();
        r.drain();
        if transport == "UDP" {
            r.run_until(1_000);
            r.layer.on_request(req.clone(), peer.clone(), r.now);
        }
        r.run_until(40_000);
        assert_eq!(r.event_times(is_terminated), [end], "{transport}");
        let expected: Vec<u64> = if transport == "UDP" {
            vec![100, 1_000]
        } else {
            vec![100]
        };
        assert_eq!(r.sent_times(), expected, "{transport}");
    }
}

#[test]
fn matching_rules() {
    let mut r = Run::new();
    let req = request("INVITE", "z9hG4bKm", "UDP");
    r.layer.send_request(req.clone(), udp(), r.now).unwrap();
    // A response to another branch, or to the same branch but another method, matches
    // nothing.
    let other = request("INVITE", "z9hG4bKother", "UDP");
    r.layer.on_response(response_to(&other, 200), r.now);
    let cancel = request("CANCEL", "z9hG4bKm", "UDP");
    r.layer.on_response(response_to(&cancel, 200), r.now);
    r.drain();
    assert_eq!(
        r.event_times(|e| matches!(e, TxEvent::StrayResponse { .. }))
            .len(),
        2
    );
    // A CANCEL is its own server transaction; an ACK for a 2xx goes up as an Ack.
    let mut s = Run::new();
    s.layer.on_request(req.clone(), udp(), s.now);
    s.layer
        .on_request(request("CANCEL", "z9hG4bKm", "UDP"), udp(), s.now);
    s.layer
        .on_request(request("ACK", "z9hG4bKother2", "UDP"), udp(), s.now);
    s.drain();
    assert_eq!(
        s.event_times(|e| matches!(e, TxEvent::Request { .. }))
            .len(),
        2
    );
    assert_eq!(s.event_times(|e| matches!(e, TxEvent::Ack { .. })).len(), 1);
    assert_eq!(s.layer.counts(), (0, 2));
    // RFC 2543 requests (no magic cookie) still match their retransmissions.
    let mut t = Run::new();
    let old = request("OPTIONS", "oldstyle1", "UDP");
    t.layer.on_request(old.clone(), udp(), t.now);
    t.layer.on_request(old, udp(), t.now);
    t.drain();
    assert_eq!(
        t.event_times(|e| matches!(e, TxEvent::Request { .. }))
            .len(),
        1
    );
    // A request without a branch cannot start a client transaction.
    assert!(
        t.layer
            .send_request(request("OPTIONS", "nocookie", "UDP"), udp(), t.now)
            .is_err()
    );
}

#[test]
fn responses_go_to_rport_on_udp() {
    let mut r = Run::new();
    let req = request("OPTIONS", "z9hG4bKn", "UDP");
    let source = Peer::udp("203.0.113.9:40000".parse().unwrap());
    r.layer.on_request(req.clone(), source, r.now);
    let ok = MessageBuilder::response_to(&req, StatusCode::OK, Some("s1"))
        .finish()
        .freeze();
    r.layer.respond(TxId(1), ok, r.now).unwrap();
    let mut to = None;
    while let Some(o) = r.layer.poll_output() {
        if let Output::Transmit(t) = o {
            to = Some(t.peer.addr);
        }
    }
    assert_eq!(to, Some("203.0.113.9:40000".parse().unwrap()));
}

#[test]
fn reliable_invite_timers_d_g_h_i_are_zero_or_unused() {
    // Client: a 486 over TCP is ACKed once and the transaction ends at once (Timer D = 0).
    let mut r = Run::new();
    let req = request("INVITE", "z9hG4bKr1", "TCP");
    r.layer.send_request(req.clone(), tcp(), r.now).unwrap();
    r.run_until(100);
    r.layer.on_response(response_to(&req, 486), r.now);
    r.run_until(40_000);
    assert_eq!(r.sent_times(), [0, 100]);
    assert_eq!(r.event_times(is_terminated), [100]);

    // Server: the 486 is not retransmitted (no Timer G); without an ACK, Timer H
    // still ends it at 64·T1.
    let mut r = Run::new();
    let req = request("INVITE", "z9hG4bKr2", "TCP");
    r.layer.on_request(req.clone(), tcp(), r.now);
    r.drain();
    let busy = MessageBuilder::response_to(&req, StatusCode::BUSY_HERE, Some("s1"))
        .finish()
        .freeze();
    r.layer.respond(TxId(1), busy, r.now).unwrap();
    r.run_until(40_000);
    assert_eq!(r.sent_times(), [0]);
    assert_eq!(
        r.event_times(|e| matches!(e, TxEvent::AckTimeout { .. })),
        [32_000]
    );
    assert_eq!(r.event_times(is_terminated), [32_000]);
}

#[test]
fn a_request_the_tu_never_answers_still_ends() {
    // Non-INVITE: after 64·T1 the client has given up; the server transaction goes.
    let mut r = Run::new();
    r.layer
        .on_request(request("OPTIONS", "z9hG4bKn1", "UDP"), udp(), r.now);
    r.run_until(40_000);
    assert_eq!(r.event_times(is_terminated), [32_000]);
}

#[test]
fn an_invite_rings_as_long_as_its_tu_lets_it() {
    // §13.3.1.1: an INVITE may ring for minutes; its transaction lives until the TU
    // answers it (here after 250 s, past the old 180 s + 64·T1 limit) or ends it.
    let mut r = Run::new();
    let req = request("INVITE", "z9hG4bKn2", "UDP");
    r.layer.on_request(req.clone(), udp(), r.now);
    r.run_until(250_000);
    assert_eq!(r.sent_times(), [200]);
    assert!(r.event_times(is_terminated).is_empty());
    let ok = MessageBuilder::response_to(&req, StatusCode::OK, Some("s1"))
        .finish()
        .freeze();
    r.layer.respond(TxId(1), ok, r.now).unwrap();
    assert_eq!(r.layer.server_state(TxId(1)), Some(ServerState::Accepted));
    // Timer L then ends it.
    r.run_until(300_000);
    assert_eq!(r.event_times(is_terminated), [282_000]);
    // A TU that gives up ends it at once.
    let mut r = Run::new();
    r.layer
        .on_request(request("INVITE", "z9hG4bKn3", "UDP"), udp(), r.now);
    r.run_until(1_000);
    r.layer.terminate(TxId(1));
    r.drain();
    assert_eq!(r.event_times(is_terminated), [1_000]);
    assert_eq!(r.layer.counts(), (0, 0));
}

#[test]
fn a_cancel_finds_its_invite_transaction() {
    let mut r = Run::new();
    let invite = request("INVITE", "z9hG4bKc1", "UDP");
    r.layer.on_request(invite, udp(), r.now);
    let cancel = request("CANCEL", "z9hG4bKc1", "UDP");
    assert_eq!(r.layer.invite_for_cancel(&cancel), Some(TxId(1)));
    let other = request("CANCEL", "z9hG4bKc2", "UDP");
    assert_eq!(r.layer.invite_for_cancel(&other), None);
}

#[test]
fn a_server_transactions_transport_error_is_reported() {
    let mut r = Run::new();
    r.layer
        .on_request(request("OPTIONS", "z9hG4bKte", "TCP"), tcp(), r.now);
    r.layer.on_transport_error(TxId(1));
    r.drain();
    assert_eq!(
        r.event_times(|e| matches!(e, TxEvent::TransportError { id } if *id == TxId(1))),
        [0]
    );
    assert_eq!(r.layer.counts(), (0, 0));
}
