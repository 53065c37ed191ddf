//! The server side: issuing challenges and checking credentials (for the registrar and
//! for tests).
//!
//! Nonces carry their issue time and a MAC over it, so they expire and verify without
//! the server remembering them. Responses are compared in constant time. The nonce
//! count of each nonce in use must increase (a table bounded in size remembers the
//! last one), so a captured Authorization cannot be replayed. A right response with an
//! expired nonce gets [`Verdict::Stale`]: answer with a fresh challenge marked
//! `stale=true`, and the client retries without asking the user again.
//!
//! Time is an argument (`now`, seconds on any clock the caller keeps), so tests can run
//! hours of nonce expiry in microseconds.

use std::collections::{HashMap, VecDeque};
use std::fmt::Write as _;

use sha2::{Digest, Sha256};
use sip_message::headers::AuthHeader;
use sip_message::{Random, StatusCode};

use crate::algorithm::Algorithm;
use crate::credentials::Secret;
use crate::digest::{DigestInput, Qop, SecretRef, compute_response};
use crate::hex::{Hex, constant_time_eq, is_hex};

/// Where the verifier finds users' secrets.
pub trait UserStore {
    /// The secret of `username` in `realm`, if the user exists.
    fn secret(&self, username: &str, realm: &str) -> Option<Secret>;

    /// The user whose `H(username:realm)` with this algorithm's hash is `hash` (for
    /// `userhash=true` credentials). The default finds nobody.
    fn username_for_hash(&self, hash: &str, algorithm: Algorithm, realm: &str) -> Option<String> {
        let _ = (hash, algorithm, realm);
        None
    }
}

/// How the verifier challenges.
#[derive(Clone, Debug)]
pub struct VerifierConfig {
    /// The realm.
    pub realm: String,
    /// The algorithms to offer, most preferred first (one challenge each).
    pub algorithms: Vec<Algorithm>,
    /// The qop values to offer.
    pub qop: Vec<Qop>,
    /// How long a nonce stays fresh, in seconds.
    pub nonce_lifetime: u64,
    /// Whether to ask for `userhash=true`.
    pub userhash: bool,
    /// Whether an RFC 2069 response (no qop) is accepted when qop was offered.
    pub allow_no_qop: bool,
    /// How many nonces to remember nonce counts for.
    pub max_tracked_nonces: usize,
}

impl VerifierConfig {
    /// SHA-256 then MD5, qop `auth`, five-minute nonces.
    pub fn new(realm: &str) -> VerifierConfig {
        VerifierConfig {
            realm: realm.to_string(),
            algorithms: vec![Algorithm::Sha256, Algorithm::Md5],
            qop: vec![Qop::Auth],
            nonce_lifetime: 300,
            userhash: false,
            allow_no_qop: false,
            max_tracked_nonces: 10_000,
        }
    }
}

/// Why credentials were refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Rejection {
    /// Not Digest credentials.
    #[error("not Digest credentials")]
    NotDigest,
    /// A required parameter is missing or malformed.
    #[error("malformed credentials: {0}")]
    Malformed(&'static str),
    /// Credentials for another realm.
    #[error("credentials for another realm")]
    WrongRealm,
    /// A nonce we did not issue (or that was altered).
    #[error("unknown nonce")]
    BadNonce,
    /// An algorithm we did not offer.
    #[error("algorithm not offered")]
    AlgorithmNotOffered,
    /// No qop, where qop was required.
    #[error("qop required")]
    QopRequired,
    /// The digest URI is not the Request-URI.
    #[error("digest URI does not match the Request-URI")]
    UriMismatch,
    /// No such user.
    #[error("unknown user")]
    UnknownUser,
    /// The response does not match: wrong password.
    #[error("wrong response")]
    BadResponse,
    /// A nonce count that does not increase: a replay.
    #[error("nonce count replayed")]
    Replay,
}

impl Rejection {
    /// The status to answer: 400 for malformed credentials, 403 for wrong ones, 401
    /// (with a fresh challenge) otherwise.
    pub fn status(&self) -> StatusCode {
        match self {
            Rejection::Malformed(_) | Rejection::UriMismatch => StatusCode::BAD_REQUEST,
            Rejection::UnknownUser | Rejection::BadResponse => StatusCode::FORBIDDEN,
            _ => StatusCode::UNAUTHORIZED,
        }
    }
}

