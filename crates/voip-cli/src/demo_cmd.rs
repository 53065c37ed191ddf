//! `voip demo`: the stack end to end on loopback with no setup. An embedded registrar
//! (digest, location proxy) starts on 127.0.0.1; two phones register, alice over UDP
//! and bob over TCP; alice calls bob through the proxy, bob answers and plays a 1 kHz
//! tone that alice records, alice sends DTMF `1234#` as RFC 4733 events that bob
//! reports, alice hangs up, both deregister. The SIP ladder is printed as it happens;
//! the last line gives the figures measured, or the step that failed.

use std::net::SocketAddr;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use clap::Args;
use sip_message::{OsRandom, Random, TransportMode};
use sip_registrar::Users;
use sip_registrar::server::{RegistrarServer, ServerConfig};
use voip_facade::{CallState, EndReason, VoipPhone, VoipPhoneParameter};
use voip_rtp::tone::{measure, sine, trim_silence};

use crate::account::named_ladder;

/// Arguments of `voip demo`.
#[derive(Args, Debug)]
pub(crate) struct DemoArgs {
    /// How long bob's tone lasts, milliseconds.
    #[arg(long, default_value_t = 1000)]
    tone_ms: u64,
    /// Where to save what alice heard (a WAV file), if anywhere.
    #[arg(long)]
    record: Option<std::path::PathBuf>,
}

const REALM: &str = "demo.test";
const TONE_HZ: f64 = 1000.0;
const TONE_DBFS: f64 = -6.0;

/// A step that failed, and why.
struct Failed {
    step: &'static str,
    reason: String,
}

fn failed(step: &'static str) -> impl FnOnce(String) -> Failed {
    move |reason| Failed { step, reason }
}

/// Runs `f` as step `step`, bounded to 10 s.
async fn step<T, E: std::fmt::Display>(
    step: &'static str,
    f: impl std::future::Future<Output = Result<T, E>>,
) -> Result<T, Failed> {
    match tokio::time::timeout(Duration::from_secs(10), f).await {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(e)) => Err(Failed {
            step,
            reason: e.to_string(),
        }),
        Err(_) => Err(Failed {
            step,
            reason: "nothing within 10 s".into(),
        }),
    }
}

pub(crate) fn run(args: &DemoArgs, trace: Option<sip_client::Tap>) -> ExitCode {
    let rt = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            println!("demo: failed at runtime: {e}");
            return ExitCode::from(1);
        }
    };
    match rt.block_on(demo(args, trace)) {
        Ok(line) => {
            println!("{line}");
            ExitCode::SUCCESS
        }
        Err(f) => {
            println!("demo: failed at {}: {}", f.step, f.reason);
            ExitCode::from(1)
        }
    }
}

fn phone(
    server: SocketAddr,
    user: &str,
    password: &str,
    mode: TransportMode,
    start: Instant,
    trace: Option<sip_client::Tap>,
) -> VoipPhone {
    let mut p = VoipPhoneParameter::new("127.0.0.1", user, password);
    p.port = Some(server.port());
    p.domain = Some(REALM.into());
    p.bind_ip = server.ip();
    p.transport_mode = mode;
    p.register_timeout = Duration::from_secs(10);
    p.tap = crate::logging::both(Some(named_ladder(start, user)), trace);
    VoipPhone::new(p)
}

