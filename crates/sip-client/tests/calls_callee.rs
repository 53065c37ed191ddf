//! Calls we receive, against a scripted caller on the simulated network: ringing,
//! answering with our answer to the offer, the 2xx retransmitted until the ACK on
//! every transport, CANCEL and BYE before the answer, one To tag for every response,
//! late offers, re-INVITE and UPDATE from the peer, INFO DTMF, CSeq and ACK checks.

mod support;

use std::time::{Duration, Instant};

use bytes::Bytes;
use sip_client::simnet::{NetConditions, SimNet, SimUa};
use sip_client::{
    CallError, CallEvent, CallId, CallState, EndReason, EndpointConfig, Peer, TimerConfig,
};
use sip_message::offer_answer::{LocalMedia, offer};
use sip_message::sdp::{Direction, SessionDescription};
use sip_message::{HeaderName, Response, StatusCode, TransportMode};
use support::*;

/// A scripted caller (bob at SERVER) and our UA (alice at CLIENT).
struct Rig {
    net: SimNet,
    ua: SimUa,
    peer: Scripted,
    mode: TransportMode,
    t0: Instant,
}

impl Rig {
    fn new(mode: TransportMode, timers: TimerConfig) -> Rig {
        let config = EndpointConfig {
            timers,
            ..EndpointConfig::default()
        };
        Rig::configured(mode, config)
    }

    fn configured(mode: TransportMode, config: EndpointConfig) -> Rig {
        let t0 = Instant::now();
        let (ua, _) = ua_with(1, mode, 3600, config);
        Rig {
            net: SimNet::new(1, NetConditions::perfect(), t0),
            ua,
            // The caller answers our requests (BYE...) with 200.
            peer: Scripted::new(SERVER, |_, _| Some((200, vec![]))),
            mode,
            t0,
        }
    }

    fn udp() -> Rig {
        Rig::new(TransportMode::Udp, TimerConfig::default())
    }

    fn send(&mut self, text: String) {
        let to = Peer::new(self.mode, CLIENT.parse().unwrap());
        self.peer.send_raw(to, Bytes::from(text));
    }

    fn run(&mut self, secs: f64) {
        let t = self.net.now() + Duration::from_secs_f64(secs);
        self.net
            .run_until(&mut [&mut self.ua, &mut self.peer], t, |_| false);
    }

    fn now(&self) -> Instant {
        self.net.now()
    }

    /// Responses the caller got, with seconds since the start (to 10 ms).
    fn responses(&self) -> Vec<(f64, Response)> {
        responses_in(&self.peer.raw_in)
            .into_iter()
            .map(|(t, r)| (((t - self.t0).as_secs_f64() * 100.0).round() / 100.0, r))
            .collect()
    }

    fn statuses(&self, method: &str) -> Vec<u16> {
        self.responses()
            .iter()
            .filter(|(_, r)| r.cseq_method().as_str() == method)
            .map(|(_, r)| r.status().as_u16())
            .collect()
    }

    /// The call that arrived.
    fn call(&self) -> CallId {
        *self.ua.incoming_calls().first().expect("a call arrived")
    }

    fn our_tag(&self) -> String {
        let c = self.call();
        self.ua
            .machine
            .call_state(c)
            .unwrap()
            .local_tag()
            .to_string()
    }
}

/// The caller's offer: PCMU, PCMA and telephone-event at 192.0.2.10:30000.
fn offer_sdp(direction: Direction) -> String {
    let mut m = LocalMedia::new("192.0.2.10".parse().unwrap(), 30000);
    m.direction = direction;
    offer(&m, 9, 1).to_string()
}

