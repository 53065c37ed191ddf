//! One forward pass over the shapes of name-addr that nearly every message carries:
//!
//! ```text
//! [ token SP | quoted-string [SP] ] "<" ("sip:" | "sips:") [user "@"] host [":" port]
//!     *(";" uri-param) ">" *(";" token ["=" value])
//! ```
//!
//! without folding, escapes, passwords, URI headers or white space around `;` and `=`.
//! Anything else, and anything wrong, returns `None`, and the general parser
//! ([`super::name_addr`]) reads the value from the start; for every input it accepts, the
//! result is the one the general parser gives (the tests compare them).

use crate::headers::NameAddrData;
use crate::lex::{self, PASSWORD, TOKEN, USER};
use crate::params::{parse_header_params_fast, parse_uri_params};
use crate::span::Span;
use crate::uri::{Scheme, UriData, parse_host, parse_port};

/// The scheme at `u` when it is `sip:` or `sips:` in any case, and where the part
/// after the colon starts.
#[inline(always)]
fn sip_scheme(s: &[u8], u: usize, end: usize) -> Option<(Scheme, usize)> {
    const CASE: u32 = u32::from_le_bytes([0x20, 0x20, 0x20, 0]);
    let w = s.get(u..u + 4).filter(|_| u + 4 <= end)?;
    let word = u32::from_le_bytes([w[0], w[1], w[2], w[3]]);
    if word | CASE == u32::from_le_bytes(*b"sip:") {
        return Some((Scheme::Sip, u + 4));
    }
    let sips_case = u32::from_le_bytes([0x20; 4]);
    if word | sips_case == u32::from_le_bytes(*b"sips") && u + 5 <= end && s[u + 4] == b':' {
        return Some((Scheme::Sips, u + 5));
    }
    None
}

/// The fast path of a `sip:`/`sips:` URI at `u` without escapes, a password or URI
/// headers: its data and where it stops (at the first byte that cannot continue it).
/// `None` for anything else, which the general URI parser then reads.
pub(crate) fn parse_sip_uri_fast(s: &[u8], u: usize, end: usize) -> Option<(UriData, usize)> {
    let at = |i: usize| if i < end { s[i] } else { 0 };
    let (scheme, rest) = sip_scheme(s, u, end)?;
    let mut uri = UriData {
        scheme,
        scheme_span: Span::new(u, rest - 1),
        ..UriData::default()
    };
    let q = lex::skip_class(s, rest, end, &USER);
    let host_start = match at(q) {
        b'@' if q > rest => {
            uri.user = Some(Span::new(rest, q));
            q + 1
        }
        b'@' | b'%' => return None,
        b':' => {
            // `host:port` (a password would be followed by '@').
            let r = lex::skip_class(s, q + 1, end, &PASSWORD);
            if matches!(at(r), b'@' | b'%') {
                return None;
            }
            rest
        }
        _ => rest,
    };
    let (host, kind, mut p) = parse_host(s, host_start, end).ok()?;
    uri.host = host;
    uri.host_kind = kind;
    if at(p) == b':' {
        let (port, pe) = parse_port(s, p + 1, end).ok()?;
        uri.port = Some(port);
        p = pe;
    }
    let (params, pe) = parse_uri_params(s, p, end).ok()?;
    uri.params = params;
    if at(pe) == b'?' {
        return None;
    }
    uri.all = Span::new(u, pe);
    Some((uri, pe))
}

