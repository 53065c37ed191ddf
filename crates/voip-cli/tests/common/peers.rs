//! The real peers of the interop tests: Kamailio in its own run directory and process
//! group, `voip registrar` as a child process, SIPp runs bounded in time.

use std::io::{BufRead, BufReader};
use std::net::{SocketAddr, UdpSocket};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use sip_message::TransportMode;

pub fn peers_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/peers")
}

/// Finds a program, failing the test with the fix when it is missing.
pub fn program(name: &str) -> PathBuf {
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
pub struct Kamailio {
    child: Child,
    pub run: PathBuf,
    pub sip_port: u16,
    pub tls_port: u16,
    pub ca: PathBuf,
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
    pub fn start(tag: &str, sip_port: u16, tls_port: u16, sha256: bool) -> Kamailio {
        let run = super::scratch(tag);
        let certs = super::pki(&run, &["harness.test", "localhost", "127.0.0.1", "::1"]);
        Kamailio::start_in(run, certs, sip_port, tls_port, sha256)
    }

    /// Kamailio with a certificate made the way its guide says (`openssl req -x509`,
    /// self-signed, marked `CA:TRUE`); `ca` is that certificate itself.
    pub fn start_self_signed(tag: &str, sip_port: u16, tls_port: u16) -> Kamailio {
        let run = super::scratch(tag);
        let (cert, key) = (run.join("kamailio.crt"), run.join("kamailio.key"));
        let out = Command::new(program("openssl"))
            .args([
                "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "30",
            ])
            .args(["-subj", "/CN=harness.test"])
            .args([
                "-addext",
                "subjectAltName=DNS:harness.test,DNS:localhost,IP:127.0.0.1",
            ])
            .arg("-keyout")
            .arg(&key)
            .arg("-out")
            .arg(&cert)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "openssl: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        Kamailio::start_in(run, (cert.clone(), cert, key), sip_port, tls_port, false)
    }

    fn start_in(
        run: PathBuf,
        (ca, cert, key): (PathBuf, PathBuf, PathBuf),
        sip_port: u16,
        tls_port: u16,
        sha256: bool,
    ) -> Kamailio {
        let kamailio = program("kamailio");
        let db = run.join("dbtext");
        std::fs::create_dir_all(&db).unwrap();
        for f in ["subscriber", "version"] {
            std::fs::copy(peers_dir().join("kamailio/dbtext").join(f), db.join(f)).unwrap();
        }
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

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.run.join("kamailio.log")).unwrap_or_default()
    }

    /// The registered contacts, as `kamcmd ul.dump` prints them.
    pub fn dump(&self) -> String {
        let out = Command::new(program("kamcmd"))
            .arg("-s")
            .arg(format!("unixs:{}/kamailio_ctl", self.run.display()))
            .arg("ul.dump")
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    pub fn port(&self, mode: TransportMode) -> u16 {
        match mode {
            TransportMode::Tls => self.tls_port,
            _ => self.sip_port,
        }
    }
}

/// `voip registrar` as a child process; its ports read from what it prints.
pub struct VoipRegistrar {
    child: Child,
    pub udp: SocketAddr,
    pub tls: Option<SocketAddr>,
}

impl Drop for VoipRegistrar {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `voip registrar` on 127.0.0.1 (UDP and TCP, realm voip.test, alice and bob).
pub fn voip_registrar(dir: &Path) -> VoipRegistrar {
    voip_registrar_with(dir, None)
}

/// [`voip_registrar`] with a TLS listener using `cert` and `key`.
pub fn voip_registrar_with(dir: &Path, tls: Option<(&Path, &Path)>) -> VoipRegistrar {
    let users = dir.join("users");
    std::fs::write(&users, "alice:secret-a\nbob:secret-b\n").unwrap();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_voip"));
    cmd.args([
        "registrar",
        "--bind",
        "127.0.0.1:0",
        "--tcp",
        "--realm",
        "voip.test",
    ])
    .arg("--users")
    .arg(&users);
    if let Some((cert, key)) = tls {
        cmd.args(["--tls-bind", "127.0.0.1:0", "--tls-cert"])
            .arg(cert)
            .arg("--tls-key")
            .arg(key);
    }
    let mut child = cmd.stdout(Stdio::piped()).spawn().unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let (mut udp, mut tls_addr) = (None, None);
    for line in lines.by_ref().take(6) {
        let line = line.unwrap();
        if let Some(a) = line.strip_prefix("listening udp ") {
            udp = Some(a.parse().unwrap());
        }
        if let Some(a) = line.strip_prefix("listening tls ") {
            tls_addr = Some(a.parse().unwrap());
        }
        if line.starts_with("realm ") {
            break;
        }
    }
    VoipRegistrar {
        child,
        udp: udp.expect("the registrar printed its UDP address"),
        tls: tls_addr,
    }
}

/// Waits for `child` at most `secs` seconds; kills it and fails when it hangs.
pub fn bounded(mut child: Child, secs: u64, what: &str) -> Output {
    let deadline = Instant::now() + Duration::from_secs(secs);
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            let out = child.wait_with_output().unwrap();
            panic!(
                "{what} hung:\n{}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    child.wait_with_output().unwrap()
}
