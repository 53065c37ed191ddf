//! SDP (RFC 8866): parsing and building session descriptions.
//!
//! An owned model: bodies are small and SDP is read once per offer or answer, so
//! [`SessionDescription`] keeps `String`s and is easy to build and change. Session- and
//! media-level `c=`, `b=` and `a=` lines, any number of `m=` lines with any transport
//! protocol, and unknown attributes (kept in order) are supported. `Display` writes the
//! description back with CRLF line ends.
//!
//! ```
//! use sip_message::sdp::{Direction, SessionDescription};
//!
//! let sdp = SessionDescription::parse(
//!     "v=0\r\no=alice 2890844526 2890844526 IN IP4 192.0.2.101\r\ns=-\r\n\
//!      c=IN IP4 192.0.2.101\r\nt=0 0\r\nm=audio 49172 RTP/AVP 0 101\r\n\
//!      a=rtpmap:0 PCMU/8000\r\na=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-16\r\n\
//!      a=ptime:20\r\na=sendrecv\r\n",
//! )
//! .unwrap();
//! let audio = &sdp.media[0];
//! assert_eq!(audio.port, 49172);
//! assert_eq!(audio.rtpmap(101).unwrap().encoding, "telephone-event");
//! assert_eq!(audio.fmtp(101), Some("0-16"));
//! assert_eq!(sdp.direction(audio), Direction::SendRecv);
//! assert_eq!(SessionDescription::parse(&sdp.to_string()).unwrap(), sdp);
//! ```

use std::fmt;
use std::net::IpAddr;

/// What is wrong with an SDP body, and on which line (1-based).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("SDP line {line}: {kind}")]
pub struct SdpError {
    /// The line number, counting from 1.
    pub line: usize,
    /// What is wrong.
    pub kind: SdpErrorKind,
}

/// The kinds of SDP error.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SdpErrorKind {
    /// The body is not UTF-8 text.
    #[error("not UTF-8 text")]
    NotText,
    /// A line is not `<letter>=<value>`.
    #[error("line is not of the form x=value")]
    BadLine,
    /// A line type this parser does not know (RFC 8866 says to refuse the description).
    #[error("unknown line type '{0}'")]
    UnknownType(char),
    /// A required line is missing.
    #[error("missing {0}= line")]
    Missing(char),
    /// A line is out of its place (e.g. `v=` after the first line).
    #[error("{0}= line out of place")]
    Misplaced(char),
    /// A field is missing or malformed.
    #[error("bad {0} field")]
    BadField(&'static str),
    /// A number is malformed or out of range.
    #[error("bad number in {0}")]
    BadNumber(&'static str),
}

/// `o=`: who made the description and its version.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Origin {
    /// The user name (`-` when none).
    pub username: String,
    /// The session id.
    pub session_id: u64,
    /// The version, incremented by each new offer or answer.
    pub session_version: u64,
    /// Network type (`IN`).
    pub net_type: String,
    /// Address type (`IP4`, `IP6`).
    pub addr_type: String,
    /// Address or host name of the originator.
    pub address: String,
}

/// `c=`: where media goes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Connection {
    /// Network type (`IN`).
    pub net_type: String,
    /// Address type (`IP4`, `IP6`).
    pub addr_type: String,
    /// The address (no brackets for IPv6), or a host name.
    pub address: String,
    /// Multicast TTL (IPv4 multicast only).
    pub ttl: Option<u8>,
    /// Number of consecutive multicast addresses.
    pub num_addresses: Option<u32>,
}

impl Connection {
    /// The address as an IP address, when it is one.
    pub fn ip(&self) -> Option<IpAddr> {
        self.address.parse().ok()
    }

    /// Whether the address is a multicast address.
    pub fn is_multicast(&self) -> bool {
        self.ip().is_some_and(|ip| ip.is_multicast())
    }
}

