//! Multipart bodies (RFC 5621, RFC 2046 §5.1): splitting a body at its boundary into
//! parts, each with its own headers and a body that shares the message's buffer.
//!
//! Framing uses the boundary delimiters only, so binary parts with NUL bytes or bare
//! LFs are carried intact. Nested multiparts are opened by [`leaves`] down to a depth
//! limit, so a body nested a hundred deep is refused rather than recursed into.

use bytes::Bytes;

use crate::headers::{MediaType, TypedHeader};

/// What is wrong with a multipart body.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum MultipartError {
    /// The Content-Type has no usable `boundary` parameter.
    #[error("no boundary parameter")]
    NoBoundary,
    /// The boundary never appears in the body.
    #[error("boundary not found")]
    BoundaryNotFound,
    /// The closing delimiter (`--boundary--`) is missing.
    #[error("closing delimiter missing")]
    Unterminated,
    /// A part's header section is malformed (a line without a colon).
    #[error("malformed part header in part {0}")]
    BadPartHeader(usize),
    /// Multiparts nested deeper than allowed.
    #[error("multipart nested deeper than {0}")]
    TooDeep(usize),
    /// More parts than allowed.
    #[error("more than {0} parts")]
    TooManyParts(usize),
}

/// One part of a multipart body.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Part {
    /// The part's headers as `(name, value)`, in order.
    pub headers: Vec<(String, String)>,
    /// The part's body (shares the message's buffer).
    pub body: Bytes,
}

impl Part {
    /// The value of a header of this part (case-insensitive name).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The part's Content-Type (RFC 2046 default: `text/plain`).
    pub fn content_type(&self) -> &str {
        self.header("Content-Type").unwrap_or("text/plain")
    }
}

/// The most parts one multipart body may have.
pub const MAX_PARTS: usize = 1024;

/// Splits a multipart body at `boundary`.
pub fn parse(body: &Bytes, boundary: &str) -> Result<Vec<Part>, MultipartError> {
    if boundary.is_empty() || boundary.len() > 70 {
        return Err(MultipartError::NoBoundary);
    }
    let delim = format!("--{boundary}");
    let finder = memchr::memmem::Finder::new(delim.as_bytes());
    let b: &[u8] = body;
    // The first delimiter: at the very start or after a line break (the preamble is
    // ignored).
    let mut pos = finder
        .find_iter(b)
        .find(|&p| p == 0 || b[p - 1] == b'\n')
        .ok_or(MultipartError::BoundaryNotFound)?;
    let mut parts = Vec::new();
    loop {
        let after = pos + delim.len();
        if b[after..].starts_with(b"--") {
            return Ok(parts);
        }
        // Transport padding, then the line break ending the delimiter line.
        let mut p = after;
        while p < b.len() && (b[p] == b' ' || b[p] == b'\t') {
            p += 1;
        }
        if b[p..].starts_with(b"\r\n") {
            p += 2;
        } else if b[p..].starts_with(b"\n") {
            p += 1;
        } else {
            return Err(MultipartError::Unterminated);
        }
        // The next delimiter, which must start a line; the line break before it
        // belongs to the delimiter.
        let next = finder
            .find_iter(&b[p..])
            .map(|o| p + o)
            .find(|&q| q > 0 && b[q - 1] == b'\n')
            .ok_or(MultipartError::Unterminated)?;
        let end = if next >= 2 && b[next - 2] == b'\r' {
            next - 2
        } else {
            next - 1
        };
        let end = end.max(p);
        if parts.len() == MAX_PARTS {
            return Err(MultipartError::TooManyParts(MAX_PARTS));
        }
        parts.push(split_part(body, p, end, parts.len())?);
        pos = next;
    }
}

