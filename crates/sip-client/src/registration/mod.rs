//! Registration (RFC 3261 §10) as a sans-IO state machine: one per account.
//!
//! A registration sends REGISTER through the transaction layer, answers 401/407 with
//! sip-auth, reads the expiry the registrar granted (our Contact's `expires`, else
//! Expires), and refreshes before it runs out: at half the granted time or
//! [`RegistrationConfig::refresh_margin`] before the end, whichever is earlier. 423
//! retries with Min-Expires; 5xx with Retry-After waits as told; other failures back
//! off. After [`RegistrationConfig::failure_threshold`] failures in a row (pyVoIP's
//! `REGISTER_FAILURE_THRESHOLD`), or at once when the credentials are refused, it
//! stops and reports a fatal failure with the reason.

mod config;
mod outcome;
mod request;

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use sip_auth::{AuthError, AuthSession, RequestTarget};
use sip_message::headers::{MinExpires, RetryAfter};
use sip_message::{HeaderName, Response, Uri};
use sip_nat::{AddressLearner, Observation};

pub use config::RegistrationConfig;
pub use outcome::{RegistrationError, RegistrationEvent, RegistrationState};

use crate::context::{AccountId, Ctx, Identity};
use crate::ids;
use crate::transaction::TxId;

/// What the endpoint routes to a registration (moved in once, like the call's).
#[derive(Debug)]
#[allow(clippy::large_enum_variant)]
pub(crate) enum RegistrationInput {
    /// A response for the REGISTER's transaction.
    Response { tx: TxId, response: Response },
    /// The REGISTER's transaction timed out or could not send.
    Failed { tx: TxId, timeout: bool },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Purpose {
    Register,
    Unregister,
}

#[derive(Debug)]
struct InFlight {
    tx: TxId,
    purpose: Purpose,
    sent_at: Instant,
    /// The old Contact removed in this request (after a public address change).
    removing: Option<SocketAddr>,
    /// The realm our credentials answered in this request, if they did.
    answered_realm: Option<String>,
}

/// One account's registration.
#[derive(Debug)]
pub struct Registration {
    id: AccountId,
    config: RegistrationConfig,
    call_id: String,
    from_tag: String,
    cseq: u32,
    expires: u32,
    state: RegistrationState,
    auth: AuthSession,
    failures: u32,
    /// When the binding we hold runs out.
    bound_until: Option<Instant>,
    granted: Option<u32>,
    timer: Option<Instant>,
    learner: AddressLearner,
    stale_contact: Option<SocketAddr>,
    in_flight: Option<InFlight>,
    /// The 423 Min-Expires already obeyed in this attempt.
    raised_for_423: bool,
    events: VecDeque<RegistrationEvent>,
}

impl Registration {
    pub(crate) fn new(
        id: AccountId,
        config: RegistrationConfig,
        rng: &mut dyn sip_message::Random,
    ) -> Self {
        Registration {
            id,
            call_id: ids::call_id(rng),
            from_tag: ids::tag(rng),
            cseq: 0,
            expires: config.expires,
            state: RegistrationState::Idle,
            auth: AuthSession::new(),
            failures: 0,
            bound_until: None,
            granted: None,
            timer: None,
            learner: AddressLearner::new(config.local),
            stale_contact: None,
            in_flight: None,
            raised_for_423: false,
            events: VecDeque::new(),
            config,
        }
    }

    /// One input from the endpoint: a response for our REGISTER's transaction, or
    /// its failure.
    pub(crate) fn handle_input(
        &mut self,
        input: RegistrationInput,
        ctx: &mut Ctx<'_>,
        now: Instant,
    ) {
        match input {
            RegistrationInput::Response { tx, response } => {
                self.on_response(tx, response, ctx, now)
            }
            RegistrationInput::Failed { tx, timeout } => self.on_tx_failure(tx, timeout, ctx, now),
        }
    }

    /// The next event to report.
    pub(crate) fn poll_event(&mut self) -> Option<RegistrationEvent> {
        self.events.pop_front()
    }

