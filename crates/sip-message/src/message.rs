//! [`Message`], [`Request`], [`Response`] and the part they share, [`MessageParts`].
//!
//! A parsed message owns its head as a [`ByteString`] (sharing the received buffer) and
//! its body as [`Bytes`]; headers are an ordered list of `(name, value range)`.
//! Accessors hand out `&str` slices and typed views that borrow the message.

use std::ops::Deref;

use bytes::{BufMut, Bytes};
use bytestring::ByteString;

use crate::error::{ParseError, SyntaxError};
use crate::header_name::HeaderName;
use crate::headers::{
    AuthHeader, CSeq, MediaType, NameAddr, NameAddrData, TypedHeader, ValueIter, Via, ViaData,
};
use crate::limits::Limits;
use crate::method::Method;
use crate::parse::{Framing, parse_message};
use crate::span::Span;
use crate::status::StatusCode;
use crate::uri::{Uri, UriData};

/// The header index: inline for typical messages, so parsing does not allocate.
pub(crate) type HeaderIndex = smallvec::SmallVec<[HeaderEntry; 16]>;

/// One header line as stored: its name, the name as written, and its value range.
#[derive(Clone, Copy, Debug)]
pub(crate) struct HeaderEntry {
    pub(crate) name: HeaderName,
    pub(crate) raw_name: Span,
    pub(crate) value: Span,
}

/// The decoded essential headers, as spans into the head.
#[derive(Clone, Debug)]
pub(crate) struct Core {
    pub(crate) top_via: ViaData,
    pub(crate) top_via_entry: u32,
    pub(crate) via_count: u32,
    pub(crate) first_contact: Option<(NameAddrData, u32)>,
    /// How many Contact values the message holds (`*` not counted).
    pub(crate) contact_count: u32,
    pub(crate) from: NameAddrData,
    pub(crate) to: NameAddrData,
    pub(crate) call_id: Span,
    pub(crate) cseq_seq: u32,
    pub(crate) cseq_method: Method,
    pub(crate) cseq_method_span: Span,
    pub(crate) max_forwards: Option<u8>,
    pub(crate) content_length: Option<u32>,
    pub(crate) contact_star: bool,
    /// The index entry of the first WWW-Authenticate, Proxy-Authenticate,
    /// Authorization or Proxy-Authorization header (`u32::MAX` when there is none).
    pub(crate) first_auth_entry: u32,
    pub(crate) lossy: bool,
}

/// A header line of a message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HeaderField<'a> {
    /// The header name ([`HeaderName::Other`] when unknown; see `raw_name`).
    pub name: HeaderName,
    /// The name exactly as written (`v`, `VIA`, `X-Custom`).
    pub raw_name: &'a str,
    /// The value, trimmed, with folded line breaks turned into spaces.
    pub value: &'a str,
}

/// What requests and responses share: headers and body.
#[derive(Clone, Debug)]
pub struct MessageParts {
    head: ByteString,
    body: Bytes,
    headers: HeaderIndex,
    core: Core,
}

impl MessageParts {
    pub(crate) fn new(
        head: ByteString,
        body: Bytes,
        headers: HeaderIndex,
        core: Core,
    ) -> MessageParts {
        MessageParts {
            head,
            body,
            headers,
            core,
        }
    }

    fn hs(&self) -> &str {
        &self.head
    }

    /// The head (start line, header lines and the empty line) as text. Folded lines
    /// appear with their line breaks turned into spaces.
    pub fn head(&self) -> &str {
        &self.head
    }

    /// The body, exactly as many bytes as Content-Length says (datagrams without
    /// Content-Length: the rest of the datagram).
    pub fn body(&self) -> &Bytes {
        &self.body
    }

    /// Whether invalid UTF-8 in the head was replaced by `?` to read the message.
    pub fn had_invalid_utf8(&self) -> bool {
        self.core.lossy
    }

