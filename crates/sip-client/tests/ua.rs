//! The UA's own answers (OPTIONS, 405/501, 420, 416, 481, 400, stray responses), calls
//! between two endpoints, 2xx retransmission until the ACK, CANCEL, forking, route
//! sets and target refresh, and challenged requests, over the simulated network.

mod support;

use std::time::{Duration, Instant};

use bytes::Bytes;
use sip_client::simnet::{NetConditions, SimNet, SimUa};
use sip_client::{
    DialogRequest, DialogState, Endpoint, EndpointConfig, Event, OutgoingRequest, Peer,
    RegistrationConfig,
};
use sip_message::{HeaderName, Message, Method, Response, SeededRandom, StatusCode, TransportMode};
use support::*;

fn responses(server: &Scripted) -> Vec<Response> {
    server
        .raw_in
        .iter()
        .filter_map(|(_, b)| match Message::parse(b.clone()) {
            Ok(Message::Response(r)) => Some(r),
            _ => None,
        })
        .collect()
}

fn request_to_ua(method: &str, extra: &str, to_tag: Option<&str>) -> Bytes {
    let to = match to_tag {
        Some(t) => format!("<sip:alice@example.test>;tag={t}"),
        None => "<sip:alice@example.test>".to_string(),
    };
    format!(
        "{method} sip:alice@192.0.2.20:5070 SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK{method}{}\r\nMax-Forwards: 70\r\nFrom: <sip:bob@example.test>;tag=b1\r\nTo: {to}\r\nCall-ID: call-{method}\r\nCSeq: 5 {method}\r\nContact: <sip:bob@192.0.2.10:5060>\r\n{extra}Content-Length: 0\r\n\r\n",
        extra.len()
    )
    .into()
}

fn run(net: &mut SimNet, ua: &mut SimUa, server: &mut Scripted, secs: f64) {
    let t = net.now() + Duration::from_secs_f64(secs);
    net.run_until(&mut [ua, server], t, |_| false);
}

fn to_ua() -> Peer {
    Peer::udp(CLIENT.parse().unwrap())
}

#[test]
fn options_is_answered_with_allow_accept_supported() {
    let start = Instant::now();
    let mut net = SimNet::new(1, NetConditions::perfect(), start);
    let mut server = Scripted::new(SERVER, |_, _| None);
    let (mut ua, _) = ua(1, TransportMode::Udp, 3600);
    server.send_raw(to_ua(), request_to_ua("OPTIONS", "", None));
    run(&mut net, &mut ua, &mut server, 1.0);
    let r = responses(&server);
    assert_eq!(r.len(), 1);
    assert_eq!(r[0].status(), StatusCode::OK);
    let allow = r[0].header(HeaderName::Allow).unwrap();
    for m in ["INVITE", "ACK", "BYE", "CANCEL", "OPTIONS"] {
        assert!(allow.contains(m), "{allow}");
    }
    assert_eq!(r[0].header(HeaderName::Accept), Some("application/sdp"));
    assert!(r[0].has_header(HeaderName::Supported));
    assert!(r[0].to_tag().is_some());
    assert!(
        ua.events.is_empty(),
        "OPTIONS is not the application's business"
    );
}

