//! Byte ranges into a message head, stored as two `u16`s: a head is at most
//! [`MAX_HEAD`] bytes (the body is kept apart and may be larger).
//!
//! Typed header values keep spans into the text they were parsed from instead of
//! copies, so a message can cache them and hand out `&str` views for free.

/// The largest head (or standalone header value) that spans can address.
pub(crate) const MAX_HEAD: usize = u16::MAX as usize;

/// A byte range `start..end` into some base text.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub(crate) struct Span {
    pub(crate) start: u16,
    pub(crate) end: u16,
}

impl Span {
    /// Makes a span; every text parsed is at most [`MAX_HEAD`] bytes long.
    #[inline]
    pub(crate) fn new(start: usize, end: usize) -> Span {
        debug_assert!(start <= end && end <= MAX_HEAD);
        Span {
            start: start as u16,
            end: end as u16,
        }
    }

    #[inline]
    pub(crate) fn start(self) -> usize {
        self.start as usize
    }

    #[inline]
    pub(crate) fn end(self) -> usize {
        self.end as usize
    }

    /// The text of this span in `base`.
    #[inline]
    pub(crate) fn of(self, base: &str) -> &str {
        &base[self.start()..self.end()]
    }
}