    fn field(&self, e: &HeaderEntry) -> HeaderField<'_> {
        HeaderField {
            name: e.name,
            raw_name: e.raw_name.of(self.hs()),
            value: e.value.of(self.hs()),
        }
    }

    /// Every header line, in order.
    pub fn headers(&self) -> impl ExactSizeIterator<Item = HeaderField<'_>> + '_ {
        self.headers.iter().map(|e| self.field(e))
    }

    /// The number of header lines.
    pub fn header_count(&self) -> usize {
        self.headers.len()
    }

    /// The value of the first line of a known header.
    pub fn header(&self, name: HeaderName) -> Option<&str> {
        self.headers
            .iter()
            .find(|e| e.name == name)
            .map(|e| e.value.of(self.hs()))
    }

    /// The values of every line of a known header, in order.
    pub fn header_values(&self, name: HeaderName) -> impl Iterator<Item = &str> + '_ {
        self.headers
            .iter()
            .filter(move |e| e.name == name)
            .map(|e| e.value.of(self.hs()))
    }

    /// The values of every line whose name matches `name` (case-insensitive; compact
    /// and long forms of known headers match each other).
    pub fn header_values_by_name<'s>(
        &'s self,
        name: &'s str,
    ) -> impl Iterator<Item = &'s str> + 's {
        let known = HeaderName::from_bytes(name.as_bytes());
        self.headers
            .iter()
            .filter(move |e| {
                if known == HeaderName::Other {
                    e.name == HeaderName::Other
                        && e.raw_name.of(self.hs()).eq_ignore_ascii_case(name)
                } else {
                    e.name == known
                }
            })
            .map(|e| e.value.of(self.hs()))
    }

    /// Whether a header is present.
    pub fn has_header(&self, name: HeaderName) -> bool {
        self.headers.iter().any(|e| e.name == name)
    }

    /// Decodes the first value of a header as `H` (`None` when the header is absent).
    pub fn typed<'a, H: TypedHeader<'a> + 'a>(
        &'a self,
        name: HeaderName,
    ) -> Option<Result<H, SyntaxError>> {
        self.typed_all::<H>(name).next()
    }

    /// Decodes every value of a header as `H`: all lines, and for list headers every
    /// comma-separated value of each line. Error offsets count from the head's start.
    pub fn typed_all<'a, H: TypedHeader<'a> + 'a>(
        &'a self,
        name: HeaderName,
    ) -> impl Iterator<Item = Result<H, SyntaxError>> + 'a {
        let hs: &'a str = &self.head;
        self.headers
            .iter()
            .filter(move |e| e.name == name)
            .flat_map(move |e| ValueIter::<H>::new(hs, e.value.start(), e.value.end()))
    }

    /// The Call-ID.
    pub fn call_id(&self) -> &str {
        self.core.call_id.of(self.hs())
    }

    /// The CSeq (number and method).
    pub fn cseq(&self) -> CSeq {
        CSeq {
            seq: self.core.cseq_seq,
            method: self.core.cseq_method.clone(),
        }
    }

    /// The CSeq number.
    pub fn cseq_seq(&self) -> u32 {
        self.core.cseq_seq
    }

    /// The CSeq method.
    pub fn cseq_method(&self) -> &Method {
        &self.core.cseq_method
    }

    /// The From header.
    pub fn from(&self) -> NameAddr<'_> {
        NameAddr::from_data(self.hs(), self.core.from)
    }

    /// The To header.
    pub fn to(&self) -> NameAddr<'_> {
        NameAddr::from_data(self.hs(), self.core.to)
    }

    /// The From tag.
    pub fn from_tag(&self) -> Option<&str> {
        self.from().tag()
    }

    /// The To tag.
    pub fn to_tag(&self) -> Option<&str> {
        self.to().tag()
    }

    /// The topmost Via value.
    pub fn top_via(&self) -> Via<'_> {
        Via::from_data(self.hs(), self.core.top_via)
    }

    /// The values of a list header whose first value was decoded while parsing: that
    /// one from the cache, the rest decoded now.
    /// `count` is how many values the message holds: with one, nothing after the
    /// first is looked for.
    fn cached_list<'a, H: TypedHeader<'a> + 'a>(
        &'a self,
        first: Option<(H, usize, usize)>,
        count: u32,
        name: HeaderName,
    ) -> impl Iterator<Item = H> + 'a {
        let hs: &'a str = &self.head;
        let (first, entry, first_end) = match first {
            Some((h, entry, end)) if count > 1 => (Some(h), entry, end),
            Some((h, _, _)) => (Some(h), self.headers.len(), 0),
            None => (None, self.headers.len(), 0),
        };
        let (same_line, later) = match self.headers.get(entry) {
            Some(e) => (
                ValueIter::<H>::rest_after(hs, first_end, e.value.end()),
                &self.headers[entry + 1..],
            ),
            None => (ValueIter::rest_after(hs, 0, 0), &self.headers[..0]),
        };
        CachedList {
            left: count,
            first,
            same_line,
            later: later.iter(),
            current: None,
            name,
            base: hs,
        }
    }

    /// Every Via value, top first (all were checked when the message was parsed).
    pub fn vias(&self) -> impl Iterator<Item = Via<'_>> + '_ {
        let top = self.core.top_via;
        self.cached_list(
            Some((
                self.top_via(),
                self.core.top_via_entry as usize,
                top.all.end(),
            )),
            self.core.via_count,
            HeaderName::Via,
        )
    }

    /// The number of Via values.
    pub fn via_count(&self) -> usize {
        self.core.via_count as usize
    }

    /// Every Contact address (all were checked when the message was parsed). A
    /// `Contact: *` is not listed; see [`MessageParts::contact_is_star`].
    pub fn contacts(&self) -> impl Iterator<Item = NameAddr<'_>> + '_ {
        let first = self.core.first_contact.map(|(d, entry)| {
            (
                NameAddr::from_data(self.hs(), d),
                entry as usize,
                d.all.end(),
            )
        });
        self.cached_list(first, self.core.contact_count, HeaderName::Contact)
    }

    /// Whether the message carries `Contact: *` (remove all bindings, in REGISTER).
    pub fn contact_is_star(&self) -> bool {
        self.core.contact_star
    }

    /// Max-Forwards, when present.
    pub fn max_forwards(&self) -> Option<u8> {
        self.core.max_forwards
    }

    /// Content-Length, when present.
    pub fn content_length(&self) -> Option<u32> {
        self.core.content_length
    }

    /// Content-Type, when present and well formed.
    pub fn content_type(&self) -> Option<MediaType<'_>> {
        self.typed::<MediaType<'_>>(HeaderName::ContentType)
            .and_then(Result::ok)
    }

    /// Expires, when present and well formed.
    pub fn expires(&self) -> Option<u32> {
        self.typed::<crate::headers::Expires>(HeaderName::Expires)
            .and_then(Result::ok)
            .map(|e| e.0)
    }

    /// Route values, in order.
    pub fn routes(&self) -> impl Iterator<Item = Result<NameAddr<'_>, SyntaxError>> + '_ {
        self.typed_all::<NameAddr<'_>>(HeaderName::Route)
    }

    /// Record-Route values, in order.
    pub fn record_routes(&self) -> impl Iterator<Item = Result<NameAddr<'_>, SyntaxError>> + '_ {
        self.typed_all::<NameAddr<'_>>(HeaderName::RecordRoute)
    }

    /// Every challenge and credential: WWW-Authenticate, Proxy-Authenticate,
    /// Authorization and Proxy-Authorization values, in header order, with their header.
    pub fn auth_headers(
        &self,
    ) -> impl Iterator<Item = (HeaderName, Result<AuthHeader<'_>, SyntaxError>)> + '_ {
        // The parse noted where the first of them is: a message without any (most of
        // them) gives none without looking at its headers.
        let first = (self.core.first_auth_entry as usize).min(self.headers.len());
        AuthHeaders {
            base: &self.head,
            entries: self.headers[first..].iter(),
            current: None,
        }
    }

    /// The head as bytes (see [`MessageParts::head`]). Cheap: shares the buffer.
    pub fn head_bytes(&self) -> &Bytes {
        self.head.as_bytes()
    }

    fn encoded_len_hint(&self) -> usize {
        self.head.len() + self.body.len()
    }

    fn encode_headers(&self, out: &mut impl BufMut) {
        let hs = self.hs();
        for e in &self.headers {
            out.put_slice(e.raw_name.of(hs).as_bytes());
            out.put_slice(b": ");
            out.put_slice(e.value.of(hs).as_bytes());
            out.put_slice(b"\r\n");
        }
        out.put_slice(b"\r\n");
        out.put_slice(&self.body);
    }
}

