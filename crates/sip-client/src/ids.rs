//! Random identifiers (RFC 3261 §8.1.1.4, §8.1.1.7, §19.3): Call-IDs, tags and
//! branches, all from the injected [`Random`].

use sip_message::Random;
use sip_message::headers::BRANCH_MAGIC_COOKIE;

/// A branch for a new client transaction: the RFC 3261 magic cookie and 16 random
/// characters (about 82 bits).
pub(crate) fn branch(rng: &mut dyn Random) -> String {
    let mut b = String::with_capacity(BRANCH_MAGIC_COOKIE.len() + 16);
    b.push_str(BRANCH_MAGIC_COOKIE);
    b.push_str(&rng.token(16));
    b
}

/// A From or To tag (12 random characters, about 62 bits).
pub(crate) fn tag(rng: &mut dyn Random) -> String {
    rng.token(12)
}

/// A Call-ID: 24 random characters (about 124 bits), so Call-IDs never collide
/// across restarts or hosts (pyVoIP derived them from a counter and the host).
pub(crate) fn call_id(rng: &mut dyn Random) -> String {
    rng.token(24)
}

/// A random RFC 4122 version-4 UUID URN, for `+sip.instance` (RFC 5626).
pub fn instance_id(rng: &mut dyn Random) -> String {
    let mut b = [0u8; 16];
    rng.fill(&mut b);
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!(
        "urn:uuid:{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use sip_message::SeededRandom;

    #[test]
    fn branches_carry_the_cookie_and_differ() {
        let mut rng = SeededRandom::new(1);
        let a = branch(&mut rng);
        let b = branch(&mut rng);
        assert!(a.starts_with("z9hG4bK") && a.len() == 23);
        assert_ne!(a, b);
        assert_ne!(call_id(&mut rng), call_id(&mut rng));
        assert_eq!(tag(&mut rng).len(), 12);
    }
}
