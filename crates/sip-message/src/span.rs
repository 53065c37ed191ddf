//! Byte ranges into a message head, stored as two `u32`s.
//!
//! Typed header values keep spans into the text they were parsed from instead of
//! copies, so a message can cache them and hand out `&str` views for free.

/// A byte range `start..end` into some base text.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub(crate) struct Span {
    pub(crate) start: u32,
    pub(crate) end: u32,
}

impl Span {
    /// Makes a span; positions are bounded by the message size limit, which is below 4 GiB.
    #[inline]
    pub(crate) fn new(start: usize, end: usize) -> Span {
        debug_assert!(start <= end);
        Span {
            start: start as u32,
            end: end as u32,
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