/// A SIP request.
#[derive(Clone, Debug)]
// The parts first in both kinds of message, so that reaching them from a `Message`
// does not depend on which kind it is.
#[repr(C)]
pub struct Request {
    parts: MessageParts,
    method: Method,
    uri: UriData,
}

impl Request {
    pub(crate) fn new(method: Method, uri: UriData, parts: MessageParts) -> Request {
        Request { method, uri, parts }
    }

    /// The method.
    pub fn method(&self) -> &Method {
        &self.method
    }

    /// The Request-URI.
    pub fn uri(&self) -> Uri<'_> {
        Uri::from_data(self.parts.hs(), self.uri)
    }

    /// The common part (headers and body).
    pub fn parts(&self) -> &MessageParts {
        &self.parts
    }

    /// Writes the request: start line, each header as `Name: value`, the body.
    pub fn encode(&self, out: &mut impl BufMut) {
        out.put_slice(self.method.as_str().as_bytes());
        out.put_u8(b' ');
        out.put_slice(self.uri().as_str().as_bytes());
        out.put_slice(b" SIP/2.0\r\n");
        self.parts.encode_headers(out);
    }

    /// The encoded request as a new buffer.
    pub fn to_bytes(&self) -> Bytes {
        let mut b = bytes::BytesMut::with_capacity(self.parts.encoded_len_hint());
        self.encode(&mut b);
        b.freeze()
    }
}

