//! SDP offer/answer (RFC 3264) against the RFC 4317 examples in
//! tests/data/rfc4317 (see its README.md): every body parses, our answers to the
//! RFC's offers follow RFC 3264 §6, directions are mirrored and narrowed, answers to
//! Alice's offers are read as she would, and our own offers round-trip.

use std::net::{IpAddr, SocketAddr};

use sip_message::offer_answer::{
    Codec, LocalMedia, Negotiated, OfferAnswerError, accept_answer, answer, can_answer, offer,
};
use sip_message::sdp::Direction::{self, Inactive, RecvOnly, SendOnly, SendRecv};
use sip_message::sdp::{MediaDescription, SessionDescription};

/// The text of one RFC 4317 body, e.g. `text!("2.1-offer")`.
macro_rules! text {
    ($name:literal) => {
        include_str!(concat!("data/rfc4317/", $name, ".sdp"))
    };
}

/// One RFC 4317 body, parsed.
macro_rules! sdp {
    ($name:literal) => {
        parse(text!($name))
    };
}

/// Alice's (or Bob's) reading of one RFC exchange: `accepted!(offer, answer, local)`.
macro_rules! accepted {
    ($offer:literal, $answer:literal, $local:expr) => {
        accept_answer(&sdp!($offer), &sdp!($answer), $local).unwrap()
    };
}

/// Every body, by name.
macro_rules! all {
    ($($name:literal)*) => {
        [$(($name, text!($name))),*]
    };
}

const ALL: [(&str, &str); 54] = all!(
    "2.1-offer" "2.1-answer" "2.2-offer1" "2.2-answer1" "2.2-offer2" "2.2-answer2"
    "2.3-offer" "2.3-answer" "2.4-offer" "2.4-answer" "2.5-offer1" "2.5-answer1"
    "2.5-offer2" "2.5-answer2" "2.6-offer" "2.6-answer" "2.7-offer1" "2.7-answer1"
    "2.7-offer2" "2.7-answer2" "2.8-offer" "2.8-answer" "3.1-offer1" "3.1-answer1"
    "3.1-offer2" "3.1-answer2" "3.2-offer1" "3.2-answer1" "3.2-offer2" "3.2-answer2"
    "4.1-offer1" "4.1-answer1" "4.1-offer2" "4.1-answer2" "4.2-offer1" "4.2-answer1"
    "4.2-offer2" "4.2-answer2" "4.3-offer1" "4.3-answer1" "4.3-offer2" "4.3-answer2"
    "5.1-offer1" "5.1-answer1" "5.1-offer2" "5.1-answer2" "5.2-offer1" "5.2-answer1"
    "5.2-offer2" "5.2-answer2" "5.3-offer1" "5.3-answer1" "5.3-offer2" "5.3-answer2"
);

const NO_CODEC: OfferAnswerError = OfferAnswerError::NoCommonCodec;

fn parse(text: &str) -> SessionDescription {
    SessionDescription::parse(text).unwrap_or_else(|e| panic!("{e}\n{text}"))
}

/// `text` with one more line at the end.
fn with_line(text: &str, line: &str) -> SessionDescription {
    parse(&format!("{}\n{line}\n", text.trim_end()))
}

fn ilbc(pt: u8) -> Codec {
    Codec::new(pt, "iLBC", 8000)
}

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

fn addr(s: &str) -> Option<SocketAddr> {
    Some(s.parse().unwrap())
}

/// Us, answering the RFC's offers: PCMU, PCMA, telephone-event 101 at 192.0.2.5:49170.
fn us() -> LocalMedia {
    LocalMedia::new(ip("192.0.2.5"), 49170)
}

fn us_with(codecs: Vec<Codec>) -> LocalMedia {
    LocalMedia { codecs, ..us() }
}

fn facing(direction: Direction, local: &LocalMedia) -> LocalMedia {
    LocalMedia {
        direction,
        ..local.clone()
    }
}

/// Our answer (the o= numbers are the caller's business).
fn answered(local: &LocalMedia, offer: &SessionDescription) -> (SessionDescription, Negotiated) {
    answer(local, offer, 7, 1).unwrap()
}

fn refused(local: &LocalMedia, offer: &SessionDescription) -> OfferAnswerError {
    answer(local, offer, 7, 1).unwrap_err()
}

