//! The tokio driver runs the core on tokio's clock: under `tokio::time::pause()` the
//! protocol's timers run in virtual time.

use std::time::{Duration, Instant};

use sip_auth::CredentialsManager;
use sip_client::{ClientError, RegistrationError, SipClient, SipClientConfig};

#[tokio::test(start_paused = true)]
async fn a_silent_registrar_times_out_in_virtual_time() {
    // A UDP socket that never answers.
    let silent = tokio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let port = silent.local_addr().unwrap().port();
    let mut creds = CredentialsManager::new();
    creds.add("alice", "secret", None, None, None);
    let mut config = SipClientConfig::new("127.0.0.1", "alice", creds);
    config.port = Some(port);
    config.bind_ip = "127.0.0.1".parse().unwrap();
    config.register_timeout = Duration::from_secs(60);
    let wall = Instant::now();
    let virtual_start = tokio::time::Instant::now();
    let err = SipClient::start(config).await.unwrap_err();
    // Timer F: 64·T1 = 32 s of protocol time, in far less wall time.
    assert!(
        matches!(err, ClientError::Registration(RegistrationError::Timeout)),
        "{err}"
    );
    let protocol = tokio::time::Instant::now() - virtual_start;
    assert!(protocol >= Duration::from_secs(32), "{protocol:?}");
    assert!(
        wall.elapsed() < Duration::from_secs(10),
        "{:?}",
        wall.elapsed()
    );
    drop(silent);
}
