//! Transport configuration.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use sip_message::Limits;

/// The password of an encrypted private key: a value, or a callback asked when the
/// key is loaded (pyVoIP's `KEY_PASSWORD`).
#[derive(Clone)]
pub enum KeyPassword {
    /// The password.
    Value(zeroize::Zeroizing<String>),
    /// Called once when the key is loaded.
    Callback(Arc<dyn Fn() -> String + Send + Sync>),
}

impl KeyPassword {
    /// A password given as a value.
    pub fn value(s: &str) -> KeyPassword {
        KeyPassword::Value(zeroize::Zeroizing::new(s.to_string()))
    }

    pub(crate) fn get(&self) -> zeroize::Zeroizing<String> {
        match self {
            KeyPassword::Value(v) => v.clone(),
            KeyPassword::Callback(f) => zeroize::Zeroizing::new(f()),
        }
    }
}

impl fmt::Debug for KeyPassword {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("KeyPassword(<redacted>)")
    }
}

/// The server side of TLS: our certificate chain and key.
#[derive(Clone, Debug)]
pub struct TlsServerConfig {
    /// PEM file with the certificate chain, leaf first.
    pub cert_file: PathBuf,
    /// PEM file with the private key: PKCS#8, PKCS#1 (RSA), SEC1 (EC), or encrypted
    /// PKCS#8 with `key_password`.
    pub key_file: PathBuf,
    /// The password of an encrypted key.
    pub key_password: Option<KeyPassword>,
}

/// The client side of TLS: whom we trust, and the certificate we may present.
#[derive(Clone, Debug, Default)]
pub struct TlsClientConfig {
    /// Trust the system's root certificates.
    pub system_roots: bool,
    /// More CA certificates to trust (PEM files).
    pub ca_files: Vec<PathBuf>,
    /// A client certificate for mutual TLS (certificate chain and key, as for a server).
    pub client_cert: Option<TlsServerConfig>,
}

/// How a [`crate::Transport`] binds and behaves.
#[derive(Clone, Debug)]
pub struct TransportConfig {
    /// The address to bind (`0.0.0.0` or `::` for all).
    pub bind_ip: IpAddr,
    /// UDP port (`Some(0)` for an ephemeral one, `None` for no UDP).
    pub udp_port: Option<u16>,
    /// TCP listening port (`Some(0)` ephemeral, `None` for no TCP listener; outgoing
    /// TCP works either way).
    pub tcp_port: Option<u16>,
    /// TLS listening port (needs `tls_server`).
    pub tls_port: Option<u16>,
    /// Our certificate for TLS listeners.
    pub tls_server: Option<TlsServerConfig>,
    /// Trust for outgoing TLS; `None` disables outgoing TLS.
    pub tls_client: Option<TlsClientConfig>,
    /// CA certificates (PEM files) whose client certificates TLS listeners require
    /// (mutual TLS); empty: no client certificate asked for.
    pub tls_verify_clients: Vec<PathBuf>,
    /// Message limits, per connection and per datagram.
    pub limits: Limits,
    /// The most connections open at once (accepted and outgoing).
    pub max_connections: usize,
    /// A connection with no traffic for this long is closed.
    pub idle_timeout: Duration,
    /// A message must be complete this long after its first byte arrived, or the
    /// connection is closed (slow-loris protection).
    pub message_timeout: Duration,
    /// Connecting (and the TLS handshake) must finish within this.
    pub connect_timeout: Duration,
    /// UDP requests larger than this go over TCP when the target allows it
    /// (RFC 3261 §18.1.1).
    pub udp_size_threshold: usize,
}

impl TransportConfig {
    /// UDP and TCP on `bind_ip:port` (0 for ephemeral), no TLS.
    pub fn udp_tcp(bind_ip: IpAddr, port: u16) -> TransportConfig {
        TransportConfig {
            bind_ip,
            udp_port: Some(port),
            tcp_port: Some(port),
            ..TransportConfig::default()
        }
    }
}

impl Default for TransportConfig {
    fn default() -> TransportConfig {
        TransportConfig {
            bind_ip: IpAddr::V4(Ipv4Addr::UNSPECIFIED),
            udp_port: Some(5060),
            tcp_port: Some(5060),
            tls_port: None,
            tls_server: None,
            tls_client: None,
            tls_verify_clients: Vec::new(),
            limits: Limits::default(),
            max_connections: 10_000,
            idle_timeout: Duration::from_secs(600),
            message_timeout: Duration::from_secs(10),
            connect_timeout: Duration::from_secs(10),
            udp_size_threshold: 1300,
        }
    }
}
