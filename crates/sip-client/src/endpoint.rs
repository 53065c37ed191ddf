//! The UA core: one sans-IO object joining the transaction layer, registrations,
//! requests the application sends, and the answers a UA gives on its own (RFC 3261
//! §8.2): OPTIONS, 405/501, 420, 416, 481, CANCEL.

use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::time::Instant;

use bytes::Bytes;
use sip_auth::{AuthPolicy, AuthSession, CredentialsManager, DigestClient, RequestTarget};
use sip_message::headers::Token;
use sip_message::{
    HeaderName, Message, MessageBuilder, Method, ParseError, Random, Request, Response, Scheme,
    StatusCode, TransportMode,
};

use crate::dialog::{DialogId, DialogState, DialogStore, ForkOutcome};
use crate::ids;
use crate::peer::Peer;
use crate::registration::{
    AccountId, Registration, RegistrationConfig, RegistrationEvent, RegistrationState,
};
use crate::timers::TimerConfig;
use crate::transaction::{TransactionLayer, TxEvent, TxId, TxOutput};

/// How the endpoint behaves as a UA.
#[derive(Clone, Debug)]
pub struct EndpointConfig {
    /// Transaction timers.
    pub timers: TimerConfig,
    /// What the digest client may answer.
    pub auth_policy: AuthPolicy,
    /// The User-Agent (requests) and Server (responses) header, if any.
    pub user_agent: Option<String>,
    /// The methods the application takes, delivered as [`Event::IncomingRequest`];
    /// OPTIONS is answered by the endpoint, ACK and CANCEL are handled by it. Others
    /// get 405 (known methods) or 501 (unknown ones).
    pub methods: Vec<Method>,
    /// The option tags we support (Supported; Require is checked against it).
    pub supported: Vec<String>,
    /// The bodies we accept (Accept).
    pub accept: Vec<String>,
}

impl Default for EndpointConfig {
    fn default() -> EndpointConfig {
        EndpointConfig {
            timers: TimerConfig::default(),
            auth_policy: AuthPolicy::default(),
            user_agent: Some(concat!("rust-sip/", env!("CARGO_PKG_VERSION")).to_string()),
            methods: vec![
                Method::Invite,
                Method::Ack,
                Method::Bye,
                Method::Cancel,
                Method::Options,
                Method::Message,
                Method::Info,
                Method::Notify,
            ],
            supported: Vec::new(),
            accept: vec!["application/sdp".to_string()],
        }
    }
}

/// Identifies a request the application sent, for its responses.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RequestId(pub u64);

/// A request the application asks the endpoint to send for an account. The endpoint
/// adds Via, From (the account's AOR and a tag), Call-ID, CSeq, Max-Forwards,
/// Contact (for dialog-creating methods), User-Agent and Content-Length, and answers
/// 401/407 with the account's credentials.
#[derive(Clone, Debug)]
pub struct OutgoingRequest {
    /// The method.
    pub method: Method,
    /// The Request-URI.
    pub uri: String,
    /// The To value (`<sip:bob@example.com>`); the Request-URI when `None`.
    pub to: Option<String>,
    /// Further header lines, in order.
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: Bytes,
    /// The body's Content-Type.
    pub content_type: Option<String>,
    /// Where to send it; the account's registrar (outbound proxy) when `None`.
    pub peer: Option<Peer>,
}

impl OutgoingRequest {
    /// A request with no body and no extra headers.
    pub fn new(method: Method, uri: &str) -> OutgoingRequest {
        OutgoingRequest {
            method,
            uri: uri.to_string(),
            to: None,
            headers: Vec::new(),
            body: Bytes::new(),
            content_type: None,
            peer: None,
        }
    }
}

/// Why a request the application sent ended without a final response.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RequestError {
    /// No final response came in time.
    #[error("no response in time")]
    Timeout,
    /// The transport failed.
    #[error("the transport failed")]
    Transport,
    /// A challenge could not be answered (the 401/407 is also delivered).
    #[error("cannot authenticate: {0}")]
    Auth(sip_auth::AuthError),
    /// The request could not be built.
    #[error("invalid request: {0}")]
    Invalid(String),
    /// No such account.
    #[error("no such account")]
    NoAccount,
}

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
    /// A request for the application; answer it with [`Endpoint::respond`] or
    /// [`Endpoint::reply`].
    IncomingRequest {
        /// The server transaction.
        tx: TxId,
        /// The request.
        request: Request,
        /// Where it came from.
        peer: Peer,
        /// The dialog it belongs to, for in-dialog requests.
        dialog: Option<DialogId>,
    },
    /// A CANCEL ended an INVITE we had not answered: the endpoint answered the CANCEL
    /// with 200 and the INVITE with 487.
    Cancelled {
        /// The INVITE's server transaction.
        tx: TxId,
    },
    /// An ACK for a 2xx we sent.
    Ack {
        /// The ACK.
        request: Request,
        /// The dialog.
        dialog: Option<DialogId>,
    },
    /// A response to a request the application sent (provisional and final;
    /// 401/407 answered by the endpoint are not delivered).
    Response {
        /// The request.
        id: RequestId,
        /// The response.
        response: Response,
        /// The dialog the response created or belongs to.
        dialog: Option<DialogId>,
    },
    /// A request the application sent ended without a final response.
    RequestFailed {
        /// The request.
        id: RequestId,
        /// Why.
        error: RequestError,
    },
    /// A dialog ended (BYE sent or received and answered, or it failed).
    DialogEnded {
        /// The dialog.
        dialog: DialogId,
    },
}

