//! The transport: sockets, listeners, the connection pool and the send rules.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr, SocketAddrV6};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use bytes::{Buf, Bytes, BytesMut};
use sip_message::{FrameStatus, Framing, Message, StreamFramer, error_response};
use sip_nat::stun::{StunClass, StunMessage, is_stun};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream, UdpSocket};
use tokio::sync::{mpsc, watch};
use tokio::time::{Instant, sleep_until, timeout};
use tokio_rustls::{TlsAcceptor, TlsConnector};
use tracing::{debug, warn};

use crate::config::TransportConfig;
use crate::error::TransportError;
use crate::event::{
    CloseReason, ConnectionId, Destination, Incoming, Sent, Transmit, TransportEvent,
};
use crate::resolve::Resolver;
use crate::tls;
use sip_message::TransportMode;

/// The largest UDP payload.
const MAX_DATAGRAM: usize = 65_507;

type Reader = Box<dyn AsyncRead + Send + Unpin>;
type Writer = Box<dyn AsyncWrite + Send + Unpin>;

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
struct PoolKey {
    mode: TransportMode,
    remote: SocketAddr,
    tls_name: Option<String>,
}

struct Conn {
    id: ConnectionId,
    key: PoolKey,
    local: SocketAddr,
    writer: tokio::sync::Mutex<Writer>,
    /// Milliseconds since the transport started, at the last write.
    last_write_ms: AtomicU64,
}

#[derive(Default)]
struct Pool {
    by_key: HashMap<PoolKey, ConnectionId>,
    conns: HashMap<ConnectionId, Arc<Conn>>,
}

struct Inner {
    config: TransportConfig,
    udp: Option<Arc<UdpSocket>>,
    udp_local: Option<SocketAddr>,
    tcp_local: Option<SocketAddr>,
    tls_local: Option<SocketAddr>,
    tls_connector: Option<TlsConnector>,
    resolver: Arc<dyn Resolver>,
    events: mpsc::Sender<TransportEvent>,
    pool: Mutex<Pool>,
    next_id: AtomicU64,
    started: Instant,
    shutdown: watch::Sender<bool>,
}

/// Stops the transport when the last user handle goes.
struct StopOnDrop(watch::Sender<bool>);

impl Drop for StopOnDrop {
    fn drop(&mut self) {
        let _ = self.0.send(true);
    }
}

/// SIP over UDP, TCP and TLS. Cheap to clone; the transport stops when the last clone
/// is dropped or [`Transport::shutdown`] is called.
#[derive(Clone)]
pub struct Transport {
    inner: Arc<Inner>,
    _stop: Arc<StopOnDrop>,
}

impl std::fmt::Debug for Transport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Transport")
            .field("udp", &self.inner.udp_local)
            .field("tcp", &self.inner.tcp_local)
            .field("tls", &self.inner.tls_local)
            .finish()
    }
}

/// The address as the rest of the stack sees it (IPv4-mapped IPv6 back to IPv4).
fn canonical(addr: SocketAddr) -> SocketAddr {
    SocketAddr::new(addr.ip().to_canonical(), addr.port())
}

fn lock(pool: &Mutex<Pool>) -> MutexGuard<'_, Pool> {
    // A panic while holding the pool lock leaves it consistent (only map edits).
    pool.lock().unwrap_or_else(|e| e.into_inner())
}

