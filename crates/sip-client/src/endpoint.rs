//! The UA core: a router over the machines that own the work. It holds the
//! transaction layer and routes each transaction event to its owner (a
//! [`Registration`], a plain request, an [`InviteSession`]), in-dialog requests,
//! ACKs and CANCELs to their call, and answers by itself what a UA answers without
//! an application (RFC 3261 §8.2: OPTIONS, 405/501, 416, 420, 481, 400, 415).

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap, VecDeque};
use std::net::SocketAddr;
use std::time::Instant;

use bytes::Bytes;
use sip_auth::{CredentialsManager, DigestClient};
use sip_message::{
    HeaderName, Message, MessageBuilder, Method, ParseError, Random, Request, Response, StatusCode,
};

use crate::answers;
use crate::call::{CallEvent, CallInput, InviteSession};
use crate::config::EndpointConfig;
use crate::context::{AccountId, CallId, Ctx, Owner, RequestId};
use crate::machine::{Input, Machine, Output, Transmit};
use crate::peer::Peer;
use crate::registration::{Registration, RegistrationConfig, RegistrationEvent, RegistrationState};
use crate::requests::{OutgoingRequest, PlainRequests, RequestError, RequestEvent};
use crate::transaction::{TransactionLayer, TxError, TxEvent, TxId, shrink_map, shrink_queue};

/// What the endpoint tells the application.
#[derive(Debug)]
#[allow(clippy::large_enum_variant)]
pub enum Event {
    /// A registration changed.
    Registration {
        /// The account.
        account: AccountId,
        /// What happened.
        event: RegistrationEvent,
    },
    /// Something happened in a call.
    Call {
        /// The call.
        call: CallId,
        /// What.
        event: CallEvent,
    },
    /// A response to a request sent with [`Endpoint::send`] (provisional and final;
    /// 401/407 answered by the endpoint are not delivered).
    Response {
        /// The request.
        id: RequestId,
        /// The response.
        response: Response,
    },
    /// A request sent with [`Endpoint::send`] ended without a final response.
    RequestFailed {
        /// The request.
        id: RequestId,
        /// Why.
        error: RequestError,
    },
    /// A request outside any call for the application (MESSAGE, NOTIFY, INFO...);
    /// answer it with [`Endpoint::reply`] or [`Endpoint::respond`].
    IncomingRequest {
        /// The server transaction.
        tx: TxId,
        /// The request.
        request: Request,
        /// Where it came from.
        peer: Peer,
    },
}

/// Whose deadline an entry of the timer heap is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Due {
    Account(u32),
    Call(u64),
}

/// A UA: registrations, plain requests, calls and the UA's own answers, sans-IO.
pub struct Endpoint {
    config: EndpointConfig,
    tx: TransactionLayer,
    rng: Box<dyn Random + Send>,
    digest: DigestClient,
    creds: CredentialsManager,
    owners: HashMap<TxId, Owner>,
    accounts: Vec<Registration>,
    requests: PlainRequests,
    calls: HashMap<CallId, InviteSession>,
    /// Calls by (Call-ID, our tag): where in-dialog requests, ACKs and stray 2xx go.
    by_tag: HashMap<(String, String), CallId>,
    next_call: u64,
    /// Deadlines of accounts and calls, earliest first; an entry whose owner's
    /// deadline moved is skipped when it comes up.
    due: BinaryHeap<Reverse<(Instant, Due)>>,
    /// The deadline last pushed for each call, so an unchanged one is not pushed again.
    scheduled: HashMap<CallId, Instant>,
    out: VecDeque<Output<Event>>,
}

impl std::fmt::Debug for Endpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Endpoint")
            .field("accounts", &self.accounts.len())
            .field("calls", &self.calls.len())
            .field("transactions", &self.tx.counts())
            .finish_non_exhaustive()
    }
}

/// The endpoint's context for `$owner`, borrowing only the fields it lends.
macro_rules! ctx {
    ($self:ident, $owner:expr) => {
        Ctx::new(
            &mut $self.tx,
            &mut $self.owners,
            $owner,
            &mut *$self.rng,
            &mut $self.digest,
            &$self.creds,
            &$self.config,
        )
    };
}

/// Runs `f` on call `$id` with the endpoint's context, then collects what it did.
macro_rules! with_call {
    ($self:ident, $id:expr, $now:expr, |$s:ident, $ctx:ident| $body:expr) => {{
        let id: CallId = $id;
        match $self.calls.get_mut(&id) {
            None => None,
            Some($s) => {
                let mut $ctx = ctx!($self, Owner::Call(id));
                let r = $body;
                $self.after_call(id, $now);
                Some(r)
            }
        }
    }};
}

