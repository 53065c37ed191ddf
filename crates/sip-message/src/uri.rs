//! URIs: `sip:`/`sips:` (RFC 3261 §19.1), `tel:` (RFC 3966) and other absolute URIs,
//! which are kept opaque.
//!
//! A [`Uri`] is a view over the text it was parsed from: components are handed out as
//! `&str` slices, `%HH` escapes stay as written (decode with [`Uri::user_decoded`] or
//! [`crate::percent_decode`], which never unescapes twice).

use std::borrow::Cow;
use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use crate::error::{SyntaxError, SyntaxErrorKind};
use crate::lex::{self, HNV, PASSWORD, SCHEME, URIC, USER};
use crate::params::{Params, parse_uri_params};
use crate::span::Span;

/// The scheme of a URI.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Scheme {
    /// `sip:`
    #[default]
    Sip,
    /// `sips:` (TLS on every hop).
    Sips,
    /// `tel:` (RFC 3966).
    Tel,
    /// Any other absolute URI scheme; the rest of the URI is opaque.
    Other,
}

/// What kind of host a URI or Via names.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum HostKind {
    /// A domain name.
    #[default]
    Name,
    /// A dotted IPv4 address.
    Ipv4,
    /// A bracketed IPv6 reference.
    Ipv6,
}

/// The spans of a parsed URI; the typed view is [`Uri`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct UriData {
    pub(crate) all: Span,
    pub(crate) scheme: Scheme,
    pub(crate) scheme_span: Span,
    pub(crate) user: Option<Span>,
    pub(crate) password: Option<Span>,
    pub(crate) host: Span,
    pub(crate) host_kind: HostKind,
    pub(crate) port: Option<u16>,
    pub(crate) params: Span,
    pub(crate) headers: Option<Span>,
}

/// A parsed URI, borrowing the text it came from.
#[derive(Clone, Copy)]
pub struct Uri<'a> {
    base: &'a str,
    d: UriData,
}

impl<'a> Uri<'a> {
    pub(crate) fn from_data(base: &'a str, d: UriData) -> Uri<'a> {
        Uri { base, d }
    }

    /// Parses a whole string as a URI (`sip:`, `sips:`, `tel:` or another absolute URI).
    pub fn parse(s: &'a str) -> Result<Uri<'a>, SyntaxError> {
        if s.len() > crate::span::MAX_HEAD {
            return Err(SyntaxError::new(SyntaxErrorKind::TooLong, 0));
        }
        let d = parse_uri(s.as_bytes(), 0, s.len())?;
        Ok(Uri { base: s, d })
    }

    /// The whole URI as written.
    pub fn as_str(&self) -> &'a str {
        self.d.all.of(self.base)
    }

    /// The scheme.
    pub fn scheme(&self) -> Scheme {
        self.d.scheme
    }

    /// The scheme as written (`sip`, `SIPS`, `soap.beep`...).
    pub fn scheme_str(&self) -> &'a str {
        self.d.scheme_span.of(self.base)
    }

    /// Whether this is a `sip:` or `sips:` URI.
    pub fn is_sip(&self) -> bool {
        matches!(self.d.scheme, Scheme::Sip | Scheme::Sips)
    }

