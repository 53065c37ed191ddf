//! Registration against a scripted registrar on the simulated network: the schedule
//! of attempts, 423, 503 with Retry-After, stale nonces, a server that re-challenges
//! forever, 403, the failure threshold, refresh timing, deregistration, a NAT, and
//! several accounts.

mod support;

use std::time::{Duration, Instant};

use sip_client::Machine;
use sip_client::simnet::{NetConditions, SimNet};
use sip_client::{RegistrationError, RegistrationEvent, RegistrationState};
use sip_message::{HeaderName, TransportMode};
use support::*;

fn secs(d: Duration) -> f64 {
    (d.as_secs_f64() * 1000.0).round() / 1000.0
}

#[test]
fn silent_registrar_udp_schedule_then_timeout_and_backoff() {
    let start = Instant::now();
    let mut net = SimNet::new(1, NetConditions::perfect(), start);
    let mut server = Scripted::new(SERVER, |_, _| None);
    let (mut ua, id) = ua(1, TransportMode::Udp, 3600);
    ua.machine.register(id, start);
    net.run_until(
        &mut [&mut ua, &mut server],
        start + Duration::from_secs(40),
        |_| false,
    );
    let times: Vec<f64> = server
        .requests("REGISTER")
        .iter()
        .map(|(t, _)| secs(*t - start))
        .collect();
    // Timer E from T1, doubling up to T2 (4 s), 10 ms network delay; all the same
    // transaction (same branch).
    assert_eq!(
        times,
        vec![
            0.01, 0.51, 1.51, 3.51, 7.51, 11.51, 15.51, 19.51, 23.51, 27.51, 31.51
        ]
    );
    let branches: std::collections::HashSet<String> = server
        .requests("REGISTER")
        .iter()
        .map(|(_, r)| r.top_via().branch().unwrap().to_string())
        .collect();
    assert_eq!(branches.len(), 1);
    // Timer F at 64·T1, then a retry after 30 s.
    assert_eq!(
        reg_events(&ua),
        vec![RegistrationEvent::Failed {
            error: RegistrationError::Timeout,
            fatal: false,
            retry_in: Some(Duration::from_secs(30)),
        }]
    );
    net.run_until(
        &mut [&mut ua, &mut server],
        start + Duration::from_secs(63),
        |_| false,
    );
    let (t, _) = server.requests("REGISTER")[11];
    assert_eq!(secs(*t - start), 62.01);
}

#[test]
fn silent_registrar_tcp_sends_once_and_fails_at_timer_f() {
    let start = Instant::now();
    let mut net = SimNet::new(1, NetConditions::perfect(), start);
    let mut server = Scripted::new(SERVER, |_, _| None);
    let (mut ua, id) = ua(1, TransportMode::Tcp, 3600);
    ua.machine.register(id, start);
    net.run_until(
        &mut [&mut ua, &mut server],
        start + Duration::from_secs(40),
        |_| false,
    );
    assert_eq!(server.requests("REGISTER").len(), 1);
    assert!(matches!(
        reg_events(&ua)[..],
        [RegistrationEvent::Failed {
            error: RegistrationError::Timeout,
            ..
        }]
    ));
}

#[test]
fn three_failures_are_fatal_and_nothing_follows() {
    let start = Instant::now();
    let mut net = SimNet::new(1, NetConditions::perfect(), start);
    let mut server = Scripted::new(SERVER, |_, _| Some((403, vec![])));
    let (mut ua, id) = ua(1, TransportMode::Udp, 3600);
    ua.machine.register(id, start);
    net.run_until(
        &mut [&mut ua, &mut server],
        start + Duration::from_secs(3600),
        |_| false,
    );
    let ev = reg_events(&ua);
    assert_eq!(server.requests("REGISTER").len(), 3, "{ev:?}");
    let rejected = RegistrationError::Rejected {
        status: 403,
        reason: "Forbidden".into(),
    };
    assert_eq!(
        ev,
        vec![
            RegistrationEvent::Failed {
                error: rejected.clone(),
                fatal: false,
                retry_in: Some(Duration::from_secs(30))
            },
            RegistrationEvent::Failed {
                error: rejected.clone(),
                fatal: false,
                retry_in: Some(Duration::from_secs(60))
            },
            RegistrationEvent::Failed {
                error: rejected,
                fatal: true,
                retry_in: None
            },
        ]
    );
    assert_eq!(
        ua.machine.account(id).unwrap().state(),
        RegistrationState::Failed
    );
    assert_eq!(
        ua.machine.poll_timeout(),
        None,
        "a failed registration keeps no timer"
    );
}

