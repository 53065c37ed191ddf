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
        /// Room after the input for the longest padding (SHA-512: a 0x80 byte, a
        /// 16-byte length, and up to a block).
        const PAD_ROOM: usize = 128;
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
        // Two stack sizes, each with room for the padding: most inputs (HA1, HA2, most
        // responses) fit the smaller one, which is cheaper to clear.
        if total <= 256 {
            let mut buf = [0u8; 256 + PAD_ROOM];
            let n = join(&mut buf, parts).len();
            return self.hash_padded(&mut buf, n);
        }
        if total <= 512 {
            let mut buf = [0u8; 512 + PAD_ROOM];
            let n = join(&mut buf, parts).len();
            return self.hash_padded(&mut buf, n);
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

    /// The hash of `buf[..len]`, padded in place in `buf` (which has room for it) and
    /// run through the hash crates' compression functions directly: for these short
    /// inputs that costs less than their buffered `Digest` interface.
    fn hash_padded(self, buf: &mut [u8], len: usize) -> Hex {
        match self {
            HashFamily::Md5 => {
                let blocks = pad::<64>(buf, len, &((len as u64) * 8).to_le_bytes());
                let mut state = one_shot::MD5_IV;
                md5::block_api::compress(&mut state, blocks);
                let mut out = [0u8; 16];
                for (o, w) in out.chunks_exact_mut(4).zip(state) {
                    o.copy_from_slice(&w.to_le_bytes());
                }
                Hex::encode(&out)
            }
            HashFamily::Sha256 => {
                let blocks = pad::<64>(buf, len, &((len as u64) * 8).to_be_bytes());
                let mut state = one_shot::SHA256_IV;
                sha2::block_api::compress256(&mut state, blocks);
                let mut out = [0u8; 32];
                for (o, w) in out.chunks_exact_mut(4).zip(state) {
                    o.copy_from_slice(&w.to_be_bytes());
                }
                Hex::encode(&out)
            }
            HashFamily::Sha512_256 => {
                let blocks = pad::<128>(buf, len, &((len as u128) * 8).to_be_bytes());
                let mut state = one_shot::SHA512_256_IV;
                sha2::block_api::compress512(&mut state, blocks);
                let mut out = [0u8; 32];
                for (o, w) in out.chunks_exact_mut(8).zip(state) {
                    o.copy_from_slice(&w.to_be_bytes());
                }
                Hex::encode(&out)
            }
        }
    }
}

/// Merkle-Damgard padding of `buf[..len]` in place for blocks of `B` bytes: a 0x80
/// byte, zeros, then `length` (the message length in bits, as the hash writes it) at
/// the end of the last block. Returns the blocks; `buf` must have room (the callers'
/// buffers keep 128 bytes spare).
fn pad<'b, const B: usize>(buf: &'b mut [u8], len: usize, length: &[u8]) -> &'b [[u8; B]] {
    let n = (len + 1 + length.len()).div_ceil(B) * B;
    let area = &mut buf[..n];
    area[len] = 0x80;
    area[len + 1..n - length.len()].fill(0);
    area[n - length.len()..].copy_from_slice(length);
    area.as_chunks::<B>().0
}

/// The initial hash values (RFC 1321 §3.3; FIPS 180-4 §5.3.3 and §5.3.6.2).
mod one_shot {
    pub(super) const MD5_IV: [u32; 4] = [0x6745_2301, 0xefcd_ab89, 0x98ba_dcfe, 0x1032_5476];
    pub(super) const SHA256_IV: [u32; 8] = [
        0x6a09_e667,
        0xbb67_ae85,
        0x3c6e_f372,
        0xa54f_f53a,
        0x510e_527f,
        0x9b05_688c,
        0x1f83_d9ab,
        0x5be0_cd19,
    ];
    pub(super) const SHA512_256_IV: [u64; 8] = [
        0x2231_2194_fc2b_f72c,
        0x9f55_5fa3_c84c_64c2,
        0x2393_b86b_6f53_b151,
        0x9638_7719_5940_eabd,
        0x9628_3ee2_a88e_ffe3,
        0xbe5e_1e25_5386_3992,
        0x2b01_99fc_2c85_b8aa,
        0x0eb7_2ddc_81c5_2ca2,
    ];
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
    fn padded_one_shot_hashes_match_the_digest_interface() {
        // Every input length the stack buffers take, around every block boundary, as one
        // part and split into colon-joined parts.
        let data: Vec<u8> = (0..600u32).map(|i| (i * 131 + 7) as u8).collect();
        for len in 0..=520 {
            let input = &data[..len];
            let expect = |f: HashFamily| -> String {
                match f {
                    HashFamily::Md5 => Hex::encode(&Md5::digest(input)).to_string(),
                    HashFamily::Sha256 => Hex::encode(&Sha256::digest(input)).to_string(),
                    HashFamily::Sha512_256 => Hex::encode(&Sha512_256::digest(input)).to_string(),
                }
            };
            for f in [HashFamily::Md5, HashFamily::Sha256, HashFamily::Sha512_256] {
                assert_eq!(f.hash_colon(&[input]).as_str(), expect(f), "{f:?} {len}");
            }
            if let Some(cut) = input.iter().position(|&b| b == b':') {
                let parts = [&input[..cut], &input[cut + 1..]];
                for f in [HashFamily::Md5, HashFamily::Sha256, HashFamily::Sha512_256] {
                    assert_eq!(f.hash_colon(&parts).as_str(), expect(f), "{f:?} {len}");
                }
            }
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
