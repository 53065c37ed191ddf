//! `voip listen`: takes calls, registered with a server or listening at `--bind`,
//! and handles each as asked: answer (until the caller hangs up, or `--duration`,
//! then BYE), refuse busy (486), or ring until the caller cancels. One line per
//! call; exits 0 once `--calls` calls were handled as asked.

use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::Args;
use sip_client::{CallEvent, CallHandle, ClientEvent, EndReason, IncomingCall, SipClient};
use sip_message::StatusCode;
use sip_message::offer_answer::LocalMedia;
use tokio::sync::mpsc;
use voip_facade::{CallMedia, MediaConfig};

use crate::account::{AccountArgs, ladder, reason, register_timeout};
use crate::media_plan::{MediaArgs, MediaPlan};

/// Arguments of `voip listen`.
#[derive(Args, Debug)]
pub(crate) struct ListenArgs {
    /// The registrar to register with: HOST or HOST:PORT.
    #[arg(long, required_unless_present = "no_register")]
    server: Option<String>,
    #[command(flatten)]
    account: AccountArgs,
    /// Do not register: take calls sent to --bind.
    #[arg(long, requires = "bind")]
    no_register: bool,
    /// Answer calls (the default).
    #[arg(long, conflicts_with_all = ["busy", "ring_only"])]
    answer: bool,
    /// Refuse calls with 486 Busy Here.
    #[arg(long, conflicts_with = "ring_only")]
    busy: bool,
    /// Ring (180) until the caller cancels.
    #[arg(long)]
    ring_only: bool,
    /// Hang up answered calls after this many seconds (else the caller hangs up).
    #[arg(long)]
    duration: Option<f64>,
    /// Exit 0 after this many calls handled as asked (0: until Ctrl-C).
    #[arg(long, default_value_t = 1)]
    calls: u64,
    /// Give up (exit 1) after this many seconds without the calls.
    #[arg(long)]
    timeout: Option<f64>,
    /// Take no RTP port per call (load tests): the SDP names the discard port.
    #[arg(long)]
    no_media: bool,
    /// Print every SIP message (off under load).
    #[arg(long)]
    ladder: bool,
    /// How long to wait for the registrar, seconds.
    #[arg(long, default_value_t = 40)]
    register_timeout: u64,
    #[command(flatten)]
    media: MediaArgs,
}

/// The media of every call: its configuration and what to do with the audio.
type Media = Option<(Arc<MediaConfig>, Arc<MediaPlan>)>;

/// What to do with each call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Mode {
    Answer,
    Busy,
    RingOnly,
}

pub(crate) fn run(args: &ListenArgs, trace: Option<sip_client::Tap>) -> ExitCode {
    crate::runtime::run("listen", listen(args, trace))
}

/// One call handled: whether as asked, and the line saying how.
type Outcome = (bool, String);

async fn listen(args: &ListenArgs, trace: Option<sip_client::Tap>) -> Result<(), String> {
    let mode = if args.busy {
        Mode::Busy
    } else if args.ring_only {
        Mode::RingOnly
    } else {
        Mode::Answer
    };
    let plan = Arc::new(args.media.plan()?);
    let start = Instant::now();
    let server = if args.no_register {
        None
    } else {
        args.server.as_deref()
    };
    let mut config = args.account.config(server, !args.no_register)?;
    config.register = !args.no_register;
    config.register_timeout = register_timeout(args.register_timeout);
    config.tap = crate::logging::both(args.ladder.then(|| ladder(start)), trace);
    let shown = server.unwrap_or("").to_string();
    let mut client = SipClient::start(config)
        .await
        .map_err(|e| reason(&e, &shown))?;
    match client.registered() {
        Some(r) => println!("registered {} as {}", r.aor, r.contact),
        None => println!("listening on {}", client.local_addr()),
    }
    let media: Media = if args.no_media {
        None
    } else {
        let user = args.account.user.as_deref().unwrap_or("voip");
        Some((plan.config(client.local_addr().ip(), user)?, plan))
    };
    let mut events = client.take_events().ok_or("no event stream")?;
    let (done_tx, mut done_rx) = mpsc::unbounded_channel::<Outcome>();
    let deadline = args
        .timeout
        .map(|s| tokio::time::Instant::now() + Duration::from_secs_f64(s.max(0.0)));
    let (mut handled, mut number) = (0u64, 0u64);
    let result = loop {
        tokio::select! {
            ev = events.recv() => match ev {
                Some(ClientEvent::IncomingCall(incoming)) => {
                    number += 1;
                    let ip = client.local_addr().ip();
                    let duration = args.duration.map(|s| Duration::from_secs_f64(s.max(0.0)));
                    let (done, media) = (done_tx.clone(), media.clone());
                    tokio::spawn(async move {
                        let out = handle(number, incoming, mode, ip, media, duration).await;
                        let _ = done.send(out);
                    });
                }
                Some(_) => {}
                None => break Err("the client stopped".to_string()),
            },
            Some((ok, line)) = done_rx.recv() => {
                println!("{line}");
                if ok {
                    handled += 1;
                    if args.calls > 0 && handled >= args.calls {
                        break Ok(());
                    }
                }
            }
            _ = tokio::signal::ctrl_c() => {
                break if args.calls == 0 {
                    Ok(())
                } else {
                    Err(format!("interrupted after {handled} of {} calls", args.calls))
                };
            }
            _ = async {
                match deadline {
                    Some(d) => tokio::time::sleep_until(d).await,
                    None => std::future::pending().await,
                }
            } => {
                break Err(format!(
                    "timeout: {handled} of {} calls handled as asked",
                    args.calls
                ));
            }
        }
    };
    client.stop().await;
    result
}

