//! The credentials store, with pyVoIP's lookup order.
//!
//! Credentials are added for a server, a realm and a local user, each of which may be a
//! wildcard (`None`). A lookup tries the eight combinations from most to least specific:
//! server before realm before user, exact before wildcard, as pyVoIP's
//! `CredentialsManager.get` does. Secrets are wiped from memory when dropped and never
//! printed.

use std::fmt;

use zeroize::Zeroizing;

use crate::algorithm::HashFamily;
use crate::error::CredentialError;
use crate::hex::is_hex;

/// A secret: the password, or a precomputed `H(username:realm:password)`.
#[derive(Clone)]
pub enum Secret {
    /// The password.
    Password(Zeroizing<String>),
    /// An HA1 in hex, for one hash family (and the realm it was computed with).
    Ha1 {
        /// The hash it was computed with.
        family: HashFamily,
        /// The digits.
        hex: Zeroizing<String>,
    },
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Secret::Password(_) => f.write_str("Password(<redacted>)"),
            Secret::Ha1 { family, .. } => write!(f, "Ha1({family:?}, <redacted>)"),
        }
    }
}

/// A user name and its secret.
#[derive(Clone)]
pub struct Credential {
    /// The authentication user name (may differ from the AOR user).
    pub username: String,
    /// The secret.
    pub secret: Secret,
}

impl fmt::Debug for Credential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credential")
            .field("username", &self.username)
            .field("secret", &self.secret)
            .finish()
    }
}

#[derive(Clone, Debug)]
struct Entry {
    server: Option<String>,
    realm: Option<String>,
    user: Option<String>,
    credential: Credential,
}

/// What a lookup found.
#[derive(Clone, Copy, Debug)]
pub struct Found<'a> {
    /// The credential.
    pub credential: &'a Credential,
    /// Whether it was added for this very server (not a wildcard).
    pub server_specific: bool,
}

/// The credentials store.
#[derive(Clone, Debug, Default)]
pub struct CredentialsManager {
    entries: Vec<Entry>,
    anonymous_fallback: bool,
}

/// The anonymous credential of RFC 3261 §22.1.
static ANONYMOUS: std::sync::LazyLock<Credential> = std::sync::LazyLock::new(|| Credential {
    username: "anonymous".to_string(),
    secret: Secret::Password(Zeroizing::new(String::new())),
});

impl CredentialsManager {
    /// An empty store.
    pub fn new() -> CredentialsManager {
        CredentialsManager::default()
    }

    /// Whether a lookup that finds nothing returns the `anonymous` user with an empty
    /// password (RFC 3261 §22.1), as pyVoIP does. Off by default.
    pub fn set_anonymous_fallback(&mut self, on: bool) {
        self.anonymous_fallback = on;
    }

    fn insert(
        &mut self,
        server: Option<&str>,
        realm: Option<&str>,
        user: Option<&str>,
        credential: Credential,
    ) {
        let server = server.map(str::to_ascii_lowercase);
        let realm = realm.map(str::to_string);
        let user = user.map(str::to_string);
        self.entries
            .retain(|e| !(e.server == server && e.realm == realm && e.user == user));
        self.entries.push(Entry {
            server,
            realm,
            user,
            credential,
        });
    }

    /// Adds a user name and password for a server, realm and local user; `None` is a
    /// wildcard. Adding again for the same three replaces the earlier entry.
    pub fn add(
        &mut self,
        username: &str,
        password: &str,
        server: Option<&str>,
        realm: Option<&str>,
        user: Option<&str>,
    ) {
        self.insert(
            server,
            realm,
            user,
            Credential {
                username: username.to_string(),
                secret: Secret::Password(Zeroizing::new(password.to_string())),
            },
        );
    }

    /// Adds a precomputed HA1 (`H(username:realm:password)` in hex) for one hash
    /// family. The realm is required, since the HA1 was computed with it.
    pub fn add_ha1(
        &mut self,
        username: &str,
        ha1: &str,
        family: HashFamily,
        server: Option<&str>,
        realm: &str,
        user: Option<&str>,
    ) -> Result<(), CredentialError> {
        if !is_hex(ha1, family.hex_len()) {
            return Err(CredentialError::BadHa1 {
                family,
                expected: family.hex_len(),
            });
        }
        self.insert(
            server,
            Some(realm),
            user,
            Credential {
                username: username.to_string(),
                secret: Secret::Ha1 {
                    family,
                    hex: Zeroizing::new(ha1.to_ascii_lowercase()),
                },
            },
        );
        Ok(())
    }