/// `b=`: a bandwidth limit.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Bandwidth {
    /// The type (`AS`, `CT`, `TIAS`, ...).
    pub bwtype: String,
    /// The value (kbit/s for AS and CT).
    pub bandwidth: u64,
}

/// `t=` with its `r=` lines.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Timing {
    /// Start time (NTP seconds, 0 for unbounded).
    pub start: u64,
    /// Stop time (NTP seconds, 0 for unbounded).
    pub stop: u64,
    /// `r=` repeat lines, as written.
    pub repeats: Vec<String>,
}

/// `a=`: an attribute, a flag (`a=sendrecv`) or `name:value`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Attribute {
    /// The attribute name.
    pub name: String,
    /// The value after `:`, if any.
    pub value: Option<String>,
}

/// The media direction (RFC 3264 §5.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Direction {
    /// Send and receive (the default).
    SendRecv,
    /// Send only.
    SendOnly,
    /// Receive only.
    RecvOnly,
    /// Neither (hold with no media).
    Inactive,
}

impl Direction {
    /// The attribute name.
    pub fn as_str(self) -> &'static str {
        match self {
            Direction::SendRecv => "sendrecv",
            Direction::SendOnly => "sendonly",
            Direction::RecvOnly => "recvonly",
            Direction::Inactive => "inactive",
        }
    }

    /// The direction the answerer takes for an offer in this direction.
    pub fn answer(self) -> Direction {
        match self {
            Direction::SendOnly => Direction::RecvOnly,
            Direction::RecvOnly => Direction::SendOnly,
            d => d,
        }
    }

    fn from_attr(name: &str) -> Option<Direction> {
        match name {
            "sendrecv" => Some(Direction::SendRecv),
            "sendonly" => Some(Direction::SendOnly),
            "recvonly" => Some(Direction::RecvOnly),
            "inactive" => Some(Direction::Inactive),
            _ => None,
        }
    }
}

/// `a=rtpmap:<pt> <encoding>/<clock rate>[/<channels>]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RtpMap {
    /// The RTP payload type (0..=127).
    pub payload_type: u8,
    /// The encoding name (`PCMU`, `opus`, `telephone-event`).
    pub encoding: String,
    /// The clock rate in Hz.
    pub clock_rate: u32,
    /// The channel count (audio), if given.
    pub channels: Option<u16>,
}

impl RtpMap {
    /// Parses the value of an rtpmap attribute.
    pub fn parse(value: &str) -> Option<RtpMap> {
        let (pt, rest) = value.split_once(' ')?;
        let mut it = rest.trim().split('/');
        let encoding = it.next()?.to_string();
        let clock_rate = it.next()?.parse().ok()?;
        let channels = match it.next() {
            Some(c) => Some(c.parse().ok()?),
            None => None,
        };
        let payload_type: u8 = pt.parse().ok()?;
        if payload_type > 127 || encoding.is_empty() || it.next().is_some() {
            return None;
        }
        Some(RtpMap {
            payload_type,
            encoding,
            clock_rate,
            channels,
        })
    }
}

impl fmt::Display for RtpMap {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {}/{}",
            self.payload_type, self.encoding, self.clock_rate
        )?;
        if let Some(c) = self.channels {
            write!(f, "/{c}")?;
        }
        Ok(())
    }
}

/// An `m=` section.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MediaDescription {
    /// Media type (`audio`, `video`, `application`, ...).
    pub media: String,
    /// Transport port (0 rejects or disables the stream).
    pub port: u16,
    /// Number of ports (`m=video 49170/2 ...`).
    pub num_ports: Option<u16>,
    /// Transport protocol (`RTP/AVP`, `RTP/SAVP`, `RTP/SAVPF`, `UDP/TLS/RTP/SAVPF`, ...).
    pub proto: String,
    /// Formats: RTP payload types for RTP protocols, else as written.
    pub formats: Vec<String>,
    /// `i=`.
    pub information: Option<String>,
    /// `c=` lines of this media.
    pub connections: Vec<Connection>,
    /// `b=` lines of this media.
    pub bandwidths: Vec<Bandwidth>,
    /// `k=` (obsolete).
    pub key: Option<String>,
    /// `a=` lines of this media, in order.
    pub attributes: Vec<Attribute>,
}

