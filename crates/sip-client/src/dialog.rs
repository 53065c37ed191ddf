//! Dialogs (RFC 3261 §12): early and confirmed, the route set from Record-Route, the
//! remote target from Contact, local and remote CSeq, in-dialog requests with loose
//! routing and the strict-routing fallback, target refresh, and forked INVITEs (several
//! early dialogs; a 2xx after the first one is acknowledged and ended).

use std::collections::HashMap;
use std::fmt::Write as _;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use bytes::Bytes;
use sip_message::headers::NameAddr;
use sip_message::{HeaderName, MessageBuilder, Method, Request, Response, StatusCode, Uri};

use crate::endpoint::RequestId;
use crate::peer::{Peer, uri_in};

/// Identifies a dialog in an [`crate::Endpoint`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct DialogId(pub u64);

/// Early (after a tagged 1xx) or confirmed (after a 2xx).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DialogState {
    /// Created by a provisional response with a To tag.
    Early,
    /// Created or confirmed by a 2xx.
    Confirmed,
}

/// One dialog's state (§12).
#[derive(Clone, Debug)]
pub struct Dialog {
    /// Call-ID.
    pub call_id: String,
    /// Our tag.
    pub local_tag: String,
    /// The peer's tag.
    pub remote_tag: String,
    /// Our address (From of our requests), without tag.
    pub local_uri: String,
    /// The peer's address (To of our requests), without tag.
    pub remote_uri: String,
    /// The last CSeq we used.
    pub local_seq: u32,
    /// The last CSeq the peer used, once it sent a request.
    pub remote_seq: Option<u32>,
    /// Where in-dialog requests go (the peer's Contact).
    pub remote_target: String,
    /// Route set, in the order our requests carry it.
    pub route_set: Vec<String>,
    /// Whether the dialog is secure (sips).
    pub secure: bool,
    /// Early or confirmed.
    pub state: DialogState,
    /// We sent the INVITE (UAC) or received it (UAS).
    pub uac: bool,
    /// Our Contact.
    pub local_contact: String,
    /// The CSeq number of the INVITE that made the dialog (its ACK carries it).
    pub invite_seq: u32,
    /// Where requests go when neither the route set nor the target names an address.
    pub peer: Peer,
    /// Our address for Via.
    pub via_addr: SocketAddr,
}

/// A name-addr without its `tag` parameter.
fn without_tag(na: &NameAddr<'_>) -> String {
    let mut s = String::new();
    if let Some(d) = na.display_name_raw() {
        s.push_str(d);
        s.push(' ');
    }
    let _ = write!(s, "<{}>", na.uri().as_str());
    for p in na.params() {
        if p.name.eq_ignore_ascii_case("tag") {
            continue;
        }
        let _ = write!(s, ";{}", p.name);
        if let Some(v) = p.value {
            let _ = write!(s, "={v}");
        }
    }
    s
}

impl Dialog {
    /// The dialog a UAC gets from a response with a To tag to its `request`
    /// (§12.1.2): route set from Record-Route reversed, target from Contact.
    pub fn uac(
        request: &Request,
        response: &Response,
        peer: Peer,
        via_addr: SocketAddr,
    ) -> Option<Dialog> {
        let remote_tag = response.to_tag()?.to_string();
        let local_tag = request.from_tag()?.to_string();
        let mut route_set: Vec<String> = response
            .record_routes()
            .filter_map(Result::ok)
            .map(|r| r.as_str().to_string())
            .collect();
        route_set.reverse();
        let remote_target = response
            .contacts()
            .next()
            .map(|c| c.uri().as_str().to_string())
            .unwrap_or_else(|| request.uri().as_str().to_string());
        let local_contact = request
            .contacts()
            .next()
            .map(|c| c.uri().as_str().to_string())
            .unwrap_or_default();
        Some(Dialog {
            call_id: request.call_id().to_string(),
            local_tag,
            remote_tag,
            local_uri: without_tag(&request.from()),
            remote_uri: without_tag(&request.to()),
            local_seq: request.cseq_seq(),
            remote_seq: None,
            remote_target,
            route_set,
            secure: request.uri().as_str().starts_with("sips:"),
            state: if response.status().as_u16() >= 200 {
                DialogState::Confirmed
            } else {
                DialogState::Early
            },
            uac: true,
            local_contact,
            invite_seq: request.cseq_seq(),
            peer,
            via_addr,
        })
    }

