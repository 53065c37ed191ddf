//! Raw hash cost per block on this machine (for development).
use sha2::Digest;
use std::hint::black_box;
use std::time::Instant;
fn t<F: FnMut()>(name: &str, n: u32, mut f: F) {
    let s = Instant::now();
    for _ in 0..n {
        f();
    }
    println!("{name}: {:.0} ns", s.elapsed().as_nanos() as f64 / n as f64);
}
fn main() {
    let d55 = [b'a'; 55];
    let d111 = [b'a'; 111];
    let d200 = [b'a'; 200];
    for _ in 0..2 {
        t("md5 1 block", 1_000_000, || {
            black_box(md5::Md5::digest(black_box(&d55)));
        });
        t("sha256 1 block", 1_000_000, || {
            black_box(sha2::Sha256::digest(black_box(&d55)));
        });
        t("sha512_256 1 block", 1_000_000, || {
            black_box(sha2::Sha512_256::digest(black_box(&d111)));
        });
        t("sha512_256 200B", 1_000_000, || {
            black_box(sha2::Sha512_256::digest(black_box(&d200)));
        });
        t("md5 200B", 1_000_000, || {
            black_box(md5::Md5::digest(black_box(&d200)));
        });
        let ha1 = sip_auth::ha1_base(
            sip_auth::HashFamily::Sha512_256,
            "alice",
            "harness.test",
            b"secret-a",
        )
        .to_string();
        let input = sip_auth::DigestInput {
            algorithm: sip_auth::Algorithm::Sha512_256,
            username: "alice",
            realm: "harness.test",
            secret: sip_auth::SecretRef::Ha1(&ha1),
            nonce: "5f7a0c3e9b1d2a44e1c1b8f0a4c3d2e15f7a0c3e9b1d2a44e1c1b8f0a4c3d2e1",
            cnonce: Some("0a4f113b9c8d7e6f5a4b3c2d"),
            nc: Some(1),
            qop: Some(sip_auth::Qop::Auth),
            method: "REGISTER",
            uri: "sip:harness.test",
            body: b"",
        };
        t(
            "SHA-512-256 response, HA1 known (3 blocks)",
            300_000,
            || {
                black_box(sip_auth::compute_response(black_box(&input)).ok());
            },
        );
    }
}
