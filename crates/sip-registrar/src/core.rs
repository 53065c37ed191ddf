//! The registrar and location proxy, sans-IO: fed messages and instants, it answers
//! REGISTER (digest-authenticated, RFC 3261 §10.3), answers OPTIONS to itself, and
//! forwards other requests statelessly (§16.11): initial requests to the Contacts
//! registered for the Request-URI's AOR, record-routing itself; in-dialog requests by
//! their Route; responses back along the Via path.

use std::collections::{HashMap, VecDeque};
use std::net::{IpAddr, SocketAddr};
use std::time::Instant;

use bytes::Bytes;
use sip_auth::{Algorithm, DigestVerifier, VerifierConfig};
use sip_client::{
    Input, Machine, Output, Peer, TimerConfig, TransactionLayer, Transmit, TxEvent, TxId, uri_in,
};
use sip_message::{
    HeaderName, Message, MessageBuilder, Method, Random, Request, StatusCode, TransportMode, Uri,
};

use crate::bindings::Bindings;
use crate::users::Users;

/// How the registrar behaves.
#[derive(Clone, Debug)]
pub struct RegistrarConfig {
    /// The digest realm.
    pub realm: String,
    /// The domains it is responsible for (besides its own addresses); empty accepts
    /// any domain.
    pub domains: Vec<String>,
    /// The digest algorithms offered, in order (MD5 by default).
    pub algorithms: Vec<Algorithm>,
    /// The shortest registration accepted (423 below it), seconds.
    pub min_expires: u32,
    /// The longest registration granted, seconds (longer requests are cut down).
    pub max_expires: u32,
    /// The expiry when a REGISTER names none.
    pub default_expires: u32,
    /// The most Contacts one AOR may hold.
    pub max_bindings_per_aor: usize,
    /// Challenge (407) initial requests whose From is one of our users.
    pub authenticate_requests: bool,
    /// Transaction timers.
    pub timers: TimerConfig,
    /// The Server header.
    pub server: String,
    /// Where it listens, per transport (Via and Record-Route carry these).
    pub listen: Vec<(TransportMode, SocketAddr)>,
}

impl RegistrarConfig {
    /// A configuration for `realm` listening on `listen`: MD5, 60 s to 3600 s,
    /// 10 Contacts per AOR, initial requests from our users challenged.
    pub fn new(realm: &str, listen: Vec<(TransportMode, SocketAddr)>) -> RegistrarConfig {
        RegistrarConfig {
            realm: realm.to_string(),
            domains: vec![realm.to_string()],
            algorithms: vec![Algorithm::Md5],
            min_expires: 60,
            max_expires: 3600,
            default_expires: 3600,
            max_bindings_per_aor: 10,
            authenticate_requests: true,
            timers: TimerConfig::default(),
            server: concat!("rust-sip-registrar/", env!("CARGO_PKG_VERSION")).to_string(),
            listen,
        }
    }
}

/// Counters, for tests and the CLI.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    /// REGISTERs answered 2xx.
    pub registered: u64,
    /// Challenges sent (401 and 407).
    pub challenged: u64,
    /// Requests forwarded.
    pub forwarded: u64,
    /// Responses forwarded.
    pub responses_forwarded: u64,
}

/// Where a forwarded request came from, to send its responses back.
#[derive(Debug)]
pub(crate) struct Upstream {
    pub(crate) peer: Peer,
    pub(crate) until: Instant,
}

/// The most forwarded requests remembered at once (their responses route back by Via
/// when forgotten).
pub(crate) const MAX_UPSTREAM: usize = 65_536;

/// What the registrar does with a request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Decision {
    /// REGISTER: §10.3.
    Register,
    /// OPTIONS to the proxy itself.
    Options,
    /// 407 (stale or not).
    Challenge { stale: bool },
    /// A plain answer (404, 480, 483, 200 for a CANCEL of a request we answered).
    Answer(StatusCode),
    /// Forwarded statelessly.
    Forward,
}

