//! The self-signed `CA:TRUE` certificates PBXs are set up with (`openssl req -x509`):
//! handed to us as the CA file, the exact certificate is trusted as the server's own,
//! its names and validity still checked; any other certificate still goes through
//! WebPKI.

mod common;

use std::path::PathBuf;

use common::*;
use rcgen::{BasicConstraints, CertificateParams, IsCa, KeyPair, date_time_ymd};
use sip_transport::{
    Destination, TlsClientConfig, TlsServerConfig, Transmit, Transport, TransportConfig,
    TransportError, TransportMode,
};

/// A self-signed certificate marked as a CA, as `openssl req -x509` makes them:
/// `names` as subjectAltName (none: the common name alone), valid `from..until`.
fn self_signed(tag: &str, cn: &str, names: &[&str], years: (i32, i32)) -> (PathBuf, PathBuf) {
    let dir = scratch(tag);
    let mut params =
        CertificateParams::new(names.iter().map(|s| s.to_string()).collect::<Vec<_>>()).unwrap();
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, cn);
    params.not_before = date_time_ymd(years.0, 1, 1);
    params.not_after = date_time_ymd(years.1, 1, 1);
    let key = KeyPair::generate().unwrap();
    let cert = params.self_signed(&key).unwrap();
    let (c, k) = (dir.join("pbx.crt"), dir.join("pbx.key"));
    std::fs::write(&c, cert.pem()).unwrap();
    std::fs::write(&k, key.serialize_pem()).unwrap();
    (c, k)
}

async fn server(cert: PathBuf, key: PathBuf) -> Transport {
    let mut cfg = TransportConfig::udp_tcp(ip(V4), 0);
    cfg.tls_port = Some(0);
    cfg.tls_server = Some(TlsServerConfig {
        cert_file: cert,
        key_file: key,
        key_password: None,
    });
    with_config(cfg).await.0
}

/// Sends one request over TLS to `server` as `name`, trusting `ca`.
async fn send(server: &Transport, name: &str, ca: PathBuf) -> Result<(), TransportError> {
    let mut cfg = TransportConfig::udp_tcp(ip(V4), 0);
    cfg.tls_client = Some(TlsClientConfig {
        system_roots: false,
        ca_files: vec![ca],
        client_cert: None,
    });
    let (client, _rx) = with_config(cfg).await;
    client
        .send(Transmit {
            destination: Destination::Addr {
                mode: TransportMode::Tls,
                addr: addr(server, TransportMode::Tls),
                tls_name: Some(name.to_string()),
            },
            bytes: request(TransportMode::Tls, "pinned", 0),
            allow_tcp_upgrade: false,
        })
        .await
        .map(|_| ())
}

#[tokio::test]
async fn the_pbx_certificate_itself_is_trusted_for_its_names() {
    let (cert, key) = self_signed("pin-san", "pbx", &["sip.test", "127.0.0.1"], (2020, 2090));
    let b = server(cert.clone(), key).await;
    send(&b, "sip.test", cert.clone())
        .await
        .expect("its DNS name");
    send(&b, "127.0.0.1", cert.clone())
        .await
        .expect("its IP address");
    let e = send(&b, "other.test", cert).await.unwrap_err();
    assert!(e.to_string().contains("NotValidForName"), "{e}");
}

#[tokio::test]
async fn a_certificate_with_only_a_common_name_is_checked_by_it() {
    let (cert, key) = self_signed("pin-cn", "pbx.test", &[], (2020, 2090));
    let b = server(cert.clone(), key).await;
    send(&b, "pbx.test", cert.clone())
        .await
        .expect("its common name");
    assert!(send(&b, "sip.test", cert).await.is_err());
}

#[tokio::test]
async fn an_expired_or_future_pbx_certificate_is_refused() {
    let (cert, key) = self_signed("pin-old", "pbx", &["sip.test"], (2001, 2002));
    let b = server(cert.clone(), key).await;
    let e = send(&b, "sip.test", cert).await.unwrap_err();
    assert!(e.to_string().contains("Expired"), "{e}");
    let (cert, key) = self_signed("pin-new", "pbx", &["sip.test"], (2090, 2091));
    let b = server(cert.clone(), key).await;
    let e = send(&b, "sip.test", cert).await.unwrap_err();
    assert!(e.to_string().contains("NotValidYet"), "{e}");
}

#[tokio::test]
async fn another_self_signed_certificate_proves_nothing() {
    let (cert, key) = self_signed("pin-real", "pbx", &["sip.test"], (2020, 2090));
    let (other, _) = self_signed("pin-other", "pbx", &["sip.test"], (2020, 2090));
    let b = server(cert, key).await;
    let e = send(&b, "sip.test", other).await.unwrap_err();
    assert!(matches!(e, TransportError::Tls { .. }), "{e}");
}
