//! `SipClient`: the [`Endpoint`] on sip-transport, with pyVoIP's shape (`SIPClient`
//! plus `VoIPConnection`), and handles for calls and requests.
//!
//! The API talks to the loop over a bounded command channel and gets answers on
//! oneshot channels; events go to the application on unbounded channels (an event
//! must never wait for a slow reader while it holds up every call: memory bounds for
//! readers that never read are the application's, see the crate docs).

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use ipnet::IpNet;
use sip_auth::CredentialsManager;
use sip_message::{OsRandom, Request, StatusCode, TransportMode};
use sip_nat::NatPolicy;
use sip_transport::{
    KeyPassword, Resolver, SystemResolver, TlsClientConfig, TlsServerConfig, Transport,
    TransportConfig,
};
use tokio::sync::{mpsc, oneshot};

use super::api::{ClientError, Command, Registered, Reply, stopped};
use super::handles::{CallHandle, ClientEvent, RequestHandle};
use super::run;
use crate::call::CallSpec;
use crate::config::EndpointConfig;
use crate::context::AccountId;
use crate::endpoint::Endpoint;
use crate::ids::instance_id;
use crate::peer::Peer;
use crate::registration::RegistrationConfig;
use crate::requests::OutgoingRequest;
use crate::transaction::TxId;

/// How a [`SipClient`] connects, registers and presents itself: pyVoIP's
/// `SIPClient` arguments.
#[derive(Clone)]
pub struct SipClientConfig {
    /// The registrar / proxy host (name or address); requests go there.
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
    /// Register at start (and keep registered). Without it, requests and calls
    /// still go to `server`, and calls to us reach us at our bound address.
    pub register: bool,
    /// How long `start()` and `register()` wait for the registrar.
    pub register_timeout: Duration,
    /// The UA core's configuration (timers, methods, User-Agent, auth policy,
    /// codecs).
    pub endpoint: EndpointConfig,
    /// Sees every message sent and received (a trace, a ladder).
    pub tap: Option<super::Tap>,
}

impl std::fmt::Debug for SipClientConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SipClientConfig")
            .field("server", &self.server)
            .field("port", &self.port)
            .field("user", &self.user)
            .field("domain", &self.domain)
            .field("transport_mode", &self.transport_mode)
            .field("bind_ip", &self.bind_ip)
            .field("bind_port", &self.bind_port)
            .field("register", &self.register)
            .field("tap", &self.tap.is_some())
            .finish_non_exhaustive()
    }
}

impl SipClientConfig {
    /// A configuration for `user` at `server` with these credentials: UDP, any
    /// local port, 3600 s, registering at start.
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
            register: true,
            register_timeout: Duration::from_secs(40),
            endpoint: EndpointConfig::default(),
            tap: None,
        }
    }
}

/// A SIP user agent on tokio: registers and keeps the registration fresh, places
/// and receives calls, sends requests, and delivers what arrives as
/// [`ClientEvent`]s.
#[derive(Debug)]
pub struct SipClient {
    commands: mpsc::Sender<Command>,
    events: Option<mpsc::UnboundedReceiver<ClientEvent>>,
    account: AccountId,
    registered: Option<Registered>,
    local: SocketAddr,
    has_server: bool,
}

/// The server's address, resolved.
async fn resolve(host: &str, port: u16) -> Result<SocketAddr, ClientError> {
    let addrs = SystemResolver
        .resolve(host, port)
        .await
        .map_err(|e| ClientError::Resolve {
            host: host.to_string(),
            source: e,
        })?;
    addrs
        .into_iter()
        .next()
        .ok_or_else(|| ClientError::Resolve {
            host: host.to_string(),
            source: std::io::Error::new(std::io::ErrorKind::NotFound, "no address"),
        })
}

/// `[v6]` for an IPv6 literal in a URI, the host as it is otherwise.
fn host_part(h: &str) -> String {
    if h.contains(':') && !h.starts_with('[') {
        format!("[{h}]")
    } else {
        h.to_string()
    }
}

