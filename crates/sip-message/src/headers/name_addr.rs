//! `name-addr` / `addr-spec` with header parameters: From, To, Contact, Route,
//! Record-Route, Refer-To, Reply-To, P-Asserted-Identity, Path, Service-Route.

use std::borrow::Cow;
use std::fmt;

use crate::error::{SyntaxError, SyntaxErrorKind};
use crate::headers::TypedHeader;
use crate::lex;
use crate::params::{Params, parse_header_params};
use crate::span::Span;
use crate::uri::{Uri, UriData, parse_uri, parse_uri_prefix};

/// The spans of a parsed name-addr; the typed view is [`NameAddr`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct NameAddrData {
    pub(crate) all: Span,
    pub(crate) display: Option<Span>,
    pub(crate) angle: bool,
    pub(crate) uri: UriData,
    pub(crate) params: Span,
    pub(crate) tag: Option<Span>,
}

/// An address with an optional display name and header parameters, as in From, To,
/// Contact and Route: `"Alice" <sip:alice@example.com>;tag=1928301774`.
#[derive(Clone, Copy)]
pub struct NameAddr<'a> {
    base: &'a str,
    d: NameAddrData,
}

impl<'a> NameAddr<'a> {
    pub(crate) fn from_data(base: &'a str, d: NameAddrData) -> NameAddr<'a> {
        NameAddr { base, d }
    }

    /// The whole value as written (display name, address and parameters).
    pub fn as_str(&self) -> &'a str {
        self.d.all.of(self.base)
    }

    /// The display name as written: quoted (with its quotes) or a run of tokens.
    pub fn display_name_raw(&self) -> Option<&'a str> {
        self.d.display.map(|s| s.of(self.base))
    }

    /// The display name without quotes and quoted-pair backslashes.
    pub fn display_name(&self) -> Option<Cow<'a, str>> {
        self.display_name_raw().map(lex::unquote)
    }

    /// The address.
    pub fn uri(&self) -> Uri<'a> {
        Uri::from_data(self.base, self.d.uri)
    }

    /// Whether the address was written in angle brackets (name-addr form).
    pub fn is_name_addr(&self) -> bool {
        self.d.angle
    }

    /// The header parameters after the address (`;tag=...;expires=...`).
    pub fn params(&self) -> Params<'a> {
        Params::new(self.d.params.of(self.base))
    }

    /// One header parameter by name; `Some(None)` for a flag.
    pub fn param(&self, name: &str) -> Option<Option<&'a str>> {
        self.params().get(name)
    }

    /// The `tag` parameter (From and To).
    pub fn tag(&self) -> Option<&'a str> {
        self.d.tag.map(|s| s.of(self.base))
    }

    /// The `expires` parameter of a Contact, in seconds (`None` when absent or not a
    /// number that fits 32 bits).
    pub fn expires(&self) -> Option<u32> {
        self.param("expires")
            .flatten()
            .and_then(|v| lex::parse_u32(v.as_bytes()))
    }

    /// The `+sip.instance` parameter of a Contact (RFC 5626), without its quotes and
    /// angle brackets: `urn:uuid:...`.
    pub fn sip_instance(&self) -> Option<&'a str> {
        self.param("+sip.instance")
            .flatten()
            .map(|v| v.trim_matches('"').trim_matches(['<', '>']))
    }

    /// The `q` parameter of a Contact (0.0 to 1.0).
    pub fn q(&self) -> Option<f32> {
        self.param("q")
            .flatten()
            .and_then(|v| v.parse::<f32>().ok())
            .filter(|q| (0.0..=1.0).contains(q))
    }
}

impl PartialEq for NameAddr<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.display_name() == other.display_name()
            && self.uri() == other.uri()
            && self.params().eq(other.params())
    }
}

impl fmt::Debug for NameAddr<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NameAddr")
            .field("display_name", &self.display_name())
            .field("uri", &self.uri())
            .field("params", &self.params().as_str())
            .finish()
    }
}

impl fmt::Display for NameAddr<'_> {
    /// Canonical form: display name quoted, address in angle brackets, parameters as
    /// `;name=value` without white space.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(name) = self.display_name() {
            lex::write_quoted(f, &name)?;
            f.write_str(" ")?;
        }
        write!(f, "<{}>", self.uri())?;
        for p in self.params() {
            write!(f, ";{}", p.name)?;
            if let Some(v) = p.value {
                write!(f, "={v}")?;
            }
        }
        Ok(())
    }
}

impl<'a> TypedHeader<'a> for NameAddr<'a> {
    const LIST: bool = true;

    fn parse_at(base: &'a str, pos: usize, end: usize) -> Result<(Self, usize), SyntaxError> {
        let (d, e) = parse_name_addr(base.as_bytes(), pos, end, false)?;
        Ok((NameAddr { base, d }, e))
    }
}

/// Parses `( name-addr / addr-spec ) *( SEMI generic-param )` at `pos`, stopping before a
/// `,` or at `end`. With `require_angle`, only the name-addr form is accepted (Route,
/// Record-Route).
pub(crate) fn parse_name_addr(
    s: &[u8],
    pos: usize,
    end: usize,
    require_angle: bool,
) -> Result<(NameAddrData, usize), SyntaxError> {
    let mut d = NameAddrData::default();
    let e = parse_name_addr_into(s, pos, end, require_angle, &mut d)?;
    Ok((d, e))
}

