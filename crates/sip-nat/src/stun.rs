//! A sans-IO STUN codec (RFC 5389): binding requests and responses, with
//! XOR-MAPPED-ADDRESS, MESSAGE-INTEGRITY (short-term credentials) and FINGERPRINT.
//!
//! Enough for keep-alives that also learn the public address, and for a small STUN
//! responder in tests. Decoding checks the header, every attribute's length and
//! padding, and the fingerprint when there is one.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use sha1::{Digest, Sha1};

/// The magic cookie in every RFC 5389 message.
pub const MAGIC_COOKIE: u32 = 0x2112_A442;
/// The Binding method.
pub const BINDING: u16 = 0x0001;

const ATTR_MAPPED_ADDRESS: u16 = 0x0001;
const ATTR_USERNAME: u16 = 0x0006;
const ATTR_MESSAGE_INTEGRITY: u16 = 0x0008;
const ATTR_ERROR_CODE: u16 = 0x0009;
const ATTR_XOR_MAPPED_ADDRESS: u16 = 0x0020;
const ATTR_SOFTWARE: u16 = 0x8022;
const ATTR_FINGERPRINT: u16 = 0x8028;
const FINGERPRINT_XOR: u32 = 0x5354_554E;

/// The class of a message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StunClass {
    /// A request.
    Request,
    /// An indication.
    Indication,
    /// A success response.
    Success,
    /// An error response.
    Error,
}

/// A decoded attribute.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StunAttribute {
    /// MAPPED-ADDRESS (RFC 3489 servers).
    MappedAddress(SocketAddr),
    /// XOR-MAPPED-ADDRESS.
    XorMappedAddress(SocketAddr),
    /// USERNAME.
    Username(String),
    /// MESSAGE-INTEGRITY (HMAC-SHA1).
    MessageIntegrity([u8; 20]),
    /// ERROR-CODE.
    ErrorCode {
        /// The code (300..=699).
        code: u16,
        /// The reason phrase.
        reason: String,
    },
    /// SOFTWARE.
    Software(String),
    /// FINGERPRINT (CRC-32 of the message before it, XOR 0x5354554e).
    Fingerprint(u32),
    /// Any other attribute, kept as it came.
    Other {
        /// The attribute type.
        kind: u16,
        /// The value, without padding.
        value: Vec<u8>,
    },
}

/// A STUN message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StunMessage {
    /// The class.
    pub class: StunClass,
    /// The method (Binding = 1).
    pub method: u16,
    /// The transaction id.
    pub transaction_id: [u8; 12],
    /// The attributes in order.
    pub attributes: Vec<StunAttribute>,
}

/// Why bytes are not a valid STUN message.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum StunError {
    /// Shorter than a header, or the length field disagrees with the size.
    #[error("bad length")]
    BadLength,
    /// Not a STUN message (top bits or magic cookie).
    #[error("not a STUN message")]
    NotStun,
    /// An attribute runs past the end or is malformed.
    #[error("malformed attribute {0:#06x}")]
    BadAttribute(u16),
    /// The FINGERPRINT does not match.
    #[error("fingerprint mismatch")]
    BadFingerprint,
}

static CRC_TABLE: [u32; 256] = {
    let mut t = [0u32; 256];
    let mut i = 0;
    while i < 256 {
        let mut c = i as u32;
        let mut k = 0;
        while k < 8 {
            c = if c & 1 != 0 {
                0xEDB8_8320 ^ (c >> 1)
            } else {
                c >> 1
            };
            k += 1;
        }
        t[i] = c;
        i += 1;
    }
    t
};

/// CRC-32 (IEEE 802.3), as FINGERPRINT uses it.
pub fn crc32(data: &[u8]) -> u32 {
    let mut c = 0xFFFF_FFFFu32;
    for &b in data {
        c = CRC_TABLE[((c ^ u32::from(b)) & 0xFF) as usize] ^ (c >> 8);
    }
    !c
}

/// HMAC-SHA1 (RFC 2104), as MESSAGE-INTEGRITY uses it.
pub fn hmac_sha1(key: &[u8], data: &[u8]) -> [u8; 20] {
    let mut k = [0u8; 64];
    if key.len() > 64 {
        k[..20].copy_from_slice(&Sha1::digest(key));
    } else {
        k[..key.len()].copy_from_slice(key);
    }
    let mut ipad = [0x36u8; 64];
    let mut opad = [0x5cu8; 64];
    for i in 0..64 {
        ipad[i] ^= k[i];
        opad[i] ^= k[i];
    }
    let mut inner = Sha1::new();
    inner.update(ipad);
    inner.update(data);
    let mut outer = Sha1::new();
    outer.update(opad);
    outer.update(inner.finalize());
    let mut out = [0u8; 20];
    out.copy_from_slice(&outer.finalize());
    out
}

