//! `voip parse --json` over every corpus message: the contract's keys and types, the
//! verdict the library gives, the exit status; and no input makes it panic or hang.

use serde_json::Value;
use sip_message::Message;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn voip() -> Command {
    Command::new(env!("CARGO_BIN_EXE_voip"))
}

fn corpus() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let mut files = Vec::new();
    for dir in [
        "crates/sip-message/tests/data/torture",
        "crates/sip-message/tests/data/torture-ipv6",
        "benches/data",
    ] {
        for e in std::fs::read_dir(root.join(dir)).unwrap() {
            let p = e.unwrap().path();
            if matches!(p.extension().and_then(|e| e.to_str()), Some("dat" | "sip")) {
                files.push(p);
            }
        }
    }
    files.sort();
    assert!(files.len() > 70);
    files
}

/// Runs `voip parse --json` with `input` on stdin, bounded in time.
fn run_stdin(input: &[u8], extra: &[&str]) -> (i32, String) {
    let mut child = voip()
        .args(["parse", "--json"])
        .args(extra)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Written from a thread: the command may stop reading early (oversized input), and
    // the write must then neither block nor fail the test.
    let mut stdin = child.stdin.take().unwrap();
    let data = input.to_vec();
    let writer = std::thread::spawn(move || {
        let _ = stdin.write_all(&data);
    });
    let start = Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            let out = child.wait_with_output().unwrap();
            writer.join().unwrap();
            assert!(
                out.stderr.is_empty(),
                "stderr: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            return (
                status.code().unwrap_or(-1),
                String::from_utf8(out.stdout).unwrap(),
            );
        }
        if start.elapsed() > Duration::from_secs(10) {
            let _ = child.kill();
            panic!("voip parse hung on {input:?}");
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

fn is_str_or_null(v: &Value) -> bool {
    v.is_string() || v.is_null()
}

fn is_int_or_null(v: &Value) -> bool {
    v.is_u64() || v.is_null()
}

fn check_name_addr(v: &Value) {
    if v.is_null() {
        return;
    }
    assert!(is_str_or_null(&v["display_name"]));
    assert!(v["uri"].is_string());
    assert!(is_str_or_null(&v["tag"]));
}

/// Checks the shape of the contract; returns the object.
fn check_contract(out: &str) -> Value {
    assert_eq!(out.lines().count(), 1, "exactly one line: {out}");
    let v: Value = serde_json::from_str(out).unwrap();
    let keys = [
        "verdict",
        "error",
        "response",
        "kind",
        "method",
        "request_uri",
        "status",
        "reason",
        "call_id",
        "cseq",
        "from",
        "to",
        "via",
        "contact",
        "max_forwards",
        "content_length",
        "content_type",
        "body_len",
        "headers",
        "authenticate",
    ];
    let obj = v.as_object().unwrap();
    for k in keys {
        assert!(obj.contains_key(k), "missing key {k}");
    }
    assert_eq!(obj.len(), keys.len());
    assert!(matches!(v["verdict"].as_str(), Some("accept" | "reject")));
    assert!(is_str_or_null(&v["error"]));
    assert!(is_int_or_null(&v["response"]));
    assert!(matches!(v["kind"].as_str(), Some("request" | "response")) || v["kind"].is_null());
    for k in ["method", "request_uri", "reason", "call_id", "content_type"] {
        assert!(is_str_or_null(&v[k]), "{k}");
    }
    for k in ["status", "max_forwards", "content_length"] {
        assert!(is_int_or_null(&v[k]), "{k}");
    }
    if !v["cseq"].is_null() {
        assert!(v["cseq"]["seq"].is_u64() && v["cseq"]["method"].is_string());
    }
    check_name_addr(&v["from"]);
    check_name_addr(&v["to"]);
    for via in v["via"].as_array().unwrap() {
        assert!(via["transport"].is_string() && via["host"].is_string());
        assert!(is_int_or_null(&via["port"]));
        assert!(is_str_or_null(&via["branch"]) && is_str_or_null(&via["received"]));
        assert!(via["rport"] == Value::Bool(true) || is_int_or_null(&via["rport"]));
    }
    for c in v["contact"].as_array().unwrap() {
        assert!(is_str_or_null(&c["display_name"]) && c["uri"].is_string());
        assert!(is_int_or_null(&c["expires"]));
    }
    assert!(v["body_len"].is_u64());
    for h in v["headers"].as_array().unwrap() {
        let pair = h.as_array().unwrap();
        assert!(pair.len() == 2 && pair[0].is_string() && pair[1].is_string());
    }
    for a in v["authenticate"].as_array().unwrap() {
        assert!(a["header"].is_string() && a["scheme"].is_string());
        assert!(
            a["params"]
                .as_object()
                .unwrap()
                .values()
                .all(Value::is_string)
        );
    }
    v
}

#[test]
fn every_corpus_message_gives_the_contract() {
    for path in corpus() {
        let out = voip()
            .args(["parse", "--json"])
            .arg(&path)
            .output()
            .unwrap();
        let stdout = String::from_utf8(out.stdout).unwrap();
        let v = check_contract(&stdout);
        let lib = Message::parse(std::fs::read(&path).unwrap());
        match &lib {
            Ok(m) => {
                assert_eq!(v["verdict"], "accept", "{}", path.display());
                assert_eq!(out.status.code(), Some(0));
                assert_eq!(v["call_id"], m.call_id());
                assert_eq!(v["via"].as_array().unwrap().len(), m.via_count());
                assert_eq!(v["headers"].as_array().unwrap().len(), m.header_count());
                assert_eq!(v["body_len"], m.body().len());
            }
            Err(e) => {
                assert_eq!(v["verdict"], "reject", "{}", path.display());
                assert_eq!(out.status.code(), Some(1));
                assert_eq!(
                    v["response"].as_u64(),
                    e.response().map(|s| u64::from(s.as_u16()))
                );
                assert!(v["error"].is_string());
            }
        }
    }
}

#[test]
fn verdicts_named_by_the_rfcs() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../sip-message/tests/data");
    let cases = [
        ("torture/badvers.dat", "reject", Some(505)),
        ("torture/unkscm.dat", "reject", Some(416)),
        ("torture/scalarlg.dat", "reject", None),
        ("torture/wsinv.dat", "accept", None),
        ("torture-ipv6/ipv6-bad.dat", "reject", Some(400)),
    ];
    for (file, verdict, response) in cases {
        let out = voip()
            .args(["parse", "--json"])
            .arg(root.join(file))
            .output()
            .unwrap();
        let v = check_contract(&String::from_utf8(out.stdout).unwrap());
        assert_eq!(v["verdict"], verdict, "{file}");
        assert_eq!(v["response"].as_u64(), response, "{file}");
    }
    let out = voip()
        .args(["parse", "--json"])
        .arg(root.join("torture/wsinv.dat"))
        .output()
        .unwrap();
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["via"][1]["transport"], "TCP");
    assert_eq!(v["from"]["display_name"], "J Rosenberg \\\"");
    assert_eq!(v["to"]["tag"], "1918181833n");
}

