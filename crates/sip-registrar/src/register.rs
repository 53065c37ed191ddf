//! REGISTER (RFC 3261 §10.3) and the digest checks of the registrar: its users'
//! REGISTERs (401), their initial requests through the proxy (407).

use std::time::Instant;

use sip_auth::Verdict;
use sip_client::{Peer, TxId};
use sip_message::headers::{AuthHeader, Token};
use sip_message::{HeaderName, Method, Request, StatusCode, Uri};

use crate::bindings::{ContactUpdate, UpdateError};
use crate::core::{Registrar, aor_of};

impl Registrar {
    /// For an initial request from one of our users: `None` when it may pass (valid
    /// Proxy-Authorization, or no check due), `Some(stale)` when it must be
    /// challenged. A verdict is remembered per branch, so retransmissions and the
    /// CANCEL are not checked twice (a nonce count is accepted only once).
    pub(crate) fn proxy_auth_needed(&mut self, r: &Request, now: Instant) -> Option<bool> {
        if !self.config.authenticate_requests
            || matches!(r.method(), Method::Ack | Method::Cancel)
            || r.to_tag().is_some()
        {
            return None;
        }
        let from = r.from().uri();
        let local_user =
            from.user().is_some_and(|u| self.users.contains(u)) && self.is_our_domain(&from);
        if !local_user {
            return None;
        }
        let key = self.stateless_branch(r);
        if self.upstream.contains_key(&key) {
            return None;
        }
        let secs = self.secs(now);
        for (name, h) in r.auth_headers() {
            if name != HeaderName::ProxyAuthorization {
                continue;
            }
            let Ok(h) = h else { continue };
            if h.param("realm").is_some_and(|v| *v == *self.config.realm) {
                let Some(uri) = self.digest_uri(&h, r) else {
                    return Some(false);
                };
                return match self.verifier.verify(
                    &h,
                    r.method().as_str(),
                    &uri,
                    r.body(),
                    secs,
                    &self.users,
                ) {
                    Verdict::Authorized { .. } => None,
                    Verdict::Stale => Some(true),
                    Verdict::Rejected(_) => Some(false),
                };
            }
        }
        Some(false)
    }

    /// The digest URI to check credentials against: the Request-URI, or a URI naming
    /// this registrar (SIPp, for one, answers with `sip:host:port` of the server it
    /// sends to rather than the Request-URI). Anything else is refused.
    pub(crate) fn digest_uri(&self, h: &AuthHeader<'_>, r: &Request) -> Option<String> {
        let given = h.param("uri")?;
        if *given == *r.uri().as_str() {
            return Some(given.into_owned());
        }
        let u = Uri::parse(&given).ok()?;
        (u.user().is_none() && (self.is_us(&u) || self.is_our_domain(&u)))
            .then(|| given.into_owned())
    }

    pub(crate) fn challenge(
        &mut self,
        id: TxId,
        r: &Request,
        proxy: bool,
        stale: bool,
        now: Instant,
    ) {
        let secs = self.secs(now);
        let values = self.verifier.challenges(secs, stale, &mut *self.rng);
        let (status, name) = if proxy {
            (
                StatusCode::PROXY_AUTHENTICATION_REQUIRED,
                HeaderName::ProxyAuthenticate,
            )
        } else {
            (StatusCode::UNAUTHORIZED, HeaderName::WwwAuthenticate)
        };
        let extra: Vec<(HeaderName, String)> = values.into_iter().map(|v| (name, v)).collect();
        self.stats.challenged += 1;
        self.respond(id, r, status, &extra, now);
    }

