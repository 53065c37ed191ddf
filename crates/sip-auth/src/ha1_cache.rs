//! HA1s the client computed from passwords, kept for the next challenge.
//!
//! `H(username:realm:password)` depends on neither the nonce nor the request (RFC 7616
//! §3.4.2), so a client answering challenge after challenge from one realm (every
//! registration refresh, every proxy-authenticated INVITE) needs it once, not once per
//! answer. Each entry keeps a copy of the password it was computed from and is used only
//! when the password still matches, so changed credentials are never answered with a
//! stale HA1. Passwords and HA1s are wiped when an entry is dropped.

use std::collections::VecDeque;
use std::fmt;

use zeroize::Zeroizing;

use crate::algorithm::HashFamily;
use crate::digest::ha1_base;
use crate::hex::constant_time_eq;

/// How many (family, user, realm) HA1s are kept; the oldest goes first.
const CAPACITY: usize = 16;

struct Entry {
    family: HashFamily,
    username: String,
    realm: String,
    password: Zeroizing<Vec<u8>>,
    ha1: Zeroizing<String>,
}

/// A small, bounded cache of HA1s by hash family, user name and realm.
#[derive(Default)]
pub(crate) struct Ha1Cache {
    entries: VecDeque<Entry>,
}

impl Clone for Ha1Cache {
    fn clone(&self) -> Ha1Cache {
        // A clone starts cold: secrets are not duplicated needlessly.
        Ha1Cache::default()
    }
}

impl fmt::Debug for Ha1Cache {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Ha1Cache({} entries, <redacted>)", self.entries.len())
    }
}

impl Ha1Cache {
    /// The HA1 (lowercase hex) for these credentials in this realm, computed on first use.
    pub(crate) fn ha1(
        &mut self,
        family: HashFamily,
        username: &str,
        realm: &str,
        password: &[u8],
    ) -> &str {
        let hit = self.entries.iter().position(|e| {
            e.family == family
                && e.username == username
                && e.realm == realm
                && constant_time_eq(&e.password, password)
        });
        let index = match hit {
            Some(i) => i,
            None => {
                // Entries for the same user and realm with an old password go now.
                self.entries.retain(|e| {
                    !(e.family == family && e.username == username && e.realm == realm)
                });
                if self.entries.len() >= CAPACITY {
                    self.entries.pop_front();
                }
                let ha1 = ha1_base(family, username, realm, password);
                self.entries.push_back(Entry {
                    family,
                    username: username.to_string(),
                    realm: realm.to_string(),
                    password: Zeroizing::new(password.to_vec()),
                    ha1: Zeroizing::new(ha1.as_str().to_string()),
                });
                self.entries.len() - 1
            }
        };
        &self.entries[index].ha1
    }

    /// How many HA1s are kept.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.entries.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn computes_once_and_follows_password_changes() {
        let mut c = Ha1Cache::default();
        let first = c.ha1(HashFamily::Md5, "alice", "r", b"pw1").to_string();
        assert_eq!(
            first,
            ha1_base(HashFamily::Md5, "alice", "r", b"pw1").as_str()
        );
        assert_eq!(c.ha1(HashFamily::Md5, "alice", "r", b"pw1"), first);
        assert_eq!(c.len(), 1);
        // A new password replaces the entry instead of reusing the old HA1.
        let changed = c.ha1(HashFamily::Md5, "alice", "r", b"pw2").to_string();
        assert_ne!(changed, first);
        assert_eq!(
            changed,
            ha1_base(HashFamily::Md5, "alice", "r", b"pw2").as_str()
        );
        assert_eq!(c.len(), 1);
        // Another family or realm is another entry.
        let sha = c.ha1(HashFamily::Sha256, "alice", "r", b"pw2").to_string();
        assert_eq!(sha.len(), 64);
        c.ha1(HashFamily::Md5, "alice", "other", b"pw2");
        assert_eq!(c.len(), 3);
    }

    #[test]
    fn stays_bounded() {
        let mut c = Ha1Cache::default();
        for i in 0..100 {
            c.ha1(HashFamily::Md5, &format!("u{i}"), "r", b"pw");
        }
        assert_eq!(c.len(), CAPACITY);
        assert!(format!("{c:?}").contains("redacted"));
    }
}
