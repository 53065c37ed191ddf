//! Building requests and responses, written straight into a [`BufMut`].
//!
//! A [`MessageBuilder`] writes the start line when it is made and each header as it is
//! added; [`MessageBuilder::body`] writes Content-Length, the empty line and the body.
//! [`MessageBuilder::build`] parses the result back, so a built message obeys the same
//! rules as a received one.
//!
//! ```
//! use sip_message::{HeaderName, Method, MessageBuilder, StatusCode};
//!
//! let req = MessageBuilder::request(&Method::Options, "sip:bob@example.com")
//!     .header(HeaderName::Via, "SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK1;rport")
//!     .header(HeaderName::MaxForwards, 70)
//!     .header(HeaderName::From, "<sip:alice@example.com>;tag=88sja8x")
//!     .header(HeaderName::To, "<sip:bob@example.com>")
//!     .header(HeaderName::CallId, "a84b4c76e66710")
//!     .header(HeaderName::CSeq, "1 OPTIONS")
//!     .build()
//!     .unwrap();
//! let req = req.as_request().unwrap();
//! let resp = MessageBuilder::response_to(req, StatusCode::OK, Some("9fxced76sl"))
//!     .header(HeaderName::Allow, "INVITE, ACK, BYE, CANCEL, OPTIONS")
//!     .build()
//!     .unwrap();
//! let resp = resp.as_response().unwrap();
//! assert_eq!(resp.to_tag(), Some("9fxced76sl"));
//! assert_eq!(resp.top_via().branch(), Some("z9hG4bK1"));
//! ```

use std::fmt::{self, Write as _};

use bytes::{BufMut, BytesMut};

use crate::error::ParseError;
use crate::header_name::HeaderName;
use crate::limits::Limits;
use crate::message::{Message, Request};
use crate::method::Method;
use crate::parse::Framing;
use crate::status::StatusCode;

/// Adapts a [`BufMut`] to [`fmt::Write`], so values are formatted in place.
struct BufWriter<'b, B>(&'b mut B);

impl<B: BufMut> fmt::Write for BufWriter<'_, B> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        self.0.put_slice(s.as_bytes());
        Ok(())
    }
}

/// A header name given to the builder: a known [`HeaderName`] (written in canonical
/// form) or any other name as text.
pub trait IntoHeaderName {
    /// The name as it is written on the wire.
    fn wire_name(&self) -> &str;
}

impl IntoHeaderName for HeaderName {
    fn wire_name(&self) -> &str {
        self.as_str()
    }
}

impl IntoHeaderName for &str {
    fn wire_name(&self) -> &str {
        self
    }
}

/// Writes a SIP message into a buffer, header by header.
#[derive(Debug)]
pub struct MessageBuilder<B: BufMut = BytesMut> {
    out: B,
    status: Option<StatusCode>,
}

impl MessageBuilder<BytesMut> {
    /// Starts a request: `METHOD uri SIP/2.0`.
    pub fn request(method: &Method, uri: &str) -> Self {
        MessageBuilder::request_into(BytesMut::with_capacity(512), method, uri)
    }

    /// Starts a response: `SIP/2.0 code reason` with the registered phrase.
    pub fn response(status: StatusCode) -> Self {
        MessageBuilder::response_into(BytesMut::with_capacity(512), status, status.phrase())
    }

    /// Starts a response to `req` as RFC 3261 §8.2.6 says: every Via (in order), From,
    /// To, Call-ID and CSeq copied. When the request's To has no tag and the status is
    /// not 100, `to_tag` is added (a UAS must tag every response but 100 Trying).
    pub fn response_to(req: &Request, status: StatusCode, to_tag: Option<&str>) -> Self {
        let mut b = MessageBuilder::response(status);
        b.copy_response_headers(req, to_tag);
        b
    }

    /// Finishes with an empty body (`Content-Length: 0`) and parses the message back.
    pub fn build(self) -> Result<Message, ParseError> {
        self.build_with_body(None, b"")
    }

