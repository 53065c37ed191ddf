//! What `voip register`, `voip call` and `voip listen` share: the account and server
//! arguments, the password, the client configuration built from them, the one-line
//! reasons for failures, and the SIP ladder printed as messages go by.

use std::net::IpAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use clap::{Args, ValueEnum};
use sip_auth::CredentialsManager;
use sip_client::{ClientError, RegistrationError, SipClientConfig, Tap, Wire};
use sip_message::{Message, TransportMode};
use sip_transport::TransportError;

/// The transports accepted on the command line.
#[derive(Clone, Copy, Debug, ValueEnum)]
pub(crate) enum TransportArg {
    Udp,
    Tcp,
    Tls,
}

impl From<TransportArg> for TransportMode {
    fn from(t: TransportArg) -> TransportMode {
        match t {
            TransportArg::Udp => TransportMode::Udp,
            TransportArg::Tcp => TransportMode::Tcp,
            TransportArg::Tls => TransportMode::Tls,
        }
    }
}

/// Who we are and where the server is.
#[derive(Args, Debug)]
pub(crate) struct AccountArgs {
    /// The user (of the address of record).
    #[arg(long)]
    pub(crate) user: Option<String>,
    /// The AOR's host when it is not the server's.
    #[arg(long)]
    pub(crate) domain: Option<String>,
    /// The user name to authenticate as, when not --user.
    #[arg(long)]
    pub(crate) auth_user: Option<String>,
    /// Answer challenges of this realm only.
    #[arg(long)]
    pub(crate) realm: Option<String>,
    /// The transport to the server.
    #[arg(long, value_enum, default_value = "udp")]
    pub(crate) transport: TransportArg,
    /// A CA certificate (PEM) to trust for TLS; without one the system roots are used.
    #[arg(long)]
    pub(crate) ca: Vec<PathBuf>,
    /// The local address to bind: IP or IP:PORT.
    #[arg(long)]
    pub(crate) bind: Option<String>,
    /// The environment variable holding the password.
    #[arg(long, default_value = "VOIP_PASSWORD")]
    pub(crate) password_env: String,
    /// The password itself (visible to other users of this machine: prefer the
    /// environment).
    #[arg(long)]
    pub(crate) password: Option<String>,
}

/// Splits `HOST[:PORT]` (IPv6 addresses in brackets).
pub(crate) fn host_port(s: &str) -> Result<(String, Option<u16>), String> {
    if let Some(rest) = s.strip_prefix('[') {
        let (host, after) = rest
            .split_once(']')
            .ok_or("missing ']' in an IPv6 address")?;
        let port = match after.strip_prefix(':') {
            Some(p) => Some(p.parse().map_err(|_| format!("bad port {p:?}"))?),
            None if after.is_empty() => None,
            None => return Err(format!("unexpected {after:?} after the address")),
        };
        return Ok((host.to_string(), port));
    }
    if s.parse::<IpAddr>().is_ok() {
        return Ok((s.to_string(), None));
    }
    match s.rsplit_once(':') {
        Some((h, p)) => Ok((
            h.to_string(),
            Some(p.parse().map_err(|_| format!("bad port {p:?}"))?),
        )),
        None => Ok((s.to_string(), None)),
    }
}

/// The address a `--bind` names.
pub(crate) fn socket_addr(s: &str, default_port: u16) -> Result<std::net::SocketAddr, String> {
    let (host, port) = host_port(s)?;
    let ip: IpAddr = host
        .parse()
        .map_err(|_| format!("{host:?} is not an IP address"))?;
    Ok(std::net::SocketAddr::new(ip, port.unwrap_or(default_port)))
}

/// `[v6]` for display.
pub(crate) fn bracket(host: &str) -> String {
    if host.contains(':') {
        format!("[{host}]")
    } else {
        host.to_string()
    }
}

impl AccountArgs {
    /// The password from `--password` or the environment; `None` when neither is set.
    fn password(&self) -> Option<String> {
        self.password
            .clone()
            .or_else(|| std::env::var(&self.password_env).ok())
    }

