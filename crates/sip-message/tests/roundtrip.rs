//! Property tests: print -> parse -> equal for URIs, every typed header, SDP and whole
//! messages; and no panic on arbitrary bytes or arbitrary splits of a stream.

use proptest::prelude::*;
use sip_message::headers::*;
use sip_message::sdp::{
    Attribute, Connection, MediaDescription, Origin, SessionDescription, Timing,
};
use sip_message::{FrameStatus, Framing, Limits, Message, StreamFramer, Uri};

fn token() -> impl Strategy<Value = String> {
    "[A-Za-z0-9][A-Za-z0-9.!%*_+`'~-]{0,11}"
}

fn host() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-z][a-z0-9-]{0,10}(\\.[a-z][a-z0-9-]{0,10}){0,3}",
        (any::<u8>(), any::<u8>(), any::<u8>(), any::<u8>())
            .prop_map(|(a, b, c, d)| format!("{a}.{b}.{c}.{d}")),
        any::<[u16; 8]>().prop_map(|s| format!("[{}]", std::net::Ipv6Addr::from(s))),
    ]
}

fn user() -> impl Strategy<Value = String> {
    prop::collection::vec(
        prop_oneof![
            "[a-zA-Z0-9_.!~*'()&=+$,;?/-]",
            any::<u8>().prop_map(|b| format!("%{b:02X}"))
        ],
        1..12,
    )
    .prop_map(|v| v.concat())
}

fn uri_param() -> impl Strategy<Value = String> {
    (
        "[a-z][a-z0-9-]{0,7}",
        prop::option::of("[a-zA-Z0-9_.-]{1,8}"),
    )
        .prop_map(|(n, v)| match v {
            Some(v) => format!(";{n}={v}"),
            None => format!(";{n}"),
        })
}

prop_compose! {
    fn sip_uri()(
        scheme in prop_oneof![Just("sip"), Just("sips")],
        user in prop::option::of(user()),
        password in prop::option::of("[a-z0-9]{0,6}"),
        host in host(),
        port in prop::option::of(any::<u16>()),
        params in prop::collection::vec(uri_param(), 0..4),
        headers in prop::option::of(prop::collection::vec(("[a-zA-Z]{1,6}", "[a-z0-9]{0,6}"), 1..3)),
    ) -> (String, Option<String>, Option<String>, String, Option<u16>, usize) {
        let mut s = format!("{scheme}:");
        let password = password.filter(|_| user.is_some());
        if let Some(u) = &user {
            s.push_str(u);
            if let Some(p) = &password {
                s.push(':');
                s.push_str(p);
            }
            s.push('@');
        }
        s.push_str(&host);
        if let Some(p) = port {
            s.push_str(&format!(":{p}"));
        }
        for p in &params {
            s.push_str(p);
        }
        if let Some(h) = &headers {
            s.push('?');
            s.push_str(&h.iter().map(|(n, v)| format!("{n}={v}")).collect::<Vec<_>>().join("&"));
        }
        (s, user, password, host, port, params.len())
    }
}

