//! The registrar and location proxy, sans-IO: fed messages and instants, it answers
//! REGISTER (digest-authenticated, RFC 3261 §10.3), answers OPTIONS to itself, and
//! forwards other requests statelessly (§16.11): initial requests to the Contacts
//! registered for the Request-URI's AOR, record-routing itself; in-dialog requests by
//! their Route; responses back along the Via path.

use std::collections::{HashMap, VecDeque};
use std::hash::{DefaultHasher, Hash, Hasher};
use std::net::{IpAddr, SocketAddr};
use std::time::Instant;

use bytes::Bytes;
use sip_auth::{Algorithm, DigestVerifier, Verdict, VerifierConfig};
use sip_client::{
    Input, Machine, Output, Peer, TimerConfig, TransactionLayer, Transmit, TxEvent, TxId, uri_in,
};
use sip_message::headers::{AuthHeader, BRANCH_MAGIC_COOKIE, Rport, Token};
use sip_message::{
    HeaderName, Message, MessageBuilder, Method, Random, Request, Response, StatusCode,
    TransportMode, Uri,
};

use crate::bindings::{Bindings, ContactUpdate, UpdateError};
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
struct Upstream {
    peer: Peer,
    until: Instant,
}

/// The most forwarded requests remembered at once (their responses route back by Via
/// when forgotten).
const MAX_UPSTREAM: usize = 65_536;

