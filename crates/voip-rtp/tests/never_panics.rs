//! Whatever arrives, the packet codecs and the session neither panic nor lose track:
//! RTP and RTCP round-trip, and any datagram fed to a session is read or dropped.

use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};
use proptest::prelude::*;
use voip_rtp::codec::Pcmu;
use voip_rtp::packet::{Extension, RtpPacket};
use voip_rtp::rtcp::parse_compound;
use voip_rtp::{Channel, MediaParams, RtpConfig, RtpInput, RtpSession};

fn packet() -> impl Strategy<Value = RtpPacket> {
    (
        any::<bool>(),
        0u8..128,
        any::<u16>(),
        any::<u32>(),
        any::<u32>(),
        prop::collection::vec(any::<u32>(), 0..16),
        prop::option::of((
            any::<u16>(),
            prop::collection::vec(any::<u8>(), 0..10).prop_map(|v| v.len() / 4 * 4),
        )),
        prop::collection::vec(any::<u8>(), 0..300),
        0u8..8,
    )
        .prop_map(
            |(marker, pt, seq, ts, ssrc, csrcs, ext, payload, padding)| {
                let mut p = RtpPacket::new(pt, seq, ts, ssrc, Bytes::from(payload));
                p.marker = marker;
                p.csrcs = csrcs;
                p.extension = ext.map(|(profile, len)| Extension {
                    profile,
                    data: Bytes::from(vec![7u8; len]),
                });
                p.padding = padding;
                p
            },
        )
        // Payload types 72-76 with the marker read as RTCP (RFC 5761), so are not RTP.
        .prop_filter("not RTCP-like", |p| {
            !(p.marker && (72..=76).contains(&p.payload_type))
        })
}

proptest! {
    #[test]
    fn rtp_round_trips(p in packet()) {
        let bytes = p.to_bytes();
        prop_assert_eq!(bytes.len(), p.len());
        let back = RtpPacket::parse(bytes.clone()).unwrap();
        prop_assert_eq!(&back, &p);
        let mut again = BytesMut::new();
        back.write(&mut again);
        prop_assert_eq!(again.freeze(), bytes);
    }

    #[test]
    fn any_bytes_parse_or_fail_cleanly(bytes in prop::collection::vec(any::<u8>(), 0..200)) {
        let bytes = Bytes::from(bytes);
        let _ = RtpPacket::parse(bytes.clone());
        let _ = parse_compound(&bytes);
    }

    #[test]
    fn a_session_takes_any_datagram(
        datagrams in prop::collection::vec((any::<bool>(), prop::collection::vec(any::<u8>(), 0..64)), 1..40),
        header in any::<[u8; 4]>(),
    ) {
        let now = Instant::now();
        let mut p = MediaParams::new(Some("127.0.0.1:5000".parse().unwrap()), 0, Box::new(Pcmu), Duration::from_millis(20));
        p.telephone_event = Some(101);
        let mut s = RtpSession::new(RtpConfig::fixed("x@y"), p, now);
        let from = "127.0.0.1:5000".parse().unwrap();
        for (i, (rtcp, mut body)) in datagrams.into_iter().enumerate() {
            // Half of them start like RTP or RTCP so they get past the first checks.
            if i % 2 == 0 {
                let mut start = vec![0x80 | (header[0] & 0x3F), header[1] & 0x7F | if i % 4 == 0 { 101 } else { 0 }];
                start.extend_from_slice(&header[2..]);
                start.append(&mut body);
                body = start;
            }
            let channel = if rtcp { Channel::Rtcp } else { Channel::Rtp };
            let at = now + Duration::from_millis(7 * i as u64);
            s.handle_input(RtpInput::Datagram { channel, from, bytes: Bytes::from(body) }, at);
            s.handle_timeout(at);
            while s.poll_output().is_some() {}
        }
        prop_assert!(s.poll_timeout().is_some());
    }
}
