//! What keeps calls bounded in time and memory, on the simulated network: session
//! timers only for established sessions, with intervals clamped between our Min-SE
//! and a day and the endpoint's timer heap bounded whatever the peer asks; merged
//! INVITEs refused with 482; a re-INVITE that gets no answer ends the call with
//! BYE, and one BYE only; an incoming call that rings out (its Expires, our limit).

mod support;

use std::time::Duration;

use sip_client::{CallEvent, CallState, EndReason, EndpointConfig, SessionTimerConfig};
use sip_message::sdp::Direction;
use sip_message::{HeaderName, Method, StatusCode};
use support::rig::{CalleeRig, CallerRig, invite_with_offer, offer_sdp, request};
use support::*;

fn timers(interval: u32, min_se: u32) -> EndpointConfig {
    EndpointConfig {
        session_timer: Some(SessionTimerConfig { interval, min_se }),
        ..EndpointConfig::default()
    }
}

/// The INVITE (CSeq 5) with an offer and these extra header lines.
fn invite_with(extra: &str) -> String {
    request(
        "INVITE",
        5,
        "z9hG4bKinv1",
        None,
        extra,
        Some(("application/sdp", &offer_sdp(Direction::SendRecv))),
    )
}

#[test]
fn an_update_on_the_early_dialog_starts_no_session_timer() {
    let mut rig = CalleeRig::new(timers(90, 90), |_, _| Some((200, vec![])));
    rig.send(invite_with("Supported: timer\r\n"));
    rig.run(0.1);
    let c = rig.call();
    let now = rig.now();
    rig.ua
        .machine
        .ring(c, StatusCode::RINGING, None, now)
        .unwrap();
    rig.run(0.1);
    let tag = rig.our_tag();
    let se = "Session-Expires: 90;refresher=uac\r\nSupported: timer\r\n";
    rig.send(request("UPDATE", 6, "z9hG4bKu6", Some(&tag), se, None));
    rig.run(0.1);
    let ok = rig.last_response("UPDATE");
    assert_eq!(ok.status(), StatusCode::OK);
    assert_eq!(ok.header(HeaderName::SessionExpires), None);
    // Long past the interval: the call still rings, nothing was sent.
    rig.run(120.0);
    assert!(rig.peer.requests("BYE").is_empty());
    assert_eq!(rig.ua.ended(c), None);
    assert!(
        rig.statuses("INVITE").iter().all(|s| *s == 180),
        "no final response"
    );
    let now = rig.now();
    rig.ua.machine.answer(c, Some(media(40000)), now).unwrap();
    rig.run(0.1);
    assert_eq!(rig.statuses("INVITE").last(), Some(&200));
    let ok = rig.last_response("INVITE");
    assert_eq!(
        ok.header(HeaderName::SessionExpires),
        Some("90;refresher=uas")
    );
}

#[test]
fn huge_session_intervals_leave_the_timer_heap_bounded() {
    let mut rig = CalleeRig::udp();
    let c = rig.established();
    let tag = rig.our_tag();
    for i in 0..10_000u32 {
        rig.send(request(
            "UPDATE",
            6 + i,
            &format!("z9hG4bKu{i}"),
            Some(&tag),
            "Session-Expires: 4294967295\r\n",
            None,
        ));
        rig.run(0.01);
    }
    rig.run(0.1);
    let oks = rig
        .responses()
        .iter()
        .filter(|(_, r)| r.cseq_method() == &Method::Update && r.status() == StatusCode::OK)
        .count();
    assert_eq!(oks, 10_000);
    // The interval taken (and said) is at most a day.
    let ok = rig.last_response("UPDATE");
    assert_eq!(
        ok.header(HeaderName::SessionExpires),
        Some("86400;refresher=uas")
    );
    let entries = rig.ua.machine.timer_entries();
    assert!(entries <= 70, "{entries} timer entries for one call");
    assert_eq!(
        rig.ua.machine.call_state(c).unwrap().state(),
        CallState::Confirmed
    );
}

#[test]
fn a_tiny_session_interval_in_the_2xx_is_raised_to_our_min_se() {
    let mut rig = CallerRig::new(timers(1800, 90), |r, n| {
        Some(if r.method() == &Method::Invite && n == 0 {
            (
                200,
                vec![(HeaderName::SessionExpires, "1;refresher=uac".to_string())],
            )
        } else {
            (200, vec![])
        })
    });
    let c = rig.call(None);
    rig.run(10.0);
    assert_eq!(rig.sent("INVITE").len(), 1, "no refresh every half second");
    rig.run(40.0);
    let invites = rig.sent("INVITE");
    assert_eq!(invites.len(), 2, "a refresh at 45 s");
    assert_eq!(
        invites[1].header(HeaderName::SessionExpires),
        Some("90;refresher=uac")
    );
    assert_eq!(
        rig.ua.machine.call_state(c).unwrap().state(),
        CallState::Confirmed
    );
}

