//! Two of our endpoints calling each other over the simulated network: a whole call
//! with media agreed on both sides, busy, hold and unhold, glare resolved by the
//! §14.1 back-off, BYEs that cross, INFO DTMF, session timers (refreshes, a peer
//! that vanishes, 422), and the whole call under 20% and 30% loss over a thousand
//! seeds each.

use std::time::{Duration, Instant};

use bytes::Bytes;
use sip_client::simnet::{CallPlan, Incomplete, NetConditions, SimNet, SimUa, whole_call};
use sip_client::{
    AccountId, CallEvent, CallId, CallSpec, CallState, EndReason, Endpoint, EndpointConfig, Peer,
    RegistrationConfig, SessionTimerConfig, TimerConfig,
};
use sip_message::offer_answer::LocalMedia;
use sip_message::sdp::Direction;
use sip_message::{Method, SeededRandom, StatusCode};

const A: &str = "192.0.2.31:5060";
const B: &str = "192.0.2.32:5060";

fn endpoint(seed: u64, addr: &str, user: &str, timers: TimerConfig) -> SimUa {
    let config = EndpointConfig {
        timers,
        ..EndpointConfig::default()
    };
    endpoint_with(seed, addr, user, config)
}

fn endpoint_with(seed: u64, addr: &str, user: &str, config: EndpointConfig) -> SimUa {
    let mut ep = Endpoint::new(
        config,
        sip_auth::CredentialsManager::new(),
        Box::new(SeededRandom::new(seed)),
    );
    ep.add_account(RegistrationConfig::new(
        &format!("sip:{user}@example.test"),
        "sip:example.test",
        Peer::udp(addr.parse().unwrap()),
        addr.parse().unwrap(),
    ));
    SimUa::new(ep, addr.parse().unwrap())
}

fn media_at(addr: &str, port: u16) -> LocalMedia {
    let a: std::net::SocketAddr = addr.parse().unwrap();
    LocalMedia::new(a.ip(), port)
}

/// Alice at A calls bob at B directly.
fn place(net: &SimNet, a: &mut SimUa) -> CallId {
    let spec = CallSpec {
        peer: Some(Peer::udp(B.parse().unwrap())),
        ..CallSpec::new(&format!("sip:bob@{B}"), media_at(A, 40000))
    };
    a.machine.call(AccountId(0), spec, net.now()).unwrap()
}

fn run(net: &mut SimNet, a: &mut SimUa, b: &mut SimUa, secs: f64) {
    let t = net.now() + Duration::from_secs_f64(secs);
    net.run_until(&mut [a, b], t, |_| false);
}

/// An established call between A and B: (alice's call, bob's call).
fn established(net: &mut SimNet, a: &mut SimUa, b: &mut SimUa) -> (CallId, CallId) {
    let ca = place(net, a);
    run(net, a, b, 0.5);
    let cb = b.incoming_calls()[0];
    b.machine
        .answer(cb, Some(media_at(B, 50000)), net.now())
        .unwrap();
    run(net, a, b, 1.0);
    assert_eq!(
        a.machine.call_state(ca).unwrap().state(),
        CallState::Confirmed
    );
    assert_eq!(
        b.machine.call_state(cb).unwrap().state(),
        CallState::Confirmed
    );
    (ca, cb)
}

fn directions(ua: &SimUa, c: CallId) -> Vec<Direction> {
    ua.call_events()
        .iter()
        .filter_map(|(id, e)| match e {
            CallEvent::Media { negotiated, .. } if *id == c => Some(negotiated.direction),
            _ => None,
        })
        .collect()
}

fn perfect() -> (SimNet, SimUa, SimUa) {
    let t = TimerConfig::default();
    (
        SimNet::new(3, NetConditions::perfect(), Instant::now()),
        endpoint(1, A, "alice", t),
        endpoint(2, B, "bob", t),
    )
}