/// What the endpoint produces.
#[derive(Debug)]
#[allow(clippy::large_enum_variant)]
pub enum Output {
    /// Bytes for a peer.
    Transmit {
        /// Where.
        peer: Peer,
        /// What.
        bytes: Bytes,
        /// The transaction, if any (a transport error for it goes to
        /// [`Endpoint::handle_transport_error`]).
        tx: Option<TxId>,
    },
    /// Something for the application.
    Event(Event),
}

/// Adds User-Agent, the application's header lines, the answers to challenges and
/// the body to a request, and reads it back.
fn finish_request(
    mut b: MessageBuilder,
    user_agent: Option<&str>,
    spec: &OutgoingRequest,
    authorization: &[sip_auth::AuthorizationValue],
) -> Result<Request, RequestError> {
    if let Some(ua) = user_agent {
        b = b.header(HeaderName::UserAgent, ua);
    }
    for (n, v) in &spec.headers {
        b = b.header(n.as_str(), v);
    }
    for a in authorization {
        b = b.header(a.header, &a.value);
    }
    match b.build_with_body(spec.content_type.as_deref(), &spec.body) {
        Ok(Message::Request(r)) => Ok(r),
        Ok(Message::Response(_)) => Err(RequestError::Invalid("not a request".into())),
        Err(e) => Err(RequestError::Invalid(e.to_string())),
    }
}

/// Who a client transaction belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Owner {
    Registration(AccountId),
    User(RequestId),
}

/// The borrowed parts of the endpoint a registration or a dialog works with.
pub(crate) struct Ctx<'a> {
    pub(crate) tx: &'a mut TransactionLayer,
    pub(crate) rng: &'a mut dyn Random,
    pub(crate) digest: &'a mut DigestClient,
    pub(crate) creds: &'a CredentialsManager,
    pub(crate) owners: &'a mut HashMap<TxId, Owner>,
    pub(crate) events: &'a mut VecDeque<Output>,
}

impl Ctx<'_> {
    pub(crate) fn emit_registration(&mut self, account: AccountId, event: RegistrationEvent) {
        self.events
            .push_back(Output::Event(Event::Registration { account, event }));
    }
}

/// A request the application sent, kept for its auth retries.
#[derive(Debug)]
struct UserRequest {
    account: AccountId,
    spec: OutgoingRequest,
    peer: Peer,
    call_id: String,
    from_tag: String,
    cseq: u32,
    auth: AuthSession,
    tx: TxId,
    /// The dialog the request is sent in, for in-dialog requests.
    dialog: Option<DialogId>,
}

/// A request the application sends inside a dialog: the dialog supplies the
/// Request-URI, Route, From, To, Call-ID and CSeq.
#[derive(Clone, Debug)]
pub struct DialogRequest {
    /// The method (BYE, INFO, re-INVITE, MESSAGE, ...).
    pub method: Method,
    /// Further header lines, in order.
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: Bytes,
    /// The body's Content-Type.
    pub content_type: Option<String>,
}

impl DialogRequest {
    /// A request with no body and no extra headers.
    pub fn new(method: Method) -> DialogRequest {
        DialogRequest {
            method,
            headers: Vec::new(),
            body: Bytes::new(),
            content_type: None,
        }
    }
}

/// A UA: registrations, requests, dialogs and the UA's own answers, sans-IO.
pub struct Endpoint {
    config: EndpointConfig,
    tx: TransactionLayer,
    rng: Box<dyn Random + Send>,
    digest: DigestClient,
    creds: CredentialsManager,
    accounts: Vec<Registration>,
    owners: HashMap<TxId, Owner>,
    requests: HashMap<RequestId, UserRequest>,
    next_request: u64,
    pub(crate) dialogs: DialogStore,
    out: VecDeque<Output>,
    /// INVITE server transactions the application has not answered finally, by the
    /// key a CANCEL for them carries (branch and sent-by).
    pending_invites: HashMap<(String, String), (TxId, Request)>,
    /// INVITE server transactions not yet answered finally: the request, its peer and
    /// the account it is for.
    server_invites: HashMap<TxId, (Request, Peer, Option<DialogId>)>,
    /// Registration deadlines, earliest first (stale entries dropped when they come
    /// up), so many accounts cost no scan per event.
    reg_due: std::collections::BinaryHeap<std::cmp::Reverse<(Instant, u32)>>,
}

impl std::fmt::Debug for Endpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Endpoint")
            .field("accounts", &self.accounts.len())
            .field("transactions", &self.tx.counts())
            .finish_non_exhaustive()
    }
}