#[test]
fn a_merged_invite_gets_482() {
    let mut rig = CalleeRig::udp();
    rig.send(invite_with_offer());
    // The same INVITE by another path: another branch and sent-by.
    let merged = invite_with_offer().replace(
        "192.0.2.10:5060;branch=z9hG4bKinv1",
        "192.0.2.12:5060;branch=z9hG4bKinv2",
    );
    rig.send(merged);
    rig.run(0.1);
    assert_eq!(rig.ua.incoming_calls().len(), 1);
    let r = rig.last_response("INVITE");
    assert_eq!(r.status(), StatusCode::LOOP_DETECTED);
    assert_eq!(r.top_via().branch(), Some("z9hG4bKinv2"));
    assert!(r.to_tag().is_some());
    // The first one rings on and is answered.
    let c = rig.call();
    let now = rig.now();
    rig.ua.machine.answer(c, Some(media(40000)), now).unwrap();
    rig.run(0.1);
    let ok = rig.last_response("INVITE");
    assert_eq!(ok.status(), StatusCode::OK);
    assert_eq!(ok.top_via().branch(), Some("z9hG4bKinv1"));
}

#[test]
fn an_unanswered_reinvite_ends_the_call_with_bye() {
    let mut rig = CallerRig::with(|r, n| match (r.method(), n) {
        (&Method::Invite, 0) => Some((200, vec![])),
        (&Method::Invite, _) => None,
        _ => Some((200, vec![])),
    });
    let c = rig.call(None);
    rig.run(0.5);
    let now = rig.now();
    rig.ua.machine.hold(c, true, now).unwrap();
    rig.run(40.0);
    let reinvite = rig.sent("INVITE").last().unwrap().clone();
    let byes = rig.sent("BYE");
    assert_eq!(byes.len(), 1, "RFC 4028 §10, §12.2.1.2");
    assert_eq!(byes[0].to_tag(), Some("srvtag"));
    assert_eq!(byes[0].cseq_seq(), reinvite.cseq_seq() + 1);
    assert_eq!(rig.ua.ended(c), Some(EndReason::DialogGone { status: 408 }));
}

#[test]
fn one_bye_while_it_waits_for_its_answer() {
    // The caller refreshes (90 s): we would give up at 60 s. It answers no BYE.
    let mut rig = CalleeRig::new(timers(90, 90), |r, _| {
        (r.method() != &Method::Bye).then(|| (200, vec![]))
    });
    rig.send(invite_with(
        "Session-Expires: 90;refresher=uac\r\nSupported: timer\r\n",
    ));
    rig.run(0.1);
    let c = rig.call();
    let now = rig.now();
    rig.ua.machine.answer(c, Some(media(40000)), now).unwrap();
    rig.run(0.1);
    let ok = rig.last_response("INVITE");
    assert_eq!(
        ok.header(HeaderName::SessionExpires),
        Some("90;refresher=uac")
    );
    let tag = rig.our_tag();
    rig.send(request("ACK", 5, "z9hG4bKack1", Some(&tag), "", None));
    rig.run(58.0);
    let now = rig.now();
    rig.ua.machine.hangup(c, now).unwrap();
    rig.run(10.0);
    let mut cseqs: Vec<u32> = rig.sent_cseqs("BYE");
    cseqs.dedup();
    assert_eq!(cseqs.len(), 1, "one BYE (retransmitted), not two");
    assert!(rig.peer.requests("BYE").len() > 1, "retransmitted");
    assert_eq!(rig.ua.ended(c), None, "waiting for its answer");
}

#[test]
fn an_incoming_call_rings_out() {
    // Its Expires runs out: 487 (RFC 3261 §13.3.1).
    let mut rig = CalleeRig::udp();
    rig.send(invite_with("Expires: 10\r\n"));
    rig.run(0.1);
    let c = rig.call();
    let now = rig.now();
    rig.ua
        .machine
        .ring(c, StatusCode::RINGING, None, now)
        .unwrap();
    rig.run(15.0);
    let mut statuses = rig.statuses("INVITE");
    statuses.dedup();
    assert_eq!(statuses, [180, 487]);
    let (at, r) = rig
        .responses()
        .into_iter()
        .find(|(_, r)| r.status() == StatusCode::REQUEST_TERMINATED)
        .unwrap();
    assert_eq!(at, 10.02, "sent 10 s after the INVITE came at 0.01 s");
    assert_eq!(r.to_tag(), rig.responses()[0].1.to_tag(), "one To tag");
    assert_eq!(rig.ua.ended(c), Some(EndReason::NoAnswer));
    assert_eq!(rig.ua.machine.call_count(), 0);
    // No Expires: our ring limit, 480.
    let config = EndpointConfig {
        incoming_ring_limit: Some(Duration::from_secs(20)),
        ..EndpointConfig::default()
    };
    let mut rig = CalleeRig::new(config, |_, _| Some((200, vec![])));
    rig.send(invite_with_offer());
    rig.run(0.1);
    let c = rig.call();
    let now = rig.now();
    rig.ua
        .machine
        .ring(c, StatusCode::RINGING, None, now)
        .unwrap();
    rig.run(30.0);
    let mut statuses = rig.statuses("INVITE");
    statuses.dedup();
    assert_eq!(statuses, [180, 480]);
    let at = rig
        .responses()
        .into_iter()
        .find(|(_, r)| r.status() == StatusCode::TEMPORARILY_UNAVAILABLE)
        .unwrap()
        .0;
    assert_eq!(at, 20.02);
    assert_eq!(rig.ua.ended(c), Some(EndReason::NoAnswer));
    assert!(
        !rig.events(c)
            .iter()
            .any(|e| matches!(e, CallEvent::Confirmed))
    );
}