/// A request from bob to alice in call `call-1`, with `to_tag` when in a dialog.
fn request(
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
    let cseq_method = if method == "ACK" && branch.starts_with("z9hG4bKinv") {
        "ACK"
    } else {
        method
    };
    let (ct, body) = match body {
        Some((t, b)) => (format!("Content-Type: {t}\r\n"), b.to_string()),
        None => (String::new(), String::new()),
    };
    format!(
        "{method} sip:alice@192.0.2.20:5070 SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.10:5060;branch={branch}\r\nMax-Forwards: 70\r\nFrom: <sip:bob@example.test>;tag=b1\r\nTo: {to}\r\nCall-ID: call-1\r\nCSeq: {cseq} {cseq_method}\r\nContact: <sip:bob@192.0.2.10:5060>\r\n{extra}{ct}Content-Length: {}\r\n\r\n{body}",
        body.len()
    )
}

fn invite_with_offer() -> String {
    request(
        "INVITE",
        5,
        "z9hG4bKinv1",
        None,
        "",
        Some(("application/sdp", &offer_sdp(Direction::SendRecv))),
    )
}

/// Rings, answers, and delivers the ACK: an established call.
fn established(rig: &mut Rig) -> CallId {
    rig.send(invite_with_offer());
    rig.run(0.1);
    let c = rig.call();
    let now = rig.now();
    rig.ua.machine.answer(c, Some(media(40000)), now).unwrap();
    rig.run(0.1);
    let tag = rig.our_tag();
    rig.send(request("ACK", 5, "z9hG4bKack1", Some(&tag), "", None));
    rig.run(0.1);
    assert_eq!(
        rig.ua.machine.call_state(c).unwrap().state(),
        CallState::Confirmed
    );
    c
}

#[test]
fn ring_answer_ack_and_the_peers_bye() {
    let mut rig = Rig::udp();
    rig.send(invite_with_offer());
    rig.run(0.5);
    // No answer within 200 ms: 100 Trying from the transaction.
    assert_eq!(rig.statuses("INVITE"), [100]);
    let c = rig.call();
    let now = rig.now();
    rig.ua
        .machine
        .ring(c, StatusCode::RINGING, None, now)
        .unwrap();
    rig.ua.machine.answer(c, Some(media(40000)), now).unwrap();
    rig.run(0.1);
    let r = rig.responses();
    let ringing = &r[1].1;
    let ok = &r[2].1;
    assert_eq!(ringing.status(), StatusCode::RINGING);
    assert_eq!(ok.status(), StatusCode::OK);
    assert_eq!(ringing.to_tag(), ok.to_tag(), "one To tag (§8.2.6.2)");
    assert!(ok.contacts().next().is_some());
    assert!(ok.header(HeaderName::Allow).unwrap().contains("UPDATE"));
    let answer = SessionDescription::parse_bytes(ok.body()).unwrap();
    assert_eq!(answer.media[0].port, 40000);
    assert_eq!(answer.media[0].formats, ["0", "8", "101"]);
    let negotiated = rig
        .ua
        .call_events()
        .iter()
        .find_map(|(_, e)| match e {
            CallEvent::Media { negotiated, .. } => Some(negotiated.clone()),
            _ => None,
        })
        .expect("the media event");
    assert_eq!(negotiated.remote, Some("192.0.2.10:30000".parse().unwrap()));
    assert_eq!(negotiated.codec.encoding, "PCMU");
    assert_eq!(negotiated.telephone_event, Some(101));
    let tag = rig.our_tag();
    rig.send(request("ACK", 5, "z9hG4bKack1", Some(&tag), "", None));
    rig.run(0.1);
    assert!(
        rig.ua
            .call_events()
            .iter()
            .any(|(_, e)| matches!(e, CallEvent::Confirmed))
    );
    rig.send(request("BYE", 6, "z9hG4bKbye1", Some(&tag), "", None));
    rig.run(0.1);
    assert_eq!(rig.statuses("BYE"), [200]);
    assert_eq!(rig.ua.ended(c), Some(EndReason::RemoteBye));
    assert_eq!(rig.ua.machine.call_count(), 0);
}