/// Whether `b` looks like a STUN message (two zero bits, then the magic cookie), to
/// tell STUN from SIP on a shared UDP port.
pub fn is_stun(b: &[u8]) -> bool {
    b.len() >= 20 && b[0] & 0xC0 == 0 && b[4..8] == MAGIC_COOKIE.to_be_bytes()
}

fn message_type(class: StunClass, method: u16) -> u16 {
    let c = match class {
        StunClass::Request => 0b00,
        StunClass::Indication => 0b01,
        StunClass::Success => 0b10,
        StunClass::Error => 0b11,
    };
    (method & 0x000F)
        | ((method & 0x0070) << 1)
        | ((method & 0x0F80) << 2)
        | ((c & 1) << 4)
        | ((c & 2) << 7)
}

fn split_type(t: u16) -> (StunClass, u16) {
    let c = ((t >> 4) & 1) | ((t >> 7) & 2);
    let class = match c {
        0 => StunClass::Request,
        1 => StunClass::Indication,
        2 => StunClass::Success,
        _ => StunClass::Error,
    };
    let method = (t & 0x000F) | ((t >> 1) & 0x0070) | ((t >> 2) & 0x0F80);
    (class, method)
}

fn encode_address(addr: SocketAddr, xor: Option<&[u8; 12]>) -> Vec<u8> {
    let cookie = MAGIC_COOKIE.to_be_bytes();
    let mut v = vec![0u8];
    let port = if xor.is_some() {
        addr.port() ^ (MAGIC_COOKIE >> 16) as u16
    } else {
        addr.port()
    };
    match addr.ip() {
        IpAddr::V4(ip) => {
            v.push(0x01);
            v.extend_from_slice(&port.to_be_bytes());
            let mut o = ip.octets();
            if xor.is_some() {
                for (b, c) in o.iter_mut().zip(cookie) {
                    *b ^= c;
                }
            }
            v.extend_from_slice(&o);
        }
        IpAddr::V6(ip) => {
            v.push(0x02);
            v.extend_from_slice(&port.to_be_bytes());
            let mut o = ip.octets();
            if let Some(tid) = xor {
                let key: Vec<u8> = cookie.iter().chain(tid.iter()).copied().collect();
                for (b, k) in o.iter_mut().zip(key) {
                    *b ^= k;
                }
            }
            v.extend_from_slice(&o);
        }
    }
    v
}

fn decode_address(v: &[u8], xor: Option<&[u8; 12]>) -> Option<SocketAddr> {
    if v.len() < 4 {
        return None;
    }
    let cookie = MAGIC_COOKIE.to_be_bytes();
    let mut port = u16::from_be_bytes([v[2], v[3]]);
    if xor.is_some() {
        port ^= (MAGIC_COOKIE >> 16) as u16;
    }
    let ip = match (v[1], v.len()) {
        (0x01, 8) => {
            let mut o = [v[4], v[5], v[6], v[7]];
            if xor.is_some() {
                for (b, c) in o.iter_mut().zip(cookie) {
                    *b ^= c;
                }
            }
            IpAddr::V4(Ipv4Addr::from(o))
        }
        (0x02, 20) => {
            let mut o = [0u8; 16];
            o.copy_from_slice(&v[4..20]);
            if let Some(tid) = xor {
                let key: Vec<u8> = cookie.iter().chain(tid.iter()).copied().collect();
                for (b, k) in o.iter_mut().zip(key) {
                    *b ^= k;
                }
            }
            IpAddr::V6(Ipv6Addr::from(o))
        }
        _ => return None,
    };
    Some(SocketAddr::new(ip, port))
}

impl StunMessage {
    /// A binding request with a transaction id.
    pub fn binding_request(transaction_id: [u8; 12]) -> StunMessage {
        StunMessage {
            class: StunClass::Request,
            method: BINDING,
            transaction_id,
            attributes: Vec::new(),
        }
    }

