//! What the transaction layer tells its user.

use sip_message::{Request, Response};

use crate::peer::Peer;

/// Identifies a transaction while it lives.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TxId(pub u64);

/// What the transaction layer tells the transaction user.
#[derive(Debug)]
pub enum TxEvent {
    /// A response for a client transaction.
    Response {
        /// The transaction.
        id: TxId,
        /// The response.
        response: Response,
    },
    /// A client transaction got no final response in time (timer B or F, or the
    /// INVITE proceeding timeout).
    Timeout {
        /// The transaction.
        id: TxId,
    },
    /// Sending for a transaction failed; it is over.
    TransportError {
        /// The transaction.
        id: TxId,
    },
    /// A new request, with its server transaction.
    Request {
        /// The server transaction to respond on.
        id: TxId,
        /// The request.
        request: Request,
        /// Where it came from (and where responses go).
        peer: Peer,
    },
    /// An ACK that belongs to no server transaction: the ACK for a 2xx, for the
    /// dialog layer.
    Ack {
        /// The ACK.
        request: Request,
        /// Where it came from.
        peer: Peer,
    },
    /// A response matching no client transaction (a 2xx retransmitted after Timer M,
    /// or a forked 2xx): the UA acknowledges and ends such dialogs.
    StrayResponse {
        /// The response.
        response: Response,
    },
    /// A server INVITE transaction sent a non-2xx final response and no ACK came
    /// (Timer H).
    AckTimeout {
        /// The transaction.
        id: TxId,
    },
    /// A transaction ended.
    Terminated {
        /// The transaction.
        id: TxId,
    },
}