/// The verdict on one Authorization.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// The credentials are good.
    Authorized {
        /// The user (after resolving a user hash).
        username: String,
    },
    /// The response was right but the nonce has expired: challenge again with
    /// `stale=true`.
    Stale,
    /// The credentials are refused.
    Rejected(Rejection),
}

/// The digest verifier of one realm.
#[derive(Debug)]
pub struct DigestVerifier {
    config: VerifierConfig,
    key: [u8; 32],
    last_nc: HashMap<String, u32>,
    order: VecDeque<String>,
}

const NONCE_LEN: usize = 64;

fn hmac_sha256(key: &[u8; 32], msg: &[&[u8]]) -> [u8; 32] {
    let mut ipad = [0x36u8; 64];
    let mut opad = [0x5cu8; 64];
    for (i, k) in key.iter().enumerate() {
        ipad[i] ^= k;
        opad[i] ^= k;
    }
    let mut inner = Sha256::new();
    inner.update(ipad);
    for m in msg {
        inner.update(m);
    }
    let mut outer = Sha256::new();
    outer.update(opad);
    outer.update(inner.finalize());
    let mut out = [0u8; 32];
    out.copy_from_slice(&outer.finalize());
    out
}

impl DigestVerifier {
    /// A verifier with a MAC key drawn from `rng`.
    pub fn new(config: VerifierConfig, rng: &mut dyn Random) -> DigestVerifier {
        let mut key = [0u8; 32];
        rng.fill(&mut key);
        DigestVerifier {
            config,
            key,
            last_nc: HashMap::new(),
            order: VecDeque::new(),
        }
    }

    /// The configuration.
    pub fn config(&self) -> &VerifierConfig {
        &self.config
    }

    /// A new nonce: issue time, salt and MAC, in hex.
    pub fn nonce(&self, now: u64, rng: &mut dyn Random) -> String {
        let mut salt = [0u8; 8];
        rng.fill(&mut salt);
        let ts = now.to_be_bytes();
        let mac = hmac_sha256(&self.key, &[self.config.realm.as_bytes(), &ts, &salt]);
        let mut raw = [0u8; 32];
        raw[..8].copy_from_slice(&ts);
        raw[8..16].copy_from_slice(&salt);
        raw[16..].copy_from_slice(&mac[..16]);
        Hex::encode(&raw).to_string()
    }

    /// The issue time of a nonce this verifier made, if it is one.
    fn nonce_time(&self, nonce: &str) -> Option<u64> {
        if !is_hex(nonce, NONCE_LEN) {
            return None;
        }
        let mut raw = [0u8; 32];
        for (i, b) in raw.iter_mut().enumerate() {
            *b = u8::from_str_radix(&nonce[2 * i..2 * i + 2], 16).ok()?;
        }
        let mac = hmac_sha256(
            &self.key,
            &[self.config.realm.as_bytes(), &raw[..8], &raw[8..16]],
        );
        if !constant_time_eq(&mac[..16], &raw[16..]) {
            return None;
        }
        let mut ts = [0u8; 8];
        ts.copy_from_slice(&raw[..8]);
        Some(u64::from_be_bytes(ts))
    }

    /// The challenge values for a 401 (WWW-Authenticate) or 407 (Proxy-Authenticate):
    /// one per configured algorithm, sharing one fresh nonce.
    pub fn challenges(&self, now: u64, stale: bool, rng: &mut dyn Random) -> Vec<String> {
        let nonce = self.nonce(now, rng);
        self.config
            .algorithms
            .iter()
            .map(|a| {
                let mut v = format!(
                    "Digest realm=\"{}\", nonce=\"{nonce}\", algorithm={}",
                    self.config.realm.replace(['"', '\\'], ""),
                    a.as_str()
                );
                if !self.config.qop.is_empty() {
                    let q: Vec<&str> = self.config.qop.iter().map(|q| q.as_str()).collect();
                    let _ = write!(v, ", qop=\"{}\"", q.join(","));
                }
                if stale {
                    v.push_str(", stale=true");
                }
                if self.config.userhash {
                    v.push_str(", userhash=true");
                }
                v
            })
            .collect()
    }

