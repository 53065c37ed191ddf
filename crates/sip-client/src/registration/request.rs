//! How a REGISTER is written: our Contact (with `+sip.instance`), Expires, the
//! answers to challenges.

use std::fmt::Write as _;
use std::net::SocketAddr;

use sip_message::{HeaderName, Message, MessageBuilder, Method, Request};

use super::{Purpose, Registration, RegistrationError};
use crate::context::Ctx;
use crate::ids;

impl Registration {
    /// Our Contact URI.
    pub fn contact_uri(&self) -> String {
        self.contact_uri_at(self.learner.advertised())
    }

    pub(super) fn contact_uri_at(&self, addr: SocketAddr) -> String {
        let mut s = String::with_capacity(64);
        let scheme = if self.config.peer.mode == sip_message::TransportMode::Tls
            && self.config.registrar.starts_with("sips:")
        {
            "sips"
        } else {
            "sip"
        };
        let _ = write!(s, "{scheme}:");
        if !self.config.contact_user.is_empty() {
            let _ = write!(s, "{}@", self.config.contact_user);
        }
        let _ = write!(s, "{addr}");
        if self.config.peer.mode != sip_message::TransportMode::Udp {
            let _ = write!(s, ";transport={}", self.config.peer.mode.uri_param());
        }
        s
    }

    pub(super) fn contact_value(&self, addr: SocketAddr, expires: Option<u32>) -> String {
        let mut s = format!("<{}>", self.contact_uri_at(addr));
        if let Some(inst) = &self.config.instance {
            let _ = write!(s, ";+sip.instance=\"<{inst}>\"");
        }
        if let Some(e) = expires {
            let _ = write!(s, ";expires={e}");
        }
        s
    }

    pub(super) fn build(
        &mut self,
        purpose: Purpose,
        removing: Option<SocketAddr>,
        authorization: &[sip_auth::AuthorizationValue],
        ctx: &mut Ctx<'_>,
    ) -> Result<Request, RegistrationError> {
        self.cseq += 1;
        let local = self.learner.advertised();
        let expires = match purpose {
            Purpose::Register => self.expires,
            Purpose::Unregister => 0,
        };
        let name_addr = self.config.aor_name_addr();
        let mut b = MessageBuilder::request(&Method::Register, &self.config.registrar)
            .header(
                HeaderName::Via,
                format_args!(
                    "SIP/2.0/{} {};rport;branch={}",
                    self.config.peer.mode.via_token(),
                    local,
                    ids::branch(ctx.rng)
                ),
            )
            .header(HeaderName::MaxForwards, "70")
            .header(
                HeaderName::From,
                format_args!("{name_addr};tag={}", self.from_tag),
            )
            .header(HeaderName::To, &name_addr)
            .header(HeaderName::CallId, &self.call_id)
            .header(HeaderName::CSeq, format_args!("{} REGISTER", self.cseq))
            .header(HeaderName::Contact, self.contact_value(local, None));
        if let Some(old) = removing {
            b = b.header(HeaderName::Contact, self.contact_value(old, Some(0)));
        }
        b = b.header(HeaderName::Expires, expires);
        if let Some(ua) = &self.config.user_agent {
            b = b.header(HeaderName::UserAgent, ua);
        }
        for a in authorization {
            b = b.header(a.header, &a.value);
        }
        match b.build() {
            Ok(Message::Request(r)) => Ok(r),
            Ok(Message::Response(_)) => Err(RegistrationError::BadConfig(
                "the REGISTER built reads back as a response".into(),
            )),
            Err(e) => Err(RegistrationError::BadConfig(e.to_string())),
        }
    }
}