    /// A binding success response telling the client its address.
    pub fn binding_response(transaction_id: [u8; 12], mapped: SocketAddr) -> StunMessage {
        StunMessage {
            class: StunClass::Success,
            method: BINDING,
            transaction_id,
            attributes: vec![StunAttribute::XorMappedAddress(mapped)],
        }
    }

    /// The mapped address (XOR-MAPPED-ADDRESS, else MAPPED-ADDRESS).
    pub fn mapped_address(&self) -> Option<SocketAddr> {
        let xor = self.attributes.iter().find_map(|a| match a {
            StunAttribute::XorMappedAddress(s) => Some(*s),
            _ => None,
        });
        xor.or_else(|| {
            self.attributes.iter().find_map(|a| match a {
                StunAttribute::MappedAddress(s) => Some(*s),
                _ => None,
            })
        })
    }

    /// Encodes the message. MESSAGE-INTEGRITY and FINGERPRINT attributes in
    /// `attributes` are ignored: pass `integrity_key` and `fingerprint` to have them
    /// computed and appended (in that order, as RFC 5389 requires).
    pub fn encode(&self, integrity_key: Option<&[u8]>, fingerprint: bool) -> Vec<u8> {
        let mut out = Vec::with_capacity(64);
        out.extend_from_slice(&message_type(self.class, self.method).to_be_bytes());
        out.extend_from_slice(&[0, 0]);
        out.extend_from_slice(&MAGIC_COOKIE.to_be_bytes());
        out.extend_from_slice(&self.transaction_id);
        let put = |out: &mut Vec<u8>, kind: u16, value: &[u8]| {
            out.extend_from_slice(&kind.to_be_bytes());
            out.extend_from_slice(&(value.len() as u16).to_be_bytes());
            out.extend_from_slice(value);
            while !out.len().is_multiple_of(4) {
                out.push(0);
            }
        };
        for a in &self.attributes {
            match a {
                StunAttribute::MappedAddress(s) => {
                    put(&mut out, ATTR_MAPPED_ADDRESS, &encode_address(*s, None))
                }
                StunAttribute::XorMappedAddress(s) => put(
                    &mut out,
                    ATTR_XOR_MAPPED_ADDRESS,
                    &encode_address(*s, Some(&self.transaction_id)),
                ),
                StunAttribute::Username(u) => put(&mut out, ATTR_USERNAME, u.as_bytes()),
                StunAttribute::Software(s) => put(&mut out, ATTR_SOFTWARE, s.as_bytes()),
                StunAttribute::ErrorCode { code, reason } => {
                    let mut v = vec![0, 0, (code / 100) as u8, (code % 100) as u8];
                    v.extend_from_slice(reason.as_bytes());
                    put(&mut out, ATTR_ERROR_CODE, &v);
                }
                StunAttribute::Other { kind, value } => put(&mut out, *kind, value),
                StunAttribute::MessageIntegrity(_) | StunAttribute::Fingerprint(_) => {}
            }
        }
        let set_len = |out: &mut Vec<u8>, extra: usize| {
            let len = (out.len() - 20 + extra) as u16;
            out[2..4].copy_from_slice(&len.to_be_bytes());
        };
        if let Some(key) = integrity_key {
            set_len(&mut out, 24);
            let mac = hmac_sha1(key, &out);
            put(&mut out, ATTR_MESSAGE_INTEGRITY, &mac);
        }
        if fingerprint {
            set_len(&mut out, 8);
            let fp = crc32(&out) ^ FINGERPRINT_XOR;
            put(&mut out, ATTR_FINGERPRINT, &fp.to_be_bytes());
        }
        set_len(&mut out, 0);
        out
    }

