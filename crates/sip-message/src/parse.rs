//! The message parser: start line, header lines, the essential headers, and the body.
//!
//! It runs in three passes over the head, none of which copies unless it must:
//! 1. a byte scan that finds the start line and every header line (name, value range,
//!    folding) with `memchr`;
//! 2. a UTF-8 check of the head, which becomes a [`ByteString`] sharing the input's
//!    storage (only a head with folded lines or invalid UTF-8 is copied, to turn fold
//!    line breaks into spaces and invalid bytes into `?` without moving any offset);
//! 3. decoding of the headers every element needs (Via, From, To, Call-ID, CSeq,
//!    Max-Forwards, Content-Length, Contact), whose spans are kept in the message.

use bytes::{Buf, Bytes, BytesMut};
use bytestring::ByteString;

use crate::error::{MessageKind, ParseError, ParseErrorKind, SyntaxError, SyntaxErrorKind};
use crate::header_name::HeaderName;
use crate::headers::{
    NameAddrData, ViaData, number_at_most, parse_name_addr, parse_name_addr_into, parse_via,
    parse_via_into,
};
use crate::lex::{self, TOKEN};
use crate::limits::Limits;
use crate::message::{Core, HeaderEntry, HeaderIndex, Message, MessageParts, Request, Response};
use crate::method::Method;
use crate::span::{MAX_HEAD, Span};
use crate::status::StatusCode;
use crate::uri::{Scheme, parse_uri};

/// How the message arrived, which decides how its body is delimited.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Framing {
    /// One UDP datagram: Content-Length may be missing (the body is the rest of the
    /// datagram), and octets after the declared body are ignored (RFC 3261 §18.3).
    Datagram,
    /// A message cut from a TCP/TLS stream: Content-Length is required.
    Stream,
}

enum StartLine {
    Request { method: Span, uri: Span },
    Response { status: StatusCode, reason: Span },
}

struct Scan {
    start_line: StartLine,
    /// Offset (head-relative) just after the empty line.
    head_end: usize,
    folded: bool,
}

