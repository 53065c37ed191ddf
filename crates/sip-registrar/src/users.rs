//! The user file: one `user:password` per line; `#` starts a comment.

use std::collections::HashMap;
use std::fmt;

use sip_auth::{Secret, UserStore};

/// A user file line that cannot be read.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {reason}")]
pub struct UsersError {
    /// The line number, from 1.
    pub line: usize,
    /// What is wrong.
    pub reason: &'static str,
}

/// The registrar's users and their passwords.
#[derive(Clone, Default)]
pub struct Users {
    passwords: HashMap<String, String>,
}

impl fmt::Debug for Users {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut names: Vec<&String> = self.passwords.keys().collect();
        names.sort();
        f.debug_struct("Users")
            .field("names", &names)
            .finish_non_exhaustive()
    }
}

impl Users {
    /// No users.
    pub fn new() -> Users {
        Users::default()
    }

    /// Reads `user:password` lines. Blank lines and `#` comments are skipped; the
    /// password is everything after the first colon.
    pub fn parse(text: &str) -> Result<Users, UsersError> {
        let mut users = Users::new();
        for (i, raw) in text.lines().enumerate() {
            let line = raw.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let Some((user, password)) = line.split_once(':') else {
                return Err(UsersError {
                    line: i + 1,
                    reason: "expected user:password",
                });
            };
            let user = user.trim();
            if user.is_empty()
                || user
                    .bytes()
                    .any(|b| b <= b' ' || b == b'@' || b == b'"' || b == b'\\' || b >= 0x7f)
            {
                return Err(UsersError {
                    line: i + 1,
                    reason: "a user name must be a non-empty token without '@', quotes or spaces",
                });
            }
            if password.is_empty() {
                return Err(UsersError {
                    line: i + 1,
                    reason: "empty password",
                });
            }
            users.add(user, password);
        }
        Ok(users)
    }

    /// Adds or replaces a user.
    pub fn add(&mut self, user: &str, password: &str) {
        self.passwords
            .insert(user.to_string(), password.to_string());
    }

    /// Whether `user` exists.
    pub fn contains(&self, user: &str) -> bool {
        self.passwords.contains_key(user)
    }

    /// How many users.
    pub fn len(&self) -> usize {
        self.passwords.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.passwords.is_empty()
    }
}

impl UserStore for Users {
    fn secret(&self, username: &str, _realm: &str) -> Option<Secret> {
        self.passwords
            .get(username)
            .map(|p| Secret::Password(p.clone().into()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_lines_comments_and_colons_in_passwords() {
        let u = Users::parse("# users\nalice:secret-a\n\n bob : pa:ss \n").expect("parses");
        assert_eq!(u.len(), 2);
        assert!(u.contains("alice") && u.contains("bob"));
        match u.secret("bob", "r") {
            Some(Secret::Password(p)) => assert_eq!(&*p, " pa:ss"),
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn rejects_bad_lines_with_their_number() {
        assert_eq!(Users::parse("alice:x\nnocolon").unwrap_err().line, 2);
        assert_eq!(Users::parse("a b:x").unwrap_err().line, 1);
        assert_eq!(Users::parse("alice:").unwrap_err().line, 1);
    }
}