impl Transport {
    /// Binds the configured sockets and starts receiving. Events arrive on the
    /// returned channel.
    pub async fn bind(
        config: TransportConfig,
        resolver: Arc<dyn Resolver>,
    ) -> Result<(Transport, mpsc::Receiver<TransportEvent>), TransportError> {
        let (events, rx) = mpsc::channel(1024);
        let (shutdown, _) = watch::channel(false);
        let ip = config.bind_ip;
        let bind = |mode, port| (mode, SocketAddr::new(ip, port));
        let (udp, udp_local, tcp, tcp_local) = bind_udp_tcp(ip, &config).await?;
        let mut tls_listener = None;
        let mut tls_local = None;
        let mut acceptor = None;
        if let Some(port) = config.tls_port {
            let server = config
                .tls_server
                .as_ref()
                .ok_or(TransportError::NotEnabled(TransportMode::Tls))?;
            acceptor = Some(TlsAcceptor::from(tls::server_config(
                server,
                &config.tls_verify_clients,
            )?));
            let (mode, addr) = bind(TransportMode::Tls, port);
            let l = TcpListener::bind(addr)
                .await
                .map_err(|source| TransportError::Bind { mode, addr, source })?;
            tls_local = l.local_addr().ok();
            tls_listener = Some(l);
        }
        let tls_connector = match &config.tls_client {
            Some(c) => Some(TlsConnector::from(tls::client_config(c)?)),
            None => None,
        };
        let inner = Arc::new(Inner {
            config,
            udp,
            udp_local,
            tcp_local,
            tls_local,
            tls_connector,
            resolver,
            events,
            pool: Mutex::new(Pool::default()),
            next_id: AtomicU64::new(1),
            started: Instant::now(),
            shutdown: shutdown.clone(),
        });
        if let Some(sock) = inner.udp.clone() {
            tokio::spawn(udp_loop(inner.clone(), sock));
        }
        if let Some(l) = tcp {
            tokio::spawn(accept_loop(inner.clone(), l, TransportMode::Tcp, None));
        }
        if let Some(l) = tls_listener {
            tokio::spawn(accept_loop(inner.clone(), l, TransportMode::Tls, acceptor));
        }
        Ok((
            Transport {
                inner,
                _stop: Arc::new(StopOnDrop(shutdown)),
            },
            rx,
        ))
    }

    /// The local address of a transport's socket or listener.
    pub fn local_addr(&self, mode: TransportMode) -> Option<SocketAddr> {
        match mode {
            TransportMode::Udp => self.inner.udp_local,
            TransportMode::Tcp => self.inner.tcp_local,
            TransportMode::Tls => self.inner.tls_local,
        }
    }

    /// How many connections are open.
    pub fn connection_count(&self) -> usize {
        lock(&self.inner.pool).conns.len()
    }

    /// The remote address and transport of an open connection.
    pub fn connection_peer(&self, id: ConnectionId) -> Option<(TransportMode, SocketAddr)> {
        lock(&self.inner.pool)
            .conns
            .get(&id)
            .map(|c| (c.key.mode, c.key.remote))
    }

    /// Stops receiving, closes every connection.
    pub fn shutdown(&self) {
        let _ = self.inner.shutdown.send(true);
    }

    /// The local address the system would use toward `dest` (for addresses to
    /// advertise when bound to an unspecified address).
    pub fn local_ip_toward(&self, dest: IpAddr) -> Option<IpAddr> {
        let any: SocketAddr = match dest {
            IpAddr::V4(_) => "0.0.0.0:0".parse().ok()?,
            IpAddr::V6(_) => "[::]:0".parse().ok()?,
        };
        let s = std::net::UdpSocket::bind(any).ok()?;
        s.connect(SocketAddr::new(dest, 9)).ok()?;
        Some(s.local_addr().ok()?.ip())
    }

    /// Sends a keep-alive ping (CRLFCRLF) on a connection.
    pub async fn ping(&self, id: ConnectionId) -> Result<(), TransportError> {
        let conn = lock(&self.inner.pool)
            .conns
            .get(&id)
            .cloned()
            .ok_or(TransportError::ConnectionClosed(id.0))?;
        self.inner.write(&conn, b"\r\n\r\n").await
    }

    /// Sends a raw UDP datagram (a STUN request, a CRLF keep-alive).
    pub async fn send_datagram(&self, to: SocketAddr, data: &[u8]) -> Result<(), TransportError> {
        self.inner.send_udp(to, data).await.map(|_| ())
    }

