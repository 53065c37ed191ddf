//! Loading certificates and keys, and building the rustls configurations.
//!
//! Keys may be PKCS#8, PKCS#1 (RSA) or SEC1 (EC) PEM, or encrypted PKCS#8
//! (`ENCRYPTED PRIVATE KEY`, PBES2) with a password. Clients verify the server's
//! certificate against the SIP domain they were asked to reach (RFC 5922), trusting the
//! system roots and any extra CA files; TLS 1.2 is the minimum (rustls speaks 1.2 and
//! 1.3 only).

use std::path::Path;
use std::sync::Arc;

use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::ServerCertVerifier;
use rustls::{ClientConfig, RootCertStore, ServerConfig};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

use crate::config::{KeyPassword, TlsClientConfig, TlsServerConfig};
use crate::error::TransportError;
use crate::pinned::PinningVerifier;

fn load_err(path: &Path, reason: impl ToString) -> TransportError {
    TransportError::Load {
        path: path.to_path_buf(),
        reason: reason.to_string(),
    }
}

fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// Reads every certificate of a PEM file.
pub fn load_certs(path: &Path) -> Result<Vec<CertificateDer<'static>>, TransportError> {
    let certs: Result<Vec<_>, _> = CertificateDer::pem_file_iter(path)
        .map_err(|e| load_err(path, e))?
        .collect();
    let certs = certs.map_err(|e| load_err(path, e))?;
    if certs.is_empty() {
        return Err(load_err(path, "no certificate found"));
    }
    Ok(certs)
}

const ENCRYPTED_BEGIN: &str = "-----BEGIN ENCRYPTED PRIVATE KEY-----";
const ENCRYPTED_END: &str = "-----END ENCRYPTED PRIVATE KEY-----";

/// Reads a private key, decrypting it with `password` when it is encrypted.
pub fn load_key(
    path: &Path,
    password: Option<&KeyPassword>,
) -> Result<PrivateKeyDer<'static>, TransportError> {
    let text = std::fs::read_to_string(path).map_err(|e| load_err(path, e))?;
    if let Some(begin) = text.find(ENCRYPTED_BEGIN) {
        let end = text[begin..]
            .find(ENCRYPTED_END)
            .map(|e| begin + e + ENCRYPTED_END.len())
            .ok_or_else(|| load_err(path, "unterminated ENCRYPTED PRIVATE KEY block"))?;
        let password = password.ok_or_else(|| TransportError::KeyPasswordMissing {
            path: path.to_path_buf(),
        })?;
        let (_, doc) = pkcs8::der::SecretDocument::from_pem(&text[begin..end])
            .map_err(|e| load_err(path, e))?;
        let info = pkcs8::EncryptedPrivateKeyInfoRef::try_from(doc.as_bytes())
            .map_err(|e| load_err(path, e))?;
        let plain =
            info.decrypt(password.get().as_bytes())
                .map_err(|_| TransportError::KeyPassword {
                    path: path.to_path_buf(),
                })?;
        return Ok(PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(
            plain.as_bytes().to_vec(),
        )));
    }
    PrivateKeyDer::from_pem_slice(text.as_bytes()).map_err(|e| load_err(path, e))
}

/// The server configuration from a certificate chain and key; with `client_cas`, client
/// certificates issued by those CAs are required (mutual TLS).
pub fn server_config(
    cfg: &TlsServerConfig,
    client_cas: &[std::path::PathBuf],
) -> Result<Arc<ServerConfig>, TransportError> {
    let certs = load_certs(&cfg.cert_file)?;
    let key = load_key(&cfg.key_file, cfg.key_password.as_ref())?;
    let builder = ServerConfig::builder_with_provider(provider())
        .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
        .map_err(|e| load_err(&cfg.cert_file, e))?;
    let builder = if client_cas.is_empty() {
        builder.with_no_client_auth()
    } else {
        let mut roots = RootCertStore::empty();
        for ca in client_cas {
            for cert in load_certs(ca)? {
                roots.add(cert).map_err(|e| load_err(ca, e))?;
            }
        }
        let verifier = rustls::server::WebPkiClientVerifier::builder_with_provider(
            Arc::new(roots),
            provider(),
        )
        .build()
        .map_err(|e| load_err(&client_cas[0], e))?;
        builder.with_client_cert_verifier(verifier)
    };
    let config = builder
        .with_single_cert(certs, key)
        .map_err(|e| load_err(&cfg.key_file, e))?;
    Ok(Arc::new(config))
}

/// The client configuration: the trusted roots and an optional client certificate.
/// A certificate in a CA file that a server presents as its own is trusted as itself
/// (see the `pinned` module), so the self-signed `CA:TRUE` certificates PBXs are set up
/// with work when the user hands them to us.
pub fn client_config(cfg: &TlsClientConfig) -> Result<Arc<ClientConfig>, TransportError> {
    let mut roots = RootCertStore::empty();
    if cfg.system_roots {
        let found = rustls_native_certs::load_native_certs();
        for e in &found.errors {
            tracing::warn!("loading the system's root certificates: {e}");
        }
        roots.add_parsable_certificates(found.certs);
    }
    let mut pinned = Vec::new();
    for ca in &cfg.ca_files {
        for cert in load_certs(ca)? {
            roots.add(cert.clone()).map_err(|e| load_err(ca, e))?;
            pinned.push(cert);
        }
    }
    let webpki = if roots.is_empty() {
        None
    } else {
        let v = WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider())
            .build()
            .map_err(|e| TransportError::Load {
                path: "(trusted roots)".into(),
                reason: e.to_string(),
            })?;
        Some(v as Arc<dyn ServerCertVerifier>)
    };
    let verifier = PinningVerifier::new(webpki, pinned, provider());
    let builder = ClientConfig::builder_with_provider(provider())
        .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
        .map_err(|e| TransportError::Load {
            path: "(client TLS configuration)".into(),
            reason: e.to_string(),
        })?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(verifier));
    let config = match &cfg.client_cert {
        Some(c) => {
            let certs = load_certs(&c.cert_file)?;
            let key = load_key(&c.key_file, c.key_password.as_ref())?;
            builder
                .with_client_auth_cert(certs, key)
                .map_err(|e| load_err(&c.key_file, e))?
        }
        None => builder.with_no_client_auth(),
    };
    Ok(Arc::new(config))
}