/// The registrar and proxy core.
pub struct Registrar {
    pub(crate) config: RegistrarConfig,
    pub(crate) users: Users,
    pub(crate) verifier: DigestVerifier,
    pub(crate) bindings: Bindings,
    pub(crate) tx: TransactionLayer,
    pub(crate) rng: Box<dyn Random + Send>,
    pub(crate) epoch: Instant,
    pub(crate) salt: u64,
    pub(crate) out: VecDeque<Transmit>,
    pub(crate) upstream: HashMap<String, Upstream>,
    pub(crate) upstream_order: VecDeque<String>,
    pub(crate) stats: Stats,
    /// The decision for the request being handed to the transaction layer.
    pub(crate) decision: Option<Decision>,
    /// When expired bindings are next dropped.
    pub(crate) purge_at: Option<Instant>,
}

impl std::fmt::Debug for Registrar {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Registrar")
            .field("realm", &self.config.realm)
            .field("bindings", &self.bindings.len())
            .field("stats", &self.stats)
            .finish_non_exhaustive()
    }
}

/// The host of a URI without brackets, lower-cased.
fn host_of(uri: &Uri<'_>) -> String {
    uri.host().trim_matches(['[', ']']).to_ascii_lowercase()
}

impl Registrar {
    /// A registrar with these users, randomness from `rng`.
    pub fn new(
        config: RegistrarConfig,
        users: Users,
        mut rng: Box<dyn Random + Send>,
        now: Instant,
    ) -> Registrar {
        let mut vc = VerifierConfig::new(&config.realm);
        vc.algorithms = config.algorithms.clone();
        let verifier = DigestVerifier::new(vc, &mut *rng);
        let salt = rng.next_u64();
        Registrar {
            tx: TransactionLayer::new(config.timers),
            bindings: Bindings::new(config.max_bindings_per_aor),
            config,
            users,
            verifier,
            rng,
            epoch: now,
            salt,
            out: VecDeque::new(),
            upstream: HashMap::new(),
            upstream_order: VecDeque::new(),
            stats: Stats::default(),
            decision: None,
            purge_at: None,
        }
    }

    /// The configuration.
    pub fn config(&self) -> &RegistrarConfig {
        &self.config
    }

    /// The location service.
    pub fn bindings(&self) -> &Bindings {
        &self.bindings
    }

    /// Counters.
    pub fn stats(&self) -> Stats {
        self.stats
    }

    /// Seconds since start, the verifier's clock (nonce ages).
    pub(crate) fn secs(&self, now: Instant) -> u64 {
        now.saturating_duration_since(self.epoch).as_secs() + 1
    }

    /// Bytes from `peer`: parsed (malformed requests get 400/413/...) and handled.
    pub fn handle_bytes(&mut self, bytes: Bytes, peer: Peer, now: Instant) {
        match Message::parse(bytes.clone()) {
            Ok(m) => self.handle_message(m, peer, now),
            Err(e) => {
                if let Some(resp) = sip_message::error_response(&bytes, &e) {
                    self.out.push_back(Transmit {
                        peer,
                        bytes: resp,
                        tx: None,
                    });
                }
            }
        }
    }

    /// A message from `peer`.
    pub fn handle_message(&mut self, message: Message, peer: Peer, now: Instant) {
        match message {
            Message::Response(r) => self.forward_response(r, now),
            Message::Request(r) => self.on_request(r, peer, now),
        }
        self.pump(now);
    }

    /// The next instant [`Registrar::handle_timeout`] is due.
    pub fn poll_timeout(&self) -> Option<Instant> {
        let up = self
            .upstream_order
            .front()
            .and_then(|b| self.upstream.get(b))
            .map(|u| u.until);
        [self.tx.poll_timeout(), self.purge_at, up]
            .into_iter()
            .flatten()
            .min()
    }