impl Endpoint {
    /// An endpoint with these credentials and randomness (a seeded one in tests,
    /// [`sip_message::OsRandom`] in production).
    pub fn new(
        config: EndpointConfig,
        creds: CredentialsManager,
        rng: Box<dyn Random + Send>,
    ) -> Endpoint {
        Endpoint {
            dialogs: DialogStore::with_timers(config.timers.t1, config.timers.t2),
            tx: TransactionLayer::new(config.timers),
            digest: DigestClient::new(config.auth_policy.clone()),
            config,
            rng,
            creds,
            accounts: Vec::new(),
            owners: HashMap::new(),
            requests: HashMap::new(),
            next_request: 1,
            out: VecDeque::new(),
            pending_invites: HashMap::new(),
            server_invites: HashMap::new(),
            reg_due: std::collections::BinaryHeap::new(),
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

    fn ctx(&mut self) -> (Ctx<'_>, &mut Vec<Registration>) {
        (
            Ctx {
                tx: &mut self.tx,
                rng: &mut *self.rng,
                digest: &mut self.digest,
                creds: &self.creds,
                owners: &mut self.owners,
                events: &mut self.out,
            },
            &mut self.accounts,
        )
    }

    /// Runs `f` on account `id` with the endpoint's context, then records its deadline.
    fn on_account(&mut self, id: AccountId, f: impl FnOnce(&mut Registration, &mut Ctx<'_>)) {
        let (mut ctx, accounts) = self.ctx();
        let Some(r) = accounts.get_mut(id.0 as usize) else {
            return;
        };
        f(r, &mut ctx);
        if let Some(d) = r.deadline() {
            self.reg_due.push(std::cmp::Reverse((d, id.0)));
        }
    }

    /// Adds an account (not registered until [`Endpoint::register`]).
    pub fn add_account(&mut self, mut config: RegistrationConfig) -> AccountId {
        if config.user_agent.is_none() {
            config.user_agent = self.config.user_agent.clone();
        }
        let id = AccountId(self.accounts.len() as u32);
        let (mut ctx, accounts) = self.ctx();
        let reg = Registration::new(id, config, &mut ctx);
        accounts.push(reg);
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
        self.on_account(id, |r, ctx| r.register(ctx, now));
        self.pump(now);
    }

    /// Removes an account's binding (REGISTER with Expires: 0).
    pub fn unregister(&mut self, id: AccountId, now: Instant) {
        self.on_account(id, |r, ctx| r.unregister(ctx, now));
        self.pump(now);
    }

    /// Sends a request for an account; its responses come as [`Event::Response`].
    pub fn send(
        &mut self,
        account: AccountId,
        spec: OutgoingRequest,
        now: Instant,
    ) -> Result<RequestId, RequestError> {
        let reg = self
            .accounts
            .get(account.0 as usize)
            .ok_or(RequestError::NoAccount)?;
        let peer = spec
            .peer
            .clone()
            .unwrap_or_else(|| reg.config().peer.clone());
        let id = RequestId(self.next_request);
        self.next_request += 1;
        let req = UserRequest {
            account,
            spec,
            peer,
            call_id: ids::call_id(&mut *self.rng),
            from_tag: ids::tag(&mut *self.rng),
            cseq: 1,
            auth: AuthSession::new(),
            tx: TxId(0),
            dialog: None,
        };
        self.start_user_request(id, req, now)
    }

    /// Sends a request inside a dialog (BYE, INFO, re-INVITE, ...); its responses
    /// come as [`Event::Response`]. A BYE ends the dialog when its final response
    /// comes (or the request fails).
    pub fn send_in_dialog(
        &mut self,
        dialog: DialogId,
        request: DialogRequest,
        now: Instant,
    ) -> Result<RequestId, RequestError> {
        let d = self
            .dialogs
            .get(dialog)
            .ok_or_else(|| RequestError::Invalid("no such dialog".into()))?;
        let peer = d.next_hop();
        let account = self.account_for_uri(&d.local_uri);
        let id = RequestId(self.next_request);
        self.next_request += 1;
        let req = UserRequest {
            account,
            spec: OutgoingRequest {
                method: request.method,
                uri: d.remote_target.clone(),
                to: None,
                headers: request.headers,
                body: request.body,
                content_type: request.content_type,
                peer: Some(peer.clone()),
            },
            peer,
            call_id: d.call_id.clone(),
            from_tag: d.local_tag.clone(),
            cseq: 0,
            auth: AuthSession::new(),
            tx: TxId(0),
            dialog: Some(dialog),
        };
        self.start_user_request(id, req, now)
    }

    /// Builds and sends the first request of `req` and keeps it for its responses.
    fn start_user_request(
        &mut self,
        id: RequestId,
        mut req: UserRequest,
        now: Instant,
    ) -> Result<RequestId, RequestError> {
        let request = self.build_user_request(&req, &[])?;
        let tx = self
            .tx
            .send_request(request, req.peer.clone(), now)
            .map_err(|e| RequestError::Invalid(e.to_string()))?;
        req.tx = tx;
        self.owners.insert(tx, Owner::User(id));
        self.requests.insert(id, req);
        self.pump(now);
        Ok(id)
    }

    /// Cancels an INVITE the application sent (§9.1): a CANCEL with the INVITE's
    /// branch, once a provisional response came. Returns false when there is nothing
    /// to cancel.
    pub fn cancel(&mut self, id: RequestId, now: Instant) -> bool {
        let Some(req) = self.requests.get(&id) else {
            return false;
        };
        let Some(invite) = self.tx.client_request(req.tx) else {
            return false;
        };
        if *invite.method() != Method::Invite
            || self.tx.client_state(req.tx) != Some(crate::transaction::ClientState::Proceeding)
        {
            return false;
        }
        let mut b = MessageBuilder::request(&Method::Cancel, invite.uri().as_str())
            .header(HeaderName::Via, invite.top_via().as_str())
            .header(HeaderName::MaxForwards, "70")
            .header(HeaderName::From, invite.from().as_str())
            .header(HeaderName::To, invite.to().as_str())
            .header(HeaderName::CallId, invite.call_id())
            .header(
                HeaderName::CSeq,
                format_args!("{} CANCEL", invite.cseq_seq()),
            );
        for r in invite.header_values(HeaderName::Route) {
            b = b.header(HeaderName::Route, r);
        }
        let peer = req.peer.clone();
        let Ok(Message::Request(cancel)) = b.build() else {
            return false;
        };
        let sent = self.tx.send_request(cancel, peer, now).is_ok();
        self.pump(now);
        sent
    }

    /// Answers an INVITE (`tx`, `request` as delivered) with `status` and, for 2xx
    /// and 18x, our Contact, Allow and Supported; `body` goes with `content_type`.
    /// A 2xx is retransmitted until the ACK comes; its dialog is returned.
    pub fn answer_invite(
        &mut self,
        tx: TxId,
        request: &Request,
        status: StatusCode,
        content_type: Option<&str>,
        body: &[u8],
        now: Instant,
    ) -> Result<Option<DialogId>, crate::transaction::TxError> {
        let tag = match request.to_tag() {
            Some(t) => t.to_string(),
            None => self
                .server_invites
                .get(&tx)
                .and_then(|(_, _, d)| *d)
                .and_then(|d| self.dialogs.get(d))
                .map(|d| d.local_tag.clone())
                .unwrap_or_else(|| ids::tag(&mut *self.rng)),
        };
        let account = self.account_for_uri(request.uri().as_str());
        let contact = self
            .account(account)
            .map(Registration::contact_uri)
            .unwrap_or_default();
        let mut b = self.response_builder(request, status, Some(&tag));
        let code = status.as_u16();
        if (101..300).contains(&code) {
            // §12.1.1: a response that makes a dialog carries the Record-Route.
            for rr in request.header_values(HeaderName::RecordRoute) {
                b = b.header(HeaderName::RecordRoute, rr);
            }
            if !contact.is_empty() {
                b = b.header(HeaderName::Contact, format_args!("<{contact}>"));
            }
        }
        if (200..300).contains(&code) {
            b = b
                .header(HeaderName::Allow, self.allow_value())
                .header(HeaderName::Supported, self.config.supported.join(", "));
        }
        let bytes = b.finish_with_body(content_type, body).freeze();
        self.respond(tx, bytes, now)?;
        Ok(self.dialogs.find_for_uas(request, &tag))
    }

    /// The account a URI (a Request-URI or a local address) is for: the one whose
    /// Contact user or AOR user matches, else the first.
    fn account_for_uri(&self, uri: &str) -> AccountId {
        let inner = uri
            .find('<')
            .and_then(|a| uri[a + 1..].find('>').map(|b| &uri[a + 1..a + 1 + b]))
            .unwrap_or(uri);
        let user = sip_message::Uri::parse(inner)
            .ok()
            .and_then(|u| u.user().map(str::to_string));
        if let Some(user) = user {
            for (i, r) in self.accounts.iter().enumerate() {
                let c = r.config();
                let aor_user = sip_message::Uri::parse(&c.aor)
                    .ok()
                    .and_then(|u| u.user().map(str::to_string));
                if c.contact_user == user || aor_user.as_deref() == Some(user.as_str()) {
                    return AccountId(i as u32);
                }
            }
        }
        AccountId(0)
    }

    fn build_user_request(
        &mut self,
        req: &UserRequest,
        authorization: &[sip_auth::AuthorizationValue],
    ) -> Result<Request, RequestError> {
        let reg = self
            .accounts
            .get(req.account.0 as usize)
            .ok_or(RequestError::NoAccount)?;
        let c = reg.config();
        let local = reg.advertised();
        let spec = &req.spec;
        if let Some(did) = req.dialog {
            let branch = ids::branch(&mut *self.rng);
            let d = self
                .dialogs
                .get_mut(did)
                .ok_or_else(|| RequestError::Invalid("the dialog ended".into()))?;
            let b = d.request(&spec.method, &branch);
            return finish_request(b, self.config.user_agent.as_deref(), spec, authorization);
        }
        let to = spec.to.clone().unwrap_or_else(|| format!("<{}>", spec.uri));
        let from = c.aor_name_addr();
        let mut b = MessageBuilder::request(&spec.method, &spec.uri)
            .header(
                HeaderName::Via,
                format_args!(
                    "SIP/2.0/{} {};rport;branch={}",
                    req.peer.mode.via_token(),
                    local,
                    ids::branch(&mut *self.rng)
                ),
            )
            .header(HeaderName::MaxForwards, "70")
            .header(
                HeaderName::From,
                format_args!("{from};tag={}", req.from_tag),
            )
            .header(HeaderName::To, to)
            .header(HeaderName::CallId, &req.call_id)
            .header(
                HeaderName::CSeq,
                format_args!("{} {}", req.cseq, spec.method.as_str()),
            );
        if matches!(
            spec.method,
            Method::Invite | Method::Subscribe | Method::Refer
        ) {
            b = b.header(HeaderName::Contact, format_args!("<{}>", reg.contact_uri()));
        }
        finish_request(b, self.config.user_agent.as_deref(), spec, authorization)
    }

    /// Answers a server transaction with a response the application built.
    pub fn respond(
        &mut self,
        tx: TxId,
        response: Bytes,
        now: Instant,
    ) -> Result<(), crate::transaction::TxError> {
        let parsed = match Message::parse(response.clone()) {
            Ok(Message::Response(r)) => r,
            Ok(_) => {
                return Err(crate::transaction::TxError::BadResponse(
                    "not a response".into(),
                ));
            }
            Err(e) => return Err(crate::transaction::TxError::BadResponse(e.to_string())),
        };
        let code = parsed.status().as_u16();
        self.tx.respond_status(tx, code, response.clone(), now)?;
        self.after_invite_response(tx, &parsed, response, now);
        if code >= 200 {
            self.pending_invites.retain(|_, (t, _)| *t != tx);
        }
        self.pump(now);
        Ok(())
    }

    /// Our response to an INVITE: a tagged 1xx makes an early dialog, a 2xx a
    /// confirmed one whose 2xx is retransmitted until the ACK.
    fn after_invite_response(&mut self, tx: TxId, resp: &Response, response: Bytes, now: Instant) {
        let code = resp.status().as_u16();
        let Some((request, peer, existing)) = self.server_invites.get(&tx).cloned() else {
            return;
        };
        if code >= 300 {
            self.server_invites.remove(&tx);
            if let Some(d) = existing
                && self
                    .dialogs
                    .get(d)
                    .is_some_and(|d| d.state == DialogState::Early)
            {
                self.dialogs.remove(d);
            }
            return;
        }
        let Some(tag) = resp.to_tag().map(str::to_string) else {
            return;
        };
        let dialog = match existing.or_else(|| self.dialogs.find_for_uas(&request, &tag)) {
            Some(d) => Some(d),
            None => {
                let account = self.account_for_uri(request.uri().as_str());
                let (contact, via) = match self.account(account) {
                    Some(r) => (r.contact_uri(), r.advertised()),
                    None => (String::new(), peer.addr),
                };
                let contact = resp
                    .contacts()
                    .next()
                    .map(|c| c.uri().as_str().to_string())
                    .unwrap_or(contact);
                crate::dialog::Dialog::uas(&request, &tag, &contact, code >= 200, peer.clone(), via)
                    .map(|d| self.dialogs.insert(d))
            }
        };
        if let Some(entry) = self.server_invites.get_mut(&tx) {
            entry.2 = dialog;
        }
        if code >= 200 {
            self.server_invites.remove(&tx);
            if let Some(d) = dialog {
                self.dialogs.start_2xx(d, response, peer, now);
            }
        }
    }

    /// Answers `request` (on server transaction `tx`) with `status` and no body,
    /// tagging To when the request had no tag.
    pub fn reply(
        &mut self,
        tx: TxId,
        request: &Request,
        status: StatusCode,
        now: Instant,
    ) -> Result<(), crate::transaction::TxError> {
        let tag = ids::tag(&mut *self.rng);
        let bytes = self
            .response_builder(request, status, Some(&tag))
            .finish()
            .freeze();
        self.respond(tx, bytes, now)
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

    /// Bytes received from `peer`: parsed, and answered with 400/413/... when they
    /// are a malformed request.
    pub fn handle_bytes(&mut self, bytes: Bytes, peer: Peer, now: Instant) {
        match Message::parse(bytes.clone()) {
            Ok(m) => self.handle_message(m, peer, now),
            Err(e) => self.on_parse_error(&bytes, &e, peer),
        }
    }

    fn on_parse_error(&mut self, raw: &[u8], e: &ParseError, peer: Peer) {
        tracing::debug!(%peer, error = %e, "unparsable message");
        if let Some(resp) = sip_message::error_response(raw, e) {
            self.out.push_back(Output::Transmit {
                peer,
                bytes: resp,
                tx: None,
            });
        }
    }

    /// A message received from `peer`.
    pub fn handle_message(&mut self, message: Message, peer: Peer, now: Instant) {
        match message {
            Message::Request(r) => self.tx.on_request(r, peer, now),
            Message::Response(r) => self.tx.on_response(r, now),
        }
        self.pump(now);
    }

    /// Sending for transaction `tx` failed.
    pub fn handle_transport_error(&mut self, tx: TxId, now: Instant) {
        self.tx.on_transport_error(tx);
        self.pump(now);
    }

    /// The next instant [`Endpoint::handle_timeout`] is due.
    pub fn poll_timeout(&self) -> Option<Instant> {
        let regs = self.reg_due.peek().map(|std::cmp::Reverse((d, _))| *d);
        [self.tx.poll_timeout(), regs, self.dialogs.deadline()]
            .into_iter()
            .flatten()
            .min()
    }

    /// Runs everything due by `now`.
    pub fn handle_timeout(&mut self, now: Instant) {
        self.tx.handle_timeout(now);
        self.pump(now);
        while let Some(std::cmp::Reverse((d, i))) = self.reg_due.peek().copied() {
            if d > now {
                break;
            }
            self.reg_due.pop();
            let id = AccountId(i);
            // A stale entry: the account's deadline moved or went.
            if self
                .account(id)
                .and_then(Registration::deadline)
                .is_none_or(|cur| cur > now)
            {
                continue;
            }
            self.on_account(id, |r, ctx| r.on_timer(ctx, now));
        }
        self.dialogs_timeout(now);
        self.pump(now);
    }

    /// The next output.
    pub fn poll_output(&mut self) -> Option<Output> {
        let o = self.out.pop_front();
        if o.is_none() {
            crate::transaction::shrink_queue(&mut self.out);
            crate::transaction::shrink_map(&mut self.owners);
            crate::transaction::shrink_map(&mut self.requests);
            crate::transaction::shrink_map(&mut self.pending_invites);
            crate::transaction::shrink_map(&mut self.server_invites);
        }
        o
    }

    /// Moves the transaction layer's outputs into ours, acting on its events.
    pub(crate) fn pump(&mut self, now: Instant) {
        while let Some(o) = self.tx.poll_output() {
            match o {
                TxOutput::Transmit { peer, bytes, id } => self.out.push_back(Output::Transmit {
                    peer,
                    bytes,
                    tx: id,
                }),
                TxOutput::Event(e) => self.on_tx_event(e, now),
            }
        }
    }

    fn on_tx_event(&mut self, e: TxEvent, now: Instant) {
        match e {
            TxEvent::Response { id, response } => self.on_response(id, response, now),
            TxEvent::Timeout { id } => self.on_tx_failure(id, true, now),
            TxEvent::TransportError { id } => self.on_tx_failure(id, false, now),
            TxEvent::Request { id, request, peer } => self.on_request(id, request, peer, now),
            TxEvent::Ack { request, peer } => self.on_ack(request, peer, now),
            TxEvent::StrayResponse { response } => self.on_stray_response(response, now),
            TxEvent::AckTimeout { id } => {
                tracing::debug!(?id, "no ACK for a non-2xx final response");
            }
            TxEvent::Terminated { id } => {
                if let Some(Owner::User(rid)) = self.owners.remove(&id)
                    && self.requests.get(&rid).is_some_and(|r| r.tx == id)
                {
                    self.requests.remove(&rid);
                    self.dialogs.forget_request(rid);
                }
                self.pending_invites.retain(|_, (t, _)| *t != id);
                self.server_invites.remove(&id);
            }
        }
    }

    /// A response matching no transaction: a retransmitted 2xx to an INVITE of ours
    /// gets its ACK again (§13.2.2.4); anything else is dropped.
    fn on_stray_response(&mut self, response: Response, _now: Instant) {
        if *response.cseq_method() == Method::Invite
            && response.status().as_u16() / 100 == 2
            && let Some(d) = self.dialogs.find_for_response(&response)
            && let Some((ack, peer)) = self.dialogs.ack_for(d)
        {
            self.tx.send_raw(peer, ack);
            return;
        }
        tracing::debug!(
            status = response.status().as_u16(),
            "dropping a response to no request of ours"
        );
    }

    fn on_response(&mut self, id: TxId, response: Response, now: Instant) {
        match self.owners.get(&id).copied() {
            Some(Owner::Registration(a)) => {
                self.on_account(a, |r, ctx| r.on_response(id, response, ctx, now));
            }
            Some(Owner::User(rid)) => self.on_user_response(rid, id, response, now),
            None => {}
        }
    }

    fn on_user_response(&mut self, rid: RequestId, tx: TxId, response: Response, now: Instant) {
        let status = response.status().as_u16();
        if status == 401 || status == 407 {
            match self.answer_challenge(rid, &response, now) {
                Ok(()) => return,
                Err(e) => {
                    self.out.push_back(Output::Event(Event::RequestFailed {
                        id: rid,
                        error: RequestError::Auth(e),
                    }));
                }
            }
        }
        let Some(req) = self.requests.get(&rid) else {
            return;
        };
        let (method, in_dialog, peer) = (req.spec.method.clone(), req.dialog, req.peer.clone());
        let mut dialog = in_dialog;
        if method == Method::Invite && in_dialog.is_none() {
            let Some(invite) = self.tx.client_request(tx).cloned() else {
                return;
            };
            let via_addr = self
                .account(req.account)
                .map_or(peer.addr, Registration::advertised);
            match self
                .dialogs
                .on_invite_response(rid, &invite, &response, &peer, via_addr)
            {
                ForkOutcome::Deliver(d) => {
                    dialog = d;
                    if let Some(d) = d
                        && (200..300).contains(&status)
                    {
                        self.send_ack(d);
                    }
                }
                ForkOutcome::Reack(d) => {
                    if let Some((ack, p)) = self.dialogs.ack_for(d) {
                        self.tx.send_raw(p, ack);
                    }
                    return;
                }
                ForkOutcome::ExtraFork(d) => {
                    // §13.2.2.4: acknowledge the extra 2xx, then end that dialog.
                    self.send_ack(d);
                    let _ = self.send_in_dialog(d, DialogRequest::new(Method::Bye), now);
                    return;
                }
            }
        } else if method == Method::Invite
            && let Some(d) = in_dialog
            && (200..300).contains(&status)
        {
            // A re-INVITE's 2xx: ACK it; its Contact refreshes the target.
            if let Some(dl) = self.dialogs.get_mut(d)
                && let Some(c) = response.contacts().next()
            {
                dl.remote_target = c.uri().as_str().to_string();
            }
            self.send_ack(d);
        }
        let ends_dialog = method == Method::Bye && status >= 200;
        self.out.push_back(Output::Event(Event::Response {
            id: rid,
            response,
            dialog,
        }));
        if ends_dialog
            && let Some(d) = in_dialog
            && self.dialogs.remove(d).is_some()
        {
            self.out
                .push_back(Output::Event(Event::DialogEnded { dialog: d }));
        }
    }

    /// Sends the ACK for a 2xx to our INVITE in dialog `d` (§13.2.2.4), outside any
    /// transaction, and remembers it for retransmitted 2xx.
    fn send_ack(&mut self, d: DialogId) {
        let branch = ids::branch(&mut *self.rng);
        let Some(dl) = self.dialogs.get_mut(d) else {
            return;
        };
        let peer = dl.next_hop();
        let bytes = dl.request(&Method::Ack, &branch).finish().freeze();
        self.dialogs.remember_ack(d, bytes.clone(), peer.clone());
        self.tx.send_raw(peer, bytes);
    }

    /// Timers of the dialog layer: 2xx retransmissions, and BYE for dialogs whose
    /// ACK never came (§13.3.1.4).
    fn dialogs_timeout(&mut self, now: Instant) {
        let (sends, dead) = self.dialogs.on_timer(now);
        for (peer, bytes) in sends {
            self.tx.send_raw(peer, bytes);
        }
        for d in dead {
            tracing::debug!(?d, "no ACK for our 2xx: ending the dialog");
            let _ = self.send_in_dialog(d, DialogRequest::new(Method::Bye), now);
        }
    }

    fn answer_challenge(
        &mut self,
        rid: RequestId,
        response: &Response,
        now: Instant,
    ) -> Result<(), sip_auth::AuthError> {
        let Some(mut req) = self.requests.remove(&rid) else {
            return Err(sip_auth::AuthError::NoChallenge);
        };
        let (server, user, secure) = match self.accounts.get(req.account.0 as usize) {
            Some(r) => (
                r.config().server.clone(),
                r.config().auth_user.clone(),
                req.peer.mode == TransportMode::Tls,
            ),
            None => return Err(sip_auth::AuthError::NoChallenge),
        };
        let target = RequestTarget {
            secure,
            body: &req.spec.body,
            ..RequestTarget::new(req.spec.method.as_str(), &req.spec.uri, &server, &user)
        };
        let values = self.digest.respond(
            &mut req.auth,
            response,
            &target,
            &self.creds,
            &mut *self.rng,
        );
        let values = match values {
            Ok(v) => v,
            Err(e) => {
                self.requests.insert(rid, req);
                return Err(e);
            }
        };
        req.cseq += 1;
        let request = match self.build_user_request(&req, &values) {
            Ok(r) => r,
            Err(_) => {
                self.requests.insert(rid, req);
                return Err(sip_auth::AuthError::Unwritable("request"));
            }
        };
        self.owners.remove(&req.tx);
        match self.tx.send_request(request, req.peer.clone(), now) {
            Ok(tx) => {
                req.tx = tx;
                self.owners.insert(tx, Owner::User(rid));
                self.requests.insert(rid, req);
                Ok(())
            }
            Err(_) => {
                self.requests.insert(rid, req);
                Err(sip_auth::AuthError::Unwritable("request"))
            }
        }
    }

    fn on_tx_failure(&mut self, id: TxId, timeout: bool, now: Instant) {
        match self.owners.remove(&id) {
            Some(Owner::Registration(a)) => {
                self.on_account(a, |r, ctx| r.on_tx_failure(id, timeout, ctx, now));
            }
            Some(Owner::User(rid)) => {
                if let Some(req) = self.requests.get(&rid).filter(|r| r.tx == id) {
                    let ended = (req.spec.method == Method::Bye)
                        .then_some(req.dialog)
                        .flatten();
                    self.requests.remove(&rid);
                    self.dialogs.forget_request(rid);
                    if let Some(d) = ended
                        && self.dialogs.remove(d).is_some()
                    {
                        self.out
                            .push_back(Output::Event(Event::DialogEnded { dialog: d }));
                    }
                    self.out.push_back(Output::Event(Event::RequestFailed {
                        id: rid,
                        error: if timeout {
                            RequestError::Timeout
                        } else {
                            RequestError::Transport
                        },
                    }));
                }
            }
            None => {}
        }
    }

    /// The Allow header value: what we take.
    pub fn allow_value(&self) -> String {
        let mut v: Vec<&str> = self.config.methods.iter().map(Method::as_str).collect();
        for m in ["ACK", "CANCEL", "OPTIONS"] {
            if !v.contains(&m) {
                v.push(m);
            }
        }
        v.join(", ")
    }

    fn answer(
        &mut self,
        tx: TxId,
        request: &Request,
        status: StatusCode,
        extra: &[(HeaderName, String)],
        now: Instant,
    ) {
        let tag = request.to_tag().is_none().then(|| ids::tag(&mut *self.rng));
        let mut b = self.response_builder(request, status, tag.as_deref());
        for (n, v) in extra {
            b = b.header(*n, v);
        }
        let _ = self
            .tx
            .respond_status(tx, status.as_u16(), b.finish().freeze(), now);
    }

    fn on_request(&mut self, tx: TxId, request: Request, peer: Peer, now: Instant) {
        let method = request.method().clone();
        // §8.2.2.1: a Request-URI scheme we do not serve.
        if !matches!(
            request.uri().scheme(),
            Scheme::Sip | Scheme::Sips | Scheme::Tel
        ) {
            self.answer(tx, &request, StatusCode::UNSUPPORTED_URI_SCHEME, &[], now);
            return;
        }
        if method == Method::Cancel {
            self.on_cancel(tx, &request, now);
            return;
        }
        // §8.2.1: methods we do not take.
        if !self.config.methods.contains(&method) && method != Method::Options {
            let (status, allow) = match method {
                Method::Extension(_) => (StatusCode::NOT_IMPLEMENTED, None),
                _ => (StatusCode::METHOD_NOT_ALLOWED, Some(self.allow_value())),
            };
            let extra: Vec<(HeaderName, String)> =
                allow.into_iter().map(|a| (HeaderName::Allow, a)).collect();
            self.answer(tx, &request, status, &extra, now);
            return;
        }
        // §8.2.2.3: Require with option tags we do not support.
        let unsupported: Vec<String> = request
            .typed_all::<Token<'_>>(HeaderName::Require)
            .filter_map(Result::ok)
            .map(|t| t.as_str().to_string())
            .filter(|t| {
                !self
                    .config
                    .supported
                    .iter()
                    .any(|s| s.eq_ignore_ascii_case(t))
            })
            .collect();
        if !unsupported.is_empty() {
            self.answer(
                tx,
                &request,
                StatusCode::BAD_EXTENSION,
                &[(HeaderName::Unsupported, unsupported.join(", "))],
                now,
            );
            return;
        }
        // In-dialog requests (To tag) must match a dialog (§12.2.2).
        let dialog = if request.to_tag().is_some() {
            match self.dialogs.on_request(&request, now) {
                Ok(d) => Some(d),
                Err(status) => {
                    self.answer(tx, &request, status, &[], now);
                    return;
                }
            }
        } else {
            None
        };
        if method == Method::Options && dialog.is_none() {
            let supported = self.config.supported.join(", ");
            let extra = [
                (HeaderName::Allow, self.allow_value()),
                (HeaderName::Accept, self.config.accept.join(", ")),
                (HeaderName::Supported, supported),
            ];
            self.answer(tx, &request, StatusCode::OK, &extra, now);
            return;
        }
        if method == Method::Invite {
            self.server_invites
                .insert(tx, (request.clone(), peer.clone(), dialog));
        }
        if method == Method::Invite && dialog.is_none() {
            let via = request.top_via();
            self.pending_invites.insert(
                (
                    via.branch().unwrap_or_default().to_string(),
                    via.sent_by().to_string(),
                ),
                (tx, request.clone()),
            );
        }
        if method == Method::Bye
            && let Some(d) = dialog
        {
            // The BYE ends the dialog whatever the application says (§15.1.2); it is
            // answered 200 here.
            self.answer(tx, &request, StatusCode::OK, &[], now);
            self.dialogs.remove(d);
            self.out.push_back(Output::Event(Event::IncomingRequest {
                tx,
                request,
                peer,
                dialog: Some(d),
            }));
            self.out
                .push_back(Output::Event(Event::DialogEnded { dialog: d }));
            return;
        }
        self.out.push_back(Output::Event(Event::IncomingRequest {
            tx,
            request,
            peer,
            dialog,
        }));
    }

    fn on_cancel(&mut self, tx: TxId, cancel: &Request, now: Instant) {
        let via = cancel.top_via();
        let key = (
            via.branch().unwrap_or_default().to_string(),
            via.sent_by().to_string(),
        );
        match self.pending_invites.remove(&key) {
            Some((invite_tx, invite)) => {
                // §9.2: 200 for the CANCEL, 487 for the INVITE.
                self.answer(tx, cancel, StatusCode::OK, &[], now);
                self.answer(invite_tx, &invite, StatusCode::REQUEST_TERMINATED, &[], now);
                self.dialogs.on_invite_cancelled(&invite);
                self.out
                    .push_back(Output::Event(Event::Cancelled { tx: invite_tx }));
            }
            None => self.answer(
                tx,
                cancel,
                StatusCode::CALL_TRANSACTION_DOES_NOT_EXIST,
                &[],
                now,
            ),
        }
    }

    fn on_ack(&mut self, request: Request, _peer: Peer, now: Instant) {
        let dialog = self.dialogs.on_ack(&request, now);
        if dialog.is_some() {
            self.out
                .push_back(Output::Event(Event::Ack { request, dialog }));
        }
    }

    /// How many registrations are registered now.
    pub fn registered_count(&self) -> usize {
        self.accounts
            .iter()
            .filter(|r| r.state() == RegistrationState::Registered)
            .count()
    }

    /// A dialog's state.
    pub fn dialog(&self, id: DialogId) -> Option<&crate::dialog::Dialog> {
        self.dialogs.get(id)
    }

    /// How many dialogs are alive.
    pub fn dialog_count(&self) -> usize {
        self.dialogs.len()
    }

    /// The local address an account advertises.
    pub fn advertised(&self, id: AccountId) -> Option<SocketAddr> {
        self.account(id).map(Registration::advertised)
    }
}
