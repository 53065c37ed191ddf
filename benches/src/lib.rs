//! Shared code of the benchmarks: the corpus, and the same work done by each library
//! (ours, rsip 0.4, ezk-sip-types 0.6, and httparse as the floor), so that every
//! figure compares like with like.

use bytes::{Bytes, BytesMut};
use std::path::PathBuf;

/// One corpus message.
pub struct Sample {
    /// The file name.
    pub name: String,
    /// The whole message.
    pub raw: Bytes,
    /// The header lines only (after the start line, through the empty line), for httparse.
    pub header_block: Bytes,
}

/// Reads the parse-benchmark corpus (`benches/data/*.sip`), sorted by name.
pub fn corpus() -> Vec<Sample> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("data");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "sip"))
        .collect();
    files.sort();
    files
        .into_iter()
        .map(|p| {
            let raw = Bytes::from(std::fs::read(&p).expect("read corpus file"));
            let line_end = raw.iter().position(|&b| b == b'\n').expect("start line") + 1;
            let head_end = raw
                .windows(4)
                .position(|w| w == b"\r\n\r\n")
                .expect("end of head")
                + 4;
            Sample {
                name: p.file_name().unwrap().to_string_lossy().into_owned(),
                header_block: raw.slice(line_end..head_end),
                raw,
            }
        })
        .collect()
}

/// Our side.
pub mod ours {
    use super::*;
    use sip_message::Message;

    /// Parse only.
    pub fn parse(raw: &Bytes) -> Message {
        Message::parse(raw.clone()).expect("corpus parses")
    }

    /// Parse, then read typed Via (all: transport, host, port, branch), From and To
    /// (display name, URI, tag), CSeq, Call-ID, Contact (URI, expires) and every auth
    /// header (scheme and every parameter).
    pub fn parse_typed(raw: &Bytes) -> usize {
        let m = parse(raw);
        let mut acc = 0usize;
        for v in m.vias() {
            acc += v.transport().len()
                + v.host().len()
                + usize::from(v.port().unwrap_or(0))
                + v.branch().map_or(0, str::len);
        }
        for a in [m.from(), m.to()] {
            acc += a.display_name_raw().map_or(0, str::len)
                + a.uri().host().len()
                + a.uri().user().map_or(0, str::len)
                + a.tag().map_or(0, str::len);
        }
        let cseq = m.cseq();
        acc += cseq.seq as usize + cseq.method.as_str().len();
        acc += m.call_id().len();
        for c in m.contacts() {
            acc += c.uri().host().len() + c.expires().unwrap_or(0) as usize;
        }
        for (_, a) in m.auth_headers() {
            let a = a.expect("auth header decodes");
            acc += a.scheme().len();
            for (n, v) in a.params() {
                acc += n.len() + v.len();
            }
        }
        acc
    }

    /// Serialize a parsed message into a buffer.
    pub fn serialize(m: &Message, out: &mut BytesMut) {
        m.encode(out);
    }
}

/// rsip 0.4: `SipMessage::try_from`, then each header's typed form.
pub mod rsip_side {
    use rsip::headers::UntypedHeader;
    use rsip::headers::typed::{Tokenize, TypedHeader};
    use rsip::message::HasHeaders;
    use rsip::{Header, SipMessage};

    /// Parse only.
    pub fn parse(raw: &[u8]) -> SipMessage {
        SipMessage::try_from(raw).expect("rsip parses the corpus")
    }

    fn typed<'a, T: TypedHeader<'a>>(s: &'a str) -> Option<T> {
        T::try_from(T::Tokenizer::tokenize(s).ok()?).ok()
    }

    /// Parse, then decode the same headers as ours.
    pub fn parse_typed(raw: &[u8]) -> usize {
        let m = parse(raw);
        let mut n = 0usize;
        for h in m.headers().iter() {
            let ok = match h {
                Header::Via(v) => typed::<rsip::typed::Via>(v.value()).is_some(),
                Header::From(v) => typed::<rsip::typed::From>(v.value()).is_some(),
                Header::To(v) => typed::<rsip::typed::To>(v.value()).is_some(),
                Header::CSeq(v) => typed::<rsip::typed::CSeq>(v.value()).is_some(),
                Header::CallId(v) => !v.value().is_empty(),
                Header::Contact(v) => typed::<rsip::typed::Contact>(v.value()).is_some(),
                Header::WwwAuthenticate(v) => {
                    typed::<rsip::typed::WwwAuthenticate>(v.value()).is_some()
                }
                Header::Authorization(v) => {
                    typed::<rsip::typed::Authorization>(v.value()).is_some()
                }
                Header::ProxyAuthenticate(v) => {
                    typed::<rsip::typed::ProxyAuthenticate>(v.value()).is_some()
                }
                Header::ProxyAuthorization(v) => {
                    typed::<rsip::typed::ProxyAuthorization>(v.value()).is_some()
                }
                _ => false,
            };
            n += usize::from(ok);
        }
        n
    }

    /// Serialize.
    pub fn serialize(m: &SipMessage) -> String {
        m.to_string()
    }
}

