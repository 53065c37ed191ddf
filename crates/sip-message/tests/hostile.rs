//! Hostile inputs: each gets a typed error or the right response, never a panic, a
//! hang, or an allocation out of proportion to the input.

use sip_message::headers::{CSeq, ContentLength, MaxForwards, NameAddr, TypedHeader};
use sip_message::multipart;
use sip_message::sdp::SessionDescription;
use sip_message::{
    FrameStatus, Framing, HeaderName, Limits, Message, ParseError, ParseErrorKind, StreamFramer,
    Uri,
};

const HEAD: &str = "Via: SIP/2.0/UDP h.example.com;branch=z9hG4bK1\r\nFrom: <sip:a@example.com>;tag=1\r\nTo: <sip:b@example.com>\r\nCall-ID: c1\r\nCSeq: 1 OPTIONS\r\n";

fn request(extra: &str) -> String {
    format!("OPTIONS sip:b@example.com SIP/2.0\r\n{HEAD}{extra}\r\n")
}

fn parse(s: impl Into<Vec<u8>>) -> Result<Message, ParseError> {
    Message::parse(s.into())
}

fn answer(s: impl Into<Vec<u8>>) -> Option<u16> {
    parse(s)
        .err()
        .and_then(|e| e.response())
        .map(|s| s.as_u16())
}

#[test]
fn well_formed_baseline() {
    assert!(parse(request("Content-Length: 0\r\n")).is_ok());
}

#[test]
fn start_lines() {
    // Method running to the end of the buffer.
    assert_eq!(answer("INVITE"), Some(400));
    assert_eq!(answer(vec![b'A'; 5000]), Some(400));
    // No SP, several SP.
    assert_eq!(
        answer(format!("OPTIONSsip:b@example.comSIP/2.0\r\n{HEAD}\r\n")),
        Some(400)
    );
    assert_eq!(
        answer(format!("OPTIONS  sip:b@example.com SIP/2.0\r\n{HEAD}\r\n")),
        Some(400)
    );
    assert_eq!(
        answer(format!("OPTIONS sip:b@example.com  SIP/2.0\r\n{HEAD}\r\n")),
        Some(400)
    );
    // SIP/3.0.
    let e = parse(format!("OPTIONS sip:b@example.com SIP/3.0\r\n{HEAD}\r\n")).unwrap_err();
    assert_eq!(e.kind(), &ParseErrorKind::UnsupportedVersion);
    assert_eq!(e.response().unwrap().as_u16(), 505);
    // Status codes 99, 700, 4294967301: responses are dropped, never answered.
    for code in ["99", "700", "4294967301", "20", "2000"] {
        let e = parse(format!("SIP/2.0 {code} X\r\n{HEAD}\r\n")).unwrap_err();
        assert_eq!(e.kind(), &ParseErrorKind::BadStatusCode, "{code}");
        assert_eq!(e.response(), None);
    }
}

#[test]
fn header_smuggling_and_names() {
    // Control bytes before the colon.
    for bad in ["Via\x00: x", "Call\x01-ID: x", "X-A\x0b: y"] {
        let e = parse(request(&format!("{bad}\r\n"))).unwrap_err();
        assert_eq!(e.kind(), &ParseErrorKind::BadHeaderName, "{bad:?}");
        assert_eq!(e.response().unwrap().as_u16(), 400);
    }
    // White space before the colon is legal SIP (HCOLON), white space then garbage is not.
    assert!(parse(request("X-Ok \t: fine\r\n")).is_ok());
    assert_eq!(
        parse(request("X-Bad y: z\r\n")).unwrap_err().kind(),
        &ParseErrorKind::MissingColon
    );
    // A line with no colon.
    assert_eq!(
        parse(request("NoColonHere\r\n")).unwrap_err().kind(),
        &ParseErrorKind::MissingColon
    );
    // A bare CR inside a value.
    assert_eq!(
        parse(request("X-A: a\rb\r\n")).unwrap_err().kind(),
        &ParseErrorKind::BareCr
    );
    // NUL in a value, outside a quoted pair.
    assert_eq!(
        parse(request("Subject: a\0b\r\n")).unwrap_err().kind(),
        &ParseErrorKind::ControlChar
    );
    // ...but a quoted pair may carry it.
    assert!(parse(request("Subject: \"a\\\0b\"\r\n")).is_ok());
    // A 70 KiB header name.
    let name = "X".repeat(70 * 1024);
    let e = parse(request(&format!("{name}: v\r\n"))).unwrap_err();
    assert_eq!(e.response().unwrap().as_u16(), 513);
}

