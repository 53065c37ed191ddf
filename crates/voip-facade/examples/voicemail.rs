//! Answers every call with a beep and records the caller to `voicemail-N.wav` until
//! they hang up (at most 2 minutes).
//!
//! `cargo run -p voip-facade --example voicemail -- --server pbx --user 100 [--dir DIR]`

mod support;

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

use voip_facade::VoipCall;
use voip_rtp::tone::sine;

/// The longest message kept, samples (2 minutes at 8 kHz).
const LIMIT: usize = 8000 * 120;

async fn record(call: VoipCall, path: PathBuf) {
    println!("call from {}", call.remote_party());
    if call.answer().await.is_err() {
        return;
    }
    let _ = call.write_audio(&sine(1000.0, -12.0, 8000, 0, 2400)).await;
    let mut message = Vec::new();
    while message.len() < LIMIT {
        match call.read_audio(1600).await {
            Ok(chunk) if !chunk.is_empty() => {
                let done = chunk.len() < 1600;
                message.extend(chunk);
                if done {
                    break;
                }
            }
            _ => break,
        }
    }
    let _ = call.hangup().await;
    match voip_facade::wav::write(&path, &message) {
        Ok(()) => println!(
            "{}: {:.1} s from {}",
            path.display(),
            message.len() as f64 / 8000.0,
            call.remote_party()
        ),
        Err(e) => eprintln!("{e}"),
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let setup = support::setup("voicemail", "[--dir DIR]");
    let dir = PathBuf::from(
        setup
            .options
            .get("dir")
            .cloned()
            .unwrap_or_else(|| ".".into()),
    );
    let phone = setup.phone;
    if let Err(e) = phone.start().await {
        eprintln!("{e}");
        std::process::exit(1);
    }
    let count = Arc::new(AtomicU32::new(0));
    phone.on_call(move |call| {
        let n = count.fetch_add(1, Ordering::Relaxed) + 1;
        record(call, dir.join(format!("voicemail-{n}.wav")))
    });
    println!("taking messages; Ctrl-C to stop");
    let _ = tokio::signal::ctrl_c().await;
    phone.stop().await;
}