/// The times our 2xx reached the caller, with `timers`, over `mode`, when the ACK
/// comes at `ack_at` seconds.
fn ok_times(mode: TransportMode, timers: TimerConfig, ack_at: f64) -> Vec<f64> {
    let mut rig = Rig::new(mode, timers);
    rig.send(invite_with_offer());
    rig.run(0.05);
    let c = rig.call();
    let now = rig.now();
    rig.ua.machine.answer(c, Some(media(40000)), now).unwrap();
    rig.run(ack_at - 0.05);
    let tag = rig.our_tag();
    rig.send(request("ACK", 5, "z9hG4bKack1", Some(&tag), "", None));
    rig.run(20.0);
    rig.responses()
        .into_iter()
        .filter(|(_, r)| r.status() == StatusCode::OK)
        .map(|(t, _)| t)
        .collect()
}

#[test]
fn the_2xx_is_retransmitted_until_the_ack_on_every_transport() {
    // §13.3.1.4: T1, 2·T1, 4·T1... capped at T2, whatever the transport; the ACK
    // stops it. Sent at 0.05 s, 10 ms on the way.
    let default = TimerConfig::default();
    for mode in [TransportMode::Udp, TransportMode::Tcp] {
        assert_eq!(
            ok_times(mode, default, 4.0),
            [0.06, 0.56, 1.56, 3.56],
            "{mode}"
        );
    }
    // T1 = 100 ms, T2 = 400 ms.
    let fast = TimerConfig {
        t1: Duration::from_millis(100),
        t2: Duration::from_millis(400),
        ..default
    };
    assert_eq!(
        ok_times(TransportMode::Tcp, fast, 1.5),
        [0.06, 0.16, 0.36, 0.76, 1.16]
    );
}

#[test]
fn no_ack_ends_the_call_with_bye_after_64_t1() {
    for (t1, at) in [(500, 32.06), (100, 6.46)] {
        let timers = TimerConfig {
            t1: Duration::from_millis(t1),
            ..TimerConfig::default()
        };
        let mut rig = Rig::new(TransportMode::Udp, timers);
        rig.send(invite_with_offer());
        rig.run(0.05);
        let c = rig.call();
        let now = rig.now();
        rig.ua.machine.answer(c, Some(media(40000)), now).unwrap();
        rig.run(40.0);
        let byes = rig.peer.requests("BYE");
        assert_eq!(byes.len(), 1, "T1 {t1}");
        let sent = ((byes[0].0 - rig.t0).as_secs_f64() * 100.0).round() / 100.0;
        // Answered at 0.05 s; 10 ms on the way.
        assert_eq!(sent, at, "T1 {t1}");
        assert_eq!(byes[0].1.uri().as_str(), "sip:bob@192.0.2.10:5060");
        assert_eq!(rig.ua.ended(c), Some(EndReason::NoAck));
    }
}

#[test]
fn cancel_gets_200_and_the_invite_487_with_the_same_tag() {
    let mut rig = Rig::udp();
    rig.send(invite_with_offer());
    rig.run(0.1);
    let c = rig.call();
    let now = rig.now();
    rig.ua
        .machine
        .ring(c, StatusCode::RINGING, None, now)
        .unwrap();
    rig.ua
        .machine
        .ring(c, StatusCode::SESSION_PROGRESS, None, now)
        .unwrap();
    rig.run(0.1);
    rig.send(request("CANCEL", 5, "z9hG4bKinv1", None, "", None));
    rig.run(0.3);
    assert_eq!(rig.statuses("CANCEL"), [200]);
    assert_eq!(rig.statuses("INVITE"), [180, 183, 487]);
    let r = rig.responses();
    let tags: Vec<_> = r
        .iter()
        .map(|(_, x)| x.to_tag().unwrap().to_string())
        .collect();
    assert!(tags.iter().all(|t| *t == tags[0]), "{tags:?}");
    assert_eq!(rig.ua.ended(c), Some(EndReason::CancelledByPeer));
    // Answering afterwards is refused: the call is gone.
    let now = rig.now();
    assert_eq!(rig.ua.machine.answer(c, None, now), Err(CallError::NoCall));
}

