//! A Digest challenge read from a WWW-Authenticate or Proxy-Authenticate value.

use std::borrow::Cow;

use sip_message::headers::AuthHeader;
use sip_message::unquote;

use crate::algorithm::Algorithm;
use crate::digest::Qop;
use crate::error::AuthError;

/// What the server asked for, decoded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DigestChallenge<'a> {
    /// The protection domain (borrowed from the challenge unless it held escapes).
    pub realm: Cow<'a, str>,
    /// The server nonce.
    pub nonce: Cow<'a, str>,
    /// The opaque value to echo.
    pub opaque: Option<Cow<'a, str>>,
    /// The algorithm; `None` when the server named one we do not support. A challenge
    /// that names none means MD5 (RFC 7616 §3.3).
    pub algorithm: Option<Algorithm>,
    /// The algorithm as the server wrote it, when it wrote one.
    pub algorithm_name: Option<Cow<'a, str>>,
    /// The qop values offered that we know, in the server's order. Empty when the
    /// server offered no qop (an RFC 2069 challenge).
    pub qop: Vec<Qop>,
    /// Whether the server sent a qop parameter at all.
    pub qop_offered: bool,
    /// `stale=true`: the previous nonce expired but the credentials were right.
    pub stale: bool,
    /// `userhash=true` (RFC 7616 §3.4.4): send `H(username:realm)` as the user name.
    pub userhash: bool,
}

impl<'a> DigestChallenge<'a> {
    /// Decodes a Digest challenge; other schemes and malformed values are errors.
    pub fn from_header(h: &AuthHeader<'a>) -> Result<DigestChallenge<'a>, AuthError> {
        if !h.is_digest() {
            return Err(AuthError::BadChallenge(format!(
                "scheme {} is not Digest",
                h.scheme()
            )));
        }
        // One pass over the parameters; the first of each name counts.
        let mut realm = None;
        let mut nonce = None;
        let mut opaque = None;
        let mut algorithm_name = None;
        let mut qop_raw = None;
        let mut stale = None;
        let mut userhash = None;
        for (name, value) in h.params() {
            let slot = if name.eq_ignore_ascii_case("realm") {
                &mut realm
            } else if name.eq_ignore_ascii_case("nonce") {
                &mut nonce
            } else if name.eq_ignore_ascii_case("opaque") {
                &mut opaque
            } else if name.eq_ignore_ascii_case("algorithm") {
                &mut algorithm_name
            } else if name.eq_ignore_ascii_case("qop") {
                &mut qop_raw
            } else if name.eq_ignore_ascii_case("stale") {
                &mut stale
            } else if name.eq_ignore_ascii_case("userhash") {
                &mut userhash
            } else {
                continue;
            };
            if slot.is_none() {
                *slot = Some(unquote(value));
            }
        }
        let realm = realm.ok_or_else(|| AuthError::BadChallenge("no realm".into()))?;
        let nonce = nonce.ok_or_else(|| AuthError::BadChallenge("no nonce".into()))?;
        let algorithm = match &algorithm_name {
            Some(a) => Algorithm::parse(a),
            None => Some(Algorithm::Md5),
        };
        let qop = qop_raw
            .as_deref()
            .map(|q| q.split(',').filter_map(Qop::parse).collect())
            .unwrap_or_default();
        let flag =
            |v: Option<Cow<'_, str>>| v.is_some_and(|v| v.trim().eq_ignore_ascii_case("true"));
        Ok(DigestChallenge {
            realm,
            nonce,
            opaque,
            algorithm,
            algorithm_name,
            qop,
            qop_offered: qop_raw.is_some(),
            stale: flag(stale),
            userhash: flag(userhash),
        })
    }

    /// A short description for error messages: `Digest/SHA-256`.
    pub fn label(&self) -> String {
        format!("Digest/{}", self.algorithm_name.as_deref().unwrap_or("MD5"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sip_message::headers::{Challenge, TypedHeader};

    #[test]
    fn decodes() {
        let h = Challenge::parse(r#"Digest realm="atlanta.com", domain="sip:ss1.carrier.com", qop="auth,auth-int,x-other", nonce="f84f1cec41e6cbe5aea9c8e88d359", opaque="", stale=FALSE, algorithm=sha256, userhash=true"#).unwrap();
        let c = DigestChallenge::from_header(&h).unwrap();
        assert_eq!(c.realm, "atlanta.com");
        assert_eq!(c.algorithm, Some(Algorithm::Sha256));
        assert_eq!(c.qop, [Qop::Auth, Qop::AuthInt]);
        assert!(!c.stale && c.userhash);
        assert_eq!(c.opaque.as_deref(), Some(""));
        let h = Challenge::parse(r#"Digest realm="r", nonce="n""#).unwrap();
        let c = DigestChallenge::from_header(&h).unwrap();
        assert_eq!(c.algorithm, Some(Algorithm::Md5), "no algorithm means MD5");
        assert!(!c.qop_offered);
        let h = Challenge::parse(r#"Digest realm="r", nonce="n", algorithm=SHA-512, stale=TRUE"#)
            .unwrap();
        let c = DigestChallenge::from_header(&h).unwrap();
        assert_eq!(c.algorithm, None);
        assert!(c.stale);
        assert!(
            DigestChallenge::from_header(&Challenge::parse(r#"Digest nonce="n""#).unwrap())
                .is_err()
        );
    }
}
