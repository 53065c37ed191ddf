//! TCP over loopback: connection reuse both ways, framing under arbitrary splits of a
//! real stream, keep-alives, bad input, slow and hostile peers.

mod common;

use common::*;
use proptest::prelude::*;
use sip_message::Message;
use sip_transport::{
    CloseReason, Destination, Transmit, TransportConfig, TransportEvent, TransportMode,
    reply_destination,
};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

fn tcp_to(t: &sip_transport::Transport) -> Destination {
    Destination::Addr {
        mode: TransportMode::Tcp,
        addr: addr(t, TransportMode::Tcp),
        tls_name: None,
    }
}

async fn reuse(bind: &str) {
    let (a, mut arx) = udp_tcp(bind).await;
    let (b, mut brx) = udp_tcp(bind).await;
    let first = a
        .send(Transmit {
            destination: tcp_to(&b),
            bytes: request(TransportMode::Tcp, "t1", 0),
            allow_tcp_upgrade: false,
        })
        .await
        .unwrap();
    let inc = next_message(&mut brx).await;
    assert_eq!(inc.mode, TransportMode::Tcp);
    let conn_b = inc
        .connection
        .expect("stream messages carry their connection");
    // The response goes back on the connection the request came on.
    let r = b
        .send(Transmit {
            destination: reply_destination(&inc),
            bytes: ok_for(&inc),
            allow_tcp_upgrade: false,
        })
        .await
        .unwrap();
    assert_eq!(r.connection, Some(conn_b));
    let resp = next_message(&mut arx).await;
    assert_eq!(resp.connection, first.connection);
    // A second request from A reuses its connection.
    let second = a
        .send(Transmit {
            destination: tcp_to(&b),
            bytes: request(TransportMode::Tcp, "t2", 0),
            allow_tcp_upgrade: false,
        })
        .await
        .unwrap();
    assert_eq!(second.connection, first.connection);
    assert_eq!(next_message(&mut brx).await.connection, Some(conn_b));
    // B's own request toward A's address goes on the connection A opened.
    let back = b
        .send(Transmit {
            destination: Destination::Addr {
                mode: TransportMode::Tcp,
                addr: inc.source,
                tls_name: None,
            },
            bytes: request(TransportMode::Tcp, "t3", 0),
            allow_tcp_upgrade: false,
        })
        .await
        .unwrap();
    assert_eq!(back.connection, Some(conn_b));
    let got = next_message(&mut arx).await;
    assert_eq!(got.message.call_id(), "t3@test");
    assert_eq!(got.connection, first.connection);
    assert_eq!(a.connection_count(), 1);
    assert_eq!(b.connection_count(), 1);
}

#[tokio::test]
async fn connection_reuse_both_ways_v4() {
    reuse(V4).await;
}

#[tokio::test]
async fn connection_reuse_both_ways_v6() {
    reuse(V6).await;
}

#[tokio::test]
async fn crlf_ping_gets_a_pong_and_pongs_are_reported() {
    let (b, mut brx) = udp_tcp(V4).await;
    let mut raw = TcpStream::connect(addr(&b, TransportMode::Tcp))
        .await
        .unwrap();
    raw.write_all(b"\r\n\r\n").await.unwrap();
    let mut pong = [0u8; 2];
    tokio::time::timeout(Duration::from_secs(5), raw.read_exact(&mut pong))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(&pong, b"\r\n");
    // Our ping, their pong.
    let id = match next_event(&mut brx, 5, |e| {
        matches!(e, TransportEvent::ConnectionOpened { .. })
    })
    .await
    {
        TransportEvent::ConnectionOpened { id, .. } => id,
        _ => unreachable!(),
    };
    b.ping(id).await.unwrap();
    let mut ping = [0u8; 4];
    raw.read_exact(&mut ping).await.unwrap();
    assert_eq!(&ping, b"\r\n\r\n");
    raw.write_all(b"\r\n").await.unwrap();
    next_event(
        &mut brx,
        5,
        |e| matches!(e, TransportEvent::Pong(c) if *c == id),
    )
    .await;
}

#[tokio::test]
async fn framing_errors_answer_400_and_close() {
    let (b, _brx) = udp_tcp(V4).await;
    let mut raw = TcpStream::connect(addr(&b, TransportMode::Tcp))
        .await
        .unwrap();
    // No Content-Length on a stream.
    raw.write_all(b"OPTIONS sip:b@h SIP/2.0\r\nVia: SIP/2.0/TCP h;branch=z9hG4bK1\r\nFrom: <sip:a@h>;tag=1\r\nTo: <sip:b@h>\r\nCall-ID: nocl\r\nCSeq: 1 OPTIONS\r\n\r\n")
        .await
        .unwrap();
    let mut got = Vec::new();
    tokio::time::timeout(Duration::from_secs(5), raw.read_to_end(&mut got))
        .await
        .unwrap()
        .unwrap();
    let resp = Message::parse(got).unwrap();
    assert_eq!(resp.as_response().unwrap().status().as_u16(), 400);
    assert_eq!(resp.call_id(), "nocl");
}

#[tokio::test]
async fn a_malformed_framed_message_is_answered_and_the_stream_goes_on() {
    let (b, mut brx) = udp_tcp(V4).await;
    let mut raw = TcpStream::connect(addr(&b, TransportMode::Tcp))
        .await
        .unwrap();
    raw.write_all(b"OPTIONS sip:b@h SIP/7.0\r\nVia: SIP/2.0/TCP h;branch=z9hG4bK1\r\nFrom: <sip:a@h>;tag=1\r\nTo: <sip:b@h>\r\nCall-ID: v7\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n")
        .await
        .unwrap();
    let mut buf = vec![0u8; 1024];
    let n = tokio::time::timeout(Duration::from_secs(5), raw.read(&mut buf))
        .await
        .unwrap()
        .unwrap();
    let resp = Message::parse(buf[..n].to_vec()).unwrap();
    assert_eq!(resp.as_response().unwrap().status().as_u16(), 505);
    raw.write_all(&request(TransportMode::Tcp, "next", 3))
        .await
        .unwrap();
    assert_eq!(next_message(&mut brx).await.message.call_id(), "next@test");
}