#[test]
fn a_call_between_two_endpoints() {
    let (mut net, mut a, mut b) = perfect();
    let (ca, cb) = established(&mut net, &mut a, &mut b);
    let na = a
        .machine
        .call_state(ca)
        .unwrap()
        .negotiated()
        .unwrap()
        .clone();
    let nb = b
        .machine
        .call_state(cb)
        .unwrap()
        .negotiated()
        .unwrap()
        .clone();
    assert_eq!(na.remote, Some("192.0.2.32:50000".parse().unwrap()));
    assert_eq!(nb.remote, Some("192.0.2.31:40000".parse().unwrap()));
    assert_eq!(na.codec, nb.codec);
    assert_eq!(na.telephone_event, Some(101));
    let da = a.machine.call_state(ca).unwrap().dialog().unwrap().clone();
    let db = b.machine.call_state(cb).unwrap().dialog().unwrap().clone();
    assert_eq!(da.call_id, db.call_id);
    assert_eq!(da.local_tag, db.remote_tag);
    assert_eq!(da.remote_target, format!("sip:bob@{B}"));
    assert_eq!(db.remote_target, format!("sip:alice@{A}"));
    a.machine.hangup(ca, net.now()).unwrap();
    run(&mut net, &mut a, &mut b, 1.0);
    assert_eq!(a.ended(ca), Some(EndReason::LocalBye));
    assert_eq!(b.ended(cb), Some(EndReason::RemoteBye));
    assert_eq!((a.machine.call_count(), b.machine.call_count()), (0, 0));
}

#[test]
fn busy_is_reported_on_both_sides() {
    let (mut net, mut a, mut b) = perfect();
    let ca = place(&net, &mut a);
    run(&mut net, &mut a, &mut b, 0.5);
    let cb = b.incoming_calls()[0];
    b.machine
        .reject(cb, StatusCode::BUSY_HERE, net.now())
        .unwrap();
    run(&mut net, &mut a, &mut b, 1.0);
    assert_eq!(
        a.ended(ca),
        Some(EndReason::Rejected {
            status: 486,
            reason: "Busy Here".into()
        })
    );
    assert_eq!(b.ended(cb), Some(EndReason::Declined { status: 486 }));
}

#[test]
fn hold_and_unhold() {
    let (mut net, mut a, mut b) = perfect();
    let (ca, cb) = established(&mut net, &mut a, &mut b);
    a.machine.hold(ca, true, net.now()).unwrap();
    run(&mut net, &mut a, &mut b, 1.0);
    a.machine.hold(ca, false, net.now()).unwrap();
    run(&mut net, &mut a, &mut b, 1.0);
    use Direction::*;
    assert_eq!(directions(&a, ca), [SendRecv, SendOnly, SendRecv]);
    assert_eq!(directions(&b, cb), [SendRecv, RecvOnly, SendRecv]);
}

#[test]
fn crossing_reinvites_are_resolved_by_the_back_off() {
    let (mut net, mut a, mut b) = perfect();
    let (ca, cb) = established(&mut net, &mut a, &mut b);
    // Both hold at the same instant: each re-INVITE meets the other's and gets 491.
    a.machine.hold(ca, true, net.now()).unwrap();
    b.machine.hold(cb, true, net.now()).unwrap();
    run(&mut net, &mut a, &mut b, 10.0);
    let glare = |ua: &SimUa, c: CallId| {
        ua.call_events().iter().any(|(id, e)| {
            *id == c
                && matches!(e, CallEvent::Response { method: Method::Invite, response } if response.status() == StatusCode::REQUEST_PENDING)
        })
    };
    assert!(glare(&a, ca) && glare(&b, cb));
    // The callee retries first (0-2 s), the caller after 2.1-4 s: both end on hold,
    // each sending nothing the other does not take.
    assert_eq!(directions(&a, ca).last(), Some(&Direction::Inactive));
    assert_eq!(directions(&b, cb).last(), Some(&Direction::Inactive));
    assert_eq!(
        a.machine.call_state(ca).unwrap().state(),
        CallState::Confirmed
    );
}

