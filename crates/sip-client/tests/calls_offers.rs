//! Offer/answer corner cases in calls, on the simulated network: an offer of the
//! peer's while its INVITE's offer is unanswered gets 500 with Retry-After; a
//! refused re-offer leaves our media as it was; re-offers keep the m-lines of the
//! last exchange; an answer that failed leaves the offer to answer, and early media
//! waits for a pending reliable response; the transfer's subscription fails alone.

mod support;

use sip_client::{CallError, CallEvent, CallState};
use sip_message::offer_answer::{Codec, LocalMedia};
use sip_message::sdp::{Direction, SessionDescription};
use sip_message::{HeaderName, Method, Request, StatusCode};
use support::rig::{CalleeRig, CallerRig, invite_with_offer, offer_sdp, request};
use support::*;

/// The SDP body of a request the peer got.
fn sdp_of(r: &Request) -> SessionDescription {
    SessionDescription::parse_bytes(r.body()).expect("an SDP body")
}

#[test]
fn an_offer_while_the_invites_offer_is_unanswered_gets_500_and_retry_after() {
    let mut rig = CalleeRig::udp();
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
    // An UPDATE with another offer, and a re-INVITE, on the early dialog.
    let other = offer_sdp(Direction::SendRecv).replace("192.0.2.10", "192.0.2.11");
    rig.send(request(
        "UPDATE",
        6,
        "z9hG4bKu6",
        Some(&tag),
        "",
        Some(("application/sdp", &other)),
    ));
    rig.send(request(
        "INVITE",
        7,
        "z9hG4bKre7",
        Some(&tag),
        "",
        Some(("application/sdp", &other)),
    ));
    rig.run(0.1);
    for method in ["UPDATE", "INVITE"] {
        let r = rig.last_response(method);
        assert_eq!(r.status(), StatusCode::SERVER_INTERNAL_ERROR, "{method}");
        let secs: u32 = r.header(HeaderName::RetryAfter).unwrap().parse().unwrap();
        assert!(secs <= 10, "{method}: {secs}");
    }
    assert_eq!(rig.last_response("INVITE").cseq_seq(), 7);
    // The INVITE's offer is still the one answered.
    let now = rig.now();
    rig.ua.machine.answer(c, Some(media(40000)), now).unwrap();
    rig.run(0.1);
    let ok = rig.last_response("INVITE");
    assert_eq!((ok.status(), ok.cseq_seq()), (StatusCode::OK, 5));
    let remotes: Vec<_> = rig
        .events(c)
        .iter()
        .filter_map(|e| match e {
            CallEvent::Media { negotiated, .. } => Some(negotiated.remote),
            _ => None,
        })
        .collect();
    assert_eq!(remotes, [Some("192.0.2.10:30000".parse().unwrap())]);
}

#[test]
fn a_refused_reoffer_leaves_our_media_as_it_was() {
    // The first two re-offers are refused with 488.
    let mut rig = CallerRig::with(|r, n| {
        Some(match (r.method(), n) {
            (&Method::Invite, 1 | 2) => (488, vec![]),
            _ => (200, vec![]),
        })
    });
    let c = rig.call(None);
    rig.run(0.5);
    let now = rig.now();
    rig.ua.machine.hold(c, true, now).unwrap();
    rig.run(0.5);
    let held = sdp_of(&rig.sent("INVITE")[1]);
    assert_eq!(held.direction(&held.media[0]), Direction::SendOnly);
    let s = rig.ua.machine.call_state(c).unwrap();
    assert_eq!(s.local_media().direction, Direction::SendRecv);
    // A codec and port change refused too.
    let now = rig.now();
    let changed = LocalMedia {
        codecs: vec![Codec::pcma()],
        ..media(42000)
    };
    rig.ua
        .machine
        .reoffer(c, Method::Invite, Some(changed), now)
        .unwrap();
    rig.run(0.5);
    let now = rig.now();
    rig.ua
        .machine
        .reoffer(c, Method::Invite, None, now)
        .unwrap();
    rig.run(0.5);
    let invites = rig.sent("INVITE");
    assert_eq!(invites.len(), 4);
    let refused = sdp_of(&invites[2]);
    assert_eq!(
        (refused.media[0].port, refused.media[0].formats.clone()),
        (42000, vec!["8".to_string()])
    );
    // The next offer (a refresh) is the session as it was: sendrecv, port 40000.
    let again = sdp_of(&invites[3]);
    assert_eq!(again.direction(&again.media[0]), Direction::SendRecv);
    assert_eq!(again.media[0].port, 40000);
    assert_eq!(again.media[0].formats, ["0", "8", "101"]);
    assert_eq!(
        rig.ua.machine.call_state(c).unwrap().state(),
        CallState::Confirmed
    );
}