/// Parses one message from `data` under `limits`.
pub(crate) fn parse_message(
    data: Bytes,
    limits: &Limits,
    framing: Framing,
) -> Result<Message, ParseError> {
    let all: &[u8] = &data;
    let start = all
        .iter()
        .position(|&b| b != b'\r' && b != b'\n')
        .ok_or(ParseError::new(ParseErrorKind::Empty, all.len(), None))?;
    let origin = if all.len() - start >= 4 && lex::eq_ic(&all[start..start + 4], b"SIP/") {
        MessageKind::Response
    } else {
        MessageKind::Request
    };
    let fail = |kind: ParseErrorKind, off: usize| ParseError::new(kind, start + off, Some(origin));
    if all.len() > limits.max_message_size {
        return Err(ParseError::new(
            ParseErrorKind::TooLarge {
                limit: limits.max_message_size,
            },
            limits.max_message_size,
            Some(origin),
        ));
    }
    let s = &all[start..];
    // Spans address at most MAX_HEAD bytes: a head that does not end within them is
    // too large, whatever the limits say.
    // The scan fills the header index in place rather than returning it to be moved.
    let mut headers = HeaderIndex::new();
    let scan =
        scan(&s[..s.len().min(MAX_HEAD)], origin, limits, &mut headers).map_err(|(k, o)| {
            if k == ParseErrorKind::UnterminatedHeaders && s.len() > MAX_HEAD {
                fail(ParseErrorKind::TooLarge { limit: MAX_HEAD }, MAX_HEAD)
            } else {
                fail(k, o)
            }
        })?;

    // Pass 2: essential headers, decoded on the bytes (fold line breaks count as white
    // space, so the spans are the same as in the unfolded text).
    let hb = &all[start..start + scan.head_end];
    let mut core = decode_core(hb, &headers, limits).map_err(|(k, o)| fail(k, o))?;

    // Body.
    let body_start = start + scan.head_end;
    let available = all.len() - body_start;
    let body_len = match (core.content_length, framing) {
        (Some(cl), _) => {
            let cl = cl as usize;
            if cl > available {
                return Err(fail(
                    ParseErrorKind::BodyTruncated {
                        declared: cl,
                        available,
                    },
                    scan.head_end,
                ));
            }
            cl
        }
        (None, Framing::Datagram) => available,
        (None, Framing::Stream) => {
            return Err(fail(ParseErrorKind::MissingContentLength, scan.head_end));
        }
    };

    // Pass 3: the head as UTF-8 text. The common case (no folding, valid UTF-8) keeps
    // the input's buffer: the head is the input cut down, with no copy and, when there
    // is no body, no reference-count traffic.
    let head_range = start..body_start;
    let needs_repair = scan.folded || (!lex::is_ascii(hb) && std::str::from_utf8(hb).is_err());
    let mut lossy = false;
    let (head, body) = if needs_repair {
        let body = data.slice(body_start..body_start + body_len);
        (repair(&data[head_range], &mut lossy), body)
    } else {
        let body = if body_len == 0 {
            Bytes::new()
        } else {
            data.slice(body_start..body_start + body_len)
        };
        let mut head = data;
        head.truncate(body_start);
        head.advance(start);
        debug_assert!(std::str::from_utf8(&head).is_ok());
        // SAFETY: `head` holds exactly the bytes of `hb` (`start..body_start`), which
        // `needs_repair` found to be UTF-8 just above (all ASCII, or `from_utf8`
        // accepted them). `ByteString::try_from` would check them a second time, about
        // 250 instructions of a 7,300-instruction parse (docs/performance.md).
        #[allow(unsafe_code)]
        let head = unsafe { ByteString::from_bytes_unchecked(head) };
        (head, body)
    };
    let hs: &str = &head;
    core.lossy = lossy;
    let cseq_text = core.cseq_method_span.of(hs);

    match scan.start_line {
        StartLine::Response { status, reason } => {
            core.cseq_method = Method::from_head(&head, cseq_text);
            Ok(Message::Response(Response::new(
                status,
                reason,
                MessageParts::new(head, body, headers, core),
            )))
        }
        StartLine::Request { method, uri } => {
            let method_text = method.of(hs);
            let method = Method::from_head(&head, method_text);
            let uri_data = parse_uri(hs.as_bytes(), uri.start(), uri.end())
                .map_err(|e| fail(ParseErrorKind::BadRequestUri(e), e.offset))?;
            if uri_data.scheme == Scheme::Other {
                return Err(fail(ParseErrorKind::UnsupportedUriScheme, uri.start()));
            }
            if let Some(h) = uri_data.headers {
                return Err(fail(ParseErrorKind::HeadersInRequestUri, h.start()));
            }
            // Methods are equal exactly when their texts are (case-sensitively).
            if cseq_text != method_text {
                let is_ext = method.is_extension();
                return Err(fail(
                    ParseErrorKind::CSeqMethodMismatch,
                    core.cseq_method_span.start(),
                )
                .with_extension_method(is_ext));
            }
            core.cseq_method = method.clone();
            Ok(Message::Request(Request::new(
                method,
                uri_data,
                MessageParts::new(head, body, headers, core),
            )))
        }
    }
}

/// Copies the head, turning fold line breaks into spaces and invalid UTF-8 into `?`;
/// both keep every offset where it was.
fn repair(head: &[u8], lossy: &mut bool) -> ByteString {
    let mut v = BytesMut::from(head);
    let n = v.len();
    // Fold: CRLF or LF followed by SP/HTAB, not at the end of the head.
    let mut i = 0;
    while let Some(off) = memchr::memchr(b'\n', &v[i..]) {
        let lf = i + off;
        if lf + 1 < n && lex::is_wsp(v[lf + 1]) {
            v[lf] = b' ';
            if lf > 0 && v[lf - 1] == b'\r' {
                v[lf - 1] = b' ';
            }
        }
        i = lf + 1;
    }
    let mut from = 0;
    loop {
        match std::str::from_utf8(&v[from..]) {
            Ok(_) => break,
            Err(e) => {
                *lossy = true;
                let bad = from + e.valid_up_to();
                let len = e.error_len().unwrap_or(n - bad);
                for b in &mut v[bad..bad + len] {
                    *b = b'?';
                }
                from = bad + len;
            }
        }
    }
    // Every byte is now valid UTF-8, so this conversion cannot fail; an empty string
    // stands in rather than a panic if it ever did.
    String::from_utf8(v.to_vec())
        .map(ByteString::from)
        .unwrap_or_default()
}

