//! Project automation, run as `cargo xtask <command>`:
//!
//! - `ci`: everything CI checks (`.ci/run` runs exactly this);
//! - `fuzz [--secs N] [TARGET...]`: runs the cargo-fuzz targets (installs cargo-fuzz);
//! - `bench-parse`: a quick run of the parse benchmark, ending in the `parse ratios:` line;
//! - `peers`: installs the real peers the interop tests run against (Debian's
//!   `kamailio`, its TLS and extra modules, and `sip-tester`, which is SIPp).

#![forbid(unsafe_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::time::Instant;

/// The crates that must stay sans-IO: no tokio in their normal dependency tree
/// (sip-client and sip-registrar without their `tokio` feature).
const SANS_IO: &[&str] = &[
    "sip-message",
    "sip-auth",
    "sip-nat",
    "sip-client",
    "sip-registrar",
    "voip-rtp",
];

/// What the interop tests need: (program, Debian package).
const PEER_PROGRAMS: &[(&str, &str)] = &[
    ("kamailio", "kamailio"),
    ("kamcmd", "kamailio"),
    ("sipp", "sip-tester"),
    ("openssl", "openssl"),
    ("baresip", "baresip"),
];

/// Kamailio modules the interop configuration loads: (module, Debian package).
const KAMAILIO_MODULES: &[(&str, &str)] = &[
    ("tls.so", "kamailio-tls-modules"),
    ("db_text.so", "kamailio"),
    ("auth_db.so", "kamailio"),
];

/// The fuzz targets (binaries of the `fuzz/` crate).
const FUZZ_TARGETS: &[&str] = &[
    "parse_datagram",
    "parse_stream",
    "parse_uri",
    "parse_sdp",
    "parse_auth",
];

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask lives in the workspace")
        .to_path_buf()
}

fn cargo() -> Command {
    let mut c = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    c.current_dir(root());
    c
}

/// Runs a step, printing its name and duration; fails on a non-zero exit.
fn step(name: &str, mut cmd: Command) -> Result<(), String> {
    eprintln!("==> {name}");
    let t = Instant::now();
    let status = cmd
        .status()
        .map_err(|e| format!("{name}: cannot run: {e}"))?;
    eprintln!("    {name}: {:.1}s", t.elapsed().as_secs_f64());
    if status.success() {
        Ok(())
    } else {
        Err(format!("{name} failed ({status})"))
    }
}

fn ci() -> Result<(), String> {
    let t = Instant::now();
    let mut c = cargo();
    c.args(["fmt", "--all", "--", "--check"]);
    step("fmt", c)?;

    let mut c = cargo();
    c.args([
        "clippy",
        "--workspace",
        "--all-targets",
        "--all-features",
        "--",
        "-D",
        "warnings",
    ]);
    step("clippy", c)?;

    let mut c = cargo();
    c.args(["test", "--workspace"]);
    step("tests", c)?;

    let mut c = cargo();
    c.args(["test", "-p", "sip-message", "--test", "fuzz_corpus"]);
    step("fuzz corpus replay", c)?;

    let mut c = cargo();
    c.args(["doc", "--workspace", "--no-deps"]);
    c.env("RUSTDOCFLAGS", "-D warnings");
    step("rustdoc", c)?;

    let mut c = cargo();
    c.args(["bench", "--workspace", "--no-run"]);
    step("bench build", c)?;

    check_sans_io()?;

    peers()?;
    let mut c = cargo();
    c.args([
        "test",
        "-p",
        "voip-cli",
        "--features",
        "interop",
        "--test",
        "interop",
        "--test",
        "interop_calls",
        "--test",
        "interop_media",
        "--",
        "--test-threads=2",
    ]);
    step("interop with Kamailio, SIPp and baresip", c)?;
    eprintln!("==> ci passed in {:.0}s", t.elapsed().as_secs_f64());
    Ok(())
}

/// Checks that the sans-IO crates do not depend on tokio (normal dependencies).
fn check_sans_io() -> Result<(), String> {
    eprintln!("==> sans-IO check");
    for krate in SANS_IO {
        let out = cargo()
            .args(["tree", "-p", krate, "-e", "normal", "--prefix", "none"])
            .arg("--no-default-features")
            .output()
            .map_err(|e| format!("cargo tree: {e}"))?;
        if !out.status.success() {
            return Err(format!(
                "cargo tree -p {krate} failed: {}",
                String::from_utf8_lossy(&out.stderr)
            ));
        }
        let tree = String::from_utf8_lossy(&out.stdout);
        if let Some(line) = tree
            .lines()
            .find(|l| l.starts_with("tokio ") || l.starts_with("mio "))
        {
            return Err(format!("{krate} must stay sans-IO but depends on {line}"));
        }
    }
    Ok(())
}

fn on_path(program: &str) -> bool {
    std::env::var_os("PATH")
        .is_some_and(|paths| std::env::split_paths(&paths).any(|d| d.join(program).is_file()))
        || ["/usr/sbin", "/sbin"]
            .iter()
            .any(|d| Path::new(d).join(program).is_file())
}