#[test]
fn a_reoffer_keeps_the_m_lines_of_the_last_exchange() {
    let mut rig = CalleeRig::udp();
    let with_video = format!(
        "{}m=video 30002 RTP/AVP 96\r\na=rtpmap:96 H264/90000\r\n",
        offer_sdp(Direction::SendRecv)
    );
    rig.send(request(
        "INVITE",
        5,
        "z9hG4bKinv1",
        None,
        "",
        Some(("application/sdp", &with_video)),
    ));
    rig.run(0.1);
    let c = rig.call();
    let now = rig.now();
    rig.ua.machine.answer(c, Some(media(40000)), now).unwrap();
    rig.run(0.1);
    let ok = rig.last_response("INVITE");
    let ans = SessionDescription::parse_bytes(ok.body()).unwrap();
    let lines: Vec<(&str, u16)> = ans
        .media
        .iter()
        .map(|m| (m.media.as_str(), m.port))
        .collect();
    assert_eq!(lines, [("audio", 40000), ("video", 0)]);
    let tag = rig.our_tag();
    rig.send(request("ACK", 5, "z9hG4bKack1", Some(&tag), "", None));
    rig.run(0.1);
    let now = rig.now();
    rig.ua.machine.hold(c, true, now).unwrap();
    rig.run(0.1);
    let reoffer = sdp_of(&rig.peer.requests("INVITE")[0].1);
    let lines: Vec<(&str, u16, &str)> = reoffer
        .media
        .iter()
        .map(|m| (m.media.as_str(), m.port, m.proto.as_str()))
        .collect();
    assert_eq!(
        lines,
        [("audio", 40000, "RTP/AVP"), ("video", 0, "RTP/AVP")]
    );
    assert_eq!(reoffer.direction(&reoffer.media[0]), Direction::SendOnly);
    assert_eq!(reoffer.media[1].formats, ["96"]);
}

#[test]
fn a_failed_answer_leaves_the_offer_to_answer() {
    let mut rig = CalleeRig::udp();
    let sendonly = offer_sdp(Direction::SendOnly);
    rig.send(request(
        "INVITE",
        5,
        "z9hG4bKinv1",
        None,
        "",
        Some(("application/sdp", &sendonly)),
    ));
    rig.run(0.1);
    let c = rig.call();
    let now = rig.now();
    let g722 = LocalMedia {
        codecs: vec![Codec::new(9, "G722", 8000)],
        ..media(40000)
    };
    assert!(matches!(
        rig.ua.machine.answer(c, Some(g722), now),
        Err(CallError::Media(_))
    ));
    rig.ua.machine.answer(c, Some(media(40000)), now).unwrap();
    rig.run(0.1);
    let ok = rig.last_response("INVITE");
    assert_eq!(ok.status(), StatusCode::OK);
    // An answer (recvonly to a sendonly offer), not an offer of our own.
    let ans = SessionDescription::parse_bytes(ok.body()).unwrap();
    assert_eq!(ans.direction(&ans.media[0]), Direction::RecvOnly);
    assert_eq!(ans.media[0].port, 40000);
    assert!(rig.events(c).iter().any(|e| matches!(
        e,
        CallEvent::Media { negotiated, .. } if negotiated.remote == Some("192.0.2.10:30000".parse().unwrap())
    )));
}

