//! The cost of one digest response per algorithm (qop=auth), computed from the
//! password (HA1 included), and from a stored HA1.

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use sip_auth::{Algorithm, DigestInput, Qop, SecretRef, compute_response, ha1_base};

fn input(algorithm: Algorithm, secret: SecretRef<'_>) -> DigestInput<'_> {
    DigestInput {
        algorithm,
        username: "alice",
        realm: "harness.test",
        secret,
        nonce: "5f7a0c3e9b1d2a44e1c1b8f0a4c3d2e15f7a0c3e9b1d2a44e1c1b8f0a4c3d2e1",
        cnonce: Some("0a4f113b9c8d7e6f5a4b3c2d"),
        nc: Some(1),
        qop: Some(Qop::Auth),
        method: "REGISTER",
        uri: "sip:harness.test",
        body: b"",
    }
}

fn digest(c: &mut Criterion) {
    let mut g = c.benchmark_group("digest");
    for a in Algorithm::ALL {
        g.bench_function(a.as_str(), |b| {
            b.iter(|| compute_response(black_box(&input(a, SecretRef::Password(b"secret-a")))))
        });
        let ha1 = ha1_base(a.family(), "alice", "harness.test", b"secret-a").to_string();
        g.bench_function(format!("{} (stored HA1)", a.as_str()), |b| {
            b.iter(|| compute_response(black_box(&input(a, SecretRef::Ha1(&ha1)))))
        });
    }
    g.finish();
}

criterion_group!(benches, digest);
criterion_main!(benches);
