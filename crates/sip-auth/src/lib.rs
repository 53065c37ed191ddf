//! Digest authentication for SIP, sans-IO: RFC 7616 and RFC 8760 digests (MD5,
//! SHA-256, SHA-512-256 and their `-sess` forms; qop `auth` and `auth-int`; `userhash`)
//! as RFC 3261 §22 uses them.
//!
//! - [`DigestClient`] answers 401 and 407 challenges, one answer per realm, choosing
//!   among a realm's challenges the first in the server's order that we support and the
//!   [`AuthPolicy`] allows; an [`AuthSession`] per request stops a server that
//!   challenges every answer from making us loop.
//! - [`CredentialsManager`] stores passwords or HA1s per server, realm and user with
//!   pyVoIP's lookup order; secrets are wiped on drop and never printed.
//! - [`DigestVerifier`] issues challenges with self-validating, expiring nonces and
//!   checks credentials in constant time, refusing replayed nonce counts.
//!
//! Randomness (cnonces, nonce salts, the MAC key) comes from an injected
//! [`sip_message::Random`]; time is passed in as seconds.

#![forbid(unsafe_code)]

mod algorithm;
mod basic;
mod challenge;
mod client;
mod credentials;
mod digest;
mod error;
mod ha1_cache;
mod hex;
mod md5_pair;
mod verifier;

pub use algorithm::{Algorithm, HashFamily};
pub use challenge::DigestChallenge;
pub use client::{
    Answer, AuthPolicy, AuthSession, AuthorizationValue, DigestClient, RequestTarget,
};
pub use credentials::{Credential, CredentialsManager, Found, Secret};
pub use digest::{DigestInput, Qop, SecretRef, compute_response, ha1_base, nc_hex, userhash};
pub use error::{AuthError, CredentialError};
pub use hex::{Hex, constant_time_eq};
pub use verifier::{DigestVerifier, Rejection, UserStore, Verdict, VerifierConfig};
