//! The transaction layer (RFC 3261 §17, RFC 6026), sans-IO.
//!
//! Client transactions retransmit over unreliable transports (timers A and E), give up
//! (B, F), absorb retransmitted final responses (D, K, M) and acknowledge non-2xx
//! final responses to INVITE themselves. Server transactions absorb retransmitted
//! requests by answering them with the last response, retransmit non-2xx final
//! responses to INVITE until the ACK (G, H), and linger to absorb late requests (I, J,
//! L). Every transaction ends: there is a timer in every state but Terminated.
//!
//! Matching follows §17.1.3 (branch and CSeq method) for responses and §17.2.3
//! (branch, sent-by, method; ACK matches its INVITE) for requests, with the RFC 2543
//! fallback for requests without the magic cookie.
//!
//! The transport of a request is decided here, where its transaction is made: a UDP
//! request larger than the threshold (1300 bytes, §18.1.1) goes over TCP with its top
//! Via saying so, and its timers are those of a reliable transport.
//!
//! A server INVITE transaction lives as long as its transaction user lets the INVITE
//! ring: it ends when the TU answers it finally or calls
//! [`TransactionLayer::terminate`]. A client INVITE transaction waiting after a
//! provisional response ends only when its TU says so, unless it was started with a
//! proceeding limit.

mod client;
pub(crate) mod event;
mod matching;
mod server;

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap, VecDeque};
use std::time::Instant;

use bytes::Bytes;
use sip_message::headers::BRANCH_MAGIC_COOKIE;
use sip_message::{Message, MessageBuilder, Method, Request, Response, StatusCode};

pub use client::ClientState;
use client::{ClientAction, ClientTx};
pub use event::TxEvent;
use matching::{ServerKey, cancelled_key, choose_transport, server_key};
pub use server::ServerState;
use server::{ServerAction, ServerTx};

use crate::machine::{Input, Machine, Output, Transmit};
use crate::peer::Peer;
use crate::timers::TimerConfig;

pub use event::TxId;

/// What the layer produces: transmits and [`TxEvent`]s.
pub type TxOutput = Output<TxEvent>;

/// Gives back the memory of a map that grew for a burst and is now mostly empty, so
/// what a client holds follows what it does now, not its busiest moment.
pub(crate) fn shrink_map<K: std::hash::Hash + Eq, V>(map: &mut HashMap<K, V>) {
    if map.capacity() > 64 && map.len() * 4 < map.capacity() {
        map.shrink_to(map.len() * 2);
    }
}

/// The same for a drained queue.
pub(crate) fn shrink_queue<T>(q: &mut VecDeque<T>) {
    if q.is_empty() && q.capacity() > 64 {
        q.shrink_to(16);
    }
}

/// Errors the TU can get from the layer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TxError {
    /// No such transaction (it ended).
    #[error("no transaction {0:?}")]
    NoTransaction(TxId),
    /// The transaction is past the point where this response can be sent.
    #[error("transaction {0:?} cannot send this response now")]
    WrongState(TxId),
    /// The request has no RFC 3261 branch in its top Via.
    #[error("the request has no branch in its top Via")]
    NoBranch,
    /// A message built by the TU does not parse.
    #[error("the message built does not parse: {0}")]
    Unparsable(sip_message::ParseError),
    /// A response was expected.
    #[error("a request was given where a response was expected")]
    NotAResponse,
    /// A request was expected.
    #[error("a response was given where a request was expected")]
    NotARequest,
}

struct ServerEntry {
    tx: ServerTx,
    key: ServerKey,
    /// Its key among requests without a To tag (RFC 3261 §8.2.2.2), if it has one.
    merge: Option<MergeKey>,
    trying: Option<Bytes>,
}

/// What identifies a request without a To tag whatever path it took (RFC 3261
/// §8.2.2.2): Call-ID, From tag, CSeq number and method.
type MergeKey = (String, String, u32, Method);

