//! Calls we place, against a scripted callee on the simulated network: the INVITE
//! challenged and sent again, the ACK with the INVITE's credentials and a late
//! offer's answer, provisional responses and forks, CANCEL (only after a provisional
//! response, once, given up after 64·T1, crossing a 2xx), the ring timeout, route
//! sets, re-INVITE retransmissions and glare, and dialogs ended by 481 or 408.

mod support;

use std::time::{Duration, Instant};

use bytes::Bytes;
use sip_client::simnet::{NetConditions, SimNet, SimUa};
use sip_client::{CallError, CallEvent, CallId, CallSpec, EndReason, EndpointConfig, TimerConfig};
use sip_message::sdp::SessionDescription;
use sip_message::{HeaderName, MessageBuilder, Method, Request, StatusCode, TransportMode};
use support::*;

/// Our UA (alice) and a scripted callee at SERVER, which is also the outbound proxy.
struct Rig {
    net: SimNet,
    ua: SimUa,
    peer: Scripted,
    t0: Instant,
}

impl Rig {
    fn new(timers: TimerConfig, script: impl FnMut(&Request, usize) -> Answer + 'static) -> Rig {
        let t0 = Instant::now();
        let config = EndpointConfig {
            timers,
            ..EndpointConfig::default()
        };
        let (ua, _) = ua_with(1, TransportMode::Udp, 3600, config);
        let mut peer = Scripted::new(SERVER, script);
        peer.sdp = true;
        Rig {
            net: SimNet::new(1, NetConditions::perfect(), t0),
            ua,
            peer,
            t0,
        }
    }

    fn with(script: impl FnMut(&Request, usize) -> Answer + 'static) -> Rig {
        Rig::new(TimerConfig::default(), script)
    }

    fn call(&mut self, spec: CallSpec) -> CallId {
        let now = self.net.now();
        let acct = sip_client::AccountId(0);
        self.ua.machine.call(acct, spec, now).unwrap()
    }

    fn run(&mut self, secs: f64) {
        let t = self.net.now() + Duration::from_secs_f64(secs);
        self.net
            .run_until(&mut [&mut self.ua, &mut self.peer], t, |_| false);
    }

    fn now(&self) -> Instant {
        self.net.now()
    }

    fn secs(&self, t: Instant) -> f64 {
        ((t - self.t0).as_secs_f64() * 100.0).round() / 100.0
    }

    /// Sends the UA a response built from the last INVITE the peer got.
    fn respond(&mut self, code: u16, tag: Option<&str>, contact: &str, rr: &[&str], sdp: bool) {
        let invite = self.last("INVITE");
        let mut b = MessageBuilder::response_to(&invite, StatusCode::new(code).unwrap(), tag);
        if !contact.is_empty() {
            b = b.header(HeaderName::Contact, format!("<{contact}>"));
        }
        for r in rr {
            b = b.header(HeaderName::RecordRoute, *r);
        }
        let bytes = if sdp {
            let body = peer_sdp(&invite, self.peer.addr);
            b.finish_with_body(Some("application/sdp"), body.as_bytes())
        } else {
            b.finish()
        };
        let to = sip_client::Peer::udp(CLIENT.parse().unwrap());
        self.peer.send_raw(to, bytes.freeze());
    }

    fn last(&self, method: &str) -> Request {
        self.peer.requests(method).last().expect(method).1.clone()
    }

    fn events(&self, id: CallId) -> Vec<&CallEvent> {
        self.ua
            .call_events()
            .into_iter()
            .filter(|(c, _)| *c == id)
            .map(|(_, e)| e)
            .collect()
    }
}

fn spec() -> CallSpec {
    CallSpec::new("sip:bob@example.test", media(40000))
}

/// A script: 407 to the first INVITE, 200 to the rest and to everything else.
fn challenge_then_ok() -> impl FnMut(&Request, usize) -> Answer {
    |r, _| {
        if r.method() == &Method::Invite && !r.has_header(HeaderName::ProxyAuthorization) {
            Some((
                407,
                vec![(
                    HeaderName::ProxyAuthenticate,
                    "Digest realm=\"example.test\", nonce=\"n1\", qop=\"auth\"".into(),
                )],
            ))
        } else {
            Some((200, vec![]))
        }
    }
}

