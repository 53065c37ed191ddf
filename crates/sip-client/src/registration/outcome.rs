//! What a registration reports: its events, its errors, where it stands.

use std::net::SocketAddr;
use std::time::Duration;

use sip_auth::AuthError;

/// Why a REGISTER failed.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RegistrationError {
    /// The server refused our credentials (wrong user name or password): pyVoIP's
    /// `InvalidAccountInfo`. Retrying would not help.
    #[error("credentials refused for realm {realm:?}")]
    CredentialsRejected {
        /// The realm.
        realm: String,
    },
    /// A challenge we cannot answer (no credentials, unsupported algorithm, a
    /// server we do not trust).
    #[error("cannot authenticate: {0}")]
    Auth(AuthError),
    /// A final response refusing the registration (403, 404, ...).
    #[error("registrar answered {status} {reason}")]
    Rejected {
        /// The status code.
        status: u16,
        /// The reason phrase.
        reason: String,
    },
    /// A server error (5xx, 6xx), maybe with Retry-After.
    #[error("registrar answered {status} {reason}")]
    ServerError {
        /// The status code.
        status: u16,
        /// The reason phrase.
        reason: String,
        /// Retry-After, seconds.
        retry_after: Option<u32>,
    },
    /// 423 without a usable Min-Expires.
    #[error("423 Interval Too Brief without a usable Min-Expires")]
    IntervalTooBrief,
    /// No final response came (Timer F).
    #[error("no response from the registrar")]
    Timeout,
    /// The transport failed (connection refused, TLS verification, ...).
    #[error("the transport failed")]
    Transport,
    /// The account's configuration makes an invalid REGISTER (a control character
    /// in a URI, say).
    #[error("the account's configuration makes an invalid REGISTER: {0}")]
    BadConfig(String),
    /// A 2xx that grants no time to our Contact.
    #[error("the registrar's 2xx holds no binding for our Contact")]
    NotBound,
}

/// What a registration reports.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RegistrationEvent {
    /// The registrar accepted our Contact.
    Registered {
        /// The expiry it granted, seconds.
        expires: u32,
        /// Our Contact, as sent.
        contact: String,
        /// Every Contact the 2xx listed (the bindings the server holds for the AOR).
        bindings: Vec<String>,
        /// Whether this refreshed a binding we already had.
        refresh: bool,
    },
    /// A REGISTER failed. When `fatal`, the registration stopped; otherwise it tries
    /// again after `retry_in`.
    Failed {
        /// Why.
        error: RegistrationError,
        /// Whether the registration gave up.
        fatal: bool,
        /// When the next attempt goes out.
        retry_in: Option<Duration>,
    },
    /// The binding was removed (Expires: 0 answered), or the attempt to remove it
    /// ended with `error`.
    Unregistered {
        /// Why removal did not complete cleanly, if it did not.
        error: Option<RegistrationError>,
    },
    /// A NAT rewrites our address: the registration is refreshed with this one.
    PublicAddress {
        /// The address the server sees.
        public: SocketAddr,
    },
}

/// Where a registration stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RegistrationState {
    /// Not registered, nothing in flight.
    Idle,
    /// A REGISTER is in flight.
    Registering,
    /// Registered; a refresh is scheduled.
    Registered,
    /// Waiting to try again after a failure.
    WaitingToRetry,
    /// Removing the binding.
    Unregistering,
    /// Gave up after a fatal failure.
    Failed,
}