/// What the registrar does with a request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Decision {
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
    config: RegistrarConfig,
    users: Users,
    verifier: DigestVerifier,
    bindings: Bindings,
    tx: TransactionLayer,
    rng: Box<dyn Random + Send>,
    epoch: Instant,
    salt: u64,
    out: VecDeque<Transmit>,
    upstream: HashMap<String, Upstream>,
    upstream_order: VecDeque<String>,
    stats: Stats,
    /// The decision for the request being handed to the transaction layer.
    decision: Option<Decision>,
    /// When expired bindings are next dropped.
    purge_at: Option<Instant>,
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
    fn secs(&self, now: Instant) -> u64 {
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

    fn pump(&mut self, now: Instant) {
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
    fn is_us(&self, uri: &Uri<'_>) -> bool {
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
    fn is_our_domain(&self, uri: &Uri<'_>) -> bool {
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
    fn decide(&mut self, r: &Request, now: Instant) -> Decision {
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

    /// For an initial request from one of our users: `None` when it may pass (valid
    /// Proxy-Authorization, or no check due), `Some(stale)` when it must be
    /// challenged. A verdict is remembered per branch, so retransmissions and the
    /// CANCEL are not checked twice (a nonce count is accepted only once).
    fn proxy_auth_needed(&mut self, r: &Request, now: Instant) -> Option<bool> {
        if !self.config.authenticate_requests
            || matches!(r.method(), Method::Ack | Method::Cancel)
            || r.to_tag().is_some()
        {
            return None;
        }
        let from = r.from().uri();
        let local_user =
            from.user().is_some_and(|u| self.users.contains(u)) && self.is_our_domain(&from);
        if !local_user {
            return None;
        }
        let key = self.stateless_branch(r);
        if self.upstream.contains_key(&key) {
            return None;
        }
        let secs = self.secs(now);
        for (name, h) in r.auth_headers() {
            if name != HeaderName::ProxyAuthorization {
                continue;
            }
            let Ok(h) = h else { continue };
            if h.param("realm").is_some_and(|v| *v == *self.config.realm) {
                let Some(uri) = self.digest_uri(&h, r) else {
                    return Some(false);
                };
                return match self.verifier.verify(
                    &h,
                    r.method().as_str(),
                    &uri,
                    r.body(),
                    secs,
                    &self.users,
                ) {
                    Verdict::Authorized { .. } => None,
                    Verdict::Stale => Some(true),
                    Verdict::Rejected(_) => Some(false),
                };
            }
        }
        Some(false)
    }

    /// The digest URI to check credentials against: the Request-URI, or a URI naming
    /// this registrar (SIPp, for one, answers with `sip:host:port` of the server it
    /// sends to rather than the Request-URI). Anything else is refused.
    fn digest_uri(&self, h: &AuthHeader<'_>, r: &Request) -> Option<String> {
        let given = h.param("uri")?;
        if *given == *r.uri().as_str() {
            return Some(given.into_owned());
        }
        let u = Uri::parse(&given).ok()?;
        (u.user().is_none() && (self.is_us(&u) || self.is_our_domain(&u)))
            .then(|| given.into_owned())
    }

    fn on_request(&mut self, r: Request, peer: Peer, now: Instant) {
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

    fn respond(
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

    fn challenge(&mut self, id: TxId, r: &Request, proxy: bool, stale: bool, now: Instant) {
        let secs = self.secs(now);
        let values = self.verifier.challenges(secs, stale, &mut *self.rng);
        let (status, name) = if proxy {
            (
                StatusCode::PROXY_AUTHENTICATION_REQUIRED,
                HeaderName::ProxyAuthenticate,
            )
        } else {
            (StatusCode::UNAUTHORIZED, HeaderName::WwwAuthenticate)
        };
        let extra: Vec<(HeaderName, String)> = values.into_iter().map(|v| (name, v)).collect();
        self.stats.challenged += 1;
        self.respond(id, r, status, &extra, now);
    }

    fn answer_locally(&mut self, id: TxId, r: Request, peer: Peer, now: Instant) {
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

    /// RFC 3261 §10.3.
    fn on_register(&mut self, id: TxId, r: Request, peer: Peer, now: Instant) {
        // Step 3: Require we do not support.
        let unsupported: Vec<String> = r
            .typed_all::<Token<'_>>(HeaderName::Require)
            .filter_map(Result::ok)
            .map(|t| t.as_str().to_string())
            .collect();
        if !unsupported.is_empty() {
            self.respond(
                id,
                &r,
                StatusCode::BAD_EXTENSION,
                &[(HeaderName::Unsupported, unsupported.join(", "))],
                now,
            );
            return;
        }
        // Step 4: authentication.
        let secs = self.secs(now);
        let mut verdict = None;
        for (name, h) in r.auth_headers() {
            if name != HeaderName::Authorization {
                continue;
            }
            let h: AuthHeader<'_> = match h {
                Ok(h) => h,
                Err(_) => {
                    self.respond(id, &r, StatusCode::BAD_REQUEST, &[], now);
                    return;
                }
            };
            if h.param("realm").is_some_and(|v| *v == *self.config.realm) {
                let Some(uri) = self.digest_uri(&h, &r) else {
                    self.respond(id, &r, StatusCode::BAD_REQUEST, &[], now);
                    return;
                };
                verdict =
                    Some(
                        self.verifier
                            .verify(&h, "REGISTER", &uri, r.body(), secs, &self.users),
                    );
                break;
            }
        }
        let user = match verdict {
            None => return self.challenge(id, &r, false, false, now),
            Some(Verdict::Stale) => return self.challenge(id, &r, false, true, now),
            Some(Verdict::Rejected(why)) => {
                let status = why.status();
                tracing::debug!(%why, "REGISTER credentials refused");
                if status == StatusCode::UNAUTHORIZED {
                    return self.challenge(id, &r, false, false, now);
                }
                return self.respond(id, &r, status, &[], now);
            }
            Some(Verdict::Authorized { username }) => username,
        };
        // Step 5: the authenticated user may only register its own AOR.
        let to = r.to().uri();
        if to.user() != Some(user.as_str()) {
            return self.respond(id, &r, StatusCode::FORBIDDEN, &[], now);
        }
        let aor = aor_of(&to);
        // Step 6: the Contacts.
        let header_expires = r.expires();
        if r.contact_is_star() {
            if header_expires != Some(0) || r.contacts().next().is_some() {
                return self.respond(id, &r, StatusCode::BAD_REQUEST, &[], now);
            }
            self.bindings.remove_all(&aor);
            return self.ok_with_bindings(id, &r, &aor, now);
        }
        let mut updates = Vec::new();
        for c in r.contacts() {
            let asked = c
                .expires()
                .or(header_expires)
                .unwrap_or(self.config.default_expires);
            if asked != 0 && asked < self.config.min_expires {
                let min = self.config.min_expires.to_string();
                return self.respond(
                    id,
                    &r,
                    StatusCode::INTERVAL_TOO_BRIEF,
                    &[(HeaderName::MinExpires, min)],
                    now,
                );
            }
            let instance = c.sip_instance().map(str::to_string);
            updates.push(ContactUpdate {
                uri: c.uri().as_str().to_string(),
                instance,
                expires: asked.min(self.config.max_expires),
            });
        }
        // Step 7.
        let source = peer.reply_to(&r.top_via());
        match self
            .bindings
            .update(&aor, &updates, r.call_id(), r.cseq_seq(), &source, now)
        {
            Ok(()) => {
                self.stats.registered += 1;
                if let Some(shortest) = updates.iter().map(|u| u.expires).filter(|e| *e > 0).min() {
                    let at = now + std::time::Duration::from_secs(shortest.into());
                    self.purge_at = Some(self.purge_at.map_or(at, |p| p.min(at)));
                }
                self.ok_with_bindings(id, &r, &aor, now);
            }
            Err(UpdateError::OutOfOrder) => {
                self.respond(id, &r, StatusCode::SERVER_INTERNAL_ERROR, &[], now)
            }
            Err(UpdateError::TooMany) => self.respond(id, &r, StatusCode::FORBIDDEN, &[], now),
        }
    }

    fn ok_with_bindings(&mut self, id: TxId, r: &Request, aor: &str, now: Instant) {
        let extra: Vec<(HeaderName, String)> = self
            .bindings
            .lookup(aor, now)
            .iter()
            .map(|b| {
                let left = b
                    .expires_at
                    .saturating_duration_since(now)
                    .as_secs_f64()
                    .round() as u64;
                let mut v = format!("<{}>;expires={left}", b.uri);
                if let Some(i) = &b.instance {
                    v.push_str(&format!(";+sip.instance=\"<{i}>\""));
                }
                (HeaderName::Contact, v)
            })
            .collect();
        self.respond(id, r, StatusCode::OK, &extra, now);
    }

    /// The branch of a forwarded request: a hash of the incoming branch and sent-by,
    /// so a retransmission, its CANCEL and its non-2xx ACK get the same one (§16.11).
    fn stateless_branch(&self, r: &Request) -> String {
        let via = r.top_via();
        let mut h = DefaultHasher::new();
        self.salt.hash(&mut h);
        via.branch().unwrap_or_default().hash(&mut h);
        via.sent_by().hash(&mut h);
        if *r.method() == Method::Ack && !via.has_rfc3261_branch() {
            r.call_id().hash(&mut h);
        }
        let a = h.finish();
        let mut h2 = DefaultHasher::new();
        a.hash(&mut h2);
        self.salt.rotate_left(17).hash(&mut h2);
        format!("{BRANCH_MAGIC_COOKIE}{a:016x}{:08x}", h2.finish() as u32)
    }

    fn listen_for(&self, mode: TransportMode, family_v6: bool) -> Option<SocketAddr> {
        self.config
            .listen
            .iter()
            .filter(|(m, _)| *m == mode)
            .map(|(_, a)| *a)
            .find(|a| a.is_ipv6() == family_v6)
            .or_else(|| {
                self.config
                    .listen
                    .iter()
                    .find(|(m, _)| *m == mode)
                    .map(|(_, a)| *a)
            })
    }

    fn record_route_for(&self, mode: TransportMode, v6: bool) -> Option<String> {
        let a = self.listen_for(mode, v6)?;
        Some(match mode {
            TransportMode::Udp => format!("<sip:{a};lr>"),
            m => format!("<sip:{a};transport={};lr>", m.uri_param()),
        })
    }

    /// Forwards a request statelessly.
    fn forward(&mut self, r: Request, peer: Peer, now: Instant) {
        let in_dialog = r.to_tag().is_some();
        // Route processing (§16.4): our own entries at the top are removed.
        let mut routes: Vec<String> = r
            .routes()
            .filter_map(Result::ok)
            .map(|n| n.as_str().to_string())
            .collect();
        while let Some(first) = routes.first() {
            if Uri::parse(uri_in(first)).is_ok_and(|u| self.is_us(&u)) {
                routes.remove(0);
            } else {
                break;
            }
        }
        // The target: the next Route, else the Request-URI (via the location service
        // for our domain's AORs).
        let mut request_uri = r.uri().as_str().to_string();
        let target: Option<Peer> = if let Some(first) = routes.first() {
            Peer::for_uri(uri_in(first))
        } else {
            let uri = r.uri();
            if !in_dialog && self.is_our_domain(&uri) && uri.user().is_some() {
                let aor = aor_of(&uri);
                match self
                    .bindings
                    .lookup(&aor, now)
                    .into_iter()
                    .max_by_key(|b| b.expires_at)
                {
                    Some(b) => {
                        request_uri = b.uri.clone();
                        Some(b.source.clone())
                    }
                    None => None,
                }
            } else {
                // A registered phone's Contact on a stream transport: its own flow.
                Peer::for_uri(uri.as_str()).map(|p| {
                    match self.bindings.flow_to(uri.as_str(), now) {
                        Some(flow) if p.mode.is_stream() && flow.mode == p.mode => flow.clone(),
                        _ => p,
                    }
                })
            }
        };
        let Some(target) = target else {
            tracing::debug!(uri = %r.uri().as_str(), "no next hop; dropping");
            return;
        };
        let max_forwards = r.max_forwards().map_or(70, |m| m.saturating_sub(1));
        let v6 = target.addr.is_ipv6();
        let Some(our_addr) = self.listen_for(target.mode, v6) else {
            tracing::debug!(mode = %target.mode, "no listener for the next hop's transport");
            return;
        };
        let branch = self.stateless_branch(&r);
        let mut b = MessageBuilder::request(r.method(), &request_uri).header(
            HeaderName::Via,
            format_args!(
                "SIP/2.0/{} {our_addr};branch={branch}",
                target.mode.via_token()
            ),
        );
        // Record-Route initial requests (two entries when the transport changes, RFC 5658).
        if !in_dialog && !matches!(r.method(), Method::Ack | Method::Cancel | Method::Register) {
            if let Some(rr) = self.record_route_for(target.mode, v6) {
                b = b.header(HeaderName::RecordRoute, rr);
            }
            if (peer.mode != target.mode || peer.addr.is_ipv6() != v6)
                && let Some(rr) = self.record_route_for(peer.mode, peer.addr.is_ipv6())
            {
                b = b.header(HeaderName::RecordRoute, rr);
            }
        }
        let top_via = r.top_via();
        let mut first_via = true;
        let mut routes_written = false;
        for f in r.headers() {
            match f.name {
                HeaderName::Via if first_via => {
                    first_via = false;
                    let mut v = top_via.as_str().to_string();
                    // §18.2.1: received, and rport filled in.
                    if top_via.host_ip() != Some(peer.addr.ip()) && top_via.received().is_none() {
                        v.push_str(&format!(";received={}", peer.addr.ip()));
                    }
                    if matches!(top_via.rport(), Some(Rport::Requested)) {
                        v = v.replacen(";rport", &format!(";rport={}", peer.addr.port()), 1);
                    }
                    let rest = f.value.strip_prefix(top_via.as_str()).unwrap_or("");
                    b = b.header(HeaderName::Via, format_args!("{v}{rest}"));
                }
                HeaderName::Route => {
                    if !routes_written {
                        routes_written = true;
                        for rt in &routes {
                            b = b.header(HeaderName::Route, rt);
                        }
                    }
                }
                HeaderName::MaxForwards => {}
                HeaderName::ContentLength => {}
                _ => b = b.header(f.raw_name, f.value),
            }
        }
        b = b.header(HeaderName::MaxForwards, max_forwards);
        let bytes = b.finish_with_body(None, r.body()).freeze();
        // Content-Type was copied among the headers; finish_with_body(None, ..) only
        // writes Content-Length.
        self.remember_upstream(branch, peer, now);
        self.stats.forwarded += 1;
        self.out.push_back(Transmit {
            peer: target,
            bytes,
            tx: None,
        });
    }

    fn remember_upstream(&mut self, branch: String, peer: Peer, now: Instant) {
        let until = now + self.config.timers.invite_proceeding_timeout + self.config.timers.t1x64();
        if self
            .upstream
            .insert(branch.clone(), Upstream { peer, until })
            .is_none()
        {
            self.upstream_order.push_back(branch);
        }
        while self.upstream_order.len() > MAX_UPSTREAM {
            if let Some(old) = self.upstream_order.pop_front() {
                self.upstream.remove(&old);
            }
        }
    }

    /// A response: ours at the top of the Via is removed, and it goes to the next.
    fn forward_response(&mut self, r: Response, _now: Instant) {
        let top = r.top_via();
        let Some(branch) = top.branch() else { return };
        let ours = self.config.listen.iter().any(|(_, a)| {
            top.host_ip()
                .is_some_and(|ip| ip == a.ip() || a.ip().is_unspecified())
                && top.port().unwrap_or(5060) == a.port()
        });
        if !ours || r.via_count() < 2 {
            return;
        }
        let next = r.vias().nth(1);
        let Some(next) = next else { return };
        let upstream = self.upstream.get(branch).map(|u| u.peer.clone());
        let peer = match upstream {
            Some(p) => p,
            None => {
                let mode = TransportMode::parse(next.transport()).unwrap_or(TransportMode::Udp);
                let ip = next.received_ip().or(next.host_ip());
                let Some(ip) = ip else { return };
                let port = match next.rport() {
                    Some(Rport::Port(p)) => p,
                    _ => next.port().unwrap_or(mode.default_port()),
                };
                Peer::new(mode, SocketAddr::new(ip, port))
            }
        };
        let mut b = MessageBuilder::response_into(
            bytes::BytesMut::with_capacity(r.head().len() + r.body().len()),
            r.status(),
            r.reason(),
        );
        let mut first_via = true;
        for f in r.headers() {
            match f.name {
                HeaderName::Via if first_via => {
                    first_via = false;
                    let rest = f
                        .value
                        .strip_prefix(top.as_str())
                        .unwrap_or("")
                        .trim_start()
                        .trim_start_matches(',')
                        .trim_start();
                    if !rest.is_empty() {
                        b = b.header(HeaderName::Via, rest);
                    }
                }
                HeaderName::ContentLength => {}
                _ => b = b.header(f.raw_name, f.value),
            }
        }
        let bytes = b.finish_with_body(None, r.body()).freeze();
        self.stats.responses_forwarded += 1;
        self.out.push_back(Transmit {
            peer,
            bytes,
            tx: None,
        });
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
