//! CSeq (RFC 3261 §20.16) and RAck (RFC 3262 §7.2).

use std::fmt;

use crate::error::SyntaxError;
use crate::headers::TypedHeader;
use crate::headers::numeric::number_at_most;
use crate::lex;
use crate::method::Method;

/// A CSeq value: a sequence number and the method of the request it numbers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CSeq {
    /// The sequence number (at most 2^32 - 1).
    pub seq: u32,
    /// The method.
    pub method: Method,
}

/// Parses `1*DIGIT` as a u32 at `pos`; returns it and the end.
pub(crate) fn number_u32(s: &[u8], pos: usize, end: usize) -> Result<(u32, usize), SyntaxError> {
    let (v, e) = number_at_most(s, pos, end, u64::from(u32::MAX))?;
    Ok((v as u32, e))
}

/// Parses `number LWS method` at `pos`; returns the number, the method's span and the end.
pub(crate) fn parse_cseq_parts(
    s: &[u8],
    pos: usize,
    end: usize,
) -> Result<(u32, usize, usize), SyntaxError> {
    let p = lex::skip_lws(s, pos, end);
    let (seq, e) = number_u32(s, p, end)?;
    let m = lex::skip_lws(s, e, end);
    if m == e {
        return Err(SyntaxError::expected("white space before method", e));
    }
    let me = lex::token(s, m, end).ok_or(SyntaxError::expected("method", m))?;
    Ok((seq, m, me))
}

impl<'a> TypedHeader<'a> for CSeq {
    const LIST: bool = false;

    fn parse_at(base: &'a str, pos: usize, end: usize) -> Result<(Self, usize), SyntaxError> {
        let (seq, m, me) = parse_cseq_parts(base.as_bytes(), pos, end)?;
        let method = Method::parse(&base[m..me]).map_err(|_| SyntaxError::expected("method", m))?;
        Ok((CSeq { seq, method }, me))
    }
}

impl fmt::Display for CSeq {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.seq, self.method)
    }
}

/// An RAck value (reliable provisional responses): the RSeq being acknowledged and the
/// CSeq of the request it answered.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RAck {
    /// The RSeq of the provisional response.
    pub rseq: u32,
    /// The CSeq number of the INVITE.
    pub cseq: u32,
    /// The CSeq method of the INVITE.
    pub method: Method,
}

impl<'a> TypedHeader<'a> for RAck {
    const LIST: bool = false;

    fn parse_at(base: &'a str, pos: usize, end: usize) -> Result<(Self, usize), SyntaxError> {
        let s = base.as_bytes();
        let p = lex::skip_lws(s, pos, end);
        let (rseq, e) = number_u32(s, p, end)?;
        let q = lex::skip_lws(s, e, end);
        if q == e {
            return Err(SyntaxError::expected("white space", e));
        }
        let (cseq, m, me) = parse_cseq_parts(s, q, end)?;
        let method = Method::parse(&base[m..me]).map_err(|_| SyntaxError::expected("method", m))?;
        Ok((RAck { rseq, cseq, method }, me))
    }
}

impl fmt::Display for RAck {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {} {}", self.rseq, self.cseq, self.method)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cseq() {
        let c = CSeq::parse("0009\r\n  INVITE").unwrap();
        assert_eq!(c.seq, 9);
        assert_eq!(c.method, Method::Invite);
        assert_eq!(CSeq::parse("4294967295 ACK").unwrap().seq, u32::MAX);
        for bad in [
            "36893488147419103232 REGISTER",
            "4294967296 BYE",
            "1",
            "INVITE",
            "1INVITE",
            "-1 BYE",
        ] {
            assert!(CSeq::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(
            CSeq::parse("7 NEWMETHOD").unwrap().method.as_str(),
            "NEWMETHOD"
        );
    }

    #[test]
    fn rack() {
        let r = RAck::parse("776656 1 INVITE").unwrap();
        assert_eq!(
            (r.rseq, r.cseq, r.method.clone()),
            (776656, 1, Method::Invite)
        );
        assert_eq!(RAck::parse(&r.to_string()).unwrap(), r);
        assert!(RAck::parse("1 INVITE").is_err());
    }
}
