//! The bodies of the fuzz targets, shared by the libFuzzer binaries in `fuzz_targets/`
//! and by the corpus replay test that CI runs on stable Rust
//! (`crates/sip-message/tests/fuzz_corpus.rs`). Each checks more than "no panic": what
//! parses must re-encode to something that parses to the same values.

use sip_message::headers::{Challenge, TypedHeader};
use sip_message::sdp::SessionDescription;
use sip_message::{FrameStatus, Framing, Limits, Message, StreamFramer, Uri};

/// One datagram: parse; if it parses, encode and parse again and compare key fields.
pub(crate) fn parse_datagram(data: &[u8]) {
    let Ok(m) = Message::parse(data.to_vec()) else {
        return;
    };
    let again = Message::parse(m.to_bytes()).expect("an encoded message parses");
    assert_eq!(again.call_id(), m.call_id());
    assert_eq!(again.cseq(), m.cseq());
    assert_eq!(again.from(), m.from());
    assert_eq!(again.to(), m.to());
    assert_eq!(again.via_count(), m.via_count());
    assert_eq!(again.body(), m.body());
    let _ = m.summary();
    for (_, a) in m.auth_headers() {
        let _ = a.map(|a| a.params().count());
    }
}

/// A byte stream cut at the points the first bytes choose: framing must give the same
/// messages whatever the cuts, and never panic.
pub(crate) fn parse_stream(data: &[u8]) {
    if data.len() < 2 {
        return;
    }
    let (cuts, stream) = data.split_at(2.min(data.len()));
    let step = usize::from(cuts[0]).max(1) + usize::from(cuts[1]) * 7;
    let limits = Limits::default();
    let whole = frame_all(stream, stream.len(), &limits);
    let pieces = frame_all(stream, step, &limits);
    assert_eq!(whole, pieces, "framing depends on how the stream was cut");
}

/// Frames `stream` fed `step` bytes at a time; returns the framed message lengths and
/// whether each parsed, up to the first framing error.
fn frame_all(stream: &[u8], step: usize, limits: &Limits) -> Vec<(usize, bool)> {
    let mut framer = StreamFramer::new(limits.clone());
    let mut buf = Vec::new();
    let mut out = Vec::new();
    let mut fed = 0;
    while fed < stream.len() {
        let next = (fed + step).min(stream.len());
        buf.extend_from_slice(&stream[fed..next]);
        fed = next;
        loop {
            match framer.poll(&buf) {
                Ok(FrameStatus::Partial) => break,
                Ok(FrameStatus::KeepAlive { len, .. }) => {
                    buf.drain(..len);
                }
                Ok(FrameStatus::Complete(len)) => {
                    let ok =
                        Message::parse_with(buf[..len].to_vec(), limits, Framing::Stream).is_ok();
                    out.push((len, ok));
                    buf.drain(..len);
                }
                Err(_) => {
                    out.push((usize::MAX, false));
                    return out;
                }
            }
        }
    }
    out
}

/// A URI: parse; what parses compares equal to itself re-parsed (RFC 3261 §19.1.4).
pub(crate) fn parse_uri(data: &[u8]) {
    let Ok(s) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(u) = Uri::parse(s) {
        let again = Uri::parse(u.as_str()).expect("a URI re-parses");
        assert!(again.rfc_eq(&u));
        let _ = u.user_decoded();
        let _ = u.params().count();
        let _ = u.header_pairs().count();
        let _ = u.ip();
    }
}

/// An SDP body: parse; what parses prints to text that parses to an equal value.
pub(crate) fn parse_sdp(data: &[u8]) {
    if let Ok(sd) = SessionDescription::parse_bytes(data) {
        let text = sd.to_string();
        let again = SessionDescription::parse(&text).expect("printed SDP parses");
        assert_eq!(again, sd);
        for m in &sd.media {
            let _ = m.rtpmaps().count();
            let _ = sd.direction(m);
        }
    }
}

/// A WWW-Authenticate style value (one or several challenges).
pub(crate) fn parse_auth(data: &[u8]) {
    let Ok(s) = std::str::from_utf8(data) else {
        return;
    };
    for c in Challenge::parse_list(s).flatten() {
        let printed = c.to_string();
        let again = Challenge::parse(&printed).expect("a printed challenge parses");
        assert_eq!(again, c);
        for (n, _) in c.params() {
            let _ = c.param(n);
        }
    }
}