#[test]
fn byes_that_cross_end_both_sides_cleanly() {
    let (mut net, mut a, mut b) = perfect();
    let (ca, cb) = established(&mut net, &mut a, &mut b);
    a.machine.hangup(ca, net.now()).unwrap();
    b.machine.hangup(cb, net.now()).unwrap();
    run(&mut net, &mut a, &mut b, 40.0);
    for (ua, c) in [(&a, ca), (&b, cb)] {
        assert!(
            matches!(
                ua.ended(c),
                Some(EndReason::LocalBye | EndReason::RemoteBye)
            ),
            "{:?}",
            ua.ended(c)
        );
    }
    assert_eq!((a.machine.call_count(), b.machine.call_count()), (0, 0));
    assert_eq!(a.machine.transactions().counts(), (0, 0));
    assert_eq!(b.machine.transactions().counts(), (0, 0));
}

#[test]
fn dtmf_in_info_reaches_the_other_side() {
    let (mut net, mut a, mut b) = perfect();
    let (ca, cb) = established(&mut net, &mut a, &mut b);
    for d in ["1", "2", "#"] {
        let body = Bytes::from(format!("Signal={d}\r\nDuration=100\r\n"));
        a.machine
            .send_in_call(
                ca,
                Method::Info,
                Some("application/dtmf-relay".into()),
                body,
                Vec::new(),
                net.now(),
            )
            .unwrap();
        run(&mut net, &mut a, &mut b, 0.1);
    }
    let digits: String = b
        .call_events()
        .iter()
        .filter_map(|(id, e)| match e {
            CallEvent::Dtmf { digit, .. } if *id == cb => Some(*digit),
            _ => None,
        })
        .collect();
    assert_eq!(digits, "12#");
}

/// One whole call (INVITE, 180, 200, ACK, half a minute of talk, BYE) on a network
/// losing `loss` of the datagrams.
fn lossy_call(seed: u64, loss: f64, timers: TimerConfig) -> Result<(), Incomplete> {
    let start = Instant::now();
    let mut net = SimNet::new(seed, NetConditions::lossy(loss), start);
    let mut a = endpoint(seed, A, "alice", timers);
    let mut b = endpoint(seed ^ 0x5a5a, B, "bob", timers);
    let ca = place(&net, &mut a);
    let plan = CallPlan {
        answer: media_at(B, 50000),
        talk: Duration::from_secs(30),
        limit: start + Duration::from_secs(300),
    };
    whole_call(&mut net, &mut a, &mut b, &mut [], ca, &plan)
}

fn loss_run(loss: f64, seeds: u64, timers: TimerConfig) -> (u64, Vec<String>) {
    let mut ok = 0;
    let mut other = Vec::new();
    for seed in 0..seeds {
        match lossy_call(seed, loss, timers) {
            Ok(()) => ok += 1,
            Err(e) => other.push(format!("seed {seed}: {e:?}")),
        }
    }
    println!(
        "{:.0}% loss, T1 {:?}: {ok}/{seeds} calls complete",
        loss * 100.0,
        timers.t1
    );
    (ok, other)
}

#[test]
fn every_call_completes_at_20_percent_loss() {
    let (ok, other) = loss_run(0.20, 1000, TimerConfig::default());
    assert_eq!(ok, 1000, "{other:?}");
}

#[test]
fn calls_complete_at_30_percent_loss_and_the_rest_end_cleanly() {
    let (ok, other) = loss_run(0.30, 1000, TimerConfig::default());
    assert!(ok >= 990, "{ok}/1000: {other:?}");
    assert!(other.iter().all(|e| !e.contains("NOT ENDED")), "{other:?}");
}

#[test]
fn lossy_calls_with_a_short_t1() {
    let timers = TimerConfig {
        t1: Duration::from_millis(100),
        t2: Duration::from_secs(1),
        ..TimerConfig::default()
    };
    let (ok, other) = loss_run(0.20, 300, timers);
    assert_eq!(ok, 300, "{other:?}");
}

