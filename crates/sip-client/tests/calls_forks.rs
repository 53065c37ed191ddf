//! Calls we place that fork, against a scripted callee on the simulated network:
//! a BYE on one fork's early dialog (or from a fork being ended) ends only that
//! fork; late 2xx of forks, after the call ended or its CANCEL was given up, are
//! ACKed and ended with BYE; reliable provisional responses checked by RSeq before
//! use and counted afresh after a challenge; each fork's early answer kept for its
//! own 2xx; a fork's offer in a reliable 1xx answered in the PRACK; ACKs kept only
//! while their transaction lives; at most sixteen forks.

mod support;

use std::net::SocketAddr;

use bytes::Bytes;
use sip_client::{CallEvent, CallSpec, CallState, EndReason};
use sip_message::offer_answer::{LocalMedia, answer, offer};
use sip_message::sdp::SessionDescription;
use sip_message::{HeaderName, MessageBuilder, Method, Request, StatusCode};
use support::rig::CallerRig;
use support::*;

/// Silent for INVITE, 200 to everything else.
fn silent_invite() -> impl FnMut(&Request, usize) -> Answer {
    |r, _| (r.method() != &Method::Invite).then(|| (200, vec![]))
}

/// A request from fork `tag` of our INVITE to us, in its dialog.
fn from_fork(method: &str, invite: &Request, tag: &str, cseq: u32, branch: &str) -> Bytes {
    Bytes::from(format!(
        "{method} sip:alice@192.0.2.20:5070 SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.10:5060;branch={branch}\r\nMax-Forwards: 70\r\nFrom: <sip:bob@example.test>;tag={tag}\r\nTo: <sip:alice@example.test>;tag={}\r\nCall-ID: {}\r\nCSeq: {cseq} {method}\r\nContact: <sip:bob@192.0.2.10:5060>\r\nContent-Length: 0\r\n\r\n",
        invite.from_tag().unwrap(),
        invite.call_id()
    ))
}

/// The answer of a fork at `ip:port` to the INVITE's offer.
fn fork_answer(invite: &Request, ip: &str, port: u16) -> String {
    let o = SessionDescription::parse_bytes(invite.body()).unwrap();
    answer(&LocalMedia::new(ip.parse().unwrap(), port), &o, 77, 1)
        .unwrap()
        .0
        .to_string()
}

/// A reliable provisional response's header lines.
fn reliable(rseq: u32) -> Vec<(HeaderName, String)> {
    vec![
        (HeaderName::Require, "100rel".into()),
        (HeaderName::RSeq, rseq.to_string()),
    ]
}

const FORK_A: &str = "sip:bob@192.0.2.10:5060;fork=a";
const FORK_B: &str = "sip:bob@192.0.2.10:5060;fork=b";

#[test]
fn a_bye_on_one_forks_early_dialog_ends_only_that_fork() {
    let mut rig = CallerRig::with(silent_invite());
    let c = rig.call(None);
    rig.run(0.1);
    rig.respond(180, Some("ta"), FORK_A, false);
    rig.run(0.1);
    let invite = rig.last("INVITE");
    rig.send(from_fork("BYE", &invite, "ta", 1, "z9hG4bKbyea"));
    rig.run(0.1);
    let bye_ok = rig.responses().pop().unwrap();
    assert_eq!(bye_ok.cseq_method(), &Method::Bye);
    assert_eq!(bye_ok.status(), StatusCode::OK);
    assert!(
        rig.events(c)
            .iter()
            .any(|e| matches!(e, CallEvent::EarlyDialogEnded { remote_tag } if remote_tag == "ta"))
    );
    assert_eq!(rig.ua.ended(c), None, "the call goes on");
    let s = rig.ua.machine.call_state(c).unwrap();
    assert_eq!(s.state(), CallState::Proceeding);
    assert!(s.dialogs().is_empty());
    // Another fork rings and answers: its 2xx is ACKed, the call is up.
    rig.respond(180, Some("tb"), FORK_B, false);
    rig.respond(200, Some("tb"), FORK_B, true);
    rig.run(0.5);
    assert_eq!(rig.to_tags("ACK"), ["tb"]);
    assert_eq!(rig.last("ACK").uri().as_str(), FORK_B);
    assert!(
        rig.events(c)
            .iter()
            .any(|e| matches!(e, CallEvent::Answered { .. }))
    );
    let now = rig.now();
    rig.ua.machine.hangup(c, now).unwrap();
    rig.run(0.5);
    assert_eq!(rig.to_tags("BYE"), ["tb"]);
    assert_eq!(rig.ua.ended(c), Some(EndReason::LocalBye));
}

