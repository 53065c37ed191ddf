//! Which transaction a message belongs to (RFC 3261 §17.2.3 and §9.2), and which
//! transport a new request takes (§18.1.1).

use sip_message::{Message, Method, Request, TransportMode};

use super::TxError;
use crate::peer::Peer;

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(crate) enum ServerKey {
    Rfc3261 {
        branch: String,
        sent_by: String,
        method: Method,
    },
    Rfc2543 {
        call_id: String,
        from_tag: String,
        cseq: u32,
        method: Method,
        request_uri: String,
        via: String,
    },
}

pub(crate) fn server_key(req: &Request) -> ServerKey {
    let via = req.top_via();
    // An ACK belongs to its INVITE's transaction.
    let method = match req.method() {
        Method::Ack => Method::Invite,
        m => m.clone(),
    };
    if via.has_rfc3261_branch() {
        ServerKey::Rfc3261 {
            branch: via.branch().unwrap_or_default().to_string(),
            sent_by: via.sent_by().to_ascii_lowercase(),
            method,
        }
    } else {
        ServerKey::Rfc2543 {
            call_id: req.call_id().to_string(),
            from_tag: req.from_tag().unwrap_or_default().to_string(),
            cseq: req.cseq_seq(),
            method,
            request_uri: req.uri().as_str().to_string(),
            via: via.as_str().to_string(),
        }
    }
}

/// The key of the INVITE transaction a CANCEL is for: the CANCEL's own key with the
/// method INVITE.
pub(crate) fn cancelled_key(cancel: &Request) -> ServerKey {
    match server_key(cancel) {
        ServerKey::Rfc3261 {
            branch, sent_by, ..
        } => ServerKey::Rfc3261 {
            branch,
            sent_by,
            method: Method::Invite,
        },
        ServerKey::Rfc2543 {
            call_id,
            from_tag,
            cseq,
            request_uri,
            via,
            ..
        } => ServerKey::Rfc2543 {
            call_id,
            from_tag,
            cseq,
            method: Method::Invite,
            request_uri,
            via,
        },
    }
}

/// RFC 3261 §18.1.1: a UDP request larger than the threshold goes over TCP, its
/// top Via naming TCP, so the transaction runs with a reliable transport's timers.
/// The CANCEL of such a request follows it (its Via is copied from the INVITE).
pub(crate) fn choose_transport(
    udp_threshold: Option<usize>,
    request: Request,
    peer: Peer,
) -> Result<(Request, Peer), TxError> {
    let over = udp_threshold.is_some_and(|t| request.head().len() + request.body().len() > t);
    if peer.mode != TransportMode::Udp || !over {
        return Ok((request, peer));
    }
    let via = request.top_via().as_str().to_string();
    let Some(rest) = via.strip_prefix("SIP/2.0/UDP") else {
        return Ok((request, peer));
    };
    let tcp_via = format!("SIP/2.0/TCP{rest}");
    let head = request.head().replacen(&via, &tcp_via, 1);
    let mut bytes = bytes::BytesMut::with_capacity(head.len() + request.body().len());
    bytes.extend_from_slice(head.as_bytes());
    bytes.extend_from_slice(request.body());
    match Message::parse(bytes.freeze()) {
        Ok(Message::Request(r)) => Ok((
            r,
            Peer {
                mode: TransportMode::Tcp,
                connection: None,
                ..peer
            },
        )),
        Ok(_) => Err(TxError::NotARequest),
        Err(e) => Err(TxError::Unparsable(e)),
    }
}