    /// The dialog a UAS gets by answering `request` with our tag (§12.1.1): route set
    /// from Record-Route in order, target from Contact.
    pub fn uas(
        request: &Request,
        local_tag: &str,
        local_contact: &str,
        confirmed: bool,
        peer: Peer,
        via_addr: SocketAddr,
    ) -> Option<Dialog> {
        let remote_tag = request.from_tag()?.to_string();
        let route_set = request
            .record_routes()
            .filter_map(Result::ok)
            .map(|r| r.as_str().to_string())
            .collect();
        let remote_target = request
            .contacts()
            .next()
            .map(|c| c.uri().as_str().to_string())?;
        Some(Dialog {
            call_id: request.call_id().to_string(),
            local_tag: local_tag.to_string(),
            remote_tag,
            local_uri: without_tag(&request.to()),
            remote_uri: without_tag(&request.from()),
            local_seq: 0,
            remote_seq: Some(request.cseq_seq()),
            remote_target,
            route_set,
            secure: request.uri().as_str().starts_with("sips:"),
            state: if confirmed {
                DialogState::Confirmed
            } else {
                DialogState::Early
            },
            uac: false,
            local_contact: local_contact.to_string(),
            invite_seq: request.cseq_seq(),
            peer,
            via_addr,
        })
    }

    /// The Request-URI and Route values of an in-dialog request (§12.2.1.1): with an
    /// empty route set or a loose first route (`lr`), the remote target and the route
    /// set; with a strict first route, that route's URI and the rest of the set
    /// followed by the remote target.
    pub fn target_and_routes(&self) -> (String, Vec<String>) {
        let Some(first) = self.route_set.first() else {
            return (self.remote_target.clone(), Vec::new());
        };
        let loose = Uri::parse(uri_in(first)).map(|u| u.lr()).unwrap_or(true);
        if loose {
            (self.remote_target.clone(), self.route_set.clone())
        } else {
            let uri = uri_in(first);
            // The Request-URI carries no header parameters (§12.2.1.1).
            let uri = uri.split('?').next().unwrap_or(uri).to_string();
            let mut routes: Vec<String> = self.route_set[1..].to_vec();
            routes.push(format!("<{}>", self.remote_target));
            (uri, routes)
        }
    }

    /// Where an in-dialog request goes: the first route, else the remote target,
    /// when they name an IP address; else the dialog's peer.
    pub fn next_hop(&self) -> Peer {
        let hop = self
            .route_set
            .first()
            .map(|r| uri_in(r).to_string())
            .unwrap_or_else(|| self.remote_target.clone());
        match Peer::for_uri(&hop) {
            Some(p) if p.addr == self.peer.addr && p.mode == self.peer.mode => self.peer.clone(),
            Some(p) => Peer {
                tls_name: self.peer.tls_name.clone(),
                ..p
            },
            None => self.peer.clone(),
        }
    }

    /// A request in this dialog: Request-URI, Route, From, To, Call-ID, CSeq (the
    /// next one; an ACK reuses the INVITE's), Via with `branch`, Max-Forwards.
    pub fn request(&mut self, method: &Method, branch: &str) -> MessageBuilder {
        let seq = if *method == Method::Ack || *method == Method::Cancel {
            self.invite_seq
        } else {
            self.local_seq = self.local_seq.wrapping_add(1).max(1);
            self.local_seq
        };
        if *method == Method::Invite {
            self.invite_seq = seq;
        }
        let (uri, routes) = self.target_and_routes();
        let hop = self.next_hop();
        let mut b = MessageBuilder::request(method, &uri).header(
            HeaderName::Via,
            format_args!(
                "SIP/2.0/{} {};rport;branch={branch}",
                hop.mode.via_token(),
                self.via_addr
            ),
        );
        b = b
            .header(HeaderName::MaxForwards, "70")
            .header(
                HeaderName::From,
                format_args!("{};tag={}", self.local_uri, self.local_tag),
            )
            .header(
                HeaderName::To,
                format_args!("{};tag={}", self.remote_uri, self.remote_tag),
            )
            .header(HeaderName::CallId, &self.call_id)
            .header(HeaderName::CSeq, format_args!("{seq} {}", method.as_str()));
        for r in &routes {
            b = b.header(HeaderName::Route, r);
        }
        if matches!(method, Method::Invite | Method::Update) && !self.local_contact.is_empty() {
            b = b.header(
                HeaderName::Contact,
                format_args!("<{}>", self.local_contact),
            );
        }
        b
    }