#[test]
#[allow(clippy::type_complexity)]
fn unwanted_requests_get_the_rfc_answers() {
    let cases: Vec<(Bytes, u16, Option<(HeaderName, &str)>)> = vec![
        (request_to_ua("FOO", "", None), 501, None),
        (request_to_ua("SUBSCRIBE", "Event: presence\r\n", None), 405, Some((HeaderName::Allow, "INVITE"))),
        (request_to_ua("MESSAGE", "Require: 100rel, foo\r\n", None), 420, Some((HeaderName::Unsupported, "100rel, foo"))),
        (request_to_ua("BYE", "", Some("nosuch")), 481, None),
        (request_to_ua("INFO", "", Some("nosuch")), 481, None),
        (request_to_ua("CANCEL", "", None), 481, None),
        (
            "OPTIONS mailto:alice@example.test SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bKm\r\nFrom: <sip:bob@example.test>;tag=b\r\nTo: <sip:alice@example.test>\r\nCall-ID: m\r\nCSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n".into(),
            416,
            None,
        ),
        (
            "INVITE sip:alice@192.0.2.20 SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bKbad\r\nFrom: <sip:bob@example.test>;tag=b\r\nTo: <sip:alice@example.test>\r\nCall-ID: bad\r\nCSeq: 1 INVITE\r\nMax-Forwards: many\r\nContent-Length: 0\r\n\r\n".into(),
            400,
            None,
        ),
    ];
    for (bytes, code, header) in cases {
        let start = Instant::now();
        let mut net = SimNet::new(1, NetConditions::perfect(), start);
        let mut server = Scripted::new(SERVER, |_, _| None);
        let (mut ua, _) = ua(1, TransportMode::Udp, 3600);
        server.send_raw(to_ua(), bytes.clone());
        run(&mut net, &mut ua, &mut server, 1.0);
        let r = responses(&server);
        let text = String::from_utf8_lossy(&bytes)
            .lines()
            .next()
            .unwrap()
            .to_string();
        assert_eq!(r.len(), 1, "{text}");
        assert_eq!(r[0].status().as_u16(), code, "{text}");
        if let Some((name, value)) = header {
            assert!(r[0].header(name).unwrap().contains(value), "{text}");
        }
        assert!(ua.events.is_empty(), "{text}: {:?}", ua.events);
    }
}

#[test]
fn responses_to_requests_never_sent_are_ignored() {
    let start = Instant::now();
    let mut net = SimNet::new(1, NetConditions::perfect(), start);
    let mut server = Scripted::new(SERVER, |_, _| None);
    let (mut ua, _) = ua(1, TransportMode::Udp, 3600);
    server.send_raw(
        to_ua(),
        "SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 192.0.2.20:5070;branch=z9hG4bKnever\r\nFrom: <sip:alice@example.test>;tag=a\r\nTo: <sip:bob@example.test>;tag=b\r\nCall-ID: x\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n".into(),
    );
    run(&mut net, &mut ua, &mut server, 1.0);
    assert!(ua.events.is_empty());
    assert!(server.raw_in.is_empty(), "nothing is sent back");
}

