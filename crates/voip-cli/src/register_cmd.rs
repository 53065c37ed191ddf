//! `voip register`: registers an account with a server, prints what the server holds,
//! then deregisters (`--once`) or keeps the registration fresh until Ctrl-C.

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, ValueEnum};
use sip_auth::CredentialsManager;
use sip_client::{
    ClientError, Event, RegistrationError, RegistrationEvent, SipClient, SipClientConfig,
};
use sip_message::TransportMode;

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

/// Arguments of `voip register`.
#[derive(Args, Debug)]
pub(crate) struct RegisterArgs {
    /// The registrar: HOST or HOST:PORT (IPv6 in brackets: `[::1]:5060`).
    #[arg(long)]
    server: String,
    /// The user (of the address of record).
    #[arg(long)]
    user: String,
    /// The AOR's host when it is not the server's.
    #[arg(long)]
    domain: Option<String>,
    /// The user name to authenticate as, when not --user.
    #[arg(long)]
    auth_user: Option<String>,
    /// Answer challenges of this realm only.
    #[arg(long)]
    realm: Option<String>,
    /// The transport to the server.
    #[arg(long, value_enum, default_value = "udp")]
    transport: TransportArg,
    /// A CA certificate (PEM) to trust for TLS; without one the system roots are used.
    #[arg(long)]
    ca: Vec<PathBuf>,
    /// The local address to bind: IP or IP:PORT.
    #[arg(long)]
    bind: Option<String>,
    /// The expiry to ask for, seconds.
    #[arg(long, default_value_t = 3600)]
    expires: u32,
    /// Register, print, deregister and exit.
    #[arg(long)]
    once: bool,
    /// The environment variable holding the password.
    #[arg(long, default_value = "VOIP_PASSWORD")]
    password_env: String,
    /// The password itself (visible to other users of this machine: prefer the
    /// environment).
    #[arg(long)]
    password: Option<String>,
    /// How long to wait for the registrar, seconds.
    #[arg(long, default_value_t = 40)]
    timeout: u64,
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

/// The one-line reason for a failure.
fn reason(e: &ClientError, server: &str) -> String {
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
        ClientError::Transport(why) if why.contains("TLS") => {
            format!("TLS verification failed: {why}")
        }
        other => other.to_string(),
    }
}

pub(crate) fn run(args: &RegisterArgs) -> ExitCode {
    let rt = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("voip register: cannot start the runtime: {e}");
            return ExitCode::from(1);
        }
    };
    rt.block_on(register(args))
}

async fn register(args: &RegisterArgs) -> ExitCode {
    let fail = |msg: String| {
        eprintln!("voip register: {msg}");
        ExitCode::from(1)
    };
    let password = match (&args.password, std::env::var(&args.password_env)) {
        (Some(p), _) => p.clone(),
        (None, Ok(p)) => p,
        (None, Err(_)) => {
            return fail(format!(
                "no password: set {} (or use --password-env NAME or --password)",
                args.password_env
            ));
        }
    };
    let (host, port) = match host_port(&args.server) {
        Ok(hp) => hp,
        Err(e) => return fail(format!("--server: {e}")),
    };
    let auth_user = args.auth_user.clone().unwrap_or_else(|| args.user.clone());
    let mut creds = CredentialsManager::new();
    creds.add(
        &auth_user,
        &password,
        Some(&host),
        args.realm.as_deref(),
        None,
    );
    let mut config = SipClientConfig::new(&host, &args.user, creds);
    config.port = port;
    config.domain = args.domain.clone();
    config.auth_user = args.auth_user.clone();
    config.transport_mode = args.transport.into();
    config.ca_files = args.ca.clone();
    config.system_roots = args.ca.is_empty();
    config.expires = args.expires;
    config.register_timeout = std::time::Duration::from_secs(args.timeout);
    if let Some(b) = &args.bind {
        match host_port(b) {
            Ok((ip, p)) => match ip.parse::<IpAddr>() {
                Ok(ip) => {
                    config.bind_ip = ip;
                    config.bind_port = p.unwrap_or(0);
                }
                Err(_) => return fail(format!("--bind: {ip:?} is not an IP address")),
            },
            Err(e) => return fail(format!("--bind: {e}")),
        }
    }
    let mode: TransportMode = args.transport.into();
    let shown = match port {
        Some(p) => format!("{}:{p}", bracket(&host)),
        None => bracket(&host),
    };
    let mut client = match SipClient::start(config).await {
        Ok(c) => c,
        Err(e) => return fail(reason(&e, &shown)),
    };
    let r = client.registered().clone();
    println!("registered {} at {shown} over {mode}", r.aor);
    println!("expires: {} s", r.expires);
    println!("contact: {}", r.contact);
    for b in &r.bindings {
        println!("server holds: {b}");
    }
    if args.once {
        let account = client.account();
        let result = client.deregister(account).await;
        client.stop().await;
        return match result {
            Ok(()) => {
                println!("deregistered");
                ExitCode::SUCCESS
            }
            Err(e) => fail(format!("deregistration failed: {}", reason(&e, &shown))),
        };
    }
    let Some(mut events) = client.take_events() else {
        return fail("no event stream".into());
    };
    loop {
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {
                client.stop().await;
                println!("deregistered");
                return ExitCode::SUCCESS;
            }
            ev = events.recv() => match ev {
                Some(Event::Registration { event, .. }) => match event {
                    RegistrationEvent::Registered { expires, .. } => println!("refreshed: expires {expires} s"),
                    RegistrationEvent::Failed { error, fatal: true, .. } => {
                        client.stop().await;
                        return fail(reason(&ClientError::Registration(error), &shown));
                    }
                    RegistrationEvent::Failed { error, retry_in, .. } => {
                        eprintln!("refresh failed: {error}; retrying in {:?}", retry_in.unwrap_or_default());
                    }
                    RegistrationEvent::PublicAddress { public } => println!("public address: {public}"),
                    RegistrationEvent::Unregistered { .. } => {}
                },
                Some(_) => {}
                None => return fail("the client stopped".into()),
            }
        }
    }
}

fn bracket(host: &str) -> String {
    if host.contains(':') {
        format!("[{host}]")
    } else {
        host.to_string()
    }
}

/// The address a registrar `--bind` names.
pub(crate) fn socket_addr(s: &str, default_port: u16) -> Result<SocketAddr, String> {
    let (host, port) = host_port(s)?;
    let ip: IpAddr = host
        .parse()
        .map_err(|_| format!("{host:?} is not an IP address"))?;
    Ok(SocketAddr::new(ip, port.unwrap_or(default_port)))
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
