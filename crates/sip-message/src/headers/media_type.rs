//! Media types (Content-Type, Accept): `type/subtype;param=value`.

use std::borrow::Cow;
use std::fmt;

use crate::error::SyntaxError;
use crate::headers::TypedHeader;
use crate::lex;
use crate::params::{Params, parse_header_params};

/// A media type or media range, as in Content-Type and Accept.
#[derive(Clone, Copy)]
pub struct MediaType<'a> {
    /// The top-level type (`application`, `multipart`, `*`).
    pub top: &'a str,
    /// The subtype (`sdp`, `mixed`, `*`).
    pub sub: &'a str,
    params: &'a str,
}

impl<'a> MediaType<'a> {
    /// The parameters (`;boundary=...`, `;charset=...`, `;q=0.5`).
    pub fn params(&self) -> Params<'a> {
        Params::new(self.params)
    }

    /// One parameter, unquoted.
    pub fn param(&self, name: &str) -> Option<Cow<'a, str>> {
        self.params().get(name).flatten().map(lex::unquote)
    }

    /// Whether this is `top/sub`, case-insensitively.
    pub fn is(&self, top: &str, sub: &str) -> bool {
        self.top.eq_ignore_ascii_case(top) && self.sub.eq_ignore_ascii_case(sub)
    }

    /// Whether this is `application/sdp`.
    pub fn is_sdp(&self) -> bool {
        self.is("application", "sdp")
    }

    /// Whether the top-level type is `multipart`.
    pub fn is_multipart(&self) -> bool {
        self.top.eq_ignore_ascii_case("multipart")
    }

    /// The multipart `boundary` parameter.
    pub fn boundary(&self) -> Option<Cow<'a, str>> {
        self.param("boundary")
    }

    /// Whether this media range (from Accept) admits `top/sub`.
    pub fn accepts(&self, top: &str, sub: &str) -> bool {
        (self.top == "*" || self.top.eq_ignore_ascii_case(top))
            && (self.sub == "*" || self.sub.eq_ignore_ascii_case(sub))
    }
}

impl PartialEq for MediaType<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.is(other.top, other.sub) && self.params().eq(other.params())
    }
}

impl fmt::Debug for MediaType<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "MediaType({self})")
    }
}

impl fmt::Display for MediaType<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.top, self.sub)?;
        for p in self.params() {
            write!(f, ";{}", p.name)?;
            if let Some(v) = p.value {
                write!(f, "={v}")?;
            }
        }
        Ok(())
    }
}

impl<'a> TypedHeader<'a> for MediaType<'a> {
    const LIST: bool = true;

    fn parse_at(base: &'a str, pos: usize, end: usize) -> Result<(Self, usize), SyntaxError> {
        let s = base.as_bytes();
        let p = lex::skip_lws(s, pos, end);
        let te = lex::token(s, p, end).ok_or(SyntaxError::expected("media type", p))?;
        let sp = lex::sep(s, te, end, b'/').ok_or(SyntaxError::expected("'/'", te))?;
        let se = lex::token(s, sp, end).ok_or(SyntaxError::expected("media subtype", sp))?;
        let (params, e) = parse_header_params(s, se, end, |_, _| Ok(()))?;
        Ok((
            MediaType {
                top: &base[p..te],
                sub: &base[sp..se],
                params: params.of(base),
            },
            e,
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_types() {
        let m = MediaType::parse(r#"multipart/signed;protocol="application/pkcs7-signature";micalg=sha1;boundary=boundary42"#).unwrap();
        assert!(m.is_multipart());
        assert_eq!(m.boundary().as_deref(), Some("boundary42"));
        assert_eq!(
            m.param("protocol").as_deref(),
            Some("application/pkcs7-signature")
        );
        assert!(MediaType::parse("Application/SDP").unwrap().is_sdp());
        assert!(MediaType::parse("application").is_err());
        let accept: Vec<_> = MediaType::parse_list("application/sdp;q=1, */*;q=0.1")
            .map(Result::unwrap)
            .collect();
        assert!(accept[1].accepts("text", "plain"));
        assert_eq!(MediaType::parse(&accept[0].to_string()).unwrap(), accept[0]);
    }
}
