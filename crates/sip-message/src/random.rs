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
        const ALPHABET: &[u8; 36] = b"0123456789abcdefghijklmnopqrstuvwxyz";
        // Random bytes `len` at a time (a stack buffer for the usual short tokens), as
        // many rounds as the rejections need.
        let mut stack = [0u8; 64];
        let mut heap = Vec::new();
        let raw: &mut [u8] = if len <= stack.len() {
            &mut stack[..len]
        } else {
            heap.resize(len, 0);
            &mut heap
        };
        let mut out = String::with_capacity(len);
        let mut missing = len;
        while missing > 0 {
            self.fill(raw);
            // 252 = 7 * 36: rejecting bytes at or above it keeps every character
            // equally likely.
            let chars = raw
                .iter()
                .filter(|&&b| b < 252)
                .take(missing)
                .map(|&b| char::from(ALPHABET[usize::from(b % 36)]));
            let before = out.len();
            out.extend(chars);
            missing -= out.len() - before;
        }
        out
    }
}

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
}
