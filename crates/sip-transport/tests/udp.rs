//! UDP over loopback, IPv4 and IPv6: requests, responses to `rport`, bad datagrams,
//! STUN, and the switch of large requests to TCP.

mod common;

use common::*;
use sip_message::Message;
use sip_transport::{Destination, Transmit, TransportEvent, TransportMode, reply_destination};
use std::time::Duration;
use tokio::net::UdpSocket;

async fn round_trip(bind: &str) {
    let (a, mut arx) = udp_tcp(bind).await;
    let (b, mut brx) = udp_tcp(bind).await;
    let sent = a
        .send(Transmit {
            destination: Destination::Addr {
                mode: TransportMode::Udp,
                addr: addr(&b, TransportMode::Udp),
                tls_name: None,
            },
            bytes: request(TransportMode::Udp, "u1", 0),
            allow_tcp_upgrade: true,
        })
        .await
        .unwrap();
    assert_eq!(sent.mode, TransportMode::Udp);
    let inc = next_message(&mut brx).await;
    assert_eq!(inc.mode, TransportMode::Udp);
    assert_eq!(inc.source, addr(&a, TransportMode::Udp));
    assert_eq!(inc.connection, None);
    assert_eq!(inc.message.call_id(), "u1@test");
    // The Via says port 5060 but has rport: the answer goes to the source port.
    b.send(Transmit {
        destination: reply_destination(&inc),
        bytes: ok_for(&inc),
        allow_tcp_upgrade: false,
    })
    .await
    .unwrap();
    let resp = next_message(&mut arx).await;
    assert_eq!(resp.message.as_response().unwrap().status().as_u16(), 200);
}

#[tokio::test]
async fn ipv4_round_trip() {
    round_trip(V4).await;
}

#[tokio::test]
async fn ipv6_round_trip() {
    round_trip(V6).await;
}

#[tokio::test]
async fn bad_datagrams_get_400_responses_are_dropped() {
    let (b, mut brx) = udp_tcp(V4).await;
    let peer = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let target = addr(&b, TransportMode::Udp);
    let bad = b"INVITE sip:bob@sip.test SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1;branch=z9hG4bKbad;rport\r\nFrom: <sip:a@h>;tag=1\r\nTo: <sip:b@h>\r\nCall-ID: bad1\r\nCSeq: 1 INVITE\r\nContent-Length: -5\r\n\r\n";
    peer.send_to(bad, target).await.unwrap();
    let mut buf = vec![0u8; 2048];
    let (n, _) = tokio::time::timeout(Duration::from_secs(5), peer.recv_from(&mut buf))
        .await
        .unwrap()
        .unwrap();
    let resp = Message::parse(buf[..n].to_vec()).unwrap();
    assert_eq!(resp.as_response().unwrap().status().as_u16(), 400);
    assert_eq!(resp.call_id(), "bad1");
    // An oversized request: 513.
    let mut big = b"MESSAGE sip:bob@sip.test SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1;branch=z9hG4bKbig;rport\r\nFrom: <sip:a@h>;tag=1\r\nTo: <sip:b@h>\r\nCall-ID: big1\r\nCSeq: 1 MESSAGE\r\nX-Pad: ".to_vec();
    big.extend(std::iter::repeat_n(b'a', 20_000));
    big.extend_from_slice(b"\r\nContent-Length: 0\r\n\r\n");
    peer.send_to(&big, target).await.unwrap();
    let (n, _) = tokio::time::timeout(Duration::from_secs(5), peer.recv_from(&mut buf))
        .await
        .unwrap()
        .unwrap();
    let resp = Message::parse(buf[..n].to_vec()).unwrap();
    assert_eq!(resp.as_response().unwrap().status().as_u16(), 513);
    // A malformed response is dropped: nothing comes back, nothing is handed up.
    peer.send_to(
        b"SIP/2.0 99 Nope\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\n\r\n",
        target,
    )
    .await
    .unwrap();
    assert!(
        tokio::time::timeout(Duration::from_millis(300), peer.recv_from(&mut buf))
            .await
            .is_err()
    );
    // Keep-alive CRLFs and garbage are ignored, and the socket keeps working.
    peer.send_to(b"\r\n\r\n", target).await.unwrap();
    peer.send_to(b"", target).await.unwrap();
    peer.send_to(&request(TransportMode::Udp, "after", 0), target)
        .await
        .unwrap();
    assert_eq!(next_message(&mut brx).await.message.call_id(), "after@test");
}

