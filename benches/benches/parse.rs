//! Parse, parse + typed access, and serialize over the bench corpus: ours beside rsip
//! 0.4, ezk-sip-types 0.6 and httparse (the floor), in one run. Each benchmark does the
//! whole corpus per iteration; per-message figures divide by the corpus size.
//!
//! After the criterion groups, prints a table of means per message and the line
//! `parse ratios: rsip/ours=X ezk/ours=Y ours/httparse=Z allocs/msg=N`
//! (parse + typed access; allocations counted by a counting global allocator).

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

/// Mean time per iteration (ns) from criterion's saved estimates.
fn mean_ns(group: &str, name: &str) -> Option<f64> {
    let dir = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target"));
    let p = dir
        .join("criterion")
        .join(group)
        .join(name)
        .join("new/estimates.json");
    let v: serde_json::Value = serde_json::from_slice(&std::fs::read(p).ok()?).ok()?;
    v["mean"]["point_estimate"].as_f64()
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
        "{:<12} {:>12} {:>12} {:>12} {:>12}  (ns per message, mean over the corpus)",
        "", "ours", "rsip", "ezk", "httparse"
    );
    for group in ["parse", "typed", "serialize"] {
        let cell = |name: &str| {
            mean_ns(group, name).map_or_else(|| "-".to_string(), |v| format!("{:.0}", v / n))
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
    let allocs = allocs_per_msg();
    match (
        mean_ns("typed", "ours"),
        mean_ns("typed", "rsip"),
        mean_ns("typed", "ezk"),
        mean_ns("parse", "httparse"),
    ) {
        (Some(o), Some(r), Some(e), Some(h)) => println!(
            "parse ratios: rsip/ours={:.1} ezk/ours={:.1} ours/httparse={:.2} allocs/msg={}",
            r / o,
            e / o,
            o / h,
            allocs
        ),
        _ => println!(
            "parse ratios: unavailable (run every benchmark of the groups parse and typed)"
        ),
    }
}

fn main() {
    let mut c = Criterion::default().configure_from_args();
    benches(&mut c);
    c.final_summary();
    report();
}