/// Endpoints asking for a session interval of `interval` s and taking `min_se`.
fn timed(seed: u64, addr: &str, user: &str, interval: u32, min_se: u32) -> SimUa {
    let config = EndpointConfig {
        session_timer: Some(SessionTimerConfig { interval, min_se }),
        ..EndpointConfig::default()
    };
    endpoint_with(seed, addr, user, config)
}

/// How many offer/answer exchanges a call went through.
fn exchanges(ua: &SimUa, c: CallId) -> usize {
    ua.call_events()
        .iter()
        .filter(|(id, e)| *id == c && matches!(e, CallEvent::Media { .. }))
        .count()
}

#[test]
fn a_session_timer_refreshes_the_call_every_half_interval() {
    let mut net = SimNet::new(3, NetConditions::perfect(), Instant::now());
    let mut a = timed(1, A, "alice", 90, 90);
    let mut b = timed(2, B, "bob", 90, 90);
    let (ca, cb) = established(&mut net, &mut a, &mut b);
    // The caller supports timers, so the callee makes it the refresher (§9): a
    // re-INVITE every 45 s for ten minutes, and the call is still up.
    run(&mut net, &mut a, &mut b, 600.0);
    assert_eq!(
        b.machine.call_state(cb).unwrap().state(),
        CallState::Confirmed
    );
    assert_eq!(exchanges(&b, cb), 1 + 13, "600 s / 45 s refreshes");
    assert_eq!(exchanges(&a, ca), 1 + 13);
}

#[test]
fn a_vanished_peer_ends_the_call_by_itself() {
    let start = Instant::now();
    let mut net = SimNet::new(3, NetConditions::perfect(), start);
    let mut a = timed(1, A, "alice", 90, 90);
    let mut b = timed(2, B, "bob", 90, 90);
    let (ca, cb) = established(&mut net, &mut a, &mut b);
    // The caller's network goes: nothing reaches or leaves it any more.
    let gone = NetConditions {
        loss: 1.0,
        ..NetConditions::perfect()
    };
    net.set_link(A.parse().unwrap(), gone);
    let t0 = net.now();
    run(&mut net, &mut a, &mut b, 200.0);
    // The callee, not the refresher, hears no refresh: it ends the call with BYE
    // (§10) before the 90 s interval runs out at the caller's end; its BYE is lost,
    // so it ends after the BYE's transaction gives up.
    assert_eq!(b.ended(cb), Some(EndReason::SessionExpired));
    // The caller's refresh gets no answer: the dialog is gone (§12.2.1.2).
    assert_eq!(a.ended(ca), Some(EndReason::DialogGone { status: 408 }));
    assert!(net.now() - t0 <= Duration::from_secs(200));
    assert_eq!((a.machine.call_count(), b.machine.call_count()), (0, 0));
}

#[test]
fn an_interval_below_the_peers_minimum_gets_422_and_is_raised() {
    let mut net = SimNet::new(3, NetConditions::perfect(), Instant::now());
    let mut a = timed(1, A, "alice", 90, 90);
    let mut b = timed(2, B, "bob", 1800, 300);
    let (ca, cb) = established(&mut net, &mut a, &mut b);
    // The first INVITE asked for 90 s and got 422 Min-SE: 300; the second asked 300.
    let asked: Vec<u32> = b
        .call_events()
        .iter()
        .filter_map(|(id, e)| match e {
            CallEvent::Incoming { request, .. } if *id == cb => request
                .header(sip_message::HeaderName::SessionExpires)
                .and_then(|v| v.split(';').next()?.trim().parse().ok()),
            _ => None,
        })
        .collect();
    assert_eq!(asked, [300]);
    // Refreshes every 150 s: in 400 s, two of them.
    run(&mut net, &mut a, &mut b, 400.0);
    assert_eq!(exchanges(&a, ca), 1 + 2);
}

