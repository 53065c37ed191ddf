//! Where the endpoint sends what arrives: transaction events to their owner,
//! in-dialog requests, ACKs, stray 2xx and CANCELs to their call; and the answers it
//! gives itself to what no machine owns. Also its `Machine` face.

use std::cmp::Reverse;
use std::time::Instant;

use bytes::Bytes;
use sip_message::{
    HeaderName, Message, MessageBuilder, Method, ParseError, Request, Response, StatusCode,
};

use super::{Due, Endpoint, Event};
use crate::answers;
use crate::call::{CallInput, InviteSession};
use crate::context::{AccountId, CallId, Ctx, Owner};
use crate::machine::{Input, Machine, Output, Transmit};
use crate::peer::Peer;
use crate::registration::{Registration, RegistrationInput};
use crate::transaction::{TxError, TxEvent, TxId, shrink_map, shrink_queue};

impl Endpoint {
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

    pub(super) fn answer_tx(
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

    pub(super) fn on_parse_error(&mut self, raw: &[u8], e: &ParseError, peer: Peer) {
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
    pub(super) fn pump(&mut self, now: Instant) {
        while let Some(o) = self.tx.poll_output() {
            match o {
                Output::Transmit(t) => self.out.push_back(Output::Transmit(t)),
                Output::Event(e) => self.on_tx_event(e, now),
            }
        }
    }

    pub(super) fn on_tx_event(&mut self, e: TxEvent, now: Instant) {
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
    pub(super) fn route_to_owner(&mut self, id: TxId, what: Result<Response, bool>, now: Instant) {
        let Some(owner) = self.owners.get(&id).copied() else {
            return;
        };
        match owner {
            Owner::Registration(a) => self.on_account(a, now, |r, ctx| match what {
                Ok(response) => {
                    r.handle_input(RegistrationInput::Response { tx: id, response }, ctx, now)
                }
                Err(timeout) => {
                    r.handle_input(RegistrationInput::Failed { tx: id, timeout }, ctx, now)
                }
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

    pub(super) fn on_request(&mut self, tx: TxId, request: Request, peer: Peer, now: Instant) {
        if let Some((status, extra)) = answers::refusal(&self.config, &request) {
            let _ = self.answer_tx(tx, &request, status, &extra, now);
            return;
        }
        if self.tx.is_merged(tx, &request) {
            // §8.2.2.2: a copy of a request we are already handling that came by
            // another path.
            let _ = self.answer_tx(tx, &request, StatusCode::LOOP_DETECTED, &[], now);
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
            Method::Notify if is_message_summary(&request) => {
                let account = self.account_for(&request);
                match crate::mwi::MessageSummary::parse(request.body()) {
                    Some(summary) => {
                        let _ = self.answer_tx(tx, &request, StatusCode::OK, &[], now);
                        self.out
                            .push_back(Output::Event(Event::MessageSummary { account, summary }));
                    }
                    None => {
                        let _ = self.answer_tx(tx, &request, StatusCode::BAD_REQUEST, &[], now);
                    }
                }
            }
            _ => self
                .out
                .push_back(Output::Event(Event::IncomingRequest { tx, request, peer })),
        }
    }

    /// A new INVITE: a call (which may refuse it at once with 400 or 488).
    pub(super) fn on_invite(&mut self, tx: TxId, request: Request, peer: Peer, now: Instant) {
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
            Err(crate::call::Refused::SessionInterval(min_se)) => {
                tracing::debug!(min_se, "INVITE refused for its session interval");
                self.pump(now);
            }
        }
    }

    /// A CANCEL (§9.2): to the call whose INVITE transaction it matches; 200 when
    /// that transaction lives but belongs to no call; 481 when none matches.
    pub(super) fn on_cancel(&mut self, tx: TxId, request: Request, now: Instant) {
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

/// Whether a NOTIFY is about `message-summary` (RFC 3842).
fn is_message_summary(request: &Request) -> bool {
    request
        .typed::<sip_message::headers::Event<'_>>(HeaderName::Event)
        .and_then(Result::ok)
        .is_some_and(|e| e.package.eq_ignore_ascii_case("message-summary"))
}
