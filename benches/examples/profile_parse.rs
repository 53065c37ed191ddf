//! Runs our parse + typed access over the corpus in a loop, for profilers.
use std::hint::black_box;

fn main() {
    let n: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(200_000);
    let corpus = sip_benches::corpus();
    let mut acc = 0;
    for _ in 0..n {
        for s in &corpus {
            acc += black_box(sip_benches::ours::parse_typed(black_box(&s.raw)));
        }
    }
    println!("{acc}");
}
