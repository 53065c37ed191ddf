//! `;name=value` parameter lists, as found after URIs and in header values.
//!
//! Lists are validated once when their value is parsed; afterwards [`Params`] walks the
//! validated text lazily, so looking a parameter up allocates nothing.

use crate::error::{SyntaxError, SyntaxErrorKind};
use crate::lex::{self, GEN_VALUE, PARAMCHAR, TOKEN};
use crate::span::Span;

/// One parameter: a name and, unless it is a flag like `;lr`, a value as written
/// (quoted values keep their quotes; see [`crate::unquote`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Param<'a> {
    /// The parameter name as written.
    pub name: &'a str,
    /// The value as written, `None` for a flag parameter.
    pub value: Option<&'a str>,
}

/// An iterator over a validated parameter list (the text starting at the first `;`).
#[derive(Clone, Debug)]
pub struct Params<'a> {
    text: &'a str,
    pos: usize,
}

impl<'a> Params<'a> {
    pub(crate) fn new(text: &'a str) -> Params<'a> {
        Params { text, pos: 0 }
    }

    /// The parameter list as written, from its first `;` (empty when there is none).
    pub fn as_str(&self) -> &'a str {
        self.text
    }

    /// Finds a parameter by name, case-insensitively. `Some(None)` for a flag.
    pub fn get(&self, name: &str) -> Option<Option<&'a str>> {
        self.clone()
            .find(|p| p.name.eq_ignore_ascii_case(name))
            .map(|p| p.value)
    }

    /// Whether a parameter of that name is present (flag or with a value).
    pub fn contains(&self, name: &str) -> bool {
        self.get(name).is_some()
    }

    /// Whether the list is empty.
    pub fn is_empty(&self) -> bool {
        self.text.is_empty()
    }
}

fn is_name_char(b: u8) -> bool {
    TOKEN[b as usize] || PARAMCHAR[b as usize]
}

fn is_value_char(b: u8) -> bool {
    GEN_VALUE[b as usize] || PARAMCHAR[b as usize]
}

impl<'a> Iterator for Params<'a> {
    type Item = Param<'a>;

    fn next(&mut self) -> Option<Param<'a>> {
        let s = self.text.as_bytes();
        let end = s.len();
        let p = lex::sep(s, self.pos, end, b';')?;
        let mut q = p;
        while q < end && is_name_char(s[q]) {
            q += 1;
        }
        let name = &self.text[p..q];
        let mut value = None;
        if let Some(v) = lex::sep(s, q, end, b'=') {
            let ve = if v < end && s[v] == b'"' {
                lex::quoted_string(s, v, end).unwrap_or(end)
            } else {
                let mut e = v;
                while e < end && is_value_char(s[e]) {
                    e += 1;
                }
                e
            };
            value = Some(&self.text[v..ve]);
            q = ve;
        }
        self.pos = q;
        Some(Param { name, value })
    }
}

fn bad_escape(o: usize) -> SyntaxError {
    SyntaxError::new(SyntaxErrorKind::BadEscape, o)
}

/// Validates URI parameters at `pos`: `*( ";" pname [ "=" pvalue ] )` with paramchar
/// and `%HH` escapes, no white space. Returns the span of the list (empty when there is
/// none) and the position after it.
#[inline(always)]
pub(crate) fn parse_uri_params(
    s: &[u8],
    pos: usize,
    end: usize,
) -> Result<(Span, usize), SyntaxError> {
    let mut p = pos;
    while p < end && s[p] == b';' {
        let n = p + 1;
        let ne = lex::skip_escaped(s, n, end, &PARAMCHAR).map_err(bad_escape)?;
        if ne == n {
            return Err(SyntaxError::expected("parameter name", n));
        }
        p = ne;
        if p < end && s[p] == b'=' {
            let v = p + 1;
            let ve = lex::skip_escaped(s, v, end, &PARAMCHAR).map_err(bad_escape)?;
            if ve == v {
                return Err(SyntaxError::expected("parameter value", v));
            }
            p = ve;
        }
    }
    Ok((Span::new(pos, p), p))
}