    /// Sends one message.
    pub async fn send(&self, t: Transmit) -> Result<Sent, TransportError> {
        self.inner
            .send_to(t.destination, t.bytes, t.allow_tcp_upgrade)
            .await
    }
}

impl sip_nat::RouteLookup for Transport {
    fn local_address_toward(&self, dest: IpAddr) -> Option<IpAddr> {
        self.local_ip_toward(dest)
    }
}

impl Inner {
    fn now_ms(&self) -> u64 {
        self.started.elapsed().as_millis() as u64
    }

    fn udp_socket_addr(&self, addr: SocketAddr) -> SocketAddr {
        // A socket bound to an IPv6 address sends to IPv4 peers as IPv4-mapped.
        match (self.udp_local, addr) {
            (Some(SocketAddr::V6(_)), SocketAddr::V4(v4)) => {
                SocketAddr::V6(SocketAddrV6::new(v4.ip().to_ipv6_mapped(), v4.port(), 0, 0))
            }
            _ => addr,
        }
    }

    async fn send_udp(&self, addr: SocketAddr, data: &[u8]) -> Result<Sent, TransportError> {
        let sock = self
            .udp
            .as_ref()
            .ok_or(TransportError::NotEnabled(TransportMode::Udp))?;
        if data.len() > MAX_DATAGRAM {
            return Err(TransportError::TooLargeForUdp(data.len()));
        }
        sock.send_to(data, self.udp_socket_addr(addr))
            .await
            .map_err(|source| TransportError::Send {
                mode: TransportMode::Udp,
                addr,
                source,
            })?;
        Ok(Sent {
            mode: TransportMode::Udp,
            remote: addr,
            local: self.udp_local.unwrap_or(addr),
            connection: None,
        })
    }

    async fn write(&self, conn: &Conn, data: &[u8]) -> Result<(), TransportError> {
        let mut w = conn.writer.lock().await;
        let r = async {
            w.write_all(data).await?;
            w.flush().await
        }
        .await;
        conn.last_write_ms.store(self.now_ms(), Ordering::Relaxed);
        r.map_err(|source| TransportError::Send {
            mode: conn.key.mode,
            addr: conn.key.remote,
            source,
        })
    }

