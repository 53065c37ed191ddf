//! Audio and DTMF with real peers on loopback (built with `--features interop`;
//! `cargo xtask ci` installs them with `cargo xtask peers`). A missing peer fails.
//!
//! - `voip call` → baresip (auto-answer, playing a 700 Hz file): we record its tone
//!   (frequency and level measured) and send it DTMF, which baresip reports.
//! - baresip → `voip listen --answer --play`: baresip records our 450 Hz tone, and we
//!   record its tone.
//! - SIPp playing the A-law RTP of its own `g711a.pcap` → `voip listen --answer
//!   --record`: the recording is not silent.

mod common;

use std::io::{BufRead, BufReader};
use std::net::UdpSocket;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use common::peers::{bounded, peers_dir, program};
use common::scratch;
use voip_rtp::tone::{Measured, measure, sine, trim_silence};

/// Two free UDP ports in a row (baresip binds its SIP port and the next for TLS).
fn free_pair() -> u16 {
    loop {
        let a = UdpSocket::bind("127.0.0.1:0").unwrap();
        let port = a.local_addr().unwrap().port();
        if port < u16::MAX - 1 && UdpSocket::bind(("127.0.0.1", port + 1)).is_ok() {
            return port;
        }
    }
}

/// A headless baresip: `user` at 127.0.0.1:`port`, auto-answering, playing `tone` as
/// its microphone, recording both directions into `dir/rec`, quitting after `secs`.
fn baresip(
    dir: &Path,
    user: &str,
    port: u16,
    tone: &Path,
    secs: u32,
    command: Option<&str>,
) -> Child {
    let rec = dir.join("rec");
    std::fs::create_dir_all(&rec).unwrap();
    let config = format!(
        "poll_method epoll\nsip_listen 127.0.0.1:{port}\naudio_player aubridge,sink1\n\
         audio_source aufile,{}\naudio_alert aubridge,sink1\naudio_srate 8000\naudio_channels 1\n\
         module_path /usr/lib/baresip/modules\nmodule g711.so\nmodule aufile.so\nmodule aubridge.so\n\
         module sndfile.so\nmodule_app account.so\nmodule_app menu.so\nsnd_path {}\n",
        tone.display(),
        rec.display()
    );
    std::fs::write(dir.join("config"), config).unwrap();
    std::fs::write(
        dir.join("accounts"),
        format!("<sip:{user}@127.0.0.1:{port};transport=udp>;regint=0;answermode=auto\n"),
    )
    .unwrap();
    let mut cmd = Command::new(program("baresip"));
    cmd.arg("-f").arg(dir).args(["-t", &secs.to_string()]);
    if let Some(c) = command {
        cmd.args(["-e", c]);
    }
    let child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // baresip listens within a moment of starting.
    std::thread::sleep(std::time::Duration::from_millis(800));
    child
}

/// The file baresip wrote for what it received (`dump-…-dec.wav`).
fn received_by_baresip(dir: &Path) -> PathBuf {
    std::fs::read_dir(dir.join("rec"))
        .unwrap()
        .filter_map(Result::ok)
        .map(|e| e.path())
        .find(|p| p.to_string_lossy().ends_with("-dec.wav"))
        .unwrap_or_else(|| panic!("baresip recorded nothing in {}", dir.display()))
}

fn tone_in(path: &Path) -> Measured {
    let samples = voip_facade::wav::read(path).unwrap();
    let loud = trim_silence(&samples, 300);
    assert!(
        loud.len() > 4000,
        "{}: {} samples of sound",
        path.display(),
        loud.len()
    );
    measure(loud, 8000)
}

