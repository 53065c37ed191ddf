//! Phones calling each other through the embedded registrar on loopback: a tone each
//! way (frequency and level measured from the samples received), DTMF both ways as
//! RFC 4733 events and as SIP INFO, over UDP, TCP and TLS.

mod common;

use std::time::Duration;

use common::{registrar, within};
use sip_message::TransportMode;
use sip_message::offer_answer::Codec;
use voip_facade::{CallState, Direction, EndReason, VoipCall};
use voip_rtp::tone::{measure, sine, trim_silence};

/// Plays `freq` for a second on `call` while reading 1.5 s of what comes back.
async fn exchange(call: &VoipCall, freq: f64, level: f64) -> Vec<i16> {
    let writer = {
        let call = call.clone();
        tokio::spawn(async move { call.write_audio(&sine(freq, level, 8000, 0, 8000)).await })
    };
    let heard = within("audio", 10, call.read_audio(12_000)).await.unwrap();
    writer.await.unwrap().unwrap();
    heard
}

fn assert_tone(heard: &[i16], freq: f64, level: f64) {
    let loud = trim_silence(heard, 300);
    assert!(loud.len() > 6000, "only {} samples of tone", loud.len());
    let m = measure(loud, 8000);
    assert!((m.freq_hz - freq).abs() < 5.0, "{freq} Hz heard as {m:?}");
    assert!(
        (m.level_dbfs - level).abs() < 1.0,
        "{level} dBFS heard as {m:?}"
    );
}

async fn a_call_with_audio_and_digits(mode: TransportMode, tag: &str) {
    let net = registrar(tag).await;
    let alice = net.phone("alice", mode).await;
    let bob = net.phone("bob", mode).await;

    let out = alice.call("bob").await.unwrap();
    assert_eq!(out.direction(), Direction::Outgoing);
    let incoming = within("bob's call", 10, bob.next_call()).await.unwrap();
    assert_eq!(incoming.state(), CallState::Ringing);
    assert!(
        incoming.remote_party().contains("alice"),
        "{}",
        incoming.remote_party()
    );
    incoming.ring().await.unwrap();
    within("180", 10, out.next_state(&CallState::Dialing)).await;
    assert_eq!(out.state(), CallState::Progress);
    incoming.answer().await.unwrap();
    within("answer", 10, out.wait_answered()).await.unwrap();
    assert_ne!(out.local_media().port, incoming.local_media().port);

    // A tone each way at the same time.
    let (heard_by_alice, heard_by_bob) = tokio::join!(
        exchange(&out, 440.0, -12.0),
        exchange(&incoming, 1000.0, -6.0)
    );
    assert_tone(&heard_by_alice, 1000.0, -6.0);
    assert_tone(&heard_by_bob, 440.0, -12.0);

    // DTMF both ways as RFC 4733 events.
    out.send_dtmf("1234#").await.unwrap();
    incoming.send_dtmf("*9").await.unwrap();
    let mut got_bob = String::new();
    while got_bob.len() < 5 {
        got_bob.push(
            within("digits at bob", 10, incoming.next_dtmf())
                .await
                .unwrap(),
        );
    }
    assert_eq!(got_bob, "1234#");
    let mut got_alice = String::new();
    while got_alice.len() < 2 {
        got_alice.push(
            within("digits at alice", 10, out.next_dtmf())
                .await
                .unwrap(),
        );
    }
    assert_eq!(got_alice, "*9");
    assert!(out.duration().is_some_and(|d| d > Duration::from_secs(1)));

    out.hangup().await.unwrap();
    assert_eq!(
        within("end", 10, out.wait_ended()).await,
        EndReason::LocalBye
    );
    assert_eq!(
        within("end", 10, incoming.wait_ended()).await,
        EndReason::RemoteBye
    );
    let stats = out.stats().await;
    assert!(
        stats.sent_packets > 100 && stats.received_packets > 100,
        "{stats:?}"
    );
    assert_eq!(stats.dtmf_sent, 5);
    assert_eq!(incoming.stats().await.dtmf_received, 5);
    alice.stop().await;
    bob.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_call_with_audio_and_digits_over_udp() {
    a_call_with_audio_and_digits(TransportMode::Udp, "udp").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_call_with_audio_and_digits_over_tcp() {
    a_call_with_audio_and_digits(TransportMode::Tcp, "tcp").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_call_with_audio_and_digits_over_tls() {
    a_call_with_audio_and_digits(TransportMode::Tls, "tls").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn digits_go_by_info_when_telephone_event_is_not_negotiated() {
    let net = registrar("info").await;
    let alice = net.phone("alice", TransportMode::Udp).await;
    let mut params = net.params("bob", TransportMode::Udp);
    params.codecs = vec![Codec::pcma()];
    let bob = voip_facade::VoipPhone::new(params);
    bob.start().await.unwrap();

    let out = alice.call("bob").await.unwrap();
    let incoming = within("bob's call", 10, bob.next_call()).await.unwrap();
    incoming.answer().await.unwrap();
    within("answer", 10, out.wait_answered()).await.unwrap();
    // PCMA was the one codec both take: a tone still crosses.
    let (heard, _) = tokio::join!(
        exchange(&incoming, 300.0, -20.0),
        exchange(&out, 700.0, -20.0)
    );
    assert_tone(&heard, 700.0, -20.0);
    out.send_dtmf("42").await.unwrap();
    incoming.send_dtmf("7").await.unwrap();
    let mut got = String::new();
    while got.len() < 2 {
        got.push(
            within("INFO digits", 10, incoming.next_dtmf())
                .await
                .unwrap(),
        );
    }
    assert_eq!(got, "42");
    assert_eq!(within("INFO digit", 10, out.next_dtmf()).await, Some('7'));
    assert_eq!(
        incoming.stats().await.dtmf_received,
        0,
        "none came as RFC 4733"
    );
    assert!(out.send_dtmf("1x").await.is_err());
    incoming.hangup().await.unwrap();
    assert_eq!(
        within("end", 10, out.wait_ended()).await,
        EndReason::RemoteBye
    );
    assert_eq!(out.next_dtmf().await, None);
}
