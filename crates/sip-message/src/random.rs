//! Randomness for tags, branches, Call-IDs and cnonces, injected so tests can seed it.
//!
//! Every sans-IO state machine of the stack takes its randomness from a [`Random`]:
//! production code uses [`OsRandom`] (the operating system's CSPRNG), tests use
//! [`SeededRandom`] so a run can be replayed exactly.

/// A source of random bytes.
pub trait Random {
    /// Fills `dest` with random bytes.
    fn fill(&mut self, dest: &mut [u8]);

    /// A random `u64`.
    fn next_u64(&mut self) -> u64 {
        let mut b = [0u8; 8];
        self.fill(&mut b);
        u64::from_le_bytes(b)
    }

    /// A random token of `len` characters from `[0-9a-z]`, for tags, branch suffixes,
    /// Call-IDs and cnonces (RFC 3261 §19.3 asks for at least 32 bits of randomness;
    /// 16 characters carry about 82).
    fn token(&mut self, len: usize) -> String {
        if len <= TOKEN_ROUND {
            let mut buf = [0u8; TOKEN_ROUND];
            return self.fill_token(&mut buf[..len]).to_owned();
        }
        // Longer tokens: random bytes `len` at a time, as many rounds as the
        // rejections need, exactly as `fill_token` does for short ones.
        let mut raw = vec![0u8; len];
        let mut out = String::with_capacity(len);
        let mut missing = len;
        while missing > 0 {
            self.fill(&mut raw);
            let chars = raw
                .iter()
                .filter(|&&b| b < TOKEN_LIMIT)
                .take(missing)
                .map(|&b| char::from(TOKEN_ALPHABET[usize::from(b % 36)]));
            let before = out.len();
            out.extend(chars);
            missing -= out.len() - before;
        }
        out
    }

    /// [`Random::token`] written into `out` (its length is the token's), without
    /// allocating: the same characters for the same random bytes. Tokens longer than
    /// 64 characters are written a round of 64 random bytes at a time.
    fn fill_token<'b>(&mut self, out: &'b mut [u8]) -> &'b str {
        let mut raw = [0u8; TOKEN_ROUND];
        for part in out.chunks_mut(TOKEN_ROUND) {
            let raw = &mut raw[..part.len()];
            let mut filled = 0;
            while filled < part.len() {
                self.fill(raw);
                for &b in raw.iter() {
                    if filled == part.len() {
                        break;
                    }
                    if b < TOKEN_LIMIT {
                        part[filled] = TOKEN_ALPHABET[usize::from(b % 36)];
                        filled += 1;
                    }
                }
            }
        }
        // Every byte written is from the alphabet, so this is always the token.
        std::str::from_utf8(out).unwrap_or_default()
    }
}

/// The characters of tokens.
const TOKEN_ALPHABET: &[u8; 36] = b"0123456789abcdefghijklmnopqrstuvwxyz";
/// Random bytes at or above this are rejected: 252 = 7 * 36 keeps every character
/// equally likely.
const TOKEN_LIMIT: u8 = 252;
/// The longest token made from one stack buffer of random bytes per round.
const TOKEN_ROUND: usize = 64;

/// The operating system's CSPRNG (`getrandom`).
#[derive(Clone, Copy, Debug, Default)]
pub struct OsRandom;

impl Random for OsRandom {
    fn fill(&mut self, dest: &mut [u8]) {
        // The OS generator does not fail once the process runs; if it ever did, a
        // predictable tag would be worse than stopping.
        if let Err(e) = getrandom::fill(dest) {
            panic!("the operating system's random generator failed: {e}");
        }
    }
}

/// A deterministic generator (SplitMix64) for tests and simulations. Not for secrets.
#[derive(Clone, Debug)]
pub struct SeededRandom {
    state: u64,
}

impl SeededRandom {
    /// A generator whose whole output follows from `seed`.
    pub fn new(seed: u64) -> SeededRandom {
        SeededRandom { state: seed }
    }

    fn step(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
}

impl Random for SeededRandom {
    fn fill(&mut self, dest: &mut [u8]) {
        for chunk in dest.chunks_mut(8) {
            let v = self.step().to_le_bytes();
            chunk.copy_from_slice(&v[..chunk.len()]);
        }
    }
}

impl<R: Random + ?Sized> Random for &mut R {
    fn fill(&mut self, dest: &mut [u8]) {
        (**self).fill(dest);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seeded_is_reproducible() {
        let (mut a, mut b) = (SeededRandom::new(7), SeededRandom::new(7));
        assert_eq!(a.token(20), b.token(20));
        assert_ne!(
            SeededRandom::new(1).next_u64(),
            SeededRandom::new(2).next_u64()
        );
    }

    #[test]
    fn tokens_use_the_alphabet() {
        let t = OsRandom.token(64);
        assert_eq!(t.len(), 64);
        assert!(
            t.bytes()
                .all(|b| b.is_ascii_digit() || b.is_ascii_lowercase())
        );
        assert_ne!(OsRandom.token(16), OsRandom.token(16));
    }

    /// The token as the byte-by-byte definition makes it: `len` random bytes a round,
    /// the first still missing ones below 252 kept, each mapped into the alphabet.
    fn reference_token(r: &mut impl Random, len: usize) -> String {
        let mut raw = vec![0u8; len];
        let mut out = String::new();
        while out.len() < len {
            r.fill(&mut raw);
            for &b in &raw {
                if b < 252 && out.len() < len {
                    out.push(char::from(TOKEN_ALPHABET[usize::from(b % 36)]));
                }
            }
        }
        out
    }

    #[test]
    fn tokens_follow_the_definition_at_every_length() {
        // Seeds and lengths enough to meet rejected bytes (about one in 64).
        for seed in 0..200 {
            for len in [1, 7, 16, 24, 32, 63, 64, 65, 100, 130] {
                let expected = reference_token(&mut SeededRandom::new(seed), len);
                assert_eq!(SeededRandom::new(seed).token(len), expected, "{seed} {len}");
                if len <= 64 {
                    let mut buf = vec![0u8; len];
                    let mut r = SeededRandom::new(seed);
                    assert_eq!(r.fill_token(&mut buf), expected, "{seed} {len}");
                }
            }
        }
    }
}