#[test]
fn a_bye_before_the_answer_ends_the_invite_with_487() {
    let mut rig = Rig::udp();
    rig.send(invite_with_offer());
    rig.run(0.1);
    let c = rig.call();
    let now = rig.now();
    rig.ua
        .machine
        .ring(c, StatusCode::RINGING, None, now)
        .unwrap();
    rig.run(0.1);
    let tag = rig.our_tag();
    rig.send(request("BYE", 6, "z9hG4bKbye0", Some(&tag), "", None));
    rig.run(0.3);
    assert_eq!(rig.statuses("BYE"), [200]);
    assert_eq!(rig.statuses("INVITE"), [180, 487]);
    assert_eq!(rig.ua.ended(c), Some(EndReason::CancelledByPeer));
    let now = rig.now();
    assert_eq!(rig.ua.machine.answer(c, None, now), Err(CallError::NoCall));
    rig.run(5.0);
    assert!(
        !rig.statuses("INVITE").contains(&200),
        "no 2xx for a dead dialog"
    );
}

#[test]
fn a_cancel_after_the_answer_gets_200_and_changes_nothing() {
    let mut rig = Rig::udp();
    let c = established(&mut rig);
    // The INVITE's transaction still absorbs retransmissions (Timer L): a CANCEL
    // matches it and gets 200 (§9.2), the call goes on.
    rig.send(request("CANCEL", 5, "z9hG4bKinv1", None, "", None));
    rig.run(0.1);
    assert_eq!(rig.statuses("CANCEL"), [200]);
    assert_eq!(
        rig.ua.machine.call_state(c).unwrap().state(),
        CallState::Confirmed
    );
    // A CANCEL for a re-INVITE already answered: 200, the dialog stays.
    let tag = rig.our_tag();
    let sdp = offer_sdp(Direction::SendRecv);
    rig.send(request(
        "INVITE",
        6,
        "z9hG4bKre1",
        Some(&tag),
        "",
        Some(("application/sdp", &sdp)),
    ));
    rig.run(0.1);
    rig.send(request("CANCEL", 6, "z9hG4bKre1", Some(&tag), "", None));
    rig.run(0.1);
    assert_eq!(rig.statuses("CANCEL"), [200, 200]);
    assert_eq!(
        rig.ua.machine.call_state(c).unwrap().state(),
        CallState::Confirmed
    );
    // A CANCEL matching nothing: 481.
    rig.send(request("CANCEL", 9, "z9hG4bKnothing", None, "", None));
    rig.run(0.1);
    assert_eq!(rig.statuses("CANCEL"), [200, 200, 481]);
}

#[test]
fn an_offer_without_a_common_codec_gets_488() {
    let mut rig = Rig::udp();
    let g729 = "v=0\r\no=- 1 1 IN IP4 192.0.2.10\r\ns=-\r\nc=IN IP4 192.0.2.10\r\nt=0 0\r\nm=audio 30000 RTP/AVP 18\r\na=rtpmap:18 G729/8000\r\n";
    rig.send(request(
        "INVITE",
        5,
        "z9hG4bKinv1",
        None,
        "",
        Some(("application/sdp", g729)),
    ));
    rig.run(0.1);
    assert_eq!(rig.statuses("INVITE"), [488]);
    let r = rig.responses();
    assert!(
        r[0].1
            .header(HeaderName::Warning)
            .unwrap()
            .starts_with("305")
    );
    assert!(
        rig.ua.incoming_calls().is_empty(),
        "no call for the application"
    );
    assert_eq!(rig.ua.machine.call_count(), 0);
}

