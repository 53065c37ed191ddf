//! Lowercase hex digests on the stack, and a constant-time comparison.

use std::fmt;

/// A hex string of up to 128 digits, kept on the stack.
#[derive(Clone, Copy)]
pub struct Hex {
    buf: [u8; 128],
    len: u8,
}

impl Hex {
    /// Encodes bytes (at most 64) as lowercase hex.
    pub fn encode(bytes: &[u8]) -> Hex {
        const DIGITS: &[u8; 16] = b"0123456789abcdef";
        let mut buf = [0u8; 128];
        let n = bytes.len().min(64);
        for (i, b) in bytes[..n].iter().enumerate() {
            buf[2 * i] = DIGITS[usize::from(b >> 4)];
            buf[2 * i + 1] = DIGITS[usize::from(b & 15)];
        }
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
    }
}
