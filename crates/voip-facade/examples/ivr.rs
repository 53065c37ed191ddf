//! A DTMF menu: answers, plays a prompt (a file, or a tone), then for each digit:
//! `1` plays a low tone, `2` a high one, `0` repeats the prompt, `#` hangs up.
//!
//! `cargo run -p voip-facade --example ivr -- --server pbx --user 100 [--prompt menu.wav]`

mod support;

use std::sync::Arc;
use std::time::Duration;

use voip_facade::VoipCall;
use voip_rtp::tone::sine;

async fn menu(call: VoipCall, prompt: Arc<Vec<i16>>) {
    println!("call from {}", call.remote_party());
    if call.answer().await.is_err() {
        return;
    }
    let _ = call.write_audio(&prompt).await;
    loop {
        // Hang up on a caller who says nothing for 30 s.
        let digit = match tokio::time::timeout(Duration::from_secs(30), call.next_dtmf()).await {
            Ok(Some(d)) => d,
            _ => break,
        };
        println!("{} pressed {digit}", call.remote_party());
        let answer = match digit {
            '1' => sine(440.0, -10.0, 8000, 0, 8000),
            '2' => sine(880.0, -10.0, 8000, 0, 8000),
            '0' => prompt.to_vec(),
            '#' => break,
            _ => sine(200.0, -10.0, 8000, 0, 2000),
        };
        if call.write_audio(&answer).await.is_err() {
            return;
        }
    }
    let _ = call.hangup().await;
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let setup = support::setup("ivr", "[--prompt FILE.wav]");
    let prompt = match setup.options.get("prompt") {
        Some(f) => match voip_facade::wav::read(f.as_ref()) {
            Ok(p) => p,
            Err(e) => {
                eprintln!("{e}");
                std::process::exit(1);
            }
        },
        // Three short beeps.
        None => (0..3)
            .flat_map(|_| [sine(660.0, -10.0, 8000, 0, 1200), vec![0; 1200]].concat())
            .collect(),
    };
    let prompt = Arc::new(prompt);
    let phone = setup.phone;
    if let Err(e) = phone.start().await {
        eprintln!("{e}");
        std::process::exit(1);
    }
    phone.on_call(move |call| menu(call, prompt.clone()));
    println!("menu ready; Ctrl-C to stop");
    let _ = tokio::signal::ctrl_c().await;
    phone.stop().await;
}