/// Alice as in most of RFC 4317: PCMU 0, PCMA 8, iLBC 97, at her (IP) address.
fn alice() -> LocalMedia {
    LocalMedia {
        codecs: vec![Codec::pcmu(), Codec::pcma(), ilbc(97)],
        ..LocalMedia::new(ip("192.0.2.101"), 49170)
    }
}

/// Bob when he is the offerer (3.1, 3.2, 4.1, 4.3): iLBC 97 and telephone-event 98.
fn bob() -> LocalMedia {
    LocalMedia {
        codecs: vec![ilbc(97), Codec::telephone_event(98)],
        ..LocalMedia::new(ip("192.0.2.201"), 49172)
    }
}

fn formats(m: &MediaDescription) -> Vec<&str> {
    m.formats.iter().map(String::as_str).collect()
}

/// Port and formats of an m-line.
fn line(m: &MediaDescription) -> (u16, Vec<&str>) {
    (m.port, formats(m))
}

fn rtpmap(m: &MediaDescription, pt: u8) -> Option<String> {
    m.rtpmap(pt).map(|r| r.to_string())
}

/// Codec, payload type, telephone-event payload type and direction.
fn summary(n: &Negotiated) -> (&str, u8, Option<u8>, Direction) {
    let c = &n.codec;
    (&c.encoding, c.payload_type, n.telephone_event, n.direction)
}

fn codec(n: &Negotiated) -> (&str, u8) {
    (&n.codec.encoding, n.codec.payload_type)
}

fn sends(d: Direction) -> bool {
    matches!(d, SendRecv | SendOnly)
}

#[test]
fn every_rfc4317_body_parses_with_its_empty_subject() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/rfc4317");
    let names = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name());
    let on_disk = names.filter(|n| n.to_string_lossy().ends_with(".sdp"));
    assert_eq!(on_disk.count(), ALL.len(), "a body is missing from ALL");
    for (name, text) in ALL {
        assert!(text.contains("\ns=\n"), "{name}: s= has a value");
        let sd = parse(text);
        assert_eq!(parse(&text.replace('\n', "\r\n")), sd, "{name}: CRLF");
        assert_eq!((sd.version, sd.session_name.as_str()), (0, ""), "{name}");
        let who = sd.origin.username.as_str();
        assert!(who == "alice" || who == "bob", "{name}");
        let t = &sd.times;
        assert_eq!((t.len(), t[0].start, t[0].stop), (1, 0, 0), "{name}");
        let m_lines = text.lines().filter(|l| l.starts_with("m=")).count();
        assert_eq!(sd.media.len(), m_lines, "{name}");
        assert!(sd.media.iter().all(|m| m.proto == "RTP/AVP"), "{name}");
        assert_eq!(parse(&sd.to_string()), sd, "{name}: does not reprint");
    }
    let o = sdp!("2.2-offer2").origin;
    assert_eq!((o.session_id, o.session_version), (2890844526, 2890844527));
    assert_eq!(line(&sdp!("2.2-answer1").media[1]), (0, vec!["31"]));
    let a = sdp!("2.8-answer");
    let video_c = &a.media[1].connections[0].address;
    assert_eq!(video_c, "otherhost.biloxi.example.com");
    let audio_c = &a.connection_for(&a.media[0]).unwrap().address;
    assert_eq!(audio_c, "host.biloxi.example.com");
    let c = sdp!("5.2-offer1").connection.unwrap();
    assert_eq!(c.ip(), Some(ip("0.0.0.0")));
    assert!(sdp!("5.1-offer1").media.is_empty());
    let o = sdp!("2.4-offer");
    let dirs: Vec<_> = o.media.iter().map(|m| o.direction(m)).collect();
    assert_eq!(dirs, [SendRecv, SendOnly]);
}

#[test]
fn answer_to_audio_and_video_keeps_audio_and_refuses_video() {
    let (sd, n) = answered(&us(), &sdp!("2.1-offer"));
    assert_eq!(sd.connection.as_ref().unwrap().ip(), Some(ip("192.0.2.5")));
    assert_eq!(sd.media.len(), 2);
    let (a, v) = (&sd.media[0], &sd.media[1]);
    assert_eq!((a.media.as_str(), a.proto.as_str()), ("audio", "RTP/AVP"));
    // iLBC is not ours, telephone-event was not offered.
    assert_eq!(line(a), (49170, vec!["0", "8"]));
    assert_eq!(rtpmap(a, 0).as_deref(), Some("0 PCMU/8000"));
    assert_eq!(rtpmap(a, 8).as_deref(), Some("8 PCMA/8000"));
    assert_eq!(rtpmap(a, 101), None);
    assert_eq!(sd.direction(a), SendRecv);
    assert_eq!(v.media, "video");
    assert_eq!(line(v), (0, vec!["31", "32"]));
    assert_eq!(summary(&n), ("PCMU", 0, None, SendRecv));
    // c= is a host name: nothing to send to.
    assert_eq!((n.remote, n.ptime), (None, 20));
    assert_eq!(parse(&sd.to_string()), sd);
}

