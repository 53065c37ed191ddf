//! Plays a WAV file to every caller, then hangs up (an announcement board).
//!
//! `cargo run -p voip-facade --example announcement -- --server pbx --user 100 --file hello.wav`

mod support;

use voip_facade::VoipCall;

async fn announce(call: VoipCall, message: std::sync::Arc<Vec<i16>>) {
    println!("call from {}", call.remote_party());
    if call.answer().await.is_err() {
        return;
    }
    // The write returns once the last sample is queued; wait for it to be sent.
    if call.write_audio(&message).await.is_ok() {
        let _ = call.flush_audio().await;
    }
    let _ = call.hangup().await;
    println!(
        "call from {} ended: {:?}",
        call.remote_party(),
        call.wait_ended().await
    );
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let setup = support::setup("announcement", "--file FILE.wav");
    let Some(file) = setup.options.get("file") else {
        eprintln!("--file FILE.wav is required");
        std::process::exit(2);
    };
    let message = match voip_facade::wav::read(file.as_ref()) {
        Ok(m) => std::sync::Arc::new(m),
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(1);
        }
    };
    let phone = setup.phone;
    if let Err(e) = phone.start().await {
        eprintln!("{e}");
        std::process::exit(1);
    }
    println!(
        "announcing {file} ({} s) to every caller; Ctrl-C to stop",
        message.len() / 8000
    );
    loop {
        tokio::select! {
            call = phone.next_call() => match call {
                Some(call) => { tokio::spawn(announce(call, message.clone())); }
                None => break,
            },
            _ = tokio::signal::ctrl_c() => break,
        }
    }
    phone.stop().await;
}
