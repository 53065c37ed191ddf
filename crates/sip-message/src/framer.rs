//! Cutting messages out of a TCP/TLS byte stream (RFC 3261 §18.3).
//!
//! [`StreamFramer`] is push-style, like `httparse`: the transport appends what it read
//! to a buffer and asks [`StreamFramer::poll`] what the buffer starts with: a complete
//! message of `n` bytes, CRLF keep-alives to skip (RFC 5626 §3.5.1), or not enough
//! bytes yet. The framer remembers how far it has searched, so a peer that sends one
//! byte at a time costs linear, not quadratic, work; and it refuses heads and messages
//! beyond the configured [`Limits`], so a peer cannot make the buffer grow without end.

use crate::error::{MessageKind, ParseError, ParseErrorKind, SyntaxError, SyntaxErrorKind};
use crate::header_name::HeaderName;
use crate::lex;
use crate::limits::Limits;

/// What the start of the stream buffer holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FrameStatus {
    /// Not a complete message yet: read more.
    Partial,
    /// A complete message occupies the first `n` bytes; parse it with
    /// [`crate::Framing::Stream`] and remove it from the buffer.
    Complete(usize),
    /// The first `len` bytes are CRLF keep-alives to remove. `ping` is true for a
    /// double CRLF (a ping to answer with a single CRLF pong, RFC 5626 §3.5.1); a single
    /// CRLF is a pong.
    KeepAlive {
        /// How many bytes to remove.
        len: usize,
        /// Whether this was a ping (CRLFCRLF) rather than a pong (CRLF).
        ping: bool,
    },
}

/// The push framer for one stream connection.
#[derive(Clone, Debug)]
pub struct StreamFramer {
    limits: Limits,
    /// How far the search for the end of the head got (a position at which to resume).
    scanned: usize,
    /// Where the current line started, for the line-length limit.
    line_start: usize,
    /// Head end and total length once the head has been read.
    known: Option<usize>,
    /// A lone CRLF was reported last, so one more CRLF makes a ping.
    pending_crlf: bool,
}

impl StreamFramer {
    /// A framer enforcing `limits` (message size and line length).
    pub fn new(limits: Limits) -> StreamFramer {
        StreamFramer {
            limits,
            scanned: 0,
            line_start: 0,
            known: None,
            pending_crlf: false,
        }
    }

    fn reset(&mut self) {
        self.scanned = 0;
        self.line_start = 0;
        self.known = None;
    }

    /// Looks at the buffered bytes of the stream. After `Complete(n)` or `KeepAlive`,
    /// the caller removes those bytes before the next call; after `Partial` it appends
    /// more and calls again with the whole buffer. An error means the stream cannot be
    /// framed any more: answer with [`ParseError::response`] if it says so, then close.
    pub fn poll(&mut self, buf: &[u8]) -> Result<FrameStatus, ParseError> {
        if let Some(total) = self.known {
            if buf.len() >= total {
                self.reset();
                return Ok(FrameStatus::Complete(total));
            }
            return Ok(FrameStatus::Partial);
        }
        if self.scanned == 0 && !buf.is_empty() && (buf[0] == b'\r' || buf[0] == b'\n') {
            return Ok(self.keep_alive(buf));
        }
        let origin = if buf.len() >= 4 && lex::eq_ic(&buf[..4], b"SIP/") {
            MessageKind::Response
        } else {
            MessageKind::Request
        };
        let fail = |kind, off| ParseError::new(kind, off, Some(origin));
        let Some(head_end) = self.find_head_end(buf) else {
            if buf.len() - self.line_start > self.limits.max_line_len {
                return Err(fail(
                    ParseErrorKind::LineTooLong {
                        limit: self.limits.max_line_len,
                    },
                    self.line_start,
                ));
            }
            if buf.len() > self.limits.max_message_size {
                return Err(fail(
                    ParseErrorKind::TooLarge {
                        limit: self.limits.max_message_size,
                    },
                    self.limits.max_message_size,
                ));
            }
            return Ok(FrameStatus::Partial);
        };
        self.pending_crlf = false;
        let cl = content_length(&buf[..head_end]).map_err(|(k, o)| fail(k, o))?;
        let total = head_end
            .checked_add(cl)
            .filter(|t| *t <= self.limits.max_message_size)
            .ok_or_else(|| {
                fail(
                    ParseErrorKind::TooLarge {
                        limit: self.limits.max_message_size,
                    },
                    head_end,
                )
            })?;
        if buf.len() >= total {
            self.reset();
            Ok(FrameStatus::Complete(total))
        } else {
            self.known = Some(total);
            Ok(FrameStatus::Partial)
        }
    }

