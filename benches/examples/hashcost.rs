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
        let blocks = [[7u8; 128]; 2];
        t("sha512 compress, 2 blocks one at a time", 1_000_000, || {
            let mut st = [1u64; 8];
            sha2::block_api::compress512(&mut st, black_box(&blocks[..1]));
            sha2::block_api::compress512(&mut st, black_box(&blocks[1..]));
            black_box(st);
        });
        t("sha512 compress, 2 blocks in one call", 1_000_000, || {
            let mut st = [1u64; 8];
            sha2::block_api::compress512(&mut st, black_box(&blocks[..]));
            black_box(st);
        });
        let ha1 = sip_auth::ha1_base(
            sip_auth::HashFamily::Sha512_256,
            "alice",
            "harness.test",
            b"secret-a",
        )
        .to_string();
        let input = sip_benches::digest_input(
            sip_auth::Algorithm::Sha512_256,
            sip_auth::SecretRef::Ha1(&ha1),
        );
        t(
            "SHA-512-256 response, HA1 known (3 blocks)",
            300_000,
            || {
                black_box(sip_auth::compute_response(black_box(&input)).ok());
            },
        );
    }
}
