//! Helpers shared by the transport tests: transports on loopback, messages, a small PKI.

#![allow(dead_code, unreachable_pub)]

use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use bytes::Bytes;
use rcgen::{BasicConstraints, CertificateParams, IsCa, Issuer, KeyPair};
use sip_transport::{
    Incoming, StaticResolver, Transport, TransportConfig, TransportEvent, TransportMode,
};
use tokio::sync::mpsc::Receiver;

pub const V4: &str = "127.0.0.1";
pub const V6: &str = "::1";

pub fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

pub fn resolver() -> Arc<StaticResolver> {
    Arc::new(
        StaticResolver::new()
            .with("sip.test", &[ip(V4)])
            .with("other.test", &[ip(V4)])
            .with("sip6.test", &[ip(V6)]),
    )
}

/// UDP and TCP on one ephemeral port of `bind`.
pub async fn udp_tcp(bind: &str) -> (Transport, Receiver<TransportEvent>) {
    let mut cfg = TransportConfig::udp_tcp(ip(bind), 0);
    cfg.idle_timeout = Duration::from_secs(30);
    Transport::bind(cfg, resolver()).await.unwrap()
}

pub async fn with_config(cfg: TransportConfig) -> (Transport, Receiver<TransportEvent>) {
    Transport::bind(cfg, resolver()).await.unwrap()
}

/// An OPTIONS request with a Via for `mode` and a body of `body_len` bytes.
pub fn request(mode: TransportMode, branch: &str, body_len: usize) -> Bytes {
    let body = "x".repeat(body_len);
    Bytes::from(format!(
        "OPTIONS sip:bob@sip.test SIP/2.0\r\nVia: SIP/2.0/{} 127.0.0.1:5060;branch=z9hG4bK{branch};rport\r\nMax-Forwards: 70\r\nFrom: <sip:alice@sip.test>;tag=a1\r\nTo: <sip:bob@sip.test>\r\nCall-ID: {branch}@test\r\nCSeq: 1 OPTIONS\r\nContent-Type: text/plain\r\nContent-Length: {}\r\n\r\n{body}",
        mode.via_token(),
        body.len()
    ))
}

/// The 200 to a received request.
pub fn ok_for(inc: &Incoming) -> Bytes {
    let req = inc.message.as_request().unwrap();
    sip_message::MessageBuilder::response_to(req, sip_message::StatusCode::OK, Some("b2"))
        .finish()
        .freeze()
}

/// The next message event, within a deadline.
pub async fn next_message(rx: &mut Receiver<TransportEvent>) -> Box<Incoming> {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        match tokio::time::timeout_at(deadline, rx.recv()).await {
            Ok(Some(TransportEvent::Message(m))) => return m,
            Ok(Some(_)) => continue,
            Ok(None) => panic!("transport closed"),
            Err(_) => panic!("no message within 10 s"),
        }
    }
}

/// The next event that matches, within a deadline.
pub async fn next_event(
    rx: &mut Receiver<TransportEvent>,
    secs: u64,
    mut pick: impl FnMut(&TransportEvent) -> bool,
) -> TransportEvent {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(secs);
    loop {
        match tokio::time::timeout_at(deadline, rx.recv()).await {
            Ok(Some(e)) if pick(&e) => return e,
            Ok(Some(_)) => continue,
            Ok(None) => panic!("transport closed"),
            Err(_) => panic!("no matching event within {secs} s"),
        }
    }
}

pub fn addr(t: &Transport, mode: TransportMode) -> SocketAddr {
    t.local_addr(mode).unwrap()
}

