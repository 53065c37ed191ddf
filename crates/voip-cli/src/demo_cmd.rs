//! `voip demo`: the stack end to end on loopback with no setup. An embedded registrar
//! (digest, location proxy) starts on 127.0.0.1; alice registers over UDP and bob over
//! TCP; alice pings bob with OPTIONS and calls him through the proxy (407 answered,
//! 180, 200 with SDP, ACK), then hangs up; both deregister.

use std::net::SocketAddr;
use std::process::ExitCode;
use std::time::Duration;

use bytes::Bytes;
use clap::Args;
use sip_auth::CredentialsManager;
use sip_client::{ClientError, DialogRequest, Event, OutgoingRequest, SipClient, SipClientConfig};
use sip_message::{Method, OsRandom, Random, StatusCode, TransportMode};
use sip_registrar::Users;
use sip_registrar::server::{RegistrarServer, ServerConfig};

/// Arguments of `voip demo`.
#[derive(Args, Debug)]
pub(crate) struct DemoArgs {
    /// How long the call lasts, milliseconds.
    #[arg(long, default_value_t = 500)]
    call_ms: u64,
}

const REALM: &str = "demo.test";

fn sdp(user: &str, port: u16) -> Bytes {
    Bytes::from(format!(
        "v=0\r\no={user} 1 1 IN IP4 127.0.0.1\r\ns=voip demo\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio {port} RTP/AVP 0 8 101\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:8 PCMA/8000\r\na=rtpmap:101 telephone-event/8000\r\na=sendrecv\r\n"
    ))
}

fn config(server: SocketAddr, user: &str, password: &str, mode: TransportMode) -> SipClientConfig {
    let mut creds = CredentialsManager::new();
    creds.add(user, password, Some("127.0.0.1"), Some(REALM), None);
    let mut c = SipClientConfig::new("127.0.0.1", user, creds);
    c.port = Some(server.port());
    c.domain = Some(REALM.into());
    c.bind_ip = server.ip();
    c.transport_mode = mode;
    c.register_timeout = Duration::from_secs(10);
    c
}

async fn step<T>(what: &str, f: impl std::future::Future<Output = T>) -> Result<T, String> {
    tokio::time::timeout(Duration::from_secs(10), f)
        .await
        .map_err(|_| format!("{what}: no answer within 10 s"))
}

pub(crate) fn run(args: &DemoArgs) -> ExitCode {
    let rt = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("voip demo: cannot start the runtime: {e}");
            return ExitCode::from(1);
        }
    };
    match rt.block_on(demo(args)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("voip demo: {e}");
            ExitCode::from(1)
        }
    }
}