    /// Checks an in-dialog request (§12.2.2): a CSeq lower than the last one gets
    /// 500; a target refresh (re-INVITE, UPDATE) takes the new Contact.
    pub fn on_request(&mut self, request: &Request) -> Result<(), StatusCode> {
        let seq = request.cseq_seq();
        let method = request.method();
        if *method != Method::Ack && *method != Method::Cancel {
            if self.remote_seq.is_some_and(|r| seq <= r) {
                // Equal would be a retransmission, which the transaction layer absorbs
                // before it gets here: a new request must count up.
                return Err(StatusCode::SERVER_INTERNAL_ERROR);
            }
            self.remote_seq = Some(seq);
        }
        if matches!(method, Method::Invite | Method::Update)
            && let Some(c) = request.contacts().next()
        {
            self.remote_target = c.uri().as_str().to_string();
        }
        Ok(())
    }
}

/// A 2xx to INVITE the UAS retransmits until the ACK (§13.3.1.4).
#[derive(Debug)]
struct Pending2xx {
    bytes: Bytes,
    peer: Peer,
    next: Instant,
    interval: Duration,
    give_up: Instant,
}

/// An INVITE we sent, while its dialogs form.
#[derive(Debug, Default)]
struct InviteFork {
    dialogs: Vec<DialogId>,
    confirmed: Option<DialogId>,
}

/// What the store decided about a response to our INVITE.
#[derive(Debug)]
pub(crate) enum ForkOutcome {
    /// Deliver it with this dialog (if the response had a tag).
    Deliver(Option<DialogId>),
    /// A retransmitted 2xx for a confirmed dialog: ACK again, do not deliver.
    Reack(DialogId),
    /// A 2xx from another fork after one was confirmed: ACK it and end it with BYE.
    ExtraFork(DialogId),
}

/// Every dialog of an endpoint.
#[derive(Debug, Default)]
pub(crate) struct DialogStore {
    next: u64,
    dialogs: HashMap<DialogId, Dialog>,
    index: HashMap<(String, String, String), DialogId>,
    forks: HashMap<RequestId, InviteFork>,
    pending_2xx: HashMap<DialogId, Pending2xx>,
    /// ACKs we sent for 2xx, to resend on retransmitted 2xx.
    acks: HashMap<DialogId, (Bytes, Peer)>,
    /// When timers: T1 and 64·T1.
    pub(crate) t1: Duration,
    pub(crate) t2: Duration,
}

impl DialogStore {
    pub(crate) fn with_timers(t1: Duration, t2: Duration) -> DialogStore {
        DialogStore {
            t1,
            t2,
            ..DialogStore::default()
        }
    }

    pub(crate) fn get(&self, id: DialogId) -> Option<&Dialog> {
        self.dialogs.get(&id)
    }

    pub(crate) fn get_mut(&mut self, id: DialogId) -> Option<&mut Dialog> {
        self.dialogs.get_mut(&id)
    }

    pub(crate) fn len(&self) -> usize {
        self.dialogs.len()
    }

    pub(crate) fn insert(&mut self, d: Dialog) -> DialogId {
        let key = (d.call_id.clone(), d.local_tag.clone(), d.remote_tag.clone());
        if let Some(id) = self.index.get(&key) {
            return *id;
        }
        self.next += 1;
        let id = DialogId(self.next);
        self.index.insert(key, id);
        self.dialogs.insert(id, d);
        id
    }

    pub(crate) fn remove(&mut self, id: DialogId) -> Option<Dialog> {
        let d = self.dialogs.remove(&id)?;
        self.index
            .remove(&(d.call_id.clone(), d.local_tag.clone(), d.remote_tag.clone()));
        self.pending_2xx.remove(&id);
        self.acks.remove(&id);
        Some(d)
    }