fn lws() -> impl Strategy<Value = &'static str> {
    prop_oneof![Just(""), Just(" "), Just("  "), Just("\t"), Just("\r\n ")]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn uri_components((s, user, password, host, port, nparams) in sip_uri()) {
        let u = Uri::parse(&s).unwrap();
        prop_assert_eq!(u.user(), user.as_deref());
        prop_assert_eq!(u.password(), password.as_deref());
        prop_assert_eq!(u.host(), host.as_str());
        prop_assert_eq!(u.port(), port);
        prop_assert_eq!(u.params().count(), nparams);
        let again = Uri::parse(u.as_str()).unwrap();
        prop_assert!(again.rfc_eq(&u));
    }

    #[test]
    fn name_addr_round_trip(
        (uri, ..) in sip_uri(),
        display in prop::option::of("[a-zA-Z0-9 \"\\\\]{0,12}"),
        tag in prop::option::of(token()),
        w1 in lws(), w2 in lws(),
    ) {
        // A URI with parameters or headers must be in angle brackets.
        let mut s = String::new();
        if let Some(d) = &display {
            s.push('"');
            for c in d.chars() {
                if c == '"' || c == '\\' { s.push('\\'); }
                s.push(c);
            }
            s.push_str("\" ");
        }
        s.push_str(&format!("<{uri}>"));
        if let Some(t) = &tag {
            s.push_str(&format!("{w1};{w2}tag{w1}={w2}{t}"));
        }
        let a = NameAddr::parse(&s).unwrap();
        let dn = a.display_name();
        prop_assert_eq!(dn.as_deref(), display.as_deref());
        prop_assert_eq!(a.tag(), tag.as_deref());
        prop_assert_eq!(a.uri().as_str(), uri.as_str());
        let printed = a.to_string();
        prop_assert_eq!(NameAddr::parse(&printed).unwrap(), a);
    }

    #[test]
    fn via_round_trip(
        transport in prop_oneof![Just("UDP"), Just("TCP"), Just("TLS"), Just("SCTP"), Just("WS")],
        host in host(),
        port in prop::option::of(any::<u16>()),
        branch in token(),
        rport in prop::option::of(prop::option::of(any::<u16>())),
        received in prop::option::of((any::<u8>(), any::<u8>()).prop_map(|(a, b)| format!("192.0.{a}.{b}"))),
        w in lws(),
    ) {
        let mut s = format!("SIP{w}/{w}2.0{w}/{w}{transport} {host}");
        if let Some(p) = port { s.push_str(&format!("{w}:{w}{p}")); }
        s.push_str(&format!("{w};{w}branch={w}{branch}"));
        match rport {
            Some(Some(p)) => s.push_str(&format!(";rport={p}")),
            Some(None) => s.push_str(";rport"),
            None => {}
        }
        if let Some(r) = &received { s.push_str(&format!(";received={r}")); }
        let v = Via::parse(&s).unwrap();
        prop_assert_eq!(v.transport(), transport);
        prop_assert_eq!(v.host(), host.as_str());
        prop_assert_eq!(v.port(), port);
        prop_assert_eq!(v.branch(), Some(branch.as_str()));
        prop_assert_eq!(v.rport(), rport.map(|r| r.map_or(Rport::Requested, Rport::Port)));
        prop_assert_eq!(v.received(), received.as_deref());
        { let printed = v.to_string(); prop_assert_eq!(Via::parse(&printed).unwrap(), v); }
    }

    #[test]
    fn cseq_rack_numbers(seq in any::<u32>(), rseq in any::<u32>(), m in prop_oneof![Just("INVITE"), Just("BYE"), Just("X-NEW")]) {
        let c = CSeq::parse(&format!("{seq} {m}")).unwrap();
        prop_assert_eq!(CSeq::parse(&c.to_string()).unwrap(), c.clone());
        prop_assert_eq!(c.seq, seq);
        let r = RAck::parse(&format!("{rseq} {seq} {m}")).unwrap();
        { let printed = r.to_string(); prop_assert_eq!(RAck::parse(&printed).unwrap(), r); }
        prop_assert_eq!(Expires::parse(&seq.to_string()).unwrap().0, seq);
        prop_assert_eq!(MinExpires::parse(&format!("{seq}")).unwrap(), MinExpires(seq));
        prop_assert_eq!(ContentLength::parse(&format!("{seq}")).unwrap(), ContentLength(seq));
        prop_assert_eq!(RSeq::parse(&format!("{seq}")).unwrap(), RSeq(seq));
        prop_assert_eq!(MinSe::parse(&format!("{seq}")).unwrap(), MinSe(seq));
        prop_assert_eq!(MaxForwards::parse(&format!("{}", seq as u8)).unwrap(), MaxForwards(seq as u8));
    }

    #[test]
    fn token_lists(tokens in prop::collection::vec(token(), 1..6), w in lws()) {
        let s = tokens.join(&format!("{w},{w}"));
        let parsed: Vec<_> = Token::parse_list(&s).map(|t| t.unwrap().0.to_string()).collect();
        prop_assert_eq!(&parsed, &tokens);
        let printed = parsed.join(", ");
        let again: Vec<_> = Token::parse_list(&printed).map(|t| t.unwrap().0.to_string()).collect();
        prop_assert_eq!(again, tokens);
    }

    #[test]
    fn call_id_and_text(id in "[a-zA-Z0-9.!%*_+`'~()<>:\\\\\"/\\[\\]?{}-]{1,20}(@[a-z0-9.]{1,10})?", text in "[ -~]{1,30}") {
        prop_assert_eq!(CallId::parse(&id).unwrap().0, id.as_str());
        let t = Text::parse(&text).unwrap();
        { let printed = t.to_string(); prop_assert_eq!(Text::parse(&printed).unwrap(), t); }
    }

    #[test]
    fn media_type(top in token(), sub in token(), params in prop::collection::vec((token(), token()), 0..3), w in lws()) {
        let mut s = format!("{top}{w}/{w}{sub}");
        for (n, v) in &params { s.push_str(&format!("{w};{w}{n}={v}")); }
        let m = MediaType::parse(&s).unwrap();
        prop_assert_eq!(m.top, top.as_str());
        prop_assert_eq!(m.params().count(), params.len());
        { let printed = m.to_string(); prop_assert_eq!(MediaType::parse(&printed).unwrap(), m); }
    }

    #[test]
    fn auth_headers(
        scheme in prop_oneof![Just("Digest".to_string()), "[A-Z][a-z]{2,8}"],
        params in prop::collection::vec((token(), prop_oneof![token(), "[a-zA-Z0-9 ,;=]{0,10}".prop_map(|v| format!("\"{v}\""))]), 1..6),
        w in lws(),
    ) {
        let s = format!("{scheme} {}", params.iter().map(|(n, v)| format!("{n}{w}={w}{v}")).collect::<Vec<_>>().join(&format!("{w},{w}")));
        let a = Challenge::parse(&s).unwrap();
        prop_assert_eq!(a.scheme(), scheme.as_str());
        let got: Vec<(String, String)> = a.params().map(|(n, v)| (n.to_string(), v.to_string())).collect();
        let want: Vec<(String, String)> = params.clone();
        prop_assert_eq!(got, want);
        { let printed = a.to_string(); prop_assert_eq!(Challenge::parse(&printed).unwrap(), a); }
        // Two challenges on one line.
        let two = format!("{s}, {s}");
        prop_assert_eq!(Challenge::parse_list(&two).filter(Result::is_ok).count(), 2);
    }

    #[test]
    fn retry_warning_event_state_session(
        secs in any::<u32>(), dur in prop::option::of(any::<u32>()),
        code in 100u16..1000, agent in host(), text in "[a-zA-Z0-9 ]{0,20}",
        pkg in token(), state in prop_oneof![Just("active"), Just("pending"), Just("terminated")],
        refresher in prop::option::of(prop_oneof![Just("uac"), Just("uas")]),
    ) {
        let mut r = format!("{secs} (comment)");
        if let Some(d) = dur { r.push_str(&format!(";duration={d}")); }
        let ra = RetryAfter::parse(&r).unwrap();
        prop_assert_eq!((ra.seconds, ra.duration()), (secs, dur));
        { let printed = ra.to_string(); prop_assert_eq!(RetryAfter::parse(&printed).unwrap(), ra); }
        let ws = format!("{code} {agent} \"{text}\"");
        let w = Warning::parse(&ws).unwrap();
        { let printed = w.to_string(); prop_assert_eq!(Warning::parse(&printed).unwrap(), w); }
        let es = format!("{pkg};id={secs}");
        let e = Event::parse(&es).unwrap();
        { let printed = e.to_string(); prop_assert_eq!(Event::parse(&printed).unwrap(), e); }
        let sts = format!("{state};expires={secs}");
        let st = SubscriptionState::parse(&sts).unwrap();
        prop_assert_eq!(st.expires(), Some(secs));
        { let printed = st.to_string(); prop_assert_eq!(SubscriptionState::parse(&printed).unwrap(), st); }
        let mut se = format!("{secs}");
        if let Some(r) = refresher { se.push_str(&format!(";refresher={r}")); }
        let s = SessionExpires::parse(&se).unwrap();
        { let printed = s.to_string(); prop_assert_eq!(SessionExpires::parse(&printed).unwrap(), s); }
    }

    #[test]
    fn dates(secs in 0i64..253_402_300_799) {
        let d = HttpDate::from_unix(secs);
        prop_assert_eq!(d.to_unix(), secs);
        { let printed = d.to_string(); prop_assert_eq!(HttpDate::parse(&printed).unwrap(), d); }
    }

    #[test]
    fn sdp_round_trip(sd in sdp()) {
        let text = sd.to_string();
        let parsed = SessionDescription::parse(&text).unwrap();
        prop_assert_eq!(&parsed, &sd);
        prop_assert_eq!(parsed.to_string(), text);
    }

    #[test]
    fn whole_messages(
        target_host in host(),
        target_user in user(),
        vias in prop::collection::vec((host(), token()), 1..4),
        from_tag in token(),
        call_id in "[a-zA-Z0-9]{1,20}@[a-z]{1,8}",
        seq in any::<u32>(),
        extra in prop::collection::vec(("X-[A-Za-z]{1,8}", "[ -~]{0,20}"), 0..5),
        body in "[ -~]{0,50}",
        fold in any::<bool>(),
    ) {
        let uri = format!("sip:{target_user}@{target_host}");
        let sep = if fold { "\r\n " } else { " " };
        let mut s = format!("MESSAGE {uri} SIP/2.0\r\n");
        for (h, b) in &vias { s.push_str(&format!("Via: SIP/2.0/UDP{sep}{h};branch=z9hG4bK{b}\r\n")); }
        s.push_str(&format!("From:{sep}<sip:a@example.com>;tag={from_tag}\r\nTo: <{uri}>\r\nCall-ID: {call_id}\r\nCSeq: {seq} MESSAGE\r\nMax-Forwards: 70\r\n"));
        for (n, v) in &extra { s.push_str(&format!("{n}: {v}\r\n")); }
        s.push_str(&format!("Content-Type: text/plain\r\nContent-Length: {}\r\n\r\n{body}", body.len()));
        let m = Message::parse(s.clone().into_bytes()).unwrap();
        let again = Message::parse(m.to_bytes()).unwrap();
        prop_assert_eq!(again.call_id(), call_id.as_str());
        prop_assert_eq!(again.cseq(), m.cseq());
        prop_assert_eq!(again.from(), m.from());
        prop_assert_eq!(again.to(), m.to());
        prop_assert_eq!(again.vias().collect::<Vec<_>>(), m.vias().collect::<Vec<_>>());
        prop_assert_eq!(again.via_count(), vias.len());
        prop_assert_eq!(again.body(), m.body());
        prop_assert_eq!(&again.body()[..], body.as_bytes());
        let h1: Vec<_> = m.headers().map(|h| (h.raw_name.to_string(), h.value.split_whitespace().collect::<Vec<_>>().join(" "))).collect();
        let h2: Vec<_> = again.headers().map(|h| (h.raw_name.to_string(), h.value.split_whitespace().collect::<Vec<_>>().join(" "))).collect();
        prop_assert_eq!(h1, h2);
        prop_assert_eq!(again.as_request().unwrap().uri().as_str(), uri.as_str());
        // The same bytes framed from a stream in two pieces give the same message.
        let (sm, used) = Message::parse_stream(s.clone().into_bytes(), &Limits::default()).unwrap();
        prop_assert_eq!(used, s.len());
        prop_assert_eq!(sm.call_id(), m.call_id());
    }

    #[test]
    fn arbitrary_bytes_never_panic(data in prop::collection::vec(any::<u8>(), 0..600)) {
        let _ = Message::parse(data.clone());
        let _ = Message::parse_with(data.clone(), &Limits::default(), Framing::Stream);
        let _ = Message::parse_stream(data.clone(), &Limits::default());
        let mut f = StreamFramer::new(Limits::default());
        let _ = f.poll(&data);
        if let Ok(s) = std::str::from_utf8(&data) {
            let _ = Uri::parse(s);
            let _ = NameAddr::parse(s);
            let _ = Via::parse(s);
            let _ = Challenge::parse_list(s).count();
            let _ = SessionDescription::parse(s);
        }
    }

    #[test]
    fn mutated_messages_never_panic(pos in 0usize..400, byte in any::<u8>(), cut in 0usize..400) {
        let base = b"INVITE sip:bob@example.com SIP/2.0\r\nVia: SIP/2.0/UDP h:5060;branch=z9hG4bK1;rport\r\nFrom: \"A\" <sip:a@example.com>;tag=1\r\nTo: <sip:bob@example.com>\r\nCall-ID: x@y\r\nCSeq: 1 INVITE\r\nContact: <sip:a@h>;expires=60\r\nContent-Length: 4\r\n\r\nbody";
        let mut v = base.to_vec();
        let p = pos % v.len();
        v[p] = byte;
        let _ = Message::parse(v.clone());
        v.truncate(cut % (v.len() + 1));
        let _ = Message::parse(v);
    }

    #[test]
    fn stream_splits_do_not_matter(
        n in 1usize..4,
        cuts in prop::collection::vec(any::<prop::sample::Index>(), 0..8),
        keepalives in any::<bool>(),
    ) {
        let one: &[u8] = b"OPTIONS sip:b@example.com SIP/2.0\r\nVia: SIP/2.0/TCP h;branch=z9hG4bK1\r\nFrom: <sip:a@x>;tag=1\r\nTo: <sip:b@x>\r\nCall-ID: c\r\nCSeq: 1 OPTIONS\r\nContent-Length: 5\r\n\r\nhello";
        let mut stream = Vec::new();
        for _ in 0..n {
            if keepalives { stream.extend_from_slice(b"\r\n\r\n"); }
            stream.extend_from_slice(one);
        }
        let mut points: Vec<usize> = cuts.iter().map(|i| i.index(stream.len() + 1)).collect();
        points.push(stream.len());
        points.sort_unstable();
        let mut framer = StreamFramer::new(Limits::default());
        let mut buf: Vec<u8> = Vec::new();
        let mut fed = 0;
        let mut messages = 0;
        for p in points {
            buf.extend_from_slice(&stream[fed..p]);
            fed = p;
            loop {
                match framer.poll(&buf).unwrap() {
                    FrameStatus::Partial => break,
                    FrameStatus::KeepAlive { len, .. } => { buf.drain(..len); }
                    FrameStatus::Complete(len) => {
                        let m = Message::parse_with(buf[..len].to_vec(), &Limits::default(), Framing::Stream).unwrap();
                        prop_assert_eq!(&m.body()[..], b"hello");
                        buf.drain(..len);
                        messages += 1;
                    }
                }
            }
        }
        prop_assert_eq!(messages, n);
        prop_assert!(buf.is_empty());
    }
}

