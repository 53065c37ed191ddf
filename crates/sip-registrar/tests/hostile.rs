//! Hostile input to the UA core and the registrar: mutated messages of every kind, from
//! any peer, at any time. Neither panics, and neither answers one input with a flood.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use bytes::Bytes;
use proptest::prelude::*;
use sip_auth::CredentialsManager;
use sip_client::{Endpoint, EndpointConfig, Input, Machine, Output, Peer, RegistrationConfig};
use sip_message::{SeededRandom, TransportMode};
use sip_registrar::{Registrar, RegistrarConfig, Users};

const BASES: &[&str] = &[
    "REGISTER sip:harness.test SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5070;rport;branch=z9hG4bKa1\r\nMax-Forwards: 70\r\nFrom: <sip:alice@harness.test>;tag=1\r\nTo: <sip:alice@harness.test>\r\nCall-ID: c1\r\nCSeq: 2 REGISTER\r\nContact: <sip:alice@127.0.0.1:5070>;expires=60;+sip.instance=\"<urn:uuid:1>\"\r\nAuthorization: Digest username=\"alice\", realm=\"harness.test\", nonce=\"00\", uri=\"sip:harness.test\", response=\"00\"\r\nExpires: 3600\r\nContent-Length: 0\r\n\r\n",
    "INVITE sip:bob@harness.test SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bKa2\r\nMax-Forwards: 1\r\nFrom: <sip:alice@harness.test>;tag=1\r\nTo: <sip:bob@harness.test>\r\nCall-ID: c2\r\nCSeq: 1 INVITE\r\nContact: <sip:alice@127.0.0.1:5070>\r\nRecord-Route: <sip:127.0.0.1:5060;lr>\r\nRoute: <sip:127.0.0.1:5060;lr>, <sip:10.0.0.1;lr>\r\nRequire: 100rel\r\nContent-Type: application/sdp\r\nContent-Length: 5\r\n\r\nv=0\r\n",
    "ACK sip:bob@127.0.0.1:5080 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bKa3\r\nMax-Forwards: 70\r\nFrom: <sip:alice@harness.test>;tag=1\r\nTo: <sip:bob@harness.test>;tag=2\r\nCall-ID: c2\r\nCSeq: 1 ACK\r\nRoute: <sip:127.0.0.1:5060;lr>\r\nContent-Length: 0\r\n\r\n",
    "CANCEL sip:bob@harness.test SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bKa2\r\nMax-Forwards: 70\r\nFrom: <sip:alice@harness.test>;tag=1\r\nTo: <sip:bob@harness.test>\r\nCall-ID: c2\r\nCSeq: 1 CANCEL\r\nContent-Length: 0\r\n\r\n",
    "BYE sip:alice@127.0.0.1:5070 SIP/2.0\r\nVia: SIP/2.0/TCP 127.0.0.1:5080;branch=z9hG4bKa4\r\nMax-Forwards: 70\r\nFrom: <sip:bob@harness.test>;tag=2\r\nTo: <sip:alice@harness.test>;tag=1\r\nCall-ID: c2\r\nCSeq: 0 BYE\r\nContent-Length: 0\r\n\r\n",
    "OPTIONS sip:127.0.0.1:5060 SIP/2.0\r\nVia: SIP/2.0/UDP [::1]:5070;branch=z9hG4bKa5;received=1.2.3.4\r\nMax-Forwards: 0\r\nFrom: <sips:x@[::1]>;tag=1\r\nTo: <tel:+1555>\r\nCall-ID: c3\r\nCSeq: 4294967295 OPTIONS\r\nContent-Length: 0\r\n\r\n",
    "SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bKfwd, SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bKa2;rport=5070\r\nFrom: <sip:alice@harness.test>;tag=1\r\nTo: <sip:bob@harness.test>;tag=2\r\nCall-ID: c2\r\nCSeq: 1 INVITE\r\nContact: <sip:bob@127.0.0.1:5080>\r\nRecord-Route: <sip:127.0.0.1:5060;lr>\r\nContent-Length: 0\r\n\r\n",
    "SIP/2.0 401 Unauthorized\r\nVia: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bKa1\r\nFrom: <sip:alice@harness.test>;tag=1\r\nTo: <sip:alice@harness.test>;tag=x\r\nCall-ID: c1\r\nCSeq: 1 REGISTER\r\nWWW-Authenticate: Digest realm=\"harness.test\", nonce=\"n\", algorithm=SHA-512-256-sess, qop=\"auth,auth-int\", stale=true\r\nContent-Length: 0\r\n\r\n",
    "SIP/2.0 423 Interval Too Brief\r\nVia: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bKa1\r\nFrom: <sip:alice@harness.test>;tag=1\r\nTo: <sip:alice@harness.test>;tag=x\r\nCall-ID: c1\r\nCSeq: 1 REGISTER\r\nMin-Expires: 4294967295\r\nRetry-After: 4294967295\r\nContent-Length: 0\r\n\r\n",
];