#[test]
fn early_media_waits_while_a_reliable_1xx_is_pending() {
    let mut rig = CalleeRig::udp();
    let sdp = offer_sdp(Direction::SendRecv);
    rig.send(request(
        "INVITE",
        5,
        "z9hG4bKinv1",
        None,
        "Require: 100rel\r\n",
        Some(("application/sdp", &sdp)),
    ));
    rig.run(0.1);
    let c = rig.call();
    let now = rig.now();
    rig.ua
        .machine
        .ring(c, StatusCode::RINGING, None, now)
        .unwrap();
    assert_eq!(
        rig.ua
            .machine
            .ring(c, StatusCode::SESSION_PROGRESS, Some(media(40000)), now),
        Err(CallError::ReliablePending)
    );
    rig.run(0.1);
    assert!(
        !rig.events(c)
            .iter()
            .any(|e| matches!(e, CallEvent::Media { .. })),
        "nothing was answered"
    );
    let ringing = rig.last_response("INVITE");
    let rseq = ringing.header(HeaderName::RSeq).unwrap().to_string();
    let tag = rig.our_tag();
    let rack = format!("RAck: {rseq} 5 INVITE\r\n");
    rig.send(request("PRACK", 6, "z9hG4bKp1", Some(&tag), &rack, None));
    rig.run(0.1);
    assert_eq!(rig.statuses("PRACK"), [200]);
    let now = rig.now();
    rig.ua
        .machine
        .ring(c, StatusCode::SESSION_PROGRESS, Some(media(40000)), now)
        .unwrap();
    rig.run(0.1);
    let progress = rig.last_response("INVITE");
    assert_eq!(progress.status(), StatusCode::SESSION_PROGRESS);
    let ans = SessionDescription::parse_bytes(progress.body()).expect("the 183 answers");
    assert_eq!(ans.media[0].port, 40000);
}

#[test]
fn a_refused_transfer_notify_ends_only_the_subscription() {
    // The first NOTIFY we send gets 481; the rest 200.
    let config = sip_client::EndpointConfig::default();
    let mut rig = CalleeRig::new(config, |r, n| {
        Some(match (r.method(), n) {
            (&Method::Notify, 0) => (481, vec![]),
            _ => (200, vec![]),
        })
    });
    let c = rig.established();
    let tag = rig.our_tag();
    let refer_to = "Refer-To: <sip:carol@example.test>\r\n";
    rig.send(request("REFER", 6, "z9hG4bKr6", Some(&tag), refer_to, None));
    rig.run(0.5);
    assert_eq!(rig.statuses("REFER"), [202]);
    let notifies = rig.peer.requests("NOTIFY");
    assert_eq!(notifies[0].1.header(HeaderName::Event), Some("refer"));
    assert!(rig.events(c).iter().any(|e| matches!(
        e,
        CallEvent::SubscriptionEnded {
            method: Method::Notify,
            status: 481
        }
    )));
    let s = rig.ua.machine.call_state(c).expect("the call goes on");
    assert_eq!(s.state(), CallState::Confirmed);
    assert!(rig.peer.requests("BYE").is_empty());
    // A second REFER: its NOTIFYs name it by its CSeq (RFC 3515 §2.4.6).
    rig.send(request("REFER", 7, "z9hG4bKr7", Some(&tag), refer_to, None));
    rig.run(0.5);
    assert_eq!(rig.statuses("REFER"), [202, 202]);
    let notifies = rig.peer.requests("NOTIFY");
    assert_eq!(notifies.len(), 2);
    assert_eq!(notifies[1].1.header(HeaderName::Event), Some("refer;id=7"));
    let now = rig.now();
    rig.ua
        .machine
        .notify_transfer(c, StatusCode::OK, true, now)
        .unwrap();
    rig.run(0.5);
    let last = &rig.peer.requests("NOTIFY")[2].1;
    assert_eq!(last.header(HeaderName::Event), Some("refer;id=7"));
    assert_eq!(
        std::str::from_utf8(last.body()).unwrap(),
        "SIP/2.0 200 OK\r\n"
    );
}

#[test]
fn an_unanswered_refer_ends_only_the_subscription() {
    let config = sip_client::EndpointConfig::default();
    let mut rig = CalleeRig::new(config, |r, _| {
        (r.method() != &Method::Refer).then(|| (200, vec![]))
    });
    let c = rig.established();
    let now = rig.now();
    rig.ua
        .machine
        .refer(c, "sip:carol@example.test", now)
        .unwrap();
    rig.run(40.0);
    let refer = &rig.peer.requests("REFER")[0].1;
    assert_eq!(
        refer.header(HeaderName::ReferTo),
        Some("<sip:carol@example.test>")
    );
    assert!(rig.events(c).iter().any(|e| matches!(
        e,
        CallEvent::SubscriptionEnded {
            method: Method::Refer,
            status: 408
        }
    )));
    assert_eq!(
        rig.ua.machine.call_state(c).map(|s| s.state()),
        Some(CallState::Confirmed)
    );
    assert!(rig.peer.requests("BYE").is_empty());
}
