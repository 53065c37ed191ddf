//! WWW-Authenticate, Proxy-Authenticate, Authorization and Proxy-Authorization
//! (RFC 3261 §20.7, §20.27, §20.28, §20.44; RFC 7235 §2.1): an auth scheme followed by
//! comma-separated `name=value` parameters, or a token68 (`Basic dXNlcjpwYXNz`).
//!
//! Several challenges may share one header line, separated by commas; a new challenge
//! is recognised where a comma is followed by a token that is not a parameter name
//! (`Digest realm="a", nonce="b", Digest realm="c"`).

use std::borrow::Cow;
use std::fmt;

use crate::error::{SyntaxError, SyntaxErrorKind};
use crate::headers::TypedHeader;
use crate::lex;
use crate::span::{MAX_HEAD, Span};

/// One challenge or one set of credentials: a scheme and its parameters.
#[derive(Clone, Copy)]
pub struct AuthHeader<'a> {
    scheme: &'a str,
    params: &'a str,
    token68: Option<&'a str>,
    /// Where the parameters sit in `params`, as the parse found them, so that reading
    /// them does not scan the text again.
    spans: ParamSpans,
}

/// How many parameters an [`AuthHeader`] remembers from its parse: a digest challenge
/// has about five, credentials about ten; a longer list is scanned on from the last.
const CACHED_PARAMS: usize = 12;

/// One parameter's name and value as offsets into the parameter text.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct ParamSpan {
    name: Span,
    value: Span,
}

/// The parameter spans an [`AuthHeader`] remembers.
#[derive(Clone, Copy, Debug, Default)]
struct ParamSpans {
    spans: [ParamSpan; CACHED_PARAMS],
    /// How many of `spans` are filled.
    len: u8,
    /// Whether they are all the parameters (otherwise reading goes on scanning after
    /// the last one).
    complete: bool,
}

impl ParamSpans {
    /// Remembers one more parameter; says whether there was room.
    fn push(&mut self, name: Span, value: Span) -> bool {
        match self.spans.get_mut(usize::from(self.len)) {
            Some(slot) => {
                *slot = ParamSpan { name, value };
                self.len += 1;
                true
            }
            None => false,
        }
    }
}

/// A challenge (WWW-Authenticate, Proxy-Authenticate).
pub type Challenge<'a> = AuthHeader<'a>;
/// Credentials (Authorization, Proxy-Authorization).
pub type Credentials<'a> = AuthHeader<'a>;

impl<'a> AuthHeader<'a> {
    /// The scheme as written (`Digest`, `Basic`, ...); compare case-insensitively.
    pub fn scheme(&self) -> &'a str {
        self.scheme
    }

    /// Whether the scheme is `Digest`.
    pub fn is_digest(&self) -> bool {
        self.scheme.eq_ignore_ascii_case("Digest")
    }

    /// The token68 form of the credentials, if that is what was sent (Basic).
    pub fn token68(&self) -> Option<&'a str> {
        self.token68
    }

    /// The parameters in order; values as written (quoted ones keep their quotes).
    pub fn params(&self) -> AuthParams<'a> {
        AuthParams {
            text: self.params,
            pos: 0,
            spans: self.spans,
            next: 0,
        }
    }

    /// One parameter by name (case-insensitive), unquoted.
    pub fn param(&self, name: &str) -> Option<Cow<'a, str>> {
        self.params()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| lex::unquote(v))
    }

    /// One parameter by name, exactly as written (quotes kept).
    pub fn param_raw(&self, name: &str) -> Option<&'a str> {
        self.params()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v)
    }
}

impl PartialEq for AuthHeader<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.scheme.eq_ignore_ascii_case(other.scheme)
            && self.token68 == other.token68
            && self.params().eq(other.params())
    }
}

impl fmt::Debug for AuthHeader<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Credentials may carry secrets (Basic); show the scheme and parameter names only.
        let names: Vec<&str> = self.params().map(|(n, _)| n).collect();
        f.debug_struct("AuthHeader")
            .field("scheme", &self.scheme)
            .field("params", &names)
            .finish()
    }
}

impl fmt::Display for AuthHeader<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.scheme)?;
        if let Some(t) = self.token68 {
            return write!(f, " {t}");
        }
        for (i, (n, v)) in self.params().enumerate() {
            write!(f, "{}{n}={v}", if i == 0 { " " } else { ", " })?;
        }
        Ok(())
    }
}

/// The parameters of an auth header, as `(name, raw value)` pairs.
#[derive(Clone, Debug)]
pub struct AuthParams<'a> {
    text: &'a str,
    /// Where scanning goes on once the remembered spans are used up.
    pos: usize,
    spans: ParamSpans,
    /// The next remembered span to hand out.
    next: u8,
}

impl<'a> Iterator for AuthParams<'a> {
    type Item = (&'a str, &'a str);