#[test]
fn answer_refuses_a_second_audio_stream() {
    // 2.4: stream 1 is PCMU + iLBC, stream 2 telephone-event only (sendonly).
    let (sd, n) = answered(&us(), &sdp!("2.4-offer"));
    assert_eq!(sd.media.len(), 2);
    assert_eq!(line(&sd.media[0]), (49170, vec!["0"]));
    assert_eq!(sd.media[1].media, "audio");
    assert_eq!(line(&sd.media[1]), (0, vec!["98"]));
    assert_eq!(summary(&n), ("PCMU", 0, None, SendRecv));
    // 2.6 with PCMU: stream 1 is taken, stream 2 (iLBC + events) refused.
    let (sd, n) = answered(&us(), &sdp!("2.6-offer"));
    assert_eq!(line(&sd.media[0]), (49170, vec!["0"]));
    assert_eq!(line(&sd.media[1]), (0, vec!["97", "101"]));
    assert_eq!(summary(&n), ("PCMU", 0, None, SendRecv));
}

#[test]
fn answer_keeps_telephone_event_only_when_offered() {
    // 2.6 with iLBC and events (our pt 100): stream 1 (PCMU) refused, stream 2 kept.
    let local = us_with(vec![ilbc(102), Codec::telephone_event(100)]);
    let (sd, n) = answered(&local, &sdp!("2.6-offer"));
    assert_eq!(line(&sd.media[0]), (0, vec!["0"]));
    let a = &sd.media[1];
    assert_eq!(line(a), (49170, vec!["97", "101"]));
    assert_eq!(rtpmap(a, 97).as_deref(), Some("97 iLBC/8000"));
    assert_eq!(rtpmap(a, 101).as_deref(), Some("101 telephone-event/8000"));
    assert_eq!(a.fmtp(101), Some("0-16"));
    assert_eq!((rtpmap(a, 100), rtpmap(a, 102)), (None, None));
    assert_eq!(summary(&n), ("iLBC", 97, Some(101), SendRecv));
    // 2.7 offers iLBC 99 without events: none in the answer.
    let (sd, n) = answered(&local, &sdp!("2.7-offer1"));
    assert_eq!(formats(&sd.media[0]), ["99"]);
    assert!(!sd.media[0].has_attribute("fmtp"));
    assert_eq!(summary(&n), ("iLBC", 99, None, SendRecv));
}

#[test]
fn answer_uses_the_offerers_payload_numbers() {
    // 2.3: Alice offers iLBC as 97; we know it as 102. Our order, her numbers.
    let local = us_with(vec![ilbc(102), Codec::pcmu()]);
    let (sd, n) = answered(&local, &sdp!("2.3-offer"));
    let a = &sd.media[0];
    assert_eq!(formats(a), ["97", "0"]);
    assert_eq!(rtpmap(a, 97).as_deref(), Some("97 iLBC/8000"));
    assert_eq!(rtpmap(a, 102), None);
    assert_eq!(codec(&n), ("iLBC", 97));
    assert_eq!(line(&sd.media[1]), (0, vec!["31", "32"]));
}

#[test]
fn answer_reads_static_payload_types_without_rtpmap() {
    let text = text!("2.1-offer").replace("a=rtpmap:0 PCMU/8000\n", "");
    let text = text.replace("a=rtpmap:8 PCMA/8000\n", "");
    let (sd, n) = answered(&us_with(vec![Codec::pcma()]), &parse(&text));
    assert_eq!(formats(&sd.media[0]), ["8"]);
    assert_eq!(codec(&n), ("PCMA", 8));
}

