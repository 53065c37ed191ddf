//! Digest authentication for SIP, sans-IO.
//!
//! This crate will hold the digest client (answering WWW-Authenticate and
//! Proxy-Authenticate with MD5, SHA-256 and SHA-512-256 and their -sess forms, qop
//! auth and auth-int, userhash), the credentials manager with pyVoIP's lookup order,
//! and the stateless nonce verifier used by the registrar and tests. It is empty until
//! the digest issue lands.

#![forbid(unsafe_code)]