/// Silent for INVITE, 200 to everything else.
fn silent_invite() -> impl FnMut(&Request, usize) -> Answer {
    |r, _| (r.method() != &Method::Invite).then(|| (200, vec![]))
}

#[test]
fn a_challenged_call_answered_then_hung_up() {
    let mut rig = Rig::with(challenge_then_ok());
    let c = rig.call(spec());
    rig.run(1.0);
    let invites: Vec<Request> = rig
        .peer
        .requests("INVITE")
        .into_iter()
        .map(|(_, r)| r.clone())
        .collect();
    assert_eq!(invites.len(), 2);
    let (first, second) = (&invites[0], &invites[1]);
    assert_eq!(second.cseq_seq(), first.cseq_seq() + 1);
    assert_eq!(second.call_id(), first.call_id());
    assert_eq!(second.from_tag(), first.from_tag());
    assert_ne!(second.top_via().branch(), first.top_via().branch());
    let creds = second.header(HeaderName::ProxyAuthorization).unwrap();
    assert!(creds.contains("username=\"alice\""), "{creds}");
    let offer = SessionDescription::parse_bytes(second.body()).unwrap();
    assert_eq!(offer.media[0].port, 40000);
    // The 407 was ACKed by its transaction; the 2xx's ACK carries the INVITE's
    // credentials (§13.2.2.4, §22) and its CSeq.
    let acks = rig.peer.requests("ACK");
    assert_eq!(acks.len(), 2);
    let ack = acks[1].1.clone();
    assert_eq!(ack.to_tag(), Some("srvtag"));
    assert_eq!(ack.cseq_seq(), second.cseq_seq());
    assert_eq!(ack.header(HeaderName::ProxyAuthorization), Some(creds));
    let creds = creds.to_string();
    let _ = creds;
    assert_eq!(ack.uri().as_str(), "sip:peer@192.0.2.10:5060");
    let ev = rig.events(c);
    assert!(matches!(ev[0], CallEvent::Answered { .. }), "{ev:?}");
    let CallEvent::Media { negotiated, .. } = ev[1] else {
        panic!("{ev:?}")
    };
    assert_eq!(negotiated.remote, Some("192.0.2.10:30000".parse().unwrap()));
    let now = rig.now();
    rig.ua.machine.hangup(c, now).unwrap();
    rig.run(1.0);
    let bye = rig.last("BYE");
    assert_eq!(bye.cseq_seq(), second.cseq_seq() + 1);
    assert_eq!(rig.ua.ended(c), Some(EndReason::LocalBye));
    assert_eq!(rig.ua.machine.call_count(), 0);
}

#[test]
fn a_late_offer_is_answered_in_the_ack() {
    let mut rig = Rig::with(|_, _| Some((200, vec![])));
    let c = rig.call(CallSpec {
        late_offer: true,
        ..spec()
    });
    rig.run(1.0);
    let invite = rig.last("INVITE");
    assert!(invite.body().is_empty(), "no offer in the INVITE");
    let ack = rig.last("ACK");
    let answer = SessionDescription::parse_bytes(ack.body()).expect("the ACK answers");
    assert_eq!(answer.media[0].port, 40000);
    assert!(rig.events(c).iter().any(|e| matches!(
        e,
        CallEvent::Media { negotiated, .. } if negotiated.remote == Some("192.0.2.10:30000".parse().unwrap())
    )));
}