#[test]
fn no_common_codec() {
    let pcmu = [Codec::pcmu()];
    // 2.5 offers only iLBC (and video).
    let o = sdp!("2.5-offer1");
    assert_eq!(refused(&us_with(pcmu.to_vec()), &o), NO_CODEC);
    assert!(!can_answer(&pcmu, &o));
    assert!(can_answer(&[ilbc(102)], &o));
    assert!(can_answer(&pcmu, &sdp!("2.1-offer")));
    // Telephone-event alone is no codec.
    let events = [Codec::telephone_event(98)];
    let o = sdp!("2.4-offer");
    assert!(!can_answer(&events, &o));
    assert_eq!(refused(&us_with(events.to_vec()), &o), NO_CODEC);
    // PCMU on a port-0 stream is not answerable (2.6's answer read as an offer).
    let o = sdp!("2.6-answer");
    assert!(!can_answer(&pcmu, &o));
    assert_eq!(refused(&us_with(pcmu.to_vec()), &o), NO_CODEC);
}

#[test]
fn answer_gives_the_offerers_ip_address() {
    let o = text!("2.1-offer").replace("host.atlanta.example.com", "192.0.2.101");
    let (_, n) = answered(&us(), &parse(&o));
    assert_eq!(n.remote, addr("192.0.2.101:49170"));
    let o =
        text!("4.2-offer1").replace("c=IN IP4 host.atlanta.example.com", "c=IN IP6 2001:db8::1");
    let (sd, n) = answered(&us(), &parse(&o));
    assert_eq!(n.remote, addr("[2001:db8::1]:49170"));
    // Our c= is our own address.
    assert_eq!(sd.connection.unwrap().address, "192.0.2.5");
}

#[test]
fn answer_mirrors_the_offered_direction() {
    let base = text!("4.2-offer1"); // PCMU 0 on 49170, sendrecv
    for (offered, expected) in [
        ("a=sendonly", RecvOnly),
        ("a=recvonly", SendOnly),
        ("a=inactive", Inactive),
        ("a=sendrecv", SendRecv),
    ] {
        let (sd, n) = answered(&us(), &with_line(base, offered));
        assert_eq!(n.direction, expected, "{offered}");
        assert_eq!(sd.media[0].own_direction(), Some(expected), "{offered}");
    }
    // A session-level attribute applies to the stream.
    let o = parse(&base.replace("t=0 0\n", "t=0 0\na=sendonly\n"));
    assert_eq!(answered(&us(), &o).1.direction, RecvOnly);
    // 3.2 offer2: Bob holds stream 1 (iLBC) with a=sendonly.
    let (sd, n) = answered(&us_with(vec![ilbc(102)]), &sdp!("3.2-offer2"));
    assert_eq!(summary(&n), ("iLBC", 97, None, RecvOnly));
    assert_eq!(sd.media[0].own_direction(), Some(RecvOnly));
    assert_eq!(sd.media[1].port, 0);
}

#[test]
fn answer_narrows_to_our_direction() {
    let hold = facing(SendOnly, &us());
    let (sd, n) = answered(&hold, &sdp!("4.2-offer1"));
    assert_eq!(n.direction, SendOnly);
    assert_eq!(sd.media[0].own_direction(), Some(SendOnly));
    // Both sides hold: nothing flows.
    let o = with_line(text!("4.2-offer1"), "a=sendonly");
    assert_eq!(answered(&hold, &o).1.direction, Inactive);
    let o = with_line(text!("4.2-offer1"), "a=recvonly");
    assert_eq!(answered(&facing(RecvOnly, &us()), &o).1.direction, Inactive);
}

/// RFC 3264 §8.4: c=0.0.0.0 "means that neither RTP nor RTCP should be sent to the
/// peer"; the peer may still send, so we receive only.
#[test]
fn old_style_hold_offer_5_2() {
    let local = us_with(vec![ilbc(102)]);
    let (sd, n) = answered(&local, &sdp!("5.2-offer1"));
    assert_eq!(line(&sd.media[0]), (49170, vec!["97"]));
    assert_eq!(n.remote, None);
    assert!(!sends(n.direction), "we send to 0.0.0.0: {:?}", n.direction);
    assert_eq!(n.direction, RecvOnly);
    assert_eq!(sd.media[0].own_direction(), Some(RecvOnly));
    // offer2 takes Alice off hold.
    let (_, n) = answered(&local, &sdp!("5.2-offer2"));
    assert_eq!(summary(&n), ("iLBC", 97, None, SendRecv));
}