impl Deref for Request {
    type Target = MessageParts;
    fn deref(&self) -> &MessageParts {
        &self.parts
    }
}

/// A SIP response.
#[derive(Clone, Debug)]
// The parts first, as in `Request`.
#[repr(C)]
pub struct Response {
    parts: MessageParts,
    status: StatusCode,
    reason: Span,
}

impl Response {
    pub(crate) fn new(status: StatusCode, reason: Span, parts: MessageParts) -> Response {
        Response {
            status,
            reason,
            parts,
        }
    }

    /// The status code.
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The reason phrase as received (may be empty, may be non-ASCII UTF-8).
    pub fn reason(&self) -> &str {
        self.reason.of(self.parts.hs())
    }

    /// The common part (headers and body).
    pub fn parts(&self) -> &MessageParts {
        &self.parts
    }

    /// Writes the response: status line, each header as `Name: value`, the body.
    pub fn encode(&self, out: &mut impl BufMut) {
        out.put_slice(b"SIP/2.0 ");
        let code = self.status.as_u16();
        out.put_slice(&[
            b'0' + (code / 100) as u8,
            b'0' + (code / 10 % 10) as u8,
            b'0' + (code % 10) as u8,
            b' ',
        ]);
        out.put_slice(self.reason().as_bytes());
        out.put_slice(b"\r\n");
        self.parts.encode_headers(out);
    }

    /// The encoded response as a new buffer.
    pub fn to_bytes(&self) -> Bytes {
        let mut b = bytes::BytesMut::with_capacity(self.parts.encoded_len_hint());
        self.encode(&mut b);
        b.freeze()
    }
}

impl Deref for Response {
    type Target = MessageParts;
    fn deref(&self) -> &MessageParts {
        &self.parts
    }
}

/// A SIP message: a request or a response.
#[derive(Clone, Debug)]
pub enum Message {
    /// A request.
    Request(Request),
    /// A response.
    Response(Response),
}

impl Message {
    /// Parses one message received as a datagram, with default limits.
    pub fn parse(data: impl Into<Bytes>) -> Result<Message, ParseError> {
        parse_message(data.into(), &Limits::default(), Framing::Datagram)
    }

    /// Parses one message with explicit limits and framing.
    pub fn parse_with(
        data: impl Into<Bytes>,
        limits: &Limits,
        framing: Framing,
    ) -> Result<Message, ParseError> {
        parse_message(data.into(), limits, framing)
    }