fn text(o: &std::process::Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// `voip listen` on a free loopback port with `args`: the child and its address.
fn listen(args: &[&str]) -> (Child, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_voip"))
        .args([
            "listen",
            "--no-register",
            "--bind",
            "127.0.0.1:0",
            "--calls",
            "1",
            "--timeout",
            "25",
        ])
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = String::new();
    BufReader::new(child.stdout.as_mut().unwrap())
        .read_line(&mut first)
        .unwrap();
    let addr = first
        .trim()
        .strip_prefix("listening on ")
        .unwrap_or_else(|| panic!("listen: {first}"))
        .to_string();
    (child, addr)
}

#[test]
fn voip_call_records_baresip_and_sends_it_digits() {
    let dir = scratch("baresip-callee");
    let tone = dir.join("tone.wav");
    voip_facade::wav::write(&tone, &sine(700.0, -10.0, 8000, 0, 8000 * 10)).unwrap();
    let port = free_pair();
    let peer = baresip(&dir, "bob", port, &tone, 8, None);
    let heard = dir.join("heard.wav");
    let target = format!("127.0.0.1:{port}");
    let call = Command::new(env!("CARGO_BIN_EXE_voip"))
        .args([
            "call",
            &format!("sip:bob@{target}"),
            "--server",
            &target,
            "--no-register",
            "--user",
            "alice",
        ])
        .args([
            "--record",
            heard.to_str().unwrap(),
            "--dtmf",
            "159#",
            "--duration",
            "3",
        ])
        .args(["--rtp-ports", "63000-63099"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let out = bounded(call, 30, "voip call");
    let bs = bounded(peer, 30, "baresip");
    assert!(
        out.status.success(),
        "{}\nbaresip:\n{}",
        text(&out),
        text(&bs)
    );
    let m = tone_in(&heard);
    assert!(
        (m.freq_hz - 700.0).abs() < 5.0 && (m.level_dbfs + 10.0).abs() < 1.5,
        "{m:?}"
    );
    let log = text(&bs);
    for d in ['1', '5', '9', '#'] {
        assert!(
            log.contains(&format!("received event: '{d}' (end=1)")),
            "baresip missed {d}:\n{log}"
        );
    }
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn baresip_calls_voip_listen_and_each_hears_the_other() {
    let dir = scratch("baresip-caller");
    let (ours, theirs) = (dir.join("ours.wav"), dir.join("theirs.wav"));
    voip_facade::wav::write(&ours, &sine(450.0, -12.0, 8000, 0, 8000 * 2)).unwrap();
    voip_facade::wav::write(&theirs, &sine(700.0, -10.0, 8000, 0, 8000 * 10)).unwrap();
    let heard = dir.join("heard.wav");
    let (listener, addr) = listen(&[
        "--answer",
        "--play",
        ours.to_str().unwrap(),
        "--record",
        heard.to_str().unwrap(),
        "--duration",
        "3",
        "--rtp-ports",
        "63100-63199",
    ]);
    let dial = format!("/dial sip:bob@{addr}");
    let peer = baresip(&dir, "carol", free_pair(), &theirs, 8, Some(&dial));
    let lo = bounded(listener, 30, "voip listen");
    let bs = bounded(peer, 30, "baresip");
    assert!(
        lo.status.success(),
        "{}\nbaresip:\n{}",
        text(&lo),
        text(&bs)
    );
    let at_baresip = tone_in(&received_by_baresip(&dir));
    assert!(
        (at_baresip.freq_hz - 450.0).abs() < 5.0 && (at_baresip.level_dbfs + 12.0).abs() < 1.5,
        "{at_baresip:?}"
    );
    let at_us = tone_in(&heard);
    assert!(
        (at_us.freq_hz - 700.0).abs() < 5.0 && (at_us.level_dbfs + 10.0).abs() < 1.5,
        "{at_us:?}"
    );
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn sipp_pcap_audio_reaches_voip_listen() {
    let pcap = Path::new("/usr/share/sip-tester/g711a.pcap");
    assert!(
        pcap.is_file(),
        "SIPp's g711a.pcap is missing: run `cargo xtask peers`"
    );
    let dir = scratch("sipp-pcap");
    let heard = dir.join("heard.wav");
    let (listener, addr) = listen(&[
        "--answer",
        "--record",
        heard.to_str().unwrap(),
        "--rtp-ports",
        "63200-63299",
    ]);
    let media_port = free_pair().to_string();
    let sipp = Command::new(program("sipp"))
        .arg(&addr)
        .arg("-sf")
        .arg(peers_dir().join("sipp/uac_pcap.xml"))
        .args([
            "-i",
            "127.0.0.1",
            "-p",
            &free_pair().to_string(),
            "-t",
            "u1",
        ])
        .args(["-mi", "127.0.0.1", "-mp", &media_port])
        .args([
            "-key",
            "to_uri",
            &format!("sip:bob@{addr}"),
            "-key",
            "from_user",
            "alice",
        ])
        .args([
            "-key",
            "from_domain",
            "harness.test",
            "-key",
            "pcap",
            pcap.to_str().unwrap(),
        ])
        .args([
            "-d",
            "4000",
            "-m",
            "1",
            "-timeout",
            "30s",
            "-timeout_error",
            "-nostdin",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let s = bounded(sipp, 40, "sipp");
    let lo = bounded(listener, 40, "voip listen");
    assert!(s.status.success(), "sipp: {}", text(&s));
    assert!(lo.status.success(), "{}", text(&lo));
    let samples = voip_facade::wav::read(&heard).unwrap();
    let loud = trim_silence(&samples, 300);
    assert!(loud.len() > 8000, "{} samples of sound", loud.len());
    let level = measure(loud, 8000).level_dbfs;
    assert!(
        level > -40.0,
        "the recording is nearly silent: {level} dBFS"
    );
    let _ = std::fs::remove_dir_all(dir);
}