type ScanError = (ParseErrorKind, usize);

/// Pass 1 over the bytes of the head (`s` starts at the start line).
fn scan(
    s: &[u8],
    origin: MessageKind,
    limits: &Limits,
    headers: &mut HeaderIndex,
) -> Result<Scan, ScanError> {
    let len = s.len();
    // The start line ends at its first control byte when that is CR LF or LF (the usual
    // case, found sixteen bytes at a time); any other control byte is left to the
    // line's parser, which names the error, as is a line without one.
    let lf = match lex::find_ctl(s, 0, len) {
        c if c < len && s[c] == b'\n' => c,
        c if c + 1 < len && s[c] == b'\r' && s[c + 1] == b'\n' => c + 1,
        _ => memchr::memchr(b'\n', s).ok_or((ParseErrorKind::UnterminatedHeaders, len))?,
    };
    let line_end = if lf > 0 && s[lf - 1] == b'\r' {
        lf - 1
    } else {
        lf
    };
    if line_end > limits.max_line_len {
        return Err((
            ParseErrorKind::LineTooLong {
                limit: limits.max_line_len,
            },
            0,
        ));
    }
    let start_line = match origin {
        MessageKind::Response => status_line(s, line_end)?,
        MessageKind::Request => request_line(s, line_end)?,
    };
    let mut pos = lf + 1;
    if pos < len && lex::is_wsp(s[pos]) {
        return Err((ParseErrorKind::FoldedStartLine, pos));
    }
    let mut folded = false;
    loop {
        if pos >= len {
            return Err((ParseErrorKind::UnterminatedHeaders, len));
        }
        match s[pos] {
            b'\n' => {
                pos += 1;
                break;
            }
            b'\r' => {
                if pos + 1 < len && s[pos + 1] == b'\n' {
                    pos += 2;
                    break;
                }
                return Err(if pos + 1 >= len {
                    (ParseErrorKind::UnterminatedHeaders, len)
                } else {
                    (ParseErrorKind::BareCr, pos)
                });
            }
            _ => {}
        }
        let name_start = pos;
        // The quick way: a known name right before its colon (a known name is a token).
        let (name_end, name, colon) = match lex::known_name_colon(s, pos) {
            Some((colon, name)) => (colon, name, colon),
            None => {
                let name_end = lex::skip_class(s, pos, len, &TOKEN);
                let mut p = name_end;
                while p < len && lex::is_wsp(s[p]) {
                    p += 1;
                }
                if p >= len {
                    return Err((ParseErrorKind::UnterminatedHeaders, len));
                }
                if s[p] != b':' {
                    // An empty name, or a name running straight into a byte that is
                    // neither a token character nor white space (a control byte, say),
                    // is a bad name; a name followed by anything else is a line
                    // without a colon.
                    let direct = p == name_end && s[p] != b'\r' && s[p] != b'\n';
                    let kind = if name_end == name_start || direct {
                        ParseErrorKind::BadHeaderName
                    } else {
                        ParseErrorKind::MissingColon
                    };
                    return Err((kind, p));
                }
                if name_end == name_start {
                    return Err((ParseErrorKind::BadHeaderName, name_start));
                }
                (
                    name_end,
                    HeaderName::from_token(&s[name_start..name_end]),
                    p,
                )
            }
        };
        let value_start = colon + 1;
        // Find the end of the logical line, following folded continuation lines. Control
        // bytes other than HTAB and the line break may appear only as quoted pairs.
        let mut q = value_start;
        let content_end;
        loop {
            q = lex::find_ctl(s, q, len);
            if q >= len {
                return Err((ParseErrorKind::UnterminatedHeaders, len));
            }
            // CR LF, the usual end, looked at first.
            let (ce, nl) = match s[q] {
                _ if s.get(q..q + 2) == Some(b"\r\n") => (q, q + 1),
                b'\r' if q + 1 >= len => return Err((ParseErrorKind::UnterminatedHeaders, len)),
                b'\r' => return Err((ParseErrorKind::BareCr, q)),
                b'\n' => (q, q),
                b'\t' => {
                    q += 1;
                    continue;
                }
                _ if q > value_start && s[q - 1] == b'\\' => {
                    q += 1;
                    continue;
                }
                _ => return Err((ParseErrorKind::ControlChar, q)),
            };
            if nl + 1 < len && lex::is_wsp(s[nl + 1]) {
                folded = true;
                q = nl + 1;
                continue;
            }
            content_end = ce;
            pos = nl + 1;
            break;
        }
        if content_end - name_start > limits.max_line_len {
            return Err((
                ParseErrorKind::LineTooLong {
                    limit: limits.max_line_len,
                },
                name_start,
            ));
        }
        let value = lex::trim(s, value_start, content_end);
        if headers.len() == limits.max_headers {
            return Err((
                ParseErrorKind::TooManyHeaders {
                    limit: limits.max_headers,
                },
                name_start,
            ));
        }
        headers.push(HeaderEntry {
            name,
            raw_name: Span::new(name_start, name_end),
            value,
        });
    }
    Ok(Scan {
        start_line,
        head_end: pos,
        folded,
    })
}

