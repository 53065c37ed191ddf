//! Calls between two of our endpoints through our registrar and proxy on the
//! simulated network: the INVITE challenged with 407 by the proxy and sent again,
//! Record-Route, the ACK and BYE routed through the proxy, the proxy's answers for
//! users it cannot reach, and the whole call (INVITE, 407, 180, 200, ACK, BYE) under
//! 20% and 30% loss over a thousand seeds each.

mod support;

use std::time::{Duration, Instant};

use sip_client::simnet::{CallPlan, Incomplete, NetConditions, SimNet, SimNode, SimUa, whole_call};
use sip_client::{AccountId, CallEvent, CallSpec, EndReason, TimerConfig};
use sip_message::{StatusCode, TransportMode};
use sip_registrar::Registrar;
use support::media;

const ALICE: &str = "127.0.0.1:5070";
const BOB: &str = "127.0.0.1:5080";

fn registrar(seed: u64, now: Instant, timers: TimerConfig) -> SimNode<Registrar> {
    support::registrar(seed, now, 3600, timers)
}

fn user(seed: u64, name: &str, password: &str, local: &str, timers: TimerConfig) -> SimUa {
    support::user(seed, name, password, local, TransportMode::Udp, timers)
}

#[test]
fn a_call_through_the_proxy_with_407_and_record_route() {
    let start = Instant::now();
    let t = TimerConfig::default();
    let mut net = SimNet::new(5, NetConditions::lossy(0.05), start);
    let mut server = registrar(5, start, t);
    let mut alice = user(1, "alice", "secret-a", ALICE, t);
    let mut bob = user(2, "bob", "secret-b", BOB, t);
    alice.machine.register(AccountId(0), start);
    bob.machine.register(AccountId(0), start);
    let until = start + Duration::from_secs(40);
    net.run_until(&mut [&mut alice, &mut bob, &mut server], until, |_| false);
    assert_eq!(server.machine.bindings().len(), 2);
    let now = net.now();
    let spec = CallSpec::new("sip:bob@harness.test", media(ALICE, 40000));
    let ca = alice.machine.call(AccountId(0), spec, now).unwrap();
    let until = now + Duration::from_secs(10);
    net.run_until(&mut [&mut alice, &mut bob, &mut server], until, |_| false);
    let cb = bob
        .incoming_calls()
        .first()
        .copied()
        .expect("bob's phone rings");
    let CallEvent::Incoming { request, .. } = bob
        .call_events()
        .into_iter()
        .find(|(c, _)| *c == cb)
        .unwrap()
        .1
    else {
        unreachable!()
    };
    assert_eq!(request.uri().as_str(), "sip:bob@127.0.0.1:5080");
    assert_eq!(request.record_routes().count(), 1);
    assert_eq!(request.via_count(), 2);
    let now = net.now();
    bob.machine
        .ring(cb, StatusCode::RINGING, None, now)
        .unwrap();
    bob.machine
        .answer(cb, Some(media(BOB, 50000)), now)
        .unwrap();
    let until = now + Duration::from_secs(10);
    net.run_until(&mut [&mut alice, &mut bob, &mut server], until, |_| false);
    let d = alice.machine.call_state(ca).unwrap().dialog().unwrap();
    assert_eq!(d.route_set, ["<sip:127.0.0.1:5060;lr>"]);
    assert!(
        bob.call_events()
            .iter()
            .any(|(c, e)| *c == cb && matches!(e, CallEvent::Confirmed)),
        "the ACK reached bob through the proxy"
    );
    assert!(
        server.machine.stats().challenged >= 3,
        "REGISTERs and the INVITE"
    );
    let now = net.now();
    alice.machine.hangup(ca, now).unwrap();
    let until = now + Duration::from_secs(40);
    net.run_until(&mut [&mut alice, &mut bob, &mut server], until, |_| false);
    assert_eq!(alice.ended(ca), Some(EndReason::LocalBye));
    assert_eq!(bob.ended(cb), Some(EndReason::RemoteBye));
}

#[test]
fn calls_to_unregistered_or_unknown_users_are_answered_by_the_proxy() {
    let start = Instant::now();
    let t = TimerConfig::default();
    let mut net = SimNet::new(5, NetConditions::perfect(), start);
    let mut server = registrar(5, start, t);
    let mut alice = user(1, "alice", "secret-a", ALICE, t);
    let c1 = alice
        .machine
        .call(
            AccountId(0),
            CallSpec::new("sip:bob@harness.test", media(ALICE, 40000)),
            start,
        )
        .unwrap();
    let c2 = alice
        .machine
        .call(
            AccountId(0),
            CallSpec::new("sip:nobody@harness.test", media(ALICE, 40002)),
            start,
        )
        .unwrap();
    let until = start + Duration::from_secs(40);
    net.run_until(&mut [&mut alice, &mut server], until, |_| false);
    let status = |c| match alice.ended(c) {
        Some(EndReason::Rejected { status, .. }) => status,
        other => panic!("{other:?}"),
    };
    assert_eq!((status(c1), status(c2)), (480, 404));
}

