//! Replays the fuzz targets' corpora (`fuzz/corpus/<target>/`) through the same target
//! bodies the fuzzers run (`fuzz/targets.rs`), on stable Rust, as ordinary tests.

#[path = "../../../fuzz/targets.rs"]
mod targets;

use std::path::PathBuf;

fn replay(target: &str, run: fn(&[u8])) {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../fuzz/corpus")
        .join(target);
    let mut n = 0;
    for entry in std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        let path = entry.unwrap().path();
        if path.is_file() {
            let data = std::fs::read(&path).unwrap();
            let result = std::panic::catch_unwind(|| run(&data));
            assert!(result.is_ok(), "{target} fails on {}", path.display());
            n += 1;
        }
    }
    assert!(n > 0, "the {target} corpus is empty");
}

#[test]
fn parse_datagram() {
    replay("parse_datagram", targets::parse_datagram);
}

#[test]
fn parse_stream() {
    replay("parse_stream", targets::parse_stream);
}

#[test]
fn parse_uri() {
    replay("parse_uri", targets::parse_uri);
}

#[test]
fn parse_sdp() {
    replay("parse_sdp", targets::parse_sdp);
}

#[test]
fn parse_auth() {
    replay("parse_auth", targets::parse_auth);
}
