//! Digest algorithms (RFC 7616 §3.3, RFC 8760) and the hashing they do.

use md5::Md5;
use sha2::{Digest, Sha256, Sha512_256};
use std::fmt;

use crate::hex::{Hex, encode_into};
use crate::md5_pair;

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
        let total = joined_len(parts);
        // Two stack sizes, each with room for the padding: most inputs (HA1, HA2, most
        // responses) fit the smaller one, which is cheaper to clear.
        if total <= SHORT {
            let mut buf = [0u8; SHORT + PAD_ROOM];
            let n = join(&mut buf, parts);
            return self.hash_padded(&mut buf, n);
        }
        if total <= 2 * SHORT {
            let mut buf = [0u8; 2 * SHORT + PAD_ROOM];
            let n = join(&mut buf, parts);
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

    /// `(H(a:...), H(b:...))`: two hashes that do not depend on each other, such as a
    /// `-sess` session key and HA2. MD5 compresses their blocks side by side
    /// ([`crate::md5_pair`]); the other hashes, whose blocks are not waiting on a chain
    /// of steps the way MD5's are, one after the other.
    pub(crate) fn hash_colon_pair(self, a: &[&[u8]], b: &[&[u8]]) -> (Hex, Hex) {
        if self == HashFamily::Md5 && joined_len(a) <= SHORT && joined_len(b) <= SHORT {
            let mut xb = [0u8; SHORT + PAD_ROOM];
            let mut yb = [0u8; SHORT + PAD_ROOM];
            let xn = join(&mut xb, a);
            let yn = join(&mut yb, b);
            let (x, y) = md5_side_by_side(&mut xb, xn, None, &mut yb, yn);
            return (md5_hex(x), md5_hex(y));
        }
        (self.hash_colon(a), self.hash_colon(b))
    }

    /// `H(outer:...:H(inner:...))`: a hash whose last part is the hex of another, such
    /// as a response and its HA2. MD5 compresses the blocks of the outer input that come
    /// before the inner hash side by side with the inner hash's blocks.
    pub(crate) fn hash_colon_then(self, outer: &[&[u8]], inner: &[&[u8]]) -> Hex {
        let hex_len = self.hex_len();
        let outer_len = joined_len(outer) + 1 + hex_len;
        if outer_len <= SHORT && joined_len(inner) <= SHORT {
            let mut xb = [0u8; SHORT + PAD_ROOM];
            let at = join(&mut xb, outer) + 1;
            xb[at - 1] = b':';
            if self == HashFamily::Md5 {
                let mut yb = [0u8; SHORT + PAD_ROOM];
                let yn = join(&mut yb, inner);
                let (x, _) = md5_side_by_side(&mut xb, outer_len, Some(at), &mut yb, yn);
                return md5_hex(x);
            }
            let inner_hash = self.hash_colon(inner);
            xb[at..outer_len].copy_from_slice(inner_hash.as_bytes());
            return self.hash_padded(&mut xb, outer_len);
        }
        // Long inputs (a long Request-URI, say): the general way.
        let inner_hash = self.hash_colon(inner);
        let mut parts = outer.to_vec();
        parts.push(inner_hash.as_bytes());
        self.hash_colon(&parts)
    }

    /// The hash of `buf[..len]`, padded in place in `buf` (which has room for it) and
    /// run through the hash crates' compression functions directly: for these short
    /// inputs that costs less than their buffered `Digest` interface.
    fn hash_padded(self, buf: &mut [u8], len: usize) -> Hex {
        match self {
            HashFamily::Md5 => {
                let n = pad::<64>(buf, len, &md5_bit_length(len));
                let mut state = one_shot::MD5_IV;
                md5::block_api::compress(&mut state, buf[..n].as_chunks().0);
                md5_hex(state)
            }
            HashFamily::Sha256 => {
                let n = pad::<64>(buf, len, &((len as u64) * 8).to_be_bytes());
                let mut state = one_shot::SHA256_IV;
                sha2::block_api::compress256(&mut state, buf[..n].as_chunks().0);
                let mut out = [0u8; 32];
                for (o, w) in out.chunks_exact_mut(4).zip(state) {
                    o.copy_from_slice(&w.to_be_bytes());
                }
                Hex::encode(&out)
            }
            HashFamily::Sha512_256 => {
                let n = pad::<128>(buf, len, &((len as u128) * 8).to_be_bytes());
                let mut state = one_shot::SHA512_256_IV;
                sha2::block_api::compress512(&mut state, buf[..n].as_chunks().0);
                let mut out = [0u8; 32];
                for (o, w) in out.chunks_exact_mut(8).zip(state) {
                    o.copy_from_slice(&w.to_be_bytes());
                }
                Hex::encode(&out)
            }
        }
    }
}

/// The stack buffer size for hash inputs: every input of a usual digest fits.
const SHORT: usize = 256;

/// Room after the input for the longest padding (SHA-512: a 0x80 byte, a 16-byte
/// length, and up to a block).
const PAD_ROOM: usize = 128;

