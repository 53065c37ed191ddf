//! The answers a UA gives on its own, before any call or application sees a request
//! (RFC 3261 §8.2): 416 for a Request-URI scheme it does not serve, 405 or 501 for
//! methods it does not take, 420 for option tags it does not support, 481 for
//! requests that need a dialog and name none, 400 and 415 for INVITEs it cannot read.

use sip_message::headers::Token;
use sip_message::{HeaderName, Method, Request, Scheme, StatusCode};

use crate::config::EndpointConfig;

/// A refusal: the status and the header lines that explain it.
pub(crate) type Refusal = (StatusCode, Vec<(HeaderName, String)>);

/// Methods the endpoint and its calls handle whatever the configuration says.
fn handled(method: &Method) -> bool {
    matches!(
        method,
        Method::Invite
            | Method::Ack
            | Method::Cancel
            | Method::Bye
            | Method::Options
            | Method::Update
            | Method::Prack
    )
}

/// The checks of §8.2.1 to §8.2.2.3, in order; `None` when the request may go on.
pub(crate) fn refusal(config: &EndpointConfig, request: &Request) -> Option<Refusal> {
    // §8.2.2.1: a Request-URI scheme we do not serve.
    if !matches!(
        request.uri().scheme(),
        Scheme::Sip | Scheme::Sips | Scheme::Tel
    ) {
        return Some((StatusCode::UNSUPPORTED_URI_SCHEME, Vec::new()));
    }
    // §8.2.1: methods we do not take.
    let method = request.method();
    if !handled(method) && !config.methods.contains(method) {
        return Some(match method {
            Method::Extension(_) => (StatusCode::NOT_IMPLEMENTED, Vec::new()),
            _ => (
                StatusCode::METHOD_NOT_ALLOWED,
                vec![(HeaderName::Allow, config.allow_value())],
            ),
        });
    }
    // §8.2.2.3: Require with option tags we do not support (not checked for ACK
    // and CANCEL).
    if !matches!(method, Method::Ack | Method::Cancel) {
        let unsupported: Vec<String> = request
            .typed_all::<Token<'_>>(HeaderName::Require)
            .filter_map(Result::ok)
            .map(|t| t.as_str().to_string())
            .filter(|t| !config.supports(t))
            .collect();
        if !unsupported.is_empty() {
            return Some((
                StatusCode::BAD_EXTENSION,
                vec![(HeaderName::Unsupported, unsupported.join(", "))],
            ));
        }
    }
    // Requests that only exist inside a dialog (§12.2.2, §15.1.2, RFC 3311).
    if request.to_tag().is_none() && matches!(method, Method::Bye | Method::Update | Method::Prack)
    {
        return Some((StatusCode::CALL_TRANSACTION_DOES_NOT_EXIST, Vec::new()));
    }
    if *method == Method::Invite && request.to_tag().is_none() {
        // §8.1.1.8: an INVITE must carry the Contact its dialog needs.
        if request.contacts().next().is_none() {
            return Some((StatusCode::BAD_REQUEST, Vec::new()));
        }
        // A body we cannot read as an offer (§8.2.3).
        if !request.body().is_empty() && !request.content_type().is_some_and(|t| t.is_sdp()) {
            return Some((
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                vec![(HeaderName::Accept, config.accept.join(", "))],
            ));
        }
    }
    None
}

/// The headers of our 200 to OPTIONS (§11.2).
pub(crate) fn options_headers(config: &EndpointConfig) -> Vec<(HeaderName, String)> {
    vec![
        (HeaderName::Allow, config.allow_value()),
        (HeaderName::Accept, config.accept.join(", ")),
        (HeaderName::Supported, config.supported_value()),
    ]
}