/// All transactions of one endpoint.
pub struct TransactionLayer {
    timers: TimerConfig,
    clients: HashMap<TxId, Box<ClientTx>>,
    client_keys: HashMap<(String, Method), TxId>,
    servers: HashMap<TxId, ServerEntry>,
    server_keys: HashMap<ServerKey, TxId>,
    /// The first live server transaction of each request without a To tag.
    merge_keys: HashMap<MergeKey, TxId>,
    out: VecDeque<TxOutput>,
    next: u64,
    /// Deadlines, earliest first. An entry may be stale (its transaction ended or
    /// moved its deadline); stale entries are dropped when they come up, so
    /// `poll_timeout` and `handle_timeout` cost O(log n), not a scan of every
    /// transaction.
    due: BinaryHeap<Reverse<(Instant, TxId)>>,
    /// UDP requests larger than this go over TCP (RFC 3261 §18.1.1); `None` never.
    udp_threshold: Option<usize>,
}

/// The size above which a UDP request moves to TCP when the path MTU is unknown
/// (RFC 3261 §18.1.1).
pub const UDP_SIZE_THRESHOLD: usize = 1300;

impl TransactionLayer {
    /// An empty layer.
    pub fn new(timers: TimerConfig) -> TransactionLayer {
        TransactionLayer {
            timers,
            clients: HashMap::new(),
            client_keys: HashMap::new(),
            servers: HashMap::new(),
            server_keys: HashMap::new(),
            merge_keys: HashMap::new(),
            out: VecDeque::new(),
            next: 1,
            due: BinaryHeap::new(),
            udp_threshold: Some(UDP_SIZE_THRESHOLD),
        }
    }

    /// Sets the size above which UDP requests go over TCP (`None`: never, for peers
    /// that take no TCP).
    pub fn set_udp_threshold(&mut self, threshold: Option<usize>) {
        self.udp_threshold = threshold;
    }

    /// The timer configuration.
    pub fn timers(&self) -> &TimerConfig {
        &self.timers
    }

    fn id(&mut self) -> TxId {
        let id = TxId(self.next);
        self.next += 1;
        id
    }

    /// How many transactions are alive (client, server).
    pub fn counts(&self) -> (usize, usize) {
        (self.clients.len(), self.servers.len())
    }

    /// The state of a client transaction.
    pub fn client_state(&self, id: TxId) -> Option<ClientState> {
        self.clients.get(&id).map(|c| c.state)
    }

    /// The state of a server transaction.
    pub fn server_state(&self, id: TxId) -> Option<ServerState> {
        self.servers.get(&id).map(|s| s.tx.state)
    }

    /// The request of a client transaction.
    pub fn client_request(&self, id: TxId) -> Option<&Request> {
        self.clients.get(&id).map(|c| c.request())
    }

    /// The peer of a client transaction.
    pub fn client_peer(&self, id: TxId) -> Option<&Peer> {
        self.clients.get(&id).map(|c| &c.peer)
    }

    /// Starts a client transaction for `request` (already carrying its branch) and
    /// sends it. An ACK is not a transaction: send it with [`TransactionLayer::send_raw`].
    /// A client INVITE transaction that got a provisional response waits
    /// [`TimerConfig::invite_proceeding_timeout`] for the final one.
    pub fn send_request(
        &mut self,
        request: Request,
        peer: Peer,
        now: Instant,
    ) -> Result<TxId, TxError> {
        let limit = Some(self.timers.invite_proceeding_timeout);
        self.send_invite(request, peer, limit, now)
    }

    /// [`TransactionLayer::send_request`] with the proceeding limit of an INVITE
    /// chosen by the TU: `None` waits for the final response until the TU ends the
    /// transaction ([`TransactionLayer::terminate`]), which a call does after its
    /// CANCEL went unanswered for 64·T1 (RFC 3261 §9.1).
    pub fn send_invite(
        &mut self,
        request: Request,
        peer: Peer,
        proceeding_limit: Option<std::time::Duration>,
        now: Instant,
    ) -> Result<TxId, TxError> {
        let branch = request
            .top_via()
            .branch()
            .filter(|b| b.starts_with(BRANCH_MAGIC_COOKIE))
            .ok_or(TxError::NoBranch)?
            .to_string();
        let (request, peer) = choose_transport(self.udp_threshold, request, peer)?;
        let method = request.method().clone();
        let wire = request.to_bytes();
        let id = self.id();
        let (tx, first) = ClientTx::start(request, wire, peer, self.timers, proceeding_limit, now);
        self.client_keys.insert((branch, method), id);
        self.clients.insert(id, Box::new(tx));
        self.client_actions(id, vec![first]);
        Ok(id)
    }