fn version_error(v: &[u8], at: usize) -> ScanError {
    let well_formed = v.len() > 4 && lex::eq_ic(&v[..4], b"SIP/") && {
        let rest = &v[4..];
        match rest.iter().position(|&b| b == b'.') {
            Some(d) => {
                d > 0
                    && d + 1 < rest.len()
                    && rest[..d].iter().all(u8::is_ascii_digit)
                    && rest[d + 1..].iter().all(u8::is_ascii_digit)
            }
            None => false,
        }
    };
    if well_formed {
        (ParseErrorKind::UnsupportedVersion, at)
    } else {
        (ParseErrorKind::BadVersion, at)
    }
}

fn is_sip20(v: &[u8]) -> bool {
    v.len() == 7 && lex::eq_ic(v, b"SIP/2.0")
}

fn request_line(s: &[u8], end: usize) -> Result<StartLine, ScanError> {
    let line = &s[..end];
    // The method is a token ending at the first space; anything else is sorted out by
    // the slower path below, which names the error.
    let sp1 = match lex::skip_class(line, 0, end, &TOKEN) {
        t if t > 0 && t < end && line[t] == b' ' => t,
        _ => {
            let sp1 = memchr::memchr(b' ', line).ok_or((ParseErrorKind::BadRequestLine, end))?;
            if sp1 == 0 {
                return Err((ParseErrorKind::BadRequestLine, 0));
            }
            if let Some(bad) = line[..sp1].iter().position(|&b| !TOKEN[b as usize]) {
                return Err((ParseErrorKind::BadMethod, bad));
            }
            sp1
        }
    };
    let u = sp1 + 1;
    // The URI ends at the first byte that is SP or below; when that is not SP (a
    // control byte, or the end), the first SP, if any, is where it ends.
    let sp2 = match lex::find_space_or_ctl(line, u, end) {
        c if c < end && line[c] == b' ' => c,
        _ => memchr::memchr(b' ', &line[u..])
            .map(|o| u + o)
            .ok_or((ParseErrorKind::BadRequestLine, end))?,
    };
    if sp2 == u {
        return Err((ParseErrorKind::BadRequestLine, u));
    }
    let v = &line[sp2 + 1..];
    if !is_sip20(v) {
        return Err(version_error(v, sp2 + 1));
    }
    Ok(StartLine::Request {
        method: Span::new(0, sp1),
        uri: Span::new(u, sp2),
    })
}

