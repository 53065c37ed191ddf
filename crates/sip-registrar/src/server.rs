//! The registrar on tokio: [`RegistrarServer`] binds UDP and TCP (and TLS when given a
//! certificate) through sip-transport and runs the sans-IO [`Registrar`] in one task.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use sip_client::Peer;
use sip_client::driver::destination;
use sip_message::{OsRandom, TransportMode};
use sip_transport::{
    KeyPassword, SystemResolver, TlsServerConfig, Transmit, Transport, TransportConfig,
    TransportError, TransportEvent,
};
use tokio::sync::{mpsc, oneshot};

use crate::core::{Registrar, RegistrarConfig, Stats};
use crate::users::Users;

/// Where and how the server listens.
#[derive(Clone, Debug)]
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
}

impl ServerConfig {
    /// UDP and TCP on `bind`, realm `realm`.
    pub fn new(bind: SocketAddr, realm: &str) -> ServerConfig {
        ServerConfig {
            bind,
            tcp: true,
            tls: None,
            registrar: RegistrarConfig::new(realm, Vec::new()),
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
        let core = Registrar::new(rc, users, Box::new(OsRandom), Instant::now());
        let (commands, command_rx) = mpsc::channel(16);
        tokio::spawn(run(core, transport.clone(), events, command_rx));
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

async fn run(
    mut core: Registrar,
    transport: Transport,
    mut events: mpsc::Receiver<TransportEvent>,
    mut commands: mpsc::Receiver<Command>,
) {
    // Sends go through one writer task so they keep their order.
    let (out_tx, mut out_rx) = mpsc::unbounded_channel::<(Peer, bytes::Bytes)>();
    let writer_transport = transport.clone();
    tokio::spawn(async move {
        while let Some((peer, bytes)) = out_rx.recv().await {
            let t = Transmit {
                destination: destination(&peer),
                bytes,
                allow_tcp_upgrade: false,
            };
            if let Err(e) = writer_transport.send(t).await {
                tracing::debug!(%peer, error = %e, "registrar send failed");
            }
        }
    });
    loop {
        while let Some(t) = core.poll_transmit() {
            let _ = out_tx.send((t.peer, t.bytes));
        }
        let wake = core.poll_timeout().map(tokio::time::Instant::from_std);
        tokio::select! {
            ev = events.recv() => match ev {
                Some(TransportEvent::Message(m)) => {
                    let peer = Peer {
                        mode: m.mode,
                        addr: m.source,
                        connection: m.connection.map(|c| c.0),
                        tls_name: None,
                    };
                    core.handle_message(m.message, peer, Instant::now());
                }
                Some(_) => {}
                None => break,
            },
            cmd = commands.recv() => match cmd {
                Some(Command::Stats(reply)) => {
                    let _ = reply.send((core.stats(), core.bindings().len()));
                }
                None => break,
            },
            _ = async {
                match wake {
                    Some(w) => tokio::time::sleep_until(w).await,
                    None => std::future::pending().await,
                }
            } => core.handle_timeout(Instant::now()),
        }
    }
}
