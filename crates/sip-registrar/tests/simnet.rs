//! Our client against our registrar over the simulated network: registration with a
//! digest challenge under loss, duplication and reordering, and a day of refreshes.

mod support;

use std::time::{Duration, Instant};

use sip_client::simnet::{NetConditions, SimNet, SimNode, SimUa};
use sip_client::{AccountId, Event, RegistrationEvent, TimerConfig};
use sip_message::TransportMode;
use sip_registrar::Registrar;
use support::user_with;

const CLIENT: &str = "127.0.0.1:5070";

fn registrar(seed: u64, now: Instant, max_expires: u32) -> SimNode<Registrar> {
    support::registrar(seed, now, max_expires, TimerConfig::default())
}

fn client(seed: u64, mode: TransportMode, expires: u32) -> (SimUa, AccountId) {
    let timers = TimerConfig::default();
    let ua = user_with(seed, "alice", "secret-a", CLIENT, mode, timers, |reg| {
        reg.expires = expires;
        reg.instance = Some("urn:uuid:00000000-0000-4000-8000-000000000001".into());
    });
    (ua, AccountId(0))
}

fn registered(ua: &SimUa) -> Option<u32> {
    ua.events.iter().find_map(|e| match e {
        Event::Registration {
            event: RegistrationEvent::Registered { expires, .. },
            ..
        } => Some(*expires),
        _ => None,
    })
}

fn fatal(ua: &SimUa) -> bool {
    ua.events.iter().any(|e| {
        matches!(
            e,
            Event::Registration {
                event: RegistrationEvent::Failed { fatal: true, .. },
                ..
            }
        )
    })
}

/// Registers once on a network with `loss`; returns how long it took when it completed
/// within five simulated minutes (time for the registration's own retry after a
/// timeout).
fn register_once(seed: u64, loss: f64) -> Option<Duration> {
    let start = Instant::now();
    let mut net = SimNet::new(seed, NetConditions::lossy(loss), start);
    let mut server = registrar(seed, start, 3600);
    let (mut ua, id) = client(seed, TransportMode::Udp, 3600);
    ua.machine.register(id, start);
    let limit = start + Duration::from_secs(300);
    let done = net.run_until(&mut [&mut ua, &mut server], limit, |nodes| {
        let _ = nodes;
        false
    });
    let _ = done;
    let at = ua.machine.account(id).and_then(|r| r.bound_until());
    (registered(&ua).is_some() && !fatal(&ua)).then(|| {
        at.map(|t| t - Duration::from_secs(3600) - start)
            .unwrap_or_default()
    })
}

#[test]
fn registers_with_a_challenge_on_a_perfect_network() {
    let start = Instant::now();
    let mut net = SimNet::new(1, NetConditions::perfect(), start);
    let mut server = registrar(1, start, 3600);
    let (mut ua, id) = client(1, TransportMode::Udp, 1800);
    ua.machine.register(id, start);
    net.run_until(
        &mut [&mut ua, &mut server],
        start + Duration::from_secs(5),
        |_| false,
    );
    assert_eq!(registered(&ua), Some(1800));
    assert_eq!(server.machine.stats().challenged, 1);
    assert_eq!(server.machine.stats().registered, 1);
    let b = server
        .machine
        .bindings()
        .lookup("alice@harness.test", net.now());
    assert_eq!(b.len(), 1);
    assert_eq!(b[0].uri, "sip:alice@127.0.0.1:5070");
    // Deregistering removes it.
    ua.machine.unregister(id, net.now());
    let t = net.now() + Duration::from_secs(5);
    net.run_until(&mut [&mut ua, &mut server], t, |_| false);
    assert!(ua.events.iter().any(|e| matches!(
        e,
        Event::Registration {
            event: RegistrationEvent::Unregistered { error: None },
            ..
        }
    )));
    assert!(
        server
            .machine
            .bindings()
            .lookup("alice@harness.test", net.now())
            .is_empty()
    );
}