    /// Looks up credentials for the server we sent to, the realm challenged and our
    /// local user, in pyVoIP's order (server, then realm, then user; exact first).
    pub fn get(&self, server: &str, realm: &str, user: &str) -> Option<Found<'_>> {
        // Servers are stored lowercased; the one asked for is compared without case
        // rather than lowercased into a new string on every lookup.
        let same_server = |stored: Option<&str>, wanted: Option<&str>| match (stored, wanted) {
            (Some(a), Some(b)) => a.eq_ignore_ascii_case(b),
            (a, b) => a.is_none() && b.is_none(),
        };
        for s in [Some(server), None] {
            for r in [Some(realm), None] {
                for u in [Some(user), None] {
                    let hit = self.entries.iter().find(|e| {
                        same_server(e.server.as_deref(), s)
                            && e.realm.as_deref() == r
                            && e.user.as_deref() == u
                    });
                    if let Some(e) = hit {
                        return Some(Found {
                            credential: &e.credential,
                            server_specific: s.is_some(),
                        });
                    }
                }
            }
        }
        self.anonymous_fallback.then(|| Found {
            credential: &ANONYMOUS,
            server_specific: false,
        })
    }

    /// Whether the store holds nothing.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn name(f: Option<Found<'_>>) -> Option<String> {
        f.map(|f| f.credential.username.clone())
    }

    #[test]
    fn pyvoip_lookup_order() {
        let mut m = CredentialsManager::new();
        m.add("any", "p", None, None, None);
        m.add("u", "p", None, None, Some("alice"));
        m.add("r", "p", None, Some("asterisk"), None);
        m.add("ru", "p", None, Some("asterisk"), Some("alice"));
        m.add("s", "p", Some("pbx.example.com"), None, None);
        m.add("su", "p", Some("pbx.example.com"), None, Some("alice"));
        m.add("sr", "p", Some("pbx.example.com"), Some("asterisk"), None);
        m.add(
            "sru",
            "p",
            Some("pbx.example.com"),
            Some("asterisk"),
            Some("alice"),
        );
        let cases = [
            (("PBX.example.com", "asterisk", "alice"), "sru"),
            (("pbx.example.com", "asterisk", "bob"), "sr"),
            (("pbx.example.com", "other", "alice"), "su"),
            (("pbx.example.com", "other", "bob"), "s"),
            (("elsewhere", "asterisk", "alice"), "ru"),
            (("elsewhere", "asterisk", "bob"), "r"),
            (("elsewhere", "other", "alice"), "u"),
            (("elsewhere", "other", "bob"), "any"),
        ];
        for ((s, r, u), want) in cases {
            assert_eq!(name(m.get(s, r, u)).as_deref(), Some(want), "{s} {r} {u}");
        }
        assert!(
            m.get("pbx.example.com", "asterisk", "alice")
                .unwrap()
                .server_specific
        );
        assert!(!m.get("elsewhere", "x", "y").unwrap().server_specific);
    }

    #[test]
    fn anonymous_fallback_and_replacement() {
        let mut m = CredentialsManager::new();
        assert!(m.get("s", "r", "u").is_none());
        m.set_anonymous_fallback(true);
        assert_eq!(name(m.get("s", "r", "u")).as_deref(), Some("anonymous"));
        m.add("first", "p", Some("s"), None, None);
        m.add("second", "p", Some("s"), None, None);
        assert_eq!(name(m.get("s", "r", "u")).as_deref(), Some("second"));
    }

    #[test]
    fn ha1_is_checked_and_secrets_are_not_printed() {
        let mut m = CredentialsManager::new();
        assert!(
            m.add_ha1("u", "abc", HashFamily::Md5, None, "r", None)
                .is_err()
        );
        assert!(
            m.add_ha1("u", &"a".repeat(32), HashFamily::Sha256, None, "r", None)
                .is_err()
        );
        m.add_ha1("u", &"A".repeat(64), HashFamily::Sha256, None, "r", None)
            .unwrap();
        m.add("v", "hunter2", None, None, None);
        let shown = format!("{m:?}");
        assert!(!shown.contains("hunter2") && !shown.contains("AAAA") && !shown.contains("aaaa"));
    }
}