    /// Whether this is a request.
    pub fn is_request(&self) -> bool {
        matches!(self, Message::Request(_))
    }

    /// The request, if this is one.
    pub fn as_request(&self) -> Option<&Request> {
        match self {
            Message::Request(r) => Some(r),
            Message::Response(_) => None,
        }
    }

    /// The response, if this is one.
    pub fn as_response(&self) -> Option<&Response> {
        match self {
            Message::Response(r) => Some(r),
            Message::Request(_) => None,
        }
    }

    /// The common part (headers and body).
    pub fn parts(&self) -> &MessageParts {
        match self {
            Message::Request(r) => &r.parts,
            Message::Response(r) => &r.parts,
        }
    }

    /// Writes the message (see [`Request::encode`], [`Response::encode`]).
    pub fn encode(&self, out: &mut impl BufMut) {
        match self {
            Message::Request(r) => r.encode(out),
            Message::Response(r) => r.encode(out),
        }
    }

    /// The encoded message as a new buffer.
    pub fn to_bytes(&self) -> Bytes {
        match self {
            Message::Request(r) => r.to_bytes(),
            Message::Response(r) => r.to_bytes(),
        }
    }
}

impl Deref for Message {
    type Target = MessageParts;
    fn deref(&self) -> &MessageParts {
        self.parts()
    }
}

impl From<Request> for Message {
    fn from(r: Request) -> Message {
        Message::Request(r)
    }
}

impl From<Response> for Message {
    fn from(r: Response) -> Message {
        Message::Response(r)
    }
}

/// The iterator of `MessageParts::cached_list`: the first value from the cache, then
/// the values after it on its line, then those of later lines with the same name
/// (values that do not decode are skipped: the parse checked them all). It stops once
/// it has given as many values as the parse counted.
struct CachedList<'a, H> {
    /// How many values are still to come (the parse counted them).
    left: u32,
    first: Option<H>,
    same_line: ValueIter<'a, H>,
    later: std::slice::Iter<'a, HeaderEntry>,
    /// The values of the later line being read.
    current: Option<ValueIter<'a, H>>,
    name: HeaderName,
    base: &'a str,
}

/// The iterator of [`MessageParts::auth_headers`]: the values of each auth header line
/// in turn (one small state machine rather than a chain of adapters).
struct AuthHeaders<'a> {
    base: &'a str,
    entries: std::slice::Iter<'a, HeaderEntry>,
    /// The line being read and its values.
    current: Option<(HeaderName, ValueIter<'a, AuthHeader<'a>>)>,
}

impl<'a> Iterator for AuthHeaders<'a> {
    type Item = (HeaderName, Result<AuthHeader<'a>, SyntaxError>);

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if let Some((name, values)) = &mut self.current {
                if let Some(r) = values.next() {
                    return Some((*name, r));
                }
                self.current = None;
            }
            let e = self.entries.find(|e| {
                matches!(
                    e.name,
                    HeaderName::WwwAuthenticate
                        | HeaderName::ProxyAuthenticate
                        | HeaderName::Authorization
                        | HeaderName::ProxyAuthorization
                )
            })?;
            self.current = Some((
                e.name,
                ValueIter::new(self.base, e.value.start(), e.value.end()),
            ));
        }
    }
}

impl<'a, H: TypedHeader<'a>> Iterator for CachedList<'a, H> {
    type Item = H;

    fn next(&mut self) -> Option<H> {
        if self.left == 0 {
            return None;
        }
        self.left -= 1;
        if let Some(h) = self.first.take() {
            return Some(h);
        }
        loop {
            if let Some(r) = self.same_line.next() {
                match r {
                    Ok(h) => return Some(h),
                    Err(_) => continue,
                }
            }
            if let Some(values) = &mut self.current {
                match values.next() {
                    Some(Ok(h)) => return Some(h),
                    Some(Err(_)) => continue,
                    None => self.current = None,
                }
            }
            let e = self.later.find(|e| e.name == self.name)?;
            self.current = Some(ValueIter::new(self.base, e.value.start(), e.value.end()));
        }
    }
}