fn attr<'a>(attrs: &'a [Attribute], name: &'a str) -> impl Iterator<Item = Option<&'a str>> + 'a {
    attrs
        .iter()
        .filter(move |a| a.name == name)
        .map(|a| a.value.as_deref())
}

impl MediaDescription {
    /// A new media section with no attributes.
    pub fn new(media: &str, port: u16, proto: &str, formats: &[&str]) -> MediaDescription {
        MediaDescription {
            media: media.to_string(),
            port,
            num_ports: None,
            proto: proto.to_string(),
            formats: formats.iter().map(|f| f.to_string()).collect(),
            information: None,
            connections: Vec::new(),
            bandwidths: Vec::new(),
            key: None,
            attributes: Vec::new(),
        }
    }

    /// Values of every attribute of that name (`None` for flags).
    pub fn attribute_values<'a>(
        &'a self,
        name: &'a str,
    ) -> impl Iterator<Item = Option<&'a str>> + 'a {
        attr(&self.attributes, name)
    }

    /// The first value of an attribute.
    pub fn attribute(&self, name: &str) -> Option<&str> {
        self.attributes
            .iter()
            .filter(|a| a.name == name)
            .find_map(|a| a.value.as_deref())
    }

    /// Whether a flag attribute is present.
    pub fn has_attribute(&self, name: &str) -> bool {
        self.attributes.iter().any(|a| a.name == name)
    }

    /// Adds an attribute at the end.
    pub fn push_attribute(&mut self, name: &str, value: Option<&str>) {
        self.attributes.push(Attribute {
            name: name.to_string(),
            value: value.map(str::to_string),
        });
    }

    /// Every well-formed rtpmap.
    pub fn rtpmaps(&self) -> impl Iterator<Item = RtpMap> + '_ {
        self.attribute_values("rtpmap")
            .flatten()
            .filter_map(RtpMap::parse)
    }

    /// The rtpmap of one payload type.
    pub fn rtpmap(&self, pt: u8) -> Option<RtpMap> {
        self.rtpmaps().find(|m| m.payload_type == pt)
    }

    /// The fmtp parameters of one payload type.
    pub fn fmtp(&self, pt: u8) -> Option<&str> {
        self.attribute_values("fmtp").flatten().find_map(|v| {
            let (p, params) = v.split_once(' ')?;
            (p.parse::<u8>().ok()? == pt).then_some(params.trim())
        })
    }

    /// The payload types, for RTP media (formats that are numbers 0..=127).
    pub fn payload_types(&self) -> impl Iterator<Item = u8> + '_ {
        self.formats
            .iter()
            .filter_map(|f| f.parse::<u8>().ok())
            .filter(|p| *p <= 127)
    }

    /// `a=ptime`, milliseconds.
    pub fn ptime(&self) -> Option<u32> {
        self.attribute("ptime").and_then(|v| v.trim().parse().ok())
    }

    /// `a=maxptime`, milliseconds.
    pub fn maxptime(&self) -> Option<u32> {
        self.attribute("maxptime")
            .and_then(|v| v.trim().parse().ok())
    }

    /// The direction attribute of this media, if it has one.
    pub fn own_direction(&self) -> Option<Direction> {
        self.attributes
            .iter()
            .rev()
            .find_map(|a| Direction::from_attr(&a.name))
    }
}