async fn demo(args: &DemoArgs, trace: Option<sip_client::Tap>) -> Result<String, Failed> {
    let start = Instant::now();
    let mut rng = OsRandom;
    let (pa, pb) = (rng.token(12), rng.token(12));
    let mut users = Users::new();
    users.add("alice", &pa);
    users.add("bob", &pb);
    let cfg = ServerConfig::new(SocketAddr::from(([127, 0, 0, 1], 0)), REALM);
    let registrar = step("registrar", RegistrarServer::start(cfg, users)).await?;
    let udp = registrar
        .local_addr(TransportMode::Udp)
        .ok_or("no UDP address".to_string())
        .map_err(failed("registrar"))?;
    let tcp = registrar
        .local_addr(TransportMode::Tcp)
        .ok_or("no TCP address".to_string())
        .map_err(failed("registrar"))?;
    println!("registrar    listening on udp {udp} and tcp {tcp}, realm {REALM}");

    let alice = phone(udp, "alice", &pa, TransportMode::Udp, start, trace.clone());
    let bob = phone(tcp, "bob", &pb, TransportMode::Tcp, start, trace);
    let t = Instant::now();
    let (a, b) = tokio::join!(alice.start(), bob.start());
    step("register alice", async { a }).await?;
    step("register bob", async { b }).await?;
    let registration_ms = t.elapsed().as_secs_f64() * 1000.0;
    println!("alice, bob   registered in {registration_ms:.1} ms");

    // Bob answers, plays the tone, and collects five digits.
    let bob_side = {
        let bob = bob.clone();
        let tone_ms = args.tone_ms;
        tokio::spawn(async move {
            let call = step("bob's incoming call", async {
                bob.next_call().await.ok_or("the phone stopped")
            })
            .await?;
            println!("bob          call from {}", call.remote_party());
            step("bob rings", call.ring()).await?;
            step("bob answers", call.answer()).await?;
            let tone = sine(TONE_HZ, TONE_DBFS, 8000, 0, (8 * tone_ms) as usize);
            step("bob plays the tone", call.write_audio(&tone)).await?;
            println!("bob          playing {tone_ms} ms of {TONE_HZ} Hz at {TONE_DBFS} dBFS");
            let mut digits = String::new();
            while digits.len() < 5 {
                let d = step("bob gets DTMF", async {
                    call.next_dtmf().await.ok_or("the call ended")
                })
                .await?;
                digits.push(d);
            }
            println!("bob          got DTMF {digits}");
            Ok::<_, Failed>((digits, call))
        })
    };

    let t = Instant::now();
    let call = step("alice calls bob", alice.call("bob")).await?;
    step("bob answers", call.wait_answered()).await?;
    let setup_ms = t.elapsed().as_secs_f64() * 1000.0;
    println!("alice        answered after {setup_ms:.1} ms");
    // Alice records a little longer than the tone lasts.
    let samples = (8 * args.tone_ms + 4000) as usize;
    let heard = step("alice records", call.read_audio(samples)).await?;
    let loud = trim_silence(&heard, 300);
    if loud.is_empty() {
        return Err(Failed {
            step: "alice records",
            reason: "only silence came".into(),
        });
    }
    let m = measure(loud, 8000);
    println!(
        "alice        heard {} ms of sound: {:.1} Hz at {:.1} dBFS",
        loud.len() / 8,
        m.freq_hz,
        m.level_dbfs
    );
    if let Some(path) = &args.record {
        step("saving the recording", async {
            voip_facade::wav::write(path, &heard)
        })
        .await?;
        println!("alice        saved what she heard to {}", path.display());
    }
    step("alice sends DTMF", call.send_dtmf("1234#")).await?;
    // The digits take 5 × 160 ms; bob reports them.
    let (digits, bob_call) = match tokio::time::timeout(Duration::from_secs(10), bob_side).await {
        Ok(Ok(r)) => r?,
        Ok(Err(e)) => {
            return Err(Failed {
                step: "bob",
                reason: e.to_string(),
            });
        }
        Err(_) => {
            return Err(Failed {
                step: "bob gets DTMF",
                reason: "nothing within 10 s".into(),
            });
        }
    };
    step("alice hangs up", call.hangup()).await?;
    let ended = step("the call ends", async {
        Ok::<_, String>(call.wait_ended().await)
    })
    .await?;
    if ended != EndReason::LocalBye || !matches!(call.state(), CallState::Ended(_)) {
        return Err(Failed {
            step: "the call ends",
            reason: format!("{ended:?}"),
        });
    }
    let bob_ended = step("bob's call ends", async {
        Ok::<_, String>(bob_call.wait_ended().await)
    })
    .await?;
    println!("bob          call ended: {bob_ended:?}");
    let stats = call.stats().await;
    println!(
        "alice        RTP sent {} received {} lost {}, jitter {:?}",
        stats.sent_packets, stats.received_packets, stats.lost, stats.jitter
    );
    alice.stop().await;
    bob.stop().await;
    println!("alice, bob   deregistered");
    if let Some((s, bindings)) = registrar.stats().await {
        println!(
            "registrar    {} registrations, {} challenges, {} requests forwarded, {bindings} bindings left",
            s.registered, s.challenged, s.forwarded
        );
    }
    if (m.freq_hz - TONE_HZ).abs() > 10.0 || (m.level_dbfs - TONE_DBFS).abs() > 2.0 {
        return Err(Failed {
            step: "the tone",
            reason: format!("heard {:.1} Hz at {:.1} dBFS", m.freq_hz, m.level_dbfs),
        });
    }
    Ok(format!(
        "demo: ok registration_ms={registration_ms:.1} setup_ms={setup_ms:.1} rtp_sent={} rtp_received={} rtp_lost={} dtmf={digits} tone_hz={:.0} level_dbfs={:.1}",
        stats.sent_packets, stats.received_packets, stats.lost, m.freq_hz, m.level_dbfs
    ))
}
