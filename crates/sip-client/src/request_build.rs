//! Finishing requests the endpoint's machines build: User-Agent, the application's
//! header lines, answers to challenges, the body; then read back, so what is sent is
//! known to parse.

use sip_auth::AuthorizationValue;
use sip_message::{HeaderName, Message, MessageBuilder, ParseError, Request};

/// Why a request could not be built.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum BuildError {
    /// What was built does not parse (a control character in a header the
    /// application gave, say).
    #[error("the request built does not parse: {0}")]
    Unparsable(ParseError),
    /// What was built reads back as a response.
    #[error("the request built reads back as a response")]
    NotARequest,
}

/// The parts of a request the application supplies.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Extras<'a> {
    pub(crate) user_agent: Option<&'a str>,
    pub(crate) headers: &'a [(String, String)],
    pub(crate) authorization: &'a [AuthorizationValue],
    pub(crate) content_type: Option<&'a str>,
    pub(crate) body: &'a [u8],
}

/// Adds the extras to `b` and reads the request back.
pub(crate) fn finish_request(mut b: MessageBuilder, x: Extras<'_>) -> Result<Request, BuildError> {
    if let Some(ua) = x.user_agent {
        b = b.header(HeaderName::UserAgent, ua);
    }
    for (n, v) in x.headers {
        b = b.header(n.as_str(), v);
    }
    for a in x.authorization {
        b = b.header(a.header, &a.value);
    }
    let content_type = if x.body.is_empty() {
        None
    } else {
        x.content_type
    };
    match b.build_with_body(content_type, x.body) {
        Ok(Message::Request(r)) => Ok(r),
        Ok(Message::Response(_)) => Err(BuildError::NotARequest),
        Err(e) => Err(BuildError::Unparsable(e)),
    }
}
