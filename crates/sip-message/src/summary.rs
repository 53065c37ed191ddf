//! A human-readable dump of a message, like pyVoIP's `SIPMessage.summary()`: the start
//! line with the status description, the decoded essential headers, every header line,
//! and the body (SDP media lines decoded, other text shown, binary counted).

use std::fmt::Write as _;

use crate::message::Message;
use crate::sdp::SessionDescription;

impl Message {
    /// A multi-line, human-readable description of the message.
    pub fn summary(&self) -> String {
        let mut out = String::new();
        match self {
            Message::Request(r) => {
                let _ = writeln!(out, "Request: {} {}", r.method(), r.uri());
            }
            Message::Response(r) => {
                let s = r.status();
                let _ = writeln!(out, "Response: {} {}", s.as_u16(), r.reason());
                let _ = writeln!(out, "Status: {} ({})", s.phrase(), s.description());
            }
        }
        let _ = writeln!(out, "Call-ID: {}", self.call_id());
        let _ = writeln!(out, "CSeq: {}", self.cseq());
        for (label, a) in [("From", self.from()), ("To", self.to())] {
            let _ = write!(out, "{label}: ");
            if let Some(n) = a.display_name() {
                let _ = write!(out, "{n:?} ");
            }
            let _ = write!(out, "<{}>", a.uri());
            if let Some(t) = a.tag() {
                let _ = write!(out, " tag={t}");
            }
            out.push('\n');
        }
        for v in self.vias() {
            let _ = write!(out, "Via: {} {}", v.transport(), v.sent_by());
            if let Some(b) = v.branch() {
                let _ = write!(out, " branch={b}");
            }
            if let Some(r) = v.received() {
                let _ = write!(out, " received={r}");
            }
            match v.rport() {
                Some(crate::headers::Rport::Port(p)) => {
                    let _ = write!(out, " rport={p}");
                }
                Some(crate::headers::Rport::Requested) => out.push_str(" rport"),
                None => {}
            }
            out.push('\n');
        }
        if self.contact_is_star() {
            out.push_str("Contact: *\n");
        }
        for c in self.contacts() {
            let _ = write!(out, "Contact: <{}>", c.uri());
            if let Some(e) = c.expires() {
                let _ = write!(out, " expires={e}");
            }
            out.push('\n');
        }
        out.push_str("\nHeaders:\n");
        for h in self.headers() {
            let _ = writeln!(out, "  {}: {}", h.raw_name, h.value);
        }
        out.push_str("\nBody: ");
        let body = self.body();
        let ct = self.content_type();
        match ct {
            Some(ct) => {
                let _ = writeln!(out, "{ct}, {} bytes", body.len());
            }
            None => {
                let _ = writeln!(out, "{} bytes", body.len());
            }
        }
        if ct.is_some_and(|c| c.is_sdp()) {
            match SessionDescription::parse_bytes(body) {
                Ok(sdp) => {
                    for m in &sdp.media {
                        let addr = sdp
                            .connection_for(m)
                            .map(|c| c.address.as_str())
                            .unwrap_or("?");
                        let codecs: Vec<String> = m
                            .payload_types()
                            .map(|pt| match m.rtpmap(pt) {
                                Some(map) => format!("{pt} {}/{}", map.encoding, map.clock_rate),
                                None => pt.to_string(),
                            })
                            .collect();
                        let _ = writeln!(
                            out,
                            "  {} {}:{} {} [{}] {}",
                            m.media,
                            addr,
                            m.port,
                            m.proto,
                            codecs.join(", "),
                            sdp.direction(m).as_str()
                        );
                    }
                }
                Err(e) => {
                    let _ = writeln!(out, "  (SDP does not parse: {e})");
                }
            }
        } else if !body.is_empty() {
            match std::str::from_utf8(body) {
                Ok(text) => {
                    for line in text.lines() {
                        let _ = writeln!(out, "  {line}");
                    }
                }
                Err(_) => out.push_str("  (binary)\n"),
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use crate::Message;

    #[test]
    fn summary_names_the_parts() {
        let raw = "SIP/2.0 486 Busy Here\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1;received=192.0.2.9;rport=5070\r\nFrom: \"A\" <sip:a@h>;tag=1\r\nTo: <sip:b@h>;tag=2\r\nCall-ID: c\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n";
        let s = Message::parse(raw.as_bytes().to_vec()).unwrap().summary();
        assert!(s.starts_with("Response: 486 Busy Here\nStatus: Busy Here ("));
        assert!(s.contains("From: \"A\" <sip:a@h> tag=1"));
        assert!(s.contains("Via: UDP h branch=z9hG4bK1 received=192.0.2.9 rport=5070"));
        assert!(s.contains("Body: 0 bytes"));
    }
}
