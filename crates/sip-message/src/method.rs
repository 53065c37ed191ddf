//! SIP request methods: the registered ones and extension tokens.

use bytestring::ByteString;
use std::fmt;

use crate::lex::TOKEN;

/// A SIP method. Methods are case-sensitive tokens (RFC 3261 §7.1): `invite` is an
/// extension method, not INVITE. Extension methods keep their text without copying
/// when they come from a parsed message.
#[derive(Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Method {
    /// INVITE (RFC 3261).
    Invite,
    /// ACK (RFC 3261).
    Ack,
    /// BYE (RFC 3261).
    Bye,
    /// CANCEL (RFC 3261).
    Cancel,
    /// REGISTER (RFC 3261).
    Register,
    /// OPTIONS (RFC 3261).
    Options,
    /// INFO (RFC 6086).
    Info,
    /// UPDATE (RFC 3311).
    Update,
    /// PRACK (RFC 3262).
    Prack,
    /// SUBSCRIBE (RFC 6665).
    Subscribe,
    /// NOTIFY (RFC 6665).
    Notify,
    /// REFER (RFC 3515).
    Refer,
    /// MESSAGE (RFC 3428).
    Message,
    /// PUBLISH (RFC 3903).
    Publish,
    /// Any other token.
    Extension(ByteString),
}

/// The text given to [`Method::parse`] is not a token.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid method token")]
pub struct InvalidMethod;

impl Method {
    /// Every registered method, for building `Allow` lists.
    pub const REGISTERED: [Method; 14] = [
        Method::Invite,
        Method::Ack,
        Method::Bye,
        Method::Cancel,
        Method::Register,
        Method::Options,
        Method::Info,
        Method::Update,
        Method::Prack,
        Method::Subscribe,
        Method::Notify,
        Method::Refer,
        Method::Message,
        Method::Publish,
    ];

    /// Recognises a registered method by its exact (case-sensitive) name.
    pub fn known(s: &[u8]) -> Option<Method> {
        Some(match s {
            b"INVITE" => Method::Invite,
            b"ACK" => Method::Ack,
            b"BYE" => Method::Bye,
            b"CANCEL" => Method::Cancel,
            b"REGISTER" => Method::Register,
            b"OPTIONS" => Method::Options,
            b"INFO" => Method::Info,
            b"UPDATE" => Method::Update,
            b"PRACK" => Method::Prack,
            b"SUBSCRIBE" => Method::Subscribe,
            b"NOTIFY" => Method::Notify,
            b"REFER" => Method::Refer,
            b"MESSAGE" => Method::Message,
            b"PUBLISH" => Method::Publish,
            _ => return None,
        })
    }

    /// Parses a method from text; anything that is a token but not registered becomes
    /// [`Method::Extension`] (copied into a new buffer).
    pub fn parse(s: &str) -> Result<Method, InvalidMethod> {
        if s.is_empty() || !s.bytes().all(|b| TOKEN[b as usize]) {
            return Err(InvalidMethod);
        }
        Ok(Method::known(s.as_bytes()).unwrap_or_else(|| Method::Extension(ByteString::from(s))))
    }

    /// Makes a method from a token of a validated message head; only an extension
    /// method takes a (shared, not copied) slice of the head.
    pub(crate) fn from_head(head: &ByteString, token: &str) -> Method {
        Method::known(token.as_bytes()).unwrap_or_else(|| Method::Extension(head.slice_ref(token)))
    }

    /// The method name as it is written on the wire.
    pub fn as_str(&self) -> &str {
        match self {
            Method::Invite => "INVITE",
            Method::Ack => "ACK",
            Method::Bye => "BYE",
            Method::Cancel => "CANCEL",
            Method::Register => "REGISTER",
            Method::Options => "OPTIONS",
            Method::Info => "INFO",
            Method::Update => "UPDATE",
            Method::Prack => "PRACK",
            Method::Subscribe => "SUBSCRIBE",
            Method::Notify => "NOTIFY",
            Method::Refer => "REFER",
            Method::Message => "MESSAGE",
            Method::Publish => "PUBLISH",
            Method::Extension(s) => s,
        }
    }

    /// Whether this is an extension method (not in [`Method::REGISTERED`]).
    pub fn is_extension(&self) -> bool {
        matches!(self, Method::Extension(_))
    }
}

impl PartialEq<str> for Method {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<&str> for Method {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl std::str::FromStr for Method {
    type Err = InvalidMethod;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Method::parse(s)
    }
}

impl fmt::Display for Method {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for Method {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registered_round_trip() {
        for m in Method::REGISTERED {
            assert_eq!(Method::parse(m.as_str()).unwrap(), m);
            assert!(!m.is_extension());
        }
    }

    #[test]
    fn case_sensitive_and_extensions() {
        let m = Method::parse("invite").unwrap();
        assert!(m.is_extension());
        assert_eq!(m.as_str(), "invite");
        let odd = "!interesting-Method0123456789_*+`.%indeed'~";
        assert_eq!(Method::parse(odd).unwrap().as_str(), odd);
        assert!(Method::parse("").is_err());
        assert!(Method::parse("IN VITE").is_err());
        assert!(Method::parse("RE@G").is_err());
    }
}