    fn find(&self, call_id: &str, local_tag: &str, remote_tag: &str) -> Option<DialogId> {
        self.index
            .get(&(
                call_id.to_string(),
                local_tag.to_string(),
                remote_tag.to_string(),
            ))
            .copied()
    }

    /// An in-dialog request: its dialog, or the status to answer (481, 500).
    pub(crate) fn on_request(
        &mut self,
        request: &Request,
        _now: Instant,
    ) -> Result<DialogId, StatusCode> {
        let (Some(local), Some(remote)) = (request.to_tag(), request.from_tag()) else {
            return Err(StatusCode::CALL_TRANSACTION_DOES_NOT_EXIST);
        };
        let id = self
            .find(request.call_id(), local, remote)
            .ok_or(StatusCode::CALL_TRANSACTION_DOES_NOT_EXIST)?;
        let d = self
            .dialogs
            .get_mut(&id)
            .ok_or(StatusCode::CALL_TRANSACTION_DOES_NOT_EXIST)?;
        d.on_request(request)?;
        Ok(id)
    }

    /// An ACK outside a transaction: for a 2xx of ours. Stops its retransmission.
    pub(crate) fn on_ack(&mut self, request: &Request, _now: Instant) -> Option<DialogId> {
        let id = self.find(request.call_id(), request.to_tag()?, request.from_tag()?)?;
        self.pending_2xx.remove(&id);
        if let Some(d) = self.dialogs.get_mut(&id) {
            d.state = DialogState::Confirmed;
        }
        Some(id)
    }

    /// A CANCEL ended an INVITE: its early dialogs end too.
    pub(crate) fn on_invite_cancelled(&mut self, invite: &Request) {
        let Some(remote) = invite.from_tag() else {
            return;
        };
        let ids: Vec<DialogId> = self
            .dialogs
            .iter()
            .filter(|(_, d)| {
                !d.uac
                    && d.call_id == invite.call_id()
                    && d.remote_tag == remote
                    && d.state == DialogState::Early
            })
            .map(|(id, _)| *id)
            .collect();
        for id in ids {
            self.remove(id);
        }
    }

    /// We answered an INVITE with a 2xx: retransmit it until the ACK (§13.3.1.4).
    pub(crate) fn start_2xx(&mut self, id: DialogId, bytes: Bytes, peer: Peer, now: Instant) {
        if let Some(d) = self.dialogs.get_mut(&id) {
            d.state = DialogState::Confirmed;
        }
        let reliable = peer.reliable();
        let t1 = self.t1;
        let entry = Pending2xx {
            bytes,
            peer,
            // Over a reliable transport only the give-up timer runs.
            next: if reliable { now + t1 * 64 } else { now + t1 },
            interval: t1,
            give_up: now + t1 * 64,
        };
        self.pending_2xx.insert(id, entry);
    }

