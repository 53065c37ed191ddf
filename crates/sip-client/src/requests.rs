//! Requests the application sends outside any call (OPTIONS, MESSAGE, SUBSCRIBE,
//! NOTIFY, PUBLISH...): the endpoint adds Via, From (the account's AOR and a tag),
//! Call-ID, CSeq, Max-Forwards, Contact where the method needs one, User-Agent and
//! Content-Length, and answers 401/407 with the account's credentials (a new branch,
//! CSeq + 1), once per realm.

use std::collections::{HashMap, VecDeque};
use std::time::Instant;

use bytes::Bytes;
use sip_auth::{AuthError, AuthSession, AuthorizationValue, RequestTarget};
use sip_message::{HeaderName, MessageBuilder, Method, Request, Response, TransportMode};

use crate::context::{Ctx, Identity, RequestId};
use crate::ids;
use crate::peer::Peer;
use crate::request_build::{BuildError, Extras, finish_request};
use crate::transaction::{TxError, TxId};

/// A request the application asks the endpoint to send for an account.
#[derive(Clone, Debug)]
pub struct OutgoingRequest {
    /// The method (INVITE goes through [`crate::Endpoint::call`]).
    pub method: Method,
    /// The Request-URI.
    pub uri: String,
    /// The To value (`<sip:bob@example.com>`); the Request-URI when `None`.
    pub to: Option<String>,
    /// Further header lines, in order.
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: Bytes,
    /// The body's Content-Type.
    pub content_type: Option<String>,
    /// Where to send it; the account's registrar (outbound proxy) when `None`.
    pub peer: Option<Peer>,
}

impl OutgoingRequest {
    /// A request with no body and no extra headers.
    pub fn new(method: Method, uri: &str) -> OutgoingRequest {
        OutgoingRequest {
            method,
            uri: uri.to_string(),
            to: None,
            headers: Vec::new(),
            body: Bytes::new(),
            content_type: None,
            peer: None,
        }
    }
}

/// Why a request the application sent ended without a final response, or could not
/// be sent.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RequestError {
    /// No final response came in time.
    #[error("no response in time")]
    Timeout,
    /// The transport failed.
    #[error("the transport failed")]
    Transport,
    /// A challenge could not be answered (the 401/407 is also delivered).
    #[error("cannot authenticate: {0}")]
    Auth(AuthError),
    /// The request could not be built.
    #[error(transparent)]
    Invalid(BuildError),
    /// The transaction layer refused it.
    #[error(transparent)]
    Transaction(TxError),
    /// INVITE is sent with [`crate::Endpoint::call`], ACK and CANCEL by the calls.
    #[error("{0} is not sent as a plain request")]
    NotPlain(Method),
    /// No such account.
    #[error("no such account")]
    NoAccount,
}

/// What happened to a request the application sent.
#[derive(Debug)]
pub(crate) enum RequestEvent {
    Response(Box<Response>),
    Failed(RequestError),
}

/// One request and what its retries need.
#[derive(Debug)]
struct Plain {
    me: Identity,
    spec: OutgoingRequest,
    peer: Peer,
    call_id: String,
    from_tag: String,
    cseq: u32,
    auth: AuthSession,
    tx: TxId,
}

impl Plain {
    fn build(
        &self,
        branch: &str,
        authorization: &[AuthorizationValue],
        user_agent: Option<&str>,
    ) -> Result<Request, BuildError> {
        let spec = &self.spec;
        let to = spec.to.clone().unwrap_or_else(|| format!("<{}>", spec.uri));
        let mut b = MessageBuilder::request(&spec.method, &spec.uri)
            .header(
                HeaderName::Via,
                format_args!(
                    "SIP/2.0/{} {};rport;branch={branch}",
                    self.peer.mode.via_token(),
                    self.me.via_addr,
                ),
            )
            .header(HeaderName::MaxForwards, "70")
            .header(
                HeaderName::From,
                format_args!("{};tag={}", self.me.from, self.from_tag),
            )
            .header(HeaderName::To, to)
            .header(HeaderName::CallId, &self.call_id)
            .header(
                HeaderName::CSeq,
                format_args!("{} {}", self.cseq, spec.method.as_str()),
            );
        if matches!(
            spec.method,
            Method::Subscribe | Method::Refer | Method::Notify
        ) {
            b = b.header(HeaderName::Contact, format_args!("<{}>", self.me.contact));
        }
        finish_request(
            b,
            Extras {
                user_agent,
                headers: &spec.headers,
                authorization,
                content_type: spec.content_type.as_deref(),
                body: &spec.body,
            },
        )
    }
}

