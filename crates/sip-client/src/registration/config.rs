//! What a registration needs to know.

use std::net::SocketAddr;
use std::time::Duration;

use sip_message::Uri;

use crate::peer::Peer;

/// What a registration needs to know.
#[derive(Clone, Debug)]
pub struct RegistrationConfig {
    /// The address of record (From and To), e.g. `sip:alice@example.com`.
    pub aor: String,
    /// A display name for From and To.
    pub display_name: Option<String>,
    /// The Request-URI: the registrar, e.g. `sip:example.com` or
    /// `sip:example.com;transport=tcp`.
    pub registrar: String,
    /// Where REGISTERs are sent.
    pub peer: Peer,
    /// The server name credentials are looked up under (usually the registrar's
    /// host, as given by the user).
    pub server: String,
    /// The user name credentials are looked up under.
    pub auth_user: String,
    /// The user part of our Contact.
    pub contact_user: String,
    /// The address advertised in Via and Contact (the one the server reaches us at).
    pub local: SocketAddr,
    /// The RFC 5626 instance id (`urn:uuid:...`), sent as `+sip.instance`.
    pub instance: Option<String>,
    /// The expiry asked for, seconds.
    pub expires: u32,
    /// Refresh at least this long before the binding runs out.
    pub refresh_margin: Duration,
    /// Failures in a row after which the registration stops (pyVoIP: 3).
    pub failure_threshold: u32,
    /// The first wait after a failure with no Retry-After; it doubles per failure.
    pub retry_interval: Duration,
    /// The longest wait between attempts.
    pub max_retry_interval: Duration,
    /// Re-register with the public address when a response's Via shows that a NAT
    /// rewrites ours (RFC 3581 `received`/`rport`). UDP only: over TCP or TLS the
    /// port the server sees is our connection's, where nothing listens.
    pub follow_public_address: bool,
    /// The User-Agent header, if any.
    pub user_agent: Option<String>,
    /// Whether the request goes over TLS (Basic auth is only answered then).
    pub secure: bool,
}

impl RegistrationConfig {
    /// A configuration with the usual defaults: 3600 s asked, refresh margin 30 s,
    /// threshold 3, retries from 30 s up to 30 min, following the public address.
    pub fn new(aor: &str, registrar: &str, peer: Peer, local: SocketAddr) -> RegistrationConfig {
        let user = Uri::parse(aor)
            .ok()
            .and_then(|u| u.user().map(str::to_string))
            .unwrap_or_default();
        let server = Uri::parse(registrar)
            .map(|u| u.host().trim_matches(['[', ']']).to_string())
            .unwrap_or_default();
        RegistrationConfig {
            aor: aor.to_string(),
            display_name: None,
            registrar: registrar.to_string(),
            secure: peer.mode == sip_message::TransportMode::Tls,
            peer,
            server,
            auth_user: user.clone(),
            contact_user: user,
            local,
            instance: None,
            expires: 3600,
            refresh_margin: Duration::from_secs(30),
            failure_threshold: 3,
            retry_interval: Duration::from_secs(30),
            max_retry_interval: Duration::from_secs(1800),
            follow_public_address: true,
            user_agent: None,
        }
    }
}

impl RegistrationConfig {
    /// The AOR as a From/To value: `"Display" <sip:...>` (quotes and backslashes
    /// dropped from the display name) or `<sip:...>`.
    pub fn aor_name_addr(&self) -> String {
        match &self.display_name {
            Some(d) => format!("\"{}\" <{}>", d.replace(['"', '\\'], ""), self.aor),
            None => format!("<{}>", self.aor),
        }
    }
}