/// [`parse_name_addr`] writing the address into `out` (which a caller that keeps it
/// can pass in place, saving a copy); returns where the value stops.
pub(crate) fn parse_name_addr_into(
    s: &[u8],
    pos: usize,
    end: usize,
    require_angle: bool,
    out: &mut NameAddrData,
) -> Result<usize, SyntaxError> {
    let start = lex::skip_lws(s, pos, end);
    if start >= end {
        return Err(SyntaxError::new(SyntaxErrorKind::Empty, start));
    }
    if let Some(e) = super::name_addr_fast::parse_name_addr_fast(s, start, end, out) {
        return Ok(e);
    }
    let (d, e) = parse_name_addr_general(s, start, end, require_angle)?;
    *out = d;
    Ok(e)
}

/// The general name-addr parser, for a value starting at `start < end` (after white
/// space): every form, and the errors.
pub(crate) fn parse_name_addr_general(
    s: &[u8],
    start: usize,
    end: usize,
    require_angle: bool,
) -> Result<(NameAddrData, usize), SyntaxError> {
    let mut d = NameAddrData::default();
    let mut p = start;
    let mut laquot = None;
    if s[p] == b'"' {
        let q = lex::quoted_string(s, p, end)
            .map_err(|o| SyntaxError::new(SyntaxErrorKind::UnterminatedQuote, o))?;
        d.display = Some(Span::new(p, q));
        p = lex::skip_lws(s, q, end);
        if p >= end || s[p] != b'<' {
            return Err(SyntaxError::expected("'<' after display name", p));
        }
        laquot = Some(p);
    } else if s[p] == b'<' {
        laquot = Some(p);
    } else {
        // A run of tokens followed by '<' is a display name; anything else is an addr-spec.
        let mut q = p;
        while let Some(t) = lex::token(s, q, end) {
            let w = lex::skip_lws(s, t, end);
            if w < end && s[w] == b'<' {
                d.display = Some(Span::new(p, t));
                laquot = Some(w);
                break;
            }
            if w == t {
                break;
            }
            q = w;
        }
    }
    let after_uri;
    if let Some(lt) = laquot {
        let (uri, gt) = parse_uri_prefix(s, lt + 1, end)?;
        if gt >= end || s[gt] != b'>' {
            return Err(SyntaxError::expected("'>'", gt));
        }
        d.uri = uri;
        d.angle = true;
        after_uri = gt + 1;
    } else {
        if require_angle {
            return Err(SyntaxError::expected("'<'", p));
        }
        let ue = s[p..end]
            .iter()
            .position(|&b| matches!(b, b';' | b',' | b' ' | b'\t' | b'\r' | b'\n'))
            .map_or(end, |o| p + o);
        if let Some(q) = memchr::memchr(b'?', &s[p..ue]) {
            return Err(SyntaxError::new(SyntaxErrorKind::BadChar, p + q));
        }
        d.uri = parse_uri(s, p, ue)?;
        after_uri = ue;
    }
    let mut tag = None;
    let (params, e) = parse_header_params(s, after_uri, end, |name, value| {
        if lex::eq_ic(&s[name.start()..name.end()], b"tag") {
            let v = value.ok_or(SyntaxError::expected("tag value", name.end()))?;
            tag = Some(v);
        }
        Ok(())
    })?;
    d.params = params;
    d.tag = tag;
    d.all = Span::new(start, e);
    Ok((d, e))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn na(s: &str) -> NameAddr<'_> {
        NameAddr::parse(s).unwrap_or_else(|e| panic!("{s:?}: {e}"))
    }

    #[test]
    fn forms() {
        let a = na(r#""J Rosenberg \\\""       <sip:jdrosen@example.com> ;  tag = 98asjd8"#);
        assert_eq!(a.display_name().as_deref(), Some(r#"J Rosenberg \""#));
        assert_eq!(a.uri().as_str(), "sip:jdrosen@example.com");
        assert_eq!(a.tag(), Some("98asjd8"));

        let a = na("sip:caller@example.net;tag=134161461246");
        assert!(!a.is_name_addr());
        assert_eq!(a.tag(), Some("134161461246"));
        assert_eq!(a.display_name_raw(), None);

        let a = na("caller<sip:caller@example.com>;tag=323");
        assert_eq!(a.display_name_raw(), Some("caller"));

        let a = na("Bob Smith <sip:bob@example.com;transport=tcp>;expires=60;q=0.5");
        assert_eq!(a.display_name_raw(), Some("Bob Smith"));
        assert_eq!(a.uri().transport(), Some("tcp"));
        assert_eq!(a.expires(), Some(60));
        assert_eq!(a.q(), Some(0.5));
    }

    #[test]
    fn rejects() {
        for bad in [
            r#""Mr. J. User <sip:j.user@example.com>"#,
            r#""Watson, Thomas" < sip:t.watson@example.org >"#,
            "Bell, Alexander <sip:a.g.bell@example.com>;tag=43",
            "sip:user@example.com?Route=%3Csip:sip.example.com%3E",
            r#""Joe" <sip:joe@example.org>;;;;"#,
            "<sip:x@y",
            "",
            "<sip:x@y>;tag",
        ] {
            assert!(NameAddr::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn cparam_placement() {
        // addr-spec form: the parameter belongs to the header.
        let a = na("sip:+19725552222@gw1.example.net;unknownparam");
        assert!(a.uri().params().is_empty());
        assert_eq!(a.param("unknownparam"), Some(None));
        // name-addr form: the parameter belongs to the URI.
        let a = na("<sip:+19725552222@gw1.example.net;unknownparam>");
        assert_eq!(a.uri().param("unknownparam"), Some(None));
        assert!(a.params().is_empty());
    }

    #[test]
    fn display_round_trip() {
        let a = na(r#"  "A \"q\"" <sip:a@b;lr>  ; tag = x ; flag"#);
        let printed = a.to_string();
        assert_eq!(printed, r#""A \"q\"" <sip:a@b;lr>;tag=x;flag"#);
        assert_eq!(na(&printed), a);
    }
}
