//! Trusting the exact certificate a user handed us, as PBXs deploy TLS.
//!
//! Kamailio's and Asterisk's guides make the server's certificate with `openssl req
//! -x509`, which marks it `CA:TRUE`. Given to us as the CA file, WebPKI refuses it as
//! the server's own certificate (`CaUsedAsEndEntity`): a CA must not be a leaf. When
//! the certificate a server presents is byte for byte one the user gave us, that
//! refusal is not a reason to distrust it, so this verifier accepts it, still checking
//! that it names the server (its subjectAltName entries, or its common name when it
//! has none, RFC 6125 §6.4.4) and that it is within its validity period. Every other
//! certificate goes through WebPKI unchanged. The handshake signatures are checked with
//! the certificate's key as always.

use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{CryptoProvider, verify_tls12_signature, verify_tls13_signature};
use rustls::{CertificateError, DigitallySignedStruct, Error, SignatureScheme};
use rustls_pki_types::{CertificateDer, ServerName, UnixTime};

/// WebPKI, and the certificates the user pinned.
#[derive(Debug)]
pub(crate) struct PinningVerifier {
    /// The chain verifier (`None` when no root is trusted at all).
    webpki: Option<Arc<dyn ServerCertVerifier>>,
    pinned: Vec<CertificateDer<'static>>,
    provider: Arc<CryptoProvider>,
}

impl PinningVerifier {
    pub(crate) fn new(
        webpki: Option<Arc<dyn ServerCertVerifier>>,
        pinned: Vec<CertificateDer<'static>>,
        provider: Arc<CryptoProvider>,
    ) -> PinningVerifier {
        PinningVerifier {
            webpki,
            pinned,
            provider,
        }
    }
}