    /// The user part, still `%`-escaped (`sip:` URIs), or the number of a `tel:` URI.
    pub fn user(&self) -> Option<&'a str> {
        self.d.user.map(|s| s.of(self.base))
    }

    /// The user part with `%HH` escapes decoded once. May hold any byte, NUL included.
    pub fn user_decoded(&self) -> Option<Cow<'a, [u8]>> {
        self.user().map(lex::percent_decode)
    }

    /// The password, still escaped. Sending passwords in URIs is deprecated; it is read
    /// so that such URIs parse.
    pub fn password(&self) -> Option<&'a str> {
        self.d.password.map(|s| s.of(self.base))
    }

    /// The host as written; IPv6 references keep their brackets. Empty for `tel:` and
    /// opaque URIs.
    pub fn host(&self) -> &'a str {
        self.d.host.of(self.base)
    }

    /// Whether the host is a name, an IPv4 address or an IPv6 reference.
    pub fn host_kind(&self) -> HostKind {
        self.d.host_kind
    }

    /// The host as an IP address, when it is one.
    pub fn ip(&self) -> Option<IpAddr> {
        host_ip(self.host(), self.d.host_kind)
    }

    /// The explicit port, if any.
    pub fn port(&self) -> Option<u16> {
        self.d.port
    }

    /// The port, or the default for the scheme (5061 for `sips:`, else 5060).
    pub fn port_or_default(&self) -> u16 {
        self.d.port.unwrap_or(if self.d.scheme == Scheme::Sips {
            5061
        } else {
            5060
        })
    }

    /// The URI parameters (`;transport=tcp;lr`).
    pub fn params(&self) -> Params<'a> {
        Params::new(self.d.params.of(self.base))
    }

    /// One URI parameter by name (case-insensitive); `Some(None)` for a flag.
    pub fn param(&self, name: &str) -> Option<Option<&'a str>> {
        self.params().get(name)
    }

    /// The `transport` parameter.
    pub fn transport(&self) -> Option<&'a str> {
        self.param("transport").flatten()
    }

    /// Whether the `lr` (loose routing) flag is present.
    pub fn lr(&self) -> bool {
        self.param("lr").is_some()
    }

    /// The `maddr` parameter.
    pub fn maddr(&self) -> Option<&'a str> {
        self.param("maddr").flatten()
    }

    /// The headers part after `?`, as written (`Route=%3Csip:x%3E&Subject=hi`).
    pub fn headers(&self) -> Option<&'a str> {
        self.d.headers.map(|s| s.of(self.base))
    }

    /// The `hname=hvalue` pairs of the headers part, still escaped.
    pub fn header_pairs(&self) -> impl Iterator<Item = (&'a str, &'a str)> + 'a {
        self.headers()
            .unwrap_or("")
            .split('&')
            .filter(|s| !s.is_empty())
            .map(|h| h.split_once('=').unwrap_or((h, "")))
    }

    /// Everything after `scheme:` (the opaque part of `tel:` and other URIs).
    pub fn opaque(&self) -> &'a str {
        &self.base[self.d.scheme_span.end() + 1..self.d.all.end()]
    }

    /// Compares two SIP URIs as RFC 3261 §19.1.4 says: scheme, user and password
    /// case-sensitively after unescaping, host case-insensitively (IP addresses by
    /// value), ports as written, and the transport, user, ttl, method and maddr
    /// parameters when either side has them; other parameters when both have them.
    /// Headers are compared as sets. Non-SIP URIs compare as case-insensitive text.
    pub fn rfc_eq(&self, other: &Uri<'_>) -> bool {
        if self.scheme() != other.scheme() {
            return false;
        }
        if !self.is_sip() {
            return self.as_str().eq_ignore_ascii_case(other.as_str());
        }
        if self.user_decoded() != other.user_decoded()
            || self.password().map(lex::percent_decode) != other.password().map(lex::percent_decode)
        {
            return false;
        }
        let host_eq = match (self.ip(), other.ip()) {
            (Some(a), Some(b)) => a == b,
            (None, None) => self.host().eq_ignore_ascii_case(other.host()),
            _ => false,
        };
        if !host_eq || self.port() != other.port() {
            return false;
        }
        let decoded = |v: Option<&str>| v.map(|v| lex::percent_decode(v).to_ascii_lowercase());
        // A repeated parameter counts by its first occurrence, on both sides.
        for p in self.params() {
            match other.param(p.name) {
                Some(v) => {
                    if decoded(self.param(p.name).flatten()) != decoded(v) {
                        return false;
                    }
                }
                None => {
                    let special = ["transport", "user", "ttl", "method", "maddr"];
                    if special.iter().any(|s| p.name.eq_ignore_ascii_case(s)) {
                        return false;
                    }
                }
            }
        }
        for p in other.params() {
            let special = ["transport", "user", "ttl", "method", "maddr"];
            if special.iter().any(|s| p.name.eq_ignore_ascii_case(s))
                && self.param(p.name).is_none()
            {
                return false;
            }
        }
        let mut a: Vec<_> = self
            .header_pairs()
            .map(|(n, v)| (n.to_ascii_lowercase(), lex::percent_decode(v)))
            .collect();
        let mut b: Vec<_> = other
            .header_pairs()
            .map(|(n, v)| (n.to_ascii_lowercase(), lex::percent_decode(v)))
            .collect();
        a.sort();
        b.sort();
        a == b
    }
}

