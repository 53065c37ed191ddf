//! What a phone does in a call besides talking: hold and unhold stop and resume the
//! media, a blind transfer moves the caller to a third phone with its audio, five
//! calls at once each keep their own ports and sound, and the bounds hold.

mod common;

use std::time::Duration;

use common::{registrar, within};
use sip_message::TransportMode;
use voip_facade::{CallState, EndReason, PhoneEvent, VoipCall};
use voip_rtp::tone::{measure, sine, trim_silence};

/// Answers the next call of `phone` and returns it.
async fn answer_next(phone: &voip_facade::VoipPhone) -> VoipCall {
    let call = within("incoming call", 10, phone.next_call())
        .await
        .unwrap();
    call.answer().await.unwrap();
    call
}

/// Received packets so far, as the media counts them.
async fn received(call: &VoipCall) -> u64 {
    call.stats().await.received_packets
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hold_stops_the_media_and_unhold_resumes_it() {
    let net = registrar("hold").await;
    let alice = net.phone("alice", TransportMode::Udp).await;
    let bob = net.phone("bob", TransportMode::Udp).await;
    let out = alice.call("bob").await.unwrap();
    let incoming = answer_next(&bob).await;
    within("answer", 10, out.wait_answered()).await.unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(received(&out).await > 5, "media flows before the hold");

    out.hold().await.unwrap();
    // Wait for the re-INVITE to settle, then nothing more reaches alice from bob
    // (bob is recvonly) while alice's packets still reach bob (sendonly).
    tokio::time::sleep(Duration::from_millis(300)).await;
    let (a0, b0) = (received(&out).await, received(&incoming).await);
    tokio::time::sleep(Duration::from_millis(500)).await;
    let (a1, b1) = (received(&out).await, received(&incoming).await);
    assert!(a1 - a0 <= 1, "alice heard {} packets on hold", a1 - a0);
    assert!(b1 - b0 >= 20, "bob still hears alice: {}", b1 - b0);

    out.unhold().await.unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let a2 = received(&out).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(received(&out).await - a2 >= 20, "media resumed");
    // And a tone crosses again.
    let writer = {
        let incoming = incoming.clone();
        tokio::spawn(async move {
            incoming
                .write_audio(&sine(600.0, -10.0, 8000, 0, 4000))
                .await
        })
    };
    let heard = within("tone", 10, out.read_audio(16_000)).await.unwrap();
    writer.await.unwrap().unwrap();
    let m = measure(trim_silence(&heard, 300), 8000);
    assert!((m.freq_hz - 600.0).abs() < 5.0, "{m:?}");
    out.hangup().await.unwrap();
    within("end", 10, incoming.wait_ended()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_blind_transfer_moves_the_caller_with_its_audio() {
    let net = registrar("transfer").await;
    let alice = net.phone("alice", TransportMode::Udp).await;
    let bob = net.phone("bob", TransportMode::Udp).await;
    let carol = net.phone("carol", TransportMode::Udp).await;
    let out = alice.call("bob").await.unwrap();
    let at_bob = answer_next(&bob).await;
    within("answer", 10, out.wait_answered()).await.unwrap();

    // Bob transfers alice to carol; carol answers the call alice places.
    let transfer = {
        let at_bob = at_bob.clone();
        tokio::spawn(async move { at_bob.transfer("sip:carol@phones.test").await })
    };
    let at_carol = answer_next(&carol).await;
    assert!(at_carol.remote_party().contains("alice"));
    within("transfer outcome", 10, transfer)
        .await
        .unwrap()
        .unwrap();
    let to_carol = loop {
        match within("transferred call", 10, alice.next_event()).await {
            Some(PhoneEvent::Transferred { call }) => break call,
            Some(_) => continue,
            None => panic!("phone events ended"),
        }
    };
    within("answered", 10, to_carol.wait_answered())
        .await
        .unwrap();
    at_bob.hangup().await.unwrap();
    assert_eq!(
        within("old call ends", 10, out.wait_ended()).await,
        EndReason::RemoteBye
    );

    let writer = {
        let at_carol = at_carol.clone();
        tokio::spawn(async move {
            at_carol
                .write_audio(&sine(880.0, -8.0, 8000, 0, 8000))
                .await
        })
    };
    let heard = within("tone", 10, to_carol.read_audio(12_000))
        .await
        .unwrap();
    writer.await.unwrap().unwrap();
    let m = measure(trim_silence(&heard, 300), 8000);
    assert!(
        (m.freq_hz - 880.0).abs() < 5.0 && (m.level_dbfs + 8.0).abs() < 1.0,
        "{m:?}"
    );
    to_carol.hangup().await.unwrap();
    within("end", 10, at_carol.wait_ended()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn five_calls_at_once_each_with_its_own_sound() {
    let net = registrar("five").await;
    let alice = net.phone("alice", TransportMode::Udp).await;
    let bob = net.phone("bob", TransportMode::Udp).await;
    let mut outs = Vec::new();
    for _ in 0..5 {
        outs.push(alice.call("bob").await.unwrap());
    }
    let mut ins = Vec::new();
    for _ in 0..5 {
        ins.push(answer_next(&bob).await);
    }
    for out in &outs {
        within("answer", 10, out.wait_answered()).await.unwrap();
    }
    let mut ports: Vec<u16> = outs
        .iter()
        .chain(&ins)
        .map(|c| c.local_media().port)
        .collect();
    ports.sort();
    ports.dedup();
    assert_eq!(ports.len(), 10, "every call its own RTP port");

    // Bob's n-th call plays 400 + 200·n Hz; alice must hear each on the matching
    // call. Which outgoing call is which incoming one follows from the remote
    // ports: match them by what each hears.
    let mut writers = Vec::new();
    for (n, call) in ins.iter().enumerate() {
        let call = call.clone();
        let freq = 400.0 + 200.0 * n as f64;
        writers.push(tokio::spawn(async move {
            call.write_audio(&sine(freq, -10.0, 8000, 0, 8000)).await
        }));
    }
    let mut heard = Vec::new();
    for out in &outs {
        let samples = within("tone", 15, out.read_audio(12_000)).await.unwrap();
        heard.push(measure(trim_silence(&samples, 300), 8000).freq_hz);
    }
    for w in writers {
        w.await.unwrap().unwrap();
    }
    heard.sort_by(f64::total_cmp);
    for (n, f) in heard.iter().enumerate() {
        let want = 400.0 + 200.0 * n as f64;
        assert!((f - want).abs() < 5.0, "heard {heard:?}");
    }
    for out in &outs {
        out.hangup().await.unwrap();
    }
    for call in &ins {
        assert_eq!(
            within("end", 10, call.wait_ended()).await,
            EndReason::RemoteBye
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_caller_that_gives_up_and_a_denied_call() {
    let net = registrar("deny").await;
    let alice = net.phone("alice", TransportMode::Udp).await;
    let bob = net.phone("bob", TransportMode::Udp).await;
    let out = alice.call("bob").await.unwrap();
    let incoming = within("incoming", 10, bob.next_call()).await.unwrap();
    assert!(
        incoming.send_dtmf("1").await.is_err(),
        "no DTMF before the answer"
    );
    incoming.ring().await.unwrap();
    within("180", 10, out.next_state(&CallState::Dialing)).await;
    out.cancel().await.unwrap();
    assert_eq!(
        within("cancelled", 10, out.wait_ended()).await,
        EndReason::Cancelled
    );
    assert_eq!(
        within("cancelled", 10, incoming.wait_ended()).await,
        EndReason::CancelledByPeer
    );
    assert!(incoming.answer().await.is_err());

    let out = alice.call("bob").await.unwrap();
    let incoming = within("incoming", 10, bob.next_call()).await.unwrap();
    incoming.deny().await.unwrap();
    match within("busy", 10, out.wait_ended()).await {
        EndReason::Rejected { status: 486, .. } => {}
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        out.write_audio(&[0; 160]).await,
        Err(voip_facade::PhoneError::CallEnded(_))
    ));
}
