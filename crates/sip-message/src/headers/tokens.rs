//! Token lists (Allow, Supported, Require, Unsupported, Proxy-Require, Allow-Events,
//! Content-Encoding), Call-ID, and free text (User-Agent, Server, Subject).

use std::fmt;

use crate::error::{SyntaxError, SyntaxErrorKind};
use crate::headers::TypedHeader;
use crate::lex::{self, WORD};

/// One element of a comma-separated token list: an option tag, a method name, an
/// event package or an encoding.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Token<'a>(pub &'a str);

impl<'a> Token<'a> {
    /// The token text.
    pub fn as_str(&self) -> &'a str {
        self.0
    }
}

impl<'a> TypedHeader<'a> for Token<'a> {
    const LIST: bool = true;

    fn parse_at(base: &'a str, pos: usize, end: usize) -> Result<(Self, usize), SyntaxError> {
        let s = base.as_bytes();
        let p = lex::skip_lws(s, pos, end);
        let e = lex::token(s, p, end).ok_or(SyntaxError::expected("token", p))?;
        Ok((Token(&base[p..e]), e))
    }
}

impl fmt::Display for Token<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }
}

/// A Call-ID: `word [ "@" word ]`, compared byte for byte.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct CallId<'a>(pub &'a str);

impl<'a> CallId<'a> {
    /// The Call-ID text.
    pub fn as_str(&self) -> &'a str {
        self.0
    }
}

/// Checks `word ["@" word]` at `pos`; returns the end.
pub(crate) fn parse_call_id(s: &[u8], pos: usize, end: usize) -> Result<usize, SyntaxError> {
    let e = lex::skip_class(s, pos, end, &WORD);
    if e == pos {
        return Err(SyntaxError::expected("Call-ID word", pos));
    }
    if e < end && s[e] == b'@' {
        let e2 = lex::skip_class(s, e + 1, end, &WORD);
        if e2 == e + 1 {
            return Err(SyntaxError::expected("word after '@'", e + 1));
        }
        return Ok(e2);
    }
    Ok(e)
}

impl<'a> TypedHeader<'a> for CallId<'a> {
    const LIST: bool = false;

    fn parse_at(base: &'a str, pos: usize, end: usize) -> Result<(Self, usize), SyntaxError> {
        let p = lex::skip_lws(base.as_bytes(), pos, end);
        let e = parse_call_id(base.as_bytes(), p, end)?;
        Ok((CallId(&base[p..e]), e))
    }
}

impl fmt::Display for CallId<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }
}

/// Free text (User-Agent, Server, Subject, Organization): the whole value, trimmed.
/// Control characters other than HTAB are refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Text<'a>(pub &'a str);

impl<'a> Text<'a> {
    /// The text.
    pub fn as_str(&self) -> &'a str {
        self.0
    }
}

impl<'a> TypedHeader<'a> for Text<'a> {
    const LIST: bool = false;

    fn parse_at(base: &'a str, pos: usize, end: usize) -> Result<(Self, usize), SyntaxError> {
        let span = lex::trim(base.as_bytes(), pos, end);
        let text = span.of(base);
        if let Some(i) = text
            .bytes()
            .position(|b| (b < 0x20 && b != b'\t') || b == 0x7f)
        {
            return Err(SyntaxError::new(SyntaxErrorKind::BadChar, span.start() + i));
        }
        Ok((Text(text), end))
    }
}

impl fmt::Display for Text<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_lists() {
        let v: Vec<_> = Token::parse_list("INVITE, ACK ,BYE,\r\n CANCEL")
            .map(|t| t.unwrap().0)
            .collect();
        assert_eq!(v, ["INVITE", "ACK", "BYE", "CANCEL"]);
        assert!(Token::parse_list("a,,b").any(|r| r.is_err()));
    }

    #[test]
    fn call_ids() {
        assert!(CallId::parse("intmeth.word%ZK-!.*_+'@word`~)(><:\\/\"][?}{").is_ok());
        assert!(CallId::parse("a@").is_err());
        assert!(CallId::parse("a b").is_err());
        assert!(CallId::parse("").is_err());
    }

    #[test]
    fn text() {
        assert_eq!(
            Text::parse("  Grandstream GXP2170 1.0  ").unwrap().0,
            "Grandstream GXP2170 1.0"
        );
        assert!(Text::parse("a\0b").is_err());
    }
}
