//! Digest algorithms (RFC 7616 §3.3, RFC 8760) and the hashing they do.

use md5::Md5;
use sha2::{Digest, Sha256, Sha512_256};
use std::fmt;

use crate::hex::Hex;

/// The hash function behind an algorithm.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum HashFamily {
    /// MD5 (32 hex digits).
    Md5,
    /// SHA-256 (64 hex digits).
    Sha256,
    /// SHA-512/256, the SHA-512 variant with its own initial values, truncated to 256
    /// bits (64 hex digits). Not a truncated SHA-512.
    Sha512_256,
}

impl HashFamily {
    /// The length of a digest in hex digits.
    pub fn hex_len(self) -> usize {
        match self {
            HashFamily::Md5 => 32,
            HashFamily::Sha256 | HashFamily::Sha512_256 => 64,
        }
    }

    /// Hashes the concatenation of `parts` and returns lowercase hex.
    pub fn hash(self, parts: &[&[u8]]) -> Hex {
        fn run<D: Digest>(parts: &[&[u8]]) -> Hex {
            if let [one] = parts {
                return Hex::encode(&D::digest(one));
            }
            let mut d = D::new();
            for p in parts {
                d.update(p);
            }
            Hex::encode(&d.finalize())
        }
        match self {
            HashFamily::Md5 => run::<Md5>(parts),
            HashFamily::Sha256 => run::<Sha256>(parts),
            HashFamily::Sha512_256 => run::<Sha512_256>(parts),
        }
    }

    /// `H(a:b:...)`: the hash of the parts joined with colons. Short inputs (all of
    /// them, in practice) are joined on the stack and hashed in one call, which costs
    /// far less than feeding the hasher piece by piece.
    pub fn hash_colon(self, parts: &[&[u8]]) -> Hex {
        /// Joins the parts with colons into `buf`, which is long enough.
        fn join<'b>(buf: &'b mut [u8], parts: &[&[u8]]) -> &'b [u8] {
            let mut n = 0;
            for (i, p) in parts.iter().enumerate() {
                if i > 0 {
                    buf[n] = b':';
                    n += 1;
                }
                buf[n..n + p.len()].copy_from_slice(p);
                n += p.len();
            }
            &buf[..n]
        }
        let total: usize =
            parts.iter().map(|p| p.len()).sum::<usize>() + parts.len().saturating_sub(1);
        // Two stack sizes: most inputs (HA1, HA2, most responses) fit the smaller one,
        // which is cheaper to clear.
        if total <= 256 {
            return self.hash(&[join(&mut [0u8; 256], parts)]);
        }
        if total <= 512 {
            return self.hash(&[join(&mut [0u8; 512], parts)]);
        }
        let mut joined: Vec<&[u8]> = Vec::with_capacity(2 * parts.len());
        for (i, p) in parts.iter().enumerate() {
            if i > 0 {
                joined.push(b":");
            }
            joined.push(p);
        }
        self.hash(&joined)
    }
}

/// A digest algorithm.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Algorithm {
    /// `MD5` (RFC 2617, RFC 3261).
    Md5,
    /// `MD5-sess`.
    Md5Sess,
    /// `SHA-256` (RFC 7616, RFC 8760).
    Sha256,
    /// `SHA-256-sess`.
    Sha256Sess,
    /// `SHA-512-256` (RFC 7616, RFC 8760).
    Sha512_256,
    /// `SHA-512-256-sess`.
    Sha512_256Sess,
}

impl Algorithm {
    /// Every algorithm, strongest first.
    pub const ALL: [Algorithm; 6] = [
        Algorithm::Sha512_256,
        Algorithm::Sha512_256Sess,
        Algorithm::Sha256,
        Algorithm::Sha256Sess,
        Algorithm::Md5,
        Algorithm::Md5Sess,
    ];

    /// Reads an algorithm name tolerantly: case-insensitive, with or without the dash
    /// (`SHA256`, `sha-256`), `SHA-512/256` for `SHA-512-256`. `None` for anything else.
    pub fn parse(s: &str) -> Option<Algorithm> {
        // Upper case without '-', '_' or '/', in a stack buffer: the longest name
        // ("SHA512256SESS") has 13 characters, so anything longer is no algorithm.
        let mut norm = [0u8; 13];
        let mut n = 0;
        for b in s.trim().bytes() {
            if matches!(b, b'-' | b'_' | b'/') {
                continue;
            }
            *norm.get_mut(n)? = b.to_ascii_uppercase();
            n += 1;
        }
        Some(match &norm[..n] {
            b"MD5" => Algorithm::Md5,
            b"MD5SESS" => Algorithm::Md5Sess,
            b"SHA256" => Algorithm::Sha256,
            b"SHA256SESS" => Algorithm::Sha256Sess,
            b"SHA512256" => Algorithm::Sha512_256,
            b"SHA512256SESS" => Algorithm::Sha512_256Sess,
            _ => return None,
        })
    }

    /// The name as RFC 7616 spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            Algorithm::Md5 => "MD5",
            Algorithm::Md5Sess => "MD5-sess",
            Algorithm::Sha256 => "SHA-256",
            Algorithm::Sha256Sess => "SHA-256-sess",
            Algorithm::Sha512_256 => "SHA-512-256",
            Algorithm::Sha512_256Sess => "SHA-512-256-sess",
        }
    }

    /// Whether this is a `-sess` variant (HA1 re-hashed with the nonce and cnonce).
    pub fn is_sess(self) -> bool {
        matches!(
            self,
            Algorithm::Md5Sess | Algorithm::Sha256Sess | Algorithm::Sha512_256Sess
        )
    }

    /// The hash function.
    pub fn family(self) -> HashFamily {
        match self {
            Algorithm::Md5 | Algorithm::Md5Sess => HashFamily::Md5,
            Algorithm::Sha256 | Algorithm::Sha256Sess => HashFamily::Sha256,
            Algorithm::Sha512_256 | Algorithm::Sha512_256Sess => HashFamily::Sha512_256,
        }
    }
}

impl fmt::Display for Algorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tolerant_names() {
        for (s, a) in [
            ("MD5", Algorithm::Md5),
            ("md5", Algorithm::Md5),
            ("MD5-sess", Algorithm::Md5Sess),
            ("SHA256", Algorithm::Sha256),
            ("sha-256", Algorithm::Sha256),
            ("SHA-256-SESS", Algorithm::Sha256Sess),
            ("SHA-512-256", Algorithm::Sha512_256),
            ("SHA-512/256", Algorithm::Sha512_256),
            ("sha512-256-sess", Algorithm::Sha512_256Sess),
        ] {
            assert_eq!(Algorithm::parse(s), Some(a), "{s}");
        }
        assert_eq!(Algorithm::parse("SHA-512"), None);
        assert_eq!(Algorithm::parse("AKAv1-MD5"), None);
        for a in Algorithm::ALL {
            assert_eq!(Algorithm::parse(a.as_str()), Some(a));
        }
    }

    #[test]
    fn sha512_256_is_not_truncated_sha512() {
        // FIPS 180-4 SHA-512/256("abc").
        assert_eq!(
            HashFamily::Sha512_256.hash(&[b"abc"]).as_str(),
            "53048e2681941ef99b2e29b76b4c7dabe4c2d0c634fc6d46e0e2f13107e7af23"
        );
        assert_eq!(
            HashFamily::Md5.hash_colon(&[b"a", b"b"]).as_str(),
            HashFamily::Md5.hash(&[b"a:b"]).as_str()
        );
    }
}