#[test]
fn early_media_goes_reliably_and_the_answer_waits_for_its_prack() {
    let (mut net, mut a, mut b) = perfect();
    let ca = place(&net, &mut a);
    run(&mut net, &mut a, &mut b, 0.5);
    let cb = b.incoming_calls()[0];
    // The callee sends 183 with its answer and at once the 200: the caller's INVITE
    // supports 100rel, so the 183 goes reliably and the 200 waits for its PRACK.
    let now = net.now();
    b.machine
        .ring(
            cb,
            StatusCode::SESSION_PROGRESS,
            Some(media_at(B, 50000)),
            now,
        )
        .unwrap();
    b.machine.answer(cb, Some(media_at(B, 50000)), now).unwrap();
    assert_eq!(
        b.machine.call_state(cb).unwrap().state(),
        CallState::Incoming,
        "the 200 waits for the PRACK"
    );
    run(&mut net, &mut a, &mut b, 1.0);
    let ev: Vec<&str> = a
        .call_events()
        .iter()
        .filter(|(c, _)| *c == ca)
        .filter(|(_, e)| !matches!(e, CallEvent::Progress { response } if response.status() == StatusCode::TRYING))
        .map(|(_, e)| match e {
            CallEvent::Progress { .. } => "progress",
            CallEvent::Media { .. } => "media",
            CallEvent::Answered { .. } => "answered",
            _ => "other",
        })
        .collect();
    assert_eq!(ev, ["progress", "media", "answered"]);
    assert_eq!(
        b.machine.call_state(cb).unwrap().state(),
        CallState::Confirmed
    );
    let na = a.machine.call_state(ca).unwrap().negotiated().unwrap();
    assert_eq!(na.remote, Some("192.0.2.32:50000".parse().unwrap()));
}

#[test]
fn blind_transfer_with_its_progress_reported() {
    const C: &str = "192.0.2.33:5060";
    let (mut net, mut a, mut b) = perfect();
    let mut c = endpoint(4, C, "carol", TimerConfig::default());
    let (ca, cb) = established(&mut net, &mut a, &mut b);
    let run3 = |net: &mut SimNet, a: &mut SimUa, b: &mut SimUa, c: &mut SimUa, secs: f64| {
        let t = net.now() + Duration::from_secs_f64(secs);
        net.run_until(&mut [a, b, c], t, |_| false);
    };
    // Bob transfers alice to carol.
    b.machine
        .refer(cb, &format!("sip:carol@{C}"), net.now())
        .unwrap();
    run3(&mut net, &mut a, &mut b, &mut c, 0.5);
    let target = a.call_events().iter().find_map(|(id, e)| match e {
        CallEvent::Transfer {
            target,
            referred_by,
        } if *id == ca => Some((target.clone(), referred_by.clone())),
        _ => None,
    });
    assert_eq!(
        target,
        Some((
            format!("sip:carol@{C}"),
            Some("sip:bob@example.test".to_string())
        ))
    );
    // Alice's application follows it; carol answers.
    let spec = CallSpec {
        peer: Some(Peer::udp(C.parse().unwrap())),
        ..CallSpec::new(&format!("sip:carol@{C}"), media_at(A, 40010))
    };
    let new = a.machine.follow_transfer(ca, spec, net.now()).unwrap();
    run3(&mut net, &mut a, &mut b, &mut c, 0.5);
    let cc = c.incoming_calls()[0];
    let now = net.now();
    c.machine.ring(cc, StatusCode::RINGING, None, now).unwrap();
    c.machine.answer(cc, Some(media_at(C, 60000)), now).unwrap();
    run3(&mut net, &mut a, &mut b, &mut c, 1.0);
    let progress: Vec<(u16, bool)> = b
        .call_events()
        .iter()
        .filter_map(|(id, e)| match e {
            CallEvent::TransferProgress { status, done } if *id == cb => Some((*status, *done)),
            _ => None,
        })
        .collect();
    assert_eq!(progress, [(100, false), (180, false), (200, true)]);
    assert_eq!(
        a.machine.call_state(new).unwrap().state(),
        CallState::Confirmed
    );
    // The REFER was answered 202.
    assert!(b.call_events().iter().any(|(id, e)| *id == cb
        && matches!(e, CallEvent::Response { method: Method::Refer, response } if response.status() == StatusCode::ACCEPTED)));
    // Bob leaves; alice and carol talk on.
    b.machine.hangup(cb, net.now()).unwrap();
    run3(&mut net, &mut a, &mut b, &mut c, 1.0);
    assert_eq!(a.ended(ca), Some(EndReason::RemoteBye));
    assert_eq!(
        c.machine.call_state(cc).unwrap().state(),
        CallState::Confirmed
    );
}