#[test]
fn incoming_call_rings_answers_retransmits_2xx_until_ack() {
    let start = Instant::now();
    let mut net = SimNet::new(1, NetConditions::perfect(), start);
    let mut server = Scripted::new(SERVER, |_, _| None);
    let (mut ua, _) = ua(1, TransportMode::Udp, 3600);
    server.send_raw(to_ua(), request_to_ua("INVITE", "", None));
    run(&mut net, &mut ua, &mut server, 0.5);
    // No answer within 200 ms: 100 Trying from the transaction layer.
    assert_eq!(responses(&server)[0].status(), StatusCode::TRYING);
    let Some(Event::IncomingRequest { tx, request, .. }) = ua.take_events().pop() else {
        panic!("no INVITE delivered");
    };
    let now = net.now();
    ua.endpoint
        .answer_invite(tx, &request, StatusCode::RINGING, None, b"", now)
        .unwrap();
    let d = ua
        .endpoint
        .answer_invite(
            tx,
            &request,
            StatusCode::OK,
            Some("application/sdp"),
            b"v=0\r\n",
            now,
        )
        .unwrap()
        .expect("a dialog");
    assert_eq!(ua.endpoint.dialog(d).unwrap().state, DialogState::Confirmed);
    run(&mut net, &mut ua, &mut server, 3.0);
    let oks: Vec<f64> = server
        .raw_in
        .iter()
        .filter(|(_, b)| b.starts_with(b"SIP/2.0 200"))
        .map(|(t, _)| ((*t - now).as_secs_f64() * 100.0).round() / 100.0)
        .collect();
    // Sent, then T1, 2·T1 (RFC 3261 §13.3.1.4), 10 ms network delay.
    assert_eq!(oks, vec![0.01, 0.51, 1.51]);
    let ok = responses(&server)
        .into_iter()
        .find(|r| r.status() == StatusCode::OK)
        .unwrap();
    assert!(ok.contacts().next().is_some());
    let tag = ok.to_tag().unwrap().to_string();
    server.send_raw(
        to_ua(),
        format!(
            "ACK sip:alice@192.0.2.20:5070 SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bKack1\r\nMax-Forwards: 70\r\nFrom: <sip:bob@example.test>;tag=b1\r\nTo: <sip:alice@example.test>;tag={tag}\r\nCall-ID: call-INVITE\r\nCSeq: 5 ACK\r\nContent-Length: 0\r\n\r\n"
        )
        .into(),
    );
    run(&mut net, &mut ua, &mut server, 10.0);
    let count = server
        .raw_in
        .iter()
        .filter(|(_, b)| b.starts_with(b"SIP/2.0 200"))
        .count();
    assert!(count <= 4, "2xx retransmissions stop at the ACK ({count})");
    assert!(
        ua.events
            .iter()
            .any(|e| matches!(e, Event::Ack { dialog: Some(x), .. } if *x == d))
    );
    // The peer hangs up: 200 and the dialog ends.
    server.send_raw(
        to_ua(),
        format!(
            "BYE sip:alice@192.0.2.20:5070 SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bKbye1\r\nMax-Forwards: 70\r\nFrom: <sip:bob@example.test>;tag=b1\r\nTo: <sip:alice@example.test>;tag={tag}\r\nCall-ID: call-INVITE\r\nCSeq: 6 BYE\r\nContent-Length: 0\r\n\r\n"
        )
        .into(),
    );
    run(&mut net, &mut ua, &mut server, 1.0);
    assert_eq!(
        responses(&server).last().unwrap().cseq_method(),
        &Method::Bye
    );
    assert_eq!(responses(&server).last().unwrap().status(), StatusCode::OK);
    assert!(
        ua.events
            .iter()
            .any(|e| matches!(e, Event::DialogEnded { dialog } if *dialog == d))
    );
    assert_eq!(ua.endpoint.dialog_count(), 0);
}

#[test]
fn a_2xx_never_acknowledged_ends_the_dialog_with_bye() {
    let start = Instant::now();
    let mut net = SimNet::new(1, NetConditions::perfect(), start);
    let mut server = Scripted::new(SERVER, |r, _| {
        (r.method() == &Method::Bye).then(|| (200, vec![]))
    });
    let (mut ua, _) = ua(1, TransportMode::Udp, 3600);
    server.send_raw(to_ua(), request_to_ua("INVITE", "", None));
    run(&mut net, &mut ua, &mut server, 0.1);
    let Some(Event::IncomingRequest { tx, request, .. }) = ua.take_events().pop() else {
        panic!("no INVITE delivered");
    };
    let now = net.now();
    ua.endpoint
        .answer_invite(tx, &request, StatusCode::OK, None, b"", now)
        .unwrap();
    run(&mut net, &mut ua, &mut server, 40.0);
    let byes = server.requests("BYE");
    assert_eq!(byes.len(), 1);
    let sent_at = (byes[0].0 - now).as_secs_f64();
    assert!((32.0..32.1).contains(&sent_at), "BYE at {sent_at}");
    assert_eq!(byes[0].1.uri().as_str(), "sip:bob@192.0.2.10:5060");
    assert!(
        ua.events
            .iter()
            .any(|e| matches!(e, Event::DialogEnded { .. }))
    );
}

