//! Headers whose value is a single decimal number.

use std::fmt;

use crate::error::{SyntaxError, SyntaxErrorKind};
use crate::headers::TypedHeader;
use crate::lex;

/// Reads the decimal number at `p` (digits only) and checks it is at most `max` (which
/// must be below `u64::MAX`: the digit reader saturates there); returns it and its end.
#[inline]
pub(crate) fn number_at_most(
    s: &[u8],
    p: usize,
    end: usize,
    max: u64,
) -> Result<(u64, usize), SyntaxError> {
    let (v, e) = lex::digits(s, p, end);
    if e == p {
        return Err(SyntaxError::expected("number", p));
    }
    if v > max {
        return Err(SyntaxError::new(SyntaxErrorKind::BadNumber, p));
    }
    Ok((v, e))
}

macro_rules! numeric_header {
    ($(#[$doc:meta])* $name:ident($ty:ty), max = $max:expr) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub struct $name(pub $ty);

        impl<'a> TypedHeader<'a> for $name {
            const LIST: bool = false;

            fn parse_at(base: &'a str, pos: usize, end: usize) -> Result<(Self, usize), SyntaxError> {
                let s = base.as_bytes();
                let p = lex::skip_lws(s, pos, end);
                let (v, e) = number_at_most(s, p, end, $max as u64)?;
                Ok(($name(v as $ty), e))
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}", self.0)
            }
        }
    };
}

numeric_header!(
    /// Max-Forwards: hops left, 0..=255.
    MaxForwards(u8), max = u8::MAX
);
numeric_header!(
    /// Content-Length: the body size in bytes.
    ContentLength(u32), max = u32::MAX
);
numeric_header!(
    /// Expires: a lifetime in seconds (0..=2^32-1).
    Expires(u32), max = u32::MAX
);
numeric_header!(
    /// Min-Expires: the shortest registration or subscription a server accepts, seconds.
    MinExpires(u32), max = u32::MAX
);
numeric_header!(
    /// RSeq: the sequence number of a reliable provisional response (1..=2^31-1).
    RSeq(u32), max = u32::MAX
);
numeric_header!(
    /// Min-SE: the shortest session interval a server accepts, seconds (RFC 4028).
    MinSe(u32), max = u32::MAX
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges() {
        assert_eq!(MaxForwards::parse("0068").unwrap(), MaxForwards(68));
        assert!(MaxForwards::parse("256").is_err());
        assert!(MaxForwards::parse("300").is_err());
        assert_eq!(ContentLength::parse(" 150 ").unwrap(), ContentLength(150));
        for bad in [
            "-999",
            "five",
            "+5",
            "18446744073709551616",
            "4294967296",
            "",
        ] {
            assert!(ContentLength::parse(bad).is_err(), "{bad}");
        }
        assert!(Expires::parse("10000000000000000000000000000000000000000").is_err());
        assert_eq!(Expires::parse("3600").unwrap().to_string(), "3600");
    }
}