/// A whole session description.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SessionDescription {
    /// `v=` (always 0).
    pub version: u32,
    /// `o=`.
    pub origin: Origin,
    /// `s=` (`-` or a space when there is no name).
    pub session_name: String,
    /// `i=`.
    pub information: Option<String>,
    /// `u=`.
    pub uri: Option<String>,
    /// `e=` lines.
    pub emails: Vec<String>,
    /// `p=` lines.
    pub phones: Vec<String>,
    /// Session-level `c=`.
    pub connection: Option<Connection>,
    /// Session-level `b=`.
    pub bandwidths: Vec<Bandwidth>,
    /// `t=` (with `r=`) lines; at least one.
    pub times: Vec<Timing>,
    /// `z=` as written.
    pub time_zones: Option<String>,
    /// Session-level `k=` (obsolete).
    pub key: Option<String>,
    /// Session-level `a=` lines, in order.
    pub attributes: Vec<Attribute>,
    /// `m=` sections, in order.
    pub media: Vec<MediaDescription>,
}

fn field<'a>(
    it: &mut impl Iterator<Item = &'a str>,
    what: &'static str,
) -> Result<&'a str, SdpErrorKind> {
    it.next()
        .filter(|s| !s.is_empty())
        .ok_or(SdpErrorKind::BadField(what))
}

fn number<T: std::str::FromStr>(s: &str, what: &'static str) -> Result<T, SdpErrorKind> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return Err(SdpErrorKind::BadNumber(what));
    }
    s.parse().map_err(|_| SdpErrorKind::BadNumber(what))
}

fn parse_connection(v: &str) -> Result<Connection, SdpErrorKind> {
    let mut it = v.split(' ');
    let net_type = field(&mut it, "c= network type")?.to_string();
    let addr_type = field(&mut it, "c= address type")?.to_string();
    let addr = field(&mut it, "c= address")?;
    if it.next().is_some() {
        return Err(SdpErrorKind::BadField("c="));
    }
    let mut parts = addr.split('/');
    let address = parts.next().unwrap_or_default().to_string();
    let (mut ttl, mut num_addresses) = (None, None);
    let a = parts.next();
    let b = parts.next();
    if parts.next().is_some() {
        return Err(SdpErrorKind::BadField("c= address"));
    }
    if addr_type.eq_ignore_ascii_case("IP4") {
        if let Some(t) = a {
            ttl = Some(number(t, "c= ttl")?);
        }
        if let Some(n) = b {
            num_addresses = Some(number(n, "c= address count")?);
        }
    } else if let Some(n) = a {
        num_addresses = Some(number(n, "c= address count")?);
        if b.is_some() {
            return Err(SdpErrorKind::BadField("c= address"));
        }
    }
    Ok(Connection {
        net_type,
        addr_type,
        address,
        ttl,
        num_addresses,
    })
}

fn parse_bandwidth(v: &str) -> Result<Bandwidth, SdpErrorKind> {
    let (t, n) = v.split_once(':').ok_or(SdpErrorKind::BadField("b="))?;
    if t.is_empty() {
        return Err(SdpErrorKind::BadField("b= type"));
    }
    Ok(Bandwidth {
        bwtype: t.to_string(),
        bandwidth: number(n, "b=")?,
    })
}

fn parse_attribute(v: &str) -> Result<Attribute, SdpErrorKind> {
    let (name, value) = match v.split_once(':') {
        Some((n, val)) => (n, Some(val.to_string())),
        None => (v, None),
    };
    if name.is_empty() || name.contains(' ') {
        return Err(SdpErrorKind::BadField("a= name"));
    }
    Ok(Attribute {
        name: name.to_string(),
        value,
    })
}

fn parse_media(v: &str) -> Result<MediaDescription, SdpErrorKind> {
    let mut it = v.split(' ');
    let media = field(&mut it, "m= media")?;
    let port_field = field(&mut it, "m= port")?;
    let (port, num_ports) = match port_field.split_once('/') {
        Some((p, n)) => (number(p, "m= port")?, Some(number(n, "m= port count")?)),
        None => (number(port_field, "m= port")?, None),
    };
    let proto = field(&mut it, "m= protocol")?;
    let formats: Vec<String> = it.map(str::to_string).collect();
    if formats.iter().any(String::is_empty) {
        return Err(SdpErrorKind::BadField("m= format"));
    }
    let mut m = MediaDescription::new(media, port, proto, &[]);
    m.num_ports = num_ports;
    m.formats = formats;
    Ok(m)
}