    /// Ends a transaction because its TU gave up on it (a client INVITE after an
    /// unanswered CANCEL, a server INVITE the TU will not answer): no more
    /// retransmissions, no event but [`TxEvent::Terminated`].
    pub fn terminate(&mut self, id: TxId) {
        if let Some(c) = self.clients.get_mut(&id) {
            c.on_transport_error();
            self.reap_client(id);
        } else if let Some(s) = self.servers.get_mut(&id) {
            s.tx.on_transport_error();
            self.reap_server(id);
        }
    }

    /// The server INVITE transaction a CANCEL is for (RFC 3261 §9.2: the same
    /// branch and sent-by, or for RFC 2543 requests the same Call-ID, From tag,
    /// CSeq number, Request-URI and top Via), if it still lives.
    pub fn invite_for_cancel(&self, cancel: &Request) -> Option<TxId> {
        self.server_keys.get(&cancelled_key(cancel)).copied()
    }

    /// Whether `request`, which arrived on server transaction `id`, is a merged
    /// request (RFC 3261 §8.2.2.2): no To tag, and the Call-ID, From tag, CSeq and
    /// method of a request another live server transaction has (it forked and
    /// came back by another path). The TU answers it 482.
    pub fn is_merged(&self, id: TxId, request: &Request) -> bool {
        merge_key(request)
            .and_then(|m| self.merge_keys.get(&m))
            .is_some_and(|first| *first != id)
    }

    /// Where a server transaction's responses go.
    pub fn server_peer(&self, id: TxId) -> Option<&Peer> {
        self.servers.get(&id).map(|s| &s.tx.peer)
    }

    /// Sends bytes outside any transaction (an ACK for a 2xx, a stateless response).
    pub fn send_raw(&mut self, peer: Peer, bytes: Bytes) {
        self.out.push_back(Output::Transmit(Transmit {
            peer,
            bytes,
            tx: None,
        }));
    }

    /// The deadline transaction `id` has now, if it lives.
    fn deadline_of(&self, id: TxId) -> Option<Instant> {
        match self.clients.get(&id) {
            Some(c) => c.deadline(),
            None => self.servers.get(&id).and_then(|s| s.tx.deadline()),
        }
    }

    /// Records transaction `id`'s current deadline in the timer heap.
    fn schedule(&mut self, id: TxId) {
        if let Some(d) = self.deadline_of(id) {
            self.due.push(Reverse((d, id)));
        }
    }

    fn client_actions(&mut self, id: TxId, actions: Vec<ClientAction>) {
        let Some(peer) = self.clients.get(&id).map(|c| c.peer.clone()) else {
            return;
        };
        for a in actions {
            self.out.push_back(match a {
                ClientAction::Send(bytes) => Output::Transmit(Transmit {
                    peer: peer.clone(),
                    bytes,
                    tx: Some(id),
                }),
                ClientAction::Deliver(response) => {
                    Output::Event(TxEvent::Response { id, response })
                }
                ClientAction::Timeout => Output::Event(TxEvent::Timeout { id }),
            });
        }
        self.schedule(id);
        self.reap_client(id);
    }

    fn reap_client(&mut self, id: TxId) {
        if self
            .clients
            .get(&id)
            .is_some_and(|c| c.state == ClientState::Terminated)
            && let Some(c) = self.clients.remove(&id)
        {
            shrink_map(&mut self.clients);
            shrink_map(&mut self.client_keys);
            let branch = c.request.top_via().branch().unwrap_or_default().to_string();
            self.client_keys
                .remove(&(branch, c.request.method().clone()));
            self.out
                .push_back(Output::Event(TxEvent::Terminated { id }));
        }
    }

