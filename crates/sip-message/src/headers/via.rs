//! The Via header (RFC 3261 §20.42, RFC 3581 `rport`).

use std::fmt;
use std::net::IpAddr;

use crate::error::{SyntaxError, SyntaxErrorKind};
use crate::headers::TypedHeader;
use crate::lex;
use crate::params::{Params, parse_header_params, parse_header_params_fast};
use crate::span::Span;
use crate::uri::{HostKind, host_ip, parse_host, parse_port};

/// The spans of a parsed Via value; the typed view is [`Via`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct ViaData {
    pub(crate) all: Span,
    pub(crate) protocol: Span,
    pub(crate) version: Span,
    pub(crate) transport: Span,
    pub(crate) host: Span,
    pub(crate) host_kind: HostKind,
    pub(crate) port: Option<u16>,
    pub(crate) sent_by: Span,
    pub(crate) params: Span,
    pub(crate) branch: Option<Span>,
}

/// The `rport` parameter (RFC 3581): asked for (flag) or filled in by the server.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Rport {
    /// `;rport` without a value: the client asks the server to fill it in.
    Requested,
    /// `;rport=5060`: the source port the server saw.
    Port(u16),
}

/// One Via value: `SIP/2.0/UDP host:port;branch=z9hG4bK...;received=...;rport`.
#[derive(Clone, Copy)]
pub struct Via<'a> {
    base: &'a str,
    d: ViaData,
}

/// The magic cookie that starts RFC 3261 branch IDs.
pub const BRANCH_MAGIC_COOKIE: &str = "z9hG4bK";

impl<'a> Via<'a> {
    pub(crate) fn from_data(base: &'a str, d: ViaData) -> Via<'a> {
        Via { base, d }
    }

    /// The value as written.
    pub fn as_str(&self) -> &'a str {
        self.d.all.of(self.base)
    }

    /// The protocol name (`SIP`).
    pub fn protocol(&self) -> &'a str {
        self.d.protocol.of(self.base)
    }

    /// The protocol version (`2.0`).
    pub fn version(&self) -> &'a str {
        self.d.version.of(self.base)
    }

    /// The transport token as written (`UDP`, `TCP`, `TLS`, `SCTP`, `WS`, ...).
    pub fn transport(&self) -> &'a str {
        self.d.transport.of(self.base)
    }

    /// The sent-by host as written (IPv6 with brackets).
    pub fn host(&self) -> &'a str {
        self.d.host.of(self.base)
    }

    /// Whether the sent-by host is a name, an IPv4 or an IPv6 address.
    pub fn host_kind(&self) -> HostKind {
        self.d.host_kind
    }

    /// The sent-by host as an IP address, when it is one.
    pub fn host_ip(&self) -> Option<IpAddr> {
        host_ip(self.host(), self.d.host_kind)
    }

    /// The sent-by port, if given.
    pub fn port(&self) -> Option<u16> {
        self.d.port
    }

    /// The parameters after sent-by.
    pub fn params(&self) -> Params<'a> {
        Params::new(self.d.params.of(self.base))
    }

    /// One parameter by name; `Some(None)` for a flag.
    pub fn param(&self, name: &str) -> Option<Option<&'a str>> {
        self.params().get(name)
    }

    /// The `branch` parameter.
    pub fn branch(&self) -> Option<&'a str> {
        self.d.branch.map(|s| s.of(self.base))
    }

    /// Whether the branch starts with the RFC 3261 magic cookie (and has more after it),
    /// so that RFC 3261 transaction matching applies rather than RFC 2543's.
    pub fn has_rfc3261_branch(&self) -> bool {
        self.branch().is_some_and(|b| {
            b.len() > BRANCH_MAGIC_COOKIE.len() && b.starts_with(BRANCH_MAGIC_COOKIE)
        })
    }

    /// The `received` parameter (the source address the next hop saw), brackets removed.
    pub fn received(&self) -> Option<&'a str> {
        self.param("received")
            .flatten()
            .map(|v| v.trim_start_matches('[').trim_end_matches(']'))
    }

    /// The `received` parameter as an IP address.
    pub fn received_ip(&self) -> Option<IpAddr> {
        self.received().and_then(|r| {
            r.parse()
                .ok()
                .or_else(|| crate::uri::parse_ipv6(r).map(IpAddr::V6))
        })
    }

    /// The `rport` parameter.
    pub fn rport(&self) -> Option<Rport> {
        self.param("rport")
            .map(|v| match v.and_then(|p| p.parse().ok()) {
                Some(p) => Rport::Port(p),
                None => Rport::Requested,
            })
    }

    /// The `maddr` parameter.
    pub fn maddr(&self) -> Option<&'a str> {
        self.param("maddr").flatten()
    }

    /// The `ttl` parameter.
    pub fn ttl(&self) -> Option<u8> {
        self.param("ttl").flatten().and_then(|v| v.parse().ok())
    }

    /// The sent-by as written: `host` or `host:port`.
    pub fn sent_by(&self) -> &'a str {
        self.d.sent_by.of(self.base)
    }
}