    /// What requests sent for this account carry: the AOR, our Contact and address,
    /// and the names credentials are looked up under.
    pub(crate) fn identity(&self) -> Identity {
        Identity {
            account: self.id,
            from: self.config.aor_name_addr(),
            contact: self.contact_uri(),
            via_addr: self.learner.advertised(),
            server: self.config.server.clone(),
            auth_user: self.config.auth_user.clone(),
            peer: self.config.peer.clone(),
        }
    }

    /// The configuration.
    pub fn config(&self) -> &RegistrationConfig {
        &self.config
    }

    /// Where it stands.
    pub fn state(&self) -> RegistrationState {
        self.state
    }

    /// The expiry granted by the last 2xx.
    pub fn granted(&self) -> Option<u32> {
        self.granted
    }

    /// When the binding we hold runs out, if we hold one.
    pub fn bound_until(&self) -> Option<Instant> {
        self.bound_until
    }

    /// The Call-ID of every REGISTER of this registration (RFC 3261 §10.2).
    pub fn call_id(&self) -> &str {
        &self.call_id
    }

    /// The address Via and Contact advertise now.
    pub fn advertised(&self) -> SocketAddr {
        self.learner.advertised()
    }

    /// The next instant this registration needs [`Registration::handle_timeout`].
    pub(crate) fn poll_timeout(&self) -> Option<Instant> {
        self.timer
    }

    /// Starts (or restarts) registering now.
    pub(crate) fn register(&mut self, ctx: &mut Ctx<'_>, now: Instant) {
        if self.in_flight.is_some() {
            return;
        }
        self.failures = 0;
        self.expires = self.config.expires;
        self.send(Purpose::Register, ctx, now);
    }

    /// Removes our binding (Expires: 0).
    pub(crate) fn unregister(&mut self, ctx: &mut Ctx<'_>, now: Instant) {
        self.timer = None;
        if let Some(f) = self.in_flight.take() {
            ctx.release(f.tx);
        }
        if self.bound_until.is_none() && self.granted.is_none() {
            // Nothing registered: nothing to remove.
            self.state = RegistrationState::Idle;
            self.events
                .push_back(RegistrationEvent::Unregistered { error: None });
            return;
        }
        self.send(Purpose::Unregister, ctx, now);
    }

    fn send(&mut self, purpose: Purpose, ctx: &mut Ctx<'_>, now: Instant) {
        self.auth = AuthSession::new();
        self.raised_for_423 = false;
        self.timer = None;
        self.state = match purpose {
            Purpose::Register => RegistrationState::Registering,
            Purpose::Unregister => RegistrationState::Unregistering,
        };
        let removing = self.stale_contact.take();
        self.transmit(purpose, removing, &[], ctx, now);
    }

    fn transmit(
        &mut self,
        purpose: Purpose,
        removing: Option<SocketAddr>,
        authorization: &[sip_auth::AuthorizationValue],
        ctx: &mut Ctx<'_>,
        now: Instant,
    ) {
        let request = match self.build(purpose, removing, authorization, ctx) {
            Ok(r) => r,
            Err(e) => {
                self.give_up(e);
                return;
            }
        };
        match ctx.send_request(request, self.config.peer.clone(), now) {
            Ok(tx) => {
                self.in_flight = Some(InFlight {
                    tx,
                    purpose,
                    sent_at: now,
                    removing,
                    answered_realm: authorization.first().map(|a| a.realm.clone()),
                });
            }
            Err(_) => self.fail(RegistrationError::Transport, None, now),
        }
    }

