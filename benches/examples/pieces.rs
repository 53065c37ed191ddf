//! Runs one parser piece in a loop (for instruction counts under callgrind).
use sip_message::Uri;
use sip_message::headers::{Challenge, NameAddr, TypedHeader, Via};
use std::hint::black_box;

fn main() {
    let mut args = std::env::args().skip(1);
    let piece = args.next().unwrap_or_default();
    let n: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(1000);
    let from = "Alice <sip:alice@atlanta.example.com>;tag=9fxced76sl";
    let via = "SIP/2.0/UDP client.atlanta.example.com:5060;branch=z9hG4bK74bf9;rport";
    let uri = "sip:alice@atlanta.example.com";
    let auth = r#"Digest realm="biloxi.example.com", qop="auth", nonce="ea9c8e88df84f1cec4341ae6cbe5a359", opaque="", stale=FALSE, algorithm=MD5"#;
    let corpus = sip_benches::corpus();
    let min = bytes::Bytes::from_static(
        b"OPTIONS sip:a@b SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\nFrom: <sip:a@b>;tag=1\r\nTo: <sip:a@b>\r\nCall-ID: 1\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n",
    );
    for _ in 0..n {
        match piece.as_str() {
            "from" => {
                black_box(NameAddr::parse(black_box(from)).is_ok());
            }
            "via" => {
                black_box(Via::parse(black_box(via)).is_ok());
            }
            "uri" => {
                black_box(Uri::parse(black_box(uri)).is_ok());
            }
            "auth" => {
                black_box(Challenge::parse(black_box(auth)).is_ok());
            }
            "parse" => {
                for s in &corpus {
                    black_box(sip_benches::ours::parse(&s.raw));
                }
            }
            "min" => {
                black_box(sip_benches::ours::parse(black_box(&min)));
            }
            "auth_only" => {
                for s in &corpus {
                    let m = sip_benches::ours::parse(&s.raw);
                    let mut acc = 0usize;
                    for (_, a) in m.auth_headers() {
                        let a = a.expect("auth header decodes");
                        acc += a.scheme().len();
                        for (n, v) in a.params() {
                            acc += n.len() + v.len();
                        }
                    }
                    black_box(acc);
                }
            }
            "httparse" => {
                for s in &corpus {
                    black_box(sip_benches::httparse_headers(&s.header_block));
                }
            }
            "typed" => {
                for s in &corpus {
                    black_box(sip_benches::ours::parse_typed(&s.raw));
                }
            }
            _ => {}
        }
    }
}
