//! `SipClient`: the tokio driver joining the [`Endpoint`] to sip-transport, with
//! pyVoIP's shape (`SIPClient` plus `VoIPConnection`).
//!
//! One task owns the endpoint and the transport's event channel; the API talks to it
//! over a command channel and gets answers on oneshot channels. The task keeps one
//! sleep (the endpoint's deadline), holds no lock across an await, and sends through
//! one writer task so messages to a peer keep their order.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use ipnet::IpNet;
use sip_auth::CredentialsManager;
use sip_message::{OsRandom, Request, Response, StatusCode, TransportMode};
use sip_nat::NatPolicy;
use sip_transport::{
    Destination, KeyPassword, Resolver, SystemResolver, TlsClientConfig, TlsServerConfig, Transmit,
    Transport, TransportConfig, TransportEvent,
};
use tokio::sync::{mpsc, oneshot};

use crate::dialog::DialogId;
use crate::endpoint::{
    DialogRequest, Endpoint, EndpointConfig, Event, OutgoingRequest, Output, RequestError,
    RequestId,
};
use crate::peer::Peer;
use crate::registration::{AccountId, RegistrationConfig, RegistrationError, RegistrationEvent};
use crate::transaction::TxId;

/// How a [`SipClient`] connects, registers and presents itself: pyVoIP's
/// `SIPClient` arguments.
#[derive(Clone, Debug)]
pub struct SipClientConfig {
    /// The registrar / proxy host (name or address).
    pub server: String,
    /// Its port (5060, or 5061 for TLS, when `None`).
    pub port: Option<u16>,
    /// The user (of the AOR).
    pub user: String,
    /// The user name to authenticate as, when not `user`.
    pub auth_user: Option<String>,
    /// The AOR's domain (From/To host) when it is not the server's.
    pub domain: Option<String>,
    /// A display name.
    pub display_name: Option<String>,
    /// Credentials (pyVoIP's `CredentialsManager`).
    pub credentials: CredentialsManager,
    /// The address to bind.
    pub bind_ip: IpAddr,
    /// The network whose hosts reach us at `hostname` (`None`: every host).
    pub bind_network: Option<IpNet>,
    /// How hosts inside `bind_network` reach us (resolved to an address at start).
    pub hostname: Option<String>,
    /// How hosts outside it reach us.
    pub remote_hostname: Option<String>,
    /// The local port (0: any).
    pub bind_port: u16,
    /// UDP, TCP or TLS to the server.
    pub transport_mode: TransportMode,
    /// Our certificate (TLS listener and client certificate).
    pub cert_file: Option<PathBuf>,
    /// Its key.
    pub key_file: Option<PathBuf>,
    /// The key's password.
    pub key_password: Option<KeyPassword>,
    /// CA certificates to trust for the server's certificate (TLS).
    pub ca_files: Vec<PathBuf>,
    /// Trust the system's roots too.
    pub system_roots: bool,
    /// The expiry to ask for, seconds.
    pub expires: u32,
    /// How long `start()` and `register()` wait for the registrar.
    pub register_timeout: Duration,
    /// The UA core's configuration (timers, methods, User-Agent, auth policy).
    pub endpoint: EndpointConfig,
}

impl SipClientConfig {
    /// A configuration for `user` at `server` with these credentials: UDP, any
    /// local port, 3600 s.
    pub fn new(server: &str, user: &str, credentials: CredentialsManager) -> SipClientConfig {
        SipClientConfig {
            server: server.to_string(),
            port: None,
            user: user.to_string(),
            auth_user: None,
            domain: None,
            display_name: None,
            credentials,
            bind_ip: IpAddr::from([0, 0, 0, 0]),
            bind_network: None,
            hostname: None,
            remote_hostname: None,
            bind_port: 0,
            transport_mode: TransportMode::Udp,
            cert_file: None,
            key_file: None,
            key_password: None,
            ca_files: Vec::new(),
            system_roots: false,
            expires: 3600,
            register_timeout: Duration::from_secs(40),
            endpoint: EndpointConfig::default(),
        }
    }
}