#[derive(Debug, Clone)]
enum Mutation {
    Flip(usize, u8),
    Delete(usize, usize),
    Duplicate(usize, usize),
    Insert(usize, String),
}

fn mutate(base: &str, muts: &[Mutation]) -> Bytes {
    let mut b = base.as_bytes().to_vec();
    for m in muts {
        let n = b.len().max(1);
        match m {
            Mutation::Flip(i, v) => {
                let i = i % n;
                if i < b.len() {
                    b[i] = *v;
                }
            }
            Mutation::Delete(i, len) => {
                let i = i % n;
                let end = (i + len % 40).min(b.len());
                if i < end {
                    b.drain(i..end);
                }
            }
            Mutation::Duplicate(i, len) => {
                let i = i % n;
                let end = (i + len % 80).min(b.len());
                if i < end {
                    let piece = b[i..end].to_vec();
                    b.splice(i..i, piece);
                }
            }
            Mutation::Insert(i, s) => {
                let i = (i % n).min(b.len());
                b.splice(i..i, s.bytes());
            }
        }
    }
    Bytes::from(b)
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        (any::<usize>(), any::<u8>()).prop_map(|(i, v)| Mutation::Flip(i, v)),
        (any::<usize>(), any::<usize>()).prop_map(|(i, l)| Mutation::Delete(i, l)),
        (any::<usize>(), any::<usize>()).prop_map(|(i, l)| Mutation::Duplicate(i, l)),
        (
            any::<usize>(),
            prop_oneof![
                Just("\r\nTo: <sip:x@y>;tag=9".to_string()),
                Just(";tag=".to_string()),
                Just(", SIP/2.0/TCP 10.0.0.1".to_string()),
                Just("\r\nRoute: <sip:127.0.0.1:5060;lr>".to_string()),
                Just("\r\nContact: *".to_string()),
                Just("\r\nExpires: 0".to_string()),
                "[ -~]{0,20}",
            ]
        )
            .prop_map(|(i, s)| Mutation::Insert(i, s)),
    ]
}

fn endpoint() -> Endpoint {
    let mut creds = CredentialsManager::new();
    creds.add("alice", "secret-a", None, None, None);
    let mut ep = Endpoint::new(
        EndpointConfig::default(),
        creds,
        Box::new(SeededRandom::new(1)),
    );
    let id = ep.add_account(RegistrationConfig::new(
        "sip:alice@harness.test",
        "sip:harness.test",
        Peer::udp("127.0.0.1:5060".parse().unwrap()),
        "127.0.0.1:5070".parse().unwrap(),
    ));
    ep.register(id, Instant::now());
    ep
}

fn registrar(now: Instant) -> Registrar {
    let server: SocketAddr = "127.0.0.1:5060".parse().unwrap();
    let cfg = RegistrarConfig::new(
        "harness.test",
        vec![(TransportMode::Udp, server), (TransportMode::Tcp, server)],
    );
    Registrar::new(
        cfg,
        Users::parse("alice:secret-a\nbob:secret-b\n").unwrap(),
        Box::new(SeededRandom::new(2)),
        now,
    )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    #[test]
    fn cores_survive_mutated_messages(
        inputs in prop::collection::vec(
            (0..BASES.len(), prop::collection::vec(mutation(), 0..4), any::<bool>(), 0u64..40_000),
            1..12,
        )
    ) {
        let start = Instant::now();
        let mut ep = endpoint();
        let mut reg = registrar(start);
        let mut now = start;
        for (base, muts, tcp, advance) in inputs {
            now += Duration::from_millis(advance);
            let bytes = mutate(BASES[base], &muts);
            let mode = if tcp { TransportMode::Tcp } else { TransportMode::Udp };
            let peer = Peer { connection: tcp.then_some(7), ..Peer::new(mode, "127.0.0.1:5080".parse().unwrap()) };
            ep.handle_input(Input::Bytes { bytes: bytes.clone(), peer: peer.clone() }, now);
            reg.handle_bytes(bytes, peer, now);
            Machine::handle_timeout(&mut ep, now);
            reg.handle_timeout(now);
            let mut n = 0;
            while let Some(o) = Machine::poll_output(&mut ep) {
                if matches!(o, Output::Transmit(_)) {
                    n += 1;
                }
            }
            while reg.poll_transmit().is_some() {
                n += 1;
            }
            prop_assert!(n <= 40, "{n} transmissions for one input");
        }
    }
}