    fn keep_alive(&mut self, buf: &[u8]) -> FrameStatus {
        let mut i = 0;
        let mut pairs = 0;
        loop {
            if i + 1 < buf.len() && buf[i] == b'\r' && buf[i + 1] == b'\n' {
                i += 2;
            } else if i < buf.len() && buf[i] == b'\n' {
                i += 1;
            } else {
                break;
            }
            pairs += 1;
        }
        if pairs == 0 {
            // A lone CR at the end: wait for its LF. A CR followed by anything else
            // is skipped as noise.
            if buf.len() == 1 {
                return FrameStatus::Partial;
            }
            return FrameStatus::KeepAlive {
                len: 1,
                ping: false,
            };
        }
        let ping = pairs >= 2 || self.pending_crlf;
        self.pending_crlf = !ping;
        FrameStatus::KeepAlive { len: i, ping }
    }

    /// Resumes the search for the empty line that ends the head.
    fn find_head_end(&mut self, buf: &[u8]) -> Option<usize> {
        let mut i = self.scanned;
        while let Some(o) = memchr::memchr(b'\n', &buf[i..]) {
            let lf = i + o;
            match (buf.get(lf + 1), buf.get(lf + 2)) {
                (Some(b'\n'), _) => return Some(lf + 2),
                (Some(b'\r'), Some(b'\n')) => return Some(lf + 3),
                (None, _) | (Some(b'\r'), None) => {
                    // Cannot tell yet whether an empty line follows.
                    self.scanned = lf;
                    self.line_start = lf + 1;
                    return None;
                }
                _ => {}
            }
            self.line_start = lf + 1;
            i = lf + 1;
        }
        self.scanned = buf.len();
        None
    }
}

impl crate::Message {
    /// Parses the first message of a stream buffer: skips leading keep-alive CRLFs,
    /// frames the message with [`StreamFramer`] and parses it with stream rules.
    /// Returns the message and the number of bytes it used (keep-alives included).
    /// A buffer that holds only part of a message gives an error whose
    /// [`ParseError::is_incomplete`] is true; only CRLFs give [`ParseErrorKind::Empty`].
    pub fn parse_stream(
        data: impl Into<bytes::Bytes>,
        limits: &Limits,
    ) -> Result<(crate::Message, usize), ParseError> {
        let data = data.into();
        let mut framer = StreamFramer::new(limits.clone());
        let mut at = 0;
        loop {
            match framer.poll(&data[at..])? {
                FrameStatus::KeepAlive { len, .. } => at += len,
                FrameStatus::Complete(n) => {
                    let m = crate::parse::parse_message(
                        data.slice(at..at + n),
                        limits,
                        crate::Framing::Stream,
                    )?;
                    return Ok((m, at + n));
                }
                FrameStatus::Partial => {
                    let rest = &data[at..];
                    let start = rest.iter().position(|&b| b != b'\r' && b != b'\n');
                    let Some(start) = start else {
                        return Err(ParseError::new(ParseErrorKind::Empty, data.len(), None));
                    };
                    let origin = if rest.len() - start >= 4
                        && lex::eq_ic(&rest[start..start + 4], b"SIP/")
                    {
                        MessageKind::Response
                    } else {
                        MessageKind::Request
                    };
                    return Err(ParseError::new(
                        ParseErrorKind::Incomplete,
                        data.len(),
                        Some(origin),
                    ));
                }
            }
        }
    }
}

/// Finds Content-Length in a complete head: required, one value (repeats must agree).
fn content_length(head: &[u8]) -> Result<usize, (ParseErrorKind, usize)> {
    let mut found: Option<usize> = None;
    let mut pos = match memchr::memchr(b'\n', head) {
        Some(p) => p + 1,
        None => return Err((ParseErrorKind::UnterminatedHeaders, head.len())),
    };
    while pos < head.len() {
        let nl = memchr::memchr(b'\n', &head[pos..]).map_or(head.len(), |o| pos + o);
        let line = &head[pos..nl];
        let next = nl + 1;
        if let Some(colon) = memchr::memchr(b':', line) {
            let name = lex::trim(line, 0, colon);
            let name = &line[name.start()..name.end()];
            if HeaderName::from_bytes(name) == HeaderName::ContentLength {
                let v = lex::trim(line, colon + 1, line.len());
                let value = &line[v.start()..v.end()];
                let n = lex::parse_u64(value)
                    .filter(|n| *n <= u64::from(u32::MAX))
                    .ok_or((
                        ParseErrorKind::BadHeader {
                            name: HeaderName::ContentLength,
                            error: SyntaxError::new(SyntaxErrorKind::BadNumber, pos + v.start()),
                        },
                        pos + v.start(),
                    ))? as usize;
                if found.is_some_and(|f| f != n) {
                    return Err((
                        ParseErrorKind::DuplicateHeader(HeaderName::ContentLength),
                        pos,
                    ));
                }
                found = Some(n);
            }
        }
        pos = next;
    }
    found.ok_or((ParseErrorKind::MissingContentLength, head.len()))
}