impl SessionDescription {
    /// Parses an SDP body. Lines end in CRLF or LF; the last line may lack its line end
    /// and trailing empty lines are ignored.
    pub fn parse(text: &str) -> Result<SessionDescription, SdpError> {
        let mut lines = text
            .split('\n')
            .map(|l| l.strip_suffix('\r').unwrap_or(l))
            .enumerate()
            .peekable();
        let err = |line: usize, kind| SdpError {
            line: line + 1,
            kind,
        };
        let mut sd = SessionDescription {
            version: 0,
            origin: Origin {
                username: String::new(),
                session_id: 0,
                session_version: 0,
                net_type: String::new(),
                addr_type: String::new(),
                address: String::new(),
            },
            session_name: String::new(),
            information: None,
            uri: None,
            emails: Vec::new(),
            phones: Vec::new(),
            connection: None,
            bandwidths: Vec::new(),
            times: Vec::new(),
            time_zones: None,
            key: None,
            attributes: Vec::new(),
            media: Vec::new(),
        };
        let (mut seen_v, mut seen_o, mut seen_s) = (false, false, false);
        let mut last = 0;
        while let Some((n, line)) = lines.next() {
            last = n;
            if line.is_empty() {
                // Only trailing empty lines are allowed.
                if lines.clone().all(|(_, l)| l.is_empty()) {
                    break;
                }
                return Err(err(n, SdpErrorKind::BadLine));
            }
            let b = line.as_bytes();
            if b.len() < 2 || b[1] != b'=' || !b[0].is_ascii_lowercase() {
                return Err(err(n, SdpErrorKind::BadLine));
            }
            let t = b[0] as char;
            let v = &line[2..];
            let r: Result<(), SdpErrorKind> = (|| {
                if n == 0 && t != 'v' {
                    return Err(SdpErrorKind::Missing('v'));
                }
                match t {
                    'v' => {
                        if seen_v {
                            return Err(SdpErrorKind::Misplaced('v'));
                        }
                        seen_v = true;
                        sd.version = number(v, "v=")?;
                    }
                    'o' => {
                        if seen_o || !sd.media.is_empty() {
                            return Err(SdpErrorKind::Misplaced('o'));
                        }
                        seen_o = true;
                        let mut it = v.split(' ');
                        sd.origin = Origin {
                            username: field(&mut it, "o= username")?.to_string(),
                            session_id: number(field(&mut it, "o= session id")?, "o= session id")?,
                            session_version: number(
                                field(&mut it, "o= session version")?,
                                "o= session version",
                            )?,
                            net_type: field(&mut it, "o= network type")?.to_string(),
                            addr_type: field(&mut it, "o= address type")?.to_string(),
                            address: field(&mut it, "o= address")?.to_string(),
                        };
                        if it.next().is_some() {
                            return Err(SdpErrorKind::BadField("o="));
                        }
                    }
                    's' => {
                        if seen_s || !sd.media.is_empty() {
                            return Err(SdpErrorKind::Misplaced('s'));
                        }
                        seen_s = true;
                        sd.session_name = v.to_string();
                    }
                    'i' => match sd.media.last_mut() {
                        Some(m) => m.information = Some(v.to_string()),
                        None => sd.information = Some(v.to_string()),
                    },
                    'u' if sd.media.is_empty() => sd.uri = Some(v.to_string()),
                    'e' if sd.media.is_empty() => sd.emails.push(v.to_string()),
                    'p' if sd.media.is_empty() => sd.phones.push(v.to_string()),
                    'c' => {
                        let c = parse_connection(v)?;
                        match sd.media.last_mut() {
                            Some(m) => m.connections.push(c),
                            None if sd.connection.is_none() => sd.connection = Some(c),
                            None => return Err(SdpErrorKind::Misplaced('c')),
                        }
                    }
                    'b' => {
                        let bw = parse_bandwidth(v)?;
                        match sd.media.last_mut() {
                            Some(m) => m.bandwidths.push(bw),
                            None => sd.bandwidths.push(bw),
                        }
                    }
                    't' if sd.media.is_empty() => {
                        let mut it = v.split(' ');
                        let start = number(field(&mut it, "t= start")?, "t= start")?;
                        let stop = number(field(&mut it, "t= stop")?, "t= stop")?;
                        if it.next().is_some() {
                            return Err(SdpErrorKind::BadField("t="));
                        }
                        sd.times.push(Timing {
                            start,
                            stop,
                            repeats: Vec::new(),
                        });
                    }
                    'r' if sd.media.is_empty() => match sd.times.last_mut() {
                        Some(t) => t.repeats.push(v.to_string()),
                        None => return Err(SdpErrorKind::Misplaced('r')),
                    },
                    'z' if sd.media.is_empty() => sd.time_zones = Some(v.to_string()),
                    'k' => match sd.media.last_mut() {
                        Some(m) => m.key = Some(v.to_string()),
                        None => sd.key = Some(v.to_string()),
                    },
                    'a' => {
                        let a = parse_attribute(v)?;
                        match sd.media.last_mut() {
                            Some(m) => m.attributes.push(a),
                            None => sd.attributes.push(a),
                        }
                    }
                    'm' => sd.media.push(parse_media(v)?),
                    'u' | 'e' | 'p' | 't' | 'r' | 'z' => return Err(SdpErrorKind::Misplaced(t)),
                    other => return Err(SdpErrorKind::UnknownType(other)),
                }
                Ok(())
            })();
            r.map_err(|k| err(n, k))?;
        }
        for (seen, c) in [(seen_v, 'v'), (seen_o, 'o'), (seen_s, 's')] {
            if !seen {
                return Err(err(last, SdpErrorKind::Missing(c)));
            }
        }
        if sd.times.is_empty() {
            return Err(err(last, SdpErrorKind::Missing('t')));
        }
        Ok(sd)
    }

