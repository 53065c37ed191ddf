//! Parse, parse + typed access, and serialize over the bench corpus: ours beside rsip
//! 0.4, ezk-sip-types 0.6 and httparse (the floor), in one run. Each benchmark does the
//! whole corpus per iteration; per-message figures divide by the corpus size.
//!
//! After the criterion groups, prints a table of times per message (criterion medians),
//! the ratios those medians give, and last the line
//! `parse ratios: rsip/ours=X ezk/ours=Y ours/httparse=Z allocs/msg=N`
//! (parse + typed access; allocations counted by a counting global allocator), whose
//! ratios are measured with the parsers taking turns (see `interleaved`): criterion runs
//! each benchmark in a window of its own, and on a shared machine one busy window skews
//! one parser's figure, where turns spread a busy minute over all four alike.

use std::alloc::{GlobalAlloc, Layout, System};
use std::hint::black_box;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};

use criterion::Criterion;
use sip_benches::{corpus, ezk_side, httparse_headers, ours, out_buffer, rsip_side};

struct Counting;
static ALLOCS: AtomicUsize = AtomicUsize::new(0);

// SAFETY: every method forwards its arguments unchanged to the system allocator, which
// upholds the `GlobalAlloc` contract; the only addition is a relaxed counter.
#[allow(unsafe_code)]
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCS.fetch_add(1, Ordering::Relaxed);
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCS.fetch_add(1, Ordering::Relaxed);
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn benches(c: &mut Criterion) {
    let corpus = corpus();
    let mut g = c.benchmark_group("parse");
    g.bench_function("ours", |b| {
        b.iter(|| {
            for s in &corpus {
                black_box(ours::parse(black_box(&s.raw)));
            }
        })
    });
    g.bench_function("rsip", |b| {
        b.iter(|| {
            for s in &corpus {
                black_box(rsip_side::parse(black_box(&s.raw)));
            }
        })
    });
    g.bench_function("ezk", |b| {
        b.iter(|| {
            for s in &corpus {
                black_box(ezk_side::parse(black_box(&s.raw)));
            }
        })
    });
    g.bench_function("httparse", |b| {
        b.iter(|| {
            for s in &corpus {
                black_box(httparse_headers(black_box(&s.header_block)));
            }
        })
    });
    g.finish();

    let mut g = c.benchmark_group("typed");
    g.bench_function("ours", |b| {
        b.iter(|| {
            for s in &corpus {
                black_box(ours::parse_typed(black_box(&s.raw)));
            }
        })
    });
    g.bench_function("rsip", |b| {
        b.iter(|| {
            for s in &corpus {
                black_box(rsip_side::parse_typed(black_box(&s.raw)));
            }
        })
    });
    g.bench_function("ezk", |b| {
        b.iter(|| {
            for s in &corpus {
                black_box(ezk_side::parse_typed(black_box(&s.raw)));
            }
        })
    });
    g.finish();

    let parsed_ours: Vec<_> = corpus.iter().map(|s| ours::parse(&s.raw)).collect();
    let parsed_rsip: Vec<_> = corpus.iter().map(|s| rsip_side::parse(&s.raw)).collect();
    let parsed_ezk: Vec<_> = corpus.iter().map(|s| ezk_side::parse(&s.raw)).collect();
    let mut g = c.benchmark_group("serialize");
    g.bench_function("ours", |b| {
        let mut out = out_buffer();
        b.iter(|| {
            for m in &parsed_ours {
                out.clear();
                ours::serialize(black_box(m), &mut out);
                black_box(&out);
            }
        })
    });
    g.bench_function("rsip", |b| {
        b.iter(|| {
            for m in &parsed_rsip {
                black_box(rsip_side::serialize(black_box(m)));
            }
        })
    });
    g.bench_function("ezk", |b| {
        b.iter(|| {
            for m in &parsed_ezk {
                black_box(ezk_side::serialize(black_box(m)));
            }
        })
    });
    g.finish();
}

