//! `voip registrar`: runs the small registrar and location proxy until Ctrl-C.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;
use sip_auth::Algorithm;
use sip_message::TransportMode;
use sip_registrar::Users;
use sip_registrar::server::{RegistrarServer, ServerConfig};

use crate::account::socket_addr;

/// Arguments of `voip registrar`.
#[derive(Args, Debug)]
pub(crate) struct RegistrarArgs {
    /// UDP (and with --tcp, TCP) address: IP:PORT (port 0 picks one; it is printed).
    #[arg(long, default_value = "127.0.0.1:5060")]
    bind: String,
    /// The users: one `user:password` per line.
    #[arg(long)]
    users: PathBuf,
    /// The digest realm (and the domain served).
    #[arg(long, default_value = "voip.test")]
    realm: String,
    /// Listen on TCP too (same address).
    #[arg(long)]
    tcp: bool,
    /// TLS address: IP:PORT.
    #[arg(long, requires_all = ["tls_cert", "tls_key"])]
    tls_bind: Option<String>,
    /// TLS certificate chain (PEM).
    #[arg(long)]
    tls_cert: Option<PathBuf>,
    /// TLS private key (PEM).
    #[arg(long)]
    tls_key: Option<PathBuf>,
    /// Challenge with SHA-256 instead of MD5.
    #[arg(long)]
    sha256: bool,
}

pub(crate) fn run(args: &RegistrarArgs, trace: Option<sip_client::Tap>) -> ExitCode {
    let fail = |msg: String| {
        eprintln!("voip registrar: {msg}");
        ExitCode::from(1)
    };
    let text = match std::fs::read_to_string(&args.users) {
        Ok(t) => t,
        Err(e) => return fail(format!("cannot read {}: {e}", args.users.display())),
    };
    let users = match Users::parse(&text) {
        Ok(u) => u,
        Err(e) => return fail(format!("{}: {e}", args.users.display())),
    };
    let bind = match socket_addr(&args.bind, 5060) {
        Ok(a) => a,
        Err(e) => return fail(format!("--bind: {e}")),
    };
    let mut cfg = ServerConfig::new(bind, &args.realm);
    cfg.tcp = args.tcp;
    cfg.tap = trace;
    if args.sha256 {
        cfg.registrar.algorithms = vec![Algorithm::Sha256];
    }
    if let (Some(b), Some(c), Some(k)) = (&args.tls_bind, &args.tls_cert, &args.tls_key) {
        match socket_addr(b, 5061) {
            Ok(a) => cfg.tls = Some((a, c.clone(), k.clone(), None)),
            Err(e) => return fail(format!("--tls-bind: {e}")),
        }
    }
    let rt = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => return fail(format!("cannot start the runtime: {e}")),
    };
    rt.block_on(async {
        let server = match RegistrarServer::start(cfg, users.clone()).await {
            Ok(s) => s,
            Err(e) => return fail(e.to_string()),
        };
        for mode in [TransportMode::Udp, TransportMode::Tcp, TransportMode::Tls] {
            if let Some(a) = server.local_addr(mode) {
                println!("listening {} {a}", mode.uri_param());
            }
        }
        println!("realm {}, {} users", args.realm, users.len());
        let _ = tokio::signal::ctrl_c().await;
        if let Some((stats, bindings)) = server.stats().await {
            println!(
                "stopping: {} registrations, {} challenges, {} requests forwarded, {bindings} bindings held",
                stats.registered, stats.challenged, stats.forwarded
            );
        }
        ExitCode::SUCCESS
    })
}
