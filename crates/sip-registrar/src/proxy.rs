//! The stateless proxy (RFC 3261 §16.11): requests forwarded to the next Route, to
//! the AOR's most recent binding (on its own flow for a stream), or to the
//! Request-URI, record-routed (twice when the transport changes, RFC 5658), with a
//! branch derived from the incoming one so retransmissions, CANCEL and the non-2xx
//! ACK follow the same path; responses back along the Via path.

use std::hash::{DefaultHasher, Hash, Hasher};
use std::net::SocketAddr;
use std::time::Instant;

use sip_client::{Peer, Transmit, uri_in};
use sip_message::headers::{BRANCH_MAGIC_COOKIE, Rport};
use sip_message::{HeaderName, MessageBuilder, Method, Request, Response, TransportMode, Uri};

use crate::core::{MAX_UPSTREAM, Registrar, Upstream, aor_of};

impl Registrar {
    /// The branch of a forwarded request: a hash of the incoming branch and sent-by,
    /// so a retransmission, its CANCEL and its non-2xx ACK get the same one (§16.11).
    pub(crate) fn stateless_branch(&self, r: &Request) -> String {
        let via = r.top_via();
        let mut h = DefaultHasher::new();
        self.salt.hash(&mut h);
        via.branch().unwrap_or_default().hash(&mut h);
        via.sent_by().hash(&mut h);
        if *r.method() == Method::Ack && !via.has_rfc3261_branch() {
            r.call_id().hash(&mut h);
        }
        let a = h.finish();
        let mut h2 = DefaultHasher::new();
        a.hash(&mut h2);
        self.salt.rotate_left(17).hash(&mut h2);
        format!("{BRANCH_MAGIC_COOKIE}{a:016x}{:08x}", h2.finish() as u32)
    }

    pub(crate) fn listen_for(&self, mode: TransportMode, family_v6: bool) -> Option<SocketAddr> {
        self.config
            .listen
            .iter()
            .filter(|(m, _)| *m == mode)
            .map(|(_, a)| *a)
            .find(|a| a.is_ipv6() == family_v6)
            .or_else(|| {
                self.config
                    .listen
                    .iter()
                    .find(|(m, _)| *m == mode)
                    .map(|(_, a)| *a)
            })
    }

    pub(crate) fn record_route_for(&self, mode: TransportMode, v6: bool) -> Option<String> {
        let a = self.listen_for(mode, v6)?;
        Some(match mode {
            TransportMode::Udp => format!("<sip:{a};lr>"),
            m => format!("<sip:{a};transport={};lr>", m.uri_param()),
        })
    }

    /// Forwards a request statelessly.
    pub(crate) fn forward(&mut self, r: Request, peer: Peer, now: Instant) {
        let in_dialog = r.to_tag().is_some();
        // Route processing (§16.4): our own entries at the top are removed.
        let mut routes: Vec<String> = r
            .routes()
            .filter_map(Result::ok)
            .map(|n| n.as_str().to_string())
            .collect();
        while let Some(first) = routes.first() {
            if Uri::parse(uri_in(first)).is_ok_and(|u| self.is_us(&u)) {
                routes.remove(0);
            } else {
                break;
            }
        }
        // The target: the next Route, else the Request-URI (via the location service
        // for our domain's AORs).
        let mut request_uri = r.uri().as_str().to_string();
        let target: Option<Peer> = if let Some(first) = routes.first() {
            Peer::for_uri(uri_in(first))
        } else {
            let uri = r.uri();
            if !in_dialog && self.is_our_domain(&uri) && uri.user().is_some() {
                let aor = aor_of(&uri);
                match self
                    .bindings
                    .lookup(&aor, now)
                    .into_iter()
                    .max_by_key(|b| b.expires_at)
                {
                    Some(b) => {
                        request_uri = b.uri.clone();
                        Some(b.source.clone())
                    }
                    None => None,
                }
            } else {
                // A registered phone's Contact on a stream transport: its own flow.
                Peer::for_uri(uri.as_str()).map(|p| {
                    match self.bindings.flow_to(uri.as_str(), now) {
                        Some(flow) if p.mode.is_stream() && flow.mode == p.mode => flow.clone(),
                        _ => p,
                    }
                })
            }
        };
        let Some(target) = target else {
            tracing::debug!(uri = %r.uri().as_str(), "no next hop; dropping");
            return;
        };
        let max_forwards = r.max_forwards().map_or(70, |m| m.saturating_sub(1));
        let v6 = target.addr.is_ipv6();
        let Some(our_addr) = self.listen_for(target.mode, v6) else {
            tracing::debug!(mode = %target.mode, "no listener for the next hop's transport");
            return;
        };
        let branch = self.stateless_branch(&r);
        let mut b = MessageBuilder::request(r.method(), &request_uri).header(
            HeaderName::Via,
            format_args!(
                "SIP/2.0/{} {our_addr};branch={branch}",
                target.mode.via_token()
            ),
        );
        // Record-Route initial requests (two entries when the transport changes, RFC 5658).
        if !in_dialog && !matches!(r.method(), Method::Ack | Method::Cancel | Method::Register) {
            if let Some(rr) = self.record_route_for(target.mode, v6) {
                b = b.header(HeaderName::RecordRoute, rr);
            }
            if (peer.mode != target.mode || peer.addr.is_ipv6() != v6)
                && let Some(rr) = self.record_route_for(peer.mode, peer.addr.is_ipv6())
            {
                b = b.header(HeaderName::RecordRoute, rr);
            }
        }
        let top_via = r.top_via();
        let mut first_via = true;
        let mut routes_written = false;
        for f in r.headers() {
            match f.name {
                HeaderName::Via if first_via => {
                    first_via = false;
                    let mut v = top_via.as_str().to_string();
                    // §18.2.1: received, and rport filled in.
                    if top_via.host_ip() != Some(peer.addr.ip()) && top_via.received().is_none() {
                        v.push_str(&format!(";received={}", peer.addr.ip()));
                    }
                    if matches!(top_via.rport(), Some(Rport::Requested)) {
                        v = v.replacen(";rport", &format!(";rport={}", peer.addr.port()), 1);
                    }
                    let rest = f.value.strip_prefix(top_via.as_str()).unwrap_or("");
                    b = b.header(HeaderName::Via, format_args!("{v}{rest}"));
                }
                HeaderName::Route => {
                    if !routes_written {
                        routes_written = true;
                        for rt in &routes {
                            b = b.header(HeaderName::Route, rt);
                        }
                    }
                }
                HeaderName::MaxForwards => {}
                HeaderName::ContentLength => {}
                _ => b = b.header(f.raw_name, f.value),
            }
        }
        b = b.header(HeaderName::MaxForwards, max_forwards);
        let bytes = b.finish_with_body(None, r.body()).freeze();
        // Content-Type was copied among the headers; finish_with_body(None, ..) only
        // writes Content-Length.
        self.remember_upstream(branch, peer, now);
        self.stats.forwarded += 1;
        self.out.push_back(Transmit {
            peer: target,
            bytes,
            tx: None,
        });
    }