#[test]
fn cancel_waits_for_a_provisional_and_goes_once() {
    let mut rig = Rig::with(silent_invite());
    let c = rig.call(spec());
    rig.run(0.1);
    let now = rig.now();
    rig.ua.machine.cancel(c, now).unwrap();
    rig.ua.machine.cancel(c, now).unwrap();
    rig.run(0.3);
    assert!(
        rig.peer.requests("CANCEL").is_empty(),
        "§9.1: not before a 1xx"
    );
    rig.respond(180, Some("t1"), "sip:bob@192.0.2.10", &[], false);
    rig.run(0.3);
    let cancels = rig.peer.requests("CANCEL");
    assert_eq!(cancels.len(), 1);
    let invite = rig.last("INVITE");
    let cancel = &cancels[0].1;
    assert_eq!(cancel.top_via().branch(), invite.top_via().branch());
    assert_eq!(cancel.cseq_seq(), invite.cseq_seq());
    assert_eq!(cancel.uri().as_str(), invite.uri().as_str());
    assert_eq!(cancel.to_tag(), None);
    rig.respond(487, Some("t1"), "", &[], false);
    rig.run(0.3);
    assert_eq!(rig.ua.ended(c), Some(EndReason::Cancelled));
    assert_eq!(rig.last("ACK").cseq_seq(), invite.cseq_seq(), "487 ACKed");
}

#[test]
fn no_final_response_after_cancel_gives_up_after_64_t1() {
    for (t1, give_up) in [(500, 32.0), (100, 6.4)] {
        let timers = TimerConfig {
            t1: Duration::from_millis(t1),
            ..TimerConfig::default()
        };
        let mut rig = Rig::new(timers, silent_invite());
        let c = rig.call(spec());
        rig.run(0.1);
        rig.respond(180, Some("t1"), "sip:bob@192.0.2.10", &[], false);
        rig.run(0.1);
        let now = rig.now();
        rig.ua.machine.cancel(c, now).unwrap();
        let sent = rig.now();
        rig.run(give_up - 0.05);
        assert_eq!(rig.ua.ended(c), None, "T1 {t1}");
        rig.run(0.1);
        assert_eq!(rig.ua.ended(c), Some(EndReason::Cancelled), "T1 {t1}");
        let at = rig.secs(rig.now()) - rig.secs(sent);
        assert!(at <= give_up + 0.06, "T1 {t1}: {at}");
        assert_eq!(rig.ua.machine.transactions().counts().0, 0, "T1 {t1}");
    }
}

#[test]
fn the_ring_timeout_cancels() {
    let mut rig = Rig::with(silent_invite());
    let c = rig.call(CallSpec {
        ring_timeout: Some(Duration::from_secs(10)),
        ..spec()
    });
    rig.run(0.1);
    rig.respond(180, Some("t1"), "sip:bob@192.0.2.10", &[], false);
    rig.run(12.0);
    let cancels = rig.peer.requests("CANCEL");
    assert_eq!(cancels.len(), 1);
    assert_eq!(rig.secs(cancels[0].0), 10.01);
    rig.respond(487, Some("t1"), "", &[], false);
    rig.run(0.1);
    assert_eq!(rig.ua.ended(c), Some(EndReason::NoAnswer));
}

#[test]
fn a_2xx_crossing_the_cancel_is_acked_and_ended_with_bye() {
    let mut rig = Rig::with(silent_invite());
    let c = rig.call(spec());
    rig.run(0.1);
    rig.respond(180, Some("t1"), "sip:bob@192.0.2.10", &[], false);
    rig.run(0.1);
    let now = rig.now();
    rig.ua.machine.cancel(c, now).unwrap();
    rig.respond(200, Some("t1"), "sip:bob@192.0.2.10", &[], true);
    rig.run(1.0);
    assert_eq!(rig.peer.requests("CANCEL").len(), 1);
    assert_eq!(rig.last("ACK").to_tag(), Some("t1"));
    assert_eq!(rig.last("BYE").to_tag(), Some("t1"));
    assert_eq!(rig.ua.ended(c), Some(EndReason::Cancelled));
    assert!(
        !rig.events(c)
            .iter()
            .any(|e| matches!(e, CallEvent::Answered { .. })),
        "the application hears of no answer"
    );
}