fn split_part(
    body: &Bytes,
    start: usize,
    end: usize,
    index: usize,
) -> Result<Part, MultipartError> {
    let b = &body[start..end];
    // Headers end at the first empty line; a part that starts with one has none.
    let (head_len, body_start) = if b.starts_with(b"\r\n") {
        (0, 2)
    } else if b.starts_with(b"\n") {
        (0, 1)
    } else if let Some(i) = memchr::memmem::find(b, b"\r\n\r\n") {
        (i, i + 4)
    } else if let Some(i) = memchr::memmem::find(b, b"\n\n") {
        (i, i + 2)
    } else {
        (b.len(), b.len())
    };
    let head =
        std::str::from_utf8(&b[..head_len]).map_err(|_| MultipartError::BadPartHeader(index))?;
    let mut headers: Vec<(String, String)> = Vec::new();
    for line in head.split('\n').map(|l| l.trim_end_matches('\r')) {
        if line.is_empty() {
            continue;
        }
        if line.starts_with([' ', '\t']) {
            match headers.last_mut() {
                Some((_, v)) => {
                    v.push(' ');
                    v.push_str(line.trim());
                }
                None => return Err(MultipartError::BadPartHeader(index)),
            }
            continue;
        }
        let (n, v) = line
            .split_once(':')
            .ok_or(MultipartError::BadPartHeader(index))?;
        headers.push((n.trim().to_string(), v.trim().to_string()));
    }
    Ok(Part {
        headers,
        body: body.slice(start + body_start.min(b.len())..end),
    })
}

/// The non-multipart parts of a body of type `content_type`, opening nested multiparts
/// depth-first down to `max_depth` levels. A body that is not multipart is one leaf.
pub fn leaves(
    body: &Bytes,
    content_type: &str,
    max_depth: usize,
) -> Result<Vec<Part>, MultipartError> {
    let mut out = Vec::new();
    walk(body, content_type, max_depth, 0, &mut out)?;
    Ok(out)
}

fn walk(
    body: &Bytes,
    content_type: &str,
    max_depth: usize,
    depth: usize,
    out: &mut Vec<Part>,
) -> Result<(), MultipartError> {
    let mt = MediaType::parse(content_type).ok();
    match mt {
        Some(m) if m.is_multipart() => {
            if depth >= max_depth {
                return Err(MultipartError::TooDeep(max_depth));
            }
            let boundary = m.boundary().ok_or(MultipartError::NoBoundary)?;
            for part in parse(body, &boundary)? {
                let ct = part.content_type().to_string();
                if MediaType::parse(&ct).is_ok_and(|m| m.is_multipart()) {
                    walk(&part.body, &ct, max_depth, depth + 1, out)?;
                } else {
                    out.push(part);
                }
                if out.len() > MAX_PARTS {
                    return Err(MultipartError::TooManyParts(MAX_PARTS));
                }
            }
            Ok(())
        }
        _ => {
            out.push(Part {
                headers: vec![("Content-Type".to_string(), content_type.to_string())],
                body: body.clone(),
            });
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BODY: &str = "preamble\r\n--b1\r\nContent-Type: application/sdp\r\n\r\nv=0\r\n\r\n--b1\r\nContent-Type: application/octet-stream\r\n\r\nbin\0\nary\r\n--b1--\r\nepilogue";

    #[test]
    fn two_parts() {
        let body = Bytes::from_static(BODY.as_bytes());
        let parts = parse(&body, "b1").unwrap();
        assert_eq!(parts.len(), 2);
        assert_eq!(parts[0].content_type(), "application/sdp");
        assert_eq!(&parts[0].body[..], b"v=0\r\n");
        assert_eq!(&parts[1].body[..], b"bin\0\nary");
    }

    #[test]
    fn errors() {
        let body = Bytes::from_static(BODY.as_bytes());
        assert_eq!(parse(&body, "nope"), Err(MultipartError::BoundaryNotFound));
        let open = Bytes::from_static(b"--b1\r\n\r\nx\r\n");
        assert_eq!(parse(&open, "b1"), Err(MultipartError::Unterminated));
    }

    #[test]
    fn nesting_is_bounded() {
        let mut body = "leaf".to_string();
        let mut ct = "text/plain".to_string();
        for i in 0..100 {
            body = format!("--x{i}\r\nContent-Type: {ct}\r\n\r\n{body}\r\n--x{i}--\r\n");
            ct = format!("multipart/mixed;boundary=x{i}");
        }
        let body = Bytes::from(body);
        assert_eq!(leaves(&body, &ct, 8), Err(MultipartError::TooDeep(8)));
        let leaves = leaves(&body, &ct, 200).unwrap();
        assert_eq!(leaves.len(), 1);
        assert_eq!(&leaves[0].body[..], b"leaf");
    }
}
