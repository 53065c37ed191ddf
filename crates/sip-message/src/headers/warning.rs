//! Warning (RFC 3261 §20.43): `warn-code SP warn-agent SP warn-text`.

use std::borrow::Cow;
use std::fmt;

use crate::error::{SyntaxError, SyntaxErrorKind};
use crate::headers::TypedHeader;
use crate::lex;

/// One warning value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Warning<'a> {
    /// The three-digit warning code (300..=399 are defined).
    pub code: u16,
    /// The host (and port) or pseudonym of the element that added the warning.
    pub agent: &'a str,
    text: &'a str,
}

impl<'a> Warning<'a> {
    /// The warning text, unquoted.
    pub fn text(&self) -> Cow<'a, str> {
        lex::unquote(self.text)
    }
}

impl<'a> TypedHeader<'a> for Warning<'a> {
    const LIST: bool = true;

    fn parse_at(base: &'a str, pos: usize, end: usize) -> Result<(Self, usize), SyntaxError> {
        let s = base.as_bytes();
        let p = lex::skip_lws(s, pos, end);
        let ce = p + s[p..end].iter().take_while(|b| b.is_ascii_digit()).count();
        if ce - p != 3 {
            return Err(SyntaxError::new(SyntaxErrorKind::BadNumber, p));
        }
        let code =
            (s[p] - b'0') as u16 * 100 + (s[p + 1] - b'0') as u16 * 10 + (s[p + 2] - b'0') as u16;
        let a = lex::skip_lws(s, ce, end);
        if a == ce {
            return Err(SyntaxError::expected("white space", ce));
        }
        let ae = a + s[a..end]
            .iter()
            .take_while(|&&b| lex::TOKEN[b as usize] || matches!(b, b':' | b'[' | b']'))
            .count();
        if ae == a {
            return Err(SyntaxError::expected("warn-agent", a));
        }
        let t = lex::skip_lws(s, ae, end);
        if t == ae || t >= end || s[t] != b'"' {
            return Err(SyntaxError::expected("quoted warn-text", t));
        }
        let te = lex::quoted_string(s, t, end)
            .map_err(|o| SyntaxError::new(SyntaxErrorKind::UnterminatedQuote, o))?;
        Ok((
            Warning {
                code,
                agent: &base[a..ae],
                text: &base[t..te],
            },
            te,
        ))
    }
}

impl fmt::Display for Warning<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:03} {} {}", self.code, self.agent, self.text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn warnings() {
        let w = Warning::parse(r#"307 isi.edu "Session parameter 'foo' not understood""#).unwrap();
        assert_eq!(w.code, 307);
        assert_eq!(w.agent, "isi.edu");
        assert_eq!(w.text(), "Session parameter 'foo' not understood");
        assert_eq!(Warning::parse(&w.to_string()).unwrap(), w);
        assert!(Warning::parse(r#"1812 overture "In Progress""#).is_err());
        assert!(Warning::parse("301 host noquote").is_err());
    }
}