fn status_line(s: &[u8], end: usize) -> Result<StartLine, ScanError> {
    let line = &s[..end];
    // `SIP/2.0 ` is the usual start; anything else is looked at more slowly.
    let sp1 = if line.len() > 7 && line[7] == b' ' && is_sip20(&line[..7]) {
        7
    } else {
        let sp1 = memchr::memchr(b' ', line).ok_or((ParseErrorKind::BadStatusLine, end))?;
        if !is_sip20(&line[..sp1]) {
            return Err(version_error(&line[..sp1], 0));
        }
        sp1
    };
    let c = sp1 + 1;
    let digits = line[c..].iter().take_while(|b| b.is_ascii_digit()).count();
    let after = c + digits;
    if digits != 3 || (after < end && line[after] != b' ') {
        return Err((ParseErrorKind::BadStatusCode, c));
    }
    let code = u16::from(line[c] - b'0') * 100
        + u16::from(line[c + 1] - b'0') * 10
        + u16::from(line[c + 2] - b'0');
    let status = StatusCode::new(code).ok_or((ParseErrorKind::BadStatusCode, c))?;
    let reason_start = (after + 1).min(end);
    Ok(StartLine::Response {
        status,
        reason: Span::new(reason_start, end),
    })
}

fn bad(name: HeaderName) -> impl Fn(SyntaxError) -> ScanError {
    move |error| (ParseErrorKind::BadHeader { name, error }, error.offset)
}

/// Decodes one single-valued header with `f`, which writes its data into `out` and
/// returns the end position; checks that nothing but white space follows and that a
/// repeated header has the same text as the first (`seen`, where that one's value is).
fn single_into<T>(
    seen: &mut Option<Span>,
    out: &mut T,
    hb: &[u8],
    e: &HeaderEntry,
    f: impl FnOnce(&[u8], usize, usize, &mut T) -> Result<usize, SyntaxError>,
) -> Result<(), ScanError> {
    if let Some(prev) = *seen {
        if hb[prev.start()..prev.end()] == hb[e.value.start()..e.value.end()] {
            return Ok(());
        }
        return Err((ParseErrorKind::DuplicateHeader(e.name), e.raw_name.start()));
    }
    let end = f(hb, e.value.start(), e.value.end(), out).map_err(bad(e.name))?;
    let rest = lex::skip_lws(hb, end, e.value.end());
    if rest != e.value.end() {
        return Err(bad(e.name)(SyntaxError::new(
            SyntaxErrorKind::TrailingData,
            rest,
        )));
    }
    *seen = Some(e.value);
    Ok(())
}

