//! RFC 4475 and RFC 5118 torture messages against their expected verdicts
//! (tests/data/torture*/EXPECTED.md), and key fields of the messages we accept.

use sip_message::headers::{AuthHeader, TypedHeader};
use sip_message::{
    HeaderName, HostKind, Message, MessageKind, ParseError, ParseErrorKind, Scheme, StatusCode,
};
use std::path::PathBuf;

#[derive(Debug, Clone, Copy, PartialEq)]
enum Verdict {
    Accept,
    Reject(u16),
    Drop,
}
use Verdict::*;

fn data(dir: &str, name: &str) -> Vec<u8> {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(dir)
        .join(format!("{name}.dat"));
    std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

fn verdict(r: &Result<Message, ParseError>) -> Verdict {
    match r {
        Ok(_) => Accept,
        Err(e) => match e.message_kind() {
            Some(MessageKind::Response) => {
                assert_eq!(e.response(), None, "responses are never answered");
                Drop
            }
            _ => Reject(e.response().map(|s| s.as_u16()).unwrap_or(0)),
        },
    }
}

/// Our verdict for every RFC 4475 message. Where the RFC leaves a choice ("liberal"),
/// the comment says which we took.
const RFC4475: &[(&str, Verdict)] = &[
    ("wsinv", Accept),
    ("intmeth", Accept),
    ("esc01", Accept),
    ("escnull", Accept),
    ("esc02", Accept),
    ("lwsdisp", Accept),
    ("longreq", Accept),
    ("dblreq", Accept),
    ("semiuri", Accept),
    ("transports", Accept),
    ("mpart01", Accept),
    ("unreason", Accept),
    ("noreason", Accept),
    ("badinv01", Reject(400)),
    ("clerr", Reject(400)),
    ("ncl", Reject(400)),
    ("scalar02", Reject(400)),
    ("scalarlg", Drop),
    ("quotbal", Reject(400)),
    ("ltgtruri", Reject(400)),
    ("lwsruri", Reject(400)),
    // Liberal: we reject several SP in the request line as malformed.
    ("lwsstart", Reject(400)),
    // Liberal: we reject a trailing SP after the version as malformed.
    ("trws", Reject(400)),
    ("escruri", Reject(400)),
    // Liberal: Date is not needed to process a message; it is only checked when read.
    ("baddate", Accept),
    ("regbadct", Reject(400)),
    ("badaspec", Reject(400)),
    ("baddn", Reject(400)),
    ("badvers", Reject(505)),
    ("mismatch01", Reject(400)),
    ("mismatch02", Reject(501)),
    ("bigcode", Drop),
    ("badbranch", Accept),
    ("insuf", Reject(400)),
    ("unkscm", Reject(416)),
    // We handle sip, sips and tel only, so a UAS answers 416 here too.
    ("novelsc", Reject(416)),
    ("unksm2", Accept),
    ("bext01", Accept),
    ("invut", Accept),
    ("regaut01", Accept),
    ("multi01", Reject(400)),
    ("mcl01", Reject(400)),
    ("bcast", Accept),
    ("zeromf", Accept),
    ("cparam01", Accept),
    ("cparam02", Accept),
    ("regescrt", Accept),
    ("sdp01", Accept),
    ("inv2543", Accept),
];

const RFC5118: &[(&str, Verdict)] = &[
    ("ipv6-good", Accept),
    ("ipv6-bad", Reject(400)),
    ("port-ambiguous", Accept),
    ("port-unambiguous", Accept),
    ("via-received-param-with-delim", Accept),
    ("via-received-param-no-delim", Accept),
    ("ipv6-in-sdp", Accept),
    ("mult-ip-in-header", Accept),
    ("mult-ip-in-sdp", Accept),
    ("ipv4-mapped-ipv6", Accept),
    ("ipv6-bug-abnf-3-colons", Accept),
    ("ipv6-correct-abnf-2-colons", Accept),
];

fn parse(dir: &str, name: &str) -> Result<Message, ParseError> {
    Message::parse(data(dir, name))
}

#[test]
fn rfc4475_verdicts() {
    let mut wrong = Vec::new();
    for &(name, want) in RFC4475 {
        let r = parse("torture", name);
        let got = verdict(&r);
        if got != want {
            wrong.push(format!("{name}: want {want:?}, got {got:?} ({r:?})"));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn rfc5118_verdicts() {
    let mut wrong = Vec::new();
    for &(name, want) in RFC5118 {
        let r = parse("torture-ipv6", name);
        let got = verdict(&r);
        if got != want {
            wrong.push(format!("{name}: want {want:?}, got {got:?} ({r:?})"));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn every_corpus_file_has_a_verdict() {
    for (dir, table) in [("torture", RFC4475), ("torture-ipv6", RFC5118)] {
        let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("tests/data")
            .join(dir);
        for entry in std::fs::read_dir(path).unwrap() {
            let name = entry.unwrap().file_name().into_string().unwrap();
            if let Some(stem) = name.strip_suffix(".dat") {
                // test.dat is in the RFC 4475 archive but described nowhere; it only
                // has to parse without a panic.
                if stem == "test" {
                    let _ = parse(dir, stem);
                    continue;
                }
                assert!(
                    table.iter().any(|(n, _)| *n == stem),
                    "{dir}/{name} has no verdict"
                );
            }
        }
    }
}

fn ok(dir: &str, name: &str) -> Message {
    parse(dir, name).unwrap_or_else(|e| panic!("{name}: {e}"))
}

#[test]
fn wsinv_fields() {
    let m = ok("torture", "wsinv");
    let r = m.as_request().unwrap();
    assert_eq!(r.method().as_str(), "INVITE");
    assert_eq!(r.uri().param("unknownparam"), Some(None));
    assert_eq!(r.to().tag(), Some("1918181833n"));
    assert_eq!(r.from().display_name().as_deref(), Some("J Rosenberg \\\""));
    assert_eq!(r.from().tag(), Some("98asjd8"));
    assert_eq!(r.max_forwards(), Some(68));
    assert_eq!(r.cseq_seq(), 9);
    assert_eq!(r.call_id(), "wsinv.ndaksdj@192.0.2.1");
    let vias: Vec<_> = r.vias().collect();
    assert_eq!(vias.len(), 3);
    assert_eq!(vias[0].transport(), "UDP");
    assert_eq!(vias[0].branch(), Some("390skdjuw"));
    assert_eq!(vias[1].transport(), "TCP");
    assert_eq!(vias[1].host(), "spindle.example.com");
    assert_eq!(vias[2].branch(), Some("z9hG4bK30239"));
    let c: Vec<_> = r.contacts().collect();
    assert_eq!(c.len(), 1);
    assert_eq!(c[0].display_name().as_deref(), Some("Quoted string \"\""));
    assert_eq!(c[0].q(), Some(0.33));
    assert_eq!(c[0].param("newparam"), Some(Some("newvalue")));
    assert_eq!(r.header(HeaderName::Subject), Some(""));
    assert_eq!(
        r.header_values_by_name("NewFangledHeader").next(),
        Some("newfangled value   continued newfangled value")
    );
    assert_eq!(
        r.header_values_by_name("UnknownHeaderWithUnusualValue")
            .next(),
        Some(";;,,;;,;")
    );
    assert_eq!(r.body().len(), 150);
    let route = r.routes().next().unwrap().unwrap();
    assert!(route.uri().lr());
}

#[test]
fn intmeth_fields() {
    let m = ok("torture", "intmeth");
    let r = m.as_request().unwrap();
    assert_eq!(
        r.method().as_str(),
        "!interesting-Method0123456789_*+`.%indeed'~"
    );
    assert!(r.method().is_extension());
    let u = r.uri();
    assert_eq!(
        u.user(),
        Some("1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*")
    );
    assert_eq!(
        u.password(),
        Some("&it+has=1,weird!*pas$wo~d_too.(doesn't-it)")
    );
    assert_eq!(u.host(), "example.com");
    assert_eq!(
        r.to().display_name_raw(),
        Some("\"BEL:\\\x07 NUL:\\\0 DEL:\\\x7f\"")
    );
    assert_eq!(r.from().tag(), Some("_token~1'+`*%!-."));
    assert_eq!(
        r.from().display_name_raw(),
        Some("token1~` token2'+_ token3*%!.-")
    );
    assert_eq!(r.call_id(), "intmeth.word%ZK-!.*_+'@word`~)(><:\\/\"][?}{");
    assert_eq!(r.max_forwards(), Some(255));
}

#[test]
fn escapes_are_not_unescaped_twice() {
    let m = ok("torture", "esc01");
    let r = m.as_request().unwrap();
    assert_eq!(
        r.uri().user_decoded().as_deref(),
        Some(&b"sips:user@example.com"[..])
    );
    assert_eq!(r.to().uri().user_decoded().as_deref(), Some(&b"user"[..]));
    assert_eq!(
        r.from().uri().user_decoded().as_deref(),
        Some(&b"I have spaces"[..])
    );
    let c = r.contacts().next().unwrap();
    let name = c.uri().param("n%61me").flatten().unwrap();
    assert_eq!(&*sip_message::percent_decode(name), b"value%41");

    let m = ok("torture", "escnull");
    let users: Vec<Vec<u8>> = m
        .contacts()
        .map(|c| c.uri().user_decoded().unwrap().into_owned())
        .collect();
    assert_eq!(users, vec![b"\0".to_vec(), b"\0\0".to_vec()]);
    assert_eq!(m.to().uri().user_decoded().unwrap().len(), 11);

    let m = ok("torture", "esc02");
    let r = m.as_request().unwrap();
    assert!(r.method().is_extension());
    assert_eq!(r.method().as_str(), "RE%47IST%45R");
    assert_eq!(r.contacts().count(), 2);
    assert_eq!(r.header_values_by_name("C%6Fntact").count(), 1);
}

#[test]
fn semicolon_in_user_and_display_forms() {
    let m = ok("torture", "semiuri");
    let r = m.as_request().unwrap();
    assert_eq!(
        r.uri().user_decoded().as_deref(),
        Some(&b"user;par=u@example.net"[..])
    );
    let m = ok("torture", "lwsdisp");
    assert_eq!(m.from().display_name_raw(), Some("caller"));
}

#[test]
fn longreq_and_transports() {
    let m = ok("torture", "longreq");
    assert_eq!(m.via_count(), 34);
    assert_eq!(m.vias().last().unwrap().received(), Some("192.0.2.5"));
    assert!(m.to().display_name().unwrap().len() > 90);
    assert_eq!(m.body().len(), 150);
    let m = ok("torture", "transports");
    let t: Vec<_> = m.vias().map(|v| v.transport().to_owned()).collect();
    assert_eq!(t, ["UDP", "SCTP", "TLS", "UNKNOWN", "TCP"]);
}

#[test]
fn datagram_body_rules() {
    // Extra octets after Content-Length are ignored, never parsed as a second message.
    let m = ok("torture", "dblreq");
    assert_eq!(m.as_request().unwrap().method().as_str(), "REGISTER");
    assert!(m.body().is_empty());
    // No Content-Length on UDP: the body is the rest of the datagram (RFC 2543 style).
    let m = ok("torture", "inv2543");
    assert_eq!(m.content_length(), None);
    assert!(!m.body().is_empty());
    assert!(m.top_via().branch().is_none());
    assert!(m.from().tag().is_none());
    // A binary body with NUL and bare LF is framed by Content-Length alone.
    let m = ok("torture", "mpart01");
    assert_eq!(m.body().len(), m.content_length().unwrap() as usize);
    assert!(m.content_type().unwrap().is_multipart());
}

#[test]
fn responses() {
    let m = ok("torture", "unreason");
    let r = m.as_response().unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert!(!r.reason().is_ascii());
    let m = ok("torture", "noreason");
    let r = m.as_response().unwrap();
    assert_eq!(r.status().as_u16(), 100);
    assert_eq!(r.reason(), "");
    let m = ok("torture", "bcast");
    assert_eq!(m.vias().nth(1).unwrap().host(), "255.255.255.255");
}

#[test]
fn rejected_messages_name_their_fault() {
    let kind = |n: &str| parse("torture", n).unwrap_err().kind().clone();
    assert!(matches!(
        kind("badinv01"),
        ParseErrorKind::BadHeader {
            name: HeaderName::Via,
            ..
        }
    ));
    assert!(matches!(
        kind("clerr"),
        ParseErrorKind::BodyTruncated { declared: 9999, .. }
    ));
    assert!(matches!(
        kind("ncl"),
        ParseErrorKind::BadHeader {
            name: HeaderName::ContentLength,
            ..
        }
    ));
    assert!(matches!(
        kind("scalar02"),
        ParseErrorKind::BadHeader {
            name: HeaderName::CSeq,
            ..
        }
    ));
    assert!(matches!(
        kind("quotbal"),
        ParseErrorKind::BadHeader {
            name: HeaderName::To,
            ..
        }
    ));
    assert!(matches!(kind("ltgtruri"), ParseErrorKind::BadRequestUri(_)));
    assert!(matches!(
        kind("escruri"),
        ParseErrorKind::HeadersInRequestUri
    ));
    assert!(matches!(
        kind("regbadct"),
        ParseErrorKind::BadHeader {
            name: HeaderName::Contact,
            ..
        }
    ));
    assert!(matches!(
        kind("badaspec"),
        ParseErrorKind::BadHeader {
            name: HeaderName::To,
            ..
        }
    ));
    assert!(matches!(
        kind("baddn"),
        ParseErrorKind::BadHeader {
            name: HeaderName::From,
            ..
        } | ParseErrorKind::UnterminatedHeaders
    ));
    assert_eq!(kind("badvers"), ParseErrorKind::UnsupportedVersion);
    assert_eq!(kind("mismatch01"), ParseErrorKind::CSeqMethodMismatch);
    assert_eq!(
        kind("insuf"),
        ParseErrorKind::MissingHeader(HeaderName::From)
    );
    assert_eq!(kind("unkscm"), ParseErrorKind::UnsupportedUriScheme);
    assert!(matches!(
        kind("multi01"),
        ParseErrorKind::DuplicateHeader(_)
    ));
    assert_eq!(
        kind("mcl01"),
        ParseErrorKind::DuplicateHeader(HeaderName::ContentLength)
    );
    assert_eq!(kind("bigcode"), ParseErrorKind::BadStatusCode);
    // Offsets point into the message.
    let e = parse("torture", "badvers").unwrap_err();
    assert!(e.offset() > 0);
}

#[test]
fn application_level_messages_parse() {
    // These are well formed; the UA or registrar decides (420, 415, 401, 406, 400).
    let m = ok("torture", "bext01");
    let req: Vec<_> = m
        .typed_all::<sip_message::headers::Token<'_>>(HeaderName::Require)
        .map(|t| t.unwrap().0)
        .collect();
    assert_eq!(req, ["nothingSupportsThis", "nothingSupportsThisEither"]);
    let m = ok("torture", "regaut01");
    let (name, auth) = m.auth_headers().next().unwrap();
    assert_eq!(name, HeaderName::Authorization);
    let auth: AuthHeader<'_> = auth.unwrap();
    assert_eq!(auth.scheme(), "NoOneKnowsThisScheme");
    let m = ok("torture", "unksm2");
    assert_eq!(m.to().uri().scheme(), Scheme::Other);
    let m = ok("torture", "zeromf");
    assert_eq!(m.max_forwards(), Some(0));
    let m = ok("torture", "cparam01");
    let c = m.contacts().next().unwrap();
    assert_eq!(c.param("unknownparam"), Some(None));
    let m = ok("torture", "cparam02");
    let c = m.contacts().next().unwrap();
    assert_eq!(c.uri().param("unknownparam"), Some(None));
    let m = ok("torture", "regescrt");
    let c = m.contacts().next().unwrap();
    assert_eq!(c.uri().headers(), Some("Route=%3Csip:sip.example.com%3E"));
    let m = ok("torture", "baddate");
    assert!(
        m.typed::<sip_message::headers::HttpDate>(HeaderName::Date)
            .unwrap()
            .is_err()
    );
    let m = ok("torture", "badbranch");
    assert_eq!(m.top_via().branch(), Some("z9hG4bK"));
    assert!(!m.top_via().has_rfc3261_branch());
}

#[test]
fn ipv6_fields() {
    let m = ok("torture-ipv6", "ipv6-good");
    let r = m.as_request().unwrap();
    assert_eq!(r.uri().host_kind(), HostKind::Ipv6);
    assert_eq!(r.top_via().host_kind(), HostKind::Ipv6);
    let m = ok("torture-ipv6", "port-ambiguous");
    assert_eq!(m.as_request().unwrap().uri().port(), None);
    let m = ok("torture-ipv6", "port-unambiguous");
    assert_eq!(m.as_request().unwrap().uri().port(), Some(5070));
    for name in [
        "via-received-param-with-delim",
        "via-received-param-no-delim",
    ] {
        let m = ok("torture-ipv6", name);
        assert_eq!(
            m.top_via().received_ip(),
            Some("2001:db8::9:255".parse().unwrap()),
            "{name}"
        );
    }
    let m = ok("torture-ipv6", "mult-ip-in-header");
    let vias: Vec<_> = m.vias().collect();
    assert!(vias.iter().any(|v| v.port() == Some(6050)));
    assert!(vias.iter().any(|v| v.host_kind() == HostKind::Ipv4));
    let m = ok("torture-ipv6", "ipv4-mapped-ipv6");
    assert_eq!(m.top_via().host(), "[::ffff:192.0.2.10]");
    assert_eq!(m.top_via().port(), Some(19823));
    let a = ok("torture-ipv6", "ipv6-bug-abnf-3-colons");
    let b = ok("torture-ipv6", "ipv6-correct-abnf-2-colons");
    assert_eq!(
        a.as_request().unwrap().uri().ip(),
        b.as_request().unwrap().uri().ip()
    );
}

#[test]
fn wrong_content_length_in_rfc5118_copies_truncates_the_body() {
    // These CRLF copies declare fewer octets than they carry: on UDP the declared
    // length wins and the rest of the datagram is ignored (RFC 3261 §18.3).
    for name in ["ipv6-in-sdp", "mult-ip-in-sdp", "ipv4-mapped-ipv6"] {
        let m = ok("torture-ipv6", name);
        let cl = m.content_length().unwrap() as usize;
        assert_eq!(m.body().len(), cl, "{name}");
    }
}

#[test]
fn baddn_as_archived_is_incomplete_on_a_stream() {
    // The archive copy lacks the empty line; a stream parser must wait, not fail.
    let raw = data("torture", "baddn");
    let mut f = sip_message::StreamFramer::new(sip_message::Limits::default());
    assert!(matches!(
        f.poll(&raw),
        Ok(sip_message::FrameStatus::Partial)
    ));
}

#[test]
fn typed_values_match_parse_of_standalone_strings() {
    let m = ok("torture", "wsinv");
    for v in m.vias() {
        let again = sip_message::headers::Via::parse(v.as_str()).unwrap();
        assert_eq!(again, v);
    }
}