impl Endpoint {
    /// An endpoint with these credentials and randomness (a seeded one in tests,
    /// [`sip_message::OsRandom`] in production).
    pub fn new(
        config: EndpointConfig,
        creds: CredentialsManager,
        rng: Box<dyn Random + Send>,
    ) -> Endpoint {
        let mut tx = TransactionLayer::new(config.timers);
        tx.set_udp_threshold(config.udp_size_threshold);
        Endpoint {
            tx,
            digest: DigestClient::new(config.auth_policy.clone()),
            config,
            rng,
            creds,
            owners: HashMap::new(),
            accounts: Vec::new(),
            requests: PlainRequests::default(),
            calls: HashMap::new(),
            by_tag: HashMap::new(),
            next_call: 0,
            due: BinaryHeap::new(),
            scheduled: HashMap::new(),
            out: VecDeque::new(),
        }
    }

    /// The configuration.
    pub fn config(&self) -> &EndpointConfig {
        &self.config
    }

    /// The credentials.
    pub fn credentials_mut(&mut self) -> &mut CredentialsManager {
        &mut self.creds
    }

    /// The transaction layer (for inspection).
    pub fn transactions(&self) -> &TransactionLayer {
        &self.tx
    }

    // ---- accounts ----

    /// Runs `f` on account `id` with the endpoint's context, then collects its
    /// events and deadline.
    fn on_account(
        &mut self,
        id: AccountId,
        now: Instant,
        f: impl FnOnce(&mut Registration, &mut Ctx<'_>),
    ) {
        let Some(r) = self.accounts.get_mut(id.0 as usize) else {
            return;
        };
        let mut ctx = ctx!(self, Owner::Registration(id));
        f(r, &mut ctx);
        while let Some(event) = r.poll_event() {
            self.out
                .push_back(Output::Event(Event::Registration { account: id, event }));
        }
        if let Some(d) = r.poll_timeout() {
            self.due.push(Reverse((d, Due::Account(id.0))));
        }
        self.pump(now);
    }

    /// Adds an account (not registered until [`Endpoint::register`]).
    pub fn add_account(&mut self, mut config: RegistrationConfig) -> AccountId {
        if config.user_agent.is_none() {
            config.user_agent = self.config.user_agent.clone();
        }
        let id = AccountId(self.accounts.len() as u32);
        let reg = Registration::new(id, config, &mut *self.rng);
        self.accounts.push(reg);
        id
    }

    /// An account's registration.
    pub fn account(&self, id: AccountId) -> Option<&Registration> {
        self.accounts.get(id.0 as usize)
    }

    /// Every account.
    pub fn accounts(&self) -> impl Iterator<Item = (AccountId, &Registration)> {
        self.accounts
            .iter()
            .enumerate()
            .map(|(i, r)| (AccountId(i as u32), r))
    }

    /// Registers an account now (and keeps it registered).
    pub fn register(&mut self, id: AccountId, now: Instant) {
        self.on_account(id, now, |r, ctx| r.register(ctx, now));
    }

    /// Removes an account's binding (REGISTER with Expires: 0).
    pub fn unregister(&mut self, id: AccountId, now: Instant) {
        self.on_account(id, now, |r, ctx| r.unregister(ctx, now));
    }

    /// How many registrations are registered now.
    pub fn registered_count(&self) -> usize {
        self.accounts
            .iter()
            .filter(|r| r.state() == RegistrationState::Registered)
            .count()
    }

    /// The local address an account advertises.
    pub fn advertised(&self, id: AccountId) -> Option<SocketAddr> {
        self.account(id).map(Registration::advertised)
    }

    /// The account a Request-URI is for: the one whose Contact user or AOR user
    /// matches, else the first.
    fn account_for(&self, request: &Request) -> AccountId {
        let uri = request.uri();
        if let Some(user) = uri.user() {
            for (i, r) in self.accounts.iter().enumerate() {
                let c = r.config();
                let aor_user = sip_message::Uri::parse(&c.aor)
                    .ok()
                    .and_then(|u| u.user().map(str::to_string));
                if c.contact_user == user || aor_user.as_deref() == Some(user) {
                    return AccountId(i as u32);
                }
            }
        }
        AccountId(0)
    }

    // ---- plain requests ----

    /// Sends a request for an account outside any call; its responses come as
    /// [`Event::Response`].
    pub fn send(
        &mut self,
        account: AccountId,
        spec: OutgoingRequest,
        now: Instant,
    ) -> Result<RequestId, RequestError> {
        let me = self
            .account(account)
            .ok_or(RequestError::NoAccount)?
            .identity();
        let id = self.requests.next_id();
        let mut ctx = ctx!(self, Owner::Request(id));
        let r = self.requests.send(id, me, spec, &mut ctx, now);
        self.after_requests(now);
        r.map(|()| id)
    }

    fn after_requests(&mut self, now: Instant) {
        while let Some((id, e)) = self.requests.poll_event() {
            self.out.push_back(Output::Event(match e {
                RequestEvent::Response(response) => Event::Response {
                    id,
                    response: *response,
                },
                RequestEvent::Failed(error) => Event::RequestFailed { id, error },
            }));
        }
        self.pump(now);
    }

    // ---- calls ----

    /// Collects a call's events, schedules its deadline, and forgets it once over.
    fn after_call(&mut self, id: CallId, now: Instant) {
        let Some(s) = self.calls.get_mut(&id) else {
            return;
        };
        while let Some(event) = s.poll_event() {
            self.out
                .push_back(Output::Event(Event::Call { call: id, event }));
        }
        if s.is_finished() {
            let key = (s.call_id().to_string(), s.local_tag().to_string());
            self.calls.remove(&id);
            self.by_tag.remove(&key);
            self.scheduled.remove(&id);
            shrink_map(&mut self.calls);
            shrink_map(&mut self.by_tag);
            shrink_map(&mut self.scheduled);
        } else if let Some(d) = s.poll_timeout()
            && self.scheduled.get(&id) != Some(&d)
        {
            self.scheduled.insert(id, d);
            self.due.push(Reverse((d, Due::Call(id.0))));
        }
        self.pump(now);
    }

    fn new_call_id(&mut self) -> CallId {
        self.next_call += 1;
        CallId(self.next_call)
    }

    /// Places a call for an account. Its events come as [`Event::Call`].
    pub fn call(
        &mut self,
        account: AccountId,
        spec: crate::call::CallSpec,
        now: Instant,
    ) -> Result<CallId, crate::call::CallError> {
        let me = self
            .account(account)
            .ok_or(crate::call::CallError::NoAccount)?
            .identity();
        let id = self.new_call_id();
        let mut ctx = ctx!(self, Owner::Call(id));
        let s = InviteSession::outgoing(id, me, spec, &mut ctx, now)?;
        self.by_tag
            .insert((s.call_id().to_string(), s.local_tag().to_string()), id);
        self.calls.insert(id, s);
        self.after_call(id, now);
        Ok(id)
    }

    /// A call.
    pub fn call_state(&self, id: CallId) -> Option<&InviteSession> {
        self.calls.get(&id)
    }

    /// How many calls are alive.
    pub fn call_count(&self) -> usize {
        self.calls.len()
    }

    /// Runs a command on a call.
    fn call_command(
        &mut self,
        id: CallId,
        now: Instant,
        f: impl FnOnce(&mut InviteSession, &mut Ctx<'_>) -> Result<(), crate::call::CallError>,
    ) -> Result<(), crate::call::CallError> {
        with_call!(self, id, now, |s, ctx| f(s, &mut ctx))
            .unwrap_or(Err(crate::call::CallError::NoCall))
    }

    /// Sends a provisional response (180 Ringing, 183 Session Progress) to an
    /// incoming call; with `early_media`, our answer goes in it.
    pub fn ring(
        &mut self,
        id: CallId,
        status: StatusCode,
        early_media: Option<sip_message::offer_answer::LocalMedia>,
        now: Instant,
    ) -> Result<(), crate::call::CallError> {
        self.call_command(id, now, |s, ctx| s.ring(status, early_media, ctx, now))
    }

    /// Answers an incoming call with 200 and our media (the callee's RTP address
    /// and port, its codecs).
    pub fn answer(
        &mut self,
        id: CallId,
        media: Option<sip_message::offer_answer::LocalMedia>,
        now: Instant,
    ) -> Result<(), crate::call::CallError> {
        self.call_command(id, now, |s, ctx| s.answer(media, ctx, now))
    }

    /// Refuses an incoming call (486 Busy Here, 603 Decline, any 3xx-6xx).
    pub fn reject(
        &mut self,
        id: CallId,
        status: StatusCode,
        now: Instant,
    ) -> Result<(), crate::call::CallError> {
        self.call_command(id, now, |s, ctx| s.reject(status, ctx, now))
    }

    /// Cancels an outgoing call that is not answered yet.
    pub fn cancel(&mut self, id: CallId, now: Instant) -> Result<(), crate::call::CallError> {
        self.call_command(id, now, |s, ctx| {
            s.cancel(crate::call::EndReason::Cancelled, ctx, now)
        })
    }

    /// Ends a call whatever its state (CANCEL, a refusal, or BYE).
    pub fn hangup(&mut self, id: CallId, now: Instant) -> Result<(), crate::call::CallError> {
        self.call_command(id, now, |s, ctx| s.hangup(ctx, now))
    }

    /// Puts the peer on hold (`true`) or takes it off hold, with a re-INVITE.
    pub fn hold(
        &mut self,
        id: CallId,
        on: bool,
        now: Instant,
    ) -> Result<(), crate::call::CallError> {
        self.call_command(id, now, |s, ctx| s.hold(on, ctx, now))
    }

    /// Sends a fresh offer of the call's media in a re-INVITE or an UPDATE.
    pub fn reoffer(
        &mut self,
        id: CallId,
        method: Method,
        now: Instant,
    ) -> Result<(), crate::call::CallError> {
        self.call_command(id, now, |s, ctx| s.reoffer(method, ctx, now))
    }

    /// Sends a request inside a call (INFO, MESSAGE...); its final response comes as
    /// [`CallEvent::Response`].
    pub fn send_in_call(
        &mut self,
        id: CallId,
        method: Method,
        content_type: Option<String>,
        body: Bytes,
        headers: Vec<(String, String)>,
        now: Instant,
    ) -> Result<(), crate::call::CallError> {
        self.call_command(id, now, |s, ctx| {
            s.send_request(method, content_type, body, headers, ctx, now)
        })
    }

    fn call_by_tag(&self, call_id: &str, tag: &str) -> Option<CallId> {
        self.by_tag
            .get(&(call_id.to_string(), tag.to_string()))
            .copied()
    }

    // ---- answering requests ----

    /// Answers a server transaction with a response the application built.
    pub fn respond(&mut self, tx: TxId, response: Bytes, now: Instant) -> Result<(), TxError> {
        let r = self.tx.respond(tx, response, now);
        self.pump(now);
        r
    }

    /// Answers `request` (delivered as [`Event::IncomingRequest`]) with `status`.
    pub fn reply(
        &mut self,
        tx: TxId,
        request: &Request,
        status: StatusCode,
        now: Instant,
    ) -> Result<(), TxError> {
        self.answer_tx(tx, request, status, &[], now)
    }

    fn answer_tx(
        &mut self,
        tx: TxId,
        request: &Request,
        status: StatusCode,
        extra: &[(HeaderName, String)],
        now: Instant,
    ) -> Result<(), TxError> {
        let tag = request
            .to_tag()
            .is_none()
            .then(|| crate::ids::tag(&mut *self.rng));
        let mut b = self.response_builder(request, status, tag.as_deref());
        for (n, v) in extra {
            b = b.header(*n, v);
        }
        let r = self
            .tx
            .respond_status(tx, status.as_u16(), b.finish().freeze(), now);
        self.pump(now);
        r
    }

    /// A response to `request` with the endpoint's Server header.
    pub fn response_builder(
        &self,
        request: &Request,
        status: StatusCode,
        to_tag: Option<&str>,
    ) -> MessageBuilder {
        let mut b = MessageBuilder::response_to(request, status, to_tag);
        if let Some(ua) = &self.config.user_agent {
            b = b.header(HeaderName::Server, ua);
        }
        b
    }

    fn on_parse_error(&mut self, raw: &[u8], e: &ParseError, peer: Peer) {
        tracing::debug!(%peer, error = %e, "unparsable message");
        if let Some(resp) = sip_message::error_response(raw, e) {
            self.out.push_back(Output::Transmit(Transmit {
                peer,
                bytes: resp,
                tx: None,
            }));
        }
    }

    // ---- routing ----

    /// Moves the transaction layer's outputs into ours, routing its events.
    fn pump(&mut self, now: Instant) {
        while let Some(o) = self.tx.poll_output() {
            match o {
                Output::Transmit(t) => self.out.push_back(Output::Transmit(t)),
                Output::Event(e) => self.on_tx_event(e, now),
            }
        }
    }

    fn on_tx_event(&mut self, e: TxEvent, now: Instant) {
        match e {
            TxEvent::Response { id, response } => self.route_to_owner(id, Ok(response), now),
            TxEvent::Timeout { id } => self.route_to_owner(id, Err(true), now),
            TxEvent::TransportError { id } => self.route_to_owner(id, Err(false), now),
            TxEvent::Terminated { id } => {
                if let Some(Owner::Call(c)) = self.owners.remove(&id) {
                    with_call!(self, c, now, |s, ctx| s.handle_input(
                        CallInput::Terminated { tx: id },
                        &mut ctx,
                        now
                    ));
                }
                shrink_map(&mut self.owners);
            }
            TxEvent::Request { id, request, peer } => self.on_request(id, request, peer, now),
            TxEvent::Ack { request, .. } => {
                let call = request
                    .to_tag()
                    .and_then(|t| self.call_by_tag(request.call_id(), t));
                if let Some(c) = call {
                    with_call!(self, c, now, |s, ctx| s.handle_input(
                        CallInput::Ack { request },
                        &mut ctx,
                        now
                    ));
                }
            }
            TxEvent::StrayResponse { response } => {
                let call = (*response.cseq_method() == Method::Invite
                    && response.status().is_success())
                .then(|| {
                    response
                        .from_tag()
                        .and_then(|t| self.call_by_tag(response.call_id(), t))
                })
                .flatten();
                match call {
                    Some(c) => {
                        with_call!(self, c, now, |s, ctx| s.handle_input(
                            CallInput::Stray { response },
                            &mut ctx,
                            now
                        ));
                    }
                    None => tracing::debug!(
                        status = response.status().as_u16(),
                        "dropping a response to no request of ours"
                    ),
                }
            }
            TxEvent::AckTimeout { id } => {
                tracing::debug!(?id, "no ACK for a non-2xx final response");
            }
        }
    }

    /// A response (`Ok`) or a failure (`Err(timeout)`) for transaction `id`.
    fn route_to_owner(&mut self, id: TxId, what: Result<Response, bool>, now: Instant) {
        let Some(owner) = self.owners.get(&id).copied() else {
            return;
        };
        match owner {
            Owner::Registration(a) => self.on_account(a, now, |r, ctx| match what {
                Ok(response) => r.on_response(id, response, ctx, now),
                Err(timeout) => r.on_tx_failure(id, timeout, ctx, now),
            }),
            Owner::Request(rid) => {
                let mut ctx = ctx!(self, owner);
                match what {
                    Ok(response) => self.requests.on_response(rid, id, response, &mut ctx, now),
                    Err(timeout) => self.requests.on_failure(rid, id, timeout),
                }
                self.after_requests(now);
            }
            Owner::Call(c) => {
                let input = match what {
                    Ok(response) => CallInput::Response { tx: id, response },
                    Err(timeout) => CallInput::Failed { tx: id, timeout },
                };
                with_call!(self, c, now, |s, ctx| s.handle_input(input, &mut ctx, now));
            }
        }
    }

    fn on_request(&mut self, tx: TxId, request: Request, peer: Peer, now: Instant) {
        if let Some((status, extra)) = answers::refusal(&self.config, &request) {
            let _ = self.answer_tx(tx, &request, status, &extra, now);
            return;
        }
        let method = request.method().clone();
        if method == Method::Cancel {
            self.on_cancel(tx, request, now);
            return;
        }
        if let Some(tag) = request.to_tag() {
            match self.call_by_tag(request.call_id(), tag) {
                Some(c) => {
                    with_call!(self, c, now, |s, ctx| s.handle_input(
                        CallInput::Request { tx, request, peer },
                        &mut ctx,
                        now
                    ));
                }
                None => {
                    let status = StatusCode::CALL_TRANSACTION_DOES_NOT_EXIST;
                    let _ = self.answer_tx(tx, &request, status, &[], now);
                }
            }
            return;
        }
        match method {
            Method::Invite => self.on_invite(tx, request, peer, now),
            Method::Options => {
                let extra = answers::options_headers(&self.config);
                let _ = self.answer_tx(tx, &request, StatusCode::OK, &extra, now);
            }
            _ => self
                .out
                .push_back(Output::Event(Event::IncomingRequest { tx, request, peer })),
        }
    }

    /// A new INVITE: a call (which may refuse it at once with 400 or 488).
    fn on_invite(&mut self, tx: TxId, request: Request, peer: Peer, now: Instant) {
        let account = self.account_for(&request);
        let Some(me) = self.account(account).map(Registration::identity) else {
            let status = StatusCode::NOT_FOUND;
            let _ = self.answer_tx(tx, &request, status, &[], now);
            return;
        };
        let id = self.new_call_id();
        let mut ctx = ctx!(self, Owner::Call(id));
        match InviteSession::incoming(id, me, tx, request, peer, &mut ctx, now) {
            Ok(s) => {
                self.by_tag
                    .insert((s.call_id().to_string(), s.local_tag().to_string()), id);
                self.calls.insert(id, s);
                self.after_call(id, now);
            }
            Err(crate::call::Refused::Media(e)) => {
                tracing::debug!(error = %e, "INVITE refused for its offer");
                self.pump(now);
            }
        }
    }

    /// A CANCEL (§9.2): to the call whose INVITE transaction it matches; 200 when
    /// that transaction lives but belongs to no call; 481 when none matches.
    fn on_cancel(&mut self, tx: TxId, request: Request, now: Instant) {
        let invite = self.tx.invite_for_cancel(&request);
        match invite.map(|i| (i, self.owners.get(&i).copied())) {
            Some((invite, Some(Owner::Call(c)))) => {
                with_call!(self, c, now, |s, ctx| s.handle_input(
                    CallInput::Cancel {
                        tx,
                        request,
                        invite
                    },
                    &mut ctx,
                    now
                ));
            }
            Some(_) => {
                let _ = self.answer_tx(tx, &request, StatusCode::OK, &[], now);
            }
            None => {
                let status = StatusCode::CALL_TRANSACTION_DOES_NOT_EXIST;
                let _ = self.answer_tx(tx, &request, status, &[], now);
            }
        }
    }
}

impl Machine for Endpoint {
    type Input = Input;
    type Event = Event;

    fn handle_input(&mut self, input: Input, now: Instant) {
        match input {
            Input::Bytes { bytes, peer } => match Message::parse(bytes.clone()) {
                Ok(message) => self.handle_input(Input::Message { message, peer }, now),
                Err(e) => self.on_parse_error(&bytes, &e, peer),
            },
            Input::Message { message, peer } => {
                match message {
                    Message::Request(r) => self.tx.on_request(r, peer, now),
                    Message::Response(r) => self.tx.on_response(r, now),
                }
                self.pump(now);
            }
            Input::TransportError { tx } => {
                self.tx.on_transport_error(tx);
                self.pump(now);
            }
        }
    }

    fn poll_output(&mut self) -> Option<Output<Event>> {
        let o = self.out.pop_front();
        if o.is_none() {
            shrink_queue(&mut self.out);
        }
        o
    }

    fn poll_timeout(&self) -> Option<Instant> {
        let due = self.due.peek().map(|Reverse((d, _))| *d);
        [self.tx.poll_timeout(), due].into_iter().flatten().min()
    }

    fn handle_timeout(&mut self, now: Instant) {
        self.tx.handle_timeout(now);
        self.pump(now);
        while let Some(Reverse((d, due))) = self.due.peek().copied() {
            if d > now {
                break;
            }
            self.due.pop();
            match due {
                Due::Account(i) => {
                    let id = AccountId(i);
                    // A stale entry: the account's deadline moved or went.
                    if self
                        .account(id)
                        .and_then(Registration::poll_timeout)
                        .is_some_and(|cur| cur <= now)
                    {
                        self.on_account(id, now, |r, ctx| r.handle_timeout(ctx, now));
                    }
                }
                Due::Call(c) => {
                    let id = CallId(c);
                    if self.scheduled.get(&id) == Some(&d) {
                        self.scheduled.remove(&id);
                    }
                    if self
                        .calls
                        .get(&id)
                        .and_then(InviteSession::poll_timeout)
                        .is_some_and(|cur| cur <= now)
                    {
                        with_call!(self, id, now, |s, ctx| s.handle_timeout(&mut ctx, now));
                    } else if let Some(cur) =
                        self.calls.get(&id).and_then(InviteSession::poll_timeout)
                        && !self.scheduled.contains_key(&id)
                    {
                        self.scheduled.insert(id, cur);
                        self.due.push(Reverse((cur, Due::Call(c))));
                    }
                }
            }
        }
        if self.due.capacity() > 64 && self.due.len() * 4 < self.due.capacity() {
            self.due.shrink_to(self.due.len() * 2);
        }
    }
}