#[cfg(test)]
mod tests {
    use super::*;

    const MSG: &[u8] =
        b"OPTIONS sip:a@b SIP/2.0\r\nVia: SIP/2.0/TCP h;branch=z9hG4bK1\r\nl: 4\r\n\r\nbody";

    #[test]
    fn whole_and_split() {
        let mut f = StreamFramer::new(Limits::default());
        assert_eq!(f.poll(MSG).unwrap(), FrameStatus::Complete(MSG.len()));
        for cut in 0..MSG.len() {
            let mut f = StreamFramer::new(Limits::default());
            assert_eq!(
                f.poll(&MSG[..cut]).unwrap(),
                FrameStatus::Partial,
                "cut {cut}"
            );
            assert_eq!(f.poll(MSG).unwrap(), FrameStatus::Complete(MSG.len()));
        }
    }

    #[test]
    fn byte_at_a_time() {
        let mut f = StreamFramer::new(Limits::default());
        for n in 1..MSG.len() {
            assert_eq!(f.poll(&MSG[..n]).unwrap(), FrameStatus::Partial);
        }
        assert_eq!(f.poll(MSG).unwrap(), FrameStatus::Complete(MSG.len()));
    }

    #[test]
    fn keep_alives() {
        let mut f = StreamFramer::new(Limits::default());
        assert_eq!(
            f.poll(b"\r\n\r\nOPTIONS").unwrap(),
            FrameStatus::KeepAlive { len: 4, ping: true }
        );
        assert_eq!(
            f.poll(b"\r\n").unwrap(),
            FrameStatus::KeepAlive {
                len: 2,
                ping: false
            }
        );
        // A ping split across two reads is still a ping.
        assert_eq!(
            f.poll(b"\r\n").unwrap(),
            FrameStatus::KeepAlive { len: 2, ping: true }
        );
        assert_eq!(f.poll(b"\r").unwrap(), FrameStatus::Partial);
    }

    #[test]
    fn content_length_rules() {
        let mut f = StreamFramer::new(Limits::default());
        let e = f.poll(b"BYE sip:a SIP/2.0\r\nVia: x\r\n\r\n").unwrap_err();
        assert_eq!(e.kind(), &ParseErrorKind::MissingContentLength);
        assert_eq!(e.response().map(|s| s.as_u16()), Some(400));
        let e = StreamFramer::new(Limits::default())
            .poll(b"BYE sip:a SIP/2.0\r\nContent-Length: 1\r\nl: 2\r\n\r\n")
            .unwrap_err();
        assert_eq!(
            e.kind(),
            &ParseErrorKind::DuplicateHeader(HeaderName::ContentLength)
        );
        for bad in ["-1", "five", "+5", "18446744073709551616"] {
            let m = format!("BYE sip:a SIP/2.0\r\nContent-Length: {bad}\r\n\r\n");
            assert!(
                StreamFramer::new(Limits::default())
                    .poll(m.as_bytes())
                    .is_err()
            );
        }
    }

    #[test]
    fn limits() {
        let limits = Limits {
            max_message_size: 1000,
            max_line_len: 100,
            ..Limits::default()
        };
        let long_line = vec![b'a'; 200];
        let e = StreamFramer::new(limits.clone())
            .poll(&long_line)
            .unwrap_err();
        assert!(matches!(e.kind(), ParseErrorKind::LineTooLong { .. }));
        let big = b"BYE sip:a SIP/2.0\r\nContent-Length: 5000\r\n\r\n";
        let e = StreamFramer::new(limits).poll(big).unwrap_err();
        assert!(matches!(e.kind(), ParseErrorKind::TooLarge { .. }));
        assert_eq!(e.response().map(|s| s.as_u16()), Some(513));
    }
}
