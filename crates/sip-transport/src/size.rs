//! RFC 3261 §18.1.1: a request too large for UDP goes over TCP, and its top Via must
//! then say TCP.

use bytes::{Bytes, BytesMut};
use sip_message::Message;

/// The request with its top Via transport changed from UDP to TCP, or `None` when
/// the bytes are not a request whose top Via says UDP.
pub fn request_over_tcp(bytes: &Bytes) -> Option<Bytes> {
    let m = Message::parse(bytes.clone()).ok()?;
    let req = m.as_request()?;
    let via = req.top_via();
    let transport = via.transport();
    if !transport.eq_ignore_ascii_case("UDP") {
        return None;
    }
    let head = req.head();
    let at = (transport.as_ptr() as usize).checked_sub(head.as_ptr() as usize)?;
    let mut out = BytesMut::with_capacity(head.len() + req.body().len());
    out.extend_from_slice(head.as_bytes());
    out.get_mut(at..at + 3)?.copy_from_slice(b"TCP");
    out.extend_from_slice(req.body());
    Some(out.freeze())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rewrites_the_top_via_only() {
        let raw = Bytes::from_static(b"MESSAGE sip:b@h SIP/2.0\r\nVia: SIP/2.0/UDP a;branch=z9hG4bK1\r\nVia: SIP/2.0/UDP b;branch=z9hG4bK2\r\nFrom: <sip:a@h>;tag=1\r\nTo: <sip:b@h>\r\nCall-ID: c\r\nCSeq: 1 MESSAGE\r\nContent-Length: 2\r\n\r\nhi");
        let out = request_over_tcp(&raw).unwrap();
        let m = Message::parse(out).unwrap();
        let vias: Vec<_> = m.vias().map(|v| v.transport().to_string()).collect();
        assert_eq!(vias, ["TCP", "UDP"]);
        assert_eq!(&m.body()[..], b"hi");
        let resp = Bytes::from_static(b"SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP a;branch=z9hG4bK1\r\nFrom: <sip:a@h>;tag=1\r\nTo: <sip:b@h>;tag=2\r\nCall-ID: c\r\nCSeq: 1 MESSAGE\r\nContent-Length: 0\r\n\r\n");
        assert!(request_over_tcp(&resp).is_none());
    }
}
