//! What the registrar's simulated-network tests share: the registrar as a node and
//! users of it.

#![allow(dead_code, unreachable_pub)]

use std::net::SocketAddr;
use std::time::Instant;

use sip_auth::CredentialsManager;
use sip_client::simnet::{SimNode, SimUa};
use sip_client::{Endpoint, EndpointConfig, Peer, RegistrationConfig, TimerConfig};
use sip_message::offer_answer::LocalMedia;
use sip_message::{SeededRandom, TransportMode};
use sip_registrar::{Registrar, RegistrarConfig, Users};

/// Where the registrar listens.
pub const SERVER: &str = "127.0.0.1:5060";

/// Our registrar for realm harness.test with alice and bob, at SERVER over UDP.
pub fn registrar(
    seed: u64,
    now: Instant,
    max_expires: u32,
    timers: TimerConfig,
) -> SimNode<Registrar> {
    let server: SocketAddr = SERVER.parse().unwrap();
    let mut cfg = RegistrarConfig::new("harness.test", vec![(TransportMode::Udp, server)]);
    cfg.max_expires = max_expires;
    cfg.timers = timers;
    let users = Users::parse("alice:secret-a\nbob:secret-b\n").unwrap();
    let core = Registrar::new(
        cfg,
        users,
        Box::new(SeededRandom::new(seed ^ 0xabcdef)),
        now,
    );
    SimNode::new(core, server)
}

/// A UA for `name` at `local`, registering with SERVER over `mode`.
pub fn user(
    seed: u64,
    name: &str,
    password: &str,
    local: &str,
    mode: TransportMode,
    timers: TimerConfig,
) -> SimUa {
    user_with(seed, name, password, local, mode, timers, |_| {})
}

/// [`user`] with its registration's configuration adjusted by `tune`.
pub fn user_with(
    seed: u64,
    name: &str,
    password: &str,
    local: &str,
    mode: TransportMode,
    timers: TimerConfig,
    tune: impl FnOnce(&mut RegistrationConfig),
) -> SimUa {
    let local: SocketAddr = local.parse().unwrap();
    let mut creds = CredentialsManager::new();
    creds.add(name, password, Some("harness.test"), None, None);
    let config = EndpointConfig {
        timers,
        ..EndpointConfig::default()
    };
    let mut ep = Endpoint::new(config, creds, Box::new(SeededRandom::new(seed)));
    let mut reg = RegistrationConfig::new(
        &format!("sip:{name}@harness.test"),
        "sip:harness.test",
        Peer::new(mode, SERVER.parse().unwrap()),
        local,
    );
    reg.server = "harness.test".into();
    tune(&mut reg);
    ep.add_account(reg);
    SimUa::new(ep, local)
}

/// Media at `addr`'s address on `port`.
pub fn media(addr: &str, port: u16) -> LocalMedia {
    let a: SocketAddr = addr.parse().unwrap();
    LocalMedia::new(a.ip(), port)
}
