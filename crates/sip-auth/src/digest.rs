//! The digest computation (RFC 7616 §3.4.1 to §3.4.3, RFC 2617 §3.2.2 for responses
//! without qop), shared by the client and the verifier.

use std::fmt;

use crate::algorithm::{Algorithm, HashFamily};
use crate::error::AuthError;
use crate::hex::{Hex, encode_into};

/// Quality of protection.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Qop {
    /// `auth`: the method and URI are protected.
    Auth,
    /// `auth-int`: the body is protected too.
    AuthInt,
}

impl Qop {
    /// Reads `auth` or `auth-int` (case-insensitive).
    pub fn parse(s: &str) -> Option<Qop> {
        let s = s.trim();
        if s.eq_ignore_ascii_case("auth") {
            Some(Qop::Auth)
        } else if s.eq_ignore_ascii_case("auth-int") {
            Some(Qop::AuthInt)
        } else {
            None
        }
    }

    /// The token.
    pub fn as_str(self) -> &'static str {
        match self {
            Qop::Auth => "auth",
            Qop::AuthInt => "auth-int",
        }
    }
}

impl fmt::Display for Qop {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What the digest is keyed with: the password, or a stored HA1.
#[derive(Clone, Copy)]
pub enum SecretRef<'a> {
    /// The plain password.
    Password(&'a [u8]),
    /// `H(username:realm:password)` in hex, computed with the algorithm's hash.
    Ha1(&'a str),
}

/// Everything a digest response is computed from.
#[derive(Clone, Copy)]
pub struct DigestInput<'a> {
    /// The algorithm.
    pub algorithm: Algorithm,
    /// The user name (plain, not hashed: HA1 always uses the plain name).
    pub username: &'a str,
    /// The realm.
    pub realm: &'a str,
    /// The secret.
    pub secret: SecretRef<'a>,
    /// The server nonce.
    pub nonce: &'a str,
    /// The client nonce (required with qop and with -sess algorithms).
    pub cnonce: Option<&'a str>,
    /// The nonce count (with qop).
    pub nc: Option<u32>,
    /// The quality of protection; `None` for an RFC 2069 response.
    pub qop: Option<Qop>,
    /// The request method.
    pub method: &'a str,
    /// The digest URI: the Request-URI of the request.
    pub uri: &'a str,
    /// The body (for auth-int).
    pub body: &'a [u8],
}

/// The nonce count as eight hex digits.
pub fn nc_hex(nc: u32) -> String {
    String::from_utf8_lossy(&nc_digits(nc)).into_owned()
}

/// The nonce count as eight lowercase hex digits, on the stack.
pub(crate) fn nc_digits(nc: u32) -> [u8; 8] {
    let mut out = [0u8; 8];
    encode_into(&nc.to_be_bytes(), &mut out);
    out
}

/// HA1 of the algorithm's hash, before any -sess re-hashing.
pub fn ha1_base(family: HashFamily, username: &str, realm: &str, password: &[u8]) -> Hex {
    family.hash_colon(&[username.as_bytes(), realm.as_bytes(), password])
}

/// `H(username:realm)`, the hashed user name of RFC 7616 §3.4.4.
pub fn userhash(algorithm: Algorithm, username: &str, realm: &str) -> Hex {
    algorithm
        .family()
        .hash_colon(&[username.as_bytes(), realm.as_bytes()])
}

/// Computes the `response` value.
pub fn compute_response(input: &DigestInput<'_>) -> Result<Hex, AuthError> {
    let family = input.algorithm.family();
    let base = match input.secret {
        SecretRef::Password(p) => ha1_base(family, input.username, input.realm, p),
        // Stored HA1s may be uppercase; the hash input is lowercase hex.
        SecretRef::Ha1(h) => {
            Hex::parse_lowercase(h, family.hex_len()).ok_or(AuthError::Ha1Mismatch {
                algorithm: input.algorithm,
            })?
        }
    };
    let nc = input.nc.map(nc_digits);
    let nonce = input.nonce.as_bytes();
    // HA2's input: method and URI, and with auth-int the body's hash.
    let body_hash = (input.qop == Some(Qop::AuthInt)).then(|| family.hash(&[input.body]));
    let ha2_input: [&[u8]; 3] = [
        input.method.as_bytes(),
        input.uri.as_bytes(),
        body_hash.as_ref().map_or(&[], |h| h.as_bytes()),
    ];
    let ha2_input = &ha2_input[..if body_hash.is_some() { 3 } else { 2 }];
    // The response's input before HA2: with qop, `HA1:nonce:nc:cnonce:qop`.
    let qop_parts = match input.qop {
        Some(q) => {
            let cnonce = input.cnonce.ok_or(AuthError::MissingParameter("cnonce"))?;
            let nc = nc.ok_or(AuthError::MissingParameter("nc"))?;
            Some((nc, cnonce.as_bytes(), q.as_str().as_bytes()))
        }
        None => None,
    };
    // HA2 does not depend on HA1: it is hashed together with the -sess session key, or
    // with the part of the response's input that comes before it (see
    // `HashFamily::hash_colon_pair` and `hash_colon_then`).
    if input.algorithm.is_sess() {
        let cnonce = input.cnonce.ok_or(AuthError::MissingParameter("cnonce"))?;
        let (ha1, ha2) =
            family.hash_colon_pair(&[base.as_bytes(), nonce, cnonce.as_bytes()], ha2_input);
        return Ok(match &qop_parts {
            Some((nc, cnonce, qop)) => {
                family.hash_colon(&[ha1.as_bytes(), nonce, nc, cnonce, qop, ha2.as_bytes()])
            }
            None => family.hash_colon(&[ha1.as_bytes(), nonce, ha2.as_bytes()]),
        });
    }
    Ok(match &qop_parts {
        Some((nc, cnonce, qop)) => {
            family.hash_colon_then(&[base.as_bytes(), nonce, nc, cnonce, qop], ha2_input)
        }
        None => family.hash_colon_then(&[base.as_bytes(), nonce], ha2_input),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input<'a>(algorithm: Algorithm, qop: Option<Qop>) -> DigestInput<'a> {
        DigestInput {
            algorithm,
            username: "Mufasa",
            realm: "testrealm@host.com",
            secret: SecretRef::Password(b"Circle Of Life"),
            nonce: "dcd98b7102dd2f0e8b11d0f600bfb0c093",
            cnonce: Some("0a4f113b"),
            nc: Some(1),
            qop,
            method: "GET",
            uri: "/dir/index.html",
            body: b"",
        }
    }

    #[test]
    fn nonce_counts_are_eight_lowercase_digits() {
        assert_eq!(nc_hex(1), "00000001");
        assert_eq!(nc_hex(0xdead_beef), "deadbeef");
        assert_eq!(nc_hex(u32::MAX), "ffffffff");
    }

    #[test]
    fn rfc2617_section_3_5() {
        let r = compute_response(&input(Algorithm::Md5, Some(Qop::Auth))).unwrap();
        assert_eq!(r.as_str(), "6629fae49393a05397450978507c4ef1");
    }

    #[test]
    fn ha1_secret_gives_the_same_response() {
        let ha1 = ha1_base(
            HashFamily::Md5,
            "Mufasa",
            "testrealm@host.com",
            b"Circle Of Life",
        );
        let upper = ha1.as_str().to_ascii_uppercase();
        let mut i = input(Algorithm::Md5, Some(Qop::Auth));
        i.secret = SecretRef::Ha1(&upper);
        assert_eq!(
            compute_response(&i).unwrap().as_str(),
            "6629fae49393a05397450978507c4ef1"
        );
        // An MD5 HA1 cannot key a SHA-256 digest.
        i.algorithm = Algorithm::Sha256;
        assert!(compute_response(&i).is_err());
    }
}