    /// Parses an SDP body given as bytes.
    pub fn parse_bytes(body: &[u8]) -> Result<SessionDescription, SdpError> {
        let text = std::str::from_utf8(body).map_err(|_| SdpError {
            line: 1,
            kind: SdpErrorKind::NotText,
        })?;
        SessionDescription::parse(text)
    }

    /// The connection address for a media section: its own `c=`, else the session's.
    pub fn connection_for<'a>(&'a self, m: &'a MediaDescription) -> Option<&'a Connection> {
        m.connections.first().or(self.connection.as_ref())
    }

    /// The direction of a media section: its own attribute, else the session's, else
    /// sendrecv.
    pub fn direction(&self, m: &MediaDescription) -> Direction {
        m.own_direction()
            .or_else(|| {
                self.attributes
                    .iter()
                    .rev()
                    .find_map(|a| Direction::from_attr(&a.name))
            })
            .unwrap_or(Direction::SendRecv)
    }

    /// Values of every session-level attribute of that name.
    pub fn attribute_values<'a>(
        &'a self,
        name: &'a str,
    ) -> impl Iterator<Item = Option<&'a str>> + 'a {
        attr(&self.attributes, name)
    }
}

fn write_connection(f: &mut fmt::Formatter<'_>, c: &Connection) -> fmt::Result {
    write!(f, "c={} {} {}", c.net_type, c.addr_type, c.address)?;
    if let Some(t) = c.ttl {
        write!(f, "/{t}")?;
    }
    if let Some(n) = c.num_addresses {
        write!(f, "/{n}")?;
    }
    f.write_str("\r\n")
}

