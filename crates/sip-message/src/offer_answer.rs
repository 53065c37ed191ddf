//! The SDP offer/answer model (RFC 3264) for audio calls over RTP/AVP: building an
//! offer from what we can do, answering an offer (common codecs with the offerer's
//! payload numbers, rejected streams with port 0, directions mirrored, the old
//! `c=0.0.0.0` hold understood), and reading the answer to our offer. What both sides
//! agreed is a [`Negotiated`]: where to send, which codec and payload type, the
//! RFC 4733 telephone-event payload type, and whether we send, receive, both or
//! neither.
//!
//! One audio stream is taken per session; further audio streams and other media
//! (video, text, SRTP profiles) are answered with port 0, as RFC 3264 §6 allows.

use std::fmt;
use std::net::{IpAddr, SocketAddr};

use crate::sdp::{
    Attribute, Connection, Direction, MediaDescription, Origin, RtpMap, SdpError,
    SessionDescription, Timing,
};

/// A payload format we can send and receive.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Codec {
    /// The RTP payload type we announce in our offers (answers use the offerer's).
    pub payload_type: u8,
    /// The encoding name (`PCMU`, `PCMA`, `telephone-event`).
    pub encoding: String,
    /// The RTP clock rate, Hz.
    pub clock_rate: u32,
    /// The channel count, when not one.
    pub channels: Option<u16>,
    /// The `a=fmtp` parameters we announce.
    pub fmtp: Option<String>,
}

impl Codec {
    /// G.711 µ-law (static payload type 0).
    pub fn pcmu() -> Codec {
        Codec::new(0, "PCMU", 8000)
    }

    /// G.711 A-law (static payload type 8).
    pub fn pcma() -> Codec {
        Codec::new(8, "PCMA", 8000)
    }

    /// RFC 4733 telephone events (DTMF 0-9, *, #, A-D) at 8 kHz on payload type `pt`.
    pub fn telephone_event(pt: u8) -> Codec {
        Codec {
            fmtp: Some("0-16".to_string()),
            ..Codec::new(pt, "telephone-event", 8000)
        }
    }

    /// A codec with no channel count or parameters.
    pub fn new(payload_type: u8, encoding: &str, clock_rate: u32) -> Codec {
        Codec {
            payload_type,
            encoding: encoding.to_string(),
            clock_rate,
            channels: None,
            fmtp: None,
        }
    }

    /// Whether this is RFC 4733 telephone-event rather than a voice codec.
    pub fn is_telephone_event(&self) -> bool {
        self.encoding.eq_ignore_ascii_case("telephone-event")
    }

    /// Whether an offered format (its rtpmap) is this codec: the same encoding name
    /// (in any case), clock rate and channel count (absent means one).
    pub fn matches(&self, map: &RtpMap) -> bool {
        self.encoding.eq_ignore_ascii_case(&map.encoding)
            && self.clock_rate == map.clock_rate
            && self.channels.unwrap_or(1) == map.channels.unwrap_or(1)
    }

    fn rtpmap(&self, payload_type: u8) -> String {
        let mut s = format!("{payload_type} {}/{}", self.encoding, self.clock_rate);
        if let Some(c) = self.channels {
            s.push_str(&format!("/{c}"));
        }
        s
    }
}

/// The rtpmap of a static payload type (RFC 3551 table 4) for formats offered
/// without `a=rtpmap`.
fn static_rtpmap(pt: u8) -> Option<RtpMap> {
    let (encoding, clock_rate) = match pt {
        0 => ("PCMU", 8000),
        3 => ("GSM", 8000),
        4 => ("G723", 8000),
        8 => ("PCMA", 8000),
        9 => ("G722", 8000),
        18 => ("G729", 8000),
        _ => return None,
    };
    Some(RtpMap {
        payload_type: pt,
        encoding: encoding.to_string(),
        clock_rate,
        channels: None,
    })
}