#[test]
fn authenticate_params_are_unquoted() {
    let p =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../benches/data/02_401_unauthorized.sip");
    let out = voip().args(["parse", "--json"]).arg(p).output().unwrap();
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let a = &v["authenticate"][0];
    assert_eq!(a["header"], "WWW-Authenticate");
    assert_eq!(a["scheme"], "Digest");
    assert_eq!(a["params"]["realm"], "biloxi.example.com");
    assert_eq!(a["params"]["opaque"], "");
    assert_eq!(a["params"]["stale"], "FALSE");
}

#[test]
fn stdin_stream_and_exit_codes() {
    let msg =
        std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join("../../benches/data/09_bye.sip"))
            .unwrap();
    let (code, out) = run_stdin(&msg, &[]);
    assert_eq!(code, 0);
    assert_eq!(check_contract(&out)["method"], "BYE");
    let mut ka = b"\r\n\r\n".to_vec();
    ka.extend_from_slice(&msg);
    let (code, out) = run_stdin(&ka, &["--stream"]);
    assert_eq!(code, 0);
    assert_eq!(check_contract(&out)["method"], "BYE");
    let (code, out) = run_stdin(&msg[..msg.len() / 2], &["--stream"]);
    assert_eq!(code, 1);
    assert_eq!(check_contract(&out)["response"], Value::Null);
    let (code, _) = run_stdin(b"", &[]);
    assert_eq!(code, 1);
    // A missing file is an I/O error.
    let out = voip()
        .args(["parse", "/nonexistent/file"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    // An unknown flag is a usage error.
    let out = voip().args(["parse", "--bogus"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    // Without --json: a summary.
    let out = voip()
        .args(["parse", "-"])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(
        String::from_utf8(out.stdout)
            .unwrap()
            .starts_with("reject:")
    );
}

#[test]
fn oversized_input_is_refused_without_reading_it_all() {
    let big = vec![b'A'; 3 * 1024 * 1024];
    let (code, out) = run_stdin(&big, &[]);
    assert_eq!(code, 1);
    let v = check_contract(&out);
    assert_eq!(v["response"], 513);
}

mod random {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig { cases: 48, failure_persistence: None, ..ProptestConfig::default() })]
        #[test]
        fn no_input_makes_it_panic_or_hang(data in prop::collection::vec(any::<u8>(), 0..2000), stream in any::<bool>()) {
            let flags: &[&str] = if stream { &["--stream"] } else { &[] };
            let (code, out) = run_stdin(&data, flags);
            prop_assert!(code == 0 || code == 1);
            check_contract(&out);
        }
    }
}