#[test]
fn content_length() {
    for bad in [
        "-5",
        "five",
        "+5",
        "18446744073709551616",
        "4294967296",
        "5 5",
    ] {
        let e = parse(request(&format!("Content-Length: {bad}\r\n"))).unwrap_err();
        assert!(
            matches!(
                e.kind(),
                ParseErrorKind::BadHeader {
                    name: HeaderName::ContentLength,
                    ..
                }
            ),
            "{bad}: {e}"
        );
        assert_eq!(e.response().unwrap().as_u16(), 400);
    }
    // Larger than the datagram.
    let e = parse(request("Content-Length: 10\r\n")).unwrap_err();
    assert!(matches!(
        e.kind(),
        ParseErrorKind::BodyTruncated {
            declared: 10,
            available: 0
        }
    ));
    // Two different values.
    let e = parse(request("Content-Length: 0\r\nl: 1\r\n")).unwrap_err();
    assert_eq!(
        e.kind(),
        &ParseErrorKind::DuplicateHeader(HeaderName::ContentLength)
    );
    // Missing on a stream.
    let e = Message::parse_with(
        request("").into_bytes(),
        &Limits::default(),
        Framing::Stream,
    )
    .unwrap_err();
    assert_eq!(e.kind(), &ParseErrorKind::MissingContentLength);
    let e = Message::parse_stream(request("").into_bytes(), &Limits::default()).unwrap_err();
    assert_eq!(e.kind(), &ParseErrorKind::MissingContentLength);
    assert!(ContentLength::parse("2147483648").is_ok());
}

#[test]
fn scalars() {
    let cseq = String::from(
        "OPTIONS sip:b@example.com SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\nFrom: <sip:a@x>;tag=1\r\nTo: <sip:b@x>\r\nCall-ID: c\r\nCSeq: 4294967296 OPTIONS\r\n\r\n",
    );
    assert_eq!(answer(cseq), Some(400));
    assert!(CSeq::parse("4294967296 OPTIONS").is_err());
    assert_eq!(answer(request("Max-Forwards: 256\r\n")), Some(400));
    assert!(MaxForwards::parse("256").is_err());
}

#[test]
fn uris() {
    for bad in [
        "sip:user@host%",
        "sip:user%4@host",
        "sip:us%ZZer@host",
        "sip:2001:db8::1:5060",
        "sip:[::1]:99999",
        "sip:",
        "sip:user@",
        "sip:@",
    ] {
        assert!(Uri::parse(bad).is_err(), "{bad}");
        let req = format!("OPTIONS {bad} SIP/2.0\r\n{HEAD}\r\n");
        assert_eq!(answer(req), Some(400), "{bad}");
    }
    // %00 is a legal escape: it parses, and decodes to a NUL.
    let u = Uri::parse("sip:a%00b@host").unwrap();
    assert_eq!(&*u.user_decoded().unwrap(), b"a\0b");
}