/// Why the client could not start, register or send.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ClientError {
    /// The registrar refused our credentials (pyVoIP's `InvalidAccountInfo`).
    #[error("invalid account info: credentials refused for realm {realm:?}")]
    InvalidAccountInfo {
        /// The realm.
        realm: String,
    },
    /// The registration failed for another reason.
    #[error("registration failed: {0}")]
    Registration(RegistrationError),
    /// No answer in time.
    #[error("no answer from the registrar within {0:?}")]
    Timeout(Duration),
    /// The transport failed (bind, connect, TLS verification...).
    #[error("transport: {0}")]
    Transport(String),
    /// The server name did not resolve.
    #[error("cannot resolve {host}: {reason}")]
    Resolve {
        /// The name.
        host: String,
        /// Why.
        reason: String,
    },
    /// No address to advertise (sip-nat).
    #[error(transparent)]
    Nat(#[from] sip_nat::NatError),
    /// A request could not be sent.
    #[error(transparent)]
    Request(#[from] RequestError),
    /// The client stopped.
    #[error("the client has stopped")]
    Stopped,
}

impl ClientError {
    fn from_registration(e: RegistrationError, transport: Option<String>) -> ClientError {
        match e {
            RegistrationError::CredentialsRejected { realm } => {
                ClientError::InvalidAccountInfo { realm }
            }
            RegistrationError::Transport => {
                ClientError::Transport(transport.unwrap_or_else(|| "the transport failed".into()))
            }
            other => ClientError::Registration(other),
        }
    }
}

/// What the registrar granted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Registered {
    /// The AOR.
    pub aor: String,
    /// The expiry granted, seconds.
    pub expires: u32,
    /// Our Contact as sent.
    pub contact: String,
    /// The Contacts the registrar holds for the AOR.
    pub bindings: Vec<String>,
}

/// The responses to one request sent with [`SipClient::send`] (pyVoIP's
/// `VoIPConnection`): provisional ones, then the final one, then `None`.
#[derive(Debug)]
pub struct RequestHandle {
    /// The request's id in the endpoint.
    pub id: RequestId,
    rx: mpsc::UnboundedReceiver<Result<(Response, Option<DialogId>), RequestError>>,
}

impl RequestHandle {
    /// The next response (and the dialog it made or belongs to), or the error that
    /// ended the request; `None` once it is over.
    pub async fn next(&mut self) -> Option<Result<(Response, Option<DialogId>), RequestError>> {
        self.rx.recv().await
    }

    /// Waits for the final response.
    pub async fn final_response(&mut self) -> Result<(Response, Option<DialogId>), RequestError> {
        while let Some(r) = self.next().await {
            match r {
                Ok((resp, d)) if resp.status().as_u16() >= 200 => return Ok((resp, d)),
                Ok(_) => {}
                Err(e) => return Err(e),
            }
        }
        Err(RequestError::Transport)
    }
}

type Reply<T> = oneshot::Sender<T>;

enum Command {
    Register(AccountId, Reply<Result<Registered, ClientError>>),
    Deregister(AccountId, Reply<Result<(), ClientError>>),
    AddAccount(Box<RegistrationConfig>, Reply<AccountId>),
    Send(
        AccountId,
        Box<OutgoingRequest>,
        Reply<Result<RequestHandle, ClientError>>,
    ),
    SendInDialog(
        DialogId,
        Box<DialogRequest>,
        Reply<Result<RequestHandle, ClientError>>,
    ),
    Respond(TxId, Bytes, Reply<Result<(), ClientError>>),
    Answer(
        TxId,
        Box<Request>,
        StatusCode,
        Option<String>,
        Bytes,
        Reply<Result<Option<DialogId>, ClientError>>,
    ),
    Stop(Reply<()>),
}