async fn demo(args: &DemoArgs) -> Result<(), String> {
    let mut rng = OsRandom;
    let (pa, pb) = (rng.token(12), rng.token(12));
    let mut users = Users::new();
    users.add("alice", &pa);
    users.add("bob", &pb);
    let cfg = ServerConfig::new("127.0.0.1:0".parse().map_err(|e| format!("{e}"))?, REALM);
    let registrar = RegistrarServer::start(cfg, users)
        .await
        .map_err(|e| format!("registrar: {e}"))?;
    let server = registrar
        .local_addr(TransportMode::Udp)
        .ok_or("the registrar has no UDP address")?;
    let tcp = registrar
        .local_addr(TransportMode::Tcp)
        .ok_or("the registrar has no TCP address")?;
    println!("registrar  listening on udp {server} and tcp {tcp}, realm {REALM}");

    let alice = SipClient::start(config(server, "alice", &pa, TransportMode::Udp))
        .await
        .map_err(|e: ClientError| format!("alice: {e}"))?;
    let r = alice.registered();
    println!(
        "alice      registered {} over UDP as {} for {} s",
        r.aor, r.contact, r.expires
    );
    let mut bob = SipClient::start(config(tcp, "bob", &pb, TransportMode::Tcp))
        .await
        .map_err(|e| format!("bob: {e}"))?;
    let r = bob.registered();
    println!(
        "bob        registered {} over TCP as {} for {} s",
        r.aor, r.contact, r.expires
    );

    // Bob answers calls: 180, then 200 with his SDP.
    let mut events = bob.take_events().ok_or("no event stream")?;
    let bob = std::sync::Arc::new(bob);
    let answering = bob.clone();
    let bob_task = tokio::spawn(async move {
        let mut log = Vec::new();
        while let Some(ev) = events.recv().await {
            match ev {
                Event::IncomingRequest { tx, request, .. }
                    if request.method() == &Method::Invite =>
                {
                    log.push(format!(
                        "bob        got INVITE from {}",
                        request.from().uri().as_str()
                    ));
                    let _ = answering
                        .answer_invite(tx, request.clone(), StatusCode::RINGING, None, Bytes::new())
                        .await;
                    let _ = answering
                        .answer_invite(
                            tx,
                            request,
                            StatusCode::OK,
                            Some("application/sdp"),
                            sdp("bob", 40002),
                        )
                        .await;
                }
                Event::Ack { .. } => {
                    log.push("bob        got the ACK: call established".to_string())
                }
                Event::IncomingRequest { request, .. } if request.method() == &Method::Bye => {
                    log.push("bob        got BYE, answered 200".to_string());
                }
                Event::DialogEnded { .. } => {
                    log.push("bob        call ended".to_string());
                    break;
                }
                _ => {}
            }
        }
        log
    });

    // OPTIONS to bob through the proxy: answered by bob's UA core.
    let account = alice.account();
    let mut ping = alice
        .send(
            account,
            OutgoingRequest::new(Method::Options, &format!("sip:bob@{REALM}")),
        )
        .await
        .map_err(|e| format!("OPTIONS: {e}"))?;
    let (resp, _) = step("OPTIONS", ping.final_response())
        .await?
        .map_err(|e| format!("OPTIONS: {e}"))?;
    println!(
        "alice      OPTIONS bob: {} {} (Allow: {})",
        resp.status().as_u16(),
        resp.reason(),
        resp.header(sip_message::HeaderName::Allow).unwrap_or("")
    );

    // The call.
    let mut invite = OutgoingRequest::new(Method::Invite, &format!("sip:bob@{REALM}"));
    invite.content_type = Some("application/sdp".into());
    invite.body = sdp("alice", 40000);
    let mut call = alice
        .send(account, invite)
        .await
        .map_err(|e| format!("INVITE: {e}"))?;
    let mut dialog = None;
    while let Some(r) = step("INVITE", call.next()).await? {
        let (resp, d) = r.map_err(|e| format!("INVITE: {e}"))?;
        println!(
            "alice      INVITE: {} {}",
            resp.status().as_u16(),
            resp.reason()
        );
        if resp.status().as_u16() >= 200 {
            if resp.status() != StatusCode::OK {
                return Err(format!("the call failed: {}", resp.status().as_u16()));
            }
            println!(
                "alice      answer SDP: {} bytes; ACK sent",
                resp.body().len()
            );
            dialog = d;
            break;
        }
    }
    let dialog = dialog.ok_or("the 200 made no dialog")?;
    tokio::time::sleep(Duration::from_millis(args.call_ms)).await;
    let mut bye = alice
        .send_in_dialog(dialog, DialogRequest::new(Method::Bye))
        .await
        .map_err(|e| format!("BYE: {e}"))?;
    let (resp, _) = step("BYE", bye.final_response())
        .await?
        .map_err(|e| format!("BYE: {e}"))?;
    println!(
        "alice      BYE: {} {}: call ended",
        resp.status().as_u16(),
        resp.reason()
    );
    let log = step("bob's side", bob_task)
        .await?
        .map_err(|e| format!("bob's task: {e}"))?;
    for line in log {
        println!("{line}");
    }

    alice.stop().await;
    println!("alice      deregistered");
    match std::sync::Arc::try_unwrap(bob) {
        Ok(b) => b.stop().await,
        Err(_) => return Err("bob is still in use".into()),
    }
    println!("bob        deregistered");
    if let Some((stats, bindings)) = registrar.stats().await {
        println!(
            "registrar  {} registrations, {} challenges, {} requests forwarded, {bindings} bindings left",
            stats.registered, stats.challenged, stats.forwarded
        );
    }
    Ok(())
}