impl SipClient {
    /// Binds, registers (unless `config.register` is false), and returns once the
    /// first REGISTER succeeded; or the reason it did not.
    pub async fn start(config: SipClientConfig) -> Result<SipClient, ClientError> {
        let mode = config.transport_mode;
        let port = config.port.unwrap_or(mode.default_port());
        let server_addr = if config.server.is_empty() {
            None
        } else {
            Some(resolve(&config.server, port).await?)
        };
        let v6 = server_addr.is_some_and(|a| a.is_ipv6());
        let bind_ip = if config.bind_ip.is_unspecified() && v6 {
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
            .map_err(|e| ClientError::Transport(Arc::new(e)))?;
        let local_ip = match server_addr {
            Some(server) => advertised_ip(&config, bind_ip, server, &transport).await?,
            None if bind_ip.is_unspecified() => IpAddr::from([127, 0, 0, 1]),
            None => bind_ip,
        };
        let listen_mode =
            if mode == TransportMode::Tls && transport.local_addr(TransportMode::Tls).is_none() {
                TransportMode::Tcp
            } else {
                mode
            };
        let local_port = transport
            .local_addr(listen_mode)
            .map(|a| a.port())
            .unwrap_or(0);
        let local = SocketAddr::new(local_ip, local_port);
        let domain = config
            .domain
            .clone()
            .or_else(|| (!config.server.is_empty()).then(|| config.server.clone()))
            .unwrap_or_else(|| local_ip.to_string());
        let aor = format!("sip:{}@{}", config.user, host_part(&domain));
        let mut registrar = format!("sip:{}", host_part(&domain));
        if config.port.is_some_and(|p| p != mode.default_port()) && config.domain.is_none() {
            registrar = format!("sip:{}:{port}", host_part(&domain));
        }
        if mode != TransportMode::Udp {
            registrar.push_str(&format!(";transport={}", mode.uri_param()));
        }
        let mut peer = Peer::new(mode, server_addr.unwrap_or(local));
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
        let host = super::ua_host::UaHost::new(event_tx, commands.downgrade());
        tokio::spawn(run(
            endpoint,
            transport,
            transport_rx,
            command_rx,
            host,
            config.tap.clone(),
        ));
        let mut client = SipClient {
            commands,
            events: Some(event_rx),
            account,
            registered: None,
            local,
            has_server: server_addr.is_some(),
        };
        if config.register && server_addr.is_some() {
            let (tx, rx) = oneshot::channel();
            client
                .commands
                .send(Command::Register(account, tx))
                .await
                .map_err(stopped)?;
            let registered = match tokio::time::timeout(config.register_timeout, rx).await {
                Ok(Ok(r)) => r?,
                Ok(Err(_)) => return Err(ClientError::Stopped),
                Err(_) => {
                    let _ = stop_quietly(&client.commands).await;
                    return Err(ClientError::Timeout(config.register_timeout));
                }
            };
            client.registered = Some(registered);
        }
        Ok(client)
    }

    /// The first account.
    pub fn account(&self) -> AccountId {
        self.account
    }

    /// What the registrar granted at start, when the client registered.
    pub fn registered(&self) -> Option<&Registered> {
        self.registered.as_ref()
    }

    /// The address we advertise (Via, Contact).
    pub fn local_addr(&self) -> SocketAddr {
        self.local
    }

    /// The stream of incoming calls, incoming requests and registration changes
    /// (pyVoIP's `call_callback` and `fatal_callback`). It can be taken once.
    pub fn take_events(&mut self) -> Option<mpsc::UnboundedReceiver<ClientEvent>> {
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

    /// Sends a request for an account outside any call; the handle yields its
    /// responses.
    pub async fn send(
        &self,
        account: AccountId,
        request: OutgoingRequest,
    ) -> Result<RequestHandle, ClientError> {
        if !self.has_server && request.peer.is_none() {
            return Err(ClientError::NoServer);
        }
        let (id, rx) = self
            .ask(|r| Command::Send(account, Box::new(request), r))
            .await??;
        Ok(RequestHandle { id, rx })
    }

    /// Places a call for an account; the handle yields its events and drives it.
    pub async fn call(
        &self,
        account: AccountId,
        spec: CallSpec,
    ) -> Result<CallHandle, ClientError> {
        if !self.has_server && spec.peer.is_none() {
            return Err(ClientError::NoServer);
        }
        let (id, events) = self
            .ask(|r| Command::Call(account, Box::new(spec), r))
            .await??;
        Ok(CallHandle::new(id, self.commands.clone(), events))
    }

    /// Answers a request delivered as [`ClientEvent::IncomingRequest`] with a status.
    pub async fn reply(
        &self,
        tx: TxId,
        request: Request,
        status: StatusCode,
    ) -> Result<(), ClientError> {
        self.ask(|r| Command::Reply(tx, Box::new(request), status, r))
            .await?
    }

    /// Answers a request with a response the application built.
    pub async fn respond(&self, tx: TxId, response: Bytes) -> Result<(), ClientError> {
        self.ask(|r| Command::Respond(tx, response, r)).await?
    }

    /// Deregisters every account and closes the transport.
    pub async fn stop(self) {
        let _ = stop_quietly(&self.commands).await;
    }

    /// [`SipClient::stop`] for a client shared by reference (a phone that many
    /// tasks use): deregisters and closes; later commands fail with
    /// [`ClientError::Stopped`].
    pub async fn shutdown(&self) {
        let _ = stop_quietly(&self.commands).await;
    }
}

/// The address to advertise toward `server`: sip-nat's rules (bind network,
/// hostname, remote hostname, else the route's local address).
async fn advertised_ip(
    config: &SipClientConfig,
    bind_ip: IpAddr,
    server: SocketAddr,
    transport: &Transport,
) -> Result<IpAddr, ClientError> {
    let network = config.bind_network.unwrap_or_else(|| {
        if server.is_ipv6() {
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
    let host = policy.get_host(server.ip(), transport)?;
    match host.trim_matches(['[', ']']).parse::<IpAddr>() {
        Ok(ip) => Ok(ip),
        Err(_) => resolve(&host, 0).await.map(|a| a.ip()),
    }
}

async fn stop_quietly(commands: &mpsc::Sender<Command>) -> Result<(), ClientError> {
    let (tx, rx) = oneshot::channel();
    commands.send(Command::Stop(tx)).await.map_err(stopped)?;
    rx.await.map_err(stopped)
}
