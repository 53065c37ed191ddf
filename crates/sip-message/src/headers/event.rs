//! Event and Subscription-State (RFC 6665).

use std::fmt;

use crate::error::SyntaxError;
use crate::headers::TypedHeader;
use crate::lex;
use crate::params::{Params, parse_header_params};

fn token_with_params<'a>(
    base: &'a str,
    pos: usize,
    end: usize,
    what: &'static str,
) -> Result<(&'a str, &'a str, usize), SyntaxError> {
    let s = base.as_bytes();
    let p = lex::skip_lws(s, pos, end);
    let te = lex::token(s, p, end).ok_or(SyntaxError::expected(what, p))?;
    let (params, e) = parse_header_params(s, te, end, |_, _| Ok(()))?;
    Ok((&base[p..te], params.of(base), e))
}

fn write_params(f: &mut fmt::Formatter<'_>, params: Params<'_>) -> fmt::Result {
    for p in params {
        write!(f, ";{}", p.name)?;
        if let Some(v) = p.value {
            write!(f, "={v}")?;
        }
    }
    Ok(())
}

/// An Event value: the event package (`presence`, `dialog`, `message-summary`, `refer`)
/// and its parameters (`id`).
#[derive(Clone, Copy, Debug)]
pub struct Event<'a> {
    /// The event package and template, e.g. `presence.winfo`.
    pub package: &'a str,
    params: &'a str,
}

impl<'a> Event<'a> {
    /// The parameters.
    pub fn params(&self) -> Params<'a> {
        Params::new(self.params)
    }

    /// The `id` parameter.
    pub fn id(&self) -> Option<&'a str> {
        self.params().get("id").flatten()
    }
}

impl PartialEq for Event<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.package.eq_ignore_ascii_case(other.package) && self.params().eq(other.params())
    }
}

impl<'a> TypedHeader<'a> for Event<'a> {
    const LIST: bool = false;

    fn parse_at(base: &'a str, pos: usize, end: usize) -> Result<(Self, usize), SyntaxError> {
        let (package, params, e) = token_with_params(base, pos, end, "event package")?;
        Ok((Event { package, params }, e))
    }
}

impl fmt::Display for Event<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.package)?;
        write_params(f, self.params())
    }
}

/// A Subscription-State value: `active`, `pending`, `terminated` (or an extension) with
/// `expires`, `reason` and `retry-after` parameters.
#[derive(Clone, Copy, Debug)]
pub struct SubscriptionState<'a> {
    /// The state as written.
    pub state: &'a str,
    params: &'a str,
}

impl<'a> SubscriptionState<'a> {
    /// The parameters.
    pub fn params(&self) -> Params<'a> {
        Params::new(self.params)
    }

    /// The `expires` parameter, seconds.
    pub fn expires(&self) -> Option<u32> {
        self.params()
            .get("expires")
            .flatten()
            .and_then(|v| lex::parse_u32(v.as_bytes()))
    }

    /// The `reason` parameter.
    pub fn reason(&self) -> Option<&'a str> {
        self.params().get("reason").flatten()
    }

    /// The `retry-after` parameter, seconds.
    pub fn retry_after(&self) -> Option<u32> {
        self.params()
            .get("retry-after")
            .flatten()
            .and_then(|v| lex::parse_u32(v.as_bytes()))
    }

    /// Whether the state is `active`, `pending` or `terminated` (any case) as named.
    pub fn is(&self, state: &str) -> bool {
        self.state.eq_ignore_ascii_case(state)
    }
}

impl PartialEq for SubscriptionState<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.state.eq_ignore_ascii_case(other.state) && self.params().eq(other.params())
    }
}

impl<'a> TypedHeader<'a> for SubscriptionState<'a> {
    const LIST: bool = false;

    fn parse_at(base: &'a str, pos: usize, end: usize) -> Result<(Self, usize), SyntaxError> {
        let (state, params, e) = token_with_params(base, pos, end, "subscription state")?;
        Ok((SubscriptionState { state, params }, e))
    }
}

impl fmt::Display for SubscriptionState<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.state)?;
        write_params(f, self.params())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_and_state() {
        let e = Event::parse("dialog;id=42").unwrap();
        assert_eq!((e.package, e.id()), ("dialog", Some("42")));
        assert_eq!(Event::parse(&e.to_string()).unwrap(), e);
        let s = SubscriptionState::parse("terminated;reason=timeout;retry-after=30").unwrap();
        assert!(s.is("terminated"));
        assert_eq!(s.reason(), Some("timeout"));
        assert_eq!(s.retry_after(), Some(30));
        let s = SubscriptionState::parse("active;expires=600").unwrap();
        assert_eq!(s.expires(), Some(600));
        assert_eq!(SubscriptionState::parse(&s.to_string()).unwrap(), s);
    }
}
