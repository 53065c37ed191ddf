//! Interop with real peers on loopback (built with `--features interop`; `cargo xtask
//! ci` installs the peers with `cargo xtask peers` first). A missing peer fails.
//!
//! - Kamailio 5.6 as registrar: register, refresh and deregister with `SipClient` over
//!   UDP, TCP and TLS, on 127.0.0.1 and ::1, with MD5 and with SHA-256 digest, the
//!   bindings checked with `kamcmd ul.dump`; `voip register --once` over all three.
//! - SIPp's REGISTER scenario against `voip registrar`, over UDP and TCP.

mod common;

use common::peers::{Kamailio, peers_dir, program, voip_registrar};

use std::net::{IpAddr, SocketAddr};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use sip_auth::CredentialsManager;
use sip_client::{SipClient, SipClientConfig};
use sip_message::TransportMode;

fn client_config(k: &Kamailio, ip: &str, mode: TransportMode) -> SipClientConfig {
    let mut creds = CredentialsManager::new();
    creds.add("alice", "secret-a", Some(ip), Some("harness.test"), None);
    let mut c = SipClientConfig::new(ip, "alice", creds);
    c.port = Some(k.port(mode));
    c.domain = Some("harness.test".into());
    c.transport_mode = mode;
    c.bind_ip = ip.parse::<IpAddr>().unwrap();
    c.ca_files = vec![k.ca.clone()];
    c.expires = 300;
    c.register_timeout = Duration::from_secs(15);
    c
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

/// Register, refresh, check the binding in Kamailio, deregister, check it is gone.
fn register_refresh_deregister(k: &Kamailio, ip: &str, mode: TransportMode) {
    let what = format!("{mode} on {ip}");
    runtime().block_on(async {
        let client = tokio::time::timeout(
            Duration::from_secs(30),
            SipClient::start(client_config(k, ip, mode)),
        )
        .await
        .unwrap_or_else(|_| panic!("{what}: start timed out"))
        .unwrap_or_else(|e| panic!("{what}: {e}\n{}", k.log()));
        let r = client.registered().cloned().expect("registered");
        assert_eq!(r.expires, 300, "{what}: {r:?}");
        let local = client.local_addr();
        let host = match local {
            SocketAddr::V6(a) => format!("[{}]:{}", a.ip(), a.port()),
            SocketAddr::V4(a) => a.to_string(),
        };
        let dump = k.dump();
        assert!(
            dump.contains(&host),
            "{what}: {host} not in ul.dump:\n{dump}"
        );
        let refreshed = client.register(client.account()).await.unwrap();
        assert_eq!(refreshed.expires, 300, "{what}");
        client.deregister(client.account()).await.unwrap();
        let dump = k.dump();
        assert!(
            !dump.contains(&host),
            "{what}: still bound after deregistering:\n{dump}"
        );
        client.stop().await;
    });
}

fn voip_register_once(k: &Kamailio, mode: &str) -> Output {
    let port = if mode == "tls" {
        k.tls_port
    } else {
        k.sip_port
    };
    let mut child = Command::new(env!("CARGO_BIN_EXE_voip"))
        .args(["register", "--server", &format!("127.0.0.1:{port}")])
        .args([
            "--user",
            "alice",
            "--domain",
            "harness.test",
            "--transport",
            mode,
        ])
        .arg("--ca")
        .arg(&k.ca)
        .args(["--once", "--timeout", "15"])
        .env("VOIP_PASSWORD", "secret-a")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(40);
    loop {
        if child.try_wait().unwrap().is_some() {
            break;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("voip register over {mode} hung");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    child.wait_with_output().unwrap()
}

fn kamailio_suite(tag: &str, sip_port: u16, tls_port: u16, sha256: bool) {
    let k = Kamailio::start(tag, sip_port, tls_port, sha256);
    for ip in ["127.0.0.1", "::1"] {
        for mode in [TransportMode::Udp, TransportMode::Tcp, TransportMode::Tls] {
            register_refresh_deregister(&k, ip, mode);
        }
    }
    for mode in ["udp", "tcp", "tls"] {
        let out = voip_register_once(&k, mode);
        let stdout = String::from_utf8_lossy(&out.stdout);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            out.status.success(),
            "voip register --once over {mode}: {stdout}{stderr}\n{}",
            k.log()
        );
        assert!(
            stdout.contains("registered sip:alice@harness.test"),
            "{stdout}"
        );
        assert!(stdout.contains("expires: 3600 s"), "{stdout}");
        assert!(stdout.trim_end().ends_with("deregistered"), "{stdout}");
    }
    // A wrong password: Kamailio challenges again; the reason says so.
    let out = Command::new(env!("CARGO_BIN_EXE_voip"))
        .args(["register", "--server", &format!("127.0.0.1:{sip_port}")])
        .args([
            "--user",
            "alice",
            "--domain",
            "harness.test",
            "--once",
            "--timeout",
            "15",
        ])
        .env("VOIP_PASSWORD", "not-the-password")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("wrong user name or password"));
    let algorithm = if sha256 { "SHA-256" } else { "MD5" };
    println!(
        "kamailio ({algorithm}): register/refresh/deregister over udp, tcp, tls on 127.0.0.1 and ::1; voip register --once x3: ok"
    );
}

#[test]
fn kamailio_md5() {
    kamailio_suite("md5", 25060, 25061, false);
}

/// A Kamailio whose certificate was made as its guide says (`openssl req -x509`, so
/// `CA:TRUE`), handed to `voip register --ca`: WebPKI alone refuses such a certificate
/// as the server's own (`CaUsedAsEndEntity`); trusted as itself, it registers.
#[test]
fn kamailio_with_a_self_signed_certificate() {
    let k = Kamailio::start_self_signed("selfsigned", 27060, 27061);
    let text = std::fs::read_to_string(&k.ca).unwrap();
    assert!(text.contains("BEGIN CERTIFICATE"));
    let out = voip_register_once(&k, "tls");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}\n{}",
        String::from_utf8_lossy(&out.stderr),
        k.log()
    );
    assert!(
        stdout.contains("registered sip:alice@harness.test"),
        "{stdout}"
    );
    println!(
        "kamailio with an openssl req -x509 certificate: voip register --transport tls --ca it: ok"
    );
}

