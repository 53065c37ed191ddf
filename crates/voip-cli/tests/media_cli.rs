//! `voip call --play --record --dtmf` against `voip listen --echo --record` on
//! loopback: the tone played reaches the listener, comes back by its echo, is in
//! both recordings (frequency and level measured), and the digits are reported.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use voip_rtp::tone::{measure, sine, trim_silence};

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

fn show(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

#[test]
fn a_played_file_echoes_back_and_digits_arrive() {
    let dir = std::env::temp_dir().join(format!("voip-media-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let tone = dir.join("tone.wav");
    voip_facade::wav::write(&tone, &sine(1000.0, -10.0, 8000, 0, 8000)).unwrap();
    let (at_listener, at_caller) = (dir.join("listener.wav"), dir.join("caller.wav"));

    let mut listener = Command::new(env!("CARGO_BIN_EXE_voip"))
        .args([
            "listen",
            "--no-register",
            "--bind",
            "127.0.0.1:0",
            "--answer",
            "--echo",
        ])
        .args([
            "--record",
            at_listener.to_str().unwrap(),
            "--rtp-ports",
            "62000-62099",
        ])
        .args(["--calls", "1", "--timeout", "20"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = String::new();
    BufReader::new(listener.stdout.as_mut().unwrap())
        .read_line(&mut first)
        .unwrap();
    let addr = first
        .trim()
        .strip_prefix("listening on ")
        .expect("listen starts")
        .to_string();

    let caller = Command::new(env!("CARGO_BIN_EXE_voip"))
        .args([
            "call",
            &format!("sip:bob@{addr}"),
            "--server",
            &addr,
            "--no-register",
            "--user",
            "alice",
        ])
        .args([
            "--play",
            tone.to_str().unwrap(),
            "--record",
            at_caller.to_str().unwrap(),
        ])
        .args([
            "--dtmf",
            "12#9",
            "--duration",
            "3",
            "--rtp-ports",
            "62100-62199",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let out = wait(caller, "voip call");
    let lo = wait(listener, "voip listen");
    assert!(out.status.success(), "{}", show(&out));
    assert!(lo.status.success(), "{}", show(&lo));
    let listener_lines = String::from_utf8_lossy(&lo.stdout);
    assert!(listener_lines.contains("dtmf 12#9;"), "{listener_lines}");
    for d in ["dtmf 1", "dtmf 2", "dtmf #", "dtmf 9"] {
        assert!(
            listener_lines.contains(&format!("call 1: {d}")),
            "{d} missing in {listener_lines}"
        );
    }
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("rtp: sent"),
        "{}",
        show(&out)
    );

    for (what, path) in [
        ("the listener", &at_listener),
        ("the caller, by the echo", &at_caller),
    ] {
        let heard = voip_facade::wav::read(path).unwrap();
        let loud = trim_silence(&heard, 300);
        assert!(
            loud.len() >= 7000,
            "{what} heard {} samples of sound",
            loud.len()
        );
        let m = measure(loud, 8000);
        assert!((m.freq_hz - 1000.0).abs() < 5.0, "{what}: {m:?}");
        assert!((m.level_dbfs + 10.0).abs() < 1.5, "{what}: {m:?}");
    }
    let _ = std::fs::remove_dir_all(dir);
}