/// A SIP user agent on tokio: registers, keeps the registration fresh, sends
/// requests, and delivers what arrives as [`Event`]s.
#[derive(Debug)]
pub struct SipClient {
    commands: mpsc::Sender<Command>,
    events: Option<mpsc::UnboundedReceiver<Event>>,
    account: AccountId,
    registered: Registered,
    local: SocketAddr,
}

fn stopped<T>(_: T) -> ClientError {
    ClientError::Stopped
}

impl SipClient {
    /// Binds, registers, and returns once the first REGISTER succeeded; or the
    /// reason it did not.
    pub async fn start(config: SipClientConfig) -> Result<SipClient, ClientError> {
        let mode = config.transport_mode;
        let port = config.port.unwrap_or(mode.default_port());
        let server_addr = SystemResolver
            .resolve(&config.server, port)
            .await
            .map_err(|e| ClientError::Resolve {
                host: config.server.clone(),
                reason: e.to_string(),
            })?
            .into_iter()
            .next()
            .ok_or_else(|| ClientError::Resolve {
                host: config.server.clone(),
                reason: "no address".into(),
            })?;
        let bind_ip = if config.bind_ip.is_unspecified() && server_addr.is_ipv6() {
            IpAddr::from([0u16; 8])
        } else {
            config.bind_ip
        };
        let tls_server = match (&config.cert_file, &config.key_file) {
            (Some(c), Some(k)) => Some(TlsServerConfig {
                cert_file: c.clone(),
                key_file: k.clone(),
                key_password: config.key_password.clone(),
            }),
            _ => None,
        };
        let tconf = TransportConfig {
            bind_ip,
            udp_port: Some(config.bind_port),
            tcp_port: Some(config.bind_port),
            tls_port: (mode == TransportMode::Tls && tls_server.is_some()).then_some(0),
            tls_client: Some(TlsClientConfig {
                system_roots: config.system_roots,
                ca_files: config.ca_files.clone(),
                client_cert: tls_server.clone(),
            }),
            tls_server,
            ..TransportConfig::default()
        };
        let (transport, transport_rx) = Transport::bind(tconf, Arc::new(SystemResolver))
            .await
            .map_err(|e| ClientError::Transport(e.to_string()))?;
        // The address we advertise: sip-nat's rules toward the server.
        let network = config.bind_network.unwrap_or_else(|| {
            if server_addr.is_ipv6() {
                "::/0"
            } else {
                "0.0.0.0/0"
            }
            .parse()
            .unwrap_or_default()
        });
        let mut policy = NatPolicy::new(bind_ip, network);
        if let Some(h) = &config.hostname {
            policy = policy.with_hostname(h);
        }
        if let Some(h) = &config.remote_hostname {
            policy = policy.with_remote_hostname(h);
        }
        let host = policy.get_host(server_addr.ip(), &transport)?;
        let local_port = transport
            .local_addr(
                if mode == TransportMode::Tls && transport.local_addr(TransportMode::Tls).is_none()
                {
                    TransportMode::Tcp
                } else {
                    mode
                },
            )
            .map(|a| a.port())
            .unwrap_or(0);
        let local_ip = match host.trim_matches(['[', ']']).parse::<IpAddr>() {
            Ok(ip) => ip,
            Err(_) => SystemResolver
                .resolve(&host, local_port)
                .await
                .ok()
                .and_then(|v| v.into_iter().next())
                .map(|a| a.ip())
                .ok_or_else(|| ClientError::Resolve {
                    host: host.clone(),
                    reason: "the hostname to advertise does not resolve".into(),
                })?,
        };
        let local = SocketAddr::new(local_ip, local_port);
        let domain = config
            .domain
            .clone()
            .unwrap_or_else(|| config.server.clone());
        let host_part = |h: &str| {
            if h.contains(':') && !h.starts_with('[') {
                format!("[{h}]")
            } else {
                h.to_string()
            }
        };
        let aor = format!("sip:{}@{}", config.user, host_part(&domain));
        let mut registrar = format!("sip:{}", host_part(&domain));
        if config.port.is_some_and(|p| p != mode.default_port()) && config.domain.is_none() {
            registrar = format!("sip:{}:{port}", host_part(&domain));
        }
        if mode != TransportMode::Udp {
            registrar.push_str(&format!(";transport={}", mode.uri_param()));
        }
        let mut peer = Peer::new(mode, server_addr);
        if mode == TransportMode::Tls {
            peer.tls_name = Some(config.server.clone());
        }
        let mut reg = RegistrationConfig::new(&aor, &registrar, peer, local);
        reg.server = config.server.clone();
        reg.auth_user = config
            .auth_user
            .clone()
            .unwrap_or_else(|| config.user.clone());
        reg.display_name = config.display_name.clone();
        reg.expires = config.expires;
        reg.instance = Some(instance_id(&mut OsRandom));
        let mut endpoint = Endpoint::new(
            config.endpoint.clone(),
            config.credentials.clone(),
            Box::new(OsRandom),
        );
        let account = endpoint.add_account(reg);
        let (commands, command_rx) = mpsc::channel(64);
        let (event_tx, event_rx) = mpsc::unbounded_channel();
        let driver = Driver {
            endpoint,
            transport,
            waiting_register: HashMap::new(),
            waiting_deregister: HashMap::new(),
            handles: HashMap::new(),
            events: event_tx,
            last_transport_error: None,
        };
        tokio::spawn(driver.run(transport_rx, command_rx));
        let (tx, rx) = oneshot::channel();
        commands
            .send(Command::Register(account, tx))
            .await
            .map_err(stopped)?;
        let registered = match tokio::time::timeout(config.register_timeout, rx).await {
            Ok(Ok(r)) => r?,
            Ok(Err(_)) => return Err(ClientError::Stopped),
            Err(_) => {
                let _ = stop_quietly(&commands).await;
                return Err(ClientError::Timeout(config.register_timeout));
            }
        };
        Ok(SipClient {
            commands,
            events: Some(event_rx),
            account,
            registered,
            local,
        })
    }