/// A throwaway directory for certificates.
pub fn scratch(name: &str) -> PathBuf {
    static N: AtomicU32 = AtomicU32::new(0);
    let d = std::env::temp_dir().join(format!(
        "sip-transport-{name}-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ));
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// A test CA that issues server and client certificates.
pub struct Pki {
    pub dir: PathBuf,
    pub ca_file: PathBuf,
    issuer: Issuer<'static, KeyPair>,
}

/// The private key format a certificate's key file is written in.
pub enum KeyFormat {
    /// A fresh P-256 key, PKCS#8.
    Pkcs8,
    /// The test RSA key, written as PKCS#1.
    RsaPkcs1,
    /// The test EC key, written as SEC1.
    EcSec1,
    /// A fresh P-256 key, PKCS#8 encrypted (PBES2, PBKDF2-SHA256, AES-256-CBC).
    Encrypted(&'static str),
    /// The test EC key, encrypted by OpenSSL with password `sekrit`.
    OpensslEncrypted,
}

fn data(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(name)
}

impl Pki {
    pub fn new(name: &str) -> Pki {
        let dir = scratch(name);
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, "sip-stack test CA");
        let key = KeyPair::generate().unwrap();
        let cert = params.self_signed(&key).unwrap();
        let ca_file = dir.join("ca.pem");
        std::fs::write(&ca_file, cert.pem()).unwrap();
        Pki {
            dir,
            ca_file,
            issuer: Issuer::new(params, key),
        }
    }

    /// A certificate for `names` (DNS names or IP literals), signed by the CA; returns
    /// (cert file, key file).
    pub fn cert(&self, file: &str, names: &[&str], format: KeyFormat) -> (PathBuf, PathBuf) {
        let params =
            CertificateParams::new(names.iter().map(|s| s.to_string()).collect::<Vec<_>>())
                .unwrap();
        let (key, key_pem) = match format {
            KeyFormat::Pkcs8 => {
                let k = KeyPair::generate().unwrap();
                let pem = k.serialize_pem();
                (k, pem)
            }
            KeyFormat::RsaPkcs1 => {
                let pkcs8 = std::fs::read_to_string(data("rsa_pkcs8.pem")).unwrap();
                (
                    KeyPair::from_pem(&pkcs8).unwrap(),
                    std::fs::read_to_string(data("rsa_pkcs1.pem")).unwrap(),
                )
            }
            KeyFormat::EcSec1 => {
                let pkcs8 = std::fs::read_to_string(data("ec_pkcs8.pem")).unwrap();
                (
                    KeyPair::from_pem(&pkcs8).unwrap(),
                    std::fs::read_to_string(data("ec_sec1.pem")).unwrap(),
                )
            }
            KeyFormat::OpensslEncrypted => {
                let pkcs8 = std::fs::read_to_string(data("ec_pkcs8.pem")).unwrap();
                (
                    KeyPair::from_pem(&pkcs8).unwrap(),
                    std::fs::read_to_string(data("ec_encrypted.pem")).unwrap(),
                )
            }
            KeyFormat::Encrypted(password) => {
                let k = KeyPair::generate().unwrap();
                let der = k.serialize_der();
                let info = pkcs8::PrivateKeyInfoRef::try_from(der.as_slice()).unwrap();
                let params = pkcs8::pkcs5::pbes2::Parameters::generate_pbkdf2_sha256_aes256cbc(
                    2048, &[7u8; 16], [9u8; 16],
                )
                .unwrap();
                let doc = info.encrypt_with_params(params, password).unwrap();
                let pem = doc
                    .to_pem("ENCRYPTED PRIVATE KEY", pkcs8::LineEnding::LF)
                    .unwrap()
                    .to_string();
                (k, pem)
            }
        };
        let cert = params.signed_by(&key, &self.issuer).unwrap();
        let cert_file = self.dir.join(format!("{file}.crt"));
        let key_file = self.dir.join(format!("{file}.key"));
        std::fs::write(&cert_file, cert.pem()).unwrap();
        std::fs::write(&key_file, key_pem).unwrap();
        (cert_file, key_file)
    }
}

/// Resident memory of this process, in KiB.
pub fn rss_kib() -> u64 {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap();
    let pages: u64 = statm.split_whitespace().nth(1).unwrap().parse().unwrap();
    pages * 4
}
