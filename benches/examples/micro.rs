//! Ad-hoc timings of parser pieces (for development; the real figures come from criterion).
use sip_message::Uri;
use sip_message::headers::{CSeq, Challenge, NameAddr, TypedHeader, Via};
use std::hint::black_box;
use std::time::Instant;

fn time<F: FnMut()>(name: &str, n: usize, mut f: F) {
    let t = Instant::now();
    for _ in 0..n {
        f();
    }
    println!(
        "{name:<20} {:>8.1} ns",
        t.elapsed().as_nanos() as f64 / n as f64
    );
}

fn main() {
    let n = 1_000_000;
    let from = "Alice <sip:alice@atlanta.example.com>;tag=9fxced76sl";
    let via = "SIP/2.0/UDP client.atlanta.example.com:5060;branch=z9hG4bK74bf9;rport";
    let uri = "sip:alice@client.atlanta.example.com;transport=udp";
    let auth = r#"Digest realm="biloxi.example.com", qop="auth", nonce="ea9c8e88df84f1cec4341ae6cbe5a359", opaque="", stale=FALSE, algorithm=MD5"#;
    time("from", n, || {
        black_box(NameAddr::parse(black_box(from)).unwrap());
    });
    time("via", n, || {
        black_box(Via::parse(black_box(via)).unwrap());
    });
    time("uri", n, || {
        black_box(Uri::parse(black_box(uri)).unwrap());
    });
    time("cseq", n, || {
        black_box(CSeq::parse(black_box("1 INVITE")).unwrap());
    });
    time("auth", n, || {
        black_box(Challenge::parse(black_box(auth)).unwrap());
    });
    let corpus = sip_benches::corpus();
    time("parse corpus/msg", n / 10, || {
        for s in &corpus {
            black_box(sip_benches::ours::parse(&s.raw));
        }
    });
    time("typed corpus/msg", n / 10, || {
        for s in &corpus {
            black_box(sip_benches::ours::parse_typed(&s.raw));
        }
    });
    time("httparse/msg", n / 10, || {
        for s in &corpus {
            black_box(sip_benches::httparse_headers(&s.header_block));
        }
    });
    let bytes: Vec<_> = corpus.iter().map(|s| s.raw.clone()).collect();
    time("is_ascii/msg", n / 10, || {
        for b in &bytes {
            black_box(black_box(&b[..]).is_ascii());
        }
    });
}