    /// A response to an INVITE we sent (request `rid`): early dialogs per tag, the
    /// first 2xx confirms its dialog and ends the other early ones.
    pub(crate) fn on_invite_response(
        &mut self,
        rid: RequestId,
        request: &Request,
        response: &Response,
        peer: &Peer,
        via_addr: SocketAddr,
    ) -> ForkOutcome {
        let status = response.status().as_u16();
        let Some(tag) = response.to_tag() else {
            return ForkOutcome::Deliver(None);
        };
        if status >= 300 {
            // The INVITE failed: its early dialogs end.
            if let Some(fork) = self.forks.remove(&rid) {
                for id in fork.dialogs {
                    if fork.confirmed != Some(id) {
                        self.remove(id);
                    }
                }
            }
            return ForkOutcome::Deliver(None);
        }
        let existing = self.find(
            request.call_id(),
            request.from_tag().unwrap_or_default(),
            tag,
        );
        let fork = self.forks.entry(rid).or_default();
        let confirmed = fork.confirmed;
        let id = match existing {
            Some(id) => id,
            None => {
                let Some(d) = Dialog::uac(request, response, peer.clone(), via_addr) else {
                    return ForkOutcome::Deliver(None);
                };
                let id = self.insert(d);
                if let Some(f) = self.forks.get_mut(&rid) {
                    f.dialogs.push(id);
                }
                id
            }
        };
        if status < 200 {
            return ForkOutcome::Deliver(Some(id));
        }
        match confirmed {
            Some(c) if c == id => ForkOutcome::Reack(id),
            Some(_) => ForkOutcome::ExtraFork(id),
            None => {
                if let Some(d) = self.dialogs.get_mut(&id) {
                    d.state = DialogState::Confirmed;
                    // A target refresh: the 2xx's Contact is the target.
                    if let Some(c) = response.contacts().next() {
                        d.remote_target = c.uri().as_str().to_string();
                    }
                    // The route set is fixed by the 2xx (§12.1.2 / §13.2.2.4).
                    let mut rs: Vec<String> = response
                        .record_routes()
                        .filter_map(Result::ok)
                        .map(|r| r.as_str().to_string())
                        .collect();
                    rs.reverse();
                    d.route_set = rs;
                }
                let others: Vec<DialogId> = self
                    .forks
                    .get(&rid)
                    .map(|f| f.dialogs.iter().copied().filter(|d| *d != id).collect())
                    .unwrap_or_default();
                for o in others {
                    if self
                        .dialogs
                        .get(&o)
                        .is_some_and(|d| d.state == DialogState::Early)
                    {
                        self.remove(o);
                    }
                }
                if let Some(f) = self.forks.get_mut(&rid) {
                    f.confirmed = Some(id);
                    f.dialogs.retain(|d| *d == id);
                }
                ForkOutcome::Deliver(Some(id))
            }
        }
    }

    /// Remembers the ACK sent for a dialog's 2xx.
    pub(crate) fn remember_ack(&mut self, id: DialogId, ack: Bytes, peer: Peer) {
        self.acks.insert(id, (ack, peer));
    }

    /// The ACK to resend for a retransmitted 2xx.
    pub(crate) fn ack_for(&self, id: DialogId) -> Option<(Bytes, Peer)> {
        self.acks.get(&id).cloned()
    }

    /// The INVITE's transaction ended: forget its fork bookkeeping.
    pub(crate) fn forget_request(&mut self, rid: RequestId) {
        if let Some(fork) = self.forks.remove(&rid) {
            for id in fork.dialogs {
                if self
                    .dialogs
                    .get(&id)
                    .is_some_and(|d| d.state == DialogState::Early)
                {
                    self.remove(id);
                }
            }
        }
    }

    /// The dialog our response with tag `local_tag` to `request` made.
    pub(crate) fn find_for_uas(&self, request: &Request, local_tag: &str) -> Option<DialogId> {
        self.find(request.call_id(), local_tag, request.from_tag()?)
    }

    /// The dialog a response to a UAC request belongs to (non-INVITE in a dialog).
    pub(crate) fn find_for_response(&self, response: &Response) -> Option<DialogId> {
        self.find(response.call_id(), response.from_tag()?, response.to_tag()?)
    }

    /// The next 2xx retransmission or give-up.
    pub(crate) fn deadline(&self) -> Option<Instant> {
        self.pending_2xx
            .values()
            .map(|p| p.next.min(p.give_up))
            .min()
    }

    /// Runs 2xx retransmissions due by `now`: returns what to send, and the dialogs
    /// whose ACK never came (the UAS then ends them with BYE).
    pub(crate) fn on_timer(&mut self, now: Instant) -> (Vec<(Peer, Bytes)>, Vec<DialogId>) {
        let mut sends = Vec::new();
        let mut dead = Vec::new();
        for (id, p) in self.pending_2xx.iter_mut() {
            if p.give_up <= now {
                dead.push(*id);
                continue;
            }
            if p.next <= now {
                if !p.peer.reliable() {
                    sends.push((p.peer.clone(), p.bytes.clone()));
                }
                p.interval = (p.interval * 2).min(self.t2);
                p.next = (now + p.interval).min(p.give_up);
            }
        }
        for id in &dead {
            self.pending_2xx.remove(id);
        }
        (sends, dead)
    }
}