#[test]
fn registers_over_a_reliable_transport() {
    let start = Instant::now();
    let mut net = SimNet::new(2, NetConditions::lossy(0.3), start);
    let mut server = registrar(2, start, 3600);
    let (mut ua, id) = client(2, TransportMode::Tcp, 3600);
    ua.machine.register(id, start);
    net.run_until(
        &mut [&mut ua, &mut server],
        start + Duration::from_secs(5),
        |_| false,
    );
    assert_eq!(registered(&ua), Some(3600));
    // Streams are never lost and REGISTER is never retransmitted over them.
    assert_eq!(net.stats().sent, 4);
}

/// Registrations completed out of `seeds`, and the median and slowest time to the
/// REGISTER that succeeded.
fn completion_rate(loss: f64, seeds: u64) -> (u64, u64) {
    let mut times: Vec<Duration> = (0..seeds).filter_map(|s| register_once(s, loss)).collect();
    times.sort();
    let ok = times.len() as u64;
    if let (Some(median), Some(max)) = (times.get(times.len() / 2), times.last()) {
        println!(
            "{:.0}% loss: {ok}/{seeds} registrations completed; the successful REGISTER left after {:.2} s (median), {:.2} s (slowest)",
            loss * 100.0,
            median.as_secs_f64(),
            max.as_secs_f64()
        );
    }
    (ok, seeds)
}

#[test]
fn register_completes_for_every_seed_at_20_percent_loss() {
    let (ok, n) = completion_rate(0.20, 1000);
    assert_eq!(ok, n);
}

#[test]
fn register_completes_for_99_percent_of_seeds_at_30_percent_loss() {
    let (ok, n) = completion_rate(0.30, 1000);
    assert!(ok * 100 >= n * 99, "{ok}/{n}");
}

/// A day with a registrar granting 600 s when 3600 s is asked: the binding never
/// lapses and refreshes come at half the granted time.
fn day_of_refreshes(loss: f64, seed: u64) {
    let start = Instant::now();
    let mut net = SimNet::new(seed, NetConditions::lossy(loss), start);
    let mut server = registrar(seed, start, 600);
    let (mut ua, id) = client(seed, TransportMode::Udp, 3600);
    ua.machine.register(id, start);
    net.run_until(
        &mut [&mut ua, &mut server],
        start + Duration::from_secs(60),
        |n| {
            let _ = n;
            false
        },
    );
    assert_eq!(registered(&ua), Some(600), "granted less than asked");
    let end = start + Duration::from_secs(24 * 3600);
    let mut lapses = 0u32;
    while net.step(&mut [&mut ua, &mut server], end) {
        if server
            .machine
            .bindings()
            .lookup("alice@harness.test", net.now())
            .is_empty()
        {
            lapses += 1;
        }
    }
    let refreshes = ua
        .events
        .iter()
        .filter(|e| {
            matches!(
                e,
                Event::Registration {
                    event: RegistrationEvent::Registered { refresh: true, .. },
                    ..
                }
            )
        })
        .count();
    assert_eq!(lapses, 0, "the binding lapsed");
    assert!(!fatal(&ua));
    // Every 300 s over 24 h: 287 refreshes (a retry after loss can add a few).
    assert!((280..=300).contains(&refreshes), "{refreshes} refreshes");
    println!(
        "24 h at {loss} loss: {refreshes} refreshes, net {:?}",
        net.stats()
    );
}

#[test]
fn a_day_of_refreshes_when_granted_less_than_asked() {
    day_of_refreshes(0.0, 7);
}

#[test]
fn a_day_of_refreshes_on_a_lossy_network() {
    day_of_refreshes(0.2, 8);
}

#[test]
fn expired_bindings_are_dropped() {
    let start = Instant::now();
    let mut net = SimNet::new(3, NetConditions::perfect(), start);
    let mut server = registrar(3, start, 3600);
    let (mut ua, id) = client(3, TransportMode::Udp, 120);
    ua.machine.register(id, start);
    net.run_until(
        &mut [&mut ua, &mut server],
        start + Duration::from_secs(5),
        |_| false,
    );
    assert_eq!(server.machine.bindings().len(), 1);
    // The client goes away without deregistering: the registrar alone runs on.
    net.run_until(&mut [&mut server], start + Duration::from_secs(200), |_| {
        false
    });
    assert!(
        server
            .machine
            .bindings()
            .lookup("alice@harness.test", net.now())
            .is_empty()
    );
    assert_eq!(
        server.machine.bindings().len(),
        0,
        "purged, not only hidden"
    );
}