#[test]
fn a_100_with_a_to_tag_makes_no_early_dialog() {
    let mut rig = Rig::with(silent_invite());
    let c = rig.call(spec());
    rig.run(0.1);
    rig.respond(100, Some("t100"), "", &[], false);
    rig.run(0.1);
    assert!(rig.ua.machine.call_state(c).unwrap().dialogs().is_empty());
    rig.respond(183, Some("t1"), "sip:bob@192.0.2.10", &[], false);
    rig.run(0.1);
    assert_eq!(rig.ua.machine.call_state(c).unwrap().dialogs().len(), 1);
}

#[test]
fn forks_make_early_dialogs_and_an_extra_2xx_is_acked_and_ended() {
    let mut rig = Rig::with(silent_invite());
    let c = rig.call(spec());
    rig.run(0.1);
    let (c1, c2) = (
        "sip:bob@192.0.2.10:5060;fork=a",
        "sip:bob@192.0.2.10:5060;fork=b",
    );
    rig.respond(180, Some("ta"), c1, &[], false);
    rig.respond(180, Some("tb"), c2, &[], false);
    rig.run(0.1);
    assert_eq!(rig.ua.machine.call_state(c).unwrap().dialogs().len(), 2);
    rig.respond(200, Some("tb"), c2, &[], true);
    rig.run(0.1);
    assert_eq!(rig.ua.machine.call_state(c).unwrap().dialogs().len(), 1);
    rig.respond(200, Some("ta"), c1, &[], true);
    // A retransmission of the first 2xx: ACKed again with the same ACK.
    rig.respond(200, Some("tb"), c2, &[], true);
    rig.run(2.0);
    let acks = rig.peer.requests("ACK");
    let tags: Vec<&str> = acks.iter().map(|(_, r)| r.to_tag().unwrap()).collect();
    assert_eq!(tags, ["tb", "ta", "tb"]);
    assert_eq!(acks[0].1.uri().as_str(), c2);
    assert_eq!(acks[0].1.to_bytes(), acks[2].1.to_bytes());
    let byes = rig.peer.requests("BYE");
    assert_eq!(byes.len(), 1);
    assert_eq!(byes[0].1.to_tag(), Some("ta"));
    assert_eq!(byes[0].1.uri().as_str(), c1);
    let ev = rig.events(c);
    let progress = ev
        .iter()
        .filter(|e| matches!(e, CallEvent::Progress { .. }))
        .count();
    let answered = ev
        .iter()
        .filter(|e| matches!(e, CallEvent::Answered { .. }))
        .count();
    assert_eq!((progress, answered), (2, 1));
    assert!(
        ev.iter()
            .any(|e| matches!(e, CallEvent::EarlyDialogEnded { remote_tag } if remote_tag == "ta"))
    );
    // The fork's BYE is the call's business, not the application's.
    assert!(
        !ev.iter()
            .any(|e| matches!(e, CallEvent::Response { .. } | CallEvent::Ended { .. }))
    );
    assert_eq!(rig.ua.machine.call_state(c).unwrap().dialogs().len(), 1);
}

#[test]
fn a_2xx_without_a_to_tag_is_acked() {
    let mut rig = Rig::with(silent_invite());
    let c = rig.call(spec());
    rig.run(0.1);
    rig.respond(200, None, "sip:bob@192.0.2.10", &[], true);
    rig.run(0.5);
    let ack = rig.last("ACK");
    assert_eq!(ack.to_tag(), None);
    assert!(
        rig.events(c)
            .iter()
            .any(|e| matches!(e, CallEvent::Answered { .. }))
    );
}