#[test]
fn a_call_may_ring_for_minutes() {
    // §13.3.1.1: the 180 goes again every minute; the INVITE can be answered
    // long after 180 s + 64·T1.
    let mut rig = Rig::udp();
    rig.send(invite_with_offer());
    rig.run(0.05);
    let c = rig.call();
    let now = rig.now();
    rig.ua
        .machine
        .ring(c, StatusCode::RINGING, None, now)
        .unwrap();
    rig.run(250.0);
    let ringing: Vec<f64> = rig
        .responses()
        .into_iter()
        .filter(|(_, r)| r.status() == StatusCode::RINGING)
        .map(|(t, _)| t.round())
        .collect();
    assert_eq!(ringing, [0.0, 60.0, 120.0, 180.0, 240.0]);
    let now = rig.now();
    rig.ua.machine.answer(c, Some(media(40000)), now).unwrap();
    rig.run(0.1);
    assert_eq!(rig.statuses("INVITE").last(), Some(&200));
}

#[test]
fn a_late_offer_is_answered_in_the_ack() {
    let mut rig = Rig::udp();
    rig.send(request("INVITE", 5, "z9hG4bKinv1", None, "", None));
    rig.run(0.1);
    let c = rig.call();
    let now = rig.now();
    rig.ua.machine.answer(c, Some(media(40000)), now).unwrap();
    rig.run(0.1);
    let ok = rig.responses().last().unwrap().1.clone();
    let our_offer = SessionDescription::parse_bytes(ok.body()).unwrap();
    assert_eq!(our_offer.media[0].port, 40000);
    // The ACK answers.
    let m = LocalMedia::new("192.0.2.10".parse().unwrap(), 30002);
    let ans = sip_message::offer_answer::answer(&m, &our_offer, 9, 1)
        .unwrap()
        .0
        .to_string();
    let tag = rig.our_tag();
    rig.send(request(
        "ACK",
        5,
        "z9hG4bKack1",
        Some(&tag),
        "",
        Some(("application/sdp", &ans)),
    ));
    rig.run(0.1);
    let remote = rig.ua.call_events().iter().find_map(|(_, e)| match e {
        CallEvent::Media { negotiated, .. } => negotiated.remote,
        _ => None,
    });
    assert_eq!(remote, Some("192.0.2.10:30002".parse().unwrap()));
    // An ACK without the answer ends such a call with BYE.
    let mut rig = Rig::udp();
    rig.send(request("INVITE", 5, "z9hG4bKinv1", None, "", None));
    rig.run(0.1);
    let c = rig.call();
    let now = rig.now();
    rig.ua.machine.answer(c, Some(media(40000)), now).unwrap();
    rig.run(0.1);
    let tag = rig.our_tag();
    rig.send(request("ACK", 5, "z9hG4bKack1", Some(&tag), "", None));
    rig.run(0.5);
    assert_eq!(rig.peer.requests("BYE").len(), 1);
    assert!(matches!(rig.ua.ended(c), Some(EndReason::NotAcceptable(_))));
}

