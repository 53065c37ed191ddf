//! The registrar on tokio: [`RegistrarServer`] binds UDP and TCP (and TLS when given a
//! certificate) through sip-transport and runs the sans-IO [`Registrar`] in one task.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use sip_client::driver::{Host, now, run};
use sip_message::{OsRandom, TransportMode};
use sip_transport::{
    KeyPassword, SystemResolver, TlsServerConfig, Transport, TransportConfig, TransportError,
};
use tokio::sync::{mpsc, oneshot};

use crate::core::{Registrar, RegistrarConfig, Stats};
use crate::users::Users;

/// Where and how the server listens.
#[derive(Clone)]
pub struct ServerConfig {
    /// UDP and TCP address (a specific address: it goes into Via and Record-Route).
    pub bind: SocketAddr,
    /// Whether to listen on TCP too.
    pub tcp: bool,
    /// TLS address, certificate and key, if TLS is wanted.
    pub tls: Option<(SocketAddr, PathBuf, PathBuf, Option<KeyPassword>)>,
    /// The registrar's behaviour (realm, expiry bounds, algorithms); its `listen` is
    /// filled in from the bound sockets.
    pub registrar: RegistrarConfig,
    /// Sees every message sent and received (a trace).
    pub tap: Option<sip_client::driver::Tap>,
}

impl std::fmt::Debug for ServerConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServerConfig")
            .field("bind", &self.bind)
            .field("tcp", &self.tcp)
            .field("tls", &self.tls.as_ref().map(|t| t.0))
            .field("registrar", &self.registrar)
            .field("tap", &self.tap.is_some())
            .finish()
    }
}

impl ServerConfig {
    /// UDP and TCP on `bind`, realm `realm`.
    pub fn new(bind: SocketAddr, realm: &str) -> ServerConfig {
        ServerConfig {
            bind,
            tcp: true,
            tls: None,
            registrar: RegistrarConfig::new(realm, Vec::new()),
            tap: None,
        }
    }
}

enum Command {
    Stats(oneshot::Sender<(Stats, usize)>),
}

/// A running registrar. Dropping it stops it.
#[derive(Debug)]
pub struct RegistrarServer {
    transport: Transport,
    listen: Vec<(TransportMode, SocketAddr)>,
    commands: mpsc::Sender<Command>,
}

impl RegistrarServer {
    /// Binds and starts serving.
    pub async fn start(
        config: ServerConfig,
        users: Users,
    ) -> Result<RegistrarServer, TransportError> {
        let (tls_port, tls_server) = match &config.tls {
            Some((addr, cert, key, password)) => (
                Some(addr.port()),
                Some(TlsServerConfig {
                    cert_file: cert.clone(),
                    key_file: key.clone(),
                    key_password: password.clone(),
                }),
            ),
            None => (None, None),
        };
        let tconf = TransportConfig {
            bind_ip: config.bind.ip(),
            udp_port: Some(config.bind.port()),
            tcp_port: config.tcp.then_some(config.bind.port()),
            tls_port,
            tls_server,
            ..TransportConfig::default()
        };
        let (transport, events) = Transport::bind(tconf, Arc::new(SystemResolver)).await?;
        let mut listen = Vec::new();
        for mode in [TransportMode::Udp, TransportMode::Tcp, TransportMode::Tls] {
            if let Some(a) = transport.local_addr(mode) {
                listen.push((mode, a));
            }
        }
        let mut rc = config.registrar.clone();
        rc.listen = listen.clone();
        let core = Registrar::new(rc, users, Box::new(OsRandom), now());
        let (commands, command_rx) = mpsc::channel(16);
        tokio::spawn(run(
            core,
            transport.clone(),
            events,
            command_rx,
            RegistrarHost,
            config.tap.clone(),
        ));
        Ok(RegistrarServer {
            transport,
            listen,
            commands,
        })
    }

    /// The address a transport listens on.
    pub fn local_addr(&self, mode: TransportMode) -> Option<SocketAddr> {
        self.listen
            .iter()
            .find(|(m, _)| *m == mode)
            .map(|(_, a)| *a)
    }

    /// Counters and the number of bindings held.
    pub async fn stats(&self) -> Option<(Stats, usize)> {
        let (tx, rx) = oneshot::channel();
        self.commands.send(Command::Stats(tx)).await.ok()?;
        rx.await.ok()
    }

    /// Stops serving.
    pub fn shutdown(&self) {
        self.transport.shutdown();
    }
}

impl Drop for RegistrarServer {
    fn drop(&mut self) {
        self.transport.shutdown();
    }
}

/// What the server adds to the loop: its stats command.
struct RegistrarHost;

impl Host<Registrar> for RegistrarHost {
    type Command = Command;

    fn on_command(&mut self, core: &mut Registrar, c: Command) -> bool {
        match c {
            Command::Stats(reply) => {
                let _ = reply.send((core.stats(), core.bindings().len()));
            }
        }
        true
    }

    fn on_closed(&mut self, _core: &mut Registrar) {}

    fn on_event(&mut self, _core: &mut Registrar, event: std::convert::Infallible) {
        match event {}
    }

    fn finished(&self, _core: &Registrar) -> bool {
        false
    }
}