/// Pass 3: decodes the essential headers.
fn decode_core(hb: &[u8], headers: &[HeaderEntry], limits: &Limits) -> Result<Core, ScanError> {
    // Each decoded value is kept apart from the marker of where its header was seen:
    // wrapped together in an `Option` they were copied field by field on every move
    // (about 90 instructions per message for the top Via alone).
    let mut top_via = ViaData::default();
    let mut top_via_entry = 0u32;
    let mut via_count = 0usize;
    let mut first_contact: Option<(NameAddrData, u32)> = None;
    let mut contact_count = 0u32;
    let mut from_seen: Option<Span> = None;
    let mut from = NameAddrData::default();
    let mut to_seen: Option<Span> = None;
    let mut to = NameAddrData::default();
    let mut call_id_seen: Option<Span> = None;
    let mut call_id = Span::default();
    let mut cseq_seen: Option<Span> = None;
    let mut cseq = (0u32, Span::default());
    let mut max_forwards_seen: Option<Span> = None;
    let mut max_forwards = 0u64;
    let mut content_length_seen: Option<Span> = None;
    let mut content_length = 0u64;
    let mut contact_star = false;
    let mut first_auth_entry = u32::MAX;
    for (i, e) in headers.iter().enumerate() {
        match e.name {
            HeaderName::Via => {
                let mut p = e.value.start();
                let end = e.value.end();
                loop {
                    // The top Via is decoded where it is kept; the others only checked.
                    let ve = if via_count == 0 {
                        top_via_entry = i as u32;
                        parse_via_into(hb, p, end, &mut top_via)
                    } else {
                        parse_via(hb, p, end).map(|(_, ve)| ve)
                    }
                    .map_err(bad(HeaderName::Via))?;
                    via_count += 1;
                    if via_count > limits.max_vias {
                        return Err((
                            ParseErrorKind::TooManyVias {
                                limit: limits.max_vias,
                            },
                            p,
                        ));
                    }
                    let q = lex::skip_lws(hb, ve, end);
                    if q >= end {
                        break;
                    }
                    if hb[q] != b',' {
                        return Err(bad(HeaderName::Via)(SyntaxError::new(
                            SyntaxErrorKind::TrailingData,
                            q,
                        )));
                    }
                    p = q + 1;
                }
            }
            HeaderName::From => single_into(&mut from_seen, &mut from, hb, e, |s, a, b, out| {
                parse_name_addr_into(s, a, b, false, out)
            })?,
            HeaderName::To => single_into(&mut to_seen, &mut to, hb, e, |s, a, b, out| {
                parse_name_addr_into(s, a, b, false, out)
            })?,
            HeaderName::CallId => {
                single_into(&mut call_id_seen, &mut call_id, hb, e, |s, a, b, out| {
                    let p = lex::skip_lws(s, a, b);
                    let end = crate::headers::parse_call_id_at(s, p, b)?;
                    *out = Span::new(p, end);
                    Ok(end)
                })?
            }
            HeaderName::CSeq => single_into(&mut cseq_seen, &mut cseq, hb, e, |s, a, b, out| {
                let (n, m, me) = crate::headers::parse_cseq_at(s, a, b)?;
                *out = (n, Span::new(m, me));
                Ok(me)
            })?,
            HeaderName::MaxForwards => single_into(
                &mut max_forwards_seen,
                &mut max_forwards,
                hb,
                e,
                |s, a, b, out| {
                    number_at_most(s, a, b, 255).map(|(v, end)| {
                        *out = v;
                        end
                    })
                },
            )?,
            HeaderName::ContentLength => single_into(
                &mut content_length_seen,
                &mut content_length,
                hb,
                e,
                |s, a, b, out| {
                    number_at_most(s, a, b, u64::from(u32::MAX)).map(|(v, end)| {
                        *out = v;
                        end
                    })
                },
            )?,
            HeaderName::Contact => {
                let mut p = e.value.start();
                let end = e.value.end();
                if hb[p..end] == *b"*" {
                    contact_star = true;
                    continue;
                }
                loop {
                    // The first Contact is decoded where it is kept; the others only
                    // checked.
                    let ce = if first_contact.is_none() {
                        let (d, _) = first_contact.insert((NameAddrData::default(), i as u32));
                        parse_name_addr_into(hb, p, end, false, d)
                    } else {
                        parse_name_addr(hb, p, end, false).map(|(_, ce)| ce)
                    }
                    .map_err(bad(HeaderName::Contact))?;
                    contact_count = contact_count.saturating_add(1);
                    let q = lex::skip_lws(hb, ce, end);
                    if q >= end {
                        break;
                    }
                    if hb[q] != b',' {
                        return Err(bad(HeaderName::Contact)(SyntaxError::new(
                            SyntaxErrorKind::TrailingData,
                            q,
                        )));
                    }
                    p = q + 1;
                }
            }
            HeaderName::WwwAuthenticate
            | HeaderName::ProxyAuthenticate
            | HeaderName::Authorization
            | HeaderName::ProxyAuthorization => {
                first_auth_entry = first_auth_entry.min(i as u32);
            }
            _ => {}
        }
    }
    let missing = |name| (ParseErrorKind::MissingHeader(name), hb.len());
    if via_count == 0 {
        return Err(missing(HeaderName::Via));
    }
    from_seen.ok_or_else(|| missing(HeaderName::From))?;
    to_seen.ok_or_else(|| missing(HeaderName::To))?;
    call_id_seen.ok_or_else(|| missing(HeaderName::CallId))?;
    cseq_seen.ok_or_else(|| missing(HeaderName::CSeq))?;
    let (cseq_seq, cseq_method_span) = cseq;
    Ok(Core {
        top_via,
        top_via_entry,
        via_count: via_count as u32,
        first_contact,
        contact_count,
        from,
        to,
        call_id,
        cseq_seq,
        // Filled in once the head is text.
        cseq_method: Method::Invite,
        cseq_method_span,
        max_forwards: max_forwards_seen.map(|_| max_forwards as u8),
        content_length: content_length_seen.map(|_| content_length as u32),
        contact_star,
        first_auth_entry,
        lossy: false,
    })
}