#[test]
fn the_peers_reinvite_puts_us_on_hold_and_back() {
    let mut rig = Rig::udp();
    let c = established(&mut rig);
    let tag = rig.our_tag();
    for (cseq, dir, ours) in [
        (6, Direction::SendOnly, Direction::RecvOnly),
        (7, Direction::SendRecv, Direction::SendRecv),
    ] {
        let sdp = offer_sdp(dir);
        rig.send(request(
            "INVITE",
            cseq,
            &format!("z9hG4bKre{cseq}"),
            Some(&tag),
            "",
            Some(("application/sdp", &sdp)),
        ));
        rig.run(0.1);
        let ok = rig.responses().last().unwrap().1.clone();
        assert_eq!(ok.status(), StatusCode::OK);
        assert_eq!(ok.cseq_seq(), cseq);
        let a = SessionDescription::parse_bytes(ok.body()).unwrap();
        assert_eq!(a.direction(&a.media[0]), ours);
        rig.send(request(
            "ACK",
            cseq,
            &format!("z9hG4bKack{cseq}"),
            Some(&tag),
            "",
            None,
        ));
        rig.run(0.1);
    }
    let dirs: Vec<Direction> = rig
        .ua
        .call_events()
        .iter()
        .filter_map(|(_, e)| match e {
            CallEvent::Media { negotiated, .. } => Some(negotiated.direction),
            _ => None,
        })
        .collect();
    assert_eq!(
        dirs,
        [
            Direction::SendRecv,
            Direction::RecvOnly,
            Direction::SendRecv
        ]
    );
    // The old way of holding: c=0.0.0.0. We stop sending.
    let old = offer_sdp(Direction::SendRecv).replace("c=IN IP4 192.0.2.10", "c=IN IP4 0.0.0.0");
    rig.send(request(
        "INVITE",
        8,
        "z9hG4bKre8",
        Some(&tag),
        "",
        Some(("application/sdp", &old)),
    ));
    rig.run(0.1);
    let n = rig.ua.machine.call_state(c).unwrap().negotiated().unwrap();
    assert_eq!(n.remote, None);
    assert_eq!(n.direction, Direction::RecvOnly);
}

#[test]
fn a_late_ack_for_an_old_invite_does_not_stop_the_reinvite_2xx() {
    let mut rig = Rig::udp();
    established(&mut rig);
    let tag = rig.our_tag();
    let sdp = offer_sdp(Direction::SendRecv);
    rig.send(request(
        "INVITE",
        10,
        "z9hG4bKre10",
        Some(&tag),
        "",
        Some(("application/sdp", &sdp)),
    ));
    rig.run(0.1);
    // The initial INVITE's ACK, late: it must not stop the 2xx to CSeq 10.
    rig.send(request("ACK", 5, "z9hG4bKacklate", Some(&tag), "", None));
    rig.run(2.0);
    let oks_10 = |rig: &Rig| {
        rig.responses()
            .iter()
            .filter(|(_, r)| r.cseq_seq() == 10 && r.status() == StatusCode::OK)
            .count()
    };
    assert_eq!(oks_10(&rig), 3, "sent, +T1, +2·T1");
    rig.send(request("ACK", 10, "z9hG4bKack10", Some(&tag), "", None));
    rig.run(10.0);
    assert_eq!(oks_10(&rig), 3, "the right ACK stops it");
}

#[test]
fn an_equal_cseq_is_accepted_and_a_lower_one_refused() {
    let mut rig = Rig::udp();
    established(&mut rig);
    let tag = rig.our_tag();
    // §12.2.2 refuses only a lower CSeq: the INVITE had 5.
    rig.send(request("INFO", 5, "z9hG4bKi5", Some(&tag), "", None));
    rig.send(request("INFO", 4, "z9hG4bKi4", Some(&tag), "", None));
    rig.run(0.1);
    assert_eq!(rig.statuses("INFO"), [200, 500]);
}

#[test]
fn info_dtmf_becomes_an_event() {
    let mut rig = Rig::udp();
    let c = established(&mut rig);
    let tag = rig.our_tag();
    rig.send(request(
        "INFO",
        6,
        "z9hG4bKd1",
        Some(&tag),
        "",
        Some(("application/dtmf-relay", "Signal=5\r\nDuration=160\r\n")),
    ));
    rig.send(request(
        "INFO",
        7,
        "z9hG4bKd2",
        Some(&tag),
        "",
        Some(("application/dtmf", "#")),
    ));
    rig.run(0.1);
    assert_eq!(rig.statuses("INFO"), [200, 200]);
    let digits: Vec<(char, Option<u32>)> = rig
        .ua
        .call_events()
        .iter()
        .filter_map(|(id, e)| match e {
            CallEvent::Dtmf { digit, duration_ms } if *id == c => Some((*digit, *duration_ms)),
            _ => None,
        })
        .collect();
    assert_eq!(digits, [('5', Some(160)), ('#', None)]);
}

