//! The phone itself: its status through start, failure and stop; messages; the
//! blocking forms of the audio calls from a plain thread; pyVoIP's 8-bit format.

mod common;

use std::time::Duration;

use common::{registrar, within};
use sip_message::TransportMode;
use voip_facade::{PhoneEvent, PhoneStatus, VoipPhone};
use voip_rtp::tone::{measure, sine, trim_silence};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn status_follows_start_failure_and_stop() {
    let net = registrar("status").await;
    let phone = VoipPhone::new(net.params("alice", TransportMode::Udp));
    assert!(matches!(phone.status(), PhoneStatus::Inactive));
    assert!(phone.call("bob").await.is_err(), "no calls before start");
    phone.start().await.unwrap();
    assert!(matches!(phone.status(), PhoneStatus::Registered));
    assert!(phone.local_addr().is_some());
    phone.stop().await;
    assert!(matches!(phone.status(), PhoneStatus::Inactive));

    let mut wrong = net.params("bob", TransportMode::Udp);
    wrong.credentials = sip_auth::CredentialsManager::new();
    wrong
        .credentials
        .add("bob", "not-the-password", Some("127.0.0.1"), None, None);
    let phone = VoipPhone::new(wrong);
    let err = phone.start().await.unwrap_err();
    assert!(err.to_string().contains("could not start"), "{err}");
    match phone.status() {
        PhoneStatus::Failed(reason) => assert!(!reason.to_string().is_empty()),
        other => panic!("{other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_message_arrives_as_an_event() {
    let net = registrar("message").await;
    let alice = net.phone("alice", TransportMode::Udp).await;
    let bob = net.phone("bob", TransportMode::Tcp).await;
    alice.message("bob", "lunch at noon?").await.unwrap();
    loop {
        match within("message", 10, bob.next_event()).await {
            Some(PhoneEvent::Message {
                from,
                content_type,
                body,
            }) => {
                assert_eq!(from, "sip:alice@phones.test");
                assert_eq!(content_type.as_deref(), Some("text/plain"));
                assert_eq!(&body[..], b"lunch at noon?");
                break;
            }
            Some(_) => continue,
            None => panic!("events ended"),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn blocking_audio_from_plain_threads_and_the_8_bit_format() {
    let net = registrar("blocking").await;
    let alice = net.phone("alice", TransportMode::Udp).await;
    let bob = net.phone("bob", TransportMode::Udp).await;
    let out = alice.call("bob").await.unwrap();
    let incoming = within("incoming", 10, bob.next_call()).await.unwrap();
    incoming.answer().await.unwrap();
    within("answer", 10, out.wait_answered()).await.unwrap();

    // Plain threads, as a pyVoIP program would use: one writes, one reads.
    let writer = {
        let call = incoming.clone();
        std::thread::spawn(move || call.write_audio_blocking(&sine(500.0, -10.0, 8000, 0, 8000)))
    };
    let reader = {
        let call = out.clone();
        std::thread::spawn(move || call.read_audio_blocking(12_000))
    };
    let heard = tokio::task::spawn_blocking(move || reader.join().unwrap())
        .await
        .unwrap()
        .unwrap();
    tokio::task::spawn_blocking(move || writer.join().unwrap())
        .await
        .unwrap()
        .unwrap();
    let m = measure(trim_silence(&heard, 300), 8000);
    assert!(
        (m.freq_hz - 500.0).abs() < 5.0 && (m.level_dbfs + 10.0).abs() < 1.0,
        "{m:?}"
    );

    // 8-bit unsigned (silence is 128) both ways. What bob's side received and nobody
    // read yet (up to 2 s of silence) goes first.
    incoming.try_read_audio(16_000);
    let tone8: Vec<u8> = sine(300.0, -6.0, 8000, 0, 8000)
        .iter()
        .map(|s| ((s >> 8) + 128) as u8)
        .collect();
    let w = {
        let call = out.clone();
        tokio::spawn(async move { call.write_audio_u8(&tone8).await })
    };
    let heard8 = within("8-bit audio", 10, incoming.read_audio_u8(12_000))
        .await
        .unwrap();
    w.await.unwrap().unwrap();
    let as16: Vec<i16> = heard8.iter().map(|b| (i16::from(*b) - 128) << 8).collect();
    let m = measure(trim_silence(&as16, 600), 8000);
    assert!(
        (m.freq_hz - 300.0).abs() < 5.0 && (m.level_dbfs + 6.0).abs() < 1.0,
        "{m:?}"
    );
    assert!(incoming.try_read_audio(160).len() == 160);
    out.hangup().await.unwrap();
    within("end", 10, incoming.wait_ended()).await;
    assert!(
        incoming
            .duration()
            .is_some_and(|d| d > Duration::from_millis(500))
    );
}
