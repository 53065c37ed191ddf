//! `voip demo`: the stack end to end on loopback with no setup. An embedded registrar
//! (digest, location proxy) starts on 127.0.0.1; alice registers over UDP and bob over
//! TCP; alice pings bob with OPTIONS and calls him through the proxy (407 answered,
//! 180, 200 with SDP, ACK), then hangs up; both deregister.

use std::net::{IpAddr, SocketAddr};
use std::process::ExitCode;
use std::time::Duration;

use clap::Args;
use sip_auth::CredentialsManager;
use sip_client::{
    CallEvent, CallSpec, ClientError, ClientEvent, OutgoingRequest, SipClient, SipClientConfig,
};
use sip_message::offer_answer::LocalMedia;
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

/// Media on loopback (RTP itself comes with the phone facade).
fn media(port: u16) -> LocalMedia {
    LocalMedia::new(IpAddr::from([127, 0, 0, 1]), port)
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
    crate::runtime::run("demo", demo(args))
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
    if let Some(r) = alice.registered() {
        println!(
            "alice      registered {} over UDP as {} for {} s",
            r.aor, r.contact, r.expires
        );
    }
    let mut bob = SipClient::start(config(tcp, "bob", &pb, TransportMode::Tcp))
        .await
        .map_err(|e| format!("bob: {e}"))?;
    if let Some(r) = bob.registered() {
        println!(
            "bob        registered {} over TCP as {} for {} s",
            r.aor, r.contact, r.expires
        );
    }

    // Bob answers calls: 180, then 200 with his answer.
    let mut events = bob.take_events().ok_or("no event stream")?;
    let bob_task = tokio::spawn(async move {
        let mut log = Vec::new();
        while let Some(ev) = events.recv().await {
            let ClientEvent::IncomingCall(incoming) = ev else {
                continue;
            };
            log.push(format!(
                "bob        got INVITE from {}",
                incoming.request.from().uri().as_str()
            ));
            let mut call = incoming.call;
            let _ = call.ring(StatusCode::RINGING, None).await;
            let _ = call.answer(Some(media(40002))).await;
            while let Some(e) = call.next_event().await {
                match e {
                    CallEvent::Media { negotiated, .. } => {
                        log.push(format!("bob        media agreed: {negotiated}"))
                    }
                    CallEvent::Confirmed => {
                        log.push("bob        got the ACK: call established".to_string())
                    }
                    CallEvent::Ended { reason } => {
                        log.push(format!("bob        call ended: {reason:?}"));
                        return log;
                    }
                    _ => {}
                }
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
    let resp = step("OPTIONS", ping.final_response())
        .await?
        .map_err(|e| format!("OPTIONS: {e}"))?;
    println!(
        "alice      OPTIONS bob: {} {} (Allow: {})",
        resp.status().as_u16(),
        resp.reason(),
        resp.header(sip_message::HeaderName::Allow).unwrap_or("")
    );

    // The call.
    let spec = CallSpec::new(&format!("sip:bob@{REALM}"), media(40000));
    let mut call = alice
        .call(account, spec)
        .await
        .map_err(|e| format!("INVITE: {e}"))?;
    loop {
        match step("INVITE", call.next_event()).await? {
            Some(CallEvent::Progress { response }) => println!(
                "alice      INVITE: {} {}",
                response.status().as_u16(),
                response.reason()
            ),
            Some(CallEvent::Answered { response }) => {
                println!(
                    "alice      INVITE: {} {}; ACK sent",
                    response.status().as_u16(),
                    response.reason()
                );
            }
            Some(CallEvent::Media { negotiated, .. }) => {
                println!("alice      media agreed: {negotiated}");
                break;
            }
            Some(CallEvent::Ended { reason }) => {
                return Err(format!("the call failed: {reason:?}"));
            }
            Some(_) => {}
            None => return Err("the call vanished".into()),
        }
    }
    tokio::time::sleep(Duration::from_millis(args.call_ms)).await;
    call.hangup().await.map_err(|e| format!("BYE: {e}"))?;
    loop {
        match step("BYE", call.next_event()).await? {
            Some(CallEvent::Ended { reason }) => {
                println!("alice      BYE answered: call ended ({reason:?})");
                break;
            }
            Some(_) => {}
            None => return Err("the call vanished".into()),
        }
    }
    let log = step("bob's side", bob_task)
        .await?
        .map_err(|e| format!("bob's task: {e}"))?;
    for line in log {
        println!("{line}");
    }

    alice.stop().await;
    println!("alice      deregistered");
    bob.stop().await;
    println!("bob        deregistered");
    if let Some((stats, bindings)) = registrar.stats().await {
        println!(
            "registrar  {} registrations, {} challenges, {} requests forwarded, {bindings} bindings left",
            stats.registered, stats.challenged, stats.forwarded
        );
    }
    Ok(())
}