#[test]
fn cancel_ends_an_unanswered_invite() {
    let start = Instant::now();
    let mut net = SimNet::new(1, NetConditions::perfect(), start);
    let mut server = Scripted::new(SERVER, |_, _| None);
    let (mut ua, _) = ua(1, TransportMode::Udp, 3600);
    server.send_raw(to_ua(), request_to_ua("INVITE", "", None));
    run(&mut net, &mut ua, &mut server, 0.1);
    let Some(Event::IncomingRequest { tx, request, .. }) = ua.take_events().pop() else {
        panic!("no INVITE delivered");
    };
    ua.endpoint
        .answer_invite(tx, &request, StatusCode::RINGING, None, b"", net.now())
        .unwrap();
    // CANCEL carries the INVITE's branch.
    let cancel = String::from_utf8(request_to_ua("INVITE", "", None).to_vec())
        .unwrap()
        .replacen("INVITE sip", "CANCEL sip", 1)
        .replace("CSeq: 5 INVITE", "CSeq: 5 CANCEL")
        .replace("Contact: <sip:bob@192.0.2.10:5060>\r\n", "");
    server.send_raw(to_ua(), cancel.into());
    run(&mut net, &mut ua, &mut server, 1.0);
    let r = responses(&server);
    let codes: Vec<(u16, String)> = r
        .iter()
        .map(|r| (r.status().as_u16(), r.cseq_method().to_string()))
        .collect();
    assert!(codes.contains(&(200, "CANCEL".into())), "{codes:?}");
    assert!(codes.contains(&(487, "INVITE".into())), "{codes:?}");
    assert!(
        ua.events
            .iter()
            .any(|e| matches!(e, Event::Cancelled { tx: t } if *t == tx))
    );
    assert_eq!(ua.endpoint.dialog_count(), 0, "the early dialog ended");
}

fn second_ua(seed: u64, addr: &str, user: &str) -> SimUa {
    let mut ep = Endpoint::new(
        EndpointConfig::default(),
        sip_auth::CredentialsManager::new(),
        Box::new(SeededRandom::new(seed)),
    );
    ep.add_account(RegistrationConfig::new(
        &format!("sip:{user}@example.test"),
        "sip:example.test",
        Peer::udp(SERVER.parse().unwrap()),
        addr.parse().unwrap(),
    ));
    SimUa::new(ep, addr.parse().unwrap())
}