#[test]
fn service_unavailable_waits_as_told() {
    let start = Instant::now();
    let mut net = SimNet::new(1, NetConditions::perfect(), start);
    let mut server = Scripted::new(SERVER, |_, n| {
        if n < 2 {
            Some((503, vec![(HeaderName::RetryAfter, "120".into())]))
        } else {
            Some((200, vec![(HeaderName::Expires, "3600".into())]))
        }
    });
    let (mut ua, id) = ua(1, TransportMode::Udp, 3600);
    ua.machine.register(id, start);
    net.run_until(
        &mut [&mut ua, &mut server],
        start + Duration::from_secs(600),
        |_| false,
    );
    let times: Vec<f64> = server
        .requests("REGISTER")
        .iter()
        .map(|(t, _)| secs(*t - start))
        .collect();
    assert_eq!(times, vec![0.01, 120.03, 240.05]);
    let ev = reg_events(&ua);
    assert!(matches!(
        &ev[0],
        RegistrationEvent::Failed {
            error: RegistrationError::ServerError { status: 503, retry_after: Some(120), .. },
            fatal: false,
            retry_in: Some(d),
        } if *d == Duration::from_secs(120)
    ));
    assert!(matches!(
        &ev[2],
        RegistrationEvent::Registered { expires: 3600, .. }
    ));
}

#[test]
fn interval_too_brief_retries_with_min_expires() {
    let start = Instant::now();
    let mut net = SimNet::new(1, NetConditions::perfect(), start);
    let mut server = Scripted::new(SERVER, |r, _| {
        if r.expires().unwrap_or(0) < 1800 {
            Some((423, vec![(HeaderName::MinExpires, "1800".into())]))
        } else {
            Some((
                200,
                vec![(HeaderName::Expires, r.expires().unwrap().to_string())],
            ))
        }
    });
    let (mut ua, id) = ua(1, TransportMode::Udp, 300);
    ua.machine.register(id, start);
    net.run_until(
        &mut [&mut ua, &mut server],
        start + Duration::from_secs(5),
        |_| false,
    );
    let regs = server.requests("REGISTER");
    assert_eq!(regs.len(), 2);
    assert_eq!(regs[0].1.expires(), Some(300));
    assert_eq!(regs[1].1.expires(), Some(1800));
    assert_eq!(regs[0].1.call_id(), regs[1].1.call_id());
    assert_eq!(regs[1].1.cseq_seq(), regs[0].1.cseq_seq() + 1);
    assert!(matches!(
        reg_events(&ua)[..],
        [RegistrationEvent::Registered { expires: 1800, .. }]
    ));
}

#[test]
fn interval_too_brief_without_a_higher_minimum_fails() {
    let start = Instant::now();
    let mut net = SimNet::new(1, NetConditions::perfect(), start);
    let mut server = Scripted::new(SERVER, |_, _| Some((423, vec![])));
    let (mut ua, id) = ua(1, TransportMode::Udp, 300);
    ua.machine.register(id, start);
    net.run_until(
        &mut [&mut ua, &mut server],
        start + Duration::from_secs(5),
        |_| false,
    );
    assert!(matches!(
        reg_events(&ua)[..],
        [RegistrationEvent::Failed {
            error: RegistrationError::IntervalTooBrief,
            ..
        }]
    ));
}

#[test]
fn stale_nonce_is_answered_again() {
    let start = Instant::now();
    let mut net = SimNet::new(1, NetConditions::perfect(), start);
    let mut server = Scripted::new(SERVER, |r, n| match n {
        0 => Some((401, challenge("n1", false))),
        1 => {
            assert!(has_auth(r));
            Some((401, challenge("n2", true)))
        }
        _ => {
            assert!(
                r.header(HeaderName::Authorization)
                    .unwrap()
                    .contains("nonce=\"n2\"")
            );
            Some((200, vec![(HeaderName::Expires, "600".into())]))
        }
    });
    let (mut ua, id) = ua(1, TransportMode::Udp, 600);
    ua.machine.register(id, start);
    net.run_until(
        &mut [&mut ua, &mut server],
        start + Duration::from_secs(5),
        |_| false,
    );
    assert_eq!(server.requests("REGISTER").len(), 3);
    assert!(matches!(
        reg_events(&ua)[..],
        [RegistrationEvent::Registered { expires: 600, .. }]
    ));
}