impl PartialEq for Uri<'_> {
    /// Textual equality of the whole URI; see [`Uri::rfc_eq`] for RFC 3261 equivalence.
    fn eq(&self, other: &Self) -> bool {
        self.as_str() == other.as_str()
    }
}

impl fmt::Display for Uri<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for Uri<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Uri({:?})", self.as_str())
    }
}

/// The IP address a host text denotes, when it is one (tolerating RFC 5118 §4.10's
/// three-colon form).
pub(crate) fn host_ip(host: &str, kind: HostKind) -> Option<IpAddr> {
    match kind {
        HostKind::Name => None,
        HostKind::Ipv4 => host.parse::<Ipv4Addr>().ok().map(IpAddr::V4),
        HostKind::Ipv6 => {
            let inner = host.strip_prefix('[')?.strip_suffix(']')?;
            parse_ipv6(inner).map(IpAddr::V6)
        }
    }
}

/// Parses an IPv6 address; tolerates the `:::` form that RFC 3261's ABNF admitted
/// (RFC 5118 §4.10), reading it as `::`.
pub(crate) fn parse_ipv6(s: &str) -> Option<Ipv6Addr> {
    if let Ok(a) = s.parse() {
        return Some(a);
    }
    let i = s.find(":::")?;
    let mut buf = [0u8; 64];
    let fixed_len = s.len() - 1;
    if fixed_len > buf.len() {
        return None;
    }
    buf[..i].copy_from_slice(&s.as_bytes()[..i]);
    buf[i..fixed_len].copy_from_slice(&s.as_bytes()[i + 1..]);
    std::str::from_utf8(&buf[..fixed_len]).ok()?.parse().ok()
}

/// Scans a host at `pos` (name, IPv4 or `[IPv6]`); returns its span, kind and end.
#[inline(always)]
pub(crate) fn parse_host(
    s: &[u8],
    pos: usize,
    end: usize,
) -> Result<(Span, HostKind, usize), SyntaxError> {
    if pos < end && s[pos] == b'[' {
        return parse_ipv6_reference(s, pos, end);
    }
    let e = lex::skip_hostname(s, pos, end);
    if e == pos {
        return Err(SyntaxError::new(SyntaxErrorKind::BadHost, pos));
    }
    let first = s[pos];
    // A name's last label starts with a letter, so digits and dots only make an IPv4
    // address (which must then be a valid one).
    if first.is_ascii_digit() && s[pos..e].iter().all(|b| b.is_ascii_digit() || *b == b'.') {
        return check_ipv4(s, pos, e);
    }
    if !first.is_ascii_alphanumeric() && first != b'_' {
        return Err(SyntaxError::new(SyntaxErrorKind::BadHost, pos));
    }
    Ok((Span::new(pos, e), HostKind::Name, e))
}

/// `[` IPv6 address `]` at `pos`. Kept out of line so that the common host name path
/// stays small (and cheap to call).
#[inline(never)]
fn parse_ipv6_reference(
    s: &[u8],
    pos: usize,
    end: usize,
) -> Result<(Span, HostKind, usize), SyntaxError> {
    let close = memchr::memchr(b']', &s[pos..end])
        .map(|o| pos + o)
        .ok_or(SyntaxError::expected("']'", pos))?;
    let inner = std::str::from_utf8(&s[pos + 1..close])
        .map_err(|_| SyntaxError::new(SyntaxErrorKind::BadHost, pos))?;
    if parse_ipv6(inner).is_none() {
        return Err(SyntaxError::new(SyntaxErrorKind::BadHost, pos));
    }
    Ok((Span::new(pos, close + 1), HostKind::Ipv6, close + 1))
}

