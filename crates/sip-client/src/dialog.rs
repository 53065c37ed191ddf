//! One dialog (RFC 3261 §12): early or confirmed, the route set from Record-Route,
//! the remote target from Contact, local and remote CSeq, in-dialog requests with
//! loose routing and the strict-routing fallback, and target refresh. Dialogs live in
//! the call that made them ([`crate::call`]); forks of one INVITE are several dialogs
//! of one call.

use std::fmt::Write as _;
use std::net::SocketAddr;

use sip_message::headers::NameAddr;
use sip_message::{HeaderName, MessageBuilder, Method, Request, Response, StatusCode, Uri};

use crate::peer::{Peer, uri_in};

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
    /// The dialog a UAC gets from a response to its `request` (§12.1.2): route set
    /// from Record-Route reversed, target from Contact. A response without a To tag
    /// (an RFC 2543 peer's 2xx) makes a dialog with an empty remote tag.
    pub fn uac(
        request: &Request,
        response: &Response,
        peer: Peer,
        via_addr: SocketAddr,
    ) -> Option<Dialog> {
        let remote_tag = response.to_tag().unwrap_or_default().to_string();
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
        let remote_tag = request.from_tag().unwrap_or_default().to_string();
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

    /// A new request in this dialog (not ACK, not CANCEL): Request-URI, Route, From,
    /// To, Call-ID, the next CSeq, Via with `branch`, Max-Forwards, and our Contact
    /// for target refresh requests.
    pub fn request(&mut self, method: &Method, branch: &str) -> MessageBuilder {
        self.local_seq = self.local_seq.wrapping_add(1).max(1);
        let seq = self.local_seq;
        if *method == Method::Invite {
            self.invite_seq = seq;
        }
        self.build(method, seq, branch)
    }

    /// The ACK for a 2xx to the INVITE with CSeq number `seq` (§13.2.2.4).
    pub fn ack(&self, seq: u32, branch: &str) -> MessageBuilder {
        self.build(&Method::Ack, seq, branch)
    }

    fn build(&self, method: &Method, seq: u32, branch: &str) -> MessageBuilder {
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
            .header(HeaderName::To, self.remote_name_addr())
            .header(HeaderName::CallId, &self.call_id)
            .header(HeaderName::CSeq, format_args!("{seq} {}", method.as_str()));
        for r in &routes {
            b = b.header(HeaderName::Route, r);
        }
        if is_target_refresh(method) && !self.local_contact.is_empty() {
            b = b.header(
                HeaderName::Contact,
                format_args!("<{}>", self.local_contact),
            );
        }
        b
    }

    /// The peer's name-addr with its tag (none for an RFC 2543 peer that sent none).
    fn remote_name_addr(&self) -> String {
        if self.remote_tag.is_empty() {
            self.remote_uri.clone()
        } else {
            format!("{};tag={}", self.remote_uri, self.remote_tag)
        }
    }

    /// Checks an in-dialog request (§12.2.2): a CSeq lower than the last one gets
    /// 500 (an equal one is a new transaction the peer may send, a CANCEL's or an
    /// ACK's is the INVITE's); a target refresh takes the new Contact.
    pub fn on_request(&mut self, request: &Request) -> Result<(), StatusCode> {
        let seq = request.cseq_seq();
        let method = request.method();
        if *method != Method::Ack && *method != Method::Cancel {
            if self.remote_seq.is_some_and(|r| seq < r) {
                return Err(StatusCode::SERVER_INTERNAL_ERROR);
            }
            self.remote_seq = Some(seq);
        }
        if is_target_refresh(method)
            && let Some(c) = request.contacts().next()
        {
            self.remote_target = c.uri().as_str().to_string();
        }
        Ok(())
    }

    /// A 2xx to our target refresh request: its Contact is the new target.
    pub fn on_refresh_response(&mut self, response: &Response) {
        if let Some(c) = response.contacts().next() {
            self.remote_target = c.uri().as_str().to_string();
        }
    }
}

/// Requests that refresh the remote target (§12.2: re-INVITE, UPDATE; RFC 6665's
/// SUBSCRIBE and NOTIFY, RFC 3515's REFER).
fn is_target_refresh(method: &Method) -> bool {
    matches!(
        method,
        Method::Invite | Method::Update | Method::Subscribe | Method::Notify | Method::Refer
    )
}
