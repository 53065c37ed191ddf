//! `voip register` against `voip registrar`, both as processes, over UDP, TCP and TLS:
//! what they print, their exit codes, and the one-line reasons for failures.

mod common;

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

struct Registrar {
    child: Child,
    ports: Vec<(String, String)>,
}

impl Drop for Registrar {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_registrar(tag: &str) -> (Registrar, PathBuf) {
    let dir = common::scratch(tag);
    let users = dir.join("users");
    std::fs::write(&users, "alice:secret-a\nbob:secret-b\n").unwrap();
    let (ca, cert, key) = common::pki(&dir, &["127.0.0.1", "localhost"]);
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
        .args(["--tls-bind", "127.0.0.1:0"])
        .arg("--tls-cert")
        .arg(&cert)
        .arg("--tls-key")
        .arg(&key)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut ports = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        let Some(Ok(line)) = lines.next() else { break };
        if let Some(rest) = line.strip_prefix("listening ") {
            let (mode, addr) = rest.split_once(' ').unwrap();
            ports.push((mode.to_string(), addr.to_string()));
        }
        if line.starts_with("realm ") {
            break;
        }
    }
    assert_eq!(ports.len(), 3, "{ports:?}");
    (Registrar { child, ports }, ca)
}

fn register(server: &str, transport: &str, password: &str, extra: &[&str]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_voip"));
    cmd.args([
        "register",
        "--server",
        server,
        "--user",
        "alice",
        "--domain",
        "voip.test",
    ])
    .args(["--transport", transport, "--once"])
    .args(extra)
    .env("VOIP_PASSWORD", password);
    if !extra.contains(&"--timeout") {
        cmd.args(["--timeout", "10"]);
    }
    let child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Bounded: the command has its own timeout; this guards against a hang.
    let start = Instant::now();
    let out = child.wait_with_output().unwrap();
    assert!(start.elapsed() < Duration::from_secs(30));
    out
}

fn addr<'a>(r: &'a Registrar, mode: &str) -> &'a str {
    &r.ports.iter().find(|(m, _)| m == mode).unwrap().1
}

#[test]
fn register_once_over_udp_tcp_and_tls() {
    let (reg, ca) = start_registrar("ok");
    for mode in ["udp", "tcp", "tls"] {
        let ca_arg = ca.to_str().unwrap();
        let extra: Vec<&str> = if mode == "tls" {
            vec!["--ca", ca_arg]
        } else {
            vec![]
        };
        let out = register(addr(&reg, mode), mode, "secret-a", &extra);
        let stdout = String::from_utf8_lossy(&out.stdout);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{mode}: {stdout} {stderr}");
        assert!(
            stdout.contains("registered sip:alice@voip.test at 127.0.0.1:"),
            "{stdout}"
        );
        assert!(stdout.contains("expires: 3600 s"), "{stdout}");
        assert!(stdout.contains("contact: sip:alice@127.0.0.1:"), "{stdout}");
        assert!(
            stdout.contains("server holds: <sip:alice@127.0.0.1:"),
            "{stdout}"
        );
        assert!(stdout.trim_end().ends_with("deregistered"), "{stdout}");
    }
}

#[test]
fn failures_give_one_line_reasons_and_nonzero_exits() {
    let (reg, ca) = start_registrar("fail");
    let out = register(addr(&reg, "udp"), "udp", "wrong", &[]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("wrong user name or password"), "{err}");
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    // TLS without trusting the registrar's CA.
    let out = register(addr(&reg, "tls"), "tls", "secret-a", &["--ca", "/dev/null"]);
    assert_ne!(out.status.code(), Some(0));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("TLS") || err.contains("certificate"), "{err}");
    let _ = ca;
    // Nobody listening (a UDP port we hold and never read).
    let sock = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let port = sock.local_addr().unwrap().port();
    let out = register(
        &format!("127.0.0.1:{port}"),
        "udp",
        "secret-a",
        &["--timeout", "2"],
    );
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("timeout"), "{err}");
    // No password at all.
    let out = Command::new(env!("CARGO_BIN_EXE_voip"))
        .args([
            "register",
            "--server",
            "127.0.0.1",
            "--user",
            "alice",
            "--once",
        ])
        .env_remove("VOIP_PASSWORD")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("VOIP_PASSWORD"));
}

#[test]
fn without_once_it_holds_the_registration_until_ctrl_c() {
    let (reg, _) = start_registrar("hold");
    let server = addr(&reg, "udp").to_string();
    let mut child = Command::new(env!("CARGO_BIN_EXE_voip"))
        .args([
            "register",
            "--server",
            &server,
            "--user",
            "alice",
            "--domain",
            "voip.test",
        ])
        .env("VOIP_PASSWORD", "secret-a")
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let mut seen = Vec::new();
    while !seen.iter().any(|l: &String| l.starts_with("server holds:")) {
        seen.push(
            rx.recv_timeout(Duration::from_secs(10))
                .expect("registered in time"),
        );
    }
    // Ctrl-C: it deregisters and exits 0.
    let status = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let deadline = Instant::now() + Duration::from_secs(10);
    let exit = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        assert!(Instant::now() < deadline, "still running after Ctrl-C");
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(exit.success());
    let rest: Vec<String> = rx.try_iter().collect();
    assert_eq!(
        rest.last().map(String::as_str),
        Some("deregistered"),
        "{rest:?}"
    );
    // The server holds nothing of it: a new registration sees only its own binding.
    let out = register(&server, "udp", "secret-a", &[]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(text.matches("server holds:").count(), 1, "{text}");
}