fn sdp() -> impl Strategy<Value = SessionDescription> {
    let media = (
        prop_oneof![Just("audio"), Just("video"), Just("application")],
        any::<u16>(),
        prop_oneof![
            Just("RTP/AVP"),
            Just("RTP/SAVP"),
            Just("RTP/SAVPF"),
            Just("UDP/TLS/RTP/SAVPF")
        ],
        prop::collection::vec(0u8..128, 1..5),
        prop::collection::vec(
            (
                "[a-z][a-z0-9-]{0,8}",
                prop::option::of("[a-zA-Z0-9 /:.-]{1,12}"),
            ),
            0..5,
        ),
        prop::option::of((any::<u8>(), any::<u8>())),
    )
        .prop_map(|(kind, port, proto, pts, attrs, conn)| {
            let formats: Vec<String> = pts.iter().map(u8::to_string).collect();
            let f: Vec<&str> = formats.iter().map(String::as_str).collect();
            let mut m = MediaDescription::new(kind, port, proto, &f);
            for (n, v) in attrs {
                m.attributes.push(Attribute { name: n, value: v });
            }
            if let Some((a, b)) = conn {
                m.connections.push(Connection {
                    net_type: "IN".into(),
                    addr_type: "IP4".into(),
                    address: format!("192.0.{a}.{b}"),
                    ttl: None,
                    num_addresses: None,
                });
            }
            m
        });
    (
        "[a-z-]{1,8}",
        any::<u64>(),
        any::<u64>(),
        "[a-zA-Z0-9 -]{1,12}",
        prop::collection::vec(media, 0..4),
        any::<(u32, u32)>(),
    )
        .prop_map(
            |(user, id, version, name, media, (start, stop))| SessionDescription {
                version: 0,
                origin: Origin {
                    username: user,
                    session_id: id,
                    session_version: version,
                    net_type: "IN".into(),
                    addr_type: "IP4".into(),
                    address: "192.0.2.1".into(),
                },
                session_name: name,
                information: None,
                uri: None,
                emails: vec![],
                phones: vec![],
                connection: None,
                bandwidths: vec![],
                times: vec![Timing {
                    start: u64::from(start),
                    stop: u64::from(stop),
                    repeats: vec![],
                }],
                time_zones: None,
                key: None,
                attributes: vec![],
                media,
            },
        )
}