/// The requests in flight.
#[derive(Debug, Default)]
pub(crate) struct PlainRequests {
    map: HashMap<RequestId, Plain>,
    next: u64,
    events: VecDeque<(RequestId, RequestEvent)>,
}

impl PlainRequests {
    /// Builds and sends a request; `ctx` records its transaction as this request's.
    pub(crate) fn send(
        &mut self,
        id: RequestId,
        me: Identity,
        spec: OutgoingRequest,
        ctx: &mut Ctx<'_>,
        now: Instant,
    ) -> Result<(), RequestError> {
        if matches!(spec.method, Method::Invite | Method::Ack | Method::Cancel) {
            return Err(RequestError::NotPlain(spec.method));
        }
        let peer = spec.peer.clone().unwrap_or_else(|| me.peer.clone());
        let mut req = Plain {
            me,
            spec,
            peer,
            call_id: ids::call_id(ctx.rng),
            from_tag: ids::tag(ctx.rng),
            cseq: 1,
            auth: AuthSession::new(),
            tx: TxId(0),
        };
        let branch = ids::branch(ctx.rng);
        let request = req
            .build(&branch, &[], ctx.config.user_agent.as_deref())
            .map_err(RequestError::Invalid)?;
        req.tx = ctx
            .send_request(request, req.peer.clone(), now)
            .map_err(RequestError::Transaction)?;
        self.map.insert(id, req);
        Ok(())
    }

    /// A fresh id.
    pub(crate) fn next_id(&mut self) -> RequestId {
        self.next += 1;
        RequestId(self.next)
    }

    /// A response for request `id`'s transaction `tx`.
    pub(crate) fn on_response(
        &mut self,
        id: RequestId,
        tx: TxId,
        response: Response,
        ctx: &mut Ctx<'_>,
        now: Instant,
    ) {
        let Some(req) = self.map.get_mut(&id).filter(|r| r.tx == tx) else {
            return;
        };
        let status = response.status().as_u16();
        if status == 401 || status == 407 {
            match Self::retry(req, &response, ctx, now) {
                Ok(()) => return,
                Err(e) => self
                    .events
                    .push_back((id, RequestEvent::Failed(RequestError::Auth(e)))),
            }
        }
        if status >= 200 {
            ctx.release(tx);
            self.map.remove(&id);
            crate::transaction::shrink_map(&mut self.map);
        }
        self.events
            .push_back((id, RequestEvent::Response(Box::new(response))));
    }

    /// Answers a challenge and sends the request again.
    fn retry(
        req: &mut Plain,
        response: &Response,
        ctx: &mut Ctx<'_>,
        now: Instant,
    ) -> Result<(), AuthError> {
        let target = RequestTarget {
            secure: req.peer.mode == TransportMode::Tls,
            body: &req.spec.body,
            ..RequestTarget::new(
                req.spec.method.as_str(),
                &req.spec.uri,
                &req.me.server,
                &req.me.auth_user,
            )
        };
        let values = ctx.answer_challenge(&mut req.auth, response, &target)?;
        req.cseq += 1;
        let branch = ids::branch(ctx.rng);
        let request = req
            .build(&branch, &values, ctx.config.user_agent.as_deref())
            .map_err(|_| AuthError::Unwritable("request"))?;
        let old = req.tx;
        let tx = ctx
            .send_request(request, req.peer.clone(), now)
            .map_err(|_| AuthError::Unwritable("request"))?;
        ctx.release(old);
        req.tx = tx;
        Ok(())
    }

    /// Request `id`'s transaction `tx` timed out or could not send.
    pub(crate) fn on_failure(&mut self, id: RequestId, tx: TxId, timeout: bool) {
        if self.map.get(&id).is_some_and(|r| r.tx == tx) {
            self.map.remove(&id);
            let error = if timeout {
                RequestError::Timeout
            } else {
                RequestError::Transport
            };
            self.events.push_back((id, RequestEvent::Failed(error)));
        }
    }

    /// The next event.
    pub(crate) fn poll_event(&mut self) -> Option<(RequestId, RequestEvent)> {
        self.events.pop_front()
    }
}