/// Validates header parameters at `pos` (which may hold white space, then `;`):
/// `*( SEMI token [ EQUAL ( token / host / quoted-string ) ] )` with LWS around `;` and
/// `=`. Returns the span of the list (from the first `;` to the end of the last
/// parameter, empty when there is none) and the position after it. Calls `each` with
/// every parameter's name and value spans so callers can check or keep the ones they know.
pub(crate) fn parse_header_params(
    s: &[u8],
    pos: usize,
    end: usize,
    mut each: impl FnMut(Span, Option<Span>) -> Result<(), SyntaxError>,
) -> Result<(Span, usize), SyntaxError> {
    let mut p = pos;
    let mut first = None;
    let mut last = pos;
    loop {
        let semi = lex::skip_lws(s, p, end);
        if semi >= end || s[semi] != b';' {
            break;
        }
        first.get_or_insert(semi);
        let n = lex::skip_lws(s, semi + 1, end);
        let ne = lex::skip_class(s, n, end, &TOKEN);
        if ne == n {
            return Err(SyntaxError::expected("parameter name", n));
        }
        last = ne;
        let mut value = None;
        if let Some(v) = lex::sep(s, ne, end, b'=') {
            let ve = if v < end && s[v] == b'"' {
                lex::quoted_string(s, v, end)
                    .map_err(|o| SyntaxError::new(SyntaxErrorKind::UnterminatedQuote, o))?
            } else {
                lex::skip_class(s, v, end, &GEN_VALUE)
            };
            if ve == v {
                return Err(SyntaxError::expected("parameter value", v));
            }
            value = Some(Span::new(v, ve));
            last = ve;
        }
        each(Span::new(n, ne), value)?;
        p = last;
    }
    let span = match first {
        Some(f) => Span::new(f, last),
        None => Span::new(pos, pos),
    };
    Ok((span, last))
}

/// A parameter value as the fast parameter parser hands it over: where it is, and
/// whether it is a token (the rest of [`GEN_VALUE`] being `:`, `[` and `]`).
#[derive(Clone, Copy, Debug)]
pub(crate) struct ParamValue {
    pub(crate) span: Span,
    pub(crate) is_token: bool,
}

/// The fast form of [`parse_header_params`] for the fast paths of Via and name-addr:
/// parameters with no white space around `;` and `=` and no quoted values. `each` gets
/// every name and value and says whether the parameter is acceptable. `None` when
/// anything else is met (or `each` refuses), so that the general parser decides;
/// otherwise the same list span and end as [`parse_header_params`] gives.
#[inline]
pub(crate) fn parse_header_params_fast(
    s: &[u8],
    pos: usize,
    end: usize,
    mut each: impl FnMut(&[u8], Option<ParamValue>) -> bool,
) -> Option<(Span, usize)> {
    // Reads past `end` as NUL, which no branch below accepts as part of anything.
    let at = |i: usize| if i < end { s[i] } else { 0 };
    let mut p = pos;
    let mut first = None;
    loop {
        match at(p) {
            b';' => {}
            b if lex::is_lws_byte(b) => return None,
            _ => break,
        }
        first.get_or_insert(p);
        let n = p + 1;
        let ne = lex::skip_class(s, n, end, &TOKEN);
        if ne == n {
            return None;
        }
        let mut value = None;
        p = ne;
        match at(ne) {
            b'=' => {
                let v = ne + 1;
                // Token characters first: most values are tokens, and the callback
                // learns whether this one is without scanning it again. A quote or white
                // space after `=` ends the value empty, which hands over below.
                let te = lex::skip_class(s, v, end, &TOKEN);
                let ve = if matches!(at(te), b':' | b'[' | b']') {
                    lex::skip_class(s, te, end, &GEN_VALUE)
                } else {
                    te
                };
                if ve == v {
                    return None;
                }
                value = Some(ParamValue {
                    span: Span::new(v, ve),
                    is_token: ve == te,
                });
                p = ve;
            }
            b if lex::is_lws_byte(b) => return None,
            _ => {}
        }
        if !each(&s[n..ne], value) {
            return None;
        }
    }
    let span = match first {
        Some(f) => Span::new(f, p),
        None => Span::new(pos, pos),
    };
    Some((span, p))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header_params(s: &str) -> Result<Vec<(String, Option<String>)>, SyntaxError> {
        let b = s.as_bytes();
        let (span, end) = parse_header_params(b, 0, b.len(), |_, _| Ok(()))?;
        if end != b.len() {
            return Err(SyntaxError::new(SyntaxErrorKind::TrailingData, end));
        }
        Ok(Params::new(span.of(s))
            .map(|p| (p.name.to_string(), p.value.map(str::to_string)))
            .collect())
    }

    #[test]
    fn header_params_with_lws() {
        let v = header_params(" ;   tag    = 1918181833n ;lr; q=0.5").unwrap();
        assert_eq!(
            v,
            vec![
                ("tag".into(), Some("1918181833n".into())),
                ("lr".into(), None),
                ("q".into(), Some("0.5".into()))
            ]
        );
        let v = header_params(r#";x="a;b\"c";received=2001:db8::9:255"#).unwrap();
        assert_eq!(v[0].1.as_deref(), Some(r#""a;b\"c""#));
        assert_eq!(v[1].1.as_deref(), Some("2001:db8::9:255"));
    }

    #[test]
    fn empty_params_rejected() {
        assert!(header_params(";;").is_err());
        assert!(header_params(";a=").is_err());
        assert!(header_params(r#";a="open"#).is_err());
    }

    #[test]
    fn lookup_is_case_insensitive() {
        let p = Params::new(";Branch=z9hG4bK1;rport");
        assert_eq!(p.get("branch"), Some(Some("z9hG4bK1")));
        assert_eq!(p.get("RPORT"), Some(None));
        assert_eq!(p.get("x"), None);
    }
}