    fn remember_nc(&mut self, nonce: &str, nc: u32) -> bool {
        if let Some(last) = self.last_nc.get_mut(nonce) {
            if nc <= *last {
                return false;
            }
            *last = nc;
            return true;
        }
        while self.order.len() >= self.config.max_tracked_nonces.max(1) {
            if let Some(old) = self.order.pop_front() {
                self.last_nc.remove(&old);
            }
        }
        self.order.push_back(nonce.to_string());
        self.last_nc.insert(nonce.to_string(), nc);
        true
    }

    /// Checks an Authorization (or Proxy-Authorization) value for a request.
    pub fn verify(
        &mut self,
        creds: &AuthHeader<'_>,
        method: &str,
        request_uri: &str,
        body: &[u8],
        now: u64,
        users: &dyn UserStore,
    ) -> Verdict {
        use Rejection::*;
        let reject = Verdict::Rejected;
        if !creds.is_digest() {
            return reject(NotDigest);
        }
        let p = |n: &str| creds.param(n);
        let (Some(username), Some(realm), Some(nonce), Some(uri), Some(response)) = (
            p("username"),
            p("realm"),
            p("nonce"),
            p("uri"),
            p("response"),
        ) else {
            return reject(Malformed("a required parameter is missing"));
        };
        if *realm != *self.config.realm {
            return reject(WrongRealm);
        }
        let algorithm = match p("algorithm") {
            Some(a) => match Algorithm::parse(&a) {
                Some(a) => a,
                None => return reject(AlgorithmNotOffered),
            },
            None => Algorithm::Md5,
        };
        if !self.config.algorithms.contains(&algorithm) {
            return reject(AlgorithmNotOffered);
        }
        let Some(issued) = self.nonce_time(&nonce) else {
            return reject(BadNonce);
        };
        if *uri != *request_uri {
            return reject(UriMismatch);
        }
        let qop = match p("qop") {
            Some(q) => match Qop::parse(&q) {
                Some(q) if self.config.qop.contains(&q) => Some(q),
                _ => return reject(Malformed("qop not offered")),
            },
            None if self.config.qop.is_empty() || self.config.allow_no_qop => None,
            None => return reject(QopRequired),
        };
        let cnonce = p("cnonce");
        let nc = match (qop, p("nc")) {
            (Some(_), Some(nc)) if is_hex(&nc, 8) => match u32::from_str_radix(&nc, 16) {
                Ok(n) if n > 0 => Some(n),
                _ => return reject(Malformed("nc")),
            },
            (Some(_), _) => return reject(Malformed("nc")),
            (None, _) => None,
        };
        if (qop.is_some() || algorithm.is_sess()) && cnonce.is_none() {
            return reject(Malformed("cnonce"));
        }
        let user = if p("userhash").is_some_and(|v| v.eq_ignore_ascii_case("true")) {
            match users.username_for_hash(&username.to_ascii_lowercase(), algorithm, &realm) {
                Some(u) => u,
                None => return reject(UnknownUser),
            }
        } else {
            username.into_owned()
        };
        let Some(secret) = users.secret(&user, &realm) else {
            return reject(UnknownUser);
        };
        let secret_ref = match &secret {
            Secret::Password(pw) => SecretRef::Password(pw.as_bytes()),
            Secret::Ha1 { family, hex } if *family == algorithm.family() => SecretRef::Ha1(hex),
            Secret::Ha1 { .. } => return reject(AlgorithmNotOffered),
        };
        let expected = match compute_response(&DigestInput {
            algorithm,
            username: &user,
            realm: &realm,
            secret: secret_ref,
            nonce: &nonce,
            cnonce: cnonce.as_deref(),
            nc,
            qop,
            method,
            uri: &uri,
            body,
        }) {
            Ok(e) => e,
            Err(_) => return reject(Malformed("cannot compute the response")),
        };
        let got = response.to_ascii_lowercase();
        if !constant_time_eq(expected.as_bytes(), got.as_bytes()) {
            return reject(BadResponse);
        }
        if now.saturating_sub(issued) > self.config.nonce_lifetime
            || issued > now.saturating_add(60)
        {
            return Verdict::Stale;
        }
        if let Some(n) = nc
            && !self.remember_nc(&nonce, n)
        {
            return reject(Replay);
        }
        Verdict::Authorized { username: user }
    }
}
