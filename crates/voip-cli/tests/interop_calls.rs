//! Calls with real peers on loopback (built with `--features interop`; `cargo xtask
//! ci` installs them first with `cargo xtask peers`). A missing peer fails.
//!
//! - `voip call` → SIPp UAS directly (answer, busy, ring then cancel) and through
//!   Kamailio, which challenges the INVITE with 407; over UDP and TCP.
//! - SIPp UAC → `voip listen` directly (answer, busy, CANCEL while ringing) and
//!   through Kamailio; over UDP and TCP.
//! - `voip call` → `voip listen` over TLS through `voip registrar`.

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use common::peers::{Kamailio, bounded, peers_dir, program, voip_registrar_with};

/// A SIPp run of `scenario` from 127.0.0.1:`port`, bounded by `-timeout`.
fn sipp(scenario: &str, target: Option<&str>, port: u16, transport: &str, extra: &[&str]) -> Child {
    let mut cmd = Command::new(program("sipp"));
    if let Some(t) = target {
        cmd.arg(t);
    }
    let errors = std::env::temp_dir().join(format!("sipp-{scenario}-{port}.err"));
    let _ = std::fs::remove_file(&errors);
    cmd.arg("-trace_err")
        .arg("-error_file")
        .arg(&errors)
        .arg("-sf")
        .arg(peers_dir().join("sipp").join(scenario))
        .args(["-i", "127.0.0.1", "-p", &port.to_string(), "-t", transport])
        .args(["-m", "1", "-timeout", "30s", "-timeout_error", "-nostdin"])
        .args(extra)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// What SIPp logged as unexpected for a run of `scenario` from `port`.
fn sipp_errors(scenario: &str, port: u16) -> String {
    std::fs::read_to_string(std::env::temp_dir().join(format!("sipp-{scenario}-{port}.err")))
        .unwrap_or_default()
}

/// `voip call` with these arguments, bounded.
fn voip_call(args: &[&str], password: &str) -> Output {
    let child = Command::new(env!("CARGO_BIN_EXE_voip"))
        .arg("call")
        .args(args)
        .env("VOIP_PASSWORD", password)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    bounded(child, 60, "voip call")
}

/// `voip listen` with these arguments; returns once it printed that it listens or
/// registered, with the rest of its output to come on the channel.
fn voip_listen(args: &[&str], password: &str) -> (Child, mpsc::Receiver<String>) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_voip"))
        .arg("listen")
        .args(args)
        .env("VOIP_PASSWORD", password)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let (tx, rx) = mpsc::channel();
    let stdout = child.stdout.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    // The ladder, when asked for, comes first.
    loop {
        let line = rx
            .recv_timeout(Duration::from_secs(20))
            .expect("voip listen started");
        if line.starts_with("listening on") || line.starts_with("registered") {
            break;
        }
    }
    (child, rx)
}