/// The rtpmap of an offered format: its `a=rtpmap`, else the static table.
fn format_map(m: &MediaDescription, pt: u8) -> Option<RtpMap> {
    m.rtpmap(pt).or_else(|| static_rtpmap(pt))
}

/// What we can do in a call: our RTP address and port, the codecs in order of
/// preference (telephone-event among them if we take DTMF events), the direction
/// we want (sendonly to hold the other side), and the packet time.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LocalMedia {
    /// The address the peer sends RTP to.
    pub address: IpAddr,
    /// The RTP port (RTCP on the next one).
    pub port: u16,
    /// The formats, most preferred first.
    pub codecs: Vec<Codec>,
    /// What we want: sendrecv, sendonly (we hold), recvonly, inactive.
    pub direction: Direction,
    /// The packet time we announce, milliseconds.
    pub ptime: Option<u32>,
}

impl LocalMedia {
    /// PCMU, PCMA and telephone-event 101 at `address:port`, sendrecv, 20 ms.
    pub fn new(address: IpAddr, port: u16) -> LocalMedia {
        LocalMedia {
            address,
            port,
            codecs: default_codecs(),
            direction: Direction::SendRecv,
            ptime: Some(20),
        }
    }
}

/// The codecs offered when the application names none: PCMU, PCMA, and
/// telephone-event on payload type 101.
pub fn default_codecs() -> Vec<Codec> {
    vec![Codec::pcmu(), Codec::pcma(), Codec::telephone_event(101)]
}

/// What an offer/answer exchange settled, seen from our side.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Negotiated {
    /// Where we send RTP; `None` when the peer gave no address to send to (port 0,
    /// or `c=0.0.0.0`, the old way of holding).
    pub remote: Option<SocketAddr>,
    /// The voice codec to send, with the payload type both sides use for it.
    pub codec: Codec,
    /// The payload type of telephone-event, when both sides take it.
    pub telephone_event: Option<u8>,
    /// Whether we send, receive, both or neither.
    pub direction: Direction,
    /// The packet time to send, milliseconds (the peer's, else 20).
    pub ptime: u32,
}

/// Why an offer could not be answered or an answer not be used.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum OfferAnswerError {
    /// The body is not valid SDP.
    #[error("the session description does not parse: {0}")]
    Sdp(SdpError),
    /// No audio stream of the offer has a codec we take (the UAS answers 488).
    #[error("no audio stream with a codec we take")]
    NoCommonCodec,
    /// The answer does not have one media line per offered one (RFC 3264 §6).
    #[error("the answer has {answer} media lines for the offer's {offer}")]
    MediaCountMismatch {
        /// Lines in the offer.
        offer: usize,
        /// Lines in the answer.
        answer: usize,
    },
}

impl From<SdpError> for OfferAnswerError {
    fn from(e: SdpError) -> OfferAnswerError {
        OfferAnswerError::Sdp(e)
    }
}

fn connection(addr: IpAddr) -> Connection {
    Connection {
        net_type: "IN".to_string(),
        addr_type: if addr.is_ipv6() { "IP6" } else { "IP4" }.to_string(),
        address: addr.to_string(),
        ttl: None,
        num_addresses: None,
    }
}

fn session(address: IpAddr, session_id: u64, version: u64) -> SessionDescription {
    let c = connection(address);
    SessionDescription {
        version: 0,
        origin: Origin {
            username: "-".to_string(),
            session_id,
            session_version: version,
            net_type: c.net_type.clone(),
            addr_type: c.addr_type.clone(),
            address: c.address.clone(),
        },
        session_name: "-".to_string(),
        information: None,
        uri: None,
        emails: Vec::new(),
        phones: Vec::new(),
        connection: Some(c),
        bandwidths: Vec::new(),
        times: vec![Timing {
            start: 0,
            stop: 0,
            repeats: Vec::new(),
        }],
        time_zones: None,
        key: None,
        attributes: Vec::new(),
        media: Vec::new(),
    }
}

fn attribute(name: &str, value: Option<String>) -> Attribute {
    Attribute {
        name: name.to_string(),
        value,
    }
}

