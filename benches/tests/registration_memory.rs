//! The heap a client holds per registration (target: at most 2 KiB), measured with a
//! counting allocator: N accounts registered (REGISTER, 401, REGISTER, 200) with our
//! registrar over the simulated network, then the client dropped; the bytes its drop
//! frees, less those of a client with no accounts, divided by N.

use std::alloc::{GlobalAlloc, Layout, System};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicIsize, Ordering};
use std::time::{Duration, Instant};

use sip_auth::CredentialsManager;
use sip_client::simnet::{NetConditions, SimNet, SimNode, SimUa};
use sip_client::{Endpoint, EndpointConfig, Peer, RegistrationConfig};
use sip_message::{SeededRandom, TransportMode};
use sip_registrar::{Registrar, RegistrarConfig, Users};

struct Counting;
static LIVE: AtomicIsize = AtomicIsize::new(0);

// SAFETY: every method forwards its arguments unchanged to the system allocator, which
// upholds the `GlobalAlloc` contract; the only addition is a relaxed byte counter.
#[allow(unsafe_code)]
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        LIVE.fetch_add(layout.size() as isize, Ordering::Relaxed);
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size() as isize, Ordering::Relaxed);
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        LIVE.fetch_add(
            new_size as isize - layout.size() as isize,
            Ordering::Relaxed,
        );
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

const SERVER: &str = "127.0.0.1:5060";

/// Registers `n` accounts from one client; returns the bytes the client held.
fn client_bytes(n: usize) -> isize {
    let start = Instant::now();
    let server: SocketAddr = SERVER.parse().unwrap();
    let mut users = Users::new();
    let mut creds = CredentialsManager::new();
    for i in 0..n {
        let user = format!("user{i:05}");
        users.add(&user, "secret");
        creds.add(&user, "secret", Some("harness.test"), None, Some(&user));
    }
    let mut rc = RegistrarConfig::new("harness.test", vec![(TransportMode::Udp, server)]);
    rc.max_bindings_per_aor = 2;
    let mut registrar = SimNode::new(
        Registrar::new(rc, users, Box::new(SeededRandom::new(9)), start),
        server,
    );
    let local: SocketAddr = "127.0.0.1:5070".parse().unwrap();
    let mut net = SimNet::new(1, NetConditions::perfect(), start);
    let before = LIVE.load(Ordering::Relaxed);
    let mut ep = Endpoint::new(
        EndpointConfig::default(),
        creds,
        Box::new(SeededRandom::new(3)),
    );
    let mut ids = Vec::with_capacity(n);
    for i in 0..n {
        let user = format!("user{i:05}");
        let mut reg = RegistrationConfig::new(
            &format!("sip:{user}@harness.test"),
            "sip:harness.test",
            Peer::udp(server),
            local,
        );
        reg.server = "harness.test".into();
        reg.instance = Some(format!("urn:uuid:00000000-0000-4000-8000-{i:012}"));
        ids.push(ep.add_account(reg));
    }
    for id in &ids {
        ep.register(*id, start);
    }
    let mut ua = SimUa::new(ep, local);
    // Long enough for every transaction to end (Timer K), short of any refresh.
    let until = start + Duration::from_secs(60);
    net.run_until(&mut [&mut ua, &mut registrar], until, |_| false);
    assert_eq!(ua.machine.registered_count(), n, "all registered");
    assert_eq!(ua.machine.transactions().counts(), (0, 0));
    ua.events.clear();
    ua.events.shrink_to_fit();
    let held = LIVE.load(Ordering::Relaxed);
    drop(ua);
    let after = LIVE.load(Ordering::Relaxed);
    assert!(after <= held);
    // What the drop freed is what the client held (the registrar still lives).
    let _ = before;
    held - after
}

#[test]
fn memory_per_registration_is_at_most_2_kib() {
    let empty = client_bytes(0);
    let n = 1000;
    let full = client_bytes(n);
    let per = (full - empty) as f64 / n as f64;
    println!(
        "client heap: {empty} B with no accounts, {full} B with {n} registered: {per:.0} B per registration"
    );
    assert!(per <= 2048.0, "{per:.0} B per registration");
}
