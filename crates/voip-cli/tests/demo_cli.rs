//! `voip demo` runs the stack end to end on loopback and exits 0.

use std::process::Command;
use std::time::{Duration, Instant};

#[test]
fn demo_registers_calls_hangs_up_and_deregisters() {
    let start = Instant::now();
    let out = Command::new(env!("CARGO_BIN_EXE_voip"))
        .args(["demo", "--call-ms", "50"])
        .output()
        .unwrap();
    assert!(start.elapsed() < Duration::from_secs(30));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for line in [
        "alice      registered sip:alice@demo.test over UDP",
        "bob        registered sip:bob@demo.test over TCP",
        "alice      OPTIONS bob: 200 OK",
        "alice      INVITE: 180 Ringing",
        "alice      INVITE: 200 OK",
        "bob        got the ACK: call established",
        "alice      BYE answered: call ended (LocalBye)",
        "alice      media agreed: PCMU/8000 pt 0 sendrecv to 127.0.0.1:40002",
        "bob        call ended",
        "alice      deregistered",
        "bob        deregistered",
        "0 bindings left",
    ] {
        assert!(stdout.contains(line), "missing {line:?} in:\n{stdout}");
    }
}