/// An audio m-line on our port with `formats` (each codec with the payload type to
/// use), ptime and direction.
fn audio_line(
    local: &LocalMedia,
    formats: &[(u8, &Codec)],
    direction: Direction,
) -> MediaDescription {
    let mut m = MediaDescription::new("audio", local.port, "RTP/AVP", &[]);
    for (pt, codec) in formats {
        m.formats.push(pt.to_string());
        m.attributes
            .push(attribute("rtpmap", Some(codec.rtpmap(*pt))));
        if let Some(f) = &codec.fmtp {
            m.attributes
                .push(attribute("fmtp", Some(format!("{pt} {f}"))));
        }
    }
    if let Some(p) = local.ptime {
        m.attributes.push(attribute("ptime", Some(p.to_string())));
    }
    m.attributes.push(attribute(direction.as_str(), None));
    m
}

/// Our offer: one audio stream with every codec of `local`, in its order.
pub fn offer(local: &LocalMedia, session_id: u64, version: u64) -> SessionDescription {
    let mut sd = session(local.address, session_id, version);
    let formats: Vec<(u8, &Codec)> = local.codecs.iter().map(|c| (c.payload_type, c)).collect();
    sd.media.push(audio_line(local, &formats, local.direction));
    sd
}

fn sends(d: Direction) -> bool {
    matches!(d, Direction::SendRecv | Direction::SendOnly)
}

fn receives(d: Direction) -> bool {
    matches!(d, Direction::SendRecv | Direction::RecvOnly)
}

fn direction_of(send: bool, recv: bool) -> Direction {
    match (send, recv) {
        (true, true) => Direction::SendRecv,
        (true, false) => Direction::SendOnly,
        (false, true) => Direction::RecvOnly,
        (false, false) => Direction::Inactive,
    }
}

/// Whether a connection is the RFC 2543 hold address (`0.0.0.0`).
fn is_hold_address(c: Option<&Connection>) -> bool {
    c.and_then(Connection::ip)
        .is_some_and(|ip| ip.is_unspecified())
}

/// The direction the peer announced for `m`, reading `c=0.0.0.0` as "do not send to
/// me" (RFC 3264 §8.4).
fn peer_direction(sd: &SessionDescription, m: &MediaDescription) -> Direction {
    let d = sd.direction(m);
    if is_hold_address(sd.connection_for(m)) {
        // It may still send; it does not receive.
        direction_of(sends(d), false)
    } else {
        d
    }
}

fn remote_address(sd: &SessionDescription, m: &MediaDescription) -> Option<SocketAddr> {
    let ip = sd.connection_for(m)?.ip()?;
    (m.port != 0 && !ip.is_unspecified()).then_some(SocketAddr::new(ip, m.port))
}

/// Whether `m` is an audio stream over plain RTP we could take.
fn takes(m: &MediaDescription) -> bool {
    m.media.eq_ignore_ascii_case("audio") && m.proto.eq_ignore_ascii_case("RTP/AVP") && m.port != 0
}

/// The offered formats of `m` that we take, as (offered payload type, our codec),
/// in our order of preference.
fn common<'a>(local: &'a LocalMedia, m: &MediaDescription) -> Vec<(u8, &'a Codec)> {
    let offered: Vec<RtpMap> = m
        .payload_types()
        .filter_map(|pt| format_map(m, pt))
        .collect();
    let mut out = Vec::new();
    for codec in &local.codecs {
        if let Some(map) = offered.iter().find(|o| codec.matches(o)) {
            out.push((map.payload_type, codec));
        }
    }
    out
}

/// Whether some audio stream of `offer` has a voice codec of `codecs`: what a UAS
/// checks before it lets an INVITE ring (else 488).
pub fn can_answer(codecs: &[Codec], offer: &SessionDescription) -> bool {
    let local = LocalMedia {
        codecs: codecs.to_vec(),
        ..LocalMedia::new(IpAddr::from([0, 0, 0, 0]), 0)
    };
    offer.media.iter().filter(|m| takes(m)).any(|m| {
        common(&local, m)
            .iter()
            .any(|(_, c)| !c.is_telephone_event())
    })
}

