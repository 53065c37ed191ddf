//! The UA's own answers (OPTIONS, 405/501, 420, 416, 481, 400, 415, stray
//! responses) and plain requests with challenges, over the simulated network. Calls
//! are in `calls.rs`.

mod support;

use std::time::{Duration, Instant};

use bytes::Bytes;
use sip_client::simnet::{NetConditions, SimNet, SimUa};
use sip_client::{Event, OutgoingRequest, Peer};
use sip_message::{HeaderName, Message, Method, Response, StatusCode, TransportMode};
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
        (request_to_ua("BYE", "", None), 481, None),
        (request_to_ua("UPDATE", "", None), 481, None),
        (request_to_ua("INVITE", "Require: 100rel, gruu\r\n", None), 420, Some((HeaderName::Unsupported, "gruu"))),
        (
            "INVITE sip:alice@192.0.2.20 SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bKtext\r\nFrom: <sip:bob@example.test>;tag=b\r\nTo: <sip:alice@example.test>\r\nCall-ID: tx\r\nCSeq: 1 INVITE\r\nContact: <sip:bob@192.0.2.10>\r\nMax-Forwards: 70\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n\r\nhello".into(),
            415,
            Some((HeaderName::Accept, "application/sdp")),
        ),
        (
            "INVITE sip:alice@192.0.2.20 SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bKnocontact\r\nFrom: <sip:bob@example.test>;tag=b\r\nTo: <sip:alice@example.test>\r\nCall-ID: nc\r\nCSeq: 1 INVITE\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n".into(),
            400,
            None,
        ),
        (request_to_ua("MESSAGE", "Require: bar, foo\r\n", None), 420, Some((HeaderName::Unsupported, "bar, foo"))),
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
        // 0.4 s: before Timer G would send a non-2xx answer to an INVITE again.
        run(&mut net, &mut ua, &mut server, 0.4);
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
    let rid = ua.machine.send(acct, msg, start).unwrap();
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

#[test]
fn an_unsolicited_message_summary_is_an_event() {
    let start = Instant::now();
    let mut net = SimNet::new(1, NetConditions::perfect(), start);
    let mut server = Scripted::new(SERVER, |_, _| None);
    let (mut ua, _) = ua(1, TransportMode::Udp, 3600);
    let body = "Messages-Waiting: yes\r\nMessage-Account: sip:alice@example.test\r\nVoice-Message: 3/1 (1/0)\r\n";
    let notify = format!(
        "NOTIFY sip:alice@192.0.2.20:5070 SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bKmwi\r\nMax-Forwards: 70\r\nFrom: <sip:voicemail@example.test>;tag=v1\r\nTo: <sip:alice@example.test>\r\nCall-ID: mwi-1\r\nCSeq: 1 NOTIFY\r\nEvent: message-summary\r\nSubscription-State: active\r\nContent-Type: application/simple-message-summary\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    server.send_raw(to_ua(), Bytes::from(notify));
    run(&mut net, &mut ua, &mut server, 0.5);
    assert_eq!(responses(&server)[0].status(), StatusCode::OK);
    let summary = ua.events.iter().find_map(|e| match e {
        Event::MessageSummary { summary, .. } => Some(summary.clone()),
        _ => None,
    });
    let s = summary.expect("the summary");
    assert!(s.waiting);
    assert_eq!(
        s.voice.map(|v| (v.new, v.old, v.urgent_new)),
        Some((3, 1, 1))
    );
}
