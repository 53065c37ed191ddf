//! Retry-After (RFC 3261 §20.33): `delta-seconds [comment] *(;retry-param)`.

use std::fmt;

use crate::error::{SyntaxError, SyntaxErrorKind};
use crate::headers::TypedHeader;
use crate::headers::cseq::number_u32;
use crate::lex;
use crate::params::{Params, parse_header_params};

/// A Retry-After value.
#[derive(Clone, Copy, Debug)]
pub struct RetryAfter<'a> {
    /// Seconds to wait before retrying.
    pub seconds: u32,
    /// The comment, without its parentheses.
    pub comment: Option<&'a str>,
    params: &'a str,
}

impl<'a> RetryAfter<'a> {
    /// The parameters (`;duration=...`).
    pub fn params(&self) -> Params<'a> {
        Params::new(self.params)
    }

    /// The `duration` parameter: how long the retry window lasts, seconds.
    pub fn duration(&self) -> Option<u32> {
        self.params()
            .get("duration")
            .flatten()
            .and_then(|v| lex::parse_u32(v.as_bytes()))
    }
}

impl PartialEq for RetryAfter<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.seconds == other.seconds
            && self.comment == other.comment
            && self.params().eq(other.params())
    }
}

/// Scans a comment `( ... )` with nesting and quoted pairs at `pos`; returns its end.
pub(crate) fn comment(s: &[u8], pos: usize, end: usize) -> Result<usize, SyntaxError> {
    let mut depth = 0usize;
    let mut i = pos;
    while i < end {
        match s[i] {
            b'(' => depth += 1,
            b')' => {
                depth -= 1;
                if depth == 0 {
                    return Ok(i + 1);
                }
            }
            b'\\' => i += 1,
            _ => {}
        }
        i += 1;
    }
    Err(SyntaxError::new(SyntaxErrorKind::Expected("')'"), pos))
}

impl<'a> TypedHeader<'a> for RetryAfter<'a> {
    const LIST: bool = false;

    fn parse_at(base: &'a str, pos: usize, end: usize) -> Result<(Self, usize), SyntaxError> {
        let s = base.as_bytes();
        let p = lex::skip_lws(s, pos, end);
        let (seconds, mut e) = number_u32(s, p, end)?;
        let c = lex::skip_lws(s, e, end);
        let mut com = None;
        if c < end && s[c] == b'(' {
            let ce = comment(s, c, end)?;
            com = Some(&base[c + 1..ce - 1]);
            e = ce;
        }
        let (params, e) = parse_header_params(s, e, end, |_, _| Ok(()))?;
        Ok((
            RetryAfter {
                seconds,
                comment: com,
                params: params.of(base),
            },
            e,
        ))
    }
}

impl fmt::Display for RetryAfter<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.seconds)?;
        if let Some(c) = self.comment {
            write!(f, " ({c})")?;
        }
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
    fn forms() {
        let r = RetryAfter::parse("18000;duration=3600").unwrap();
        assert_eq!((r.seconds, r.duration()), (18000, Some(3600)));
        let r = RetryAfter::parse("120 (I'm in a (nested) meeting)").unwrap();
        assert_eq!(r.comment, Some("I'm in a (nested) meeting"));
        assert_eq!(RetryAfter::parse(&r.to_string()).unwrap(), r);
        assert!(RetryAfter::parse("949302838503028349304023988").is_err());
        assert!(RetryAfter::parse("5 (open").is_err());
    }
}