    fn server_actions(&mut self, id: TxId, actions: Vec<ServerAction>) {
        let Some(peer) = self.servers.get(&id).map(|s| s.tx.peer.clone()) else {
            return;
        };
        for a in actions {
            self.out.push_back(match a {
                ServerAction::Send(bytes) => Output::Transmit(Transmit {
                    peer: peer.clone(),
                    bytes,
                    tx: Some(id),
                }),
                ServerAction::AckTimeout => Output::Event(TxEvent::AckTimeout { id }),
            });
        }
        self.schedule(id);
        self.reap_server(id);
    }

    fn reap_server(&mut self, id: TxId) {
        if self
            .servers
            .get(&id)
            .is_some_and(|s| s.tx.state == ServerState::Terminated)
            && let Some(s) = self.servers.remove(&id)
        {
            shrink_map(&mut self.servers);
            shrink_map(&mut self.server_keys);
            shrink_map(&mut self.merge_keys);
            self.server_keys.remove(&s.key);
            if let Some(m) = s.merge
                && self.merge_keys.get(&m) == Some(&id)
            {
                self.merge_keys.remove(&m);
            }
            self.out
                .push_back(Output::Event(TxEvent::Terminated { id }));
        }
    }

    /// A response arrived.
    pub fn on_response(&mut self, response: Response, now: Instant) {
        let branch = response.top_via().branch().unwrap_or_default().to_string();
        let key = (branch, response.cseq_method().clone());
        match self.client_keys.get(&key).copied() {
            Some(id) => {
                let actions = match self.clients.get_mut(&id) {
                    Some(c) => c.on_response(response, now),
                    None => return,
                };
                self.client_actions(id, actions);
            }
            None => self
                .out
                .push_back(Output::Event(TxEvent::StrayResponse { response })),
        }
    }

    /// A request arrived from `peer` (whose address is the packet's source). Responses
    /// go back on the same connection for streams, and to `received`/`rport` for UDP.
    pub fn on_request(&mut self, request: Request, peer: Peer, now: Instant) {
        let key = server_key(&request);
        let existing = self.server_keys.get(&key).copied();
        if *request.method() == Method::Ack {
            match existing {
                Some(id)
                    if self.servers.get(&id).is_some_and(|s| {
                        s.tx.state == ServerState::Completed || s.tx.state == ServerState::Confirmed
                    }) =>
                {
                    if let Some(s) = self.servers.get_mut(&id) {
                        s.tx.on_ack(now);
                    }
                    self.schedule(id);
                    self.reap_server(id);
                }
                _ => self
                    .out
                    .push_back(Output::Event(TxEvent::Ack { request, peer })),
            }
            return;
        }
        if let Some(id) = existing {
            let action = self
                .servers
                .get_mut(&id)
                .and_then(|s| s.tx.on_retransmission());
            if let Some(a) = action {
                self.server_actions(id, vec![a]);
            }
            return;
        }
        let reply = peer.reply_to(&request.top_via());
        let invite = *request.method() == Method::Invite;
        let trying = invite.then(|| {
            MessageBuilder::response_to(&request, StatusCode::TRYING, None)
                .finish()
                .freeze()
        });
        let id = self.id();
        let merge = merge_key(&request);
        if let Some(m) = &merge {
            self.merge_keys.entry(m.clone()).or_insert(id);
        }
        self.servers.insert(
            id,
            ServerEntry {
                tx: ServerTx::new(invite, reply, self.timers, now),
                key: key.clone(),
                merge,
                trying,
            },
        );
        self.server_keys.insert(key, id);
        self.schedule(id);
        self.out
            .push_back(Output::Event(TxEvent::Request { id, request, peer }));
    }

    /// The TU answers a server transaction.
    pub fn respond(&mut self, id: TxId, response: Bytes, now: Instant) -> Result<(), TxError> {
        let code = match Message::parse(response.clone()) {
            Ok(Message::Response(r)) => r.status().as_u16(),
            Ok(_) => return Err(TxError::NotAResponse),
            Err(e) => return Err(TxError::Unparsable(e)),
        };
        self.respond_status(id, code, response, now)
    }