#[test]
fn a_server_that_rechallenges_forever_is_left() {
    for stale in [false, true] {
        let start = Instant::now();
        let mut net = SimNet::new(1, NetConditions::perfect(), start);
        let mut nonce = 0;
        let mut server = Scripted::new(SERVER, move |r, _| {
            nonce += 1;
            Some((401, challenge(&format!("n{nonce}"), stale && has_auth(r))))
        });
        let (mut ua, id) = ua(1, TransportMode::Udp, 600);
        ua.machine.register(id, start);
        net.run_until(
            &mut [&mut ua, &mut server],
            start + Duration::from_secs(3600),
            |_| false,
        );
        let n = server.requests("REGISTER").len();
        // Without stale: the answer was refused. With stale: a few retries, then stop.
        assert!(n <= 5, "stale={stale}: {n} REGISTERs");
        assert!(
            matches!(
                reg_events(&ua)[..],
                [RegistrationEvent::Failed {
                    error: RegistrationError::CredentialsRejected { .. },
                    fatal: true,
                    ..
                }]
            ),
            "stale={stale}: {:?}",
            reg_events(&ua)
        );
    }
}

#[test]
fn refresh_comes_at_half_or_margin_and_keeps_call_id() {
    let start = Instant::now();
    let mut net = SimNet::new(1, NetConditions::perfect(), start);
    // Grants 40 s: half is 20 s, margin 30 s gives 10 s: refresh at 10 s.
    let mut server = Scripted::new(SERVER, |r, _| {
        let contact = r.contacts().next().unwrap().uri().as_str().to_string();
        Some((
            200,
            vec![(HeaderName::Contact, format!("<{contact}>;expires=40"))],
        ))
    });
    let (mut ua, id) = ua(1, TransportMode::Udp, 3600);
    ua.machine.register(id, start);
    net.run_until(
        &mut [&mut ua, &mut server],
        start + Duration::from_secs(35),
        |_| false,
    );
    let regs = server.requests("REGISTER");
    let times: Vec<f64> = regs.iter().map(|(t, _)| secs(*t - start)).collect();
    assert_eq!(times, vec![0.01, 10.01, 20.01, 30.01]);
    assert!(regs.iter().all(|(_, r)| r.call_id() == regs[0].1.call_id()));
    let cseqs: Vec<u32> = regs.iter().map(|(_, r)| r.cseq_seq()).collect();
    assert_eq!(cseqs, vec![1, 2, 3, 4]);
    let ev = reg_events(&ua);
    assert!(matches!(
        ev[0],
        RegistrationEvent::Registered {
            expires: 40,
            refresh: false,
            ..
        }
    ));
    assert!(matches!(
        ev[1],
        RegistrationEvent::Registered {
            expires: 40,
            refresh: true,
            ..
        }
    ));
}

#[test]
fn deregister_sends_expires_zero() {
    let start = Instant::now();
    let mut net = SimNet::new(1, NetConditions::perfect(), start);
    let mut server = Scripted::new(SERVER, |_, _| Some((200, vec![])));
    let (mut ua, id) = ua(1, TransportMode::Udp, 3600);
    ua.machine.register(id, start);
    net.run_until(
        &mut [&mut ua, &mut server],
        start + Duration::from_secs(2),
        |_| false,
    );
    ua.machine.unregister(id, net.now());
    net.run_until(
        &mut [&mut ua, &mut server],
        start + Duration::from_secs(4),
        |_| false,
    );
    let regs = server.requests("REGISTER");
    assert_eq!(regs.len(), 2);
    assert_eq!(regs[1].1.expires(), Some(0));
    assert_eq!(
        regs[1].1.contacts().next().unwrap().uri().as_str(),
        "sip:alice@192.0.2.20:5070"
    );
    assert_eq!(
        reg_events(&ua).last(),
        Some(&RegistrationEvent::Unregistered { error: None })
    );
    assert_eq!(
        ua.machine.account(id).unwrap().state(),
        RegistrationState::Idle
    );
}

#[test]
fn a_nat_rewriting_our_address_triggers_a_new_contact() {
    let start = Instant::now();
    let mut net = SimNet::new(1, NetConditions::perfect(), start);
    // The server sees us at 203.0.113.9:40000 (it writes received/rport as a NAT'd
    // registrar would).
    let mut server = Scripted::new(SERVER, |_, _| Some((200, vec![])));
    server.nat = Some("203.0.113.9:40000".parse().unwrap());
    let (mut ua, id) = ua(1, TransportMode::Udp, 3600);
    ua.machine.register(id, start);
    net.run_until(
        &mut [&mut ua, &mut server],
        start + Duration::from_secs(3),
        |_| false,
    );
    let ev = reg_events(&ua);
    assert!(
        ev.contains(&RegistrationEvent::PublicAddress {
            public: "203.0.113.9:40000".parse().unwrap()
        }),
        "{ev:?}"
    );
    let regs = server.requests("REGISTER");
    let last = &regs.last().unwrap().1;
    let contacts: Vec<String> = last.contacts().map(|c| c.as_str().to_string()).collect();
    assert_eq!(
        contacts,
        vec![
            "<sip:alice@203.0.113.9:40000>".to_string(),
            "<sip:alice@192.0.2.20:5070>;expires=0".to_string()
        ]
    );
    assert!(last.top_via().as_str().contains("203.0.113.9:40000"));
    assert_eq!(
        ua.machine.advertised(id),
        Some("203.0.113.9:40000".parse().unwrap())
    );
}