    fn next(&mut self) -> Option<Self::Item> {
        if self.next < self.spans.len {
            let ParamSpan { name, value } = self.spans.spans[usize::from(self.next)];
            self.next += 1;
            self.pos = value.end();
            return Some((name.of(self.text), value.of(self.text)));
        }
        if self.spans.complete {
            return None;
        }
        let s = self.text.as_bytes();
        let end = s.len();
        let mut p = lex::skip_lws(s, self.pos, end);
        while p < end && s[p] == b',' {
            p = lex::skip_lws(s, p + 1, end);
        }
        let ne = lex::token(s, p, end)?;
        let v = lex::sep(s, ne, end, b'=')?;
        let ve = value_end(s, v, end).ok()?;
        self.pos = ve;
        Some((&self.text[p..ne], &self.text[v..ve]))
    }
}

fn value_end(s: &[u8], v: usize, end: usize) -> Result<usize, SyntaxError> {
    if v < end && s[v] == b'"' {
        lex::quoted_string(s, v, end)
            .map_err(|o| SyntaxError::new(SyntaxErrorKind::UnterminatedQuote, o))
    } else {
        lex::token(s, v, end).ok_or(SyntaxError::expected("parameter value", v))
    }
}

/// Whether a `name = value` parameter starts at `p` (as opposed to a new scheme or a
/// token68 with `=` padding).
fn param_starts(s: &[u8], p: usize, end: usize) -> bool {
    lex::token(s, p, end).is_some_and(|ne| {
        lex::sep(s, ne, end, b'=')
            .is_some_and(|v| v < end && (s[v] == b'"' || lex::TOKEN[s[v] as usize]))
    })
}

fn is_token68_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b'+' | b'/')
}