    /// The first account.
    pub fn account(&self) -> AccountId {
        self.account
    }

    /// What the registrar granted at start.
    pub fn registered(&self) -> &Registered {
        &self.registered
    }

    /// The address we advertise (Via, Contact).
    pub fn local_addr(&self) -> SocketAddr {
        self.local
    }

    /// The stream of incoming requests and registration changes (pyVoIP's
    /// `call_callback` and `fatal_callback`). It can be taken once.
    pub fn take_events(&mut self) -> Option<mpsc::UnboundedReceiver<Event>> {
        self.events.take()
    }

    async fn ask<T>(&self, make: impl FnOnce(Reply<T>) -> Command) -> Result<T, ClientError> {
        let (tx, rx) = oneshot::channel();
        self.commands.send(make(tx)).await.map_err(stopped)?;
        rx.await.map_err(stopped)
    }

    /// Adds an account (a second AOR on the same client); register it with
    /// [`SipClient::register`].
    pub async fn add_account(&self, config: RegistrationConfig) -> Result<AccountId, ClientError> {
        self.ask(|r| Command::AddAccount(Box::new(config), r)).await
    }

    /// Registers an account now and waits for the answer.
    pub async fn register(&self, account: AccountId) -> Result<Registered, ClientError> {
        self.ask(|r| Command::Register(account, r)).await?
    }

    /// Removes an account's binding (Expires: 0) and waits for the answer.
    pub async fn deregister(&self, account: AccountId) -> Result<(), ClientError> {
        self.ask(|r| Command::Deregister(account, r)).await?
    }

    /// Sends a request for an account; the handle yields its responses.
    pub async fn send(
        &self,
        account: AccountId,
        request: OutgoingRequest,
    ) -> Result<RequestHandle, ClientError> {
        self.ask(|r| Command::Send(account, Box::new(request), r))
            .await?
    }

