//! Where responses go (RFC 3261 §18.2.2, RFC 3581 §4).

use crate::event::{Destination, Incoming};

/// Where to send a response to the request `req`:
/// - on a stream, the connection it came on; if that is gone, a new connection to the
///   address in the top Via (`received`, sent-by port);
/// - on UDP with `rport` in the top Via, the source address and port (symmetric
///   response, through NATs);
/// - on UDP otherwise, the `received` address (the source address) and the sent-by
///   port (5060 when absent).
pub fn reply_destination(req: &Incoming) -> Destination {
    let via = req.message.top_via();
    let addr = sip_nat::response_address(&via, req.source, req.mode);
    let to_addr = Destination::Addr {
        mode: req.mode,
        addr,
        tls_name: None,
    };
    match req.connection {
        Some(id) if req.mode.is_stream() => Destination::Connection {
            id,
            fallback: Some(Box::new(to_addr)),
        },
        _ => to_addr,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::ConnectionId;
    use sip_message::Message;
    use sip_message::TransportMode;

    fn incoming(via: &str, mode: TransportMode, conn: Option<ConnectionId>) -> Incoming {
        let raw = format!(
            "OPTIONS sip:b@h SIP/2.0\r\nVia: {via}\r\nFrom: <sip:a@h>;tag=1\r\nTo: <sip:b@h>\r\nCall-ID: c\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n"
        );
        Incoming {
            message: Message::parse(raw.into_bytes()).unwrap(),
            source: "203.0.113.7:41000".parse().unwrap(),
            local: "192.0.2.1:5060".parse().unwrap(),
            mode,
            connection: conn,
        }
    }

    #[test]
    fn rules() {
        let d = reply_destination(&incoming(
            "SIP/2.0/UDP 10.0.0.5:5062;branch=z9hG4bK1;rport",
            TransportMode::Udp,
            None,
        ));
        assert_eq!(
            d,
            Destination::Addr {
                mode: TransportMode::Udp,
                addr: "203.0.113.7:41000".parse().unwrap(),
                tls_name: None
            }
        );
        let d = reply_destination(&incoming(
            "SIP/2.0/UDP 10.0.0.5:5062;branch=z9hG4bK1",
            TransportMode::Udp,
            None,
        ));
        assert_eq!(
            d,
            Destination::Addr {
                mode: TransportMode::Udp,
                addr: "203.0.113.7:5062".parse().unwrap(),
                tls_name: None
            }
        );
        let d = reply_destination(&incoming(
            "SIP/2.0/TCP 10.0.0.5;branch=z9hG4bK1",
            TransportMode::Tcp,
            Some(ConnectionId(4)),
        ));
        match d {
            Destination::Connection { id, fallback } => {
                assert_eq!(id, ConnectionId(4));
                assert_eq!(
                    *fallback.unwrap(),
                    Destination::Addr {
                        mode: TransportMode::Tcp,
                        addr: "203.0.113.7:5060".parse().unwrap(),
                        tls_name: None
                    }
                );
            }
            other => panic!("{other:?}"),
        }
    }
}