    /// [`TransactionLayer::respond`] for a response the TU has already read: `code`
    /// is its status.
    pub fn respond_status(
        &mut self,
        id: TxId,
        code: u16,
        response: Bytes,
        now: Instant,
    ) -> Result<(), TxError> {
        let entry = self
            .servers
            .get_mut(&id)
            .ok_or(TxError::NoTransaction(id))?;
        let action = entry
            .tx
            .respond(code, response, now)
            .ok_or(TxError::WrongState(id))?;
        self.server_actions(id, vec![action]);
        Ok(())
    }

    /// Sending for a transaction failed.
    pub fn on_transport_error(&mut self, id: TxId) {
        if let Some(c) = self.clients.get_mut(&id) {
            c.on_transport_error();
            self.out
                .push_back(Output::Event(TxEvent::TransportError { id }));
            self.reap_client(id);
        } else if let Some(s) = self.servers.get_mut(&id) {
            s.tx.on_transport_error();
            self.out
                .push_back(Output::Event(TxEvent::TransportError { id }));
            self.reap_server(id);
        }
    }

    /// The next instant a transaction needs attention (possibly a little early:
    /// a deadline that moved later leaves its old entry until it comes up).
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.due.peek().map(|Reverse((d, _))| *d)
    }

    /// Runs every timer due by `now`.
    pub fn handle_timeout(&mut self, now: Instant) {
        while let Some(Reverse((d, id))) = self.due.peek().copied() {
            if d > now {
                break;
            }
            self.due.pop();
            // Stale entries (ended transactions, moved deadlines) fall through here.
            if self.deadline_of(id).is_none_or(|cur| cur > now) {
                continue;
            }
            if self.clients.contains_key(&id) {
                // Several timers may have passed: run them in order.
                while let Some(c) = self.clients.get_mut(&id) {
                    if c.deadline().is_none_or(|d| d > now) {
                        break;
                    }
                    let actions = c.on_timer(now);
                    let ended = c.state == ClientState::Terminated;
                    self.client_actions(id, actions);
                    if ended {
                        break;
                    }
                }
            } else {
                while let Some(s) = self.servers.get_mut(&id) {
                    if s.tx.deadline().is_none_or(|d| d > now) {
                        break;
                    }
                    let trying = s.trying.clone();
                    let actions = s.tx.on_timer(now, || trying.unwrap_or_default());
                    let ended = s.tx.state == ServerState::Terminated;
                    self.server_actions(id, actions);
                    if ended {
                        break;
                    }
                }
            }
        }
        if self.due.capacity() > 64 && self.due.len() * 4 < self.due.capacity() {
            self.due.shrink_to(self.due.len() * 2);
        }
    }

    /// The next output.
    pub fn poll_output(&mut self) -> Option<TxOutput> {
        let o = self.out.pop_front();
        if o.is_none() {
            shrink_queue(&mut self.out);
        }
        o
    }
}

/// The merge key of a request without a To tag.
fn merge_key(request: &Request) -> Option<MergeKey> {
    if request.to_tag().is_some() {
        return None;
    }
    Some((
        request.call_id().to_string(),
        request.from_tag()?.to_string(),
        request.cseq_seq(),
        request.method().clone(),
    ))
}

impl Machine for TransactionLayer {
    type Input = Input;
    type Event = TxEvent;

    fn handle_input(&mut self, input: Input, now: Instant) {
        match input {
            Input::Bytes { bytes, peer } => match Message::parse(bytes.clone()) {
                Ok(m) => self.handle_input(Input::Message { message: m, peer }, now),
                Err(e) => {
                    if let Some(resp) = sip_message::error_response(&bytes, &e) {
                        self.send_raw(peer, resp);
                    }
                }
            },
            Input::Message { message, peer } => match message {
                Message::Request(r) => self.on_request(r, peer, now),
                Message::Response(r) => self.on_response(r, now),
            },
            Input::TransportError { tx } => self.on_transport_error(tx),
        }
    }

    fn poll_output(&mut self) -> Option<TxOutput> {
        TransactionLayer::poll_output(self)
    }

    fn poll_timeout(&self) -> Option<Instant> {
        TransactionLayer::poll_timeout(self)
    }

    fn handle_timeout(&mut self, now: Instant) {
        TransactionLayer::handle_timeout(self, now)
    }
}