#[test]
fn a_bye_from_a_fork_being_ended_leaves_the_call_up() {
    // Silent to INVITE and BYE: our BYE to the extra fork waits.
    let mut rig = CallerRig::with(|r, _| {
        (r.method() != &Method::Invite && r.method() != &Method::Bye).then(|| (200, vec![]))
    });
    let c = rig.call(None);
    rig.run(0.1);
    rig.respond(180, Some("ta"), FORK_A, false);
    rig.respond(180, Some("tb"), FORK_B, false);
    rig.respond(200, Some("tb"), FORK_B, true);
    rig.run(0.1);
    rig.respond(200, Some("ta"), FORK_A, true);
    rig.run(0.1);
    assert_eq!(rig.to_tags("ACK"), ["tb", "ta"]);
    assert_eq!(rig.to_tags("BYE"), ["ta"], "the extra fork is ended");
    // That fork hangs up too, crossing our BYE.
    let invite = rig.last("INVITE");
    rig.send(from_fork("BYE", &invite, "ta", 2, "z9hG4bKbyeta"));
    rig.run(0.1);
    let ok = rig.responses().pop().unwrap();
    assert_eq!(
        (ok.cseq_method(), ok.status()),
        (&Method::Bye, StatusCode::OK)
    );
    assert_eq!(rig.ua.ended(c), None, "the answered call stays up");
    let s = rig.ua.machine.call_state(c).unwrap();
    assert_eq!(s.state(), CallState::Confirmed);
    assert_eq!(s.dialog().unwrap().remote_tag, "tb");
}

#[test]
fn a_late_2xx_of_a_fork_after_the_call_ended_is_acked_and_ended() {
    let mut rig = CallerRig::with(silent_invite());
    let c = rig.call(None);
    rig.run(0.1);
    rig.respond(180, Some("ta"), FORK_A, false);
    rig.respond(200, Some("tb"), FORK_B, true);
    rig.run(0.1);
    let now = rig.now();
    rig.ua.machine.hangup(c, now).unwrap();
    rig.run(0.5);
    assert_eq!(rig.ua.ended(c), Some(EndReason::LocalBye));
    assert_eq!(rig.ua.machine.call_count(), 0);
    // Fork a answers now (its 2xx still comes through the INVITE's transaction).
    rig.respond(200, Some("ta"), FORK_A, true);
    rig.run(0.5);
    assert_eq!(rig.to_tags("ACK"), ["tb", "ta"]);
    assert_eq!(rig.to_tags("BYE"), ["tb", "ta"]);
    let bye = rig.last("BYE");
    assert_eq!(bye.uri().as_str(), FORK_A);
    assert_eq!(bye.cseq_seq(), rig.last("INVITE").cseq_seq() + 1);
    // The application heard nothing more.
    assert_eq!(rig.ua.machine.call_count(), 0);
    let ended = rig
        .events(c)
        .iter()
        .filter(|e| matches!(e, CallEvent::Ended { .. }))
        .count();
    assert_eq!(ended, 1);
    // Once the INVITE's transaction is over the call is gone for good.
    rig.run(40.0);
    assert_eq!(rig.ua.machine.transactions().counts().0, 0);
}

#[test]
fn a_2xx_after_the_cancel_was_given_up_is_acked_and_ended() {
    let mut rig = CallerRig::with(silent_invite());
    let c = rig.call(None);
    rig.run(0.1);
    rig.respond(180, Some("ta"), FORK_A, false);
    rig.run(0.1);
    let now = rig.now();
    rig.ua.machine.cancel(c, now).unwrap();
    rig.run(33.0);
    assert_eq!(rig.ua.ended(c), Some(EndReason::Cancelled));
    assert_eq!(rig.ua.machine.transactions().counts().0, 0);
    // A 2xx comes after all, from another fork: its transaction is gone.
    rig.respond(200, Some("tb"), FORK_B, true);
    rig.run(0.5);
    assert_eq!(rig.to_tags("ACK"), ["tb"]);
    assert_eq!(rig.to_tags("BYE"), ["tb"]);
    assert_eq!(rig.last("BYE").uri().as_str(), FORK_B);
    // And the same from fork a, which had rung: ACKed and ended too.
    rig.respond(200, Some("ta"), FORK_A, true);
    rig.run(0.5);
    assert_eq!(rig.to_tags("ACK"), ["tb", "ta"]);
    assert_eq!(rig.to_tags("BYE"), ["tb", "ta"]);
    // 64·T1 later nothing of the call is left.
    rig.run(33.0);
    rig.respond(200, Some("tc"), FORK_B, true);
    rig.run(0.5);
    assert_eq!(rig.to_tags("ACK"), ["tb", "ta"]);
}