#[tokio::test]
async fn stun_binding_on_the_sip_port() {
    let (b, mut brx) = udp_tcp(V4).await;
    let peer = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let req = sip_nat::stun::StunMessage::binding_request([5; 12]).encode(None, true);
    peer.send_to(&req, addr(&b, TransportMode::Udp))
        .await
        .unwrap();
    let mut buf = vec![0u8; 512];
    let (n, _) = tokio::time::timeout(Duration::from_secs(5), peer.recv_from(&mut buf))
        .await
        .unwrap()
        .unwrap();
    let resp = sip_nat::stun::StunMessage::decode(&buf[..n]).unwrap();
    assert_eq!(resp.mapped_address(), Some(peer.local_addr().unwrap()));
    // A STUN response arriving is handed up (keep-alive answers).
    let answer =
        sip_nat::stun::StunMessage::binding_response([6; 12], "203.0.113.5:4000".parse().unwrap())
            .encode(None, true);
    peer.send_to(&answer, addr(&b, TransportMode::Udp))
        .await
        .unwrap();
    match next_event(&mut brx, 5, |e| matches!(e, TransportEvent::Stun { .. })).await {
        TransportEvent::Stun { message, .. } => {
            assert_eq!(
                message.mapped_address(),
                Some("203.0.113.5:4000".parse().unwrap())
            )
        }
        _ => unreachable!(),
    }
}

/// RFC 3261 §18.1.1: a request over 1300 bytes goes over TCP when the target allows,
/// with its top Via rewritten; not when the target insists on UDP.
#[tokio::test]
async fn large_requests_move_to_tcp() {
    let (a, _arx) = udp_tcp(V4).await;
    let (b, mut brx) = udp_tcp(V4).await;
    let to = Destination::Addr {
        mode: TransportMode::Udp,
        addr: addr(&b, TransportMode::Udp),
        tls_name: None,
    };
    let sent = a
        .send(Transmit {
            destination: to.clone(),
            bytes: request(TransportMode::Udp, "big", 1400),
            allow_tcp_upgrade: true,
        })
        .await
        .unwrap();
    assert_eq!(sent.mode, TransportMode::Tcp);
    let inc = next_message(&mut brx).await;
    assert_eq!(inc.mode, TransportMode::Tcp);
    assert_eq!(inc.message.top_via().transport(), "TCP");
    assert_eq!(inc.message.body().len(), 1400);
    // Small requests stay on UDP; large ones stay when the target forbids TCP.
    let sent = a
        .send(Transmit {
            destination: to.clone(),
            bytes: request(TransportMode::Udp, "big2", 1400),
            allow_tcp_upgrade: false,
        })
        .await
        .unwrap();
    assert_eq!(sent.mode, TransportMode::Udp);
    let inc = next_message(&mut brx).await;
    assert_eq!(inc.mode, TransportMode::Udp);
    assert_eq!(inc.message.top_via().transport(), "UDP");
}

#[tokio::test]
async fn hosts_resolve_through_the_resolver() {
    let (a, _arx) = udp_tcp(V4).await;
    let (b, mut brx) = udp_tcp(V4).await;
    a.send(Transmit {
        destination: Destination::Host {
            mode: TransportMode::Udp,
            host: "sip.test".into(),
            port: addr(&b, TransportMode::Udp).port(),
            tls_name: None,
        },
        bytes: request(TransportMode::Udp, "named", 0),
        allow_tcp_upgrade: true,
    })
    .await
    .unwrap();
    assert_eq!(next_message(&mut brx).await.message.call_id(), "named@test");
    let e = a
        .send(Transmit {
            destination: Destination::Host {
                mode: TransportMode::Udp,
                host: "nowhere.test".into(),
                port: 5060,
                tls_name: None,
            },
            bytes: request(TransportMode::Udp, "x", 0),
            allow_tcp_upgrade: true,
        })
        .await
        .unwrap_err();
    assert!(e.to_string().contains("nowhere.test"));
}

/// Bound to 0.0.0.0 with no host name, the address advertised toward a peer is the
/// local address of the route to it, never 0.0.0.0 (unlike pyVoIP).
#[tokio::test]
async fn unspecified_bind_advertises_the_route_address() {
    let (t, _rx) = udp_tcp("0.0.0.0").await;
    let policy = sip_nat::NatPolicy::new(ip("0.0.0.0"), "0.0.0.0/0".parse().unwrap());
    assert_eq!(policy.get_host(ip("127.0.0.1"), &t).unwrap(), "127.0.0.1");
    let (t6, _rx6) = udp_tcp("::").await;
    let policy6 = sip_nat::NatPolicy::new(ip("::"), "::/0".parse().unwrap());
    assert_eq!(policy6.get_host(ip("::1"), &t6).unwrap(), "::1");
}