    fn send_to<'a>(
        self: &'a Arc<Self>,
        dest: Destination,
        bytes: Bytes,
        allow_upgrade: bool,
    ) -> std::pin::Pin<
        Box<dyn std::future::Future<Output = Result<Sent, TransportError>> + Send + 'a>,
    > {
        Box::pin(async move {
            match dest {
                Destination::Connection { id, fallback } => {
                    let conn = lock(&self.pool).conns.get(&id).cloned();
                    match (conn, fallback) {
                        (Some(c), fallback) => match self.write(&c, &bytes).await {
                            Ok(()) => Ok(Sent {
                                mode: c.key.mode,
                                remote: c.key.remote,
                                local: c.local,
                                connection: Some(c.id),
                            }),
                            Err(e) => match fallback {
                                Some(fb) => self.send_to(*fb, bytes, allow_upgrade).await,
                                None => Err(e),
                            },
                        },
                        (None, Some(fb)) => self.send_to(*fb, bytes, allow_upgrade).await,
                        (None, None) => Err(TransportError::ConnectionClosed(id.0)),
                    }
                }
                Destination::Addr {
                    mode,
                    addr,
                    tls_name,
                } => {
                    self.send_addr(mode, addr, tls_name, bytes, allow_upgrade)
                        .await
                }
                Destination::Host {
                    mode,
                    host,
                    port,
                    tls_name,
                } => {
                    let addrs = self.resolver.resolve(&host, port).await.map_err(|e| {
                        TransportError::Resolve {
                            host: host.clone(),
                            reason: e.to_string(),
                        }
                    })?;
                    let name = tls_name.or_else(|| {
                        Some(
                            host.trim_start_matches('[')
                                .trim_end_matches(']')
                                .to_string(),
                        )
                    });
                    let mut last = TransportError::Resolve {
                        host: host.clone(),
                        reason: "no addresses".into(),
                    };
                    for addr in addrs {
                        match self
                            .send_addr(mode, addr, name.clone(), bytes.clone(), allow_upgrade)
                            .await
                        {
                            Ok(s) => return Ok(s),
                            Err(e) => last = e,
                        }
                    }
                    Err(last)
                }
            }
        })
    }

    async fn send_addr(
        self: &Arc<Self>,
        mode: TransportMode,
        addr: SocketAddr,
        tls_name: Option<String>,
        bytes: Bytes,
        allow_upgrade: bool,
    ) -> Result<Sent, TransportError> {
        let addr = canonical(addr);
        if mode == TransportMode::Udp {
            if allow_upgrade && bytes.len() > self.config.udp_size_threshold {
                // RFC 3261 §18.1.1: a large request goes over TCP, and its top Via
                // says so.
                if let Some(moved) = crate::size::request_over_tcp(&bytes) {
                    return Box::pin(self.send_addr(TransportMode::Tcp, addr, None, moved, false))
                        .await;
                }
            }
            return self.send_udp(addr, &bytes).await;
        }
        let key = PoolKey {
            mode,
            remote: addr,
            tls_name: if mode == TransportMode::Tls {
                tls_name.map(|n| n.to_ascii_lowercase())
            } else {
                None
            },
        };
        let existing = {
            let pool = lock(&self.pool);
            pool.by_key
                .get(&key)
                .and_then(|id| pool.conns.get(id))
                .cloned()
        };
        if let Some(c) = existing {
            match self.write(&c, &bytes).await {
                Ok(()) => {
                    return Ok(Sent {
                        mode,
                        remote: addr,
                        local: c.local,
                        connection: Some(c.id),
                    });
                }
                Err(e) => {
                    debug!("write on {} failed ({e}); reconnecting", c.id);
                    self.remove(c.id);
                }
            }
        }
        let c = self.connect(key).await?;
        self.write(&c, &bytes).await?;
        Ok(Sent {
            mode,
            remote: addr,
            local: c.local,
            connection: Some(c.id),
        })
    }

    async fn connect(self: &Arc<Self>, key: PoolKey) -> Result<Arc<Conn>, TransportError> {
        let limit = self.config.max_connections;
        if lock(&self.pool).conns.len() >= limit {
            return Err(TransportError::TooManyConnections(limit));
        }
        let addr = key.remote;
        let mode = key.mode;
        let connect_err = |reason: String| TransportError::Connect { mode, addr, reason };
        let stream = timeout(self.config.connect_timeout, TcpStream::connect(addr))
            .await
            .map_err(|_| connect_err("timed out".into()))?
            .map_err(|e| connect_err(e.to_string()))?;
        let _ = stream.set_nodelay(true);
        let local = stream.local_addr().map(canonical).unwrap_or(addr);
        let (reader, writer): (Reader, Writer) =
            match mode {
                TransportMode::Tcp => {
                    let (r, w) = stream.into_split();
                    (Box::new(r), Box::new(w))
                }
                TransportMode::Tls => {
                    let connector = self
                        .tls_connector
                        .clone()
                        .ok_or(TransportError::NotEnabled(TransportMode::Tls))?;
                    let name = key
                        .tls_name
                        .clone()
                        .unwrap_or_else(|| addr.ip().to_string());
                    let server_name = rustls_pki_types::ServerName::try_from(name.clone())
                        .map_err(|e| TransportError::Tls {
                            addr,
                            reason: format!("{name:?} is not a valid server name: {e}"),
                        })?;
                    let tls = timeout(
                        self.config.connect_timeout,
                        connector.connect(server_name, stream),
                    )
                    .await
                    .map_err(|_| TransportError::Tls {
                        addr,
                        reason: "handshake timed out".into(),
                    })?
                    .map_err(|e| TransportError::Tls {
                        addr,
                        reason: e.to_string(),
                    })?;
                    let (r, w) = tokio::io::split(tls);
                    (Box::new(r), Box::new(w))
                }
                TransportMode::Udp => return Err(connect_err("UDP has no connections".into())),
            };
        Ok(self.register(key, local, reader, writer))
    }

    /// Adds a connection to the pool and starts its reader.
    fn register(
        self: &Arc<Self>,
        key: PoolKey,
        local: SocketAddr,
        reader: Reader,
        writer: Writer,
    ) -> Arc<Conn> {
        let id = ConnectionId(self.next_id.fetch_add(1, Ordering::Relaxed));
        let conn = Arc::new(Conn {
            id,
            key: key.clone(),
            local,
            writer: tokio::sync::Mutex::new(writer),
            last_write_ms: AtomicU64::new(self.now_ms()),
        });
        {
            let mut pool = lock(&self.pool);
            pool.by_key.insert(key.clone(), id);
            pool.conns.insert(id, conn.clone());
        }
        let _ = self.events.try_send(TransportEvent::ConnectionOpened {
            id,
            mode: key.mode,
            remote: key.remote,
        });
        tokio::spawn(read_loop(self.clone(), conn.clone(), reader));
        conn
    }

    fn remove(&self, id: ConnectionId) {
        let mut pool = lock(&self.pool);
        if let Some(c) = pool.conns.remove(&id)
            && pool.by_key.get(&c.key) == Some(&id)
        {
            pool.by_key.remove(&c.key);
        }
    }
}