#[test]
fn route_sets_loose_and_strict_and_target_refresh() {
    let mut rig = Rig::with(|r, _| (r.method() != &Method::Invite).then(|| (200, vec![])));
    let c = rig.call(spec());
    rig.run(0.1);
    // Record-Route as the callee sees it (closest to it first): the UAC reverses it.
    rig.respond(
        200,
        Some("t1"),
        "sip:bob@198.51.100.7:5062",
        &["<sip:p2.example.test;lr>", "<sip:192.0.2.10:5060;lr>"],
        true,
    );
    rig.run(0.1);
    let d = rig
        .ua
        .machine
        .call_state(c)
        .unwrap()
        .dialog()
        .unwrap()
        .clone();
    assert_eq!(
        d.route_set,
        ["<sip:192.0.2.10:5060;lr>", "<sip:p2.example.test;lr>"]
    );
    let (uri, routes) = d.target_and_routes();
    assert_eq!(uri, "sip:bob@198.51.100.7:5062");
    assert_eq!(routes, d.route_set);
    // The ACK went to the first route (the proxy at SERVER), with the Route lines.
    let ack = rig.last("ACK");
    assert_eq!(ack.uri().as_str(), "sip:bob@198.51.100.7:5062");
    let r: Vec<&str> = ack.header_values(HeaderName::Route).collect();
    assert_eq!(r, ["<sip:192.0.2.10:5060;lr>", "<sip:p2.example.test;lr>"]);
    // INFO in the dialog: CSeq counts up from the INVITE's.
    let now = rig.now();
    rig.ua
        .machine
        .send_in_call(c, Method::Info, None, Bytes::new(), Vec::new(), now)
        .unwrap();
    rig.run(0.5);
    let invite = rig.last("INVITE");
    assert_eq!(rig.last("INFO").cseq_seq(), invite.cseq_seq() + 1);
    assert!(rig.events(c).iter().any(|e| matches!(
        e,
        CallEvent::Response { method: Method::Info, response } if response.status() == StatusCode::OK
    )));
    // Strict routing: a route without lr becomes the Request-URI.
    let mut strict = d.clone();
    strict.route_set = vec![
        "<sip:strict.example.test>".into(),
        "<sip:p3.example.test;lr>".into(),
    ];
    let (uri, routes) = strict.target_and_routes();
    assert_eq!(uri, "sip:strict.example.test");
    assert_eq!(
        routes,
        ["<sip:p3.example.test;lr>", "<sip:bob@198.51.100.7:5062>"]
    );
    // A re-INVITE from the peer with a new Contact refreshes the target.
    let reinvite = format!(
        "INVITE sip:alice@192.0.2.20:5070 SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bKre1\r\nMax-Forwards: 70\r\nFrom: <sip:bob@example.test>;tag=t1\r\nTo: <sip:alice@example.test>;tag={}\r\nCall-ID: {}\r\nCSeq: 10 INVITE\r\nContact: <sip:bob@198.51.100.99:5070>\r\nContent-Length: 0\r\n\r\n",
        invite.from_tag().unwrap(),
        invite.call_id()
    );
    let to = sip_client::Peer::udp(CLIENT.parse().unwrap());
    rig.peer.send_raw(to, Bytes::from(reinvite));
    rig.run(0.1);
    let d = rig.ua.machine.call_state(c).unwrap().dialog().unwrap();
    assert_eq!(d.remote_target, "sip:bob@198.51.100.99:5070");
}

#[test]
fn reinvite_2xx_retransmissions_are_acked_not_redelivered() {
    let mut rig =
        Rig::with(|r, n| (r.method() == &Method::Invite && n == 0).then(|| (200, vec![])));
    let c = rig.call(spec());
    rig.run(0.5);
    let now = rig.now();
    rig.ua.machine.hold(c, true, now).unwrap();
    rig.run(0.1);
    let reinvite = rig.last("INVITE");
    let offer = SessionDescription::parse_bytes(reinvite.body()).unwrap();
    assert_eq!(
        offer.direction(&offer.media[0]),
        sip_message::sdp::Direction::SendOnly
    );
    // Only one offer at a time (§14.1).
    let now = rig.now();
    assert_eq!(
        rig.ua.machine.hold(c, false, now),
        Err(CallError::OfferPending)
    );
    rig.respond(200, Some("srvtag"), "sip:peer@192.0.2.10:5060", &[], true);
    rig.respond(200, Some("srvtag"), "sip:peer@192.0.2.10:5060", &[], true);
    rig.run(1.0);
    let acks: Vec<_> = rig
        .peer
        .requests("ACK")
        .into_iter()
        .filter(|(_, a)| a.cseq_seq() == reinvite.cseq_seq())
        .map(|(_, a)| a.to_bytes())
        .collect();
    assert_eq!(acks.len(), 2);
    assert_eq!(acks[0], acks[1], "the same ACK again");
    let answered = rig
        .events(c)
        .iter()
        .filter(|e| {
            matches!(
                e,
                CallEvent::Response {
                    method: Method::Invite,
                    ..
                }
            )
        })
        .count();
    assert_eq!(answered, 1);
}