#[test]
fn a_message_outside_calls_is_sent_and_answered() {
    let (mut net, mut a, mut b) = perfect();
    let mut msg = sip_client::OutgoingRequest::new(Method::Message, &format!("sip:bob@{B}"));
    msg.peer = Some(Peer::udp(B.parse().unwrap()));
    msg.content_type = Some("text/plain".into());
    msg.body = Bytes::from_static(b"hello bob");
    let id = a.machine.send(AccountId(0), msg, net.now()).unwrap();
    run(&mut net, &mut a, &mut b, 0.1);
    let (tx, request) = b
        .events
        .iter()
        .find_map(|e| match e {
            sip_client::Event::IncomingRequest { tx, request, .. } => Some((*tx, request.clone())),
            _ => None,
        })
        .expect("bob got the MESSAGE");
    assert_eq!(request.method(), &Method::Message);
    assert_eq!(request.body().as_ref(), b"hello bob");
    assert_eq!(
        request.header(sip_message::HeaderName::ContentType),
        Some("text/plain")
    );
    b.machine
        .reply(tx, &request, StatusCode::OK, net.now())
        .unwrap();
    run(&mut net, &mut a, &mut b, 0.1);
    assert!(a.events.iter().any(|e| matches!(
        e,
        sip_client::Event::Response { id: r, response } if *r == id && response.status() == StatusCode::OK
    )));
}

#[test]
fn a_codec_change_by_reinvite_and_by_update() {
    let (mut net, mut a, mut b) = perfect();
    let (ca, cb) = established(&mut net, &mut a, &mut b);
    let codec = |ua: &SimUa, c: CallId| {
        ua.machine
            .call_state(c)
            .unwrap()
            .negotiated()
            .unwrap()
            .codec
            .encoding
            .clone()
    };
    assert_eq!(
        (codec(&a, ca), codec(&b, cb)),
        ("PCMU".into(), "PCMU".into())
    );
    // Alice now offers A-law only (and DTMF), on another port.
    let mut pcma = media_at(A, 40020);
    pcma.codecs = vec![
        sip_message::offer_answer::Codec::pcma(),
        sip_message::offer_answer::Codec::telephone_event(101),
    ];
    a.machine
        .reoffer(ca, Method::Invite, Some(pcma), net.now())
        .unwrap();
    run(&mut net, &mut a, &mut b, 1.0);
    assert_eq!(
        (codec(&a, ca), codec(&b, cb)),
        ("PCMA".into(), "PCMA".into())
    );
    let nb = b.machine.call_state(cb).unwrap().negotiated().unwrap();
    assert_eq!(nb.remote, Some("192.0.2.31:40020".parse().unwrap()));
    // And back to µ-law with an UPDATE.
    a.machine
        .reoffer(ca, Method::Update, Some(media_at(A, 40030)), net.now())
        .unwrap();
    run(&mut net, &mut a, &mut b, 1.0);
    assert_eq!(
        (codec(&a, ca), codec(&b, cb)),
        ("PCMU".into(), "PCMU".into())
    );
    let nb = b.machine.call_state(cb).unwrap().negotiated().unwrap();
    assert_eq!(nb.remote, Some("192.0.2.31:40030".parse().unwrap()));
}
