//! Errors: [`SyntaxError`] for a single value (URI, header, SDP line) and [`ParseError`]
//! for a whole message, which also says what a server answers.

use crate::header_name::HeaderName;
use crate::status::StatusCode;
use std::fmt;

/// What is wrong in a header value, URI or parameter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum SyntaxErrorKind {
    /// Nothing where a value was required.
    Empty,
    /// Something else was found where this was expected.
    Expected(&'static str),
    /// A quoted string has no closing quote (or ends in a lone backslash).
    UnterminatedQuote,
    /// A `%` not followed by two hex digits.
    BadEscape,
    /// A number that is not digits, or is out of range.
    BadNumber,
    /// A host that is neither a host name, an IPv4 address nor a bracketed IPv6 address.
    BadHost,
    /// A port that is not a number in 1..=65535 (0 is refused too).
    BadPort,
    /// Bytes left over after a complete value.
    TrailingData,
    /// A byte that may not appear here (a control character, say).
    BadChar,
    /// A value longer than a message head may be (64 KiB).
    TooLong,
}

impl fmt::Display for SyntaxErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SyntaxErrorKind::Empty => f.write_str("empty value"),
            SyntaxErrorKind::Expected(what) => write!(f, "expected {what}"),
            SyntaxErrorKind::UnterminatedQuote => f.write_str("unterminated quoted string"),
            SyntaxErrorKind::BadEscape => f.write_str("bad %-escape"),
            SyntaxErrorKind::BadNumber => f.write_str("bad or out-of-range number"),
            SyntaxErrorKind::BadHost => f.write_str("bad host"),
            SyntaxErrorKind::BadPort => f.write_str("bad port"),
            SyntaxErrorKind::TrailingData => f.write_str("unexpected data after value"),
            SyntaxErrorKind::BadChar => f.write_str("character not allowed here"),
            SyntaxErrorKind::TooLong => f.write_str("value too long"),
        }
    }
}

/// A syntax error in one value, with the byte offset where it was found, counted from
/// the start of the text that was parsed (for values inside a message: from the start
/// of the message head).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("{kind} at byte {offset}")]
pub struct SyntaxError {
    /// What is wrong.
    pub kind: SyntaxErrorKind,
    /// Where, in bytes.
    pub offset: usize,
}

impl SyntaxError {
    pub(crate) fn new(kind: SyntaxErrorKind, offset: usize) -> SyntaxError {
        SyntaxError { kind, offset }
    }

    pub(crate) fn expected(what: &'static str, offset: usize) -> SyntaxError {
        SyntaxError::new(SyntaxErrorKind::Expected(what), offset)
    }
}

/// Whether the bytes that failed to parse were a request, a response, or could not be told.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MessageKind {
    /// A request (the start line does not begin with `SIP/`).
    Request,
    /// A response (the start line begins with `SIP/`).
    Response,
}

/// What is wrong with a message.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ParseErrorKind {
    /// No message at all: empty input or only CRLFs (a keep-alive, not an error to answer).
    Empty,
    /// A stream holds only part of a message so far; read more.
    Incomplete,
    /// The message is larger than the configured limit.
    TooLarge {
        /// The limit in bytes.
        limit: usize,
    },
    /// A header line (after unfolding) is longer than the configured limit.
    LineTooLong {
        /// The limit in bytes.
        limit: usize,
    },
    /// More header lines than the configured limit.
    TooManyHeaders {
        /// The limit.
        limit: usize,
    },
    /// More Via values than the configured limit.
    TooManyVias {
        /// The limit.
        limit: usize,
    },
    /// The request line is not `Method SP Request-URI SP SIP-Version`.
    BadRequestLine,
    /// The status line is not `SIP-Version SP Status-Code SP Reason-Phrase`.
    BadStatusLine,
    /// The method is not a token.
    BadMethod,
    /// The version is not of the form `SIP/x.y`.
    BadVersion,
    /// A well-formed version other than SIP/2.0.
    UnsupportedVersion,
    /// A status code that is not three digits in 100..=699.
    BadStatusCode,
    /// The Request-URI does not parse.
    BadRequestUri(SyntaxError),
    /// The Request-URI has a scheme we do not handle (not sip, sips or tel).
    UnsupportedUriScheme,
    /// The Request-URI carries `?headers`, which RFC 3261 §19.1.1 forbids there.
    HeadersInRequestUri,
    /// A header name that is not a token, or bytes before the colon that may not be there.
    BadHeaderName,
    /// A header line without a colon.
    MissingColon,
    /// A CR that is not followed by LF.
    BareCr,
    /// A control byte (NUL, BEL, ...) in a header outside a quoted pair.
    ControlChar,
    /// The start line is followed by a continuation line.
    FoldedStartLine,
    /// The header section does not end with an empty line.
    UnterminatedHeaders,
    /// A header every message needs is missing.
    MissingHeader(HeaderName),
    /// A header that may appear once appears with different values.
    DuplicateHeader(HeaderName),
    /// A header needed to process the message does not parse.
    BadHeader {
        /// Which header.
        name: HeaderName,
        /// What is wrong in it.
        error: SyntaxError,
    },
    /// The CSeq method differs from the request method.
    CSeqMethodMismatch,
    /// Content-Length is missing on a stream transport, where it is mandatory.
    MissingContentLength,
    /// Content-Length claims more body than there is.
    BodyTruncated {
        /// What Content-Length says.
        declared: usize,
        /// What the datagram holds.
        available: usize,
    },
}