#[test]
fn accept_rfc_answers_to_alices_offers() {
    let alice = &alice();
    let n = accepted!("2.1-offer", "2.1-answer", alice);
    assert_eq!(summary(&n), ("PCMU", 0, None, SendRecv));
    // c= is a host name: nothing to send to.
    assert_eq!((n.remote, n.ptime), (None, 20));
    // 2.2: Bob keeps 0 8, then 0 only; video refused.
    let n = accepted!("2.2-offer1", "2.2-answer1", alice);
    assert_eq!(summary(&n), ("PCMU", 0, None, SendRecv));
    let n = accepted!("2.2-offer2", "2.2-answer2", alice);
    assert_eq!(summary(&n), ("PCMU", 0, None, SendRecv));
    // 2.3: Bob numbers iLBC 99; Alice sends what Bob's answer names.
    let n = accepted!("2.3-offer", "2.3-answer", alice);
    assert_eq!(summary(&n), ("iLBC", 99, None, SendRecv));
    // 2.4: stream 1 is iLBC; stream 2's telephone-event is not ours to take.
    let n = accepted!("2.4-offer", "2.4-answer", alice);
    assert_eq!(summary(&n), ("iLBC", 97, None, SendRecv));
    // 2.6: stream 1 refused, stream 2 is iLBC with events.
    let with_events = LocalMedia {
        codecs: vec![Codec::pcmu(), ilbc(97), Codec::telephone_event(101)],
        ..alice.clone()
    };
    let n = accepted!("2.6-offer", "2.6-answer", &with_events);
    assert_eq!(summary(&n), ("iLBC", 97, Some(101), SendRecv));
    // 2.8: the video's own c= is not the audio's.
    let n = accepted!("2.8-offer", "2.8-answer", alice);
    assert_eq!(summary(&n), ("PCMU", 0, None, SendRecv));
    // 3.1 answer1: Bob answers a=sendonly, so Alice only receives.
    let n = accepted!("3.1-offer1", "3.1-answer1", alice);
    assert_eq!(summary(&n), ("iLBC", 97, None, RecvOnly));
    assert_eq!(n.remote, None);
    // 5.1 offer2 adds audio to a session that had none.
    let n = accepted!("5.1-offer2", "5.1-answer2", alice);
    assert_eq!(summary(&n), ("iLBC", 97, None, SendRecv));
}

#[test]
fn accept_rfc_answers_to_bobs_offers() {
    let bob = &bob();
    // 3.1 offer2: Bob takes Alice off hold; she answers on a new port.
    let n = accepted!("3.1-offer2", "3.1-answer2", bob);
    assert_eq!(summary(&n), ("iLBC", 97, None, SendRecv));
    // 3.2 offer2: Bob holds stream 1 (sendonly). Alice's answer2 repeats her sendrecv
    // offer (see the README), but Bob still only sends.
    let n = accepted!("3.2-offer2", "3.2-answer2", bob);
    assert_eq!(summary(&n), ("iLBC", 97, None, SendOnly));
    // 4.1 and 4.3 offer2: the first stream is the audio.
    let n = accepted!("4.1-offer2", "4.1-answer2", bob);
    assert_eq!(summary(&n), ("iLBC", 97, None, SendRecv));
    let n = accepted!("4.3-offer2", "4.3-answer2", bob);
    assert_eq!(summary(&n), ("iLBC", 97, None, SendRecv));
}

/// 5.3: Bob's answer1 has c=0.0.0.0, so Alice must not send (RFC 3264 §8.4).
#[test]
fn accept_old_style_hold_answer_5_3() {
    let n = accepted!("5.3-offer1", "5.3-answer1", &alice());
    assert_eq!((codec(&n), n.remote), (("iLBC", 97), None));
    assert!(!sends(n.direction), "Alice sends to 0.0.0.0");
    assert_eq!(n.direction, RecvOnly);
    // offer2 (Bob's) takes the hold off.
    let n = accepted!("5.3-offer2", "5.3-answer2", &bob());
    assert_eq!(summary(&n), ("iLBC", 97, None, SendRecv));
}

#[test]
fn accept_answer_errors() {
    let alice = &alice();
    let mismatch = |o, a| OfferAnswerError::MediaCountMismatch {
        offer: o,
        answer: a,
    };
    let e = accept_answer(&sdp!("2.1-offer"), &sdp!("4.2-answer1"), alice).unwrap_err();
    assert_eq!(e, mismatch(2, 1));
    let e = accept_answer(&sdp!("4.2-offer1"), &sdp!("4.2-answer2"), alice).unwrap_err();
    assert_eq!(e, mismatch(1, 2));
    // An answer whose audio is no codec of ours.
    let pcmu = &us_with(vec![Codec::pcmu()]);
    let e = accept_answer(&sdp!("2.7-offer1"), &sdp!("2.7-answer1"), pcmu).unwrap_err();
    assert_eq!(e, NO_CODEC);
}