/// Handles one call as `mode` says, until it ends.
async fn handle(
    n: u64,
    incoming: IncomingCall,
    mode: Mode,
    ip: std::net::IpAddr,
    media: Media,
    duration: Option<Duration>,
) -> Outcome {
    let from = incoming.request.from().uri().as_str().to_string();
    let mut call: CallHandle = incoming.call;
    let head = format!("call {n} from {from}:");
    // RTP ports for the answer, held for the call; the discard port with --no-media.
    let (media, local) = match media {
        Some((config, plan)) => match CallMedia::reserve(&config).await {
            Ok(m) => {
                let m = Arc::new(m);
                let run = plan.start(&m, call.control(), &format!("call {n}: "));
                let local = m.local().clone();
                (Some((m, run)), local)
            }
            Err(e) => {
                let _ = call.reject(StatusCode::SERVICE_UNAVAILABLE).await;
                return (false, format!("{head} refused (503): {e}"));
            }
        },
        None => (None, LocalMedia::new(ip, 9)),
    };
    let started = Instant::now();
    let r = match mode {
        Mode::Busy => call.reject(StatusCode::BUSY_HERE).await,
        Mode::RingOnly => call.ring(StatusCode::RINGING, None).await,
        Mode::Answer => match call.ring(StatusCode::RINGING, None).await {
            Ok(()) => call.answer(Some(local)).await,
            Err(e) => Err(e),
        },
    };
    if let Err(e) = r {
        return (false, format!("{head} could not be handled: {e}"));
    }
    let mut hangup_at = None;
    let ended = loop {
        let wake = hangup_at;
        tokio::select! {
            ev = call.next_event() => match ev {
                Some(CallEvent::Confirmed) => {
                    hangup_at = duration.map(|d| tokio::time::Instant::now() + d);
                }
                Some(CallEvent::Media { negotiated, .. }) => {
                    if let Some((m, _)) = &media {
                        let _ = m.negotiated(&negotiated).await;
                    }
                }
                Some(CallEvent::Dtmf { digit, .. }) => {
                    if let Some((m, _)) = &media {
                        m.push_digit(digit);
                    }
                }
                Some(CallEvent::Ended { reason }) => break reason,
                Some(_) => {}
                None => break EndReason::Transport,
            },
            _ = async {
                match wake {
                    Some(w) => tokio::time::sleep_until(w).await,
                    None => std::future::pending().await,
                }
            } => {
                hangup_at = None;
                if let Err(e) = call.hangup().await {
                    return (false, format!("{head} could not hang up: {e}"));
                }
            }
        }
    };
    let mut head = head;
    if let Some((m, run)) = media {
        let stats = m.close().await;
        match run.finish().await {
            Ok(digits) if !digits.is_empty() => head = format!("{head} dtmf {digits};"),
            Ok(_) => {}
            Err(e) => return (false, format!("{head} {e}")),
        }
        if stats.received_packets > 0 {
            head = format!(
                "{head} rtp {} in, {} out;",
                stats.received_packets, stats.sent_packets
            );
        }
    }
    let secs = started.elapsed().as_secs_f64();
    match (mode, &ended) {
        (Mode::Answer, EndReason::RemoteBye) => (
            true,
            format!("{head} answered; the caller hung up after {secs:.1} s"),
        ),
        (Mode::Answer, EndReason::LocalBye) => (
            true,
            format!("{head} answered; we hung up after {secs:.1} s"),
        ),
        (Mode::Busy, EndReason::Declined { status: 486 }) => (true, format!("{head} busy (486)")),
        (Mode::RingOnly, EndReason::CancelledByPeer) => (
            true,
            format!("{head} rang {secs:.1} s until the caller cancelled"),
        ),
        (_, other) => (false, format!("{head} ended otherwise: {other:?}")),
    }
}