    pub(crate) fn remember_upstream(&mut self, branch: String, peer: Peer, now: Instant) {
        let until = now + self.config.timers.invite_proceeding_timeout + self.config.timers.t1x64();
        if self
            .upstream
            .insert(branch.clone(), Upstream { peer, until })
            .is_none()
        {
            self.upstream_order.push_back(branch);
        }
        while self.upstream_order.len() > MAX_UPSTREAM {
            if let Some(old) = self.upstream_order.pop_front() {
                self.upstream.remove(&old);
            }
        }
    }

    /// A response: ours at the top of the Via is removed, and it goes to the next.
    pub(crate) fn forward_response(&mut self, r: Response, _now: Instant) {
        let top = r.top_via();
        let Some(branch) = top.branch() else { return };
        let ours = self.config.listen.iter().any(|(_, a)| {
            top.host_ip()
                .is_some_and(|ip| ip == a.ip() || a.ip().is_unspecified())
                && top.port().unwrap_or(5060) == a.port()
        });
        if !ours || r.via_count() < 2 {
            return;
        }
        let next = r.vias().nth(1);
        let Some(next) = next else { return };
        let upstream = self.upstream.get(branch).map(|u| u.peer.clone());
        let peer = match upstream {
            Some(p) => p,
            None => {
                let mode = TransportMode::parse(next.transport()).unwrap_or(TransportMode::Udp);
                let ip = next.received_ip().or(next.host_ip());
                let Some(ip) = ip else { return };
                let port = match next.rport() {
                    Some(Rport::Port(p)) => p,
                    _ => next.port().unwrap_or(mode.default_port()),
                };
                Peer::new(mode, SocketAddr::new(ip, port))
            }
        };
        let mut b = MessageBuilder::response_into(
            bytes::BytesMut::with_capacity(r.head().len() + r.body().len()),
            r.status(),
            r.reason(),
        );
        let mut first_via = true;
        for f in r.headers() {
            match f.name {
                HeaderName::Via if first_via => {
                    first_via = false;
                    let rest = f
                        .value
                        .strip_prefix(top.as_str())
                        .unwrap_or("")
                        .trim_start()
                        .trim_start_matches(',')
                        .trim_start();
                    if !rest.is_empty() {
                        b = b.header(HeaderName::Via, rest);
                    }
                }
                HeaderName::ContentLength => {}
                _ => b = b.header(f.raw_name, f.value),
            }
        }
        let bytes = b.finish_with_body(None, r.body()).freeze();
        self.stats.responses_forwarded += 1;
        self.out.push_back(Transmit {
            peer,
            bytes,
            tx: None,
        });
    }
}