/// Digits and dots at `s[pos..e]` that must make a valid IPv4 address. Out of line for
/// the same reason as [`parse_ipv6_reference`].
#[inline(never)]
fn check_ipv4(s: &[u8], pos: usize, e: usize) -> Result<(Span, HostKind, usize), SyntaxError> {
    let ok = std::str::from_utf8(&s[pos..e])
        .ok()
        .and_then(|t| t.parse::<Ipv4Addr>().ok())
        .is_some();
    if !ok {
        return Err(SyntaxError::new(SyntaxErrorKind::BadHost, pos));
    }
    Ok((Span::new(pos, e), HostKind::Ipv4, e))
}

/// Parses a port (1*DIGIT, at most 65535) at `pos`.
#[inline(always)]
pub(crate) fn parse_port(s: &[u8], pos: usize, end: usize) -> Result<(u16, usize), SyntaxError> {
    let bad = SyntaxError::new(SyntaxErrorKind::BadPort, pos);
    let mut value: u32 = 0;
    let mut p = pos;
    while p < end && s[p].is_ascii_digit() {
        value = value * 10 + u32::from(s[p] - b'0');
        if value > u32::from(u16::MAX) {
            return Err(bad);
        }
        p += 1;
    }
    if p == pos {
        return Err(bad);
    }
    Ok((value as u16, p))
}

fn escapes(s: &[u8], a: usize, b: usize) -> Result<(), SyntaxError> {
    lex::check_escapes(s, a, b).map_err(|o| SyntaxError::new(SyntaxErrorKind::BadEscape, o))
}

/// Parses the URI occupying exactly `s[start..end]`.
#[inline(always)]
pub(crate) fn parse_uri(s: &[u8], start: usize, end: usize) -> Result<UriData, SyntaxError> {
    let (d, e) = parse_uri_prefix(s, start, end)?;
    if e != end {
        return Err(SyntaxError::new(SyntaxErrorKind::BadChar, e));
    }
    Ok(d)
}

/// Parses a URI starting at `start`, not going past `limit`, and stops at the first
/// byte that cannot continue it (the `>` of a name-addr, say). Returns the URI and
/// where it stopped.
#[inline(always)]
pub(crate) fn parse_uri_prefix(
    s: &[u8],
    start: usize,
    limit: usize,
) -> Result<(UriData, usize), SyntaxError> {
    if start >= limit {
        return Err(SyntaxError::new(SyntaxErrorKind::Empty, start));
    }
    if !s[start].is_ascii_alphabetic() {
        return Err(SyntaxError::expected("URI scheme", start));
    }
    let se = lex::skip_class(s, start + 1, limit, &SCHEME);
    if se >= limit || s[se] != b':' {
        return Err(SyntaxError::expected("':' after URI scheme", se));
    }
    let scheme = match se - start {
        3 if lex::eq_ic(&s[start..se], b"sip") => Scheme::Sip,
        4 if lex::eq_ic(&s[start..se], b"sips") => Scheme::Sips,
        3 if lex::eq_ic(&s[start..se], b"tel") => Scheme::Tel,
        _ => Scheme::Other,
    };
    let mut d = UriData {
        scheme,
        scheme_span: Span::new(start, se),
        ..UriData::default()
    };
    let p = se + 1;
    let end = match scheme {
        Scheme::Sip | Scheme::Sips => parse_sip_rest(s, p, limit, &mut d)?,
        Scheme::Tel => {
            let ne = p + s[p..limit].iter().take_while(|&&b| is_tel_char(b)).count();
            if ne == p {
                return Err(SyntaxError::expected("telephone number", p));
            }
            d.user = Some(Span::new(p, ne));
            let (params, pe) = parse_uri_params(s, ne, limit)?;
            d.params = params;
            pe
        }
        Scheme::Other => {
            let e = lex::skip_class(s, p, limit, &URIC);
            if e == p {
                return Err(SyntaxError::new(SyntaxErrorKind::Empty, p));
            }
            escapes(s, p, e)?;
            d.params = Span::new(e, e);
            e
        }
    };
    d.all = Span::new(start, end);
    Ok((d, end))
}

