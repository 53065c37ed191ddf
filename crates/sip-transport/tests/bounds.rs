//! Memory per idle connection, TCP and TLS, with 2,000 connections held open.
//!
//! The clients are kept out of the measured memory: plain TCP clients are bare
//! sockets (kernel memory only), TLS clients run in a separate Python process. The
//! figure is the growth of this process's resident memory divided by the number of
//! connections the transport holds.

mod common;

use common::*;
use sip_transport::{TlsServerConfig, TransportConfig, TransportMode};
use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::time::Duration;

const CONNECTIONS: usize = 2000;

/// The two measurements must not run at once: they read the same process's memory.
static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());
const LIMIT_BYTES: u64 = 16 * 1024;

async fn wait_for(t: &sip_transport::Transport, n: usize) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    while t.connection_count() < n {
        assert!(
            tokio::time::Instant::now() < deadline,
            "only {} of {n} connections",
            t.connection_count()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_tcp_connections_cost_little_memory() {
    let _serial = SERIAL.lock().await;
    let mut cfg = TransportConfig::udp_tcp(ip(V4), 0);
    cfg.idle_timeout = Duration::from_secs(300);
    let (b, _rx) = with_config(cfg).await;
    let target = addr(&b, TransportMode::Tcp);
    // Warm up the runtime and allocator.
    let warm: Vec<_> = (0..50)
        .map(|_| std::net::TcpStream::connect(target).unwrap())
        .collect();
    wait_for(&b, 50).await;
    drop(warm);
    tokio::time::sleep(Duration::from_millis(300)).await;
    let before = rss_kib();
    let held: Vec<_> = (0..CONNECTIONS)
        .map(|_| std::net::TcpStream::connect(target).unwrap())
        .collect();
    wait_for(&b, CONNECTIONS).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let per_conn = (rss_kib().saturating_sub(before)) * 1024 / CONNECTIONS as u64;
    println!("memory per idle TCP connection: {per_conn} bytes ({CONNECTIONS} connections)");
    assert!(
        per_conn <= LIMIT_BYTES,
        "{per_conn} bytes per idle TCP connection"
    );
    drop(held);
}

const PY_CLIENTS: &str = r#"
import socket, ssl, sys
host, port, ca, n = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4])
ctx = ssl.create_default_context(cafile=ca)
conns = []
for _ in range(n):
    raw = socket.create_connection((host, port))
    conns.append(ctx.wrap_socket(raw, server_hostname="sip.test"))
print("ready", flush=True)
sys.stdin.read()
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_tls_connections_cost_little_memory() {
    let _serial = SERIAL.lock().await;
    let pki = Pki::new("bounds-tls");
    let (cert, key) = pki.cert("server", &["sip.test"], KeyFormat::Pkcs8);
    let mut cfg = TransportConfig::udp_tcp(ip(V4), 0);
    cfg.tls_port = Some(0);
    cfg.tls_server = Some(TlsServerConfig {
        cert_file: cert,
        key_file: key,
        key_password: None,
    });
    cfg.idle_timeout = Duration::from_secs(300);
    let (b, _rx) = with_config(cfg).await;
    let port = addr(&b, TransportMode::Tls).port().to_string();
    let ca = pki.ca_file.display().to_string();
    let spawn = move |n: usize| {
        let mut child = Command::new("python3")
            .args(["-c", PY_CLIENTS, V4, &port, &ca, &n.to_string()])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("python3 runs the TLS clients of this test");
        let mut line = String::new();
        BufReader::new(child.stdout.as_mut().unwrap())
            .read_line(&mut line)
            .unwrap();
        assert_eq!(line.trim(), "ready");
        child
    };
    // Warm up.
    let mut warm = spawn(50);
    wait_for(&b, 50).await;
    drop(warm.stdin.take());
    warm.wait().unwrap();
    tokio::time::sleep(Duration::from_millis(500)).await;
    let before = rss_kib();
    let mut clients = tokio::task::spawn_blocking(move || spawn(CONNECTIONS))
        .await
        .unwrap();
    wait_for(&b, CONNECTIONS).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let per_conn = (rss_kib().saturating_sub(before)) * 1024 / CONNECTIONS as u64;
    println!("memory per idle TLS connection: {per_conn} bytes ({CONNECTIONS} connections)");
    if let Some(mut stdin) = clients.stdin.take() {
        let _ = stdin.write_all(b"done");
    }
    let _ = clients.wait();
    assert!(
        per_conn <= LIMIT_BYTES,
        "{per_conn} bytes per idle TLS connection"
    );
}
