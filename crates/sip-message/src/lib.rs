//! SIP messages (RFC 3261): parsing and building requests and responses, URIs, typed
//! headers, SDP (RFC 8866), multipart bodies (RFC 5621), and stream framing.
//!
//! Sans-IO: this crate reads and writes bytes and never touches a socket or a clock.
//!
//! ```
//! use sip_message::{Message, HeaderName};
//!
//! let raw = "REGISTER sip:example.com SIP/2.0\r\n\
//!            Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK776asdhds;rport\r\n\
//!            Max-Forwards: 70\r\n\
//!            From: <sip:alice@example.com>;tag=1928301774\r\n\
//!            To: <sip:alice@example.com>\r\n\
//!            Call-ID: a84b4c76e66710\r\n\
//!            CSeq: 1 REGISTER\r\n\
//!            Contact: <sip:alice@192.0.2.1:5060>;expires=3600\r\n\
//!            Content-Length: 0\r\n\r\n";
//! let msg = Message::parse(raw.as_bytes().to_vec()).unwrap();
//! let req = msg.as_request().unwrap();
//! assert_eq!(req.method().as_str(), "REGISTER");
//! assert_eq!(req.top_via().branch(), Some("z9hG4bK776asdhds"));
//! assert_eq!(req.from_tag(), Some("1928301774"));
//! assert_eq!(req.contacts().next().unwrap().expires(), Some(3600));
//! assert_eq!(req.header(HeaderName::MaxForwards), Some("70"));
//! ```
//!
//! Parsing shares the received buffer: the head becomes a [`bytestring::ByteString`]
//! over the same storage, header values are `&str` slices of it, and typed values
//! ([`headers::Via`], [`headers::NameAddr`], ...) are views holding spans, decoded when
//! asked for. The headers every element needs (Via, From, To, Call-ID, CSeq,
//! Max-Forwards, Content-Length, Contact) are checked while parsing, so a message that
//! parses can always answer for them; a fault in one of them is a [`ParseError`] that
//! says which response a server sends ([`ParseError::response`]).

#![deny(unsafe_code)]

mod builder;
mod error;
mod framer;
mod header_name;
pub mod headers;
mod lex;
mod limits;
mod message;
mod method;
pub mod multipart;
pub mod offer_answer;
mod params;
mod parse;
pub mod random;
pub mod sdp;
mod span;
mod stateless;
pub mod status;
mod summary;
mod transport_mode;
pub mod uri;

pub use builder::{IntoHeaderName, MessageBuilder};
pub use error::{MessageKind, ParseError, ParseErrorKind, SyntaxError, SyntaxErrorKind};
pub use framer::{FrameStatus, StreamFramer};
pub use header_name::HeaderName;
pub use lex::{percent_decode, unquote, write_quoted};
pub use limits::Limits;
pub use message::{HeaderField, Message, MessageParts, Request, Response};
pub use method::{InvalidMethod, Method};
pub use params::{Param, Params};
pub use parse::Framing;
pub use random::{OsRandom, Random, SeededRandom};
pub use stateless::error_response;
pub use status::{StatusClass, StatusCode};
pub use transport_mode::TransportMode;
pub use uri::{HostKind, Scheme, Uri};
