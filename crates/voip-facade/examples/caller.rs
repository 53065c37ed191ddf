//! Calls a number, plays a WAV file once answered, and hangs up.
//!
//! `cargo run -p voip-facade --example caller -- --server pbx --user 100 --to 200 --file hello.wav`

mod support;

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let setup = support::setup("caller", "--to NUMBER|URI --file FILE.wav");
    let (Some(to), Some(file)) = (setup.options.get("to"), setup.options.get("file")) else {
        eprintln!("--to and --file are required");
        std::process::exit(2);
    };
    let audio = match voip_facade::wav::read(file.as_ref()) {
        Ok(a) => a,
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
    let result = async {
        let call = phone.call(to).await?;
        println!("calling {}", call.remote_party());
        call.wait_answered().await?;
        println!("answered; playing {file}");
        call.write_audio(&audio).await?;
        // What is queued (up to 2 s) still has to go out.
        call.flush_audio().await?;
        call.hangup().await?;
        println!("ended: {:?}", call.wait_ended().await);
        Ok::<(), voip_facade::PhoneError>(())
    }
    .await;
    phone.stop().await;
    if let Err(e) = result {
        eprintln!("{e}");
        std::process::exit(1);
    }
}