#[test]
fn glare_gets_491_and_a_retry_after_the_back_off() {
    // Our re-INVITE is pending (the peer is slow): the peer's own re-INVITE gets 491.
    let mut rig =
        Rig::with(|r, n| (r.method() == &Method::Invite && n == 0).then(|| (200, vec![])));
    let c = rig.call(spec());
    rig.run(0.5);
    let now = rig.now();
    rig.ua.machine.hold(c, true, now).unwrap();
    rig.run(0.1);
    let ours = rig.last("INVITE");
    let theirs = format!(
        "INVITE sip:alice@192.0.2.20:5070 SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bKglare\r\nMax-Forwards: 70\r\nFrom: <sip:bob@example.test>;tag=srvtag\r\nTo: <sip:alice@example.test>;tag={}\r\nCall-ID: {}\r\nCSeq: 20 INVITE\r\nContact: <sip:bob@192.0.2.10>\r\nContent-Length: 0\r\n\r\n",
        ours.from_tag().unwrap(),
        ours.call_id()
    );
    let to = sip_client::Peer::udp(CLIENT.parse().unwrap());
    rig.peer.send_raw(to, Bytes::from(theirs));
    rig.run(0.1);
    let r = responses_in(&rig.peer.raw_in);
    assert_eq!(r.last().unwrap().1.status(), StatusCode::REQUEST_PENDING);
    // Ours gets 491 too: tried again after 2.1 to 4 s, as the Call-ID's owner.
    rig.respond(491, Some("srvtag"), "", &[], false);
    let refused_at = rig.now();
    rig.run(5.0);
    // Distinct INVITEs (the silent peer gets retransmissions too).
    let mut invites: Vec<(Instant, u32)> = Vec::new();
    for (t, r) in rig.peer.requests("INVITE") {
        if !invites.iter().any(|(_, s)| *s == r.cseq_seq()) {
            invites.push((*t, r.cseq_seq()));
        }
    }
    assert_eq!(invites.len(), 3);
    let wait = (invites[2].0 - refused_at).as_secs_f64();
    assert!((2.1..=4.1).contains(&wait), "retried after {wait} s");
    assert_eq!(invites[2].1, ours.cseq_seq() + 1);
}

#[test]
fn a_481_or_no_answer_in_the_dialog_ends_the_call() {
    // 481 to an INFO.
    let mut rig = Rig::with(|r, _| {
        Some(match r.method() {
            Method::Info => (481, vec![]),
            _ => (200, vec![]),
        })
    });
    let c = rig.call(spec());
    rig.run(0.5);
    let now = rig.now();
    rig.ua
        .machine
        .send_in_call(c, Method::Info, None, Bytes::new(), Vec::new(), now)
        .unwrap();
    rig.run(0.5);
    assert_eq!(rig.ua.ended(c), Some(EndReason::DialogGone { status: 481 }));
    // No answer at all to an INFO: as a 408 (§12.2.1.2), with a BYE tried.
    let mut rig = Rig::with(|r, _| (r.method() == &Method::Invite).then(|| (200, vec![])));
    let c = rig.call(spec());
    rig.run(0.5);
    let now = rig.now();
    rig.ua
        .machine
        .send_in_call(c, Method::Info, None, Bytes::new(), Vec::new(), now)
        .unwrap();
    rig.run(70.0);
    assert_eq!(rig.ua.ended(c), Some(EndReason::DialogGone { status: 408 }));
}