#[test]
fn two_endpoints_call_and_hang_up() {
    let start = Instant::now();
    let mut net = SimNet::new(3, NetConditions::lossy(0.1), start);
    let mut a = second_ua(1, "192.0.2.31:5060", "alice");
    let mut b = second_ua(2, "192.0.2.32:5060", "bob");
    let mut invite = OutgoingRequest::new(Method::Invite, "sip:bob@192.0.2.32:5060");
    invite.peer = Some(Peer::udp("192.0.2.32:5060".parse().unwrap()));
    invite.content_type = Some("application/sdp".into());
    invite.body = Bytes::from_static(b"v=0\r\n");
    let acct = sip_client::AccountId(0);
    let rid = a.endpoint.send(acct, invite, start).unwrap();
    let limit = start + Duration::from_secs(30);
    net.run_until(&mut [&mut a, &mut b], limit, |n| {
        let _ = n;
        false
    });
    // b got the INVITE once (retransmissions absorbed) and answers.
    let invites: Vec<_> = b
        .take_events()
        .into_iter()
        .filter_map(|e| match e {
            Event::IncomingRequest { tx, request, .. } => Some((tx, request)),
            _ => None,
        })
        .collect();
    assert_eq!(invites.len(), 1);
    let (tx, req) = &invites[0];
    let now = net.now();
    let db = b
        .endpoint
        .answer_invite(
            *tx,
            req,
            StatusCode::OK,
            Some("application/sdp"),
            b"v=0\r\n",
            now,
        )
        .unwrap()
        .unwrap();
    net.run_until(&mut [&mut a, &mut b], now + Duration::from_secs(40), |_| {
        false
    });
    let da = a
        .events
        .iter()
        .find_map(|e| match e {
            Event::Response {
                id,
                response,
                dialog: Some(d),
            } if *id == rid && response.status() == StatusCode::OK => Some(*d),
            _ => None,
        })
        .expect("a got the 200 with a dialog");
    let oks = a
        .events
        .iter()
        .filter(|e| matches!(e, Event::Response { response, .. } if response.status() == StatusCode::OK))
        .count();
    assert_eq!(oks, 1, "retransmitted 2xx are ACKed, not delivered again");
    assert!(
        b.events
            .iter()
            .any(|e| matches!(e, Event::Ack { dialog: Some(d), .. } if *d == db))
    );
    {
        let dla = a.endpoint.dialog(da).unwrap();
        let dlb = b.endpoint.dialog(db).unwrap();
        assert_eq!(dla.call_id, dlb.call_id);
        assert_eq!(dla.local_tag, dlb.remote_tag);
        assert_eq!(dla.remote_tag, dlb.local_tag);
        assert_eq!(dla.remote_target, "sip:bob@192.0.2.32:5060");
        assert_eq!(dlb.remote_target, "sip:alice@192.0.2.31:5060");
    }
    let now = net.now();
    let bye = a
        .endpoint
        .send_in_dialog(da, DialogRequest::new(Method::Bye), now)
        .unwrap();
    net.run_until(&mut [&mut a, &mut b], now + Duration::from_secs(40), |_| {
        false
    });
    assert!(a.events.iter().any(|e| matches!(e, Event::Response { id, response, .. } if *id == bye && response.status() == StatusCode::OK)));
    assert!(
        a.events
            .iter()
            .any(|e| matches!(e, Event::DialogEnded { dialog } if *dialog == da))
    );
    assert!(
        b.events
            .iter()
            .any(|e| matches!(e, Event::DialogEnded { dialog } if *dialog == db))
    );
    assert_eq!(
        (a.endpoint.dialog_count(), b.endpoint.dialog_count()),
        (0, 0)
    );
}

/// Builds a response to `invite` with a To tag, Contact and Record-Route lines.
fn response_to(
    invite: &sip_message::Request,
    code: u16,
    tag: &str,
    contact: &str,
    rr: &[&str],
) -> Bytes {
    let mut b =
        sip_message::MessageBuilder::response_to(invite, StatusCode::new(code).unwrap(), Some(tag))
            .header(HeaderName::Contact, format!("<{contact}>"));
    for r in rr {
        b = b.header(HeaderName::RecordRoute, *r);
    }
    b.finish().freeze()
}