/// ezk-sip-types 0.6: its pull parser and line parser (as ezk-sip-core's transport
/// does), then typed headers.
pub mod ezk_side {
    use bytes::Bytes;
    use ezk_sip_types::header::typed::{
        AuthChallenge, AuthResponse, CSeq, CallID, Contact, FromTo, Via,
    };
    use ezk_sip_types::msg::{Line, MessageLine, PullParser};
    use ezk_sip_types::parse::Parse;
    use ezk_sip_types::print::AppendCtx;
    use ezk_sip_types::{Headers, Name};

    /// A parsed ezk message (ezk has no whole-message type of its own).
    pub struct EzkMsg {
        line: MessageLine,
        headers: Headers,
        body: Bytes,
    }

    /// Parse only.
    pub fn parse(buf: &Bytes) -> EzkMsg {
        let mut p = PullParser::new(buf, 0);
        let first = std::str::from_utf8(p.next().expect("line").expect("line")).expect("utf8");
        let (_, line) = MessageLine::parse(buf)(first).expect("start line");
        let mut headers = Headers::with_capacity(16);
        for l in &mut p {
            let l = std::str::from_utf8(l.expect("line")).expect("utf8");
            let (_, Line { name, value }) = Line::parse(buf, l).expect("header line");
            headers.insert(name, value);
        }
        let body = buf.slice(p.head_end()..);
        EzkMsg {
            line,
            headers,
            body,
        }
    }

    /// Parse, then decode the same headers as ours. ezk 0.6 fails to decode an
    /// Authorization with `opaque=""` (corpus file 03); that counts as a failed decode.
    pub fn parse_typed(buf: &Bytes) -> usize {
        let m = parse(buf);
        let h = &m.headers;
        let mut n = h.get_named::<Vec<Via>>().map_or(0, |v| v.len());
        n += usize::from(h.get::<FromTo>(Name::FROM).is_ok());
        n += usize::from(h.get::<FromTo>(Name::TO).is_ok());
        n += usize::from(h.get_named::<CSeq>().is_ok());
        n += usize::from(h.get_named::<CallID>().is_ok());
        n += h.get_named::<Vec<Contact>>().map_or(0, |v| v.len());
        n += usize::from(matches!(
            h.try_get::<AuthChallenge>(Name::WWW_AUTHENTICATE),
            Some(Ok(_))
        ));
        n += usize::from(matches!(
            h.try_get::<AuthResponse>(Name::AUTHORIZATION),
            Some(Ok(_))
        ));
        n += usize::from(matches!(
            h.try_get::<AuthChallenge>(Name::PROXY_AUTHENTICATE),
            Some(Ok(_))
        ));
        n += usize::from(matches!(
            h.try_get::<AuthResponse>(Name::PROXY_AUTHORIZATION),
            Some(Ok(_))
        ));
        n
    }

    /// Serialize.
    pub fn serialize(m: &EzkMsg) -> Vec<u8> {
        use std::io::Write;
        let mut v = Vec::with_capacity(m.headers.printed_len() + 128 + m.body.len());
        let _ = write!(v, "{}\r\n{}\r\n", m.line.default_print_ctx(), m.headers);
        v.extend_from_slice(&m.body);
        v
    }
}

/// httparse on the header block alone: the floor (no start line, no typed values).
pub fn httparse_headers(block: &[u8]) -> usize {
    let mut headers = [httparse::EMPTY_HEADER; 32];
    match httparse::parse_headers(block, &mut headers) {
        Ok(httparse::Status::Complete((n, h))) => n + h.len(),
        _ => 0,
    }
}

/// Buffer for serializing.
pub fn out_buffer() -> BytesMut {
    BytesMut::with_capacity(4096)
}

/// The digest benchmarks' request: qop=auth, a 64-digit nonce, a 24-character cnonce,
/// REGISTER to `sip:harness.test` as alice in realm `harness.test`.
pub fn digest_input(
    algorithm: sip_auth::Algorithm,
    secret: sip_auth::SecretRef<'_>,
) -> sip_auth::DigestInput<'_> {
    sip_auth::DigestInput {
        algorithm,
        username: "alice",
        realm: "harness.test",
        secret,
        nonce: DIGEST_NONCE,
        cnonce: Some("0a4f113b9c8d7e6f5a4b3c2d"),
        nc: Some(1),
        qop: Some(sip_auth::Qop::Auth),
        method: "REGISTER",
        uri: "sip:harness.test",
        body: b"",
    }
}

/// A 401 challenging with `algorithm`, qop=auth and [`DIGEST_NONCE`], for the client
/// rows of the digest bench and its profiling example.
pub fn digest_challenge(algorithm: sip_auth::Algorithm) -> sip_message::Message {
    let text = format!(
        "SIP/2.0 401 Unauthorized\r\nVia: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bK1\r\n\
         From: <sip:alice@harness.test>;tag=1\r\nTo: <sip:alice@harness.test>;tag=2\r\n\
         Call-ID: c1\r\nCSeq: 1 REGISTER\r\n\
         WWW-Authenticate: Digest realm=\"harness.test\", nonce=\"{}\", qop=\"auth\", algorithm={}\r\n\
         Content-Length: 0\r\n\r\n",
        DIGEST_NONCE,
        algorithm.as_str()
    );
    sip_message::Message::parse(text.into_bytes()).expect("the bench challenge parses")
}

/// The nonce of [`digest_input`].
pub const DIGEST_NONCE: &str = "5f7a0c3e9b1d2a44e1c1b8f0a4c3d2e15f7a0c3e9b1d2a44e1c1b8f0a4c3d2e1";