/// The fast path of `parse_name_addr` for a value starting (after white space) at
/// `start < end`: fills `out` and says where the value stops. `None` leaves `out`
/// untouched.
pub(crate) fn parse_name_addr_fast(
    s: &[u8],
    start: usize,
    end: usize,
    out: &mut NameAddrData,
) -> Option<usize> {
    // Reads past `end` as NUL, which no branch below accepts as part of anything.
    let at = |i: usize| if i < end { s[i] } else { 0 };
    let mut d = NameAddrData::default();
    let lt = match at(start) {
        b'<' => start,
        b'"' => {
            let close = lex::find_quote_or_backslash_in(s, start + 1, end)?;
            if s[close] != b'"' {
                return None;
            }
            d.display = Some(Span::new(start, close + 1));
            let mut p = close + 1;
            if at(p) == b' ' {
                p += 1;
            }
            if at(p) != b'<' {
                return None;
            }
            p
        }
        _ => {
            let t = lex::skip_class(s, start, end, &TOKEN);
            if t == start {
                return None;
            }
            let lt = if at(t) == b'<' {
                t
            } else if at(t) == b' ' && at(t + 1) == b'<' {
                t + 1
            } else {
                return None;
            };
            d.display = Some(Span::new(start, t));
            lt
        }
    };

    // The URI.
    let (uri, pe) = parse_sip_uri_fast(s, lt + 1, end)?;
    if at(pe) != b'>' {
        return None;
    }
    d.uri = uri;
    d.angle = true;

    // Header parameters.
    let mut tag = None;
    let (params, p) = parse_header_params_fast(s, pe + 1, end, |name, value| {
        if lex::eq_token_ic(name, b"tag") {
            // The general parser requires a value for a tag.
            tag = value.map(|v| v.span);
            return value.is_some();
        }
        true
    })?;
    d.tag = tag;
    d.params = params;
    d.all = Span::new(start, p);
    *out = d;
    Some(p)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::headers::name_addr::parse_name_addr_general;
    use proptest::prelude::*;

    /// The fast path's answer must be the general parser's, whenever it gives one.
    fn agrees(text: &str) -> bool {
        let s = text.as_bytes();
        let start = lex::skip_lws(s, 0, s.len());
        if start >= s.len() {
            return false;
        }
        let mut d = NameAddrData::default();
        match parse_name_addr_fast(s, start, s.len(), &mut d).map(|e| (d, e)) {
            Some(fast) => {
                let general = parse_name_addr_general(s, start, s.len(), false);
                assert_eq!(Ok(fast), general, "{text:?}");
                true
            }
            None => false,
        }
    }

    #[test]
    fn common_shapes_take_the_fast_path_and_agree() {
        for text in [
            "<sip:alice@atlanta.example.com>;tag=9fxced76sl",
            "Alice <sip:alice@atlanta.example.com>;tag=9fxced76sl",
            "Alice<sip:alice@atlanta.example.com>",
            "\"Alice Liddell\" <sips:alice@example.com:5061;transport=tls>;tag=1;x",
            "\"Alice\"<sip:alice@192.0.2.1>",
            "<sip:192.0.2.1:5060;lr>",
            "<SIP:Bob@Biloxi.Example.COM>;TAG=a;expires=3600;q=0.5",
            "<sip:alice@client.atlanta.example.com;transport=udp>;+sip.instance=x",
            "<sip:+1-555-0100;phone-context=x@gw.example.com;user=phone>",
            "<sip:[2001:db8::1]:5060>",
        ] {
            assert!(agrees(text), "{text} should take the fast path");
        }
    }

    #[test]
    fn other_shapes_are_left_to_the_general_parser() {
        for text in [
            "sip:alice@example.com;tag=1",
            "Bob Smith <sip:bob@example.com>",
            "\"B\\\"o\" <sip:bob@example.com>",
            "<sip:alice:pw@example.com>",
            "<sip:al%41ce@example.com>",
            "<sip:alice@example.com?subject=x>",
            "<tel:+15550100>",
            "<sip:alice@example.com> ;tag=1",
            "<sip:alice@example.com>;tag = 1",
            "<sip:alice@example.com>;tag=\"1\"",
            "<sip:alice@example.com>;tag",
            "<sip:@example.com>",
            "<sip:alice@example.com",
            "Alice  <sip:alice@example.com>",
        ] {
            assert!(!agrees(text), "{text} should go to the general parser");
        }
    }

    proptest::proptest! {
        /// Whole URIs read by the fast path read as the general parser reads them.
        #[test]
        fn fast_path_agrees_with_the_general_parser(
            scheme in proptest::sample::select(&["sip:", "SIPS:", "sips:", "tel:", "sip", "x:"][..]),
            user in proptest::sample::select(&["", "alice@", "a%41@", "a:pw@", "@", "a;b@", ":1@"][..]),
            host in proptest::sample::select(&["example.com", "192.0.2.1", "[::1]", "1.2.3.999", "-x", "", "a_b"][..]),
            port in proptest::sample::select(&["", ":5060", ":70000", ":", ":x"][..]),
            params in proptest::sample::select(&["", ";lr", ";transport=tcp", ";x=%41", ";=", ";a;b=c"][..]),
            tail in proptest::sample::select(&["", "?h=v", ">", " ", ","][..]),
        ) {
            let text = format!("{scheme}{user}{host}{port}{params}{tail}");
            let s = text.as_bytes();
            if let Some((fast, e)) = parse_sip_uri_fast(s, 0, s.len()) {
                let general = crate::uri::parse_uri_prefix(s, 0, s.len());
                proptest::prop_assert_eq!(Ok((fast, e)), general, "{}", text);
            }
        }
    }

    fn piece(options: &'static [&'static str]) -> impl Strategy<Value = &'static str> {
        proptest::sample::select(options)
    }

    proptest! {
        #[test]
        fn agrees_with_the_general_parser_on_assembled_values(
            display in piece(&["", "Alice ", "Alice", "\"Bob\" ", "\"Bob\"", "\"B\\\"o\" ", "Bob Smith ", "\"x\"  ", "A\t", "\"unterminated "]),
            open in piece(&["<", "", "<<"]),
            scheme in piece(&["sip:", "SIP:", "sips:", "SiPs:", "tel:", "sipx:", "si:", "sips"]),
            user in piece(&["", "alice@", "al%41ice@", "a:pw@", "@", "a;b=c@", "+1-555@", "a%zz@", "a:@", ":5060@"]),
            host in piece(&["example.com", "192.0.2.1", "[::1]", "300.1.1.1", "-bad", "a_b.c", "", "host-1.example.com", "1.2.3"]),
            port in piece(&["", ":5060", ":99999", ":", ":0", ":x"]),
            params in piece(&["", ";transport=udp", ";lr", ";x=%41", ";=", ";a=b;c", ";%zz", ";a="]),
            headers in piece(&["", "?h=v", "?"]),
            close in piece(&[">", "", ">>", " >"]),
            hparams in piece(&["", ";tag=abc", ";tag", ";tag=\"q\"", " ;tag=a", ";tag = a", ";expires=3600", ";q=0.5;tag=x;tag=y", ";x", ",<sip:b@c>", " ", ";", ";=x", ";tag=a b", ";TAG=[::1]"]),
        ) {
            let text = format!("{display}{open}{scheme}{user}{host}{port}{params}{headers}{close}{hparams}");
            agrees(&text);
        }

        #[test]
        fn agrees_with_the_general_parser_after_any_one_byte_change(
            which in 0usize..4,
            at in any::<prop::sample::Index>(),
            byte in any::<u8>(),
        ) {
            let samples = [
                "Alice <sip:alice@atlanta.example.com:5060;transport=udp>;tag=9fxced76sl",
                "\"Alice\" <sips:alice@192.0.2.1>;tag=1;expires=60",
                "<sip:bob@biloxi.example.com;lr>",
                "Bob<sip:bob@b.example.com>;x;tag=q",
            ];
            let mut bytes = samples[which].as_bytes().to_vec();
            let i = at.index(bytes.len());
            bytes[i] = byte;
            if let Ok(text) = String::from_utf8(bytes) {
                agrees(&text);
            }
        }
    }
}