/// Waits for `voip listen` to exit; its output.
fn listen_done(child: Child, rx: &mpsc::Receiver<String>) -> (bool, String) {
    let out = bounded(child, 60, "voip listen");
    let lines: Vec<String> = rx.try_iter().collect();
    (
        out.status.success(),
        format!(
            "{}\n{}",
            lines.join("\n"),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

fn t(transport: &str) -> &'static str {
    if transport == "tcp" { "t1" } else { "u1" }
}

fn call_sipp_uas_directly(transport: &str, base: u16) {
    for (i, (scenario, expect)) in [
        ("uas.xml", vec!["--expect", "answer", "--duration", "1"]),
        ("uas_busy.xml", vec!["--expect", "busy"]),
        (
            "uas_ring_cancel.xml",
            vec!["--expect", "cancel", "--cancel-after", "1"],
        ),
    ]
    .into_iter()
    .enumerate()
    {
        let port = base + i as u16;
        let uas = sipp(scenario, None, port, t(transport), &[]);
        std::thread::sleep(Duration::from_millis(300));
        let target = format!("127.0.0.1:{port}");
        let uri = format!("sip:service@127.0.0.1:{port}");
        let mut args = vec![
            uri.as_str(),
            "--server",
            &target,
            "--no-register",
            "--user",
            "alice",
            "--transport",
            transport,
        ];
        args.extend(expect.iter().copied());
        let out = voip_call(&args, "");
        let sipp_out = bounded(uas, 40, "sipp uas");
        assert!(
            out.status.success(),
            "voip call → sipp {scenario} over {transport}:\n{}",
            text(&out)
        );
        assert!(
            sipp_out.status.success(),
            "sipp {scenario} over {transport}:\n{}",
            text(&sipp_out)
        );
        let ladder = String::from_utf8_lossy(&out.stdout);
        assert!(ladder.contains("→ INVITE sip:service@"), "{ladder}");
        println!("voip call → sipp {scenario} over {transport}: ok");
    }
}

#[test]
fn voip_call_to_sipp_uas_over_udp() {
    call_sipp_uas_directly("udp", 28100);
}

#[test]
fn voip_call_to_sipp_uas_over_tcp() {
    call_sipp_uas_directly("tcp", 28110);
}

fn sipp_uac_to_voip_listen(transport: &str, base: u16) {
    for (i, (mode, scenario)) in [
        ("--answer", "uac.xml"),
        ("--busy", "uac_busy.xml"),
        ("--ring-only", "uac_cancel.xml"),
    ]
    .into_iter()
    .enumerate()
    {
        let listen_port = base + 2 * i as u16;
        let bind = format!("127.0.0.1:{listen_port}");
        let (child, rx) = voip_listen(
            &[
                "--no-register",
                "--bind",
                &bind,
                "--transport",
                transport,
                mode,
                "--calls",
                "1",
                "--timeout",
                "40",
            ],
            "",
        );
        let to = format!("sip:bob@{bind}");
        let uac = sipp(
            scenario,
            Some(&bind),
            listen_port + 1,
            t(transport),
            &[
                "-key",
                "to_uri",
                &to,
                "-key",
                "from_user",
                "alice",
                "-key",
                "from_domain",
                "harness.test",
                "-d",
                "500",
            ],
        );
        let sipp_out = bounded(uac, 40, "sipp uac");
        let (ok, out) = listen_done(child, &rx);
        assert!(
            sipp_out.status.success(),
            "sipp {scenario} → voip listen {mode} over {transport}:\n{}\n{out}",
            text(&sipp_out)
        );
        assert!(ok, "voip listen {mode} over {transport}:\n{out}");
        println!("sipp {scenario} → voip listen {mode} over {transport}: ok ({out})");
    }
}

#[test]
fn sipp_uac_to_voip_listen_over_udp() {
    sipp_uac_to_voip_listen("udp", 28200);
}

#[test]
fn sipp_uac_to_voip_listen_over_tcp() {
    sipp_uac_to_voip_listen("tcp", 28220);
}

/// SIPp registers bob at Kamailio with its UAS port as Contact.
fn register_sipp_bob(k: &Kamailio, uas_port: u16, transport: &str, from_port: u16) {
    let target = format!("127.0.0.1:{}", k.sip_port);
    let reg = sipp(
        "register.xml",
        Some(&target),
        from_port,
        t(transport),
        &[
            "-s",
            "bob",
            "-au",
            "bob",
            "-ap",
            "secret-b",
            "-key",
            "reg_domain",
            "harness.test",
            "-key",
            "contact_port",
            &uas_port.to_string(),
            "-key",
            "expires",
            "300",
        ],
    );
    let out = bounded(reg, 40, "sipp register");
    assert!(out.status.success(), "sipp register bob: {}", text(&out));
}

fn through_kamailio(transport: &str, k: &Kamailio, base: u16) {
    // voip call → Kamailio (407) → SIPp UAS.
    let uas_port = base;
    register_sipp_bob(k, uas_port, transport, base + 1);
    let uas = sipp("uas.xml", None, uas_port, t(transport), &[]);
    std::thread::sleep(Duration::from_millis(300));
    let server = format!("127.0.0.1:{}", k.sip_port);
    let out = voip_call(
        &[
            "sip:bob@harness.test",
            "--server",
            &server,
            "--user",
            "alice",
            "--domain",
            "harness.test",
            "--transport",
            transport,
            "--duration",
            "1",
        ],
        "secret-a",
    );
    let sipp_out = bounded(uas, 40, "sipp uas");
    let ladder = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(
        out.status.success(),
        "voip call → kamailio → sipp over {transport}:\n{}\n{}",
        text(&out),
        k.log()
    );
    assert!(sipp_out.status.success(), "{}", text(&sipp_out));
    assert!(
        ladder.contains("← 407 Proxy Authentication Required (INVITE)"),
        "{ladder}"
    );
    println!("voip call → kamailio (407) → sipp uas over {transport}: ok");

    // SIPp UAC → Kamailio (407) → voip listen registered as carol (bob's binding
    // is SIPp's, above).
    let (child, rx) = voip_listen(
        &[
            "--server",
            &server,
            "--user",
            "carol",
            "--domain",
            "harness.test",
            "--transport",
            transport,
            "--ladder",
            "--answer",
            "--calls",
            "1",
            "--timeout",
            "40",
        ],
        "secret-c",
    );
    let uac = sipp(
        "uac.xml",
        Some(&server),
        base + 2,
        t(transport),
        &[
            "-key",
            "to_uri",
            "sip:carol@harness.test",
            "-key",
            "from_user",
            "alice",
            "-key",
            "from_domain",
            "harness.test",
            "-au",
            "alice",
            "-ap",
            "secret-a",
            "-d",
            "500",
        ],
    );
    let sipp_out = bounded(uac, 40, "sipp uac");
    let (ok, out) = listen_done(child, &rx);
    assert!(
        sipp_out.status.success(),
        "sipp uac → kamailio → voip listen over {transport}:\n{}\n{out}\n{}\n{}",
        text(&sipp_out),
        sipp_errors("uac.xml", base + 2),
        k.dump()
    );
    assert!(ok, "voip listen over {transport}:\n{out}");
    println!("sipp uac → kamailio (407) → voip listen over {transport}: ok");
}

#[test]
fn calls_through_kamailio() {
    let k = Kamailio::start("calls", 28060, 28061, false);
    through_kamailio("udp", &k, 28300);
    through_kamailio("tcp", &k, 28320);
}

#[test]
fn voip_call_to_voip_listen_over_tls_through_voip_registrar() {
    let dir = common::scratch("tls-call");
    let (ca, cert, key) = common::pki(&dir, &["localhost", "127.0.0.1"]);
    let reg = voip_registrar_with(&dir, Some((cert.as_path(), key.as_path())));
    let tls = reg.tls.expect("a TLS listener").to_string();
    let ca_arg = ca.to_string_lossy().to_string();
    let listen_args = |user: &'static str| -> Vec<String> {
        [
            "--server",
            &tls,
            "--user",
            user,
            "--domain",
            "voip.test",
            "--transport",
            "tls",
            "--ca",
            &ca_arg,
        ]
        .iter()
        .map(|s| s.to_string())
        .collect()
    };
    let mut args = listen_args("bob");
    args.extend(
        ["--answer", "--calls", "1", "--timeout", "40"]
            .iter()
            .map(|s| s.to_string()),
    );
    let args_ref: Vec<&str> = args.iter().map(String::as_str).collect();
    let (child, rx) = voip_listen(&args_ref, "secret-b");
    let mut call_args = vec!["sip:bob@voip.test".to_string()];
    call_args.extend(listen_args("alice"));
    call_args.extend(["--duration", "1"].iter().map(|s| s.to_string()));
    let call_ref: Vec<&str> = call_args.iter().map(String::as_str).collect();
    let out = voip_call(&call_ref, "secret-a");
    let (ok, listened) = listen_done(child, &rx);
    assert!(out.status.success(), "voip call over TLS:\n{}", text(&out));
    assert!(ok, "voip listen over TLS:\n{listened}");
    assert!(String::from_utf8_lossy(&out.stdout).contains("(TLS "));
    println!("voip call → voip registrar → voip listen over TLS: ok");
}
