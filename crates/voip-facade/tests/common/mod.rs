//! The embedded registrar and phones registered with it on loopback, over UDP, TCP
//! or TLS (a CA and a certificate made for the run).

#![allow(dead_code, unreachable_pub)]

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU16, Ordering};
use std::time::Duration;

use rcgen::{BasicConstraints, CertificateParams, IsCa, Issuer, KeyPair};
use sip_message::TransportMode;
use sip_registrar::Users;
use sip_registrar::server::{RegistrarServer, ServerConfig};
use voip_facade::{VoipPhone, VoipPhoneParameter};

pub const REALM: &str = "phones.test";
const LOOPBACK: IpAddr = IpAddr::V4(std::net::Ipv4Addr::LOCALHOST);

/// A CA file, and the registrar's certificate and key.
pub struct Pki {
    pub ca: PathBuf,
    pub cert: PathBuf,
    pub key: PathBuf,
}

pub fn pki(tag: &str) -> Pki {
    let dir = std::env::temp_dir().join(format!("voip-facade-{tag}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca_key = KeyPair::generate().unwrap();
    let ca_cert = params.self_signed(&ca_key).unwrap();
    let issuer = Issuer::new(params, ca_key);
    let leaf = CertificateParams::new(vec!["127.0.0.1".into(), "localhost".into()]).unwrap();
    let key = KeyPair::generate().unwrap();
    let cert = leaf.signed_by(&key, &issuer).unwrap();
    let p = Pki {
        ca: dir.join("ca.pem"),
        cert: dir.join("server.crt"),
        key: dir.join("server.key"),
    };
    std::fs::write(&p.ca, ca_cert.pem()).unwrap();
    std::fs::write(&p.cert, cert.pem()).unwrap();
    std::fs::write(&p.key, key.serialize_pem()).unwrap();
    p
}

/// The registrar, its users alice, bob and carol, and the CA its TLS certificate
/// chains to.
pub struct Net {
    pub registrar: RegistrarServer,
    pub pki: Pki,
}

pub async fn registrar(tag: &str) -> Net {
    let pki = pki(tag);
    let mut cfg = ServerConfig::new(SocketAddr::new(LOOPBACK, 0), REALM);
    cfg.tls = Some((
        SocketAddr::new(LOOPBACK, 0),
        pki.cert.clone(),
        pki.key.clone(),
        None,
    ));
    let users = Users::parse("alice:pw-alice\nbob:pw-bob\ncarol:pw-carol\n").unwrap();
    let registrar = RegistrarServer::start(cfg, users)
        .await
        .expect("registrar binds");
    Net { registrar, pki }
}

/// RTP port ranges that do not overlap between the phones of one test process.
fn rtp_range() -> (u16, u16) {
    static NEXT: AtomicU16 = AtomicU16::new(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    // Above Linux's ephemeral range (32768-60999), 40 ports per phone.
    let low = 61_000 + (n % 100) * 40;
    (low, low + 39)
}

impl Net {
    pub fn params(&self, user: &str, mode: TransportMode) -> VoipPhoneParameter {
        let server = self.registrar.local_addr(mode).expect("registrar listens");
        let mut p = VoipPhoneParameter::new("127.0.0.1", user, &format!("pw-{user}"));
        p.port = Some(server.port());
        p.domain = Some(REALM.into());
        p.bind_ip = LOOPBACK;
        p.transport_mode = mode;
        p.ca_files = vec![self.pki.ca.clone()];
        p.register_timeout = Duration::from_secs(10);
        (p.rtp_port_low, p.rtp_port_high) = rtp_range();
        p
    }

    pub async fn phone(&self, user: &str, mode: TransportMode) -> VoipPhone {
        let phone = VoipPhone::new(self.params(user, mode));
        phone
            .start()
            .await
            .unwrap_or_else(|e| panic!("{user} starts: {e}"));
        phone
    }
}

/// Fails a test that hangs.
pub async fn within<T>(what: &str, secs: u64, f: impl std::future::Future<Output = T>) -> T {
    tokio::time::timeout(Duration::from_secs(secs), f)
        .await
        .unwrap_or_else(|_| panic!("{what}: nothing within {secs} s"))
}
