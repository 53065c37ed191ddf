//! Interop with real peers on loopback (built with `--features interop`; `cargo xtask
//! ci` installs the peers with `cargo xtask peers` first). A missing peer fails.
//!
//! - Kamailio 5.6 as registrar: register, refresh and deregister with `SipClient` over
//!   UDP, TCP and TLS, on 127.0.0.1 and ::1, with MD5 and with SHA-256 digest, the
//!   bindings checked with `kamcmd ul.dump`; `voip register --once` over all three.
//! - SIPp's REGISTER scenario against `voip registrar`, over UDP and TCP.

mod common;

use std::io::{BufRead, BufReader};
use std::net::{IpAddr, SocketAddr, UdpSocket};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use sip_auth::CredentialsManager;
use sip_client::{SipClient, SipClientConfig};
use sip_message::TransportMode;

fn peers_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/peers")
}

/// Finds a program, failing the test with the fix when it is missing.
fn program(name: &str) -> PathBuf {
    for dir in std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default())
        .chain(["/usr/sbin".into(), "/sbin".into()])
    {
        let p = dir.join(name);
        if p.is_file() {
            return p;
        }
    }
    panic!("{name} is not installed: run `cargo xtask peers`");
}

/// A Kamailio instance in its own run directory and process group.
struct Kamailio {
    child: Child,
    run: PathBuf,
    sip_port: u16,
    tls_port: u16,
    ca: PathBuf,
}

impl Drop for Kamailio {
    fn drop(&mut self) {
        // Kamailio forks workers: stop the whole process group.
        let _ = Command::new("kill")
            .args(["-TERM", "--", &format!("-{}", self.child.id())])
            .status();
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                break;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = Command::new("kill")
            .args(["-KILL", "--", &format!("-{}", self.child.id())])
            .status();
        let _ = self.child.wait();
    }
}

/// Sends OPTIONS to the proxy itself until it answers.
fn answers_options(port: u16) -> bool {
    let Ok(sock) = UdpSocket::bind("127.0.0.1:0") else {
        return false;
    };
    let local = sock.local_addr().unwrap();
    let msg = format!(
        "OPTIONS sip:127.0.0.1:{port} SIP/2.0\r\nVia: SIP/2.0/UDP {local};branch=z9hG4bKprobe{}\r\nMax-Forwards: 70\r\nFrom: <sip:probe@127.0.0.1>;tag=p\r\nTo: <sip:127.0.0.1:{port}>\r\nCall-ID: probe-{}\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n",
        local.port(),
        local.port()
    );
    let _ = sock.set_read_timeout(Some(Duration::from_millis(300)));
    if sock.send_to(msg.as_bytes(), ("127.0.0.1", port)).is_err() {
        return false;
    }
    let mut buf = [0u8; 2048];
    matches!(sock.recv(&mut buf), Ok(n) if buf[..n].starts_with(b"SIP/2.0 200"))
}

impl Kamailio {
    fn start(tag: &str, sip_port: u16, tls_port: u16, sha256: bool) -> Kamailio {
        let kamailio = program("kamailio");
        let run = common::scratch(tag);
        let db = run.join("dbtext");
        std::fs::create_dir_all(&db).unwrap();
        for f in ["subscriber", "version"] {
            std::fs::copy(peers_dir().join("kamailio/dbtext").join(f), db.join(f)).unwrap();
        }
        let (ca, cert, key) = common::pki(&run, &["harness.test", "localhost", "127.0.0.1", "::1"]);
        let cfg = std::fs::read_to_string(peers_dir().join("kamailio/kamailio.cfg"))
            .unwrap()
            .replace("@SIP_PORT@", &sip_port.to_string())
            .replace("@TLS_PORT@", &tls_port.to_string());
        let cfg_file = run.join("kamailio.cfg");
        std::fs::write(&cfg_file, cfg).unwrap();
        let mut defines = vec![
            format!("DBURL=\"text://{}\"", db.display()),
            format!("CTL_SOCK=\"unixs:{}/kamailio_ctl\"", run.display()),
            "WITH_TLS".to_string(),
            format!("TLS_CERT=\"{}\"", cert.display()),
            format!("TLS_KEY=\"{}\"", key.display()),
            "WITH_IPV6".to_string(),
        ];
        if sha256 {
            defines.push("WITH_SHA256".into());
        }
        let args = |c: &mut Command| {
            c.arg("-f").arg(&cfg_file);
            for d in &defines {
                c.arg("-A").arg(d);
            }
        };
        let mut check = Command::new(&kamailio);
        check.arg("-c");
        args(&mut check);
        let out = check.output().unwrap();
        assert!(
            out.status.success(),
            "kamailio -c: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let log = std::fs::File::create(run.join("kamailio.log")).unwrap();
        let mut cmd = Command::new(&kamailio);
        cmd.args(["-DD", "-E", "-m", "64", "-M", "8"])
            .arg("-Y")
            .arg(&run)
            .arg("-w")
            .arg(&run);
        args(&mut cmd);
        let child = cmd
            .stdout(Stdio::null())
            .stderr(log)
            .process_group(0)
            .spawn()
            .unwrap();
        let k = Kamailio {
            child,
            run,
            sip_port,
            tls_port,
            ca,
        };
        let deadline = Instant::now() + Duration::from_secs(20);
        let mut tls_up = false;
        let mut sip_up = false;
        while Instant::now() < deadline && !(sip_up && tls_up) {
            sip_up = sip_up || answers_options(sip_port);
            tls_up = tls_up || std::net::TcpStream::connect(("127.0.0.1", tls_port)).is_ok();
            std::thread::sleep(Duration::from_millis(100));
        }
        assert!(sip_up && tls_up, "kamailio did not come up: {}", k.log());
        k
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.run.join("kamailio.log")).unwrap_or_default()
    }

    /// The registered contacts, as `kamcmd ul.dump` prints them.
    fn dump(&self) -> String {
        let out = Command::new(program("kamcmd"))
            .arg("-s")
            .arg(format!("unixs:{}/kamailio_ctl", self.run.display()))
            .arg("ul.dump")
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    fn port(&self, mode: TransportMode) -> u16 {
        match mode {
            TransportMode::Tls => self.tls_port,
            _ => self.sip_port,
        }
    }
}

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
        let r = client.registered().clone();
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

#[test]
fn kamailio_sha256() {
    kamailio_suite("sha256", 26060, 26061, true);
}

/// `voip registrar` as a child process; its ports read from what it prints.
struct VoipRegistrar {
    child: Child,
    udp: SocketAddr,
}

impl Drop for VoipRegistrar {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn voip_registrar(dir: &Path) -> VoipRegistrar {
    let users = dir.join("users");
    std::fs::write(&users, "alice:secret-a\nbob:secret-b\n").unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_voip"))
        .args([
            "registrar",
            "--bind",
            "127.0.0.1:0",
            "--tcp",
            "--realm",
            "voip.test",
        ])
        .arg("--users")
        .arg(&users)
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut udp = None;
    for line in lines.by_ref().take(5) {
        let line = line.unwrap();
        if let Some(a) = line.strip_prefix("listening udp ") {
            udp = Some(a.parse().unwrap());
        }
        if line.starts_with("realm ") {
            break;
        }
    }
    VoipRegistrar {
        child,
        udp: udp.expect("the registrar printed its UDP address"),
    }
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