    /// Decodes a message, checking lengths, padding and the fingerprint if present.
    pub fn decode(b: &[u8]) -> Result<StunMessage, StunError> {
        if b.len() < 20 {
            return Err(StunError::BadLength);
        }
        if !is_stun(b) {
            return Err(StunError::NotStun);
        }
        let len = usize::from(u16::from_be_bytes([b[2], b[3]]));
        if !len.is_multiple_of(4) || 20 + len != b.len() {
            return Err(StunError::BadLength);
        }
        let (class, method) = split_type(u16::from_be_bytes([b[0], b[1]]));
        let mut tid = [0u8; 12];
        tid.copy_from_slice(&b[8..20]);
        let mut attributes = Vec::new();
        let mut p = 20;
        while p < b.len() {
            if p + 4 > b.len() {
                return Err(StunError::BadLength);
            }
            let kind = u16::from_be_bytes([b[p], b[p + 1]]);
            let vlen = usize::from(u16::from_be_bytes([b[p + 2], b[p + 3]]));
            let v = b
                .get(p + 4..p + 4 + vlen)
                .ok_or(StunError::BadAttribute(kind))?;
            let bad = || StunError::BadAttribute(kind);
            let text = || String::from_utf8(v.to_vec()).map_err(|_| bad());
            let attr = match kind {
                ATTR_MAPPED_ADDRESS => {
                    StunAttribute::MappedAddress(decode_address(v, None).ok_or_else(bad)?)
                }
                ATTR_XOR_MAPPED_ADDRESS => {
                    StunAttribute::XorMappedAddress(decode_address(v, Some(&tid)).ok_or_else(bad)?)
                }
                ATTR_USERNAME => StunAttribute::Username(text()?),
                ATTR_SOFTWARE => StunAttribute::Software(text()?),
                ATTR_MESSAGE_INTEGRITY => {
                    let mut m = [0u8; 20];
                    if v.len() != 20 {
                        return Err(bad());
                    }
                    m.copy_from_slice(v);
                    StunAttribute::MessageIntegrity(m)
                }
                ATTR_ERROR_CODE => {
                    if v.len() < 4 || !(3..=6).contains(&v[2]) || v[3] > 99 {
                        return Err(bad());
                    }
                    StunAttribute::ErrorCode {
                        code: u16::from(v[2]) * 100 + u16::from(v[3]),
                        reason: String::from_utf8_lossy(&v[4..]).into_owned(),
                    }
                }
                ATTR_FINGERPRINT => {
                    if v.len() != 4 || p + 8 != b.len() {
                        return Err(bad());
                    }
                    let fp = u32::from_be_bytes([v[0], v[1], v[2], v[3]]);
                    if crc32(&b[..p]) ^ FINGERPRINT_XOR != fp {
                        return Err(StunError::BadFingerprint);
                    }
                    StunAttribute::Fingerprint(fp)
                }
                _ => StunAttribute::Other {
                    kind,
                    value: v.to_vec(),
                },
            };
            attributes.push(attr);
            p += 4 + vlen.div_ceil(4) * 4;
        }
        if p != b.len() {
            return Err(StunError::BadLength);
        }
        Ok(StunMessage {
            class,
            method,
            transaction_id: tid,
            attributes,
        })
    }

    /// Checks the MESSAGE-INTEGRITY of encoded bytes with a short-term key (the
    /// password). `false` when there is none or it does not match.
    pub fn check_integrity(b: &[u8], key: &[u8]) -> bool {
        let mut p = 20;
        while p + 4 <= b.len() {
            let kind = u16::from_be_bytes([b[p], b[p + 1]]);
            let vlen = usize::from(u16::from_be_bytes([b[p + 2], b[p + 3]]));
            if kind == ATTR_MESSAGE_INTEGRITY {
                if vlen != 20 || p + 24 > b.len() {
                    return false;
                }
                // The length field as if the message ended after MESSAGE-INTEGRITY.
                let mut covered = b[..p].to_vec();
                let len = (p + 24 - 20) as u16;
                covered[2..4].copy_from_slice(&len.to_be_bytes());
                let mac = hmac_sha1(key, &covered);
                return ct_eq(&mac, &b[p + 4..p + 24]);
            }
            p += 4 + vlen.div_ceil(4) * 4;
        }
        false
    }
}

fn ct_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc_and_types() {
        assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
        for class in [
            StunClass::Request,
            StunClass::Indication,
            StunClass::Success,
            StunClass::Error,
        ] {
            assert_eq!(split_type(message_type(class, BINDING)), (class, BINDING));
        }
        assert_eq!(message_type(StunClass::Success, BINDING), 0x0101);
    }

    #[test]
    fn round_trip() {
        let mut m = StunMessage::binding_response([7; 12], "[2001:db8::1]:3478".parse().unwrap());
        m.attributes.push(StunAttribute::Software("sip-nat".into()));
        let bytes = m.encode(Some(b"pw"), true);
        assert!(StunMessage::check_integrity(&bytes, b"pw"));
        assert!(!StunMessage::check_integrity(&bytes, b"other"));
        let back = StunMessage::decode(&bytes).unwrap();
        assert_eq!(back.mapped_address(), m.mapped_address());
        let mut corrupt = bytes.clone();
        corrupt[30] ^= 1;
        assert!(StunMessage::decode(&corrupt).is_err());
    }
}