#[test]
fn forked_invite_makes_early_dialogs_and_ends_the_extra_2xx() {
    let start = Instant::now();
    let mut net = SimNet::new(1, NetConditions::perfect(), start);
    let mut server = Scripted::new(SERVER, |r, _| {
        (r.method() == &Method::Bye).then(|| (200, vec![]))
    });
    let (mut ua, acct) = ua(1, TransportMode::Udp, 3600);
    let rid = ua
        .endpoint
        .send(
            acct,
            OutgoingRequest::new(Method::Invite, "sip:bob@example.test"),
            start,
        )
        .unwrap();
    run(&mut net, &mut ua, &mut server, 0.1);
    let invite = server.requests("INVITE")[0].1.clone();
    let c1 = "sip:bob@192.0.2.10:5060;fork=a";
    let c2 = "sip:bob@192.0.2.10:5060;fork=b";
    server.send_raw(to_ua(), response_to(&invite, 180, "ta", c1, &[]));
    server.send_raw(to_ua(), response_to(&invite, 180, "tb", c2, &[]));
    run(&mut net, &mut ua, &mut server, 0.1);
    assert_eq!(ua.endpoint.dialog_count(), 2, "two early dialogs");
    server.send_raw(to_ua(), response_to(&invite, 200, "tb", c2, &[]));
    run(&mut net, &mut ua, &mut server, 0.1);
    assert_eq!(
        ua.endpoint.dialog_count(),
        1,
        "the other early dialog ended"
    );
    server.send_raw(to_ua(), response_to(&invite, 200, "ta", c1, &[]));
    // A retransmission of the first 2xx: ACKed again, not delivered.
    server.send_raw(to_ua(), response_to(&invite, 200, "tb", c2, &[]));
    run(&mut net, &mut ua, &mut server, 2.0);
    let acks = server.requests("ACK");
    let ack_tags: Vec<&str> = acks.iter().map(|(_, r)| r.to_tag().unwrap()).collect();
    assert_eq!(ack_tags, vec!["tb", "ta", "tb"]);
    assert_eq!(acks[0].1.uri().as_str(), c2);
    assert_eq!(acks[0].1.cseq_seq(), invite.cseq_seq());
    let byes = server.requests("BYE");
    assert_eq!(byes.len(), 1);
    assert_eq!(byes[0].1.to_tag(), Some("ta"));
    assert_eq!(byes[0].1.uri().as_str(), c1);
    let delivered: Vec<(u16, Option<&str>)> = ua
        .events
        .iter()
        .filter_map(|e| match e {
            Event::Response { id, response, .. } if *id == rid => {
                Some((response.status().as_u16(), None))
            }
            _ => None,
        })
        .collect();
    assert_eq!(delivered.len(), 3, "180, 180, 200: {delivered:?}");
    assert_eq!(ua.endpoint.dialog_count(), 1);
}

#[test]
fn route_sets_loose_and_strict_and_target_refresh() {
    let start = Instant::now();
    let mut net = SimNet::new(1, NetConditions::perfect(), start);
    let mut server = Scripted::new(SERVER, |r, _| {
        (r.method() != &Method::Invite).then(|| (200, vec![]))
    });
    let (mut ua, acct) = ua(1, TransportMode::Udp, 3600);
    ua.endpoint
        .send(
            acct,
            OutgoingRequest::new(Method::Invite, "sip:bob@example.test"),
            start,
        )
        .unwrap();
    run(&mut net, &mut ua, &mut server, 0.1);
    let invite = server.requests("INVITE")[0].1.clone();
    // Record-Route as the callee sees it (closest to the callee first): the UAC
    // reverses it.
    server.send_raw(
        to_ua(),
        response_to(
            &invite,
            200,
            "t1",
            "sip:bob@198.51.100.7:5062",
            &["<sip:p2.example.test;lr>", "<sip:192.0.2.10:5060;lr>"],
        ),
    );
    run(&mut net, &mut ua, &mut server, 0.1);
    let d = ua
        .events
        .iter()
        .find_map(|e| match e {
            Event::Response {
                dialog: Some(d), ..
            } => Some(*d),
            _ => None,
        })
        .unwrap();
    let dl = ua.endpoint.dialog(d).unwrap().clone();
    assert_eq!(
        dl.route_set,
        vec!["<sip:192.0.2.10:5060;lr>", "<sip:p2.example.test;lr>"]
    );
    let (uri, routes) = dl.target_and_routes();
    assert_eq!(uri, "sip:bob@198.51.100.7:5062");
    assert_eq!(routes, dl.route_set);
    // The ACK went to the first route (the proxy at SERVER), with the Route lines.
    let ack = &server.requests("ACK")[0].1;
    assert_eq!(ack.uri().as_str(), "sip:bob@198.51.100.7:5062");
    let r: Vec<&str> = ack.header_values(HeaderName::Route).collect();
    assert_eq!(
        r,
        vec!["<sip:192.0.2.10:5060;lr>", "<sip:p2.example.test;lr>"]
    );
    // INFO in the dialog: CSeq counts up from the INVITE's.
    let now = net.now();
    ua.endpoint
        .send_in_dialog(d, DialogRequest::new(Method::Info), now)
        .unwrap();
    run(&mut net, &mut ua, &mut server, 0.5);
    let info = &server.requests("INFO")[0].1;
    assert_eq!(info.cseq_seq(), invite.cseq_seq() + 1);
    // Strict routing: a route without lr becomes the Request-URI.
    let mut strict = dl.clone();
    strict.route_set = vec![
        "<sip:strict.example.test>".into(),
        "<sip:p3.example.test;lr>".into(),
    ];
    let (uri, routes) = strict.target_and_routes();
    assert_eq!(uri, "sip:strict.example.test");
    assert_eq!(
        routes,
        vec![
            "<sip:p3.example.test;lr>".to_string(),
            "<sip:bob@198.51.100.7:5062>".to_string()
        ]
    );
    // A re-INVITE from the peer with a new Contact refreshes the target; an older
    // CSeq is refused with 500.
    let reinvite = |cseq: u32, branch: &str| -> Bytes {
        format!(
            "INVITE sip:alice@192.0.2.20:5070 SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK{branch}\r\nMax-Forwards: 70\r\nFrom: <sip:bob@example.test>;tag=t1\r\nTo: <sip:alice@example.test>;tag={}\r\nCall-ID: {}\r\nCSeq: {cseq} INVITE\r\nContact: <sip:bob@198.51.100.99:5070>\r\nContent-Length: 0\r\n\r\n",
            invite.from_tag().unwrap(),
            invite.call_id()
        )
        .into()
    };
    server.send_raw(to_ua(), reinvite(10, "re1"));
    run(&mut net, &mut ua, &mut server, 0.1);
    assert_eq!(
        ua.endpoint.dialog(d).unwrap().remote_target,
        "sip:bob@198.51.100.99:5070"
    );
    server.send_raw(to_ua(), reinvite(9, "re2"));
    run(&mut net, &mut ua, &mut server, 0.1);
    let last = responses(&server).into_iter().last().unwrap();
    assert_eq!(last.status(), StatusCode::SERVER_INTERNAL_ERROR);
    assert_eq!(last.cseq_seq(), 9);
}

