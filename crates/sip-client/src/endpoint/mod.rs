//! The UA core: a router over the machines that own the work. It holds the
//! transaction layer and routes each transaction event to its owner (a
//! [`Registration`], a plain request, an [`InviteSession`]), in-dialog requests,
//! ACKs and CANCELs to their call, and answers by itself what a UA answers without
//! an application (RFC 3261 §8.2: OPTIONS, 405/501, 416, 420, 481, 400, 415).

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap, VecDeque};
use std::net::SocketAddr;
use std::time::Instant;

use sip_auth::{CredentialsManager, DigestClient};
use sip_message::{Random, Request, Response};

use crate::call::{CallEvent, InviteSession};
use crate::config::EndpointConfig;
use crate::context::{AccountId, CallId, Ctx, Owner, RequestId};
use crate::machine::Output;
use crate::peer::Peer;
use crate::registration::{Registration, RegistrationConfig, RegistrationEvent, RegistrationState};
use crate::requests::{OutgoingRequest, PlainRequests, RequestError, RequestEvent};
use crate::transaction::{TransactionLayer, TxId};

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
    /// A voicemail server says messages wait (an unsolicited NOTIFY of
    /// `message-summary`, RFC 3842); it was answered 200.
    MessageSummary {
        /// The account it is for (by the Request-URI).
        account: AccountId,
        /// What waits.
        summary: crate::mwi::MessageSummary,
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
    /// The earliest deadline in the heap for each call: only an earlier one is
    /// pushed again.
    scheduled: HashMap<CallId, Instant>,
    /// Calls placed for a transfer, with the call whose REFER asked for them: their
    /// progress goes back as NOTIFYs.
    transfers: HashMap<CallId, CallId>,
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

mod calls;
mod routing;

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
            transfers: HashMap::new(),
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
            self.bound_due();
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
}
