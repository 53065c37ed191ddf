//! `voip demo` runs the stack end to end on loopback: registration, a call through
//! the proxy, a tone measured at the far end, DTMF, hang-up; its last line gives the
//! figures, and they hold what the demo claims.

use std::collections::HashMap;
use std::process::Command;
use std::time::{Duration, Instant};

#[test]
fn demo_calls_with_a_tone_and_digits_and_says_ok() {
    let start = Instant::now();
    let out = Command::new(env!("CARGO_BIN_EXE_voip"))
        .arg("demo")
        .output()
        .unwrap();
    assert!(
        start.elapsed() < Duration::from_secs(15),
        "took {:?}",
        start.elapsed()
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // The ladder, as it happened.
    for line in [
        "alice  → REGISTER sip:demo.test (UDP",
        "bob    ← 200 OK (REGISTER) (TCP",
        "alice  → INVITE sip:bob@demo.test",
        "alice  ← 407 Proxy Authentication Required (INVITE)",
        "bob    ← INVITE sip:bob@127.0.0.1:",
        "bob    → 180 Ringing (INVITE)",
        "alice  ← 200 OK (INVITE)",
        "bob    ← ACK sip:bob@",
        "bob          got DTMF 1234#",
        "alice  → BYE sip:bob@",
        "alice  ← 200 OK (BYE)",
        "0 bindings left",
    ] {
        assert!(stdout.contains(line), "missing {line:?} in:\n{stdout}");
    }
    let last = stdout.lines().last().unwrap_or_default();
    let rest = last
        .strip_prefix("demo: ok ")
        .unwrap_or_else(|| panic!("last line {last:?}"));
    let fields: HashMap<&str, &str> = rest
        .split(' ')
        .filter_map(|kv| kv.split_once('='))
        .collect();
    let num = |k: &str| -> f64 {
        fields[k]
            .parse()
            .unwrap_or_else(|_| panic!("{k} in {last:?}"))
    };
    let keys = [
        "registration_ms",
        "setup_ms",
        "rtp_sent",
        "rtp_received",
        "rtp_lost",
        "dtmf",
        "tone_hz",
        "level_dbfs",
    ];
    assert_eq!(fields.len(), keys.len(), "{last:?}");
    for k in keys {
        assert!(fields.contains_key(k), "{k} missing in {last:?}");
    }
    assert_eq!(fields["dtmf"], "1234#");
    assert!((num("tone_hz") - 1000.0).abs() <= 10.0, "{last}");
    assert!((num("level_dbfs") + 6.0).abs() <= 1.0, "{last}");
    assert!(
        num("rtp_sent") >= 50.0 && num("rtp_received") >= 50.0,
        "{last}"
    );
    assert_eq!(num("rtp_lost"), 0.0, "{last}");
    assert!(
        num("registration_ms") < 5000.0 && num("setup_ms") < 5000.0,
        "{last}"
    );
}

#[test]
fn trace_file_holds_every_message_whole() {
    let file = std::env::temp_dir().join(format!("voip-trace-{}.txt", std::process::id()));
    let _ = std::fs::remove_file(&file);
    let out = Command::new(env!("CARGO_BIN_EXE_voip"))
        .args(["demo", "--trace-file"])
        .arg(&file)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let trace = std::fs::read_to_string(&file).unwrap();
    // A header line per message (time, direction, transport, peer, size), then the
    // message itself with every header.
    let headers = trace.lines().filter(|l| l.starts_with("---- ")).count();
    assert!(headers >= 20, "{headers} messages traced");
    for part in [
        " UTC sent to UDP 127.0.0.1:",
        " UTC received from TCP 127.0.0.1:",
        "INVITE sip:bob@demo.test SIP/2.0\nVia: SIP/2.0/UDP ",
        "SIP/2.0 407 Proxy Authentication Required\n",
        "Proxy-Authenticate: Digest realm=\"demo.test\"",
        "\nm=audio ",
        "BYE sip:bob@",
    ] {
        assert!(trace.contains(part), "missing {part:?} in the trace");
    }
    let _ = std::fs::remove_file(file);
}