#[test]
fn quoting() {
    // Unterminated quoted string.
    assert!(NameAddr::parse("\"open <sip:a@b>").is_err());
    let e = parse(String::from(
        "OPTIONS sip:b@x SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\nFrom: \"unterminated <sip:a@x>;tag=1\r\nTo: <sip:b@x>\r\nCall-ID: c\r\nCSeq: 1 OPTIONS\r\n\r\n"
    ))
    .unwrap_err();
    assert!(matches!(
        e.kind(),
        ParseErrorKind::BadHeader {
            name: HeaderName::From,
            ..
        }
    ));
    // A quoted pair at the end of the buffer.
    assert!(NameAddr::parse("\"abc\\").is_err());
    let raw = format!("OPTIONS sip:b@x SIP/2.0\r\n{HEAD}Subject: \"a\\");
    assert!(parse(raw).is_err());
}

#[test]
fn counts_and_sizes() {
    // 10,000 Via values on one line and on separate lines.
    let many = vec!["SIP/2.0/UDP h;branch=z9hG4bK1"; 10_000].join(",");
    let e = parse(format!("OPTIONS sip:b@x SIP/2.0\r\nVia: {many}\r\nFrom: <sip:a@x>;tag=1\r\nTo: <sip:b@x>\r\nCall-ID: c\r\nCSeq: 1 OPTIONS\r\n\r\n")).unwrap_err();
    assert!(matches!(
        e.kind(),
        ParseErrorKind::TooManyVias { .. }
            | ParseErrorKind::TooLarge { .. }
            | ParseErrorKind::LineTooLong { .. }
    ));
    let limits = Limits {
        max_message_size: 1 << 20,
        max_line_len: 1 << 20,
        ..Limits::default()
    };
    // Within the 64 KiB a head may have, the Via limit applies.
    let fewer = vec!["SIP/2.0/UDP h;branch=z9hG4bK1"; 1_000].join(",");
    let e = Message::parse_with(
        format!("OPTIONS sip:b@x SIP/2.0\r\nVia: {fewer}\r\nFrom: <sip:a@x>;tag=1\r\nTo: <sip:b@x>\r\nCall-ID: c\r\nCSeq: 1 OPTIONS\r\n\r\n").into_bytes(),
        &limits,
        Framing::Datagram,
    )
    .unwrap_err();
    assert!(matches!(
        e.kind(),
        ParseErrorKind::TooManyVias { limit: 100 }
    ));
    assert_eq!(e.response().unwrap().as_u16(), 513);
    // 20,000 headers.
    let lines = "X-A: b\r\n".repeat(20_000);
    let e =
        Message::parse_with(request(&lines).into_bytes(), &limits, Framing::Datagram).unwrap_err();
    assert!(matches!(
        e.kind(),
        ParseErrorKind::TooManyHeaders { limit: 256 }
    ));
    // A 1 MiB header section.
    let big = format!("X-Big: {}\r\n", "a".repeat(1 << 20));
    let e = parse(request(&big)).unwrap_err();
    assert!(matches!(e.kind(), ParseErrorKind::TooLarge { .. }));
    assert_eq!(e.response().unwrap().as_u16(), 513);
}

#[test]
fn empty_inputs() {
    for input in [&b""[..], b"\r\n", b"\r\n\r\n\r\n", b"\n\n"] {
        let e = parse(input).unwrap_err();
        assert_eq!(e.kind(), &ParseErrorKind::Empty);
        assert_eq!(e.response(), None);
    }
    let mut f = StreamFramer::new(Limits::default());
    assert_eq!(f.poll(b""), Ok(FrameStatus::Partial));
}

#[test]
fn sdp_hostile() {
    let head = "v=0\r\no=- 1 1 IN IP4 h\r\ns=-\r\nt=0 0\r\n";
    // Numbers of 2^32 and more.
    assert!(SessionDescription::parse(&format!("{head}m=audio 4294967296 RTP/AVP 0\r\n")).is_err());
    assert!(SessionDescription::parse(&format!("{head}b=AS:99999999999999999999999\r\n")).is_err());
    assert!(
        SessionDescription::parse("v=0\r\no=- 99999999999999999999 1 IN IP4 h\r\ns=-\r\nt=0 0\r\n")
            .is_err()
    );
    // The last line without CRLF.
    let sd =
        SessionDescription::parse(&format!("{head}m=audio 1 RTP/AVP 0\r\na=sendonly")).unwrap();
    assert_eq!(sd.media[0].attributes.len(), 1);
    // Thousands of attributes: accepted, proportionally.
    let attrs = "a=x-attr:1\r\n".repeat(5000);
    let sd = SessionDescription::parse(&format!("{head}m=audio 1 RTP/AVP 0\r\n{attrs}")).unwrap();
    assert_eq!(sd.media[0].attributes.len(), 5000);
}