#[test]
fn an_update_with_an_offer_is_answered() {
    let mut rig = Rig::udp();
    established(&mut rig);
    let tag = rig.our_tag();
    let sdp = offer_sdp(Direction::SendOnly);
    rig.send(request(
        "UPDATE",
        6,
        "z9hG4bKu1",
        Some(&tag),
        "",
        Some(("application/sdp", &sdp)),
    ));
    rig.run(0.1);
    let ok = rig.responses().last().unwrap().1.clone();
    assert_eq!(ok.cseq_method().as_str(), "UPDATE");
    assert_eq!(ok.status(), StatusCode::OK);
    let a = SessionDescription::parse_bytes(ok.body()).unwrap();
    assert_eq!(a.direction(&a.media[0]), Direction::RecvOnly);
    assert!(
        ok.contacts().next().is_some(),
        "UPDATE refreshes the target"
    );
}

#[test]
fn requests_for_no_dialog_and_after_the_end_get_481() {
    let mut rig = Rig::udp();
    let c = established(&mut rig);
    rig.send(request("INFO", 6, "z9hG4bKx1", Some("other"), "", None));
    rig.run(0.1);
    assert_eq!(rig.statuses("INFO"), [481]);
    let now = rig.now();
    rig.ua.machine.hangup(c, now).unwrap();
    rig.run(0.5);
    assert_eq!(rig.ua.ended(c), Some(EndReason::LocalBye));
    let tag = rig
        .peer
        .requests("BYE")
        .first()
        .map(|(_, r)| r.from_tag().unwrap().to_string())
        .unwrap();
    rig.send(request("INFO", 7, "z9hG4bKx2", Some(&tag), "", None));
    rig.run(0.1);
    assert_eq!(rig.statuses("INFO"), [481, 481]);
}

#[test]
fn a_transport_error_on_our_answer_ends_the_call() {
    use sip_client::{Input, Machine, TxId};
    let mut rig = Rig::new(TransportMode::Tcp, TimerConfig::default());
    rig.send(invite_with_offer());
    rig.run(0.1);
    let c = rig.call();
    // The INVITE's server transaction is the endpoint's first: its connection broke.
    let now = rig.now();
    rig.ua
        .machine
        .handle_input(Input::TransportError { tx: TxId(1) }, now);
    while let Some(o) = rig.ua.machine.poll_output() {
        if let sip_client::Output::Event(e) = o {
            rig.ua.events.push(e);
        }
    }
    assert_eq!(rig.ua.ended(c), Some(EndReason::Transport));
    assert_eq!(rig.ua.machine.call_count(), 0);
}

#[test]
fn we_refresh_the_session_when_the_caller_has_no_timer() {
    // §9: an INVITE without Session-Expires from a UA without timer support: our
    // 2xx sets a session timer with us as the refresher.
    let config = EndpointConfig {
        session_timer: Some(sip_client::SessionTimerConfig {
            interval: 90,
            min_se: 90,
        }),
        ..EndpointConfig::default()
    };
    let mut rig = Rig::configured(TransportMode::Udp, config);
    rig.peer.sdp = true;
    let c = established(&mut rig);
    let ok = rig
        .responses()
        .into_iter()
        .find(|(_, r)| r.status() == StatusCode::OK)
        .unwrap()
        .1;
    assert_eq!(
        ok.header(HeaderName::SessionExpires),
        Some("90;refresher=uas")
    );
    assert_eq!(ok.header(HeaderName::Require), None);
    rig.run(100.0);
    let refreshes = rig.peer.requests("INVITE");
    let at: Vec<f64> = refreshes
        .iter()
        .map(|(t, _)| ((*t - rig.t0).as_secs_f64()).round())
        .collect();
    assert_eq!(at, [45.0, 90.0], "every half interval");
    let se = refreshes[0].1.header(HeaderName::SessionExpires).unwrap();
    assert_eq!(se, "90;refresher=uac");
    assert_eq!(refreshes[0].1.header(HeaderName::MinSe), Some("90"));
    assert_eq!(
        rig.ua.machine.call_state(c).unwrap().state(),
        CallState::Confirmed
    );
}