fn kamailio_module(name: &str) -> bool {
    [
        "/usr/lib/x86_64-linux-gnu/kamailio/modules",
        "/usr/lib/aarch64-linux-gnu/kamailio/modules",
        "/usr/lib/kamailio/modules",
    ]
    .iter()
    .any(|d| Path::new(d).join(name).is_file())
}

/// The packages missing for the interop tests.
fn missing_peers() -> Vec<&'static str> {
    let mut missing: Vec<&str> = PEER_PROGRAMS
        .iter()
        .filter(|(p, _)| !on_path(p))
        .map(|(_, pkg)| *pkg)
        .chain(
            KAMAILIO_MODULES
                .iter()
                .filter(|(m, _)| !kamailio_module(m))
                .map(|(_, pkg)| *pkg),
        )
        .collect();
    missing.sort();
    missing.dedup();
    missing
}

/// Installs Kamailio and SIPp with apt-get when they are missing, and makes sure no
/// packaged Kamailio service holds the SIP ports.
fn peers() -> Result<(), String> {
    let missing = missing_peers();
    if missing.is_empty() {
        eprintln!(
            "==> peers: kamailio, kamcmd, sipp, baresip and the Kamailio modules are installed"
        );
        return Ok(());
    }
    eprintln!("==> peers: installing {}", missing.join(" "));
    let root = Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false);
    let apt = |args: &[&str]| {
        let mut c = if root {
            Command::new("apt-get")
        } else {
            let mut c = Command::new("sudo");
            c.arg("apt-get");
            c
        };
        c.args(args).env("DEBIAN_FRONTEND", "noninteractive");
        c
    };
    step("apt-get update", apt(&["update", "-qq"]))?;
    let install = [
        "install",
        "-y",
        "-qq",
        "--no-install-recommends",
        "kamailio",
        "kamailio-extra-modules",
        "kamailio-tls-modules",
        "sip-tester",
        "openssl",
        "baresip",
    ];
    step("apt-get install", apt(&install))?;
    // The package may start a service on *:5060 where an init system runs; the tests
    // use their own ports, but a stray service is stopped all the same.
    for cmd in [
        &["systemctl", "stop", "kamailio"][..],
        &["systemctl", "disable", "kamailio"][..],
        &["service", "kamailio", "stop"][..],
    ] {
        let _ = Command::new(cmd[0])
            .args(&cmd[1..])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .status();
    }
    let still = missing_peers();
    if still.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "peers still missing after apt-get: {}",
            still.join(" ")
        ))
    }
}

fn has_cargo_fuzz() -> bool {
    cargo()
        .args(["fuzz", "--version"])
        .output()
        .is_ok_and(|o| o.status.success())
}

fn fuzz(args: &[String]) -> Result<(), String> {
    let mut secs = 60u64;
    let mut targets = Vec::new();
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--secs" => {
                secs = it
                    .next()
                    .and_then(|s| s.parse().ok())
                    .ok_or("--secs needs a number")?;
            }
            t if FUZZ_TARGETS.contains(&t) => targets.push(t.to_string()),
            other => return Err(format!("unknown fuzz argument {other:?}")),
        }
    }
    if targets.is_empty() {
        targets = FUZZ_TARGETS.iter().map(|s| s.to_string()).collect();
    }
    if !has_cargo_fuzz() {
        let mut c = cargo();
        c.args(["install", "cargo-fuzz", "--locked"]);
        step("install cargo-fuzz", c)?;
    }
    for t in &targets {
        // New inputs go to a scratch corpus under target/; the committed seeds in
        // fuzz/corpus/<target> are read but not grown. Crashes land in fuzz/artifacts.
        let work = root().join("target/fuzz-corpus").join(t);
        std::fs::create_dir_all(&work).map_err(|e| format!("{}: {e}", work.display()))?;
        let seeds = root().join("fuzz/corpus").join(t);
        // `-s none`: no sanitizer, so the stable toolchain can build the target.
        let mut c = cargo();
        c.current_dir(root().join("fuzz"))
            .args(["fuzz", "run", "-s", "none", t]);
        c.arg(&work)
            .arg(&seeds)
            .args(["--", &format!("-max_total_time={secs}")]);
        step(&format!("fuzz {t} for {secs}s"), c)?;
    }
    Ok(())
}

fn bench_parse() -> Result<(), String> {
    let mut c = cargo();
    c.args([
        "bench",
        "-p",
        "sip-benches",
        "--bench",
        "parse",
        "--",
        "--warm-up-time",
        "1",
        "--measurement-time",
        "3",
    ]);
    // No trailing output of our own: the benchmark's last line is the ratios line.
    let status = c.status().map_err(|e| format!("cargo bench: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("parse benchmark failed ({status})"))
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("ci") => ci(),
        Some("fuzz") => fuzz(&args[1..]),
        Some("bench-parse") => bench_parse(),
        Some("peers") => peers(),
        _ => Err(
            "usage: cargo xtask <ci | peers | fuzz [--secs N] [TARGET...] | bench-parse>".into(),
        ),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("xtask: {e}");
            ExitCode::FAILURE
        }
    }
}
