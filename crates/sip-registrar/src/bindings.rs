//! The location service: for each address of record, the Contacts registered, when
//! they expire, and the transport address each was registered from.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use sip_client::Peer;

/// One registered Contact.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Binding {
    /// The Contact URI.
    pub uri: String,
    /// The Contact's `+sip.instance`, if any.
    pub instance: Option<String>,
    /// When it expires.
    pub expires_at: Instant,
    /// The Call-ID of the REGISTER that made or refreshed it.
    pub call_id: String,
    /// Its CSeq.
    pub cseq: u32,
    /// Where the REGISTER came from: requests for the AOR go here (the NAT-friendly
    /// choice, and the only one that reaches a UA over its own TCP/TLS connection).
    pub source: Peer,
}

/// What a REGISTER asks for one Contact.
#[derive(Clone, Debug)]
pub struct ContactUpdate {
    /// The Contact URI.
    pub uri: String,
    /// Its `+sip.instance`.
    pub instance: Option<String>,
    /// Seconds granted (0 removes).
    pub expires: u32,
}

/// Why an update was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UpdateError {
    /// The same Call-ID with a CSeq not higher than the stored one: an old or
    /// reordered REGISTER (RFC 3261 §10.3 step 7).
    OutOfOrder,
    /// More bindings than allowed for one AOR.
    TooMany,
}

/// Every binding, by AOR (user@domain, lower-cased domain).
#[derive(Debug, Default)]
pub struct Bindings {
    by_aor: HashMap<String, Vec<Binding>>,
    /// The most Contacts one AOR may hold.
    pub max_per_aor: usize,
}

/// Two Contact URIs name the same binding: compared as URIs (RFC 3261 §10.3 step 6).
fn same_uri(a: &str, b: &str) -> bool {
    match (sip_message::Uri::parse(a), sip_message::Uri::parse(b)) {
        (Ok(x), Ok(y)) => x.rfc_eq(&y),
        _ => a == b,
    }
}

impl Bindings {
    /// An empty store allowing `max_per_aor` Contacts per AOR.
    pub fn new(max_per_aor: usize) -> Bindings {
        Bindings {
            by_aor: HashMap::new(),
            max_per_aor,
        }
    }

    /// The live bindings of `aor`.
    pub fn lookup(&self, aor: &str, now: Instant) -> Vec<&Binding> {
        self.by_aor
            .get(aor)
            .map(|v| v.iter().filter(|b| b.expires_at > now).collect())
            .unwrap_or_default()
    }

    /// The flow a live binding with Contact `uri` registered over: where a request for
    /// that Contact goes on a stream transport, so a phone that registered over TCP or
    /// TLS without listening is still reached on its own connection (as RFC 5626's
    /// flows do). A scan of every binding: fine for the demo and the tests, not for a
    /// large registrar.
    pub fn flow_to(&self, uri: &str, now: Instant) -> Option<&Peer> {
        self.by_aor
            .values()
            .flatten()
            .find(|b| b.expires_at > now && same_uri(&b.uri, uri))
            .map(|b| &b.source)
    }

    /// How many bindings are held in all.
    pub fn len(&self) -> usize {
        self.by_aor.values().map(Vec::len).sum()
    }

    /// Whether none are held.
    pub fn is_empty(&self) -> bool {
        self.by_aor.is_empty()
    }

    /// Applies the Contacts of one REGISTER (all or nothing).
    pub fn update(
        &mut self,
        aor: &str,
        updates: &[ContactUpdate],
        call_id: &str,
        cseq: u32,
        source: &Peer,
        now: Instant,
    ) -> Result<(), UpdateError> {
        let list = self.by_aor.entry(aor.to_string()).or_default();
        list.retain(|b| b.expires_at > now);
        // Step 7: an out-of-order REGISTER changes nothing.
        for u in updates {
            if let Some(b) = list.iter().find(|b| matches_binding(b, u))
                && b.call_id == call_id
                && cseq <= b.cseq
            {
                return Err(UpdateError::OutOfOrder);
            }
        }
        let mut next = list.clone();
        for u in updates {
            let pos = next.iter().position(|b| matches_binding(b, u));
            if u.expires == 0 {
                if let Some(p) = pos {
                    next.remove(p);
                }
                continue;
            }
            let b = Binding {
                uri: u.uri.clone(),
                instance: u.instance.clone(),
                expires_at: now + Duration::from_secs(u.expires.into()),
                call_id: call_id.to_string(),
                cseq,
                source: source.clone(),
            };
            match pos {
                Some(p) => next[p] = b,
                None => next.push(b),
            }
        }
        if next.len() > self.max_per_aor {
            return Err(UpdateError::TooMany);
        }
        if next.is_empty() {
            self.by_aor.remove(aor);
        } else {
            self.by_aor.insert(aor.to_string(), next);
        }
        Ok(())
    }