    /// Runs what is due.
    pub fn handle_timeout(&mut self, now: Instant) {
        self.tx.handle_timeout(now);
        if self.purge_at.is_some_and(|p| p <= now) {
            // Expired bindings are never returned by lookups; purging only frees their
            // memory, so it runs at most once a second however many bindings expire.
            self.bindings.purge(now);
            self.purge_at = self
                .bindings
                .next_expiry()
                .map(|e| e.max(now + std::time::Duration::from_secs(1)));
        }
        while let Some(b) = self.upstream_order.front() {
            match self.upstream.get(b) {
                Some(u) if u.until > now => break,
                _ => {
                    if let Some(b) = self.upstream_order.pop_front() {
                        self.upstream.remove(&b);
                    }
                }
            }
        }
        self.pump(now);
    }

    /// The next transmission.
    pub fn poll_transmit(&mut self) -> Option<Transmit> {
        self.out.pop_front()
    }

    /// Sending for one of the registrar's transactions failed.
    pub fn handle_transport_error(&mut self, tx: TxId, now: Instant) {
        self.tx.on_transport_error(tx);
        self.pump(now);
    }

    pub(crate) fn pump(&mut self, now: Instant) {
        while let Some(o) = self.tx.poll_output() {
            match o {
                Output::Transmit(t) => self.out.push_back(t),
                Output::Event(TxEvent::Request { id, request, peer }) => {
                    self.answer_locally(id, request, peer, now)
                }
                Output::Event(TxEvent::Ack { request, peer }) => {
                    // An ACK for a 2xx: forwarded by its Route.
                    self.forward(request, peer, now);
                }
                Output::Event(_) => {}
            }
        }
    }

    /// Whether `uri` names this registrar (one of its listening addresses).
    pub(crate) fn is_us(&self, uri: &Uri<'_>) -> bool {
        let Ok(ip) = host_of(uri).parse::<IpAddr>() else {
            return false;
        };
        let mode = TransportMode::for_uri(uri).unwrap_or(TransportMode::Udp);
        let port = uri.port().unwrap_or(mode.default_port());
        self.config
            .listen
            .iter()
            .any(|(_, a)| (a.ip() == ip || a.ip().is_unspecified()) && a.port() == port)
    }

    /// Whether `uri`'s host is a domain we serve (or one of our addresses).
    pub(crate) fn is_our_domain(&self, uri: &Uri<'_>) -> bool {
        let host = host_of(uri);
        self.config.domains.is_empty()
            || self
                .config
                .domains
                .iter()
                .any(|d| d.eq_ignore_ascii_case(&host))
            || host.parse::<IpAddr>().is_ok_and(|ip| {
                self.config
                    .listen
                    .iter()
                    .any(|(_, a)| a.ip() == ip || a.ip().is_unspecified())
            })
    }

    /// What to do with a request (not an ACK). Decided the same way for a
    /// retransmission, so the two meet the same server transaction or get the same
    /// forwarded branch.
    pub(crate) fn decide(&mut self, r: &Request, now: Instant) -> Decision {
        let method = r.method().clone();
        if method == Method::Register {
            return Decision::Register;
        }
        if method == Method::Cancel {
            // A CANCEL goes where its INVITE went: forwarded when the INVITE was.
            return if self.upstream.contains_key(&self.stateless_branch(r)) {
                Decision::Forward
            } else {
                Decision::Answer(StatusCode::OK)
            };
        }
        if r.max_forwards() == Some(0) {
            return Decision::Answer(StatusCode::TOO_MANY_HOPS);
        }
        let routes: Vec<String> = r
            .routes()
            .filter_map(Result::ok)
            .map(|n| uri_in(n.as_str()).to_string())
            .collect();
        let beyond_us = routes
            .iter()
            .skip_while(|u| Uri::parse(u).is_ok_and(|u| self.is_us(&u)))
            .count();
        if beyond_us > 0 || r.to_tag().is_some() {
            // Loose routing onwards, or a request inside a dialog.
            return Decision::Forward;
        }
        let uri = r.uri();
        if uri.user().is_none() && (self.is_us(&uri) || self.is_our_domain(&uri)) {
            return match method {
                Method::Options => Decision::Options,
                _ => Decision::Answer(StatusCode::NOT_FOUND),
            };
        }
        if !self.is_our_domain(&uri) {
            return if Peer::for_uri(uri.as_str()).is_some() {
                Decision::Forward
            } else {
                Decision::Answer(StatusCode::NOT_FOUND)
            };
        }
        if let Some(stale) = self.proxy_auth_needed(r, now) {
            return Decision::Challenge { stale };
        }
        let aor = aor_of(&uri);
        if !self.bindings.lookup(&aor, now).is_empty() {
            return Decision::Forward;
        }
        let known = uri.user().is_some_and(|u| self.users.contains(u));
        Decision::Answer(if known {
            StatusCode::TEMPORARILY_UNAVAILABLE
        } else {
            StatusCode::NOT_FOUND
        })
    }