#[test]
fn over_a_stream_the_connections_port_is_not_a_public_address() {
    // Over TCP the registrar sees the connection's ephemeral port in rport: our
    // Contact must keep the port we listen on.
    let start = Instant::now();
    let mut net = SimNet::new(1, NetConditions::perfect(), start);
    let mut server = Scripted::new(SERVER, |_, _| Some((200, vec![])));
    server.nat = Some("192.0.2.20:40123".parse().unwrap());
    let (mut ua, id) = ua(1, TransportMode::Tcp, 3600);
    ua.machine.register(id, start);
    net.run_until(
        &mut [&mut ua, &mut server],
        start + Duration::from_secs(3),
        |_| false,
    );
    let ev = reg_events(&ua);
    assert!(
        !ev.iter()
            .any(|e| matches!(e, RegistrationEvent::PublicAddress { .. })),
        "{ev:?}"
    );
    assert_eq!(server.requests("REGISTER").len(), 1);
    assert_eq!(ua.machine.advertised(id), Some(CLIENT.parse().unwrap()));
}

#[test]
fn several_accounts_register_independently() {
    let start = Instant::now();
    let mut net = SimNet::new(1, NetConditions::perfect(), start);
    let mut server = Scripted::new(SERVER, |_, _| Some((200, vec![])));
    let (mut ua, a) = ua(1, TransportMode::Udp, 3600);
    let mut second = sip_client::RegistrationConfig::new(
        "sip:bob@example.test",
        "sip:example.test",
        sip_client::Peer::udp(SERVER.parse().unwrap()),
        CLIENT.parse().unwrap(),
    );
    second.expires = 120;
    let b = ua.machine.add_account(second);
    ua.machine.register(a, start);
    ua.machine.register(b, start);
    net.run_until(
        &mut [&mut ua, &mut server],
        start + Duration::from_secs(2),
        |_| false,
    );
    let regs = server.requests("REGISTER");
    assert_eq!(regs.len(), 2);
    assert_ne!(regs[0].1.call_id(), regs[1].1.call_id());
    assert_eq!(ua.machine.registered_count(), 2);
    for (_, r) in &regs {
        assert!(r.top_via().branch().unwrap().starts_with("z9hG4bK"));
        assert!(r.call_id().len() >= 20);
    }
}

#[test]
fn call_ids_tags_and_branches_differ_across_restarts() {
    // Two endpoints seeded differently (as two runs of a program with the OS
    // generator are): nothing repeats.
    let mut seen = std::collections::HashSet::new();
    for seed in 0..50u64 {
        let start = Instant::now();
        let mut net = SimNet::new(1, NetConditions::perfect(), start);
        let mut server = Scripted::new(SERVER, |_, _| Some((200, vec![])));
        let (mut ua, id) = ua(seed, TransportMode::Udp, 3600);
        ua.machine.register(id, start);
        net.run_until(
            &mut [&mut ua, &mut server],
            start + Duration::from_secs(1),
            |_| false,
        );
        let r = &server.requests("REGISTER")[0].1;
        assert!(seen.insert(r.call_id().to_string()));
        assert!(seen.insert(r.from_tag().unwrap().to_string()));
        assert!(seen.insert(r.top_via().branch().unwrap().to_string()));
    }
}

#[test]
fn forbidden_after_our_credentials_means_a_wrong_password() {
    let start = Instant::now();
    let mut net = SimNet::new(1, NetConditions::perfect(), start);
    let mut server = Scripted::new(SERVER, |r, _| {
        if has_auth(r) {
            Some((403, vec![]))
        } else {
            Some((401, challenge("n1", false)))
        }
    });
    let (mut ua, id) = ua(1, TransportMode::Udp, 600);
    ua.machine.register(id, start);
    net.run_until(
        &mut [&mut ua, &mut server],
        start + Duration::from_secs(600),
        |_| false,
    );
    assert_eq!(
        server.requests("REGISTER").len(),
        2,
        "no retry with a refused password: {:?}",
        reg_events(&ua)
    );
    assert!(matches!(
        reg_events(&ua)[..],
        [RegistrationEvent::Failed {
            error: RegistrationError::CredentialsRejected { .. },
            fatal: true,
            ..
        }]
    ));
}