    /// Removes every binding of `aor` (`Contact: *`, Expires: 0).
    pub fn remove_all(&mut self, aor: &str) {
        self.by_aor.remove(aor);
    }

    /// Drops expired bindings.
    pub fn purge(&mut self, now: Instant) {
        self.by_aor.retain(|_, v| {
            v.retain(|b| b.expires_at > now);
            !v.is_empty()
        });
    }

    /// The earliest expiry.
    pub fn next_expiry(&self) -> Option<Instant> {
        self.by_aor
            .values()
            .flat_map(|v| v.iter().map(|b| b.expires_at))
            .min()
    }
}

/// A binding matches an update with the same instance id (RFC 5626 without reg-id:
/// the UA's new Contact replaces its old one) or, without instance ids, the same URI.
fn matches_binding(b: &Binding, u: &ContactUpdate) -> bool {
    match (&b.instance, &u.instance) {
        (Some(x), Some(y)) => x == y,
        _ => same_uri(&b.uri, &u.uri),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::SocketAddr;

    fn peer() -> Peer {
        Peer::udp(SocketAddr::from(([127, 0, 0, 1], 5070)))
    }

    fn up(uri: &str, expires: u32) -> ContactUpdate {
        ContactUpdate {
            uri: uri.into(),
            instance: None,
            expires,
        }
    }

    #[test]
    fn add_refresh_remove_and_expire() {
        let now = Instant::now();
        let mut b = Bindings::new(4);
        b.update(
            "alice@x",
            &[up("sip:alice@1.2.3.4", 60)],
            "c1",
            1,
            &peer(),
            now,
        )
        .expect("added");
        assert_eq!(b.lookup("alice@x", now).len(), 1);
        // Same URI written differently refreshes, not adds.
        b.update(
            "alice@x",
            &[up("sip:alice@1.2.3.4;transport=UDP", 60)],
            "c1",
            2,
            &peer(),
            now,
        )
        .expect("refreshed");
        let found = b.lookup("alice@x", now);
        assert_eq!(found.len(), 2, "transport param makes a different URI");
        assert_eq!(
            b.update(
                "alice@x",
                &[up("sip:alice@1.2.3.4", 0)],
                "c1",
                1,
                &peer(),
                now
            ),
            Err(UpdateError::OutOfOrder)
        );
        b.update(
            "alice@x",
            &[up("sip:alice@1.2.3.4", 0)],
            "c1",
            3,
            &peer(),
            now,
        )
        .expect("removed");
        assert_eq!(b.lookup("alice@x", now).len(), 1);
        assert!(
            b.lookup("alice@x", now + Duration::from_secs(61))
                .is_empty()
        );
        b.purge(now + Duration::from_secs(61));
        assert!(b.is_empty());
    }

    #[test]
    fn instance_replaces_and_limit_holds() {
        let now = Instant::now();
        let mut b = Bindings::new(2);
        let with = |uri: &str| ContactUpdate {
            uri: uri.into(),
            instance: Some("urn:uuid:1".into()),
            expires: 60,
        };
        b.update("a@x", &[with("sip:a@10.0.0.1")], "c", 1, &peer(), now)
            .expect("ok");
        b.update("a@x", &[with("sip:a@192.0.2.7")], "c", 2, &peer(), now)
            .expect("ok");
        let l = b.lookup("a@x", now);
        assert_eq!(l.len(), 1);
        assert_eq!(l[0].uri, "sip:a@192.0.2.7");
        b.update("a@x", &[up("sip:a@1", 60)], "d", 1, &peer(), now)
            .expect("ok");
        assert_eq!(
            b.update("a@x", &[up("sip:a@2", 60)], "e", 1, &peer(), now),
            Err(UpdateError::TooMany)
        );
    }
}