    pub(crate) fn on_request(&mut self, r: Request, peer: Peer, now: Instant) {
        if *r.method() == Method::Ack {
            // The transaction layer absorbs ACKs for our own non-2xx answers and hands
            // the rest back as TxEvent::Ack, which is forwarded.
            self.tx.on_request(r, peer, now);
            return;
        }
        match self.decide(&r, now) {
            Decision::Forward => self.forward(r, peer, now),
            d => {
                self.decision = Some(d);
                self.tx.on_request(r, peer, now);
                self.pump(now);
                self.decision = None;
            }
        }
    }

    pub(crate) fn respond(
        &mut self,
        id: TxId,
        r: &Request,
        status: StatusCode,
        extra: &[(HeaderName, String)],
        now: Instant,
    ) {
        let tag = r.to_tag().is_none().then(|| self.rng.token(10));
        let mut b = MessageBuilder::response_to(r, status, tag.as_deref())
            .header(HeaderName::Server, &self.config.server);
        for (n, v) in extra {
            b = b.header(*n, v);
        }
        let _ = self
            .tx
            .respond_status(id, status.as_u16(), b.finish().freeze(), now);
    }

    pub(crate) fn answer_locally(&mut self, id: TxId, r: Request, peer: Peer, now: Instant) {
        let decision = self
            .decision
            .take()
            .unwrap_or(Decision::Answer(StatusCode::NOT_FOUND));
        match decision {
            Decision::Register => self.on_register(id, r, peer, now),
            Decision::Options => {
                let allow = "INVITE, ACK, BYE, CANCEL, OPTIONS, REGISTER, MESSAGE, INFO, NOTIFY, UPDATE, REFER, SUBSCRIBE, PRACK".to_string();
                self.respond(id, &r, StatusCode::OK, &[(HeaderName::Allow, allow)], now)
            }
            Decision::Challenge { stale } => self.challenge(id, &r, true, stale, now),
            Decision::Answer(status) => self.respond(id, &r, status, &[], now),
            Decision::Forward => self.forward(r, peer, now),
        }
    }
}

/// `user@host` of a URI, host lower-cased: the key of the location service.
pub fn aor_of(uri: &Uri<'_>) -> String {
    format!("{}@{}", uri.user().unwrap_or_default(), host_of(uri))
}

impl Machine for Registrar {
    type Input = Input;
    /// The registrar reports nothing but what it sends.
    type Event = std::convert::Infallible;

    fn handle_input(&mut self, input: Input, now: Instant) {
        match input {
            Input::Bytes { bytes, peer } => self.handle_bytes(bytes, peer, now),
            Input::Message { message, peer } => self.handle_message(message, peer, now),
            Input::TransportError { tx } => self.handle_transport_error(tx, now),
        }
    }

    fn poll_output(&mut self) -> Option<Output<std::convert::Infallible>> {
        self.poll_transmit().map(Output::Transmit)
    }

    fn poll_timeout(&self) -> Option<Instant> {
        Registrar::poll_timeout(self)
    }

    fn handle_timeout(&mut self, now: Instant) {
        Registrar::handle_timeout(self, now)
    }
}