    /// Finishes with a body (see [`MessageBuilder::finish_with_body`]) and parses the
    /// message back.
    pub fn build_with_body(
        self,
        content_type: Option<&str>,
        body: &[u8],
    ) -> Result<Message, ParseError> {
        let limits = Limits {
            max_message_size: Limits::MAX_MESSAGE_SIZE_CAP,
            max_headers: usize::MAX,
            max_line_len: Limits::MAX_MESSAGE_SIZE_CAP,
            max_vias: usize::MAX,
        };
        let bytes = self.finish_with_body(content_type, body).freeze();
        Message::parse_with(bytes, &limits, Framing::Stream)
    }
}

impl<B: BufMut> MessageBuilder<B> {
    /// Starts a request written into `out`.
    pub fn request_into(mut out: B, method: &Method, uri: &str) -> Self {
        out.put_slice(method.as_str().as_bytes());
        out.put_u8(b' ');
        out.put_slice(uri.as_bytes());
        out.put_slice(b" SIP/2.0\r\n");
        MessageBuilder { out, status: None }
    }

    /// Starts a response written into `out`, with the given reason phrase.
    pub fn response_into(mut out: B, status: StatusCode, reason: &str) -> Self {
        let _ = write!(
            BufWriter(&mut out),
            "SIP/2.0 {} {reason}\r\n",
            status.as_u16()
        );
        MessageBuilder {
            out,
            status: Some(status),
        }
    }

    /// Starts a response to `req` written into `out`; see
    /// [`MessageBuilder::response_to`].
    pub fn response_to_into(
        out: B,
        req: &Request,
        status: StatusCode,
        to_tag: Option<&str>,
    ) -> Self {
        let mut b = MessageBuilder::response_into(out, status, status.phrase());
        b.copy_response_headers(req, to_tag);
        b
    }

    fn copy_response_headers(&mut self, req: &Request, to_tag: Option<&str>) {
        for v in req.header_values(HeaderName::Via) {
            self.put(HeaderName::Via.as_str(), v);
        }
        self.put(HeaderName::From.as_str(), req.from().as_str());
        let to = req.to();
        let trying = self.status == Some(StatusCode::TRYING);
        match to_tag {
            Some(tag) if to.tag().is_none() && !trying => {
                let _ = write!(
                    BufWriter(&mut self.out),
                    "To: {};tag={tag}\r\n",
                    to.as_str()
                );
            }
            _ => self.put(HeaderName::To.as_str(), to.as_str()),
        }
        self.put(HeaderName::CallId.as_str(), req.call_id());
        let _ = write!(BufWriter(&mut self.out), "CSeq: {}\r\n", req.cseq());
    }

    fn put(&mut self, name: &str, value: &str) {
        self.out.put_slice(name.as_bytes());
        self.out.put_slice(b": ");
        self.out.put_slice(value.as_bytes());
        self.out.put_slice(b"\r\n");
    }

    /// Adds a header; the value is formatted straight into the buffer.
    pub fn header(mut self, name: impl IntoHeaderName, value: impl fmt::Display) -> Self {
        self.add_header(name, value);
        self
    }

    /// Adds a header (by reference, for loops).
    pub fn add_header(&mut self, name: impl IntoHeaderName, value: impl fmt::Display) -> &mut Self {
        let _ = write!(
            BufWriter(&mut self.out),
            "{}: {value}\r\n",
            name.wire_name()
        );
        self
    }

    /// Writes Content-Type (when given), Content-Length, the empty line and the body,
    /// and returns the buffer.
    pub fn finish_with_body(mut self, content_type: Option<&str>, body: &[u8]) -> B {
        if let Some(ct) = content_type {
            self.put(HeaderName::ContentType.as_str(), ct);
        }
        let _ = write!(
            BufWriter(&mut self.out),
            "Content-Length: {}\r\n\r\n",
            body.len()
        );
        self.out.put_slice(body);
        self.out
    }

    /// Writes `Content-Length: 0` and the empty line, and returns the buffer.
    pub fn finish(self) -> B {
        self.finish_with_body(None, b"")
    }
}