#[test]
fn a_session_interval_below_our_minimum_gets_422() {
    let mut rig = Rig::udp();
    let sdp = offer_sdp(Direction::SendRecv);
    rig.send(request(
        "INVITE",
        5,
        "z9hG4bKinv1",
        None,
        "Session-Expires: 60\r\nSupported: timer\r\n",
        Some(("application/sdp", &sdp)),
    ));
    rig.run(0.1);
    assert_eq!(rig.statuses("INVITE"), [422]);
    let r = rig.responses();
    assert_eq!(r[0].1.header(HeaderName::MinSe), Some("90"));
    assert!(rig.ua.incoming_calls().is_empty());
}

#[test]
fn a_reliable_180_is_retransmitted_until_its_prack() {
    let mut rig = Rig::udp();
    let sdp = offer_sdp(Direction::SendRecv);
    rig.send(request(
        "INVITE",
        5,
        "z9hG4bKinv1",
        None,
        "Require: 100rel\r\n",
        Some(("application/sdp", &sdp)),
    ));
    rig.run(0.05);
    let c = rig.call();
    let now = rig.now();
    rig.ua
        .machine
        .ring(c, StatusCode::RINGING, None, now)
        .unwrap();
    // A second reliable one must wait for the first's PRACK.
    assert_eq!(
        rig.ua.machine.ring(c, StatusCode::RINGING, None, now),
        Err(CallError::ReliablePending)
    );
    rig.run(2.0);
    let ringing: Vec<(f64, Response)> = rig
        .responses()
        .into_iter()
        .filter(|(_, r)| r.status() == StatusCode::RINGING)
        .collect();
    let times: Vec<f64> = ringing.iter().map(|(t, _)| *t).collect();
    assert_eq!(times, [0.06, 0.56, 1.56], "T1 doubling");
    let r = &ringing[0].1;
    assert_eq!(r.header(HeaderName::Require), Some("100rel"));
    let rseq: u32 = r.header(HeaderName::RSeq).unwrap().parse().unwrap();
    let tag = rig.our_tag();
    // A PRACK naming another RSeq does not count.
    let wrong = format!("RAck: {} 5 INVITE\r\n", rseq + 1);
    rig.send(request("PRACK", 6, "z9hG4bKp0", Some(&tag), &wrong, None));
    let rack = format!("RAck: {rseq} 5 INVITE\r\n");
    rig.send(request("PRACK", 7, "z9hG4bKp1", Some(&tag), &rack, None));
    rig.run(10.0);
    assert_eq!(rig.statuses("PRACK"), [481, 200]);
    let after = rig
        .responses()
        .iter()
        .filter(|(_, r)| r.status() == StatusCode::RINGING)
        .count();
    assert_eq!(after, 3, "the PRACK stopped the retransmissions");
}

#[test]
fn no_prack_refuses_the_invite_after_64_t1() {
    let mut rig = Rig::udp();
    let sdp = offer_sdp(Direction::SendRecv);
    rig.send(request(
        "INVITE",
        5,
        "z9hG4bKinv1",
        None,
        "Require: 100rel\r\n",
        Some(("application/sdp", &sdp)),
    ));
    rig.run(0.05);
    let c = rig.call();
    let now = rig.now();
    rig.ua
        .machine
        .ring(c, StatusCode::RINGING, None, now)
        .unwrap();
    rig.run(40.0);
    assert_eq!(rig.statuses("INVITE").last(), Some(&500));
    assert_eq!(rig.ua.ended(c), Some(EndReason::NoPrack));
}