impl<'a> TypedHeader<'a> for AuthHeader<'a> {
    const LIST: bool = true;

    fn parse_at(base: &'a str, pos: usize, end: usize) -> Result<(Self, usize), SyntaxError> {
        let s = base.as_bytes();
        let p = lex::skip_lws(s, pos, end);
        let se = lex::token(s, p, end).ok_or(SyntaxError::expected("auth scheme", p))?;
        let scheme = &base[p..se];
        let q = lex::skip_lws(s, se, end);
        if q >= end || s[q] == b',' {
            // A scheme alone (no parameters).
            return Ok((
                AuthHeader {
                    scheme,
                    params: "",
                    token68: None,
                    spans: ParamSpans {
                        complete: true,
                        ..ParamSpans::default()
                    },
                },
                se,
            ));
        }
        if q == se {
            return Err(SyntaxError::expected("white space after auth scheme", se));
        }
        if !param_starts(s, q, end) {
            if scheme.eq_ignore_ascii_case("Digest") {
                return Err(SyntaxError::expected("auth parameter", q));
            }
            // token68: base64-like characters followed by optional '='.
            let mut e = q;
            while e < end && is_token68_char(s[e]) {
                e += 1;
            }
            while e < end && s[e] == b'=' {
                e += 1;
            }
            if e == q {
                return Err(SyntaxError::expected("auth parameter", q));
            }
            return Ok((
                AuthHeader {
                    scheme,
                    params: "",
                    token68: Some(&base[q..e]),
                    spans: ParamSpans {
                        complete: true,
                        ..ParamSpans::default()
                    },
                },
                e,
            ));
        }
        // Each parameter is scanned once: after a comma, the next name is looked at to
        // tell a parameter from a new challenge, and kept when it is a parameter.
        let ne = lex::token(s, q, end).ok_or(SyntaxError::expected("parameter name", q))?;
        let mut v = lex::sep(s, ne, end, b'=').ok_or(SyntaxError::expected("'='", ne))?;
        let mut name = Span::new(0, ne - q);
        let mut spans = ParamSpans::default();
        // Spans are 16-bit; a longer standalone value is scanned when read.
        let mut all_kept = end - q <= MAX_HEAD;
        let mut last;
        loop {
            last = value_end(s, v, end)?;
            all_kept = all_kept && spans.push(name, Span::new(v - q, last - q));
            // Reads past `end` as NUL, which nothing below accepts.
            let at = |i: usize| if i < end { s[i] } else { 0 };
            // The usual separator, `, ` before a name, without the general loops.
            let n = if at(last) == b',' && at(last + 1) == b' ' && lex::TOKEN[at(last + 2) as usize]
            {
                last + 2
            } else {
                let c = lex::skip_lws(s, last, end);
                if c >= end || s[c] != b',' {
                    break;
                }
                let mut n = lex::skip_lws(s, c + 1, end);
                while n < end && s[n] == b',' {
                    n = lex::skip_lws(s, n + 1, end);
                }
                n
            };
            let next = lex::token(s, n, end).and_then(|ne2| {
                // `=` right after the name, the usual way, or with white space around it.
                let v2 = if at(ne2) == b'=' && !lex::is_lws_byte(at(ne2 + 1)) {
                    ne2 + 1
                } else {
                    lex::sep(s, ne2, end, b'=')?
                };
                (v2 < end && (s[v2] == b'"' || lex::TOKEN[s[v2] as usize])).then_some((ne2, v2))
            });
            match next {
                Some((ne2, v2)) => {
                    name = Span::new(n - q, ne2 - q);
                    v = v2;
                }
                None => break,
            }
        }
        spans.complete = all_kept;
        Ok((
            AuthHeader {
                scheme,
                params: &base[q..last],
                token68: None,
                spans,
            },
            last,
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digest_challenge() {
        let c = Challenge::parse(r#"Digest realm="biloxi.example.com", qop="auth", nonce="ea9c", opaque="", stale=FALSE, algorithm=MD5"#).unwrap();
        assert!(c.is_digest());
        assert_eq!(c.param("realm").as_deref(), Some("biloxi.example.com"));
        assert_eq!(c.param("opaque").as_deref(), Some(""));
        assert_eq!(c.param("STALE").as_deref(), Some("FALSE"));
        assert_eq!(c.param("algorithm").as_deref(), Some("MD5"));
        assert_eq!(Challenge::parse(&c.to_string()).unwrap(), c);
    }

    /// The parameters found by scanning the text, without the spans from the parse.
    fn scanned<'a>(h: &AuthHeader<'a>) -> Vec<(&'a str, &'a str)> {
        AuthParams {
            text: h.params,
            pos: 0,
            spans: ParamSpans::default(),
            next: 0,
        }
        .collect()
    }

    #[test]
    fn remembered_parameters_are_the_scanned_ones() {
        // Fewer, as many as, and more parameters than are remembered; quoted values,
        // folded white space, empty quoted strings and repeated commas among them.
        for n in 0..(2 * CACHED_PARAMS + 3) {
            let mut text = String::from("Digest");
            for i in 0..n {
                text.push_str(if i == 0 { " " } else { ",\r\n\t ,, " });
                match i % 3 {
                    0 => text.push_str(&format!("p{i}=v{i}")),
                    1 => text.push_str(&format!("p{i} = \"a \\\" b{i}\"")),
                    _ => text.push_str(&format!("p{i}=\"\"")),
                }
            }
            let v: Vec<_> = Challenge::parse_list(&text).map(Result::unwrap).collect();
            assert_eq!(v.len(), 1, "{text}");
            let got: Vec<_> = v[0].params().collect();
            assert_eq!(got.len(), n, "{text}");
            assert_eq!(got, scanned(&v[0]), "{text}");
        }
        // Two challenges on one line keep their own parameters.
        let v: Vec<_> = Challenge::parse_list(r#"Digest a=1, b="2", Basic realm="r""#)
            .map(Result::unwrap)
            .collect();
        assert_eq!(
            v[0].params().collect::<Vec<_>>(),
            [("a", "1"), ("b", "\"2\"")]
        );
        assert_eq!(v[1].params().collect::<Vec<_>>(), [("realm", "\"r\"")]);
        // A standalone value longer than spans can address is refused before any
        // span is made.
        let long = format!("Digest realm=\"{}\", nonce=n", "x".repeat(70_000));
        assert!(Challenge::parse(&long).is_err());
    }

    proptest::proptest! {
        /// Any text made of the pieces of auth headers: whatever parses, its remembered
        /// parameters are the ones a scan of its text finds.
        #[test]
        fn remembered_parameters_match_a_scan_on_any_text(
            pieces in proptest::collection::vec(
                proptest::sample::select(&[
                    "Digest", "Basic", " ", ",", ", ", "=", "\"", "\\", "realm", "nonce",
                    "a", "b1", "\"x y\"", "\"\"", "\r\n ", "\t", "QWxh==", "-", ";",
                ][..]),
                0..40,
            ),
        ) {
            let text: String = pieces.concat();
            for h in Challenge::parse_list(&text).flatten() {
                let got: Vec<_> = h.params().collect();
                proptest::prop_assert_eq!(got, scanned(&h), "{:?}", text);
            }
        }
    }

    #[test]
    fn several_challenges_on_one_line() {
        let v: Vec<_> = Challenge::parse_list(
            r#"Digest realm="a", nonce="1", algorithm=SHA-256, Digest realm="a", nonce="2", Basic realm="b""#,
        )
        .map(Result::unwrap)
        .collect();
        assert_eq!(v.len(), 3);
        assert_eq!(v[0].param("algorithm").as_deref(), Some("SHA-256"));
        assert_eq!(v[1].param("nonce").as_deref(), Some("2"));
        assert_eq!(v[2].scheme(), "Basic");
    }

    #[test]
    fn other_forms() {
        let c = Credentials::parse("NoOneKnowsThisScheme opaque-data=here").unwrap();
        assert_eq!(c.param("opaque-data").as_deref(), Some("here"));
        let b = Credentials::parse("Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==").unwrap();
        assert_eq!(b.token68(), Some("QWxhZGRpbjpvcGVuIHNlc2FtZQ=="));
        assert!(!format!("{b:?}").contains("QWxh"));
        assert!(Credentials::parse(r#"Digest realm="open"#).is_err());
        assert!(Credentials::parse("Digest realm=").is_err());
    }
}