/// Answers an offer (RFC 3264 §6): the first audio stream with a common voice codec
/// is taken with every common format, under the offerer's payload numbers and in our
/// order of preference; every other stream is refused with port 0. The direction is
/// the offer's mirrored, narrowed to what `local` wants.
pub fn answer(
    local: &LocalMedia,
    offer: &SessionDescription,
    session_id: u64,
    version: u64,
) -> Result<(SessionDescription, Negotiated), OfferAnswerError> {
    let mut sd = session(local.address, session_id, version);
    let mut negotiated = None;
    for m in &offer.media {
        let formats = if negotiated.is_none() && takes(m) {
            common(local, m)
        } else {
            Vec::new()
        };
        let Some((voice_pt, voice)) = formats
            .iter()
            .find(|(_, c)| !c.is_telephone_event())
            .map(|(pt, c)| (*pt, (*c).clone()))
        else {
            let mut refused = MediaDescription::new(&m.media, 0, &m.proto, &[]);
            refused.formats = m.formats.clone();
            sd.media.push(refused);
            continue;
        };
        let theirs = peer_direction(offer, m).answer();
        let ours = direction_of(
            sends(theirs) && sends(local.direction),
            receives(theirs) && receives(local.direction),
        );
        sd.media.push(audio_line(local, &formats, ours));
        negotiated = Some(Negotiated {
            remote: remote_address(offer, m),
            codec: Codec {
                payload_type: voice_pt,
                ..voice
            },
            telephone_event: formats
                .iter()
                .find(|(_, c)| c.is_telephone_event())
                .map(|(pt, _)| *pt),
            direction: ours,
            ptime: m.ptime().unwrap_or(20),
        });
    }
    let negotiated = negotiated.ok_or(OfferAnswerError::NoCommonCodec)?;
    Ok((sd, negotiated))
}

/// Reads the answer to our offer: the first audio stream the answerer kept, its first
/// voice format we offered, its telephone-event, and the direction it allows us.
pub fn accept_answer(
    offer: &SessionDescription,
    answer: &SessionDescription,
    local: &LocalMedia,
) -> Result<Negotiated, OfferAnswerError> {
    if offer.media.len() != answer.media.len() {
        return Err(OfferAnswerError::MediaCountMismatch {
            offer: offer.media.len(),
            answer: answer.media.len(),
        });
    }
    for (ours, theirs) in offer.media.iter().zip(&answer.media) {
        if !takes(ours) || !takes(theirs) {
            continue;
        }
        let formats = common(local, theirs);
        let Some((pt, voice)) = theirs.payload_types().find_map(|pt| {
            formats
                .iter()
                .find(|(p, c)| *p == pt && !c.is_telephone_event())
                .map(|(p, c)| (*p, (*c).clone()))
        }) else {
            continue;
        };
        let allowed = peer_direction(answer, theirs).answer();
        let wanted = offer.direction(ours);
        return Ok(Negotiated {
            remote: remote_address(answer, theirs),
            codec: Codec {
                payload_type: pt,
                ..voice
            },
            telephone_event: formats
                .iter()
                .find(|(_, c)| c.is_telephone_event())
                .map(|(p, _)| *p),
            direction: direction_of(
                sends(allowed) && sends(wanted),
                receives(allowed) && receives(wanted),
            ),
            ptime: theirs.ptime().unwrap_or(20),
        });
    }
    Err(OfferAnswerError::NoCommonCodec)
}

impl fmt::Display for Negotiated {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}/{} pt {} {}",
            self.codec.encoding,
            self.codec.clock_rate,
            self.codec.payload_type,
            self.direction.as_str()
        )?;
        match self.remote {
            Some(a) => write!(f, " to {a}"),
            None => f.write_str(" (no address to send to)"),
        }
    }
}