#[test]
fn an_out_of_order_reliable_1xx_does_not_move_the_target() {
    let mut rig = CallerRig::with(silent_invite());
    rig.call(None);
    rig.run(0.1);
    let (a, b) = ("sip:bob@192.0.2.10:5060;c=a", "sip:bob@192.0.2.10:5060;c=b");
    let r7 = rig.response(180, Some("t1"), a, &reliable(7), None);
    rig.send(r7);
    rig.run(0.1);
    // RSeq 9 before 8, with another Contact: ignored (RFC 3262 §4).
    let r9 = rig.response(180, Some("t1"), b, &reliable(9), None);
    rig.send(r9);
    rig.run(0.1);
    let r8 = rig.response(180, Some("t1"), "", &reliable(8), None);
    rig.send(r8);
    rig.run(0.1);
    let pracks = rig.sent("PRACK");
    let uris: Vec<&str> = pracks.iter().map(|p| p.uri().as_str()).collect();
    assert_eq!(uris, [a, a]);
    let racks: Vec<&str> = pracks
        .iter()
        .map(|p| p.header(HeaderName::RAck).unwrap())
        .collect();
    assert_eq!(racks, ["7 1 INVITE", "8 1 INVITE"]);
}

#[test]
fn a_retry_after_407_forgets_the_refused_invites_forks() {
    let mut rig = CallerRig::with(silent_invite());
    let c = rig.call(None);
    rig.run(0.1);
    let r = rig.response(183, Some("t1"), FORK_A, &reliable(5), None);
    rig.send(r);
    rig.run(0.1);
    let challenge = vec![(
        HeaderName::ProxyAuthenticate,
        "Digest realm=\"example.test\", nonce=\"n1\", qop=\"auth\"".to_string(),
    )];
    let r = rig.response(407, Some("t1"), "", &challenge, None);
    rig.send(r);
    rig.run(0.1);
    let invites = rig.sent("INVITE");
    assert_eq!(invites.len(), 2);
    assert!(invites[1].has_header(HeaderName::ProxyAuthorization));
    assert!(
        rig.events(c)
            .iter()
            .any(|e| matches!(e, CallEvent::EarlyDialogEnded { remote_tag } if remote_tag == "t1")),
        "the refused INVITE's early dialog is reported ended"
    );
    // The same fork answers the new INVITE reliably, its RSeq counting afresh.
    let r = rig.response(183, Some("t1"), FORK_A, &reliable(1), None);
    rig.send(r);
    rig.run(0.1);
    let racks: Vec<String> = rig
        .sent("PRACK")
        .iter()
        .map(|p| p.header(HeaderName::RAck).unwrap().to_string())
        .collect();
    assert_eq!(racks, ["5 1 INVITE", "1 2 INVITE"]);
}

#[test]
fn the_2xx_of_another_fork_brings_its_own_answer() {
    let remote = |s: &str| Some(s.parse::<SocketAddr>().unwrap());
    let mut rig = CallerRig::with(silent_invite());
    let c = rig.call(None);
    rig.run(0.1);
    let invite = rig.last("INVITE");
    // Early media from fork a; fork b answers with its own session.
    let sdp_a = fork_answer(&invite, "192.0.2.41", 30000);
    let r = rig.response(183, Some("ta"), FORK_A, &[], Some(&sdp_a));
    rig.send(r);
    rig.run(0.1);
    let sdp_b = fork_answer(&invite, "192.0.2.42", 30002);
    let r = rig.response(200, Some("tb"), FORK_B, &[], Some(&sdp_b));
    rig.send(r);
    rig.run(0.5);
    assert_eq!(rig.to_tags("ACK"), ["tb"]);
    assert!(rig.peer.requests("BYE").is_empty());
    assert_eq!(
        rig.media_remotes(c),
        [remote("192.0.2.41:30000"), remote("192.0.2.42:30002")]
    );
    let n = rig.ua.machine.call_state(c).unwrap().negotiated().unwrap();
    assert_eq!(n.remote, remote("192.0.2.42:30002"));
    // Two forks with early media, the first answers: its media is reported again.
    let mut rig = CallerRig::with(silent_invite());
    let c = rig.call(None);
    rig.run(0.1);
    for (tag, contact, ip, port) in [
        ("ta", FORK_A, "192.0.2.41", 30000),
        ("tb", FORK_B, "192.0.2.42", 30002),
    ] {
        let sdp = fork_answer(&invite, ip, port);
        let r = rig.response(183, Some(tag), contact, &[], Some(&sdp));
        rig.send(r);
    }
    rig.run(0.1);
    let r = rig.response(200, Some("ta"), FORK_A, &[], Some(&sdp_a));
    rig.send(r);
    rig.run(0.5);
    assert_eq!(
        rig.media_remotes(c),
        [
            remote("192.0.2.41:30000"),
            remote("192.0.2.42:30002"),
            remote("192.0.2.41:30000")
        ]
    );
    let n = rig.ua.machine.call_state(c).unwrap().negotiated().unwrap();
    assert_eq!(n.remote, remote("192.0.2.41:30000"));
}

