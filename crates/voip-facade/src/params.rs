//! pyVoIP's `VoIPPhoneParameter`: everything a phone needs to start.

use std::net::IpAddr;
use std::path::PathBuf;
use std::time::Duration;

use sip_auth::CredentialsManager;
use sip_client::{EndpointConfig, SipClientConfig};
use sip_message::TransportMode;
use sip_message::offer_answer::Codec;

/// How a [`VoipPhone`](crate::VoipPhone) connects, registers, and where its media goes.
#[derive(Clone)]
pub struct VoipPhoneParameter {
    /// The PBX or registrar (name or address).
    pub server: String,
    /// Its port (5060, or 5061 for TLS, when `None`).
    pub port: Option<u16>,
    /// The user (of the address of record).
    pub user: String,
    /// The credentials (pyVoIP's `CredentialsManager`).
    pub credentials: CredentialsManager,
    /// The AOR's domain when it is not the server's.
    pub domain: Option<String>,
    /// A display name for From.
    pub display_name: Option<String>,
    /// The address to bind SIP and RTP to (all interfaces when unspecified).
    pub bind_ip: IpAddr,
    /// The SIP port (0: any).
    pub bind_port: u16,
    /// The network whose hosts reach us at `hostname` (`None`: every host).
    pub bind_network: Option<ipnet::IpNet>,
    /// How hosts inside `bind_network` reach us.
    pub hostname: Option<String>,
    /// How hosts outside it reach us.
    pub remote_hostname: Option<String>,
    /// UDP, TCP or TLS to the server.
    pub transport_mode: TransportMode,
    /// Our certificate (TLS).
    pub cert_file: Option<PathBuf>,
    /// Its key.
    pub key_file: Option<PathBuf>,
    /// CA certificates to trust for the server (TLS).
    pub ca_files: Vec<PathBuf>,
    /// The lowest RTP port (pyVoIP's `rtp_port_low`, 10000).
    pub rtp_port_low: u16,
    /// The highest RTP port (pyVoIP's `rtp_port_high`, 20000).
    pub rtp_port_high: u16,
    /// The codecs to offer and accept, most preferred first (PCMU, PCMA,
    /// telephone-event 101).
    pub codecs: Vec<Codec>,
    /// Register at start (and keep registered); without it calls still go to the
    /// server and calls to us reach us at our bound address.
    pub register: bool,
    /// The registration expiry to ask for, seconds.
    pub expires: u32,
    /// How long `start` waits for the first registration.
    pub register_timeout: Duration,
    /// Received audio held before playing (absorbs network jitter).
    pub jitter_delay: Duration,
    /// The SIP core's settings (timers, User-Agent, session timers, ring timeout).
    pub endpoint: EndpointConfig,
    /// Sees every SIP message sent and received (a trace, a ladder).
    pub tap: Option<sip_client::driver::Tap>,
}

impl std::fmt::Debug for VoipPhoneParameter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VoipPhoneParameter")
            .field("server", &self.server)
            .field("port", &self.port)
            .field("user", &self.user)
            .field("transport_mode", &self.transport_mode)
            .field("rtp_ports", &(self.rtp_port_low..=self.rtp_port_high))
            .finish_non_exhaustive()
    }
}

impl VoipPhoneParameter {
    /// A phone for `user` at `server` with `password`: UDP, any local port, RTP in
    /// 10000..=20000, registering at start.
    pub fn new(server: &str, user: &str, password: &str) -> VoipPhoneParameter {
        let mut credentials = CredentialsManager::new();
        // For this server only: a challenge from anyone else (a peer inside a call)
        // is not answered with our password.
        credentials.add(user, password, Some(server), None, None);
        VoipPhoneParameter::with_credentials(server, user, credentials)
    }

    /// As [`VoipPhoneParameter::new`] with a credentials manager (several realms,
    /// another authentication user).
    pub fn with_credentials(
        server: &str,
        user: &str,
        credentials: CredentialsManager,
    ) -> VoipPhoneParameter {
        VoipPhoneParameter {
            server: server.to_string(),
            port: None,
            user: user.to_string(),
            credentials,
            domain: None,
            display_name: None,
            bind_ip: IpAddr::from([0, 0, 0, 0]),
            bind_port: 0,
            bind_network: None,
            hostname: None,
            remote_hostname: None,
            transport_mode: TransportMode::Udp,
            cert_file: None,
            key_file: None,
            ca_files: Vec::new(),
            rtp_port_low: 10_000,
            rtp_port_high: 20_000,
            codecs: vec![Codec::pcmu(), Codec::pcma(), Codec::telephone_event(101)],
            register: true,
            expires: 3600,
            register_timeout: Duration::from_secs(30),
            jitter_delay: Duration::from_millis(40),
            endpoint: EndpointConfig::default(),
            tap: None,
        }
    }

    /// The SIP client's configuration.
    pub(crate) fn client_config(&self) -> SipClientConfig {
        let mut c = SipClientConfig::new(&self.server, &self.user, self.credentials.clone());
        c.port = self.port;
        c.domain = self.domain.clone();
        c.display_name = self.display_name.clone();
        c.bind_ip = self.bind_ip;
        c.bind_port = self.bind_port;
        c.bind_network = self.bind_network;
        c.hostname = self.hostname.clone();
        c.remote_hostname = self.remote_hostname.clone();
        c.transport_mode = self.transport_mode;
        c.cert_file = self.cert_file.clone();
        c.key_file = self.key_file.clone();
        c.ca_files = self.ca_files.clone();
        c.register = self.register;
        c.expires = self.expires;
        c.register_timeout = self.register_timeout;
        let mut endpoint = self.endpoint.clone();
        endpoint.codecs = self.codecs.clone();
        c.endpoint = endpoint;
        c.tap = self.tap.clone();
        c
    }
}