impl PartialEq for Via<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.protocol() == other.protocol()
            && self.version() == other.version()
            && self.transport() == other.transport()
            && self.host() == other.host()
            && self.port() == other.port()
            && self.params().eq(other.params())
    }
}

impl fmt::Debug for Via<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Via")
            .field("transport", &self.transport())
            .field("host", &self.host())
            .field("port", &self.port())
            .field("params", &self.params().as_str())
            .finish()
    }
}

impl fmt::Display for Via<'_> {
    /// Canonical form: `SIP/2.0/UDP host:port;name=value`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}/{}/{} {}",
            self.protocol(),
            self.version(),
            self.transport(),
            self.host()
        )?;
        if let Some(p) = self.port() {
            write!(f, ":{p}")?;
        }
        for p in self.params() {
            write!(f, ";{}", p.name)?;
            if let Some(v) = p.value {
                write!(f, "={v}")?;
            }
        }
        Ok(())
    }
}

impl<'a> TypedHeader<'a> for Via<'a> {
    const LIST: bool = true;

    fn parse_at(base: &'a str, pos: usize, end: usize) -> Result<(Self, usize), SyntaxError> {
        let (d, e) = parse_via(base.as_bytes(), pos, end)?;
        Ok((Via { base, d }, e))
    }
}

fn need_token(s: &[u8], p: usize, end: usize, what: &'static str) -> Result<usize, SyntaxError> {
    lex::token(s, p, end).ok_or(SyntaxError::expected(what, p))
}

/// Whether `v` starts with `SIP/2.0/` (the letters in any case) and goes on after it.
fn starts_with_sip_2_0(v: &[u8]) -> bool {
    // Little-endian word of "sip/2.0/", and the case bit of the three letters only, so
    // every other byte must match exactly.
    const WORD: u64 = u64::from_le_bytes(*b"sip/2.0/");
    const CASE: u64 = u64::from_le_bytes([0x20, 0x20, 0x20, 0, 0, 0, 0, 0]);
    match v.get(..8).and_then(|w| <[u8; 8]>::try_from(w).ok()) {
        Some(w) => v.len() > 8 && u64::from_le_bytes(w) | CASE == WORD,
        None => false,
    }
}

/// Parses one via-parm at `pos`, stopping before `,` or at `end`.
pub(crate) fn parse_via(s: &[u8], pos: usize, end: usize) -> Result<(ViaData, usize), SyntaxError> {
    let mut d = ViaData::default();
    let e = parse_via_into(s, pos, end, &mut d)?;
    Ok((d, e))
}

/// [`parse_via`] writing the value into `out` (which a caller that keeps it can pass in
/// place, saving a copy); returns where the value stops.
pub(crate) fn parse_via_into(
    s: &[u8],
    pos: usize,
    end: usize,
    out: &mut ViaData,
) -> Result<usize, SyntaxError> {
    let start = lex::skip_lws(s, pos, end);
    if let Some(e) = parse_via_fast(s, start, end, out) {
        return Ok(e);
    }
    let (d, e) = parse_via_general(s, start, end)?;
    *out = d;
    Ok(e)
}