fn write_attributes(f: &mut fmt::Formatter<'_>, attrs: &[Attribute]) -> fmt::Result {
    for a in attrs {
        match &a.value {
            Some(v) => write!(f, "a={}:{v}\r\n", a.name)?,
            None => write!(f, "a={}\r\n", a.name)?,
        }
    }
    Ok(())
}

impl fmt::Display for SessionDescription {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let o = &self.origin;
        write!(
            f,
            "v={}\r\no={} {} {} {} {} {}\r\ns={}\r\n",
            self.version,
            o.username,
            o.session_id,
            o.session_version,
            o.net_type,
            o.addr_type,
            o.address,
            self.session_name
        )?;
        if let Some(i) = &self.information {
            write!(f, "i={i}\r\n")?;
        }
        if let Some(u) = &self.uri {
            write!(f, "u={u}\r\n")?;
        }
        for e in &self.emails {
            write!(f, "e={e}\r\n")?;
        }
        for p in &self.phones {
            write!(f, "p={p}\r\n")?;
        }
        if let Some(c) = &self.connection {
            write_connection(f, c)?;
        }
        for b in &self.bandwidths {
            write!(f, "b={}:{}\r\n", b.bwtype, b.bandwidth)?;
        }
        for t in &self.times {
            write!(f, "t={} {}\r\n", t.start, t.stop)?;
            for r in &t.repeats {
                write!(f, "r={r}\r\n")?;
            }
        }
        if let Some(z) = &self.time_zones {
            write!(f, "z={z}\r\n")?;
        }
        if let Some(k) = &self.key {
            write!(f, "k={k}\r\n")?;
        }
        write_attributes(f, &self.attributes)?;
        for m in &self.media {
            write!(f, "m={} {}", m.media, m.port)?;
            if let Some(n) = m.num_ports {
                write!(f, "/{n}")?;
            }
            write!(f, " {}", m.proto)?;
            for fmt in &m.formats {
                write!(f, " {fmt}")?;
            }
            f.write_str("\r\n")?;
            if let Some(i) = &m.information {
                write!(f, "i={i}\r\n")?;
            }
            for c in &m.connections {
                write_connection(f, c)?;
            }
            for b in &m.bandwidths {
                write!(f, "b={}:{}\r\n", b.bwtype, b.bandwidth)?;
            }
            if let Some(k) = &m.key {
                write!(f, "k={k}\r\n")?;
            }
            write_attributes(f, &m.attributes)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const OFFER: &str = "v=0\r\no=alice 2890844526 2890844526 IN IP4 client.atlanta.example.com\r\ns=-\r\nc=IN IP4 192.0.2.101\r\nt=0 0\r\nm=audio 49172 RTP/AVP 0 8 101\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:8 PCMA/8000\r\na=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-16\r\na=ptime:20\r\na=maxptime:150\r\na=rtcp:49173 IN IP4 192.0.2.101\r\na=sendrecv\r\n";

    #[test]
    fn offer() {
        let sd = SessionDescription::parse(OFFER).unwrap();
        assert_eq!(sd.origin.session_id, 2890844526);
        let m = &sd.media[0];
        assert_eq!(m.payload_types().collect::<Vec<_>>(), [0, 8, 101]);
        assert_eq!(m.rtpmap(8).unwrap().encoding, "PCMA");
        assert_eq!((m.ptime(), m.maxptime()), (Some(20), Some(150)));
        assert_eq!(m.attribute("rtcp"), Some("49173 IN IP4 192.0.2.101"));
        assert_eq!(
            sd.connection_for(m).unwrap().ip(),
            Some("192.0.2.101".parse().unwrap())
        );
        assert_eq!(sd.to_string(), OFFER);
    }

    #[test]
    fn line_ends_and_blank_tail() {
        let lf = OFFER.replace("\r\n", "\n");
        assert_eq!(
            SessionDescription::parse(&lf).unwrap(),
            SessionDescription::parse(OFFER).unwrap()
        );
        let no_last_eol = OFFER.trim_end();
        assert_eq!(
            SessionDescription::parse(no_last_eol).unwrap().media[0].own_direction(),
            Some(Direction::SendRecv)
        );
        let blank_tail = format!("{OFFER}\r\n\r\n");
        assert!(SessionDescription::parse(&blank_tail).is_ok());
        let blank_middle = OFFER.replace("s=-\r\n", "s=-\r\n\r\n");
        assert!(SessionDescription::parse(&blank_middle).is_err());
    }

    #[test]
    fn several_media_and_protocols() {
        let s = "v=0\r\no=- 1 1 IN IP6 2001:db8::1\r\ns= \r\nt=0 0\r\na=sendonly\r\nm=audio 5004 UDP/TLS/RTP/SAVPF 111\r\nc=IN IP6 2001:db8::1\r\na=rtpmap:111 opus/48000/2\r\nm=video 5006/2 RTP/SAVPF 96 97\r\na=recvonly\r\nm=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\nc=IN IP4 224.2.1.1/127/3\r\n";
        let sd = SessionDescription::parse(s).unwrap();
        assert_eq!(sd.media.len(), 3);
        assert_eq!(sd.media[0].rtpmap(111).unwrap().channels, Some(2));
        assert_eq!(sd.direction(&sd.media[0]), Direction::SendOnly);
        assert_eq!(sd.direction(&sd.media[1]), Direction::RecvOnly);
        assert_eq!(sd.media[1].num_ports, Some(2));
        let c = &sd.media[2].connections[0];
        assert!(c.is_multicast());
        assert_eq!((c.ttl, c.num_addresses), (Some(127), Some(3)));
        assert_eq!(SessionDescription::parse(&sd.to_string()).unwrap(), sd);
    }

    #[test]
    fn errors() {
        for bad in [
            "",
            "o=a 1 1 IN IP4 h\r\n",
            "v=0\r\ns=-\r\nt=0 0\r\n",
            "v=0\r\no=a 1 1 IN IP4 h\r\ns=-\r\n",
            "v=0\r\no=a 99999999999999999999999 1 IN IP4 h\r\ns=-\r\nt=0 0\r\n",
            "v=0\r\no=a 1 1 IN IP4 h\r\ns=-\r\nt=0 0\r\nm=audio 70000 RTP/AVP 0\r\n",
            "v=0\r\no=a 1 1 IN IP4 h\r\ns=-\r\nt=0 0\r\nm=audio -1 RTP/AVP 0\r\n",
            "v=0\r\no=a 1 1 IN IP4 h\r\ns=-\r\nt=0 0\r\nx=unknown\r\n",
            "v=0\r\no=a 1 1 IN IP4 h\r\ns=-\r\nt=0 0\r\nbogus\r\n",
            "v=0\r\no=a 1 1 IN IP4 h\r\ns=-\r\nt=0 0\r\nc=IN IP4 1.2.3.4/300\r\n",
        ] {
            assert!(SessionDescription::parse(bad).is_err(), "{bad:?}");
        }
        let e = SessionDescription::parse(
            "v=0\r\no=a 1 1 IN IP4 h\r\ns=-\r\nt=0 0\r\nm=audio 70000 RTP/AVP 0\r\n",
        )
        .unwrap_err();
        assert_eq!(e.line, 5);
    }

    #[test]
    fn big_numbers_fit_where_the_rfc_allows() {
        let s = "v=0\r\no=a 18446744073709551615 4294967296 IN IP4 h\r\ns=-\r\nt=3034423619 3042462419\r\n";
        let sd = SessionDescription::parse(s).unwrap();
        assert_eq!(sd.origin.session_id, u64::MAX);
        assert_eq!(sd.times[0].start, 3034423619);
    }
}