#[test]
fn challenged_requests_are_answered_once_with_credentials() {
    let start = Instant::now();
    let mut net = SimNet::new(1, NetConditions::perfect(), start);
    let mut server = Scripted::new(SERVER, |r, _| {
        if r.has_header(HeaderName::ProxyAuthorization) {
            Some((200, vec![]))
        } else {
            Some((
                407,
                vec![(
                    HeaderName::ProxyAuthenticate,
                    "Digest realm=\"example.test\", nonce=\"abc\", algorithm=SHA-256, qop=\"auth\""
                        .into(),
                )],
            ))
        }
    });
    let (mut ua, acct) = ua(1, TransportMode::Udp, 3600);
    let mut msg = OutgoingRequest::new(Method::Message, "sip:bob@example.test");
    msg.content_type = Some("text/plain".into());
    msg.body = Bytes::from_static(b"hello");
    let rid = ua.endpoint.send(acct, msg, start).unwrap();
    run(&mut net, &mut ua, &mut server, 1.0);
    let reqs = server.requests("MESSAGE");
    assert_eq!(reqs.len(), 2);
    assert_eq!(reqs[1].1.cseq_seq(), 2);
    assert_eq!(reqs[0].1.call_id(), reqs[1].1.call_id());
    let auth = reqs[1].1.header(HeaderName::ProxyAuthorization).unwrap();
    assert!(
        auth.contains("algorithm=SHA-256") && auth.contains("username=\"alice\""),
        "{auth}"
    );
    assert_eq!(reqs[1].1.body().as_ref(), b"hello");
    let codes: Vec<u16> = ua
        .events
        .iter()
        .filter_map(|e| match e {
            Event::Response { id, response, .. } if *id == rid => Some(response.status().as_u16()),
            _ => None,
        })
        .collect();
    assert_eq!(codes, vec![200], "the 407 is handled by the endpoint");
}
