//! Typed header values, decoded on access without copying.
//!
//! Each type implements [`TypedHeader`]: it parses one value at a position of a text and
//! says whether a header line may carry several comma-separated values. A message hands
//! them out through [`crate::MessageParts::typed`] and [`crate::MessageParts::typed_all`];
//! the types also parse standalone strings with [`TypedHeader::parse`].
//! `Display` prints each value in canonical form, which parses back to an equal value.

mod auth;
mod cseq;
mod date;
mod event;
mod media_type;
mod name_addr;
mod name_addr_fast;
mod numeric;
mod retry_after;
mod session_expires;
mod tokens;
mod via;
mod warning;

pub use auth::{AuthHeader, AuthParams, Challenge, Credentials};
pub(crate) use cseq::parse_cseq_parts as parse_cseq_at;
pub use cseq::{CSeq, RAck};
pub use date::{HttpDate, Weekday};
pub use event::{Event, SubscriptionState};
pub use media_type::MediaType;
pub use name_addr::NameAddr;
pub(crate) use name_addr::{NameAddrData, parse_name_addr, parse_name_addr_into};
pub(crate) use numeric::number_at_most;
pub use numeric::{ContentLength, Expires, MaxForwards, MinExpires, MinSe, RSeq};
pub use retry_after::RetryAfter;
pub use session_expires::{Refresher, SessionExpires};
pub(crate) use tokens::parse_call_id as parse_call_id_at;
pub use tokens::{CallId, Text, Token};
pub use via::{BRANCH_MAGIC_COOKIE, Rport, Via};
pub(crate) use via::{ViaData, parse_via, parse_via_into};
pub use warning::Warning;

use crate::error::{SyntaxError, SyntaxErrorKind};
use crate::lex;

/// A header value type that can be decoded from text.
pub trait TypedHeader<'a>: Sized {
    /// Whether one header line may carry several values separated by commas
    /// (Via, Contact, Route, Allow, ...).
    const LIST: bool;

    /// Parses one value of `base` starting at `pos` and not going past `end`. Returns
    /// the value and the position just after it (before any `,` that follows).
    /// Error offsets are positions in `base`.
    fn parse_at(base: &'a str, pos: usize, end: usize) -> Result<(Self, usize), SyntaxError>;

    /// Parses a complete value: exactly one element, with nothing but white space after.
    fn parse(value: &'a str) -> Result<Self, SyntaxError> {
        if value.len() > crate::span::MAX_HEAD {
            return Err(SyntaxError::new(SyntaxErrorKind::TooLong, 0));
        }
        let (v, e) = Self::parse_at(value, 0, value.len())?;
        let rest = lex::skip_lws(value.as_bytes(), e, value.len());
        if rest != value.len() {
            return Err(SyntaxError::new(SyntaxErrorKind::TrailingData, rest));
        }
        Ok(v)
    }

    /// Parses a comma-separated list of values (for [`TypedHeader::LIST`] types; for
    /// others this is a list of one).
    fn parse_list(value: &'a str) -> ValueIter<'a, Self> {
        ValueIter::new(value, 0, value.len())
    }
}

/// An iterator over the values of one header line: one value, or several separated by
/// commas for list headers. Stops after the first error.
#[derive(Clone, Debug)]
pub struct ValueIter<'a, H> {
    base: &'a str,
    pos: usize,
    end: usize,
    done: bool,
    _h: std::marker::PhantomData<fn() -> H>,
}

impl<'a, H: TypedHeader<'a>> ValueIter<'a, H> {
    pub(crate) fn new(base: &'a str, pos: usize, end: usize) -> Self {
        ValueIter {
            base,
            pos,
            end,
            done: false,
            _h: std::marker::PhantomData,
        }
    }

    /// The values of a list that follow a value ending at `after` (nothing when no comma
    /// follows it).
    pub(crate) fn rest_after(base: &'a str, after: usize, end: usize) -> Self {
        let s = base.as_bytes();
        let p = lex::skip_lws(s, after, end);
        let mut it = ValueIter::new(base, p + 1, end);
        it.done = !(p < end && s[p] == b',');
        it
    }
}

impl<'a, H: TypedHeader<'a>> Iterator for ValueIter<'a, H> {
    type Item = Result<H, SyntaxError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        let s = self.base.as_bytes();
        let r = H::parse_at(self.base, self.pos, self.end).and_then(|(v, e)| {
            let p = lex::skip_lws(s, e, self.end);
            if p >= self.end {
                self.done = true;
            } else if H::LIST && s[p] == b',' {
                self.pos = p + 1;
            } else {
                return Err(SyntaxError::new(SyntaxErrorKind::TrailingData, p));
            }
            Ok(v)
        });
        if r.is_err() {
            self.done = true;
        }
        Some(r)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn list_iteration() {
        let v: Vec<_> = Via::parse_list("SIP/2.0/UDP a;branch=1 ,\r\n SIP/2.0/TCP b:5061")
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(v.len(), 2);
        assert_eq!(v[1].host(), "b");
        let r: Vec<_> = Via::parse_list("SIP/2.0/UDP a,,").collect();
        assert!(r[0].is_ok() && r[1].is_err());
        assert_eq!(r.len(), 2);
        // A single-valued header does not split on commas.
        assert!(CSeq::parse_list("1 INVITE, 2 BYE").next().unwrap().is_err());
    }
}
