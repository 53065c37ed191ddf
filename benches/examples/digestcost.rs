//! Runs one digest response computation in a loop (for instruction counts under
//! callgrind): `digestcost ALGORITHM N`, keyed with a known HA1.
use std::hint::black_box;

use sip_auth::{Algorithm, SecretRef, compute_response, ha1_base};

fn main() {
    let mut args = std::env::args().skip(1);
    let algorithm = args
        .next()
        .and_then(|a| Algorithm::parse(&a))
        .unwrap_or(Algorithm::Sha512_256);
    let n: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(1000);
    let ha1 = ha1_base(algorithm.family(), "alice", "harness.test", b"secret-a").to_string();
    let input = sip_benches::digest_input(algorithm, SecretRef::Ha1(&ha1));
    let mut acc = 0usize;
    for _ in 0..n {
        acc += compute_response(black_box(&input)).map_or(0, |h| h.as_bytes()[0] as usize);
    }
    println!("{acc}");
}