async fn udp_loop(inner: Arc<Inner>, sock: Arc<UdpSocket>) {
    let mut shutdown = inner.shutdown.subscribe();
    let mut buf = vec![0u8; 65_536];
    let local = inner
        .udp_local
        .unwrap_or_else(|| SocketAddr::from(([0, 0, 0, 0], 0)));
    loop {
        let (n, source) = tokio::select! {
            r = sock.recv_from(&mut buf) => match r {
                Ok(x) => x,
                Err(e) => {
                    // ICMP errors surface here on some systems; keep receiving.
                    debug!("UDP receive error: {e}");
                    continue;
                }
            },
            _ = shutdown.changed() => return,
        };
        let source = canonical(source);
        let data = &buf[..n];
        if data.iter().all(|&b| b == b'\r' || b == b'\n') {
            continue; // keep-alive
        }
        if is_stun(data) {
            if let Ok(m) = StunMessage::decode(data) {
                if m.class == StunClass::Request {
                    let reply =
                        StunMessage::binding_response(m.transaction_id, source).encode(None, true);
                    let _ = sock.send_to(&reply, inner.udp_socket_addr(source)).await;
                } else if inner
                    .events
                    .send(TransportEvent::Stun { source, message: m })
                    .await
                    .is_err()
                {
                    return;
                }
            }
            continue;
        }
        match Message::parse_with(
            Bytes::copy_from_slice(data),
            &inner.config.limits,
            Framing::Datagram,
        ) {
            Ok(message) => {
                let ev = TransportEvent::Message(Box::new(Incoming {
                    message,
                    source,
                    local,
                    mode: TransportMode::Udp,
                    connection: None,
                }));
                if inner.events.send(ev).await.is_err() {
                    return;
                }
            }
            Err(e) => {
                debug!("bad datagram from {source}: {e}");
                if let Some(resp) = error_response(data, &e) {
                    let _ = sock.send_to(&resp, inner.udp_socket_addr(source)).await;
                }
            }
        }
    }
}