#[test]
fn multipart_hostile() {
    let body = bytes::Bytes::from_static(b"--other\r\n\r\nx\r\n--other--\r\n");
    assert_eq!(
        multipart::parse(&body, "never"),
        Err(multipart::MultipartError::BoundaryNotFound)
    );
    let mut nested = "x".to_string();
    let mut ct = "text/plain".to_string();
    for i in 0..100 {
        nested = format!("--b{i}\r\nContent-Type: {ct}\r\n\r\n{nested}\r\n--b{i}--\r\n");
        ct = format!("multipart/mixed; boundary=b{i}");
    }
    let r = multipart::leaves(&bytes::Bytes::from(nested), &ct, 16);
    assert_eq!(r, Err(multipart::MultipartError::TooDeep(16)));
}

#[test]
fn nul_bytes_and_binary_everywhere() {
    let mut raw = request("Content-Length: 0\r\n").into_bytes();
    for i in 0..raw.len() {
        let saved = raw[i];
        raw[i] = 0;
        let _ = parse(raw.clone());
        raw[i] = 0xff;
        let _ = parse(raw.clone());
        raw[i] = saved;
    }
}

#[test]
fn header_names_in_any_case_and_with_any_bad_byte() {
    // Every known name the parse does not decode, as written, in lower and in upper
    // case: read as that name. Each with one byte replaced by something that is not a
    // token character: refused as a bad name, a line without a colon or a bare CR,
    // whichever way the scan reached the name (short names within one vector, long
    // ones past it).
    let decoded = [
        HeaderName::Via,
        HeaderName::From,
        HeaderName::To,
        HeaderName::CallId,
        HeaderName::CSeq,
        HeaderName::MaxForwards,
        HeaderName::ContentLength,
        HeaderName::Contact,
    ];
    for &name in HeaderName::ALL.iter().filter(|n| !decoded.contains(n)) {
        let canonical = name.as_str();
        for written in [
            canonical.to_string(),
            canonical.to_ascii_lowercase(),
            canonical.to_ascii_uppercase(),
        ] {
            let m = parse(request(&format!("{written}: x\r\n"))).unwrap();
            let last = m.parts().headers().last().unwrap();
            assert_eq!((last.name, last.raw_name), (name, written.as_str()));
            for at in 0..written.len() {
                for bad in [
                    0u8, b'\t', 0x0d, b' ', b'@', b'(', b',', b'"', b'/', 0x80, 0xff,
                ] {
                    if at == 0 && (bad == b' ' || bad == b'\t') {
                        // White space opening a line folds it into the one before.
                        continue;
                    }
                    let mut line = written.clone().into_bytes();
                    line[at] = bad;
                    line.extend_from_slice(b": x\r\n");
                    let mut text = request("").into_bytes();
                    let cut = text.len() - 2;
                    text.splice(cut..cut, line);
                    match parse(text) {
                        Err(e) => assert!(
                            matches!(
                                e.kind(),
                                ParseErrorKind::BadHeaderName
                                    | ParseErrorKind::MissingColon
                                    | ParseErrorKind::BareCr
                            ),
                            "{written} {at} {bad:#x}: {e}"
                        ),
                        // White space before the colon is legal: a shorter name.
                        Ok(m) => {
                            assert!(bad == b' ' || bad == b'\t', "{written} {at} {bad:#x}");
                            assert_eq!(at, written.len() - 1, "{written} {at}");
                            let last = m.parts().headers().last().unwrap();
                            assert_eq!(last.raw_name, &written[..at]);
                        }
                    }
                }
            }
        }
    }
}