    /// A response for our REGISTER.
    fn on_response(&mut self, tx: TxId, response: Response, ctx: &mut Ctx<'_>, now: Instant) {
        let Some(flight) = self.in_flight.as_ref().filter(|f| f.tx == tx) else {
            return;
        };
        let status = response.status().as_u16();
        if status < 200 {
            return;
        }
        let (purpose, sent_at, removing) = (flight.purpose, flight.sent_at, flight.removing);
        let answered_realm = flight.answered_realm.clone();
        self.in_flight = None;
        ctx.release(tx);
        match status {
            200..=299 => self.on_success(purpose, &response, sent_at, ctx, now),
            401 | 407 => self.on_challenge(purpose, removing, &response, ctx, now),
            423 if purpose == Purpose::Register => {
                let min = response
                    .typed::<MinExpires>(HeaderName::MinExpires)
                    .and_then(Result::ok)
                    .map(|m| m.0);
                match min {
                    Some(m) if m > self.expires && !self.raised_for_423 => {
                        self.expires = m;
                        self.raised_for_423 = true;
                        self.transmit(purpose, removing, &[], ctx, now);
                    }
                    _ => self.fail(RegistrationError::IntervalTooBrief, None, now),
                }
            }
            _ => {
                let reason = response.reason().to_string();
                let retry_after = response
                    .typed::<RetryAfter<'_>>(HeaderName::RetryAfter)
                    .and_then(Result::ok)
                    .map(|r| r.seconds);
                let error = if status == 403
                    && let Some(realm) = answered_realm
                {
                    // A 403 to a request that carried our credentials is how many
                    // servers (Asterisk's chan_sip, FreePBX) refuse a wrong password.
                    RegistrationError::CredentialsRejected { realm }
                } else if status >= 500 {
                    RegistrationError::ServerError {
                        status,
                        reason,
                        retry_after,
                    }
                } else {
                    RegistrationError::Rejected { status, reason }
                };
                if purpose == Purpose::Unregister {
                    self.unregistered(Some(error));
                } else if matches!(error, RegistrationError::CredentialsRejected { .. }) {
                    self.give_up(error);
                } else {
                    self.fail(
                        error,
                        retry_after.map(|s| Duration::from_secs(s.into())),
                        now,
                    );
                }
            }
        }
    }

    fn on_success(
        &mut self,
        purpose: Purpose,
        response: &Response,
        sent_at: Instant,
        ctx: &mut Ctx<'_>,
        now: Instant,
    ) {
        if purpose == Purpose::Unregister {
            self.unregistered(None);
            return;
        }
        let ours = self.contact_uri();
        let ours_uri = Uri::parse(&ours).ok();
        let mut bindings = Vec::new();
        let mut mine = None;
        for c in response.contacts() {
            bindings.push(c.as_str().to_string());
            let same_uri = ours_uri.as_ref().is_some_and(|o| o.rfc_eq(&c.uri()));
            let same_instance = self.config.instance.is_some()
                && c.sip_instance() == self.config.instance.as_deref();
            if (same_uri || same_instance) && mine.is_none() {
                mine = Some(c.expires());
            }
        }
        let granted = match mine {
            Some(Some(e)) => e,
            // Our Contact listed without a parameter, or not listed: Expires, else what
            // we asked for.
            _ => response.expires().unwrap_or(self.expires),
        };
        if granted == 0 {
            self.fail(RegistrationError::NotBound, None, now);
            return;
        }
        let refresh = self.bound_until.is_some();
        self.failures = 0;
        // The nonces answered in this attempt are of no further use.
        self.auth = AuthSession::new();
        self.granted = Some(granted);
        let granted_d = Duration::from_secs(granted.into());
        self.bound_until = Some(sent_at + granted_d);
        let wait = (granted_d / 2)
            .min(granted_d.saturating_sub(self.config.refresh_margin))
            .max(Duration::from_secs(1));
        self.timer = Some(sent_at + wait);
        self.state = RegistrationState::Registered;
        self.events.push_back(RegistrationEvent::Registered {
            expires: granted,
            contact: ours,
            bindings,
            refresh,
        });
        // A NAT between us and the registrar: register the address it sees. Only over
        // UDP: on a stream the source port the registrar sees is our connection's
        // ephemeral port, where nothing listens (a NATed phone on TCP or TLS needs
        // RFC 5626 flows instead).
        if self.config.follow_public_address
            && self.config.peer.mode == sip_message::TransportMode::Udp
            && let Observation::Changed { public } = self.learner.observe(&response.top_via())
        {
            self.stale_contact = Some(self.learner.advertised());
            self.learner.adopt(public);
            self.events
                .push_back(RegistrationEvent::PublicAddress { public });
            self.send(Purpose::Register, ctx, now);
        }
    }