/// The length of the parts joined with colons.
fn joined_len(parts: &[&[u8]]) -> usize {
    parts.iter().map(|p| p.len()).sum::<usize>() + parts.len().saturating_sub(1)
}

/// Joins the parts with colons into `buf`, which is long enough; returns the length.
fn join(buf: &mut [u8], parts: &[&[u8]]) -> usize {
    let mut n = 0;
    for (i, p) in parts.iter().enumerate() {
        if i > 0 {
            buf[n] = b':';
            n += 1;
        }
        buf[n..n + p.len()].copy_from_slice(p);
        n += p.len();
    }
    n
}

/// MD5's length field: the message length in bits, little-endian.
fn md5_bit_length(len: usize) -> [u8; 8] {
    ((len as u64) * 8).to_le_bytes()
}

/// The digest bytes of a final MD5 state.
fn md5_digest(state: [u32; 4]) -> [u8; 16] {
    let mut out = [0u8; 16];
    for (o, w) in out.chunks_exact_mut(4).zip(state) {
        o.copy_from_slice(&w.to_le_bytes());
    }
    out
}

/// The hex digest of a final MD5 state.
fn md5_hex(state: [u32; 4]) -> Hex {
    Hex::encode(&md5_digest(state))
}

/// MD5 of `x[..x_len]` and of `y[..y_len]` (both buffers with room for their padding),
/// their blocks compressed side by side as far as both have blocks ready. With
/// `hex_at`, `x` holds `y`'s hex digest at that offset (32 bytes, written here): `x`'s
/// blocks up to the one holding it run beside `y`'s, the rest once `y` is done.
/// Returns the final states of `x` and `y`.
fn md5_side_by_side(
    x: &mut [u8],
    x_len: usize,
    hex_at: Option<usize>,
    y: &mut [u8],
    y_len: usize,
) -> ([u32; 4], [u32; 4]) {
    let xn = pad::<64>(x, x_len, &md5_bit_length(x_len));
    let yn = pad::<64>(y, y_len, &md5_bit_length(y_len));
    let x_ready = hex_at.map_or(xn, |at| at / 64 * 64);
    let mut sx = one_shot::MD5_IV;
    let mut sy = one_shot::MD5_IV;
    let xb = x[..x_ready].as_chunks::<64>().0;
    let yb = y[..yn].as_chunks::<64>().0;
    let both = xb.len().min(yb.len());
    for (bx, by) in xb.iter().zip(yb) {
        md5_pair::compress_pair(&mut sx, bx, &mut sy, by);
    }
    md5::block_api::compress(&mut sy, &yb[both..]);
    md5::block_api::compress(&mut sx, &xb[both..]);
    if let Some(at) = hex_at {
        encode_into(&md5_digest(sy), &mut x[at..at + 32]);
        md5::block_api::compress(&mut sx, x[x_ready..xn].as_chunks().0);
    }
    (sx, sy)
}

/// Merkle-Damgard padding of `buf[..len]` in place for blocks of `B` bytes: a 0x80
/// byte, zeros, then `length` (the message length in bits, as the hash writes it) at
/// the end of the last block. Returns the padded length, a whole number of blocks;
/// `buf` must have room (the callers' buffers keep [`PAD_ROOM`] bytes spare).
fn pad<const B: usize>(buf: &mut [u8], len: usize, length: &[u8]) -> usize {
    let n = (len + 1 + length.len()).div_ceil(B) * B;
    let area = &mut buf[..n];
    area[len] = 0x80;
    area[len + 1..n - length.len()].fill(0);
    area[n - length.len()..].copy_from_slice(length);
    n
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
    fn paired_hashes_match_hashing_one_after_the_other() {
        // Outer and inner inputs of every length around MD5's block boundaries and the
        // stack buffer's size, so the inner digest lands at every offset in a block and
        // either side may have more blocks.
        let data: Vec<u8> = (0..400u32).map(|i| b'a' + (i * 7 % 26) as u8).collect();
        let families = [HashFamily::Md5, HashFamily::Sha256, HashFamily::Sha512_256];
        for outer_len in (0..=300).step_by(3) {
            for inner_len in [0, 1, 25, 55, 56, 63, 64, 119, 120, 200, 256, 257, 300] {
                let outer: [&[u8]; 2] = [&data[..outer_len / 2], &data[outer_len / 2..outer_len]];
                let inner: [&[u8]; 2] = [b"REGISTER", &data[100..100 + inner_len]];
                for f in families {
                    let inner_hash = f.hash_colon(&inner);
                    let expect = f.hash_colon(&[outer[0], outer[1], inner_hash.as_bytes()]);
                    let got = f.hash_colon_then(&outer, &inner);
                    assert_eq!(
                        got.as_str(),
                        expect.as_str(),
                        "{f:?} {outer_len} {inner_len}"
                    );
                    let (a, b) = f.hash_colon_pair(&outer, &inner);
                    assert_eq!(a.as_str(), f.hash_colon(&outer).as_str());
                    assert_eq!(b.as_str(), inner_hash.as_str());
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
