//! The transport a message travels on: its Via token, its URI parameter, and what a
//! URI asks for.

use std::fmt;

use crate::uri::{Scheme, Uri};

/// UDP, TCP or TLS, as pyVoIP's `TransportMode`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TransportMode {
    /// UDP datagrams.
    Udp,
    /// A TCP stream.
    Tcp,
    /// TLS over TCP.
    Tls,
}

impl TransportMode {
    /// The token in a Via header (`UDP`, `TCP`, `TLS`).
    pub fn via_token(self) -> &'static str {
        match self {
            TransportMode::Udp => "UDP",
            TransportMode::Tcp => "TCP",
            TransportMode::Tls => "TLS",
        }
    }

    /// The value of a URI's `transport` parameter (`udp`, `tcp`, `tls`).
    pub fn uri_param(self) -> &'static str {
        match self {
            TransportMode::Udp => "udp",
            TransportMode::Tcp => "tcp",
            TransportMode::Tls => "tls",
        }
    }

    /// Whether the transport is reliable (no SIP retransmissions needed).
    pub fn is_reliable(self) -> bool {
        !matches!(self, TransportMode::Udp)
    }

    /// Whether messages travel on a connection.
    pub fn is_stream(self) -> bool {
        self.is_reliable()
    }

    /// The default port: 5061 for TLS, 5060 otherwise.
    pub fn default_port(self) -> u16 {
        match self {
            TransportMode::Tls => 5061,
            _ => 5060,
        }
    }

    /// Reads a Via transport token or URI parameter (case-insensitive).
    pub fn parse(token: &str) -> Option<TransportMode> {
        if token.eq_ignore_ascii_case("udp") {
            Some(TransportMode::Udp)
        } else if token.eq_ignore_ascii_case("tcp") {
            Some(TransportMode::Tcp)
        } else if token.eq_ignore_ascii_case("tls") {
            Some(TransportMode::Tls)
        } else {
            None
        }
    }

    /// The transport a URI asks for: `sips:` always TLS (RFC 3261 §26.2.2), else the
    /// `transport` parameter, else UDP.
    pub fn for_uri(uri: &Uri<'_>) -> Option<TransportMode> {
        if uri.scheme() == Scheme::Sips {
            return Some(TransportMode::Tls);
        }
        match uri.transport() {
            Some(t) => TransportMode::parse(t),
            None => Some(TransportMode::Udp),
        }
    }
}

impl fmt::Display for TransportMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.via_token())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_and_uris() {
        for m in [TransportMode::Udp, TransportMode::Tcp, TransportMode::Tls] {
            assert_eq!(TransportMode::parse(m.via_token()), Some(m));
            assert_eq!(TransportMode::parse(m.uri_param()), Some(m));
        }
        let u = Uri::parse("sips:bob@example.com;transport=tcp").unwrap();
        assert_eq!(TransportMode::for_uri(&u), Some(TransportMode::Tls));
        let u = Uri::parse("sip:bob@example.com;transport=TCP").unwrap();
        assert_eq!(TransportMode::for_uri(&u), Some(TransportMode::Tcp));
        let u = Uri::parse("sip:bob@example.com").unwrap();
        assert_eq!(TransportMode::for_uri(&u), Some(TransportMode::Udp));
        let u = Uri::parse("sip:bob@example.com;transport=sctp").unwrap();
        assert_eq!(TransportMode::for_uri(&u), None);
        assert_eq!(TransportMode::Tls.default_port(), 5061);
    }
}
