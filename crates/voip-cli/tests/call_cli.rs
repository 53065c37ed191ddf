//! `voip call` against `voip listen` on loopback, no registrar: answered, busy,
//! ringing until cancelled, and the exit status when the call does not end as
//! expected.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

/// `voip listen` on a free loopback port in `mode`, started: the child and the
/// address it prints.
fn listen(mode: &str, transport: &str) -> (Child, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_voip"))
        .args(["listen", "--no-register", "--bind", "127.0.0.1:0", mode])
        .args(["--transport", transport, "--calls", "1", "--timeout", "20"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = String::new();
    BufReader::new(child.stdout.as_mut().unwrap())
        .read_line(&mut first)
        .unwrap();
    let Some(addr) = first.trim().strip_prefix("listening on ") else {
        let out = wait(child, "voip listen");
        panic!("voip listen did not start: {first}{}", show(&out));
    };
    let addr = addr.to_string();
    (child, addr)
}

fn wait(mut child: Child, what: &str) -> Output {
    let deadline = Instant::now() + Duration::from_secs(30);
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("{what} hung");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    child.wait_with_output().unwrap()
}

fn call(target: &str, transport: &str, extra: &[&str]) -> Output {
    let uri = format!("sip:bob@{target}");
    let child = Command::new(env!("CARGO_BIN_EXE_voip"))
        .args([
            "call",
            &uri,
            "--server",
            target,
            "--no-register",
            "--user",
            "alice",
        ])
        .args(["--transport", transport])
        .args(extra)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    wait(child, "voip call")
}

fn show(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

#[test]
fn an_answered_call_over_udp_and_tcp() {
    for transport in ["udp", "tcp"] {
        let (l, bind) = listen("--answer", transport);
        let out = call(&bind, transport, &["--duration", "0.3"]);
        let lo = wait(l, "voip listen");
        assert!(out.status.success(), "{transport}: {}", show(&out));
        assert!(lo.status.success(), "{transport}: {}", show(&lo));
        let ladder = String::from_utf8_lossy(&out.stdout);
        for line in [
            "→ INVITE sip:bob@",
            "← 180 Ringing (INVITE)",
            "← 200 OK (INVITE)",
            "→ ACK sip:",
            "answered",
            "media: PCMU/8000 pt 0 sendrecv to 127.0.0.1:",
            "→ BYE sip:",
            "← 200 OK (BYE)",
            "ended: we hung up",
        ] {
            assert!(
                ladder.contains(line),
                "{transport}: missing {line:?} in\n{ladder}"
            );
        }
        assert!(
            String::from_utf8_lossy(&lo.stdout).contains("answered; the caller hung up"),
            "{}",
            show(&lo)
        );
    }
}

#[test]
fn busy_and_cancel_end_as_expected_or_fail() {
    let (l, bind) = listen("--busy", "udp");
    let out = call(&bind, "udp", &["--expect", "busy"]);
    assert!(out.status.success(), "{}", show(&out));
    assert!(wait(l, "voip listen").status.success());
    // Expecting an answer from a busy callee fails, saying why.
    let (l, bind) = listen("--busy", "udp");
    let out = call(&bind, "udp", &[]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("refused: 486 Busy Here"),
        "{}",
        show(&out)
    );
    assert!(wait(l, "voip listen").status.success());
    // Ringing until cancelled.
    let (l, bind) = listen("--ring-only", "udp");
    let out = call(
        &bind,
        "udp",
        &["--expect", "cancel", "--cancel-after", "0.3"],
    );
    assert!(out.status.success(), "{}", show(&out));
    let ladder = String::from_utf8_lossy(&out.stdout);
    assert!(ladder.contains("→ CANCEL sip:bob@"), "{ladder}");
    assert!(
        ladder.contains("← 487 Request Terminated (INVITE)"),
        "{ladder}"
    );
    let lo = wait(l, "voip listen");
    assert!(lo.status.success(), "{}", show(&lo));
    assert!(String::from_utf8_lossy(&lo.stdout).contains("until the caller cancelled"));
}