impl ServerCertVerifier for PinningVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, Error> {
        let refused = match &self.webpki {
            Some(v) => match v.verify_server_cert(
                end_entity,
                intermediates,
                server_name,
                ocsp_response,
                now,
            ) {
                Ok(ok) => return Ok(ok),
                Err(e) => e,
            },
            None => Error::InvalidCertificate(CertificateError::UnknownIssuer),
        };
        if !self
            .pinned
            .iter()
            .any(|p| p.as_ref() == end_entity.as_ref())
        {
            return Err(refused);
        }
        check_pinned(end_entity.as_ref(), server_name, now)?;
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, Error> {
        verify_tls12_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, Error> {
        verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

fn bad(e: CertificateError) -> Error {
    Error::InvalidCertificate(e)
}

/// A pinned certificate must still name the server and be valid now.
fn check_pinned(der: &[u8], server_name: &ServerName<'_>, now: UnixTime) -> Result<(), Error> {
    let cert = Cert::parse(der).ok_or(bad(CertificateError::BadEncoding))?;
    if !cert.names(server_name) {
        return Err(bad(CertificateError::NotValidForName));
    }
    let now = now.as_secs();
    if now < cert.not_before {
        return Err(bad(CertificateError::NotValidYet));
    }
    if now > cert.not_after {
        return Err(bad(CertificateError::Expired));
    }
    Ok(())
}

/// What this module reads of an X.509 certificate.
#[derive(Debug, PartialEq, Eq)]
struct Cert<'a> {
    /// Seconds since 1970.
    not_before: u64,
    not_after: u64,
    /// The subject's common names.
    common_names: Vec<&'a [u8]>,
    /// DNS names and IP addresses of the subjectAltName extension, when it has one.
    alt_names: Option<Vec<AltName<'a>>>,
}

#[derive(Debug, PartialEq, Eq)]
enum AltName<'a> {
    Dns(&'a [u8]),
    Ip(&'a [u8]),
}

/// One DER element: (tag, contents, what follows).
fn element(b: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let (&tag, rest) = b.split_first()?;
    let (&first, rest) = rest.split_first()?;
    let (len, rest) = if first < 0x80 {
        (usize::from(first), rest)
    } else {
        let n = usize::from(first & 0x7F);
        if n == 0 || n > 4 || rest.len() < n {
            return None;
        }
        let len = rest[..n]
            .iter()
            .fold(0usize, |acc, b| (acc << 8) | usize::from(*b));
        (len, &rest[n..])
    };
    if rest.len() < len {
        return None;
    }
    Some((tag, &rest[..len], &rest[len..]))
}

/// The elements of a constructed value's contents.
fn elements(mut b: &[u8]) -> Option<Vec<(u8, &[u8])>> {
    let mut out = Vec::new();
    while !b.is_empty() {
        let (tag, contents, rest) = element(b)?;
        out.push((tag, contents));
        b = rest;
    }
    Some(out)
}

const SEQUENCE: u8 = 0x30;
const SET: u8 = 0x31;
const OID: u8 = 0x06;
const UTC_TIME: u8 = 0x17;
const GENERALIZED_TIME: u8 = 0x18;
/// 2.5.4.3, commonName.
const OID_CN: &[u8] = &[0x55, 0x04, 0x03];
/// 2.5.29.17, subjectAltName.
const OID_SAN: &[u8] = &[0x55, 0x1D, 0x11];

impl<'a> Cert<'a> {
    fn parse(der: &'a [u8]) -> Option<Cert<'a>> {
        let (tag, cert, _) = element(der)?;
        if tag != SEQUENCE {
            return None;
        }
        let (tag, tbs, _) = element(cert)?;
        if tag != SEQUENCE {
            return None;
        }
        let mut fields = elements(tbs)?.into_iter().peekable();
        // [0] version, when present; then serialNumber, signature, issuer, validity,
        // subject, the key.
        if fields.peek()?.0 == 0xA0 {
            fields.next();
        }
        let _serial = fields.next()?;
        let _signature = fields.next()?;
        let _issuer = fields.next()?;
        let (vtag, validity) = fields.next()?;
        let (stag, subject) = fields.next()?;
        if vtag != SEQUENCE || stag != SEQUENCE {
            return None;
        }
        let times = elements(validity)?;
        let [(t1, nb), (t2, na)] = times.as_slice() else {
            return None;
        };
        let not_before = time(*t1, nb)?;
        let not_after = time(*t2, na)?;
        let mut common_names = Vec::new();
        for (tag, rdn) in elements(subject)? {
            if tag != SET {
                return None;
            }
            for (_, attr) in elements(rdn)? {
                if let [(OID, oid), (_, value)] = elements(attr)?.as_slice()
                    && *oid == OID_CN
                {
                    common_names.push(*value);
                }
            }
        }
        let mut alt_names = None;
        // [3] extensions, after the key and the optional unique ids.
        for (tag, contents) in fields {
            if tag != 0xA3 {
                continue;
            }
            let (_, exts, _) = element(contents)?;
            for (_, ext) in elements(exts)? {
                let parts = elements(ext)?;
                let Some(&(OID, oid)) = parts.first() else {
                    return None;
                };
                if oid != OID_SAN {
                    continue;
                }
                // extnValue is the last part (after an optional critical flag).
                let (_, value) = *parts.last()?;
                let (_, names, _) = element(value)?;
                let mut list = Vec::new();
                for (tag, name) in elements(names)? {
                    match tag {
                        0x82 => list.push(AltName::Dns(name)),
                        0x87 => list.push(AltName::Ip(name)),
                        _ => {}
                    }
                }
                alt_names = Some(list);
            }
        }
        Some(Cert {
            not_before,
            not_after,
            common_names,
            alt_names,
        })
    }

    /// Whether the certificate names `server`: by subjectAltName when it has the
    /// extension, else by common name (DNS names only).
    fn names(&self, server: &ServerName<'_>) -> bool {
        match (server, &self.alt_names) {
            (ServerName::DnsName(dns), Some(alt)) => alt
                .iter()
                .any(|a| matches!(a, AltName::Dns(n) if dns_matches(n, dns.as_ref()))),
            (ServerName::IpAddress(ip), Some(alt)) => {
                let want: Vec<u8> = match std::net::IpAddr::from(*ip) {
                    std::net::IpAddr::V4(v4) => v4.octets().to_vec(),
                    std::net::IpAddr::V6(v6) => v6.octets().to_vec(),
                };
                alt.iter()
                    .any(|a| matches!(a, AltName::Ip(n) if *n == want.as_slice()))
            }
            (ServerName::DnsName(dns), None) => self
                .common_names
                .iter()
                .any(|cn| dns_matches(cn, dns.as_ref())),
            _ => false,
        }
    }
}

/// A DNS name against a certificate's name: equal ignoring ASCII case, or a `*.` wild
/// card standing for exactly one leftmost label.
fn dns_matches(pattern: &[u8], name: &str) -> bool {
    let name = name.trim_end_matches('.').as_bytes();
    if let Some(suffix) = pattern.strip_prefix(b"*.") {
        return match name.iter().position(|b| *b == b'.') {
            Some(dot) => dot > 0 && name[dot + 1..].eq_ignore_ascii_case(suffix),
            None => false,
        };
    }
    pattern.eq_ignore_ascii_case(name)
}

/// A UTCTime (`YYMMDDHHMMSSZ`) or GeneralizedTime (`YYYYMMDDHHMMSSZ`) as seconds
/// since 1970.
fn time(tag: u8, b: &[u8]) -> Option<u64> {
    let digits = |s: &[u8]| -> Option<u64> {
        s.iter().try_fold(0u64, |acc, d| {
            d.is_ascii_digit().then(|| acc * 10 + u64::from(d - b'0'))
        })
    };
    let (year, rest) = match tag {
        UTC_TIME if b.len() == 13 => {
            let yy = digits(&b[..2])?;
            (if yy < 50 { 2000 + yy } else { 1900 + yy }, &b[2..])
        }
        GENERALIZED_TIME if b.len() == 15 => (digits(&b[..4])?, &b[4..]),
        _ => return None,
    };
    if rest.last() != Some(&b'Z') {
        return None;
    }
    let (month, day) = (digits(&rest[0..2])?, digits(&rest[2..4])?);
    let (h, m, s) = (
        digits(&rest[4..6])?,
        digits(&rest[6..8])?,
        digits(&rest[8..10])?,
    );
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) || h > 23 || m > 59 || s > 60 {
        return None;
    }
    // Days from 1970-01-01 to the date (the civil-from-days algorithm in reverse).
    let (y, mo) = if month <= 2 {
        (year - 1, month + 9)
    } else {
        (year, month - 3)
    };
    let era = y / 400;
    let yoe = y - era * 400;
    let doy = (153 * mo + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = (era * 146_097 + doe).checked_sub(719_468)?;
    Some(days * 86_400 + h * 3600 + m * 60 + s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times() {
        assert_eq!(time(UTC_TIME, b"700101000000Z"), Some(0));
        assert_eq!(time(UTC_TIME, b"261205043000Z"), Some(1_796_445_000));
        assert_eq!(
            time(GENERALIZED_TIME, b"20500101000000Z"),
            Some(2_524_608_000)
        );
        assert_eq!(time(UTC_TIME, b"000229120000Z"), Some(951_825_600));
        assert_eq!(time(UTC_TIME, b"261305043000Z"), None);
        assert_eq!(time(UTC_TIME, b"2612050430Z"), None);
        assert_eq!(time(GENERALIZED_TIME, b"20500101000000+"), None);
    }

    #[test]
    fn dns_names() {
        assert!(dns_matches(b"PBX.example.com", "pbx.example.com."));
        assert!(dns_matches(b"*.example.com", "pbx.example.com"));
        assert!(!dns_matches(b"*.example.com", "a.pbx.example.com"));
        assert!(!dns_matches(b"*.example.com", "example.com"));
        assert!(!dns_matches(b"pbx.example.com", "pbx.example.org"));
    }

    #[test]
    fn truncated_der_is_refused_not_a_panic() {
        assert_eq!(element(&[0x30, 0x82, 0x01]), None);
        assert_eq!(element(&[0x30, 0x05, 0x01]), None);
        assert_eq!(Cert::parse(&[]), None);
        assert_eq!(Cert::parse(&[0x30, 0x00]), None);
        for n in 0..64u8 {
            let junk: Vec<u8> = (0..n).map(|i| i.wrapping_mul(37)).collect();
            let _ = Cert::parse(&junk);
        }
    }
}