#[tokio::test]
async fn slow_peer_is_dropped_after_the_message_timeout() {
    let mut cfg = TransportConfig::udp_tcp(ip(V4), 0);
    cfg.message_timeout = Duration::from_millis(400);
    let (b, mut brx) = with_config(cfg).await;
    let mut raw = TcpStream::connect(addr(&b, TransportMode::Tcp))
        .await
        .unwrap();
    let msg = request(TransportMode::Tcp, "slow", 0);
    let started = tokio::time::Instant::now();
    // One byte every 100 ms: the message would take a minute; the connection must go
    // long before.
    for &byte in msg.iter() {
        if raw.write_all(&[byte]).await.is_err() {
            break;
        }
        let mut probe = [0u8; 1];
        match tokio::time::timeout(Duration::from_millis(100), raw.read(&mut probe)).await {
            Ok(Ok(0)) | Ok(Err(_)) => break,
            _ => {}
        }
        if started.elapsed() > Duration::from_secs(10) {
            panic!("slow peer not dropped");
        }
    }
    match next_event(&mut brx, 10, |e| {
        matches!(e, TransportEvent::ConnectionClosed { .. })
    })
    .await
    {
        TransportEvent::ConnectionClosed { reason, .. } => {
            assert_eq!(reason, CloseReason::MessageTimeout)
        }
        _ => unreachable!(),
    }
    assert!(started.elapsed() < Duration::from_secs(3));
    assert_eq!(b.connection_count(), 0);
}

#[tokio::test]
async fn a_70_kib_line_closes_the_connection() {
    let (b, mut brx) = udp_tcp(V4).await;
    let mut raw = TcpStream::connect(addr(&b, TransportMode::Tcp))
        .await
        .unwrap();
    let mut line = b"OPTIONS sip:b@h SIP/2.0\r\nX-Long: ".to_vec();
    line.extend(std::iter::repeat_n(b'a', 70 * 1024));
    let _ = raw.write_all(&line).await;
    match next_event(&mut brx, 10, |e| {
        matches!(e, TransportEvent::ConnectionClosed { .. })
    })
    .await
    {
        TransportEvent::ConnectionClosed { reason, .. } => {
            assert!(matches!(reason, CloseReason::Framing(_)), "{reason:?}")
        }
        _ => unreachable!(),
    }
    let mut rest = Vec::new();
    let r = tokio::time::timeout(Duration::from_secs(5), raw.read_to_end(&mut rest)).await;
    assert!(r.is_ok(), "the peer sees the connection close");
}

#[tokio::test]
async fn idle_connections_close() {
    let mut cfg = TransportConfig::udp_tcp(ip(V4), 0);
    cfg.idle_timeout = Duration::from_millis(300);
    let (b, mut brx) = with_config(cfg).await;
    let _raw = TcpStream::connect(addr(&b, TransportMode::Tcp))
        .await
        .unwrap();
    match next_event(&mut brx, 5, |e| {
        matches!(e, TransportEvent::ConnectionClosed { .. })
    })
    .await
    {
        TransportEvent::ConnectionClosed { reason, .. } => assert_eq!(reason, CloseReason::Idle),
        _ => unreachable!(),
    }
}

#[tokio::test]
async fn the_connection_limit_holds() {
    let mut cfg = TransportConfig::udp_tcp(ip(V4), 0);
    cfg.max_connections = 3;
    let (b, _brx) = with_config(cfg).await;
    let mut streams = Vec::new();
    for _ in 0..6 {
        streams.push(
            TcpStream::connect(addr(&b, TransportMode::Tcp))
                .await
                .unwrap(),
        );
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(b.connection_count(), 3);
}

/// Messages written to a real TCP stream in random pieces come out whole and in order.
fn split_case(cuts: Vec<usize>, keepalives: bool) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async move {
        let (b, mut brx) = udp_tcp(V4).await;
        let mut stream_bytes = Vec::new();
        let mut ids = Vec::new();
        for i in 0..4 {
            if keepalives {
                stream_bytes.extend_from_slice(b"\r\n\r\n");
            }
            let id = format!("s{i}");
            stream_bytes.extend_from_slice(&request(TransportMode::Tcp, &id, i * 37));
            ids.push(format!("{id}@test"));
        }
        let mut points: Vec<usize> = cuts
            .into_iter()
            .map(|c| c % (stream_bytes.len() + 1))
            .collect();
        points.push(stream_bytes.len());
        points.sort_unstable();
        let mut raw = TcpStream::connect(addr(&b, TransportMode::Tcp))
            .await
            .unwrap();
        raw.set_nodelay(true).unwrap();
        let mut at = 0;
        for p in points {
            raw.write_all(&stream_bytes[at..p]).await.unwrap();
            raw.flush().await.unwrap();
            at = p;
            tokio::task::yield_now().await;
        }
        for id in ids {
            let m = next_message(&mut brx).await;
            assert_eq!(m.message.call_id(), id);
        }
    });
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, failure_persistence: None, ..ProptestConfig::default() })]
    #[test]
    fn framing_under_arbitrary_splits(cuts in prop::collection::vec(any::<usize>(), 0..24), keepalives in any::<bool>()) {
        split_case(cuts, keepalives);
    }
}
