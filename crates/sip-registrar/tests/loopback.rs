//! Our client against our registrar on real sockets: UDP, TCP and TLS, on 127.0.0.1
//! and ::1; wrong passwords, unreachable servers, deregistration on stop.

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

use rcgen::{BasicConstraints, CertificateParams, IsCa, Issuer, KeyPair};
use sip_auth::CredentialsManager;
use sip_client::{ClientError, SipClient, SipClientConfig, TimerConfig};
use sip_message::TransportMode;
use sip_registrar::Users;
use sip_registrar::server::{RegistrarServer, ServerConfig};

struct Pki {
    ca: PathBuf,
    cert: PathBuf,
    key: PathBuf,
}

/// A CA and a server certificate for localhost, 127.0.0.1 and ::1.
fn pki(tag: &str) -> Pki {
    let dir = std::env::temp_dir().join(format!("sip-registrar-{tag}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca_key = KeyPair::generate().unwrap();
    let ca_cert = params.self_signed(&ca_key).unwrap();
    let issuer = Issuer::new(params, ca_key);
    let leaf = CertificateParams::new(vec![
        "localhost".into(),
        "127.0.0.1".into(),
        "::1".into(),
        "harness.test".into(),
    ])
    .unwrap();
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

async fn server(ip: &str, pki: &Pki) -> RegistrarServer {
    let ip: IpAddr = ip.parse().unwrap();
    let mut cfg = ServerConfig::new(SocketAddr::new(ip, 0), "harness.test");
    cfg.tls = Some((
        SocketAddr::new(ip, 0),
        pki.cert.clone(),
        pki.key.clone(),
        None,
    ));
    let users = Users::parse("alice:secret-a\nbob:secret-b\n").unwrap();
    RegistrarServer::start(cfg, users)
        .await
        .expect("registrar binds")
}

fn client_config(
    ip: &str,
    port: u16,
    mode: TransportMode,
    password: &str,
    pki: &Pki,
) -> SipClientConfig {
    let mut creds = CredentialsManager::new();
    creds.add("alice", password, Some(ip), None, None);
    let mut c = SipClientConfig::new(ip, "alice", creds);
    c.port = Some(port);
    c.domain = Some("harness.test".into());
    c.transport_mode = mode;
    c.bind_ip = ip.parse().unwrap();
    c.ca_files = vec![pki.ca.clone()];
    c.register_timeout = Duration::from_secs(10);
    c
}

async fn register_and_stop(ip: &str, mode: TransportMode) {
    let pki = pki(&format!("{}-{}", mode.uri_param(), ip.replace(':', "_")));
    let srv = server(ip, &pki).await;
    let port = srv.local_addr(mode).unwrap().port();
    let client = tokio::time::timeout(
        Duration::from_secs(15),
        SipClient::start(client_config(ip, port, mode, "secret-a", &pki)),
    )
    .await
    .expect("bounded")
    .unwrap_or_else(|e| panic!("{mode} {ip}: {e}"));
    let r = client.registered().cloned().expect("registered");
    assert_eq!(r.aor, "sip:alice@harness.test");
    assert_eq!(r.expires, 3600);
    assert_eq!(r.bindings.len(), 1, "{r:?}");
    assert!(
        r.bindings[0].contains(&client.local_addr().to_string()),
        "{r:?}"
    );
    if mode != TransportMode::Udp {
        assert!(
            r.contact
                .contains(&format!("transport={}", mode.uri_param()))
        );
    }
    let (stats, bindings) = srv.stats().await.unwrap();
    assert_eq!((stats.registered, bindings), (1, 1));
    // A second REGISTER now (a refresh) is accepted too.
    let again = client.register(client.account()).await.unwrap();
    assert_eq!(again.expires, 3600);
    client.stop().await;
    let (_, bindings) = srv.stats().await.unwrap();
    assert_eq!(bindings, 0, "stop() deregistered");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn register_udp_v4() {
    register_and_stop("127.0.0.1", TransportMode::Udp).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn register_tcp_v4() {
    register_and_stop("127.0.0.1", TransportMode::Tcp).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn register_tls_v4() {
    register_and_stop("127.0.0.1", TransportMode::Tls).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn register_udp_v6() {
    register_and_stop("::1", TransportMode::Udp).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn register_tcp_v6() {
    register_and_stop("::1", TransportMode::Tcp).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn register_tls_v6() {
    register_and_stop("::1", TransportMode::Tls).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_password_is_invalid_account_info() {
    let pki = pki("wrongpw");
    let srv = server("127.0.0.1", &pki).await;
    let port = srv.local_addr(TransportMode::Udp).unwrap().port();
    let err = SipClient::start(client_config(
        "127.0.0.1",
        port,
        TransportMode::Udp,
        "nope",
        &pki,
    ))
    .await
    .unwrap_err();
    assert!(
        matches!(err, ClientError::InvalidAccountInfo { ref realm } if realm == "harness.test"),
        "{err}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_with_an_untrusted_certificate_fails_with_the_reason() {
    let pki_a = pki("tls-a");
    let pki_b = pki("tls-b");
    let srv = server("127.0.0.1", &pki_a).await;
    let port = srv.local_addr(TransportMode::Tls).unwrap().port();
    let err = SipClient::start(client_config(
        "127.0.0.1",
        port,
        TransportMode::Tls,
        "secret-a",
        &pki_b,
    ))
    .await
    .unwrap_err();
    match err {
        ClientError::Transport(why) => assert!(
            matches!(*why, sip_transport::TransportError::Tls { .. }),
            "{why}"
        ),
        other => panic!("unexpected {other}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_silent_server_times_out() {
    let pki = pki("silent");
    // A UDP socket that never answers.
    let sock = tokio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let port = sock.local_addr().unwrap().port();
    let mut cfg = client_config("127.0.0.1", port, TransportMode::Udp, "secret-a", &pki);
    cfg.endpoint.timers = TimerConfig {
        t1: Duration::from_millis(20),
        ..TimerConfig::default()
    };
    cfg.register_timeout = Duration::from_secs(5);
    let err = SipClient::start(cfg).await.unwrap_err();
    assert!(
        matches!(
            err,
            ClientError::Registration(sip_client::RegistrationError::Timeout)
        ),
        "{err}"
    );
}