#[test]
fn kamailio_sha256() {
    kamailio_suite("sha256", 26060, 26061, true);
}

fn sipp_register(target: SocketAddr, transport: &str, local_port: u16) -> Output {
    let scenario = peers_dir().join("sipp/register.xml");
    let mut child = Command::new(program("sipp"))
        .arg(target.to_string())
        .arg("-sf")
        .arg(&scenario)
        .args([
            "-i",
            "127.0.0.1",
            "-p",
            &local_port.to_string(),
            "-t",
            transport,
        ])
        .args(["-s", "alice", "-au", "alice", "-ap", "secret-a"])
        .args([
            "-key",
            "reg_domain",
            "voip.test",
            "-key",
            "contact_port",
            "5999",
            "-key",
            "expires",
            "600",
        ])
        .args(["-m", "1", "-timeout", "20s", "-timeout_error", "-nostdin"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("sipp hung");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    child.wait_with_output().unwrap()
}

#[test]
fn sipp_registers_with_our_registrar() {
    let dir = common::scratch("sipp");
    let reg = voip_registrar(&dir);
    for (transport, port) in [("u1", 27071), ("t1", 27072)] {
        let out = sipp_register(reg.udp, transport, port);
        assert!(
            out.status.success(),
            "sipp -t {transport}: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    // And our own client against the same registrar process.
    let out = Command::new(env!("CARGO_BIN_EXE_voip"))
        .args([
            "register",
            "--server",
            &reg.udp.to_string(),
            "--user",
            "bob",
            "--domain",
            "voip.test",
            "--once",
        ])
        .env("VOIP_PASSWORD", "secret-b")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    println!("sipp register.xml against voip registrar over udp and tcp: ok");
}