fn is_tel_char(b: u8) -> bool {
    b.is_ascii_hexdigit() || matches!(b, b'+' | b'-' | b'.' | b'(' | b')' | b'*' | b'#')
}

fn bad_escape(o: usize) -> SyntaxError {
    SyntaxError::new(SyntaxErrorKind::BadEscape, o)
}

/// The part of a `sip:`/`sips:` URI after the scheme; returns where it ends.
fn parse_sip_rest(s: &[u8], p: usize, end: usize, d: &mut UriData) -> Result<usize, SyntaxError> {
    // userinfo: a user (and password) only when an '@' follows them; otherwise what
    // was scanned is the host and the scan starts over there.
    let mut h = p;
    let q = lex::skip_escaped(s, p, end, &USER).map_err(bad_escape)?;
    if q < end && s[q] == b'@' {
        if q == p {
            return Err(SyntaxError::expected("user", p));
        }
        d.user = Some(Span::new(p, q));
        h = q + 1;
    } else if q < end && s[q] == b':' {
        let r = lex::skip_escaped(s, q + 1, end, &PASSWORD).map_err(bad_escape)?;
        if r < end && s[r] == b'@' {
            if q == p {
                return Err(SyntaxError::expected("user", p));
            }
            d.user = Some(Span::new(p, q));
            d.password = Some(Span::new(q + 1, r));
            h = r + 1;
        }
    }
    let (host, kind, mut q) = parse_host(s, h, end)?;
    d.host = host;
    d.host_kind = kind;
    if q < end && s[q] == b':' {
        let (port, pe) = parse_port(s, q + 1, end)?;
        d.port = Some(port);
        q = pe;
    }
    let (params, pe) = parse_uri_params(s, q, end)?;
    d.params = params;
    q = pe;
    if q < end && s[q] == b'?' {
        let hs = q + 1;
        let he = lex::skip_escaped(s, hs, end, &HNV_AMP_EQ).map_err(bad_escape)?;
        if he == hs {
            return Err(SyntaxError::expected("URI header", hs));
        }
        for pair in s[hs..he].split(|&b| b == b'&') {
            let eq = pair.iter().position(|&b| b == b'=');
            if pair.is_empty() || eq == Some(0) || eq.is_none() {
                return Err(SyntaxError::expected("hname=hvalue", hs));
            }
        }
        d.headers = Some(Span::new(hs, he));
        q = he;
    }
    Ok(q)
}

