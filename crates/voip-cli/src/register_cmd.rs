//! `voip register`: registers an account with a server, prints what the server holds,
//! then deregisters (`--once`) or keeps the registration fresh until Ctrl-C.

use std::process::ExitCode;

use clap::Args;
use sip_client::{ClientError, ClientEvent, RegistrationEvent, SipClient};
use sip_message::TransportMode;

use crate::account::{AccountArgs, bracket, reason, register_timeout};

/// Arguments of `voip register`.
#[derive(Args, Debug)]
pub(crate) struct RegisterArgs {
    /// The registrar: HOST or HOST:PORT (IPv6 in brackets: `[::1]:5060`).
    #[arg(long)]
    server: String,
    #[command(flatten)]
    account: AccountArgs,
    /// The expiry to ask for, seconds.
    #[arg(long, default_value_t = 3600)]
    expires: u32,
    /// Register, print, deregister and exit.
    #[arg(long)]
    once: bool,
    /// How long to wait for the registrar, seconds.
    #[arg(long, default_value_t = 40)]
    timeout: u64,
}

pub(crate) fn run(args: &RegisterArgs, trace: Option<sip_client::Tap>) -> ExitCode {
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
    rt.block_on(register(args, trace))
}

async fn register(args: &RegisterArgs, trace: Option<sip_client::Tap>) -> ExitCode {
    let fail = |msg: String| {
        eprintln!("voip register: {msg}");
        ExitCode::from(1)
    };
    if args.account.user.is_none() {
        return fail("--user is required".into());
    }
    let mut config = match args.account.config(Some(&args.server), true) {
        Ok(c) => c,
        Err(e) => return fail(e),
    };
    config.expires = args.expires;
    config.register_timeout = register_timeout(args.timeout);
    config.tap = trace;
    let (host, port) = (config.server.clone(), config.port);
    let mode: TransportMode = args.account.transport.into();
    let shown = match port {
        Some(p) => format!("{}:{p}", bracket(&host)),
        None => bracket(&host),
    };
    let mut client = match SipClient::start(config).await {
        Ok(c) => c,
        Err(e) => return fail(reason(&e, &shown)),
    };
    let Some(r) = client.registered().cloned() else {
        return fail("the client did not register".into());
    };
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
                Some(ClientEvent::Registration { event, .. }) => match event {
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