/// Which links lose datagrams.
#[derive(Clone, Copy, Debug)]
enum Lossy {
    /// The caller's link to the proxy (a phone on bad Wi-Fi).
    Caller,
    /// The callee's.
    Callee,
    /// Every link: each message crosses two lossy hops.
    Both,
}

/// Registers both, then one whole call through the proxy; `Ok` when both sides saw
/// it set up and ended with BYE.
fn lossy_call(seed: u64, loss: f64, lossy: Lossy, timers: TimerConfig) -> Result<(), String> {
    let start = Instant::now();
    let conditions = NetConditions::lossy(loss);
    let mut net = match lossy {
        Lossy::Both => SimNet::new(seed, conditions, start),
        Lossy::Caller | Lossy::Callee => {
            let mut n = SimNet::new(seed, NetConditions::perfect(), start);
            let at = if matches!(lossy, Lossy::Caller) {
                ALICE
            } else {
                BOB
            };
            n.set_link(at.parse().unwrap(), conditions);
            n
        }
    };
    let mut server = registrar(seed, start, timers);
    let mut alice = user(seed, "alice", "secret-a", ALICE, timers);
    let mut bob = user(seed ^ 0x77, "bob", "secret-b", BOB, timers);
    alice.machine.register(AccountId(0), start);
    bob.machine.register(AccountId(0), start);
    let limit = start + Duration::from_secs(600);
    while !(alice.registered() && bob.registered()) {
        if !net.step(&mut [&mut alice, &mut bob, &mut server], limit) {
            return Err("NOT REGISTERED, ended_cleanly: false".into());
        }
    }
    let spec = CallSpec::new("sip:bob@harness.test", media(ALICE, 40000));
    let ca = alice.machine.call(AccountId(0), spec, net.now()).unwrap();
    let plan = CallPlan {
        answer: media(BOB, 50000),
        talk: Duration::from_secs(30),
        limit,
    };
    whole_call(
        &mut net,
        &mut alice,
        &mut bob,
        &mut [&mut server],
        ca,
        &plan,
    )
    .map_err(|e: Incomplete| format!("{e:?}"))
}

fn loss_run(loss: f64, lossy: Lossy, seeds: u64, timers: TimerConfig) -> (u64, Vec<String>) {
    let mut ok = 0;
    let mut other = Vec::new();
    for seed in 0..seeds {
        match lossy_call(seed, loss, lossy, timers) {
            Ok(()) => ok += 1,
            Err(e) => other.push(format!("seed {seed}: {e}")),
        }
    }
    println!(
        "through the proxy, {:.0}% loss on {lossy:?} links, T1 {:?}: {ok}/{seeds} calls complete; others: {other:?}",
        loss * 100.0,
        timers.t1
    );
    (ok, other)
}

#[test]
fn every_call_completes_with_the_caller_at_20_percent_loss() {
    let (ok, other) = loss_run(0.20, Lossy::Caller, 1000, TimerConfig::default());
    assert_eq!(ok, 1000, "{other:?}");
}

#[test]
fn calls_complete_with_the_caller_at_30_percent_loss() {
    let (ok, other) = loss_run(0.30, Lossy::Caller, 1000, TimerConfig::default());
    assert!(ok >= 990, "{ok}/1000: {other:?}");
    assert!(
        other.iter().all(|e| e.contains("ended_cleanly: true")),
        "{other:?}"
    );
}

#[test]
fn every_call_completes_with_the_callee_at_20_percent_loss() {
    let (ok, other) = loss_run(0.20, Lossy::Callee, 1000, TimerConfig::default());
    assert_eq!(ok, 1000, "{other:?}");
}

#[test]
fn calls_complete_with_the_callee_at_30_percent_loss() {
    let (ok, other) = loss_run(0.30, Lossy::Callee, 1000, TimerConfig::default());
    assert!(ok >= 990, "{ok}/1000: {other:?}");
    assert!(
        other.iter().all(|e| e.contains("ended_cleanly: true")),
        "{other:?}"
    );
}

#[test]
fn calls_across_two_lossy_hops_end_cleanly() {
    // Every message crosses two lossy links (the stateless proxy retransmits
    // nothing): a 2xx and its ACK get through together with probability
    // 0.8^4 = 0.41 per round at 20%, so a few calls in a thousand lose every round of
    // 64·T1; at 30%, 0.7^4 = 0.24 per round. Those end cleanly with a reason.
    let (ok20, other20) = loss_run(0.20, Lossy::Both, 1000, TimerConfig::default());
    let (ok30, other30) = loss_run(0.30, Lossy::Both, 1000, TimerConfig::default());
    assert!(ok20 >= 990, "{ok20}/1000");
    assert!(ok30 >= 900, "{ok30}/1000");
    for e in other20.iter().chain(&other30) {
        assert!(e.contains("ended_cleanly: true"), "{e}");
    }
}

#[test]
fn calls_through_the_proxy_with_a_short_t1() {
    let timers = TimerConfig {
        t1: Duration::from_millis(100),
        t2: Duration::from_secs(1),
        ..TimerConfig::default()
    };
    let (ok, other) = loss_run(0.20, Lossy::Caller, 300, timers);
    assert_eq!(ok, 300, "{other:?}");
}
