//! Lowercase hex digests on the stack, and a constant-time comparison.

use std::fmt;

/// The two lowercase hex digits of every byte value.
static HEX_PAIRS: [[u8; 2]; 256] = {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut t = [[0u8; 2]; 256];
    let mut i = 0;
    while i < 256 {
        t[i] = [DIGITS[i >> 4], DIGITS[i & 15]];
        i += 1;
    }
    t
};

/// Writes the lowercase hex digits of `bytes` at the start of `out` (which holds at
/// least twice as many bytes).
pub(crate) fn encode_into(bytes: &[u8], out: &mut [u8]) {
    for (pair, b) in out.chunks_exact_mut(2).zip(bytes) {
        pair.copy_from_slice(&HEX_PAIRS[usize::from(*b)]);
    }
}

/// A hex string of up to 128 digits, kept on the stack.
#[derive(Clone, Copy)]
pub struct Hex {
    buf: [u8; 128],
    len: u8,
}

impl Hex {
    /// Encodes bytes (at most 64) as lowercase hex.
    pub fn encode(bytes: &[u8]) -> Hex {
        let mut buf = [0u8; 128];
        let n = bytes.len().min(64);
        encode_into(&bytes[..n], &mut buf);
        Hex {
            buf,
            len: (2 * n) as u8,
        }
    }

    /// Copies hex digits (at most 128), lowercasing them.
    pub fn from_hex_lowercase(s: &str) -> Hex {
        let mut buf = [0u8; 128];
        let n = s.len().min(128);
        for (d, c) in buf.iter_mut().zip(s.bytes().take(n)) {
            *d = c.to_ascii_lowercase();
        }
        Hex { buf, len: n as u8 }
    }

    /// Reads exactly `len` (at most 128) hex digits of either case, lowercased; `None`
    /// for any other length or character.
    pub(crate) fn parse_lowercase(s: &str, len: usize) -> Option<Hex> {
        if s.len() != len || len > 128 {
            return None;
        }
        let mut buf = [0u8; 128];
        let mut bad = false;
        for (d, c) in buf.iter_mut().zip(s.bytes()) {
            bad |= !c.is_ascii_hexdigit();
            *d = c.to_ascii_lowercase();
        }
        (!bad).then_some(Hex {
            buf,
            len: len as u8,
        })
    }

    /// The digits.
    pub fn as_str(&self) -> &str {
        // Only ASCII hex digits are ever written.
        std::str::from_utf8(self.as_bytes()).unwrap_or_default()
    }

    /// The digits as bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.buf[..usize::from(self.len)]
    }
}

impl fmt::Display for Hex {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for Hex {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Hex({})", self.as_str())
    }
}

impl PartialEq<str> for Hex {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

/// Compares two byte strings in time that depends only on their lengths.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let diff = a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y));
    std::hint::black_box(diff) == 0
}

/// Whether `s` is lowercase or uppercase hex of exactly `len` digits.
pub(crate) fn is_hex(s: &str, len: usize) -> bool {
    s.len() == len && s.bytes().all(|b| b.is_ascii_hexdigit())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_and_compares() {
        assert_eq!(Hex::encode(&[0x00, 0xab, 0xff]).as_str(), "00abff");
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"ab"));
        assert!(is_hex("0123456789abcdefABCDEF0123456789", 32));
        assert!(!is_hex("xyz", 3));
        let h = Hex::parse_lowercase("0123456789ABCDEFabcdef0123456789", 32).unwrap();
        assert_eq!(h.as_str(), "0123456789abcdefabcdef0123456789");
        assert!(Hex::parse_lowercase("0123456789ABCDEFabcdef012345678g", 32).is_none());
        assert!(Hex::parse_lowercase("0123", 32).is_none());
    }
}
