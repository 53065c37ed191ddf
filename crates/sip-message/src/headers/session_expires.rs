//! Session-Expires (RFC 4028): `delta-seconds *(;se-params)` with `refresher=uac|uas`.

use std::fmt;

use crate::error::SyntaxError;
use crate::headers::TypedHeader;
use crate::headers::cseq::number_u32;
use crate::lex;
use crate::params::{Params, parse_header_params};

/// Which side refreshes the session.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refresher {
    /// The caller (UAC of the INVITE).
    Uac,
    /// The callee.
    Uas,
}

/// A Session-Expires value.
#[derive(Clone, Copy, Debug)]
pub struct SessionExpires<'a> {
    /// The session interval in seconds.
    pub seconds: u32,
    params: &'a str,
}

impl<'a> SessionExpires<'a> {
    /// The parameters.
    pub fn params(&self) -> Params<'a> {
        Params::new(self.params)
    }

    /// The `refresher` parameter.
    pub fn refresher(&self) -> Option<Refresher> {
        match self.params().get("refresher").flatten() {
            Some(v) if v.eq_ignore_ascii_case("uac") => Some(Refresher::Uac),
            Some(v) if v.eq_ignore_ascii_case("uas") => Some(Refresher::Uas),
            _ => None,
        }
    }
}

impl PartialEq for SessionExpires<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.seconds == other.seconds && self.params().eq(other.params())
    }
}

impl<'a> TypedHeader<'a> for SessionExpires<'a> {
    const LIST: bool = false;

    fn parse_at(base: &'a str, pos: usize, end: usize) -> Result<(Self, usize), SyntaxError> {
        let s = base.as_bytes();
        let p = lex::skip_lws(s, pos, end);
        let (seconds, e) = number_u32(s, p, end)?;
        let (params, e) = parse_header_params(s, e, end, |_, _| Ok(()))?;
        Ok((
            SessionExpires {
                seconds,
                params: params.of(base),
            },
            e,
        ))
    }
}

impl fmt::Display for SessionExpires<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.seconds)?;
        for p in self.params() {
            write!(f, ";{}", p.name)?;
            if let Some(v) = p.value {
                write!(f, "={v}")?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn session_expires() {
        let s = SessionExpires::parse("1800 ; refresher=uas").unwrap();
        assert_eq!((s.seconds, s.refresher()), (1800, Some(Refresher::Uas)));
        assert_eq!(SessionExpires::parse(&s.to_string()).unwrap(), s);
        assert!(SessionExpires::parse("x").is_err());
    }
}
