//! Runs one digest response computation in a loop (for instruction counts under
//! callgrind): `digestcost ALGORITHM N`, keyed with a known HA1, or
//! `digestcost ALGORITHM N client` for `DigestClient::respond` on a parsed 401 end to
//! end (the bench's `client` rows).
use std::hint::black_box;

use sip_auth::{
    Algorithm, AuthPolicy, AuthSession, CredentialsManager, DigestClient, RequestTarget, SecretRef,
    compute_response, ha1_base,
};
use sip_message::SeededRandom;

fn main() {
    let mut args = std::env::args().skip(1);
    let algorithm = args
        .next()
        .and_then(|a| Algorithm::parse(&a))
        .unwrap_or(Algorithm::Sha512_256);
    let n: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(1000);
    let mut acc = 0usize;
    if args.next().as_deref() == Some("client") {
        let message = sip_benches::digest_challenge(algorithm);
        let response = message.as_response().expect("a 401");
        let mut creds = CredentialsManager::new();
        creds.add("alice", "secret-a", None, None, None);
        let target = RequestTarget::new("REGISTER", "sip:harness.test", "harness.test", "alice");
        let mut client = DigestClient::new(AuthPolicy::trusting(["harness.test"]));
        let mut rng = SeededRandom::new(1);
        for _ in 0..n {
            let answers = client.respond(
                &mut AuthSession::new(),
                black_box(response),
                &target,
                &creds,
                &mut rng,
            );
            acc += answers.map_or(0, |a| a[0].value.len());
        }
    } else {
        let ha1 = ha1_base(algorithm.family(), "alice", "harness.test", b"secret-a").to_string();
        let input = sip_benches::digest_input(algorithm, SecretRef::Ha1(&ha1));
        for _ in 0..n {
            acc += compute_response(black_box(&input)).map_or(0, |h| h.as_bytes()[0] as usize);
        }
    }
    println!("{acc}");
}
