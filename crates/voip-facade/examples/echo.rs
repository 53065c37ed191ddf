//! Answers every call and sends back what it hears, until the caller hangs up.
//!
//! `cargo run -p voip-facade --example echo -- --server pbx --user 100`

mod support;

use voip_facade::VoipCall;

async fn echo(call: VoipCall) {
    println!("call from {}", call.remote_party());
    if call.answer().await.is_err() {
        return;
    }
    // 20 ms at a time: read what came, send it back.
    while let Ok(frame) = call.read_audio(160).await {
        if frame.len() < 160 || call.write_audio(&frame).await.is_err() {
            break;
        }
    }
    println!(
        "call from {} ended: {:?}",
        call.remote_party(),
        call.wait_ended().await
    );
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let phone = support::setup("echo", "").phone;
    if let Err(e) = phone.start().await {
        eprintln!("{e}");
        std::process::exit(1);
    }
    phone.on_call(echo);
    println!("echoing every call; Ctrl-C to stop");
    let _ = tokio::signal::ctrl_c().await;
    phone.stop().await;
}