/// One forward pass over the common shape of a via-parm: `SIP/2.0/` transport, one
/// space, sent-by, then parameters without white space or quoted values, into `out`.
/// `None` (with `out` untouched) for anything else or anything wrong, which the
/// general parser then reads from the start;
/// whatever it accepts, it reads as the general parser does (the tests compare them).
fn parse_via_fast(s: &[u8], start: usize, end: usize, out: &mut ViaData) -> Option<usize> {
    // Reads past `end` as NUL, which no branch below accepts as part of anything.
    let at = |i: usize| if i < end { s[i] } else { 0 };
    if start >= end || !starts_with_sip_2_0(&s[start..end]) {
        return None;
    }
    let mut d = ViaData {
        protocol: Span::new(start, start + 3),
        version: Span::new(start + 4, start + 7),
        ..ViaData::default()
    };
    let t = start + 8;
    let te = lex::skip_class(s, t, end, &lex::TOKEN);
    if te == t || at(te) != b' ' || lex::is_lws_byte(at(te + 1)) {
        return None;
    }
    d.transport = Span::new(t, te);
    let h = te + 1;
    let (host, kind, mut q) = parse_host(s, h, end).ok()?;
    d.host = host;
    d.host_kind = kind;
    match at(q) {
        b':' => {
            if lex::is_lws_byte(at(q + 1)) {
                return None;
            }
            let (port, e) = parse_port(s, q + 1, end).ok()?;
            d.port = Some(port);
            q = e;
        }
        b if lex::is_lws_byte(b) => return None,
        _ => {}
    }
    d.sent_by = Span::new(h, q);
    let mut branch = None;
    let (params, p) = parse_header_params_fast(s, q, end, |name, value| {
        let text = value.map(|v| &s[v.span.start()..v.span.end()]);
        // The checks of the general parser's parameter callback.
        match name.len() {
            6 if lex::eq_token_ic(name, b"branch") => match value {
                Some(v) if v.is_token => {
                    branch = Some(v.span);
                    true
                }
                _ => false,
            },
            5 if lex::eq_token_ic(name, b"rport") => {
                text.is_none_or(|v| lex::parse_u64(v).is_some_and(|p| p <= 65535))
            }
            3 if lex::eq_token_ic(name, b"ttl") => {
                text.and_then(lex::parse_u64).is_some_and(|t| t <= 255)
            }
            8 if lex::eq_token_ic(name, b"received") => value.is_some(),
            5 if lex::eq_token_ic(name, b"maddr") => value.is_some(),
            _ => true,
        }
    })?;
    d.branch = branch;
    d.params = params;
    d.all = Span::new(start, p);
    *out = d;
    Some(p)
}