    /// Sends a request inside a dialog (BYE, INFO, re-INVITE, ...).
    pub async fn send_in_dialog(
        &self,
        dialog: DialogId,
        request: DialogRequest,
    ) -> Result<RequestHandle, ClientError> {
        self.ask(|r| Command::SendInDialog(dialog, Box::new(request), r))
            .await?
    }

    /// Answers an incoming request with a response the application built.
    pub async fn respond(&self, tx: TxId, response: Bytes) -> Result<(), ClientError> {
        self.ask(|r| Command::Respond(tx, response, r)).await?
    }

    /// Answers an incoming INVITE (see [`Endpoint::answer_invite`]).
    pub async fn answer_invite(
        &self,
        tx: TxId,
        request: Request,
        status: StatusCode,
        content_type: Option<&str>,
        body: Bytes,
    ) -> Result<Option<DialogId>, ClientError> {
        let ct = content_type.map(str::to_string);
        self.ask(|r| Command::Answer(tx, Box::new(request), status, ct, body, r))
            .await?
    }

    /// Deregisters every account and closes the transport.
    pub async fn stop(self) {
        let _ = stop_quietly(&self.commands).await;
    }
}

async fn stop_quietly(commands: &mpsc::Sender<Command>) -> Result<(), ClientError> {
    let (tx, rx) = oneshot::channel();
    commands.send(Command::Stop(tx)).await.map_err(stopped)?;
    rx.await.map_err(stopped)
}

