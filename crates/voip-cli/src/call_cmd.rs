//! `voip call URI`: registers (unless `--no-register`), places a call, prints the SIP
//! ladder as it goes, and checks that the call ended as expected: answered and hung
//! up cleanly (`--expect answer`), refused busy (`--expect busy`), or cancelled with
//! the CANCEL answered 200 and the INVITE 487 (`--expect cancel`).

use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::{Args, ValueEnum};
use sip_client::{CallEvent, CallSpec, EndReason, SipClient, Wire};
use sip_message::{Message, Method};
use tokio::sync::mpsc;
use voip_facade::CallMedia;

use crate::account::{AccountArgs, ladder, reason, register_timeout};
use crate::media_plan::MediaArgs;

/// How the call is expected to end.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub(crate) enum Expect {
    /// Answered, held for --duration, hung up with BYE.
    Answer,
    /// Refused with 486 Busy Here, 600 Busy Everywhere or 603 Decline.
    Busy,
    /// Cancelled (see --cancel-after): the CANCEL answered 200 and the INVITE 487.
    Cancel,
}

/// Arguments of `voip call`.
#[derive(Args, Debug)]
pub(crate) struct CallArgs {
    /// Whom to call: a SIP URI (`sip:bob@example.com`).
    uri: String,
    /// The registrar and outbound proxy (with --no-register: where the INVITE goes):
    /// HOST or HOST:PORT.
    #[arg(long)]
    server: String,
    #[command(flatten)]
    account: AccountArgs,
    /// Do not register; send the call to --server as it is.
    #[arg(long)]
    no_register: bool,
    /// How long to hold an answered call before hanging up, seconds.
    #[arg(long, default_value_t = 2.0)]
    duration: f64,
    /// How long to let it ring before cancelling, seconds.
    #[arg(long)]
    ring_timeout: Option<f64>,
    /// Cancel this many seconds after sending the INVITE.
    #[arg(long)]
    cancel_after: Option<f64>,
    /// How the call must end for the command to exit 0.
    #[arg(long, value_enum, default_value = "answer")]
    expect: Expect,
    /// How long to wait for the registrar, seconds.
    #[arg(long, default_value_t = 40)]
    timeout: u64,
    #[command(flatten)]
    media: MediaArgs,
}

pub(crate) fn run(args: &CallArgs, trace: Option<sip_client::Tap>) -> ExitCode {
    crate::runtime::run("call", call(args, trace))
}

/// A tap that prints the ladder and reports each response received as (status,
/// method).
fn recording_tap(start: Instant) -> (sip_client::Tap, mpsc::UnboundedReceiver<(u16, Method)>) {
    let print = ladder(start);
    let (tx, rx) = mpsc::unbounded_channel();
    let tap: sip_client::Tap = Arc::new(move |w: Wire<'_>| {
        if let Wire::Received {
            message: Message::Response(r),
            ..
        } = w
        {
            let _ = tx.send((r.status().as_u16(), r.cseq_method().clone()));
        }
        print(w);
    });
    (tap, rx)
}

fn secs(s: f64) -> Duration {
    Duration::from_secs_f64(s.max(0.0))
}