    fn on_challenge(
        &mut self,
        purpose: Purpose,
        removing: Option<SocketAddr>,
        response: &Response,
        ctx: &mut Ctx<'_>,
        now: Instant,
    ) {
        let target = RequestTarget {
            secure: self.config.secure,
            ..RequestTarget::new(
                "REGISTER",
                &self.config.registrar,
                &self.config.server,
                &self.config.auth_user,
            )
        };
        match ctx.answer_challenge(&mut self.auth, response, &target) {
            Ok(values) => self.transmit(purpose, removing, &values, ctx, now),
            Err(e) => {
                let error = match e {
                    AuthError::Rejected { realm } => {
                        RegistrationError::CredentialsRejected { realm }
                    }
                    other => RegistrationError::Auth(other),
                };
                if purpose == Purpose::Unregister {
                    self.unregistered(Some(error));
                } else {
                    self.give_up(error);
                }
            }
        }
    }

    fn unregistered(&mut self, error: Option<RegistrationError>) {
        self.state = RegistrationState::Idle;
        self.bound_until = None;
        self.granted = None;
        self.timer = None;
        self.events
            .push_back(RegistrationEvent::Unregistered { error });
    }

    /// Stops for good: the failure cannot be cured by trying again.
    fn give_up(&mut self, error: RegistrationError) {
        self.state = RegistrationState::Failed;
        self.timer = None;
        self.failures = self.failures.saturating_add(1);
        self.events.push_back(RegistrationEvent::Failed {
            error,
            fatal: true,
            retry_in: None,
        });
    }

    /// Counts a failure; retries later or, past the threshold, gives up.
    fn fail(&mut self, error: RegistrationError, retry_after: Option<Duration>, now: Instant) {
        self.failures = self.failures.saturating_add(1);
        if self.failures >= self.config.failure_threshold.max(1) {
            self.state = RegistrationState::Failed;
            self.timer = None;
            self.events.push_back(RegistrationEvent::Failed {
                error,
                fatal: true,
                retry_in: None,
            });
            return;
        }
        let backoff = self
            .config
            .retry_interval
            .saturating_mul(1 << (self.failures - 1).min(16))
            .min(self.config.max_retry_interval);
        let mut wait = retry_after.unwrap_or(backoff).max(Duration::from_secs(1));
        // While a binding is still held, retry early enough to keep it.
        if let Some(until) = self.bound_until
            && retry_after.is_none()
        {
            let left = until.saturating_duration_since(now);
            if left > Duration::from_secs(2) {
                wait = wait.min(left / 2);
            }
        }
        self.state = RegistrationState::WaitingToRetry;
        self.timer = Some(now + wait);
        self.events.push_back(RegistrationEvent::Failed {
            error,
            fatal: false,
            retry_in: Some(wait),
        });
    }

    /// The transaction of our REGISTER timed out or failed to send.
    fn on_tx_failure(&mut self, tx: TxId, timeout: bool, ctx: &mut Ctx<'_>, now: Instant) {
        let Some(flight) = self.in_flight.as_ref().filter(|f| f.tx == tx) else {
            return;
        };
        let purpose = flight.purpose;
        self.in_flight = None;
        ctx.release(tx);
        let error = if timeout {
            RegistrationError::Timeout
        } else {
            RegistrationError::Transport
        };
        match purpose {
            Purpose::Unregister => self.unregistered(Some(error)),
            Purpose::Register => self.fail(error, None, now),
        }
    }

    /// The refresh or retry timer fired.
    pub(crate) fn handle_timeout(&mut self, ctx: &mut Ctx<'_>, now: Instant) {
        if self.timer.is_none_or(|t| t > now) {
            return;
        }
        self.timer = None;
        if self.bound_until.is_some_and(|u| u <= now) {
            // The binding ran out while we waited: we are no longer registered.
            self.bound_until = None;
        }
        if self.in_flight.is_none() {
            self.send(Purpose::Register, ctx, now);
        }
    }

    /// Approximate heap bytes held (for the memory-per-registration figure).
    pub fn heap_size(&self) -> usize {
        let c = &self.config;
        c.aor.capacity()
            + c.display_name.as_ref().map_or(0, String::capacity)
            + c.registrar.capacity()
            + c.server.capacity()
            + c.auth_user.capacity()
            + c.contact_user.capacity()
            + c.instance.as_ref().map_or(0, String::capacity)
            + c.user_agent.as_ref().map_or(0, String::capacity)
            + c.peer.tls_name.as_ref().map_or(0, String::capacity)
            + self.call_id.capacity()
            + self.from_tag.capacity()
    }
}