static HNV_AMP_EQ: [bool; 256] = {
    let mut t = HNV;
    t[b'&' as usize] = true;
    t[b'=' as usize] = true;
    t
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sip_uri_components() {
        let u =
            Uri::parse("sips:alice:pw@[2001:db8::1]:5071;transport=tcp;lr?Subject=hi&X=1").unwrap();
        assert_eq!(u.scheme(), Scheme::Sips);
        assert_eq!(u.user(), Some("alice"));
        assert_eq!(u.password(), Some("pw"));
        assert_eq!(u.host(), "[2001:db8::1]");
        assert_eq!(u.host_kind(), HostKind::Ipv6);
        assert_eq!(u.ip(), Some("2001:db8::1".parse().unwrap()));
        assert_eq!(u.port(), Some(5071));
        assert_eq!(u.transport(), Some("tcp"));
        assert!(u.lr());
        assert_eq!(u.headers(), Some("Subject=hi&X=1"));
        assert_eq!(
            u.header_pairs().collect::<Vec<_>>(),
            vec![("Subject", "hi"), ("X", "1")]
        );
    }

    #[test]
    fn hostnames_with_dashes_are_kept_whole() {
        let u = Uri::parse("sip:100@pbx-1.example.com:5060").unwrap();
        assert_eq!(u.host(), "pbx-1.example.com");
        assert_eq!(u.port(), Some(5060));
    }

    #[test]
    fn escapes_and_odd_users() {
        let u = Uri::parse("sip:sips%3Auser%40example.com@example.net").unwrap();
        assert_eq!(u.user(), Some("sips%3Auser%40example.com"));
        assert_eq!(
            u.user_decoded().as_deref(),
            Some(&b"sips:user@example.com"[..])
        );
        let u = Uri::parse("sip:user;par=u%40example.net@example.com").unwrap();
        assert_eq!(
            u.user_decoded().as_deref(),
            Some(&b"user;par=u@example.net"[..])
        );
        let u = Uri::parse("sip:null-%00-null@example.com").unwrap();
        assert_eq!(u.user_decoded().unwrap().len(), 11);
    }

    #[test]
    fn bad_uris() {
        for bad in [
            "sip:user@host%",
            "sip:us%4xr@host",
            "sip:user%@host",
            "sip:us%ZZ@host",
            "sip:2001:db8::10",
            "sip:[::1]:99999",
            "sip:user@",
            "sip:",
            "sip:@host",
            "sip:user@host;",
            "sip:user@host;x=",
            "sip:user@host?",
            "sip:user@ho st",
            "sip:user@1.2.3",
            "nocolon",
            "1sip:x",
            "tel:",
            "tel:12a;",
            "sip:user@[::1",
            "sip:user@[zz]",
        ] {
            assert!(Uri::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn tel_and_opaque() {
        let u = Uri::parse("tel:+1-201-555-0123;phone-context=example.com").unwrap();
        assert_eq!(u.scheme(), Scheme::Tel);
        assert_eq!(u.user(), Some("+1-201-555-0123"));
        assert_eq!(u.param("phone-context"), Some(Some("example.com")));
        let u = Uri::parse("soap.beep://192.0.2.103:3002").unwrap();
        assert_eq!(u.scheme(), Scheme::Other);
        assert_eq!(u.scheme_str(), "soap.beep");
        assert_eq!(u.opaque(), "//192.0.2.103:3002");
    }

    #[test]
    fn three_colon_ipv6_is_tolerated() {
        let u = Uri::parse("sip:[2001:db8:::192.0.2.1]").unwrap();
        assert_eq!(u.ip(), Some("2001:db8::192.0.2.1".parse().unwrap()));
        // The colon form without brackets is a port, and this one is no number.
        assert!(Uri::parse("sip:2001:db8::10").is_err());
        // [2001:db8::10:5070] is an address with no port.
        let u = Uri::parse("sip:user@[2001:db8::10:5070]").unwrap();
        assert_eq!(u.port(), None);
    }

    #[test]
    fn rfc_equivalence() {
        let eq = |a: &str, b: &str| Uri::parse(a).unwrap().rfc_eq(&Uri::parse(b).unwrap());
        assert!(eq(
            "sip:%61lice@atlanta.com;transport=TCP",
            "sip:alice@AtLanTa.CoM;Transport=tcp"
        ));
        assert!(eq(
            "sip:carol@chicago.com",
            "sip:carol@chicago.com;newparam=5"
        ));
        assert!(eq("sip:[2001:db8::1]", "sip:[2001:DB8:0:0:0:0:0:1]"));
        assert!(!eq(
            "SIP:ALICE@AtLanTa.CoM;Transport=udp",
            "sip:alice@AtLanTa.CoM;Transport=UDP"
        ));
        assert!(!eq("sip:bob@biloxi.com", "sip:bob@biloxi.com:5060"));
        assert!(!eq(
            "sip:bob@biloxi.com",
            "sip:bob@biloxi.com;transport=udp"
        ));
        assert!(!eq(
            "sip:carol@chicago.com;security=on",
            "sip:carol@chicago.com;security=off"
        ));
    }
}