async fn call(args: &CallArgs, trace: Option<sip_client::Tap>) -> Result<(), String> {
    if args.account.user.is_none() {
        return Err("--user is required".into());
    }
    let plan = args.media.plan()?;
    let start = Instant::now();
    let mut config = args.account.config(Some(&args.server), !args.no_register)?;
    config.register = !args.no_register;
    config.register_timeout = register_timeout(args.timeout);
    let (tap, mut responses) = recording_tap(start);
    config.tap = crate::logging::both(Some(tap), trace);
    let shown = args.server.clone();
    let client = SipClient::start(config)
        .await
        .map_err(|e| reason(&e, &shown))?;
    if let Some(r) = client.registered() {
        println!("registered {} as {}", r.aor, r.contact);
    }
    let user = args.account.user.as_deref().unwrap_or("voip");
    let media_config = plan.config(client.local_addr().ip(), user)?;
    let media = Arc::new(
        CallMedia::reserve(&media_config)
            .await
            .map_err(|e| e.to_string())?,
    );
    let spec = CallSpec {
        ring_timeout: args.ring_timeout.map(secs),
        ..CallSpec::new(&args.uri, media.local().clone())
    };
    let mut call = client
        .call(client.account(), spec)
        .await
        .map_err(|e| format!("cannot call {}: {e}", args.uri))?;
    let media_run = plan.start(&media, call.control(), "");
    let mut cancel_at = args
        .cancel_after
        .map(|s| tokio::time::Instant::now() + secs(s));
    let mut hangup_at: Option<tokio::time::Instant> = None;
    let mut answered = false;
    let ended = loop {
        let wake = [cancel_at, hangup_at].into_iter().flatten().min();
        tokio::select! {
            ev = call.next_event() => match ev {
                Some(CallEvent::Answered { .. }) => {
                    answered = true;
                    cancel_at = None;
                    println!("answered");
                    hangup_at = Some(tokio::time::Instant::now() + secs(args.duration));
                }
                Some(CallEvent::Media { negotiated, .. }) => {
                    println!("media: {negotiated}");
                    if let Err(e) = media.negotiated(&negotiated).await {
                        println!("media: not started: {e}");
                    }
                }
                Some(CallEvent::Dtmf { digit, .. }) => media.push_digit(digit),
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
                let now = tokio::time::Instant::now();
                if hangup_at.is_some_and(|t| t <= now) {
                    hangup_at = None;
                    call.hangup().await.map_err(|e| format!("hang up: {e}"))?;
                }
                if cancel_at.is_some_and(|t| t <= now) {
                    cancel_at = None;
                    call.cancel().await.map_err(|e| format!("cancel: {e}"))?;
                }
            }
        }
    };
    let stats = media.close().await;
    let digits = media_run.finish().await?;
    if stats.sent_packets + stats.received_packets > 0 {
        println!(
            "rtp: sent {} received {} lost {}",
            stats.sent_packets, stats.received_packets, stats.lost
        );
    }
    if !digits.is_empty() {
        println!("dtmf received: {digits}");
    }
    println!("ended: {}", describe(&ended));
    client.stop().await;
    let mut seen = Vec::new();
    while let Ok(r) = responses.try_recv() {
        seen.push(r);
    }
    let got = |status: u16, method: Method| seen.contains(&(status, method));
    match (args.expect, &ended) {
        (Expect::Answer, EndReason::LocalBye) if answered => Ok(()),
        (
            Expect::Busy,
            EndReason::Rejected {
                status: 486 | 600 | 603,
                ..
            },
        ) => Ok(()),
        (Expect::Cancel, EndReason::Cancelled | EndReason::NoAnswer)
            if got(200, Method::Cancel) && got(487, Method::Invite) =>
        {
            Ok(())
        }
        (expect, _) => Err(format!(
            "expected {expect:?}, but the call ended: {}",
            describe(&ended)
        )),
    }
}

/// How a call ended, for people.
fn describe(r: &EndReason) -> String {
    match r {
        EndReason::LocalBye => "we hung up".into(),
        EndReason::RemoteBye => "the other side hung up".into(),
        EndReason::Rejected { status, reason } => format!("refused: {status} {reason}"),
        EndReason::Cancelled => "cancelled".into(),
        EndReason::NoAnswer => "no answer (cancelled after the ring timeout)".into(),
        EndReason::Timeout => "no response to the INVITE".into(),
        EndReason::NoAck => "our 200 was never acknowledged".into(),
        EndReason::DialogGone { status } => format!("the dialog is gone ({status})"),
        EndReason::Transport => "the transport failed".into(),
        EndReason::Auth(e) => format!("cannot authenticate: {e}"),
        EndReason::NotAcceptable(e) => format!("no common media: {e}"),
        other => format!("{other:?}"),
    }
}