#[test]
fn refusals_and_silence_end_the_call_with_their_reason() {
    let mut rig = Rig::with(|_, _| Some((486, vec![])));
    let c = rig.call(spec());
    rig.run(1.0);
    assert_eq!(
        rig.ua.ended(c),
        Some(EndReason::Rejected {
            status: 486,
            reason: "Busy Here".into()
        })
    );
    assert_eq!(rig.peer.requests("ACK").len(), 1, "the 486 is ACKed");
    let mut rig = Rig::with(|_, _| None);
    let c = rig.call(spec());
    rig.run(40.0);
    assert_eq!(rig.ua.ended(c), Some(EndReason::Timeout));
    assert_eq!(rig.ua.machine.call_count(), 0);
}

#[test]
fn a_challenge_inside_the_dialog_is_answered() {
    let mut rig = Rig::with(|r, _| {
        if r.method() == &Method::Info && !r.has_header(HeaderName::ProxyAuthorization) {
            Some((
                407,
                vec![(
                    HeaderName::ProxyAuthenticate,
                    "Digest realm=\"example.test\", nonce=\"n2\", qop=\"auth\"".into(),
                )],
            ))
        } else {
            Some((200, vec![]))
        }
    });
    let c = rig.call(spec());
    rig.run(0.5);
    let now = rig.now();
    rig.ua
        .machine
        .send_in_call(c, Method::Info, None, Bytes::new(), Vec::new(), now)
        .unwrap();
    rig.run(0.5);
    let infos = rig.peer.requests("INFO");
    assert_eq!(infos.len(), 2);
    assert_eq!(infos[1].1.cseq_seq(), infos[0].1.cseq_seq() + 1);
    assert!(infos[1].1.has_header(HeaderName::ProxyAuthorization));
    let codes: Vec<u16> = rig
        .events(c)
        .iter()
        .filter_map(|e| match e {
            CallEvent::Response { response, .. } => Some(response.status().as_u16()),
            _ => None,
        })
        .collect();
    assert_eq!(codes, [200]);
}

#[test]
fn reliable_provisional_responses_are_pracked_once_in_order() {
    let mut rig = Rig::with(silent_invite());
    let c = rig.call(spec());
    rig.run(0.1);
    let invite = rig.last("INVITE");
    assert!(
        invite
            .header(HeaderName::Supported)
            .unwrap()
            .contains("100rel")
    );
    let reliable = |rig: &mut Rig, rseq: u32| {
        let invite = rig.last("INVITE");
        let b = MessageBuilder::response_to(&invite, StatusCode::RINGING, Some("t1"))
            .header(HeaderName::Contact, "<sip:bob@192.0.2.10>")
            .header(HeaderName::Require, "100rel")
            .header(HeaderName::RSeq, rseq);
        let to = sip_client::Peer::udp(CLIENT.parse().unwrap());
        rig.peer.send_raw(to, b.finish().freeze());
    };
    reliable(&mut rig, 7);
    reliable(&mut rig, 7);
    // Out of order: 9 before 8 is left for its retransmission.
    reliable(&mut rig, 9);
    reliable(&mut rig, 8);
    rig.run(0.5);
    let racks: Vec<String> = rig
        .peer
        .requests("PRACK")
        .iter()
        .map(|(_, r)| r.header(HeaderName::RAck).unwrap().to_string())
        .collect();
    let n = invite.cseq_seq();
    assert_eq!(racks, [format!("7 {n} INVITE"), format!("8 {n} INVITE")]);
    let pr = &rig.peer.requests("PRACK")[0].1;
    assert_eq!(pr.to_tag(), Some("t1"));
    assert_eq!(pr.cseq_seq(), n + 1);
    let progress = rig
        .events(c)
        .iter()
        .filter(|e| matches!(e, CallEvent::Progress { .. }))
        .count();
    assert_eq!(progress, 2, "7 and 8, each once");
}
