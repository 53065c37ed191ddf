//! The error response to a request that did not parse (400, 505, 513, ...).
//!
//! A server answers a malformed request when it can (RFC 3261 §8.2, §16.3): the
//! response needs the request's Via, From, To, Call-ID and CSeq, so those lines are
//! picked out of the raw bytes leniently. The response is never larger than what it
//! copies from the request plus a short status line, so it cannot amplify traffic.

use bytes::{BufMut, Bytes, BytesMut};

use crate::error::ParseError;
use crate::header_name::HeaderName;

/// The most bytes a copied header value may have.
const MAX_VALUE: usize = 2048;

/// The response a server sends for a request that failed with `err`, built from the
/// raw request bytes, or `None` when none is due (a response, an empty datagram) or
/// the request lacks what a response must copy (Via, From, To, Call-ID, CSeq).
pub fn error_response(raw: &[u8], err: &ParseError) -> Option<Bytes> {
    let status = err.response()?;
    let mut vias: Vec<&[u8]> = Vec::new();
    let (mut from, mut to, mut call_id, mut cseq) = (None, None, None, None);
    // The start line is skipped; header lines are read until the empty line or the
    // end, continuation lines (folding) are not followed: a response with a shortened
    // value is still a response.
    let mut lines = raw.split(|&b| b == b'\n').skip(1);
    for line in lines.by_ref() {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.is_empty() {
            break;
        }
        if line[0] == b' ' || line[0] == b'\t' {
            continue;
        }
        let Some(colon) = line.iter().position(|&b| b == b':') else {
            continue;
        };
        let name = line[..colon].trim_ascii();
        let value = line[colon + 1..].trim_ascii();
        if value.is_empty()
            || value.len() > MAX_VALUE
            || value.iter().any(|&b| b < 0x20 && b != b'\t')
        {
            continue;
        }
        match HeaderName::from_bytes(name) {
            HeaderName::Via if vias.len() < 16 => vias.push(value),
            HeaderName::From if from.is_none() => from = Some(value),
            HeaderName::To if to.is_none() => to = Some(value),
            HeaderName::CallId if call_id.is_none() => call_id = Some(value),
            HeaderName::CSeq if cseq.is_none() => cseq = Some(value),
            _ => {}
        }
    }
    if vias.is_empty() {
        return None;
    }
    let (from, to, call_id, cseq) = (from?, to?, call_id?, cseq?);
    let mut out = BytesMut::with_capacity(256 + vias.iter().map(|v| v.len() + 8).sum::<usize>());
    out.put_slice(b"SIP/2.0 ");
    out.put_slice(status.as_u16().to_string().as_bytes());
    out.put_u8(b' ');
    out.put_slice(status.phrase().as_bytes());
    out.put_slice(b"\r\n");
    for v in vias {
        out.put_slice(b"Via: ");
        out.put_slice(v);
        out.put_slice(b"\r\n");
    }
    for (name, value) in [("From", from), ("To", to)] {
        out.put_slice(name.as_bytes());
        out.put_slice(b": ");
        out.put_slice(value);
        if name == "To" && !contains_tag(value) {
            // A stateless responder's tag: any token will do, as long as it is there.
            out.put_slice(b";tag=sl");
            out.put_slice(format!("{:08x}", fnv(call_id)).as_bytes());
        }
        out.put_slice(b"\r\n");
    }
    out.put_slice(b"Call-ID: ");
    out.put_slice(call_id);
    out.put_slice(b"\r\nCSeq: ");
    out.put_slice(cseq);
    out.put_slice(b"\r\nContent-Length: 0\r\n\r\n");
    Some(out.freeze())
}

fn contains_tag(to: &[u8]) -> bool {
    // After the address: a `tag` parameter.
    let after = match to.iter().rposition(|&b| b == b'>') {
        Some(p) => &to[p..],
        None => to,
    };
    after.windows(4).any(|w| w.eq_ignore_ascii_case(b"tag="))
}

fn fnv(data: &[u8]) -> u32 {
    data.iter().fold(0x811c_9dc5u32, |h, &b| {
        (h ^ u32::from(b)).wrapping_mul(0x0100_0193)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Message;

    #[test]
    fn answers_a_bad_request() {
        let raw = b"INVITE sip:b@example.com SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bK1\r\nVia: SIP/2.0/UDP 192.0.2.2;branch=z9hG4bK2\r\nFrom: <sip:a@example.com>;tag=1\r\nTo: <sip:b@example.com>\r\nCall-ID: x\r\nCSeq: 1 INVITE\r\nContent-Length: five\r\n\r\n";
        let err = Message::parse(raw.to_vec()).unwrap_err();
        let resp = error_response(raw, &err).unwrap();
        let m = Message::parse(resp.clone()).unwrap();
        let r = m.as_response().unwrap();
        assert_eq!(r.status().as_u16(), 400);
        assert_eq!(r.via_count(), 2);
        assert!(r.to_tag().is_some());
        assert_eq!(r.call_id(), "x");
        assert!(resp.len() < raw.len() + 64);
    }

    #[test]
    fn nothing_for_responses_or_requests_missing_headers() {
        let raw = b"SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\nCSeq: x\r\n\r\n";
        let err = Message::parse(raw.to_vec()).unwrap_err();
        assert!(error_response(raw, &err).is_none());
        let raw = b"OPTIONS sip:b SIP/3.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\n\r\n";
        let err = Message::parse(raw.to_vec()).unwrap_err();
        assert!(error_response(raw, &err).is_none());
        let raw = b"OPTIONS sip:b SIP/3.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\nFrom: <sip:a@h>;tag=1\r\nTo: <sip:b@h>;tag=9\r\nCall-ID: c\r\nCSeq: 1 OPTIONS\r\n\r\n";
        let err = Message::parse(raw.to_vec()).unwrap_err();
        let resp = error_response(raw, &err).unwrap();
        let m = Message::parse(resp).unwrap();
        assert_eq!(m.as_response().unwrap().status().as_u16(), 505);
        assert_eq!(m.to_tag(), Some("9"));
    }
}
