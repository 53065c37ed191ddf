//! TLS over loopback with certificates made here: verification against the SIP domain,
//! reuse only for the verified name, key formats and passwords, mutual TLS.

mod common;

use common::*;
use sip_transport::{
    Destination, KeyPassword, TlsClientConfig, TlsServerConfig, Transmit, Transport,
    TransportConfig, TransportError, TransportMode, reply_destination,
};
use std::path::PathBuf;
use std::sync::Arc;

fn server_cfg(
    bind: &str,
    cert: PathBuf,
    key: PathBuf,
    password: Option<KeyPassword>,
) -> TransportConfig {
    let mut cfg = TransportConfig::udp_tcp(ip(bind), 0);
    cfg.tls_port = Some(0);
    cfg.tls_server = Some(TlsServerConfig {
        cert_file: cert,
        key_file: key,
        key_password: password,
    });
    cfg
}

fn client_cfg(bind: &str, pki: &Pki) -> TransportConfig {
    let mut cfg = TransportConfig::udp_tcp(ip(bind), 0);
    cfg.tls_client = Some(TlsClientConfig {
        system_roots: false,
        ca_files: vec![pki.ca_file.clone()],
        client_cert: None,
    });
    cfg
}

fn tls_to(t: &Transport, name: &str) -> Destination {
    Destination::Addr {
        mode: TransportMode::Tls,
        addr: addr(t, TransportMode::Tls),
        tls_name: Some(name.to_string()),
    }
}

async fn exchange(bind: &str, name: &str) {
    let pki = Pki::new("tls-exchange");
    let (cert, key) = pki.cert(
        "server",
        &["sip.test", "sip6.test", "localhost"],
        KeyFormat::Pkcs8,
    );
    let (b, mut brx) = with_config(server_cfg(bind, cert, key, None)).await;
    let (a, mut arx) = with_config(client_cfg(bind, &pki)).await;
    let sent = a
        .send(Transmit {
            destination: tls_to(&b, name),
            bytes: request(TransportMode::Tls, "tls1", 10),
            allow_tcp_upgrade: false,
        })
        .await
        .unwrap();
    assert_eq!(sent.mode, TransportMode::Tls);
    let inc = next_message(&mut brx).await;
    assert_eq!(inc.mode, TransportMode::Tls);
    b.send(Transmit {
        destination: reply_destination(&inc),
        bytes: ok_for(&inc),
        allow_tcp_upgrade: false,
    })
    .await
    .unwrap();
    let resp = next_message(&mut arx).await;
    assert_eq!(resp.connection, sent.connection);
    // Reused for the same name...
    let again = a
        .send(Transmit {
            destination: tls_to(&b, name),
            bytes: request(TransportMode::Tls, "tls2", 0),
            allow_tcp_upgrade: false,
        })
        .await
        .unwrap();
    assert_eq!(again.connection, sent.connection);
    // ...and not for another name the certificate also covers: a new connection
    // verifies that name itself.
    let other = a
        .send(Transmit {
            destination: tls_to(&b, "localhost"),
            bytes: request(TransportMode::Tls, "tls3", 0),
            allow_tcp_upgrade: false,
        })
        .await
        .unwrap();
    assert_ne!(other.connection, sent.connection);
    assert_eq!(a.connection_count(), 2);
}

#[tokio::test]
async fn tls_v4() {
    exchange(V4, "sip.test").await;
}

#[tokio::test]
async fn tls_v6() {
    exchange(V6, "sip6.test").await;
}

#[tokio::test]
async fn host_destinations_verify_the_domain_not_the_ip() {
    let pki = Pki::new("tls-host");
    let (cert, key) = pki.cert("server", &["sip.test"], KeyFormat::Pkcs8);
    let (b, mut brx) = with_config(server_cfg(V4, cert, key, None)).await;
    let (a, _arx) = with_config(client_cfg(V4, &pki)).await;
    a.send(Transmit {
        destination: Destination::Host {
            mode: TransportMode::Tls,
            host: "sip.test".into(),
            port: addr(&b, TransportMode::Tls).port(),
            tls_name: None,
        },
        bytes: request(TransportMode::Tls, "byname", 0),
        allow_tcp_upgrade: false,
    })
    .await
    .unwrap();
    assert_eq!(
        next_message(&mut brx).await.message.call_id(),
        "byname@test"
    );
}

#[tokio::test]
async fn a_certificate_for_another_name_is_refused() {
    let pki = Pki::new("tls-wrong");
    let (cert, key) = pki.cert("server", &["sip.test"], KeyFormat::Pkcs8);
    let (b, _brx) = with_config(server_cfg(V4, cert, key, None)).await;
    let (a, _arx) = with_config(client_cfg(V4, &pki)).await;
    let e = a
        .send(Transmit {
            destination: tls_to(&b, "other.test"),
            bytes: request(TransportMode::Tls, "x", 0),
            allow_tcp_upgrade: false,
        })
        .await
        .unwrap_err();
    assert!(matches!(e, TransportError::Tls { .. }), "{e}");
    assert!(e.to_string().to_lowercase().contains("certificate"), "{e}");
    // An issuer we do not trust is refused too.
    let stranger = Pki::new("tls-stranger");
    let (a2, _) = with_config(client_cfg(V4, &stranger)).await;
    let e = a2
        .send(Transmit {
            destination: tls_to(&b, "sip.test"),
            bytes: request(TransportMode::Tls, "x", 0),
            allow_tcp_upgrade: false,
        })
        .await
        .unwrap_err();
    assert!(matches!(e, TransportError::Tls { .. }), "{e}");
    assert_eq!(a.connection_count(), 0);
}