impl fmt::Display for ParseErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use ParseErrorKind::*;
        match self {
            Empty => f.write_str("no message (empty input or keep-alive CRLFs)"),
            Incomplete => f.write_str("incomplete message"),
            TooLarge { limit } => write!(f, "message larger than {limit} bytes"),
            LineTooLong { limit } => write!(f, "header line longer than {limit} bytes"),
            TooManyHeaders { limit } => write!(f, "more than {limit} header lines"),
            TooManyVias { limit } => write!(f, "more than {limit} Via values"),
            BadRequestLine => f.write_str("malformed request line"),
            BadStatusLine => f.write_str("malformed status line"),
            BadMethod => f.write_str("method is not a token"),
            BadVersion => f.write_str("malformed SIP version"),
            UnsupportedVersion => f.write_str("unsupported SIP version"),
            BadStatusCode => f.write_str("status code is not in 100..=699"),
            BadRequestUri(e) => write!(f, "bad Request-URI: {}", e.kind),
            UnsupportedUriScheme => f.write_str("unsupported Request-URI scheme"),
            HeadersInRequestUri => f.write_str("Request-URI carries headers"),
            BadHeaderName => f.write_str("invalid header name"),
            MissingColon => f.write_str("header line without colon"),
            BareCr => f.write_str("CR not followed by LF"),
            ControlChar => f.write_str("control character in header"),
            FoldedStartLine => f.write_str("start line continued on the next line"),
            UnterminatedHeaders => f.write_str("header section not terminated by an empty line"),
            MissingHeader(h) => write!(f, "missing {h} header"),
            DuplicateHeader(h) => write!(f, "{h} header appears more than once"),
            BadHeader { name, error } => write!(f, "bad {name} header: {}", error.kind),
            CSeqMethodMismatch => f.write_str("CSeq method does not match the request method"),
            MissingContentLength => f.write_str("Content-Length missing on a stream transport"),
            BodyTruncated {
                declared,
                available,
            } => write!(
                f,
                "Content-Length {declared} larger than the {available} body bytes received"
            ),
        }
    }
}

/// A message that cannot be accepted: what is wrong, at which byte, and whether it was
/// a request (which a server answers, see [`ParseError::response`]) or a response
/// (which is dropped silently).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{kind} at byte {offset}")]
pub struct ParseError {
    kind: ParseErrorKind,
    offset: usize,
    origin: Option<MessageKind>,
    method_is_extension: bool,
}

impl ParseError {
    pub(crate) fn new(kind: ParseErrorKind, offset: usize, origin: Option<MessageKind>) -> Self {
        ParseError {
            kind,
            offset,
            origin,
            method_is_extension: false,
        }
    }

    pub(crate) fn with_extension_method(mut self, yes: bool) -> Self {
        self.method_is_extension = yes;
        self
    }

    /// What is wrong.
    pub fn kind(&self) -> &ParseErrorKind {
        &self.kind
    }

    /// The byte offset in the input where the fault was found.
    pub fn offset(&self) -> usize {
        self.offset
    }

    /// Whether the input was a request or a response, when that could be told.
    pub fn message_kind(&self) -> Option<MessageKind> {
        self.origin
    }

    /// The status a server answers to this faulty request: 400, 416, 501, 505, 513...
    /// `None` for a faulty response (dropped silently, RFC 3261 §18.1.2), for empty
    /// input and keep-alives, and for a stream that needs more bytes.
    pub fn response(&self) -> Option<StatusCode> {
        if self.origin != Some(MessageKind::Request) {
            return None;
        }
        use ParseErrorKind::*;
        Some(match self.kind {
            Empty | Incomplete => return None,
            TooLarge { .. } | LineTooLong { .. } | TooManyHeaders { .. } | TooManyVias { .. } => {
                StatusCode::MESSAGE_TOO_LARGE
            }
            UnsupportedVersion => StatusCode::VERSION_NOT_SUPPORTED,
            UnsupportedUriScheme => StatusCode::UNSUPPORTED_URI_SCHEME,
            CSeqMethodMismatch if self.method_is_extension => StatusCode::NOT_IMPLEMENTED,
            _ => StatusCode::BAD_REQUEST,
        })
    }

    /// Whether more bytes may complete the message (stream transports).
    pub fn is_incomplete(&self) -> bool {
        self.kind == ParseErrorKind::Incomplete
    }
}
