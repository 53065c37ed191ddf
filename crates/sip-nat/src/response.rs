//! Where a response goes (RFC 3261 §18.2.2, RFC 3581 §4), for transports that are not
//! answering on the connection the request came on.

use std::net::SocketAddr;

use sip_message::TransportMode;
use sip_message::headers::{Rport, Via};

/// The address a response to a request is sent to, when not on the request's own
/// connection: with `rport` in the top Via, the source address and port (symmetric
/// response, through NATs); otherwise the source address (the `received` value) and the
/// port in the Via's sent-by (the transport's default when absent).
pub fn response_address(top_via: &Via<'_>, source: SocketAddr, mode: TransportMode) -> SocketAddr {
    match top_via.rport() {
        Some(Rport::Requested) | Some(Rport::Port(_)) if mode == TransportMode::Udp => source,
        _ => SocketAddr::new(source.ip(), top_via.port().unwrap_or(mode.default_port())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sip_message::headers::TypedHeader;

    #[test]
    fn rules() {
        let src: SocketAddr = "203.0.113.7:41000".parse().unwrap();
        let v = Via::parse("SIP/2.0/UDP 10.0.0.5:5062;branch=z9hG4bK1;rport").unwrap();
        assert_eq!(response_address(&v, src, TransportMode::Udp), src);
        let v = Via::parse("SIP/2.0/UDP 10.0.0.5:5062;branch=z9hG4bK1").unwrap();
        assert_eq!(
            response_address(&v, src, TransportMode::Udp),
            "203.0.113.7:5062".parse().unwrap()
        );
        let v = Via::parse("SIP/2.0/TLS 10.0.0.5;branch=z9hG4bK1;rport").unwrap();
        assert_eq!(
            response_address(&v, src, TransportMode::Tls),
            "203.0.113.7:5061".parse().unwrap()
        );
    }
}
