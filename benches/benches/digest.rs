//! The cost of one digest response per algorithm (qop=auth):
//! - `ALG`: the first answer in a realm, computed from the password (HA1 included);
//! - `ALG (HA1 known)`: every later answer, keyed with the HA1 the client cached (or a
//!   stored HA1 credential), which is what a client pays per challenge after the first;
//! - `client ALG`: `DigestClient::respond` on a parsed 401 end to end (challenge
//!   selection, credentials lookup, nonce count, cnonce, the complete header value).

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use sip_auth::{
    Algorithm, AuthPolicy, AuthSession, CredentialsManager, DigestClient, RequestTarget, SecretRef,
    compute_response, ha1_base,
};
use sip_benches::{digest_challenge, digest_input};
use sip_message::SeededRandom;

fn digest(c: &mut Criterion) {
    let mut g = c.benchmark_group("digest");
    let mut creds = CredentialsManager::new();
    creds.add("alice", "secret-a", None, None, None);
    let target = RequestTarget::new("REGISTER", "sip:harness.test", "harness.test", "alice");
    for a in Algorithm::ALL {
        g.bench_function(a.as_str(), |b| {
            b.iter(|| {
                compute_response(black_box(&digest_input(
                    a,
                    SecretRef::Password(b"secret-a"),
                )))
            })
        });
        let ha1 = ha1_base(a.family(), "alice", "harness.test", b"secret-a").to_string();
        g.bench_function(format!("{} (HA1 known)", a.as_str()), |b| {
            b.iter(|| compute_response(black_box(&digest_input(a, SecretRef::Ha1(&ha1)))))
        });
        let message = digest_challenge(a);
        let Some(response) = message.as_response() else {
            continue;
        };
        let mut client = DigestClient::new(AuthPolicy::trusting(["harness.test"]));
        let mut rng = SeededRandom::new(1);
        g.bench_function(format!("client {}", a.as_str()), |b| {
            b.iter(|| {
                client.respond(
                    &mut AuthSession::new(),
                    black_box(response),
                    &target,
                    &creds,
                    &mut rng,
                )
            })
        });
    }
    g.finish();
}

criterion_group!(benches, digest);
criterion_main!(benches);