/// Median time per iteration (ns) from criterion's saved estimates: on a shared,
/// noisy machine the median is not dragged by the slow samples the way the mean is.
fn median_ns(group: &str, name: &str) -> Option<f64> {
    let dir = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target"));
    let p = dir
        .join("criterion")
        .join(group)
        .join(name)
        .join("new/estimates.json");
    let v: serde_json::Value = serde_json::from_slice(&std::fs::read(p).ok()?).ok()?;
    v["median"]["point_estimate"].as_f64()
}

fn allocs_per_msg() -> f64 {
    let corpus = corpus();
    let before = ALLOCS.load(Ordering::Relaxed);
    for s in &corpus {
        black_box(ours::parse_typed(&s.raw));
    }
    (ALLOCS.load(Ordering::Relaxed) - before) as f64 / corpus.len() as f64
}

fn report() {
    let n = corpus().len() as f64;
    println!();
    println!(
        "{:<12} {:>12} {:>12} {:>12} {:>12}  (ns per message: median pass over the corpus / its size)",
        "", "ours", "rsip", "ezk", "httparse"
    );
    for group in ["parse", "typed", "serialize"] {
        let cell = |name: &str| {
            median_ns(group, name).map_or_else(|| "-".to_string(), |v| format!("{:.0}", v / n))
        };
        println!(
            "{:<12} {:>12} {:>12} {:>12} {:>12}",
            group,
            cell("ours"),
            cell("rsip"),
            cell("ezk"),
            cell("httparse")
        );
    }
    if let (Some(o), Some(r), Some(e), Some(h)) = (
        median_ns("typed", "ours"),
        median_ns("typed", "rsip"),
        median_ns("typed", "ezk"),
        median_ns("parse", "httparse"),
    ) {
        println!(
            "criterion medians, each parser in its own window: rsip/ours={:.1} ezk/ours={:.1} ours/httparse={:.2}",
            r / o,
            e / o,
            o / h
        );
    }
    let [o, r, e, h] = interleaved();
    let allocs = allocs_per_msg();
    println!(
        "parse ratios: rsip/ours={:.1} ezk/ours={:.1} ours/httparse={:.2} allocs/msg={}",
        r / o,
        e / o,
        o / h,
        allocs
    );
}

/// The ratios measured so that they do not depend on when each criterion benchmark ran:
/// the four parsers (parse + typed access for the three SIP parsers, the header block
/// for httparse) take turns, round after round, and each gets the median of its rounds,
/// in ns per message: `[ours, rsip, ezk, httparse]`. Bounded: 301 rounds of about four
/// milliseconds.
fn interleaved() -> [f64; 4] {
    const ROUNDS: usize = 301;
    // Passes over the corpus per round, so that each turn lasts about a millisecond.
    const PASSES: [usize; 4] = [100, 10, 10, 400];
    let corpus = corpus();
    let mut times: [Vec<f64>; 4] = Default::default();
    for _ in 0..ROUNDS {
        for (k, t) in times.iter_mut().enumerate() {
            let start = std::time::Instant::now();
            for _ in 0..PASSES[k] {
                for s in &corpus {
                    match k {
                        0 => {
                            black_box(ours::parse_typed(black_box(&s.raw)));
                        }
                        1 => {
                            black_box(rsip_side::parse_typed(black_box(&s.raw)));
                        }
                        2 => {
                            black_box(ezk_side::parse_typed(black_box(&s.raw)));
                        }
                        _ => {
                            black_box(httparse_headers(black_box(&s.header_block)));
                        }
                    }
                }
            }
            let per_msg = start.elapsed().as_nanos() as f64 / (PASSES[k] * corpus.len()) as f64;
            t.push(per_msg);
        }
    }
    let [o, r, e, h] = times.map(|mut t| {
        t.sort_by(f64::total_cmp);
        t[t.len() / 2]
    });
    println!(
        "interleaved, median of {ROUNDS} rounds (ns per message): typed ours={o:.0} rsip={r:.0} ezk={e:.0}, httparse={h:.0}"
    );
    [o, r, e, h]
}

fn main() {
    let mut c = Criterion::default().configure_from_args();
    benches(&mut c);
    c.final_summary();
    report();
}
