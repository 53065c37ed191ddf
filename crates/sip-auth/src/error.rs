//! Errors of the digest client and of the credentials store.

use crate::algorithm::{Algorithm, HashFamily};

/// Why a challenge was not (or could not be) answered.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AuthError {
    /// The response carries no challenge to answer.
    #[error("the response carries no challenge")]
    NoChallenge,
    /// No challenge is of a scheme and algorithm we support and policy allows.
    #[error("no supported challenge (offered: {offered})")]
    NoSupportedChallenge {
        /// What the server offered, as `scheme/algorithm` list.
        offered: String,
    },
    /// A challenge is malformed.
    #[error("malformed challenge: {0}")]
    BadChallenge(String),
    /// No credentials for this server, realm and user.
    #[error("no credentials for realm {realm:?}")]
    NoCredentials {
        /// The realm challenged.
        realm: String,
    },
    /// The challenge came for a request to a server our credentials are not for (a
    /// peer inside a call, say): answering would hand our digest to a stranger.
    #[error("refusing to answer a challenge from {server}, which is not a trusted server")]
    UntrustedServer {
        /// Where the request went.
        server: String,
    },
    /// The server challenged again after our answer, without `stale=true`: the
    /// credentials were refused (wrong user name or password).
    #[error("credentials refused for realm {realm:?}")]
    Rejected {
        /// The realm.
        realm: String,
    },
    /// MD5 is the only algorithm offered and policy refuses it.
    #[error("the server offers only MD5, which policy refuses")]
    Md5Refused,
    /// A stored HA1 does not fit the challenge's algorithm.
    #[error("the stored HA1 does not fit {algorithm}")]
    Ha1Mismatch {
        /// The algorithm challenged.
        algorithm: Algorithm,
    },
    /// A parameter the computation needs is missing.
    #[error("missing digest parameter {0}")]
    MissingParameter(&'static str),
    /// A value cannot be written into the header (a quote or control character in a
    /// user name, say).
    #[error("value cannot be written into an Authorization header: {0}")]
    Unwritable(&'static str),
}

/// A credential that cannot be stored.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CredentialError {
    /// An HA1 that is not hex of the length its hash gives.
    #[error("an HA1 for {family:?} must be {expected} hex digits")]
    BadHa1 {
        /// The hash the HA1 is for.
        family: HashFamily,
        /// The digits expected.
        expected: usize,
    },
}
