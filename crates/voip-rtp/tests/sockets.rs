//! Two sessions on real loopback sockets through the tokio driver: a tone and DTMF
//! cross, audio is read as it arrives, RTCP BYE ends the far side's view, and the
//! port allocator stays inside its range.

use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;

use voip_rtp::codec::Pcmu;
use voip_rtp::driver::{MediaEvent, spawn};
use voip_rtp::ports::{PortAllocator, PortError};
use voip_rtp::tone::{measure, sine, trim_silence};
use voip_rtp::{MediaParams, RtpConfig, RtpSession};

const LOOPBACK: IpAddr = IpAddr::V4(Ipv4Addr::LOCALHOST);

fn params(remote: std::net::SocketAddr) -> MediaParams {
    let mut p = MediaParams::new(Some(remote), 0, Box::new(Pcmu), Duration::from_millis(20));
    p.telephone_event = Some(101);
    p
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tone_and_digits_cross_loopback() {
    let ports = PortAllocator::new(LOOPBACK, 61_000..=61_099).unwrap();
    let a_sockets = ports.allocate().await.unwrap();
    let b_sockets = ports.allocate().await.unwrap();
    let (a_addr, b_addr) = (
        a_sockets.local_addr().unwrap(),
        b_sockets.local_addr().unwrap(),
    );
    assert!(a_addr.port() % 2 == 0 && (61_000..61_100).contains(&a_addr.port()));
    assert_ne!(a_addr, b_addr);
    let now = tokio::time::Instant::now().into_std();
    let a = RtpSession::new(RtpConfig::random("a@test"), params(b_addr), now);
    let b = RtpSession::new(RtpConfig::random("b@test"), params(a_addr), now);
    let (a, _a_events) = spawn(a, a_sockets).unwrap();
    let (b, mut b_events) = spawn(b, b_sockets).unwrap();

    // A plays a second of 1 kHz; B reads 1.5 s as it comes.
    let writer = {
        let a = a.clone();
        tokio::spawn(async move { a.write_audio(&sine(1000.0, -12.0, 8000, 0, 8000)).await })
    };
    let heard = tokio::time::timeout(Duration::from_secs(10), b.read_audio(12_000))
        .await
        .unwrap();
    writer.await.unwrap().unwrap();
    let m = measure(trim_silence(&heard, 200), 8000);
    assert!((m.freq_hz - 1000.0).abs() < 5.0, "{m:?}");
    assert!((m.level_dbfs + 12.0).abs() < 1.0, "{m:?}");

    a.send_dtmf("1234#").await.unwrap();
    let mut digits = String::new();
    while digits.len() < 5 {
        match tokio::time::timeout(Duration::from_secs(5), b_events.recv())
            .await
            .unwrap()
        {
            Some(MediaEvent::Dtmf(d)) => digits.push(d.digit),
            Some(_) => {}
            None => panic!("events ended"),
        }
    }
    assert_eq!(digits, "1234#");

    let a_stats = a.close().await.unwrap();
    assert!(a_stats.sent_packets >= 50, "{a_stats:?}");
    // B hears the RTCP BYE.
    loop {
        match tokio::time::timeout(Duration::from_secs(5), b_events.recv())
            .await
            .unwrap()
        {
            Some(MediaEvent::RemoteBye) => break,
            Some(_) => {}
            None => panic!("events ended"),
        }
    }
    let b_stats = b.close().await.unwrap();
    assert!(
        b_stats.received_packets >= 50 && b_stats.lost == 0,
        "{b_stats:?}"
    );
    assert_eq!(b_stats.dtmf_received, 5);
    // A closed session reads nothing more and refuses work.
    assert!(a.read_audio(160).await.len() <= 160);
    assert!(a.send_dtmf("1").await.is_err());
}

#[tokio::test]
async fn ports_run_out_cleanly_and_come_back() {
    let ports = PortAllocator::new(LOOPBACK, 61_201..=61_206).unwrap();
    assert_eq!(ports.capacity(), 2);
    let one = ports.allocate().await.unwrap();
    let two = ports.allocate().await.unwrap();
    let mut got = [
        one.local_addr().unwrap().port(),
        two.local_addr().unwrap().port(),
    ];
    got.sort();
    assert_eq!(got, [61_202, 61_204]);
    assert!(matches!(
        ports.allocate().await,
        Err(PortError::NoPortsAvailable { .. })
    ));
    drop(one);
    assert!(ports.allocate().await.is_ok());
    assert!(matches!(
        PortAllocator::new(LOOPBACK, 61_301..=61_301),
        Err(PortError::EmptyRange { .. })
    ));
}