/// The general via-parm parser, for a value starting at `start` (after white space):
/// every form, and the errors.
fn parse_via_general(s: &[u8], start: usize, end: usize) -> Result<(ViaData, usize), SyntaxError> {
    let mut d = ViaData::default();
    // Nearly every Via starts with `SIP/2.0/` written without white space: one
    // comparison of eight bytes (any case) instead of three tokens and two separators.
    let t = if starts_with_sip_2_0(&s[start..end]) {
        d.protocol = Span::new(start, start + 3);
        d.version = Span::new(start + 4, start + 7);
        start + 8
    } else {
        let pe = need_token(s, start, end, "protocol name")?;
        d.protocol = Span::new(start, pe);
        let v = lex::sep(s, pe, end, b'/').ok_or(SyntaxError::expected("'/'", pe))?;
        let ve = need_token(s, v, end, "protocol version")?;
        d.version = Span::new(v, ve);
        lex::sep(s, ve, end, b'/').ok_or(SyntaxError::expected("'/'", ve))?
    };
    let te = need_token(s, t, end, "transport")?;
    d.transport = Span::new(t, te);
    let h = lex::skip_lws(s, te, end);
    if h == te {
        return Err(SyntaxError::expected("white space before sent-by", te));
    }
    let (host, kind, mut q) = parse_host(s, h, end)?;
    d.host = host;
    d.host_kind = kind;
    if let Some(p) = lex::sep(s, q, end, b':') {
        let (port, e) = parse_port(s, p, end)?;
        d.port = Some(port);
        q = e;
    }
    d.sent_by = Span::new(h, q);
    let mut branch = None;
    let (params, e) = parse_header_params(s, q, end, |name, value| {
        let n = &s[name.start()..name.end()];
        let val = value.map(|v| &s[v.start()..v.end()]);
        if lex::eq_ic(n, b"branch") {
            let v = value.ok_or(SyntaxError::expected("branch value", name.end()))?;
            if !s[v.start()..v.end()]
                .iter()
                .all(|&b| lex::TOKEN[b as usize])
            {
                return Err(SyntaxError::new(SyntaxErrorKind::BadChar, v.start()));
            }
            branch = Some(v);
        } else if lex::eq_ic(n, b"rport") {
            if let Some(v) = val
                && lex::parse_u64(v).is_none_or(|p| p > 65535)
            {
                return Err(SyntaxError::new(SyntaxErrorKind::BadPort, name.end()));
            }
        } else if lex::eq_ic(n, b"ttl") {
            if val.and_then(lex::parse_u64).is_none_or(|t| t > 255) {
                return Err(SyntaxError::new(SyntaxErrorKind::BadNumber, name.end()));
            }
        } else if (lex::eq_ic(n, b"received") || lex::eq_ic(n, b"maddr")) && value.is_none() {
            return Err(SyntaxError::expected("parameter value", name.end()));
        }
        Ok(())
    })?;
    d.params = params;
    d.branch = branch;
    d.all = Span::new(start, e);
    Ok((d, e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folded_and_spaced() {
        let v = Via::parse("SIP  /   2.0\r\n /UDP\r\n    192.0.2.2;branch=390skdjuw").unwrap();
        assert_eq!(v.protocol(), "SIP");
        assert_eq!(v.transport(), "UDP");
        assert_eq!(v.host(), "192.0.2.2");
        assert_eq!(v.host_kind(), HostKind::Ipv4);
        assert_eq!(v.branch(), Some("390skdjuw"));
        assert!(!v.has_rfc3261_branch());
    }

    #[test]
    fn parameters() {
        let v = Via::parse(
            "SIP/2.0/UDP [2001:db8::9:1]:6050;branch=z9hG4bKas3;received=[2001:db8::9:255];rport=5070;ttl=16;maddr=224.2.0.1",
        )
        .unwrap();
        assert_eq!(v.port(), Some(6050));
        assert!(v.has_rfc3261_branch());
        assert_eq!(v.received(), Some("2001:db8::9:255"));
        assert_eq!(v.received_ip(), Some("2001:db8::9:255".parse().unwrap()));
        assert_eq!(v.rport(), Some(Rport::Port(5070)));
        assert_eq!(v.ttl(), Some(16));
        assert_eq!(v.maddr(), Some("224.2.0.1"));
        assert_eq!(v.sent_by(), "[2001:db8::9:1]:6050");
        let v = Via::parse("SIP/2.0/TCP client.example.com;rport;branch=z9hG4bK").unwrap();
        assert_eq!(v.rport(), Some(Rport::Requested));
        assert!(!v.has_rfc3261_branch());
        assert_eq!(v.sent_by(), "client.example.com");
    }

    /// The fast path's answer must be the general parser's, whenever it gives one.
    fn agrees(text: &str) -> bool {
        let s = text.as_bytes();
        let start = lex::skip_lws(s, 0, s.len());
        let mut d = ViaData::default();
        match parse_via_fast(s, start, s.len(), &mut d).map(|e| (d, e)) {
            Some(fast) => {
                assert_eq!(Ok(fast), parse_via_general(s, start, s.len()), "{text:?}");
                true
            }
            None => false,
        }
    }

    #[test]
    fn fast_path_takes_the_common_shapes_and_agrees() {
        for text in [
            "SIP/2.0/UDP client.atlanta.example.com:5060;branch=z9hG4bK74bf9;rport",
            "SIP/2.0/TLS 192.0.2.1;branch=z9hG4bKx;received=192.0.2.9;rport=5070",
            "sip/2.0/tcp [2001:db8::1]:5061;branch=z9hG4bK1;ttl=16;maddr=224.2.0.1",
            "SIP/2.0/UDP host",
        ] {
            assert!(agrees(text), "{text}");
        }
        for text in [
            "SIP / 2.0 / UDP host",
            "SIP/2.0/UDP  host",
            "SIP/2.0/UDP host ;branch=1",
            "SIP/2.0/UDP host;branch=\"1\"",
            "SIP/2.0/UDP host;branch",
            "SIP/2.0/UDP host;rport=70000",
            "SIP/2.0/UDP host;ttl",
            "SIP/2.0/UDP host : 5060",
        ] {
            assert!(!agrees(text), "{text}");
        }
    }

    proptest::proptest! {
        #[test]
        fn fast_path_agrees_on_assembled_values(
            prefix in proptest::sample::select(&["SIP/2.0/", "sip/2.0/", "SIP/2.1/", "SIP /2.0/", "SIP/2.0"][..]),
            transport in proptest::sample::select(&["UDP", "tcp", "", "U D P", "X-Y"][..]),
            gap in proptest::sample::select(&[" ", "", "  ", "\t", " \r\n "][..]),
            host in proptest::sample::select(&["example.com", "192.0.2.1", "[::1]", "300.1.1.1", "-bad", "", "a_b"][..]),
            port in proptest::sample::select(&["", ":5060", ":99999", ":", " :5060", ": 5060"][..]),
            params in proptest::sample::select(&["", ";branch=z9hG4bK1", ";branch", ";branch=a[b]", ";rport", ";rport=1", ";rport=x", ";rport=70000", ";ttl=1", ";ttl=300", ";ttl", ";received=1.2.3.4", ";received", ";maddr", ";x=\"q\"", " ;x", ";x =1", ";branch=1;branch=2", ";=", ";"][..]),
            more in proptest::sample::select(&["", ",SIP/2.0/UDP b", " ", ";lr", "x"][..]),
        ) {
            agrees(&format!("{prefix}{transport}{gap}{host}{port}{params}{more}"));
        }

        #[test]
        fn fast_path_agrees_after_any_one_byte_change(
            at in proptest::prelude::any::<proptest::sample::Index>(),
            byte in proptest::prelude::any::<u8>(),
        ) {
            let mut bytes = b"SIP/2.0/UDP client.example.com:5060;branch=z9hG4bK74;rport;ttl=9;received=192.0.2.1".to_vec();
            let i = at.index(bytes.len());
            bytes[i] = byte;
            if let Ok(text) = String::from_utf8(bytes) {
                agrees(&text);
            }
        }
    }

    #[test]
    fn sip_2_0_prefix_in_any_case_only() {
        assert!(starts_with_sip_2_0(b"SIP/2.0/UDP"));
        assert!(starts_with_sip_2_0(b"sip/2.0/tcp"));
        assert!(starts_with_sip_2_0(b"sIp/2.0/X"));
        assert!(!starts_with_sip_2_0(b"SIP/2.0/"));
        assert!(!starts_with_sip_2_0(b"SIP/2.1/UDP"));
        assert!(!starts_with_sip_2_0(b"SIP /2.0/UDP"));
        assert!(!starts_with_sip_2_0(b"SIP\x0f2.0/UDP"));
        assert!(!starts_with_sip_2_0(b"SIP"));
        let v = Via::parse("sip/2.0/udp host;branch=z9hG4bKx").unwrap();
        assert_eq!(
            (v.protocol(), v.version(), v.transport()),
            ("sip", "2.0", "udp")
        );
    }

    #[test]
    fn rejects() {
        for bad in [
            "SIP/2.0/UDP 192.0.2.15;;,;,,",
            "SIP/2.0/UDP",
            "SIP/2.0/UDPhost",
            "SIP/2.0 host",
            "SIP/2.0/UDP host:99999",
            "SIP/2.0/UDP host;rport=70000",
            "SIP/2.0/UDP host;ttl=256",
            "SIP/2.0/UDP host;branch",
            "SIP/2.0/UDP host;received",
        ] {
            assert!(Via::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn display_round_trip() {
        let v = Via::parse(
            "SIP / 2.0 / TCP spindle.example.com : 5061 ; branch = z9hG4bK9ikj8 ; rport",
        )
        .unwrap();
        let s = v.to_string();
        assert_eq!(
            s,
            "SIP/2.0/TCP spindle.example.com:5061;branch=z9hG4bK9ikj8;rport"
        );
        assert_eq!(Via::parse(&s).unwrap(), v);
    }
}
