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

/// The most digits a [`Hex`] holds: a 256-bit digest, the longest any digest
/// algorithm here produces.
const MAX_DIGITS: usize = 64;

/// A hex string of up to 64 digits, kept on the stack (small enough to be returned
/// and copied without a call to `memcpy`).
#[derive(Clone, Copy)]
pub struct Hex {
    buf: [u8; MAX_DIGITS],
    len: u8,
}

impl Hex {
    /// Encodes bytes (at most 32; any more are left out) as lowercase hex.
    pub fn encode(bytes: &[u8]) -> Hex {
        let mut buf = [0u8; MAX_DIGITS];
        let n = bytes.len().min(MAX_DIGITS / 2);
        encode_into(&bytes[..n], &mut buf);
        Hex {
            buf,
            len: (2 * n) as u8,
        }
    }

    /// Copies hex digits (at most 64; any more are left out), lowercasing them.
    pub fn from_hex_lowercase(s: &str) -> Hex {
        let mut buf = [0u8; MAX_DIGITS];
        let n = s.len().min(MAX_DIGITS);
        for (d, c) in buf.iter_mut().zip(s.bytes().take(n)) {
            *d = c.to_ascii_lowercase();
        }
        Hex { buf, len: n as u8 }
    }

    /// Reads exactly `len` (at most 64) hex digits of either case, lowercased; `None`
    /// for any other length or character.
    pub(crate) fn parse_lowercase(s: &str, len: usize) -> Option<Hex> {
        if s.len() != len || len > MAX_DIGITS {
            return None;
        }
        let mut buf = [0u8; MAX_DIGITS];
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