    /// RFC 3261 §10.3.
    pub(crate) fn on_register(&mut self, id: TxId, r: Request, peer: Peer, now: Instant) {
        // Step 3: Require we do not support.
        let unsupported: Vec<String> = r
            .typed_all::<Token<'_>>(HeaderName::Require)
            .filter_map(Result::ok)
            .map(|t| t.as_str().to_string())
            .collect();
        if !unsupported.is_empty() {
            self.respond(
                id,
                &r,
                StatusCode::BAD_EXTENSION,
                &[(HeaderName::Unsupported, unsupported.join(", "))],
                now,
            );
            return;
        }
        // Step 4: authentication.
        let secs = self.secs(now);
        let mut verdict = None;
        for (name, h) in r.auth_headers() {
            if name != HeaderName::Authorization {
                continue;
            }
            let h: AuthHeader<'_> = match h {
                Ok(h) => h,
                Err(_) => {
                    self.respond(id, &r, StatusCode::BAD_REQUEST, &[], now);
                    return;
                }
            };
            if h.param("realm").is_some_and(|v| *v == *self.config.realm) {
                let Some(uri) = self.digest_uri(&h, &r) else {
                    self.respond(id, &r, StatusCode::BAD_REQUEST, &[], now);
                    return;
                };
                verdict =
                    Some(
                        self.verifier
                            .verify(&h, "REGISTER", &uri, r.body(), secs, &self.users),
                    );
                break;
            }
        }
        let user = match verdict {
            None => return self.challenge(id, &r, false, false, now),
            Some(Verdict::Stale) => return self.challenge(id, &r, false, true, now),
            Some(Verdict::Rejected(why)) => {
                let status = why.status();
                tracing::debug!(%why, "REGISTER credentials refused");
                if status == StatusCode::UNAUTHORIZED {
                    return self.challenge(id, &r, false, false, now);
                }
                return self.respond(id, &r, status, &[], now);
            }
            Some(Verdict::Authorized { username }) => username,
        };
        // Step 5: the authenticated user may only register its own AOR.
        let to = r.to().uri();
        if to.user() != Some(user.as_str()) {
            return self.respond(id, &r, StatusCode::FORBIDDEN, &[], now);
        }
        let aor = aor_of(&to);
        // Step 6: the Contacts.
        let header_expires = r.expires();
        if r.contact_is_star() {
            if header_expires != Some(0) || r.contacts().next().is_some() {
                return self.respond(id, &r, StatusCode::BAD_REQUEST, &[], now);
            }
            self.bindings.remove_all(&aor);
            return self.ok_with_bindings(id, &r, &aor, now);
        }
        let mut updates = Vec::new();
        for c in r.contacts() {
            let asked = c
                .expires()
                .or(header_expires)
                .unwrap_or(self.config.default_expires);
            if asked != 0 && asked < self.config.min_expires {
                let min = self.config.min_expires.to_string();
                return self.respond(
                    id,
                    &r,
                    StatusCode::INTERVAL_TOO_BRIEF,
                    &[(HeaderName::MinExpires, min)],
                    now,
                );
            }
            let instance = c.sip_instance().map(str::to_string);
            updates.push(ContactUpdate {
                uri: c.uri().as_str().to_string(),
                instance,
                expires: asked.min(self.config.max_expires),
            });
        }
        // Step 7.
        let source = peer.reply_to(&r.top_via());
        match self
            .bindings
            .update(&aor, &updates, r.call_id(), r.cseq_seq(), &source, now)
        {
            Ok(()) => {
                self.stats.registered += 1;
                if let Some(shortest) = updates.iter().map(|u| u.expires).filter(|e| *e > 0).min() {
                    let at = now + std::time::Duration::from_secs(shortest.into());
                    self.purge_at = Some(self.purge_at.map_or(at, |p| p.min(at)));
                }
                self.ok_with_bindings(id, &r, &aor, now);
            }
            Err(UpdateError::OutOfOrder) => {
                self.respond(id, &r, StatusCode::SERVER_INTERNAL_ERROR, &[], now)
            }
            Err(UpdateError::TooMany) => self.respond(id, &r, StatusCode::FORBIDDEN, &[], now),
        }
    }

    pub(crate) fn ok_with_bindings(&mut self, id: TxId, r: &Request, aor: &str, now: Instant) {
        let extra: Vec<(HeaderName, String)> = self
            .bindings
            .lookup(aor, now)
            .iter()
            .map(|b| {
                let left = b
                    .expires_at
                    .saturating_duration_since(now)
                    .as_secs_f64()
                    .round() as u64;
                let mut v = format!("<{}>;expires={left}", b.uri);
                if let Some(i) = &b.instance {
                    v.push_str(&format!(";+sip.instance=\"<{i}>\""));
                }
                (HeaderName::Contact, v)
            })
            .collect();
        self.respond(id, r, StatusCode::OK, &extra, now);
    }
}