#[test]
fn a_forks_reliable_offer_to_a_late_offer_is_answered_in_the_prack() {
    let mut rig = CallerRig::with(silent_invite());
    let c = rig.call(Some(CallSpec {
        late_offer: true,
        ..CallSpec::new("sip:bob@example.test", media(40000))
    }));
    rig.run(0.1);
    assert!(rig.last("INVITE").body().is_empty());
    let theirs = offer(
        &LocalMedia::new("192.0.2.10".parse().unwrap(), 30000),
        77,
        1,
    )
    .to_string();
    let r = rig.response(183, Some("t1"), FORK_A, &reliable(1), Some(&theirs));
    rig.send(r);
    rig.run(0.1);
    let prack = rig.last("PRACK");
    let ours = SessionDescription::parse_bytes(prack.body()).expect("the PRACK answers");
    assert!(
        prack
            .header(HeaderName::ContentType)
            .unwrap()
            .contains("application/sdp")
    );
    assert_eq!(ours.media[0].port, 40000);
    // The 2xx carries no SDP: the exchange is done, the ACK carries none either.
    rig.respond(200, Some("t1"), FORK_A, false);
    rig.run(0.5);
    let ack = rig.last("ACK");
    assert!(ack.body().is_empty());
    assert!(rig.peer.requests("BYE").is_empty(), "the call is kept");
    let ev = rig.events(c);
    assert!(ev.iter().any(|e| matches!(e, CallEvent::Answered { .. })));
    assert_eq!(
        rig.media_remotes(c),
        [Some("192.0.2.10:30000".parse().unwrap())]
    );
    assert_eq!(
        rig.ua.machine.call_state(c).unwrap().state(),
        CallState::Confirmed
    );
}

#[test]
fn acks_of_2xx_go_with_their_transactions() {
    let mut rig = CallerRig::with(|_, _| Some((200, vec![])));
    let c = rig.call(None);
    rig.run(0.5);
    for i in 0..6 {
        let now = rig.now();
        rig.ua.machine.hold(c, i % 2 == 0, now).unwrap();
        rig.run(0.5);
    }
    let reinvites = rig.sent("INVITE");
    assert_eq!(reinvites.len(), 7);
    rig.run(40.0);
    let s = rig.ua.machine.call_state(c).unwrap();
    assert_eq!(s.state(), CallState::Confirmed);
    assert_eq!(s.stored_acks(), 0, "every INVITE transaction is over");
    // A 2xx of the first re-INVITE long after its transaction: dropped (RFC 6026).
    let first = &reinvites[1];
    let ok = MessageBuilder::response_to(first, StatusCode::OK, None)
        .header(HeaderName::Contact, "<sip:peer@192.0.2.10:5060>")
        .finish()
        .freeze();
    let acks_before = rig.sent("ACK").len();
    rig.send(ok);
    rig.run(0.5);
    assert_eq!(rig.sent("ACK").len(), acks_before);
    assert!(rig.peer.requests("BYE").is_empty());
}

#[test]
fn forks_beyond_sixteen_are_ignored() {
    let mut rig = CallerRig::with(silent_invite());
    let c = rig.call(None);
    rig.run(0.1);
    for i in 0..20 {
        let contact = format!("sip:bob@192.0.2.10:5060;fork={i}");
        let r = rig.response(180, Some(&format!("f{i}")), &contact, &reliable(1), None);
        rig.send(r);
    }
    rig.run(0.5);
    let tags = rig.to_tags("PRACK");
    let expected: Vec<String> = (0..16).map(|i| format!("f{i}")).collect();
    assert_eq!(tags, expected);
    assert_eq!(rig.ua.machine.call_state(c).unwrap().dialogs().len(), 16);
    let progress = rig
        .events(c)
        .iter()
        .filter(|e| matches!(e, CallEvent::Progress { .. }))
        .count();
    assert_eq!(progress, 16);
    // Their 2xx too: the first is the call's, the extra ones are ended, none of the
    // ignored forks gets anything.
    for i in [3, 18, 5] {
        let contact = format!("sip:bob@192.0.2.10:5060;fork={i}");
        rig.respond(200, Some(&format!("f{i}")), &contact, true);
    }
    rig.run(0.5);
    assert_eq!(rig.to_tags("ACK"), ["f3", "f5"]);
    assert_eq!(rig.to_tags("BYE"), ["f5"]);
}