/// A random RFC 4122 version-4 UUID URN, for `+sip.instance`.
pub fn instance_id(rng: &mut dyn sip_message::Random) -> String {
    let mut b = [0u8; 16];
    rng.fill(&mut b);
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!(
        "urn:uuid:{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}

type HandleTx = mpsc::UnboundedSender<Result<(Response, Option<DialogId>), RequestError>>;

struct Driver {
    endpoint: Endpoint,
    transport: Transport,
    waiting_register: HashMap<AccountId, Vec<Reply<Result<Registered, ClientError>>>>,
    waiting_deregister: HashMap<AccountId, Vec<Reply<Result<(), ClientError>>>>,
    handles: HashMap<RequestId, HandleTx>,
    events: mpsc::UnboundedSender<Event>,
    last_transport_error: Option<String>,
}

/// A transmission and the transaction it belongs to, for the writer task.
struct Outgoing {
    peer: Peer,
    bytes: Bytes,
    tx: Option<TxId>,
}

/// Where sip-transport sends for a [`Peer`]: on its connection when it came on one
/// (falling back to a new connection to its address, except for TLS, whose name
/// would be unknown), else to its address.
pub fn destination(peer: &Peer) -> Destination {
    let addr = Destination::Addr {
        mode: peer.mode,
        addr: peer.addr,
        tls_name: peer.tls_name.clone(),
    };
    match peer.connection {
        Some(c) => Destination::Connection {
            id: sip_transport::ConnectionId(c),
            fallback: (peer.mode != TransportMode::Tls || peer.tls_name.is_some())
                .then(|| Box::new(addr)),
        },
        None => addr,
    }
}

/// Sends in order; reports failures back to the driver.
async fn writer(
    transport: Transport,
    mut rx: mpsc::UnboundedReceiver<Outgoing>,
    failures: mpsc::UnboundedSender<(Option<TxId>, String)>,
) {
    while let Some(o) = rx.recv().await {
        let t = Transmit {
            destination: destination(&o.peer),
            bytes: o.bytes,
            allow_tcp_upgrade: o.peer.mode == TransportMode::Udp,
        };
        if let Err(e) = transport.send(t).await {
            tracing::debug!(peer = %o.peer, error = %e, "send failed");
            let _ = failures.send((o.tx, e.to_string()));
        }
    }
}

impl Driver {
    async fn run(
        mut self,
        mut transport_rx: mpsc::Receiver<TransportEvent>,
        mut commands: mpsc::Receiver<Command>,
    ) {
        let (out_tx, out_rx) = mpsc::unbounded_channel();
        let (fail_tx, mut fail_rx) = mpsc::unbounded_channel();
        tokio::spawn(writer(self.transport.clone(), out_rx, fail_tx));
        let mut stopping: Option<(Reply<()>, tokio::time::Instant)> = None;
        loop {
            self.drain(&out_tx);
            if let Some((_, until)) = &stopping {
                let done =
                    self.endpoint.registered_count() == 0 && self.waiting_deregister.is_empty();
                if done || tokio::time::Instant::now() >= *until {
                    break;
                }
            }
            let deadline = self
                .endpoint
                .poll_timeout()
                .map(tokio::time::Instant::from_std);
            let stop_deadline = stopping.as_ref().map(|(_, u)| *u);
            let wake = [deadline, stop_deadline].into_iter().flatten().min();
            tokio::select! {
                ev = transport_rx.recv() => match ev {
                    Some(ev) => self.on_transport(ev),
                    None => break,
                },
                cmd = commands.recv(), if stopping.is_none() => match cmd {
                    Some(Command::Stop(reply)) => {
                        let ids: Vec<AccountId> = self.endpoint.accounts().map(|(id, _)| id).collect();
                        let now = Instant::now();
                        for id in ids {
                            if self.endpoint.account(id).is_some_and(|r| r.granted().is_some()) {
                                self.waiting_deregister.entry(id).or_default();
                                self.endpoint.unregister(id, now);
                            }
                        }
                        stopping = Some((reply, tokio::time::Instant::now() + Duration::from_secs(5)));
                    }
                    Some(c) => self.on_command(c),
                    None => {
                        // Every handle dropped: deregister and stop.
                        let ids: Vec<AccountId> = self.endpoint.accounts().map(|(id, _)| id).collect();
                        for id in ids {
                            self.endpoint.unregister(id, Instant::now());
                        }
                        self.drain(&out_tx);
                        break;
                    }
                },
                Some((tx, why)) = fail_rx.recv() => {
                    self.last_transport_error = Some(why);
                    if let Some(tx) = tx {
                        self.endpoint.handle_transport_error(tx, Instant::now());
                    }
                }
                _ = async {
                    match wake {
                        Some(w) => tokio::time::sleep_until(w).await,
                        None => std::future::pending().await,
                    }
                } => {
                    self.endpoint.handle_timeout(Instant::now());
                }
            }
        }
        // Give the writer a moment to flush the last messages (the deregistration).
        drop(out_tx);
        tokio::time::sleep(Duration::from_millis(20)).await;
        self.transport.shutdown();
        if let Some((reply, _)) = stopping {
            let _ = reply.send(());
        }
    }

    fn on_transport(&mut self, ev: TransportEvent) {
        match ev {
            TransportEvent::Message(m) => {
                let peer = Peer {
                    mode: m.mode,
                    addr: m.source,
                    connection: m.connection.map(|c| c.0),
                    tls_name: None,
                };
                self.endpoint
                    .handle_message(m.message, peer, Instant::now());
            }
            TransportEvent::ConnectionClosed { remote, reason, .. } => {
                tracing::debug!(%remote, ?reason, "connection closed");
            }
            _ => {}
        }
    }

    fn on_command(&mut self, c: Command) {
        let now = Instant::now();
        match c {
            Command::Register(id, reply) => {
                if self.endpoint.account(id).is_none() {
                    let _ = reply.send(Err(ClientError::Request(RequestError::NoAccount)));
                    return;
                }
                self.waiting_register.entry(id).or_default().push(reply);
                self.endpoint.register(id, now);
            }
            Command::Deregister(id, reply) => {
                self.waiting_deregister.entry(id).or_default().push(reply);
                self.endpoint.unregister(id, now);
            }
            Command::AddAccount(cfg, reply) => {
                let _ = reply.send(self.endpoint.add_account(*cfg));
            }
            Command::Send(account, req, reply) => {
                let r = self
                    .endpoint
                    .send(account, *req, now)
                    .map(|id| self.handle(id))
                    .map_err(ClientError::from);
                let _ = reply.send(r);
            }
            Command::SendInDialog(d, req, reply) => {
                let r = self
                    .endpoint
                    .send_in_dialog(d, *req, now)
                    .map(|id| self.handle(id))
                    .map_err(ClientError::from);
                let _ = reply.send(r);
            }
            Command::Respond(tx, bytes, reply) => {
                let r = self
                    .endpoint
                    .respond(tx, bytes, now)
                    .map_err(|e| ClientError::Request(RequestError::Invalid(e.to_string())));
                let _ = reply.send(r);
            }
            Command::Answer(tx, req, status, ct, body, reply) => {
                let r = self
                    .endpoint
                    .answer_invite(tx, &req, status, ct.as_deref(), &body, now)
                    .map_err(|e| ClientError::Request(RequestError::Invalid(e.to_string())));
                let _ = reply.send(r);
            }
            Command::Stop(reply) => {
                let _ = reply.send(());
            }
        }
    }

    fn handle(&mut self, id: RequestId) -> RequestHandle {
        let (tx, rx) = mpsc::unbounded_channel();
        self.handles.insert(id, tx);
        RequestHandle { id, rx }
    }

    fn drain(&mut self, out: &mpsc::UnboundedSender<Outgoing>) {
        while let Some(o) = self.endpoint.poll_output() {
            match o {
                Output::Transmit { peer, bytes, tx } => {
                    let _ = out.send(Outgoing { peer, bytes, tx });
                }
                Output::Event(e) => self.on_event(e),
            }
        }
    }

    fn on_event(&mut self, e: Event) {
        match e {
            Event::Response {
                id,
                response,
                dialog,
            } => {
                let last = response.status().as_u16() >= 200;
                if let Some(h) = self.handles.get(&id) {
                    let _ = h.send(Ok((response, dialog)));
                }
                if last {
                    self.handles.remove(&id);
                }
            }
            Event::RequestFailed { id, error } => {
                if let Some(h) = self.handles.remove(&id) {
                    let _ = h.send(Err(error));
                }
            }
            Event::Registration { account, event } => {
                self.on_registration(account, &event);
                let _ = self.events.send(Event::Registration { account, event });
            }
            other => {
                let _ = self.events.send(other);
            }
        }
    }

    fn on_registration(&mut self, account: AccountId, event: &RegistrationEvent) {
        match event {
            RegistrationEvent::Registered {
                expires,
                contact,
                bindings,
                ..
            } => {
                let aor = self
                    .endpoint
                    .account(account)
                    .map(|r| r.config().aor.clone())
                    .unwrap_or_default();
                for w in self.waiting_register.remove(&account).unwrap_or_default() {
                    let _ = w.send(Ok(Registered {
                        aor: aor.clone(),
                        expires: *expires,
                        contact: contact.clone(),
                        bindings: bindings.clone(),
                    }));
                }
            }
            RegistrationEvent::Failed { error, .. } => {
                for w in self.waiting_register.remove(&account).unwrap_or_default() {
                    let _ = w.send(Err(ClientError::from_registration(
                        error.clone(),
                        self.last_transport_error.clone(),
                    )));
                }
            }
            RegistrationEvent::Unregistered { error } => {
                for w in self.waiting_deregister.remove(&account).unwrap_or_default() {
                    let _ = w.send(match error {
                        None => Ok(()),
                        Some(e) => Err(ClientError::from_registration(
                            e.clone(),
                            self.last_transport_error.clone(),
                        )),
                    });
                }
            }
            RegistrationEvent::PublicAddress { .. } => {}
        }
    }
}