#[test]
fn accept_answer_gives_an_ip_address() {
    let (o, alice) = (&sdp!("2.1-offer"), &alice());
    let host = "c=IN IP4 host.biloxi.example.com";
    let v4 = text!("2.1-answer").replace(host, "c=IN IP4 192.0.2.201");
    let n = accept_answer(o, &parse(&v4), alice).unwrap();
    assert_eq!(n.remote, addr("192.0.2.201:49174"));
    let v6 = text!("2.1-answer").replace(host, "c=IN IP6 2001:db8::201");
    let n = accept_answer(o, &parse(&v6), alice).unwrap();
    assert_eq!(n.remote, addr("[2001:db8::201]:49174"));
    // A media-level c= wins over the session's.
    let media_c = v4.replace("RTP/AVP 0\n", "RTP/AVP 0\nc=IN IP4 198.51.100.7\n");
    let n = accept_answer(o, &parse(&media_c), alice).unwrap();
    assert_eq!(n.remote, addr("198.51.100.7:49174"));
}

/// Offer from `a`, printed and parsed, answered by `b`, printed and parsed, accepted
/// by `a`: the answer and both sides' results.
fn exchange(a: &LocalMedia, b: &LocalMedia) -> (SessionDescription, Negotiated, Negotiated) {
    let o = parse(&offer(a, 1, 1).to_string());
    let (ans, nb) = answer(b, &o, 2, 1).unwrap();
    let ans = parse(&ans.to_string());
    let na = accept_answer(&o, &ans, a).unwrap();
    (ans, na, nb)
}

#[test]
fn our_offer_lists_every_codec() {
    let o = offer(&alice(), 1, 1);
    assert_eq!(o.media.len(), 1);
    let m = &o.media[0];
    assert_eq!((m.media.as_str(), m.proto.as_str()), ("audio", "RTP/AVP"));
    assert_eq!(line(m), (49170, vec!["0", "8", "97"]));
    assert_eq!(rtpmap(m, 97).as_deref(), Some("97 iLBC/8000"));
    assert_eq!((m.ptime(), o.direction(m)), (Some(20), SendRecv));
    assert_eq!(o.connection_for(m).unwrap().ip(), Some(ip("192.0.2.101")));
    let o = offer(&us(), 1, 1);
    assert_eq!(formats(&o.media[0]), ["0", "8", "101"]);
    assert_eq!(o.media[0].fmtp(101), Some("0-16"));
}

#[test]
fn round_trip_between_two_of_our_endpoints() {
    for (ip_a, ip_b) in [("192.0.2.10", "192.0.2.20"), ("2001:db8::a", "2001:db8::b")] {
        let a = LocalMedia::new(ip(ip_a), 40000);
        let b = LocalMedia {
            codecs: vec![Codec::pcma(), Codec::pcmu(), Codec::telephone_event(96)],
            ..LocalMedia::new(ip(ip_b), 50000)
        };
        let (ans, na, nb) = exchange(&a, &b);
        // B's order, A's numbers (events on A's 101, not B's 96).
        assert_eq!(formats(&ans.media[0]), ["8", "0", "101"]);
        assert_eq!(na.codec, nb.codec);
        assert_eq!(summary(&na), ("PCMA", 8, Some(101), SendRecv));
        assert_eq!(summary(&nb), ("PCMA", 8, Some(101), SendRecv));
        assert_eq!(na.remote, Some(SocketAddr::new(b.address, b.port)));
        assert_eq!(nb.remote, Some(SocketAddr::new(a.address, a.port)));
        assert_eq!((na.ptime, nb.ptime), (20, 20));
    }
}

#[test]
fn round_trip_with_hold() {
    let a = LocalMedia::new(ip("192.0.2.10"), 40000);
    let b = LocalMedia::new(ip("192.0.2.20"), 50000);
    // A holds in its offer.
    let (ans, na, nb) = exchange(&facing(SendOnly, &a), &b);
    assert_eq!(ans.media[0].own_direction(), Some(RecvOnly));
    assert_eq!((na.direction, nb.direction), (SendOnly, RecvOnly));
    assert_eq!((codec(&na), codec(&nb)), (("PCMU", 0), ("PCMU", 0)));
    // B holds in its answer: A only receives.
    let (_, na, nb) = exchange(&a, &facing(SendOnly, &b));
    assert_eq!((na.direction, nb.direction), (RecvOnly, SendOnly));
}