#[test]
fn the_head_is_always_valid_utf8_text() {
    // The head's text is made without a second UTF-8 check once the parser has found
    // it valid: valid multi-byte text must come through untouched, broken sequences
    // (a stray byte, a cut sequence, a surrogate) repaired.
    let base = request("Subject: x\r\nContent-Length: 0\r\n");
    let at = base.find("Subject: x").unwrap() + "Subject: ".len();
    for insert in ["Zo\u{eb}", "\u{65e5}\u{672c}", "\u{1f600}", "\u{7f}"] {
        let raw = format!("{}{insert}{}", &base[..at], &base[at + 1..]);
        let m = parse(raw.clone()).unwrap();
        assert_eq!(m.head(), raw, "{insert:?}");
        assert!(!m.had_invalid_utf8());
    }
    let bad: [&[u8]; 5] = [
        b"\xff",
        b"\xc3",
        b"\xe6\x97",
        b"\xed\xa0\x80",
        b"\xf0\x9f\x98",
    ];
    for (i, insert) in bad.iter().enumerate() {
        for pos in [at, at + 1] {
            let mut raw = base.clone().into_bytes();
            raw.splice(pos..pos, insert.iter().copied());
            let m = parse(raw).unwrap();
            assert!(m.had_invalid_utf8(), "case {i} at {pos}");
            assert!(std::str::from_utf8(m.head().as_bytes()).is_ok());
            assert!(m.head().contains('?'));
        }
    }
}

#[test]
fn cached_lists_give_every_value_and_stop() {
    // Via and Contact values spread over lines, several on one line, other headers in
    // between: `vias()` and `contacts()` (which start from the values the parse kept and
    // stop after as many as it counted) give what decoding every line gives.
    use sip_message::headers::Via;
    let raw = "REGISTER sip:example.com SIP/2.0\r\n\
        Via: SIP/2.0/UDP a.example.com;branch=z9hG4bK1, SIP/2.0/TCP b.example.com:5070;branch=z9hG4bK2\r\n\
        Contact: <sip:u@c1.example.com>;expires=60\r\n\
        From: <sip:u@example.com>;tag=1\r\nTo: <sip:u@example.com>\r\n\
        v: SIP/2.0/TLS c.example.com;branch=z9hG4bK3\r\n\
        Call-ID: c1\r\nCSeq: 1 REGISTER\r\n\
        m: <sip:u@c2.example.com>, \"Two\" <sip:u@c3.example.com>;q=0.5\r\n\
        Content-Length: 0\r\n\r\n";
    for take in 0..3 {
        let m = parse(raw).unwrap();
        let vias: Vec<Via<'_>> = m.vias().collect();
        let all: Vec<Via<'_>> = m
            .typed_all::<Via<'_>>(HeaderName::Via)
            .map(Result::unwrap)
            .collect();
        assert_eq!(vias.len(), 3);
        assert_eq!(m.via_count(), 3);
        for (a, b) in vias.iter().zip(&all) {
            assert_eq!((a.host(), a.branch()), (b.host(), b.branch()));
        }
        let contacts: Vec<String> = m.contacts().map(|c| c.uri().host().to_owned()).collect();
        let every: Vec<String> = m
            .typed_all::<NameAddr<'_>>(HeaderName::Contact)
            .map(|c| c.unwrap().uri().host().to_owned())
            .collect();
        assert_eq!(
            contacts,
            ["c1.example.com", "c2.example.com", "c3.example.com"]
        );
        assert_eq!(contacts, every);
        // Reading part of a list and starting again gives the same values.
        assert_eq!(m.vias().take(take).count(), take);
        assert_eq!(m.vias().count(), 3);
    }
}