async fn accept_loop(
    inner: Arc<Inner>,
    listener: TcpListener,
    mode: TransportMode,
    acceptor: Option<TlsAcceptor>,
) {
    let mut shutdown = inner.shutdown.subscribe();
    loop {
        let (stream, remote) = tokio::select! {
            r = listener.accept() => match r {
                Ok(x) => x,
                Err(e) => {
                    warn!("accept on {mode} failed: {e}");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            _ = shutdown.changed() => return,
        };
        if lock(&inner.pool).conns.len() >= inner.config.max_connections {
            debug!("refusing {remote}: connection limit reached");
            drop(stream);
            continue;
        }
        let _ = stream.set_nodelay(true);
        let remote = canonical(remote);
        let local = stream.local_addr().map(canonical).unwrap_or(remote);
        let key = PoolKey {
            mode,
            remote,
            tls_name: None,
        };
        match (&acceptor, mode) {
            (Some(acceptor), TransportMode::Tls) => {
                let acceptor = acceptor.clone();
                let inner = inner.clone();
                tokio::spawn(async move {
                    match timeout(inner.config.connect_timeout, acceptor.accept(stream)).await {
                        Ok(Ok(tls)) => {
                            let (r, w) = tokio::io::split(tls);
                            inner.register(key, local, Box::new(r), Box::new(w));
                        }
                        Ok(Err(e)) => debug!("TLS handshake with {remote} failed: {e}"),
                        Err(_) => debug!("TLS handshake with {remote} timed out"),
                    }
                });
            }
            _ => {
                let (r, w) = stream.into_split();
                inner.register(key, local, Box::new(r), Box::new(w));
            }
        }
    }
}

/// Reads one connection until it closes, framing and parsing messages.
async fn read_loop(inner: Arc<Inner>, conn: Arc<Conn>, mut reader: Reader) {
    let mut shutdown = inner.shutdown.subscribe();
    let limits = inner.config.limits.clone();
    let mut framer = StreamFramer::new(limits.clone());
    let mut buf = BytesMut::new();
    let mut last_read = Instant::now();
    let mut partial_since: Option<Instant> = None;
    let mode = conn.key.mode;
    let remote = conn.key.remote;
    let reason = 'conn: loop {
        // Hand up everything complete in the buffer.
        loop {
            match framer.poll(&buf) {
                Ok(FrameStatus::Complete(n)) => {
                    let chunk = buf.split_to(n).freeze();
                    match Message::parse_with(chunk.clone(), &limits, Framing::Stream) {
                        Ok(message) => {
                            let ev = TransportEvent::Message(Box::new(Incoming {
                                message,
                                source: remote,
                                local: conn.local,
                                mode,
                                connection: Some(conn.id),
                            }));
                            if inner.events.send(ev).await.is_err() {
                                break 'conn CloseReason::Shutdown;
                            }
                        }
                        Err(e) => {
                            // The message was framed, so the stream stays usable.
                            debug!("bad message on {}: {e}", conn.id);
                            if let Some(resp) = error_response(&chunk, &e) {
                                let _ = inner.write(&conn, &resp).await;
                            }
                        }
                    }
                    partial_since = None;
                }
                Ok(FrameStatus::KeepAlive { len, ping }) => {
                    buf.advance(len);
                    if ping {
                        let _ = inner.write(&conn, b"\r\n").await;
                    } else if inner
                        .events
                        .send(TransportEvent::Pong(conn.id))
                        .await
                        .is_err()
                    {
                        break 'conn CloseReason::Shutdown;
                    }
                }
                Ok(FrameStatus::Partial) => {
                    if buf.is_empty() {
                        partial_since = None;
                    } else if partial_since.is_none() {
                        partial_since = Some(Instant::now());
                    }
                    break;
                }
                Err(e) => {
                    if let Some(resp) = error_response(&buf, &e) {
                        let _ = inner.write(&conn, &resp).await;
                    }
                    break 'conn CloseReason::Framing(e.to_string());
                }
            }
        }
        // An idle connection keeps no large buffer.
        if buf.is_empty() && buf.capacity() > 512 {
            buf = BytesMut::new();
        }
        let last_write =
            inner.started + Duration::from_millis(conn.last_write_ms.load(Ordering::Relaxed));
        let deadline = match partial_since {
            Some(t) => t + inner.config.message_timeout,
            None => last_read.max(last_write) + inner.config.idle_timeout,
        };
        // Small while idle (most connections wait most of the time), larger while a
        // message is coming in.
        buf.reserve(if buf.is_empty() { 512 } else { 4096 });
        tokio::select! {
            r = reader.read_buf(&mut buf) => match r {
                Ok(0) => break 'conn CloseReason::PeerClosed,
                Ok(_) => last_read = Instant::now(),
                Err(e) => break 'conn CloseReason::Io(e.to_string()),
            },
            _ = sleep_until(deadline) => {
                // Writes may have moved the idle deadline since it was computed.
                let last_write = inner.started + Duration::from_millis(conn.last_write_ms.load(Ordering::Relaxed));
                if partial_since.is_none() && last_write + inner.config.idle_timeout > Instant::now() {
                    continue;
                }
                break 'conn if partial_since.is_some() { CloseReason::MessageTimeout } else { CloseReason::Idle };
            }
            _ = shutdown.changed() => break 'conn CloseReason::Shutdown,
        }
    };
    inner.remove(conn.id);
    {
        let mut w = conn.writer.lock().await;
        let _ = w.shutdown().await;
    }
    debug!("{} to {remote} closed: {reason:?}", conn.id);
    let _ = inner
        .events
        .send(TransportEvent::ConnectionClosed {
            id: conn.id,
            mode,
            remote,
            reason,
        })
        .await;
}

/// Binds the UDP socket and the TCP listener. When both ask for any port, they get
/// the same one (Via and Contact advertise one port for both): a UDP port whose TCP
/// twin is taken is let go and another tried, a few times, before TCP takes any port.
async fn bind_udp_tcp(
    ip: std::net::IpAddr,
    config: &TransportConfig,
) -> Result<
    (
        Option<Arc<UdpSocket>>,
        Option<SocketAddr>,
        Option<TcpListener>,
        Option<SocketAddr>,
    ),
    TransportError,
> {
    let attempts = if config.udp_port == Some(0) && config.tcp_port == Some(0) {
        16
    } else {
        1
    };
    let mut attempt = 0;
    loop {
        attempt += 1;
        let mut udp = None;
        let mut udp_local = None;
        if let Some(port) = config.udp_port {
            let addr = SocketAddr::new(ip, port);
            let s = UdpSocket::bind(addr)
                .await
                .map_err(|source| TransportError::Bind {
                    mode: TransportMode::Udp,
                    addr,
                    source,
                })?;
            udp_local = s.local_addr().ok();
            udp = Some(Arc::new(s));
        }
        let Some(port) = config.tcp_port else {
            return Ok((udp, udp_local, None, None));
        };
        // Share the UDP port when the TCP one is "any" and UDP got one.
        let shared = match (port, udp_local) {
            (0, Some(u)) => u.port(),
            _ => port,
        };
        let addr = SocketAddr::new(ip, shared);
        let l = match TcpListener::bind(addr).await {
            Ok(l) => l,
            Err(_) if attempt < attempts => continue,
            Err(_) if port == 0 => {
                TcpListener::bind(SocketAddr::new(ip, 0))
                    .await
                    .map_err(|source| TransportError::Bind {
                        mode: TransportMode::Tcp,
                        addr,
                        source,
                    })?
            }
            Err(source) => {
                return Err(TransportError::Bind {
                    mode: TransportMode::Tcp,
                    addr,
                    source,
                });
            }
        };
        let tcp_local = l.local_addr().ok();
        return Ok((udp, udp_local, Some(l), tcp_local));
    }
}