    /// A client configuration for `server` (`HOST[:PORT]`, or none: only listening at
    /// `--bind`). Without `need_password` a missing password means no credentials.
    pub(crate) fn config(
        &self,
        server: Option<&str>,
        need_password: bool,
    ) -> Result<SipClientConfig, String> {
        let user = self.user.clone().unwrap_or_else(|| "voip".to_string());
        let (host, port) = match server {
            Some(s) => host_port(s).map_err(|e| format!("--server: {e}"))?,
            None => (String::new(), None),
        };
        let auth_user = self.auth_user.clone().unwrap_or_else(|| user.clone());
        let mut creds = CredentialsManager::new();
        match self.password() {
            Some(p) => creds.add(&auth_user, &p, Some(&host), self.realm.as_deref(), None),
            None if need_password => {
                return Err(format!(
                    "no password: set {} (or use --password-env NAME or --password)",
                    self.password_env
                ));
            }
            None => {}
        }
        let mut config = SipClientConfig::new(&host, &user, creds);
        config.port = port;
        config.domain = self.domain.clone();
        config.auth_user = self.auth_user.clone();
        config.transport_mode = self.transport.into();
        config.ca_files = self.ca.clone();
        config.system_roots = self.ca.is_empty();
        if let Some(b) = &self.bind {
            let (ip, p) = host_port(b).map_err(|e| format!("--bind: {e}"))?;
            config.bind_ip = ip
                .parse::<IpAddr>()
                .map_err(|_| format!("--bind: {ip:?} is not an IP address"))?;
            config.bind_port = p.unwrap_or(0);
        }
        Ok(config)
    }
}

/// The one-line reason for a failure.
pub(crate) fn reason(e: &ClientError, server: &str) -> String {
    match e {
        ClientError::InvalidAccountInfo { realm } => {
            format!("wrong user name or password (refused for realm {realm:?})")
        }
        ClientError::Registration(RegistrationError::Rejected { status, reason }) => {
            format!("the server refused the registration: {status} {reason}")
        }
        ClientError::Registration(RegistrationError::Timeout) | ClientError::Timeout(_) => {
            format!("timeout: no answer from {server}")
        }
        ClientError::Transport(why) if matches!(**why, TransportError::Tls { .. }) => {
            format!("TLS verification failed: {why}")
        }
        other => other.to_string(),
    }
}

/// A tap printing one line per SIP message: `→ INVITE sip:bob@…` for what we send,
/// `← 180 Ringing` for what we get, with the time since `start`, to stdout.
pub(crate) fn ladder(start: std::time::Instant) -> Tap {
    Arc::new(move |w: Wire<'_>| {
        let t = start.elapsed().as_secs_f64();
        match w {
            Wire::Sent { peer, bytes } => {
                if let Ok(m) = Message::parse(bytes.clone()) {
                    println!("{t:7.3}  → {} ({peer})", first_line(&m));
                }
            }
            Wire::Received { peer, message } => {
                println!("{t:7.3}  ← {} ({peer})", first_line(message));
            }
        }
    })
}

/// [`ladder`] with the name of the party on each line (`alice  → INVITE …`), for
/// several parties in one process.
pub(crate) fn named_ladder(start: std::time::Instant, name: &str) -> Tap {
    let name = name.to_string();
    Arc::new(move |w: Wire<'_>| {
        let t = start.elapsed().as_secs_f64();
        match w {
            Wire::Sent { peer, bytes } => {
                if let Ok(m) = Message::parse(bytes.clone()) {
                    println!("{t:7.3}  {name:<6} → {} ({peer})", first_line(&m));
                }
            }
            Wire::Received { peer, message } => {
                println!("{t:7.3}  {name:<6} ← {} ({peer})", first_line(message));
            }
        }
    })
}

/// `INVITE sip:bob@example.com` or `407 Proxy Authentication Required` (with the
/// method of the CSeq for responses).
pub(crate) fn first_line(m: &Message) -> String {
    match m {
        Message::Request(r) => format!("{} {}", r.method(), r.uri().as_str()),
        Message::Response(r) => format!(
            "{} {} ({})",
            r.status().as_u16(),
            r.reason(),
            r.cseq_method()
        ),
    }
}

/// A bound on how long to wait for a registrar.
pub(crate) fn register_timeout(secs: u64) -> Duration {
    Duration::from_secs(secs.max(1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_port_forms() {
        assert_eq!(
            host_port("pbx.example.com").unwrap(),
            ("pbx.example.com".into(), None)
        );
        assert_eq!(
            host_port("pbx.example.com:5070").unwrap(),
            ("pbx.example.com".into(), Some(5070))
        );
        assert_eq!(host_port("[::1]:5061").unwrap(), ("::1".into(), Some(5061)));
        assert_eq!(host_port("[::1]").unwrap(), ("::1".into(), None));
        assert_eq!(host_port("::1").unwrap(), ("::1".into(), None));
        assert!(host_port("[::1").is_err());
        assert!(host_port("h:x").is_err());
        assert_eq!(
            socket_addr("127.0.0.1", 5060).unwrap(),
            "127.0.0.1:5060".parse().unwrap()
        );
    }
}