async fn serves_with(format: KeyFormat, password: Option<KeyPassword>) {
    let pki = Pki::new("tls-keys");
    let (cert, key) = pki.cert("server", &["sip.test"], format);
    let (b, mut brx) = with_config(server_cfg(V4, cert, key, password)).await;
    let (a, _arx) = with_config(client_cfg(V4, &pki)).await;
    a.send(Transmit {
        destination: tls_to(&b, "sip.test"),
        bytes: request(TransportMode::Tls, "k", 0),
        allow_tcp_upgrade: false,
    })
    .await
    .unwrap();
    next_message(&mut brx).await;
}

#[tokio::test]
async fn key_formats() {
    serves_with(KeyFormat::RsaPkcs1, None).await;
    serves_with(KeyFormat::EcSec1, None).await;
    serves_with(
        KeyFormat::Encrypted("correct horse"),
        Some(KeyPassword::value("correct horse")),
    )
    .await;
    serves_with(
        KeyFormat::OpensslEncrypted,
        Some(KeyPassword::value("sekrit")),
    )
    .await;
    // A password callback, as pyVoIP's KEY_PASSWORD.
    let asked = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let flag = asked.clone();
    serves_with(
        KeyFormat::Encrypted("from a callback"),
        Some(KeyPassword::Callback(Arc::new(move || {
            flag.store(true, std::sync::atomic::Ordering::SeqCst);
            "from a callback".to_string()
        }))),
    )
    .await;
    assert!(asked.load(std::sync::atomic::Ordering::SeqCst));
}

#[tokio::test]
async fn wrong_or_missing_password_is_a_clear_error() {
    let pki = Pki::new("tls-badpw");
    let (cert, key) = pki.cert("server", &["sip.test"], KeyFormat::Encrypted("right"));
    let e = Transport::bind(
        server_cfg(
            V4,
            cert.clone(),
            key.clone(),
            Some(KeyPassword::value("wrong")),
        ),
        resolver(),
    )
    .await
    .unwrap_err();
    assert!(matches!(e, TransportError::KeyPassword { .. }), "{e}");
    assert!(e.to_string().contains("wrong password"), "{e}");
    let e = Transport::bind(server_cfg(V4, cert, key, None), resolver())
        .await
        .unwrap_err();
    assert!(
        matches!(e, TransportError::KeyPasswordMissing { .. }),
        "{e}"
    );
    // A missing file names the file.
    let e = Transport::bind(
        server_cfg(
            V4,
            "/nonexistent/cert.pem".into(),
            "/nonexistent/key.pem".into(),
            None,
        ),
        resolver(),
    )
    .await
    .unwrap_err();
    assert!(e.to_string().contains("/nonexistent/cert.pem"), "{e}");
}

#[tokio::test]
async fn mutual_tls() {
    let pki = Pki::new("tls-mutual");
    let (cert, key) = pki.cert("server", &["sip.test"], KeyFormat::Pkcs8);
    let mut scfg = server_cfg(V4, cert, key, None);
    scfg.tls_verify_clients = vec![pki.ca_file.clone()];
    let (b, mut brx) = with_config(scfg).await;
    // Without a client certificate: refused.
    let (plain, _) = with_config(client_cfg(V4, &pki)).await;
    let refused = plain
        .send(Transmit {
            destination: tls_to(&b, "sip.test"),
            bytes: request(TransportMode::Tls, "nocert", 0),
            allow_tcp_upgrade: false,
        })
        .await;
    // TLS 1.3 reports the refusal after the handshake: either the send fails, or the
    // server never hands the message up.
    if refused.is_ok() {
        let got = tokio::time::timeout(std::time::Duration::from_millis(500), brx.recv()).await;
        assert!(
            !matches!(got, Ok(Some(sip_transport::TransportEvent::Message(_)))),
            "a client without a certificate got through"
        );
    }
    // With one: accepted.
    let (ccert, ckey) = pki.cert("client", &["alice.sip.test"], KeyFormat::Pkcs8);
    let mut ccfg = client_cfg(V4, &pki);
    if let Some(c) = ccfg.tls_client.as_mut() {
        c.client_cert = Some(TlsServerConfig {
            cert_file: ccert,
            key_file: ckey,
            key_password: None,
        });
    }
    let (a, _) = with_config(ccfg).await;
    a.send(Transmit {
        destination: tls_to(&b, "sip.test"),
        bytes: request(TransportMode::Tls, "withcert", 0),
        allow_tcp_upgrade: false,
    })
    .await
    .unwrap();
    assert_eq!(
        next_message(&mut brx).await.message.call_id(),
        "withcert@test"
    );
}
