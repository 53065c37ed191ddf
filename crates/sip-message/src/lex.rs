//! Character classes and small scanners shared by every parser in the crate.
//!
//! Scanners take a byte slice and a position and return the position after what
//! they matched; they never allocate. Positions are `usize` offsets into the slice
//! given, so the same scanner serves a whole message head and a lone header value.

use crate::header_name::HeaderName;
use crate::span::Span;

const fn table(chars: &[u8], alnum: bool) -> [bool; 256] {
    let mut t = [false; 256];
    if alnum {
        let mut c = b'0';
        while c <= b'9' {
            t[c as usize] = true;
            c += 1;
        }
        c = b'a';
        while c <= b'z' {
            t[c as usize] = true;
            t[(c - 32) as usize] = true;
            c += 1;
        }
    }
    let mut i = 0;
    while i < chars.len() {
        t[chars[i] as usize] = true;
        i += 1;
    }
    t
}

/// RFC 3261 `token`: alphanum / "-" / "." / "!" / "%" / "*" / "_" / "+" / "`" / "'" / "~".
pub(crate) static TOKEN: [bool; 256] = table(b"-.!%*_+`'~", true);
/// RFC 3261 `word` (Call-ID): token chars plus `()<>:\"/[]?{}`.
pub(crate) static WORD: [bool; 256] = table(b"-.!%*_+`'~()<>:\\\"/[]?{}", true);
/// Characters of a SIP URI user part (unreserved / user-unreserved; escapes apart).
pub(crate) static USER: [bool; 256] = table(b"-_.!~*'()&=+$,;?/", true);
/// Characters of a SIP URI password (`%` checked apart).
pub(crate) static PASSWORD: [bool; 256] = table(b"-_.!~*'()&=+$,", true);
/// `paramchar` of URI parameters (`%` checked apart).
pub(crate) static PARAMCHAR: [bool; 256] = table(b"-_.!~*'()[]/:&+$", true);
/// `hname` / `hvalue` characters of URI headers (`%` checked apart).
pub(crate) static HNV: [bool; 256] = table(b"-_.!~*'()[]/?:+$", true);
/// Host name characters (liberal: underscore is accepted, as real networks use it).
pub(crate) static HOSTNAME: [bool; 256] = table(HOSTNAME_EXTRAS, true);
/// The characters of [`HOSTNAME`] besides letters and digits.
const HOSTNAME_EXTRAS: &[u8] = b"-._";
/// Characters of a generic parameter value that is not quoted: token plus host punctuation.
pub(crate) static GEN_VALUE: [bool; 256] = table(b"-.!%*_+`'~:[]", true);
/// Characters of an opaque absolute URI (RFC 3986 reserved + unreserved + `%`).
pub(crate) static URIC: [bool; 256] = table(b"-_.!~*'();/?:@&=+$,%[]#", true);
/// `scheme` characters after the first letter.
pub(crate) static SCHEME: [bool; 256] = table(b"+-.", true);

/// Whether `b` is SP or HTAB.
#[inline]
pub(crate) fn is_wsp(b: u8) -> bool {
    b == b' ' || b == b'\t'
}

/// Whether every byte is ASCII. Unlike `<[u8]>::is_ascii`, whose tail after the last
/// 64-byte block goes one byte at a time, only the last seven bytes or fewer go one at a
/// time here, so a message head of a few hundred bytes costs a few dozen instructions.
#[inline]
pub(crate) fn is_ascii(s: &[u8]) -> bool {
    // Sixty-four bytes per round on x86_64 (four loads or-ed together, one mask), then
    // sixteen, then the last sixteen bytes of the text, which cover the tail.
    #[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
    if let Some(last) = s.last_chunk::<16>() {
        let (blocks, rest) = s.as_chunks::<64>();
        let (chunks, _) = rest.as_chunks::<16>();
        return sse2::all_ascii(blocks, chunks, last);
    }
    const HIGH: u64 = 0x8080_8080_8080_8080;
    // An or-reduction over whole words, which the compiler vectorises; heads are short
    // enough that stopping early would not pay.
    let mut words = s.chunks_exact(8);
    let mut acc = 0u64;
    for w in &mut words {
        acc |= u64::from_le_bytes([w[0], w[1], w[2], w[3], w[4], w[5], w[6], w[7]]);
    }
    let tail = words.remainder().iter().fold(0u8, |a, &x| a | x);
    acc & HIGH == 0 && tail < 0x80
}

/// Finds the first byte below 0x20 (a control character, CR, LF or HTAB) in
/// `s[i..end]`, sixteen bytes at a time; returns `end` when there is none.
#[inline]
pub(crate) fn find_ctl(s: &[u8], i: usize, end: usize) -> usize {
    find_below::<0x20>(s, i, end)
}

/// Finds the first byte that is SP or below (white space or a control byte) in
/// `s[i..end]`; returns `end` when there is none.
#[inline]
pub(crate) fn find_space_or_ctl(s: &[u8], i: usize, end: usize) -> usize {
    find_below::<0x21>(s, i, end)
}

/// Finds the first byte below `N` (at most 0x80) in `s[i..end]`, sixteen bytes at a
/// time on x86_64 and eight elsewhere (and for the tail); returns `end` when there is
/// none.
#[inline]
fn find_below<const N: u8>(s: &[u8], i: usize, end: usize) -> usize {
    #[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
    let i = {
        let mut i = i;
        // Sixteen bytes per round while they lie within `end`: one comparison per
        // round against the last start that has sixteen bytes.
        let text = &s[..end];
        if let Some(last) = end.checked_sub(16) {
            while i <= last {
                let Some(c) = text[i..].first_chunk::<16>() else {
                    break;
                };
                let m = sse2::at_most_mask(c, N - 1);
                if m != 0 {
                    return i + m.trailing_zeros() as usize;
                }
                i += 16;
            }
        }
        i
    };
    find_below_words::<N>(s, i, end)
}

/// The header name at `pos` the quick way: when its colon lies within the next
/// sixteen bytes, nothing before it is white space or a control byte, and the name is
/// one we know (which makes it a token), the name and where its colon is. `None`
/// sends the caller the long way.
#[inline]
pub(crate) fn known_name_colon(s: &[u8], pos: usize) -> Option<(usize, HeaderName)> {
    #[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
    {
        let c = s.get(pos..)?.first_chunk::<16>()?;
        let (colons, low) = sse2::colon_and_low_masks(c);
        let k = colons.trailing_zeros();
        if colons == 0 || low & ((1 << k) - 1) != 0 {
            return None;
        }
        let name = HeaderName::from_chunk(c, k as usize);
        (name != HeaderName::Other).then_some((pos + k as usize, name))
    }
    #[cfg(not(all(target_arch = "x86_64", target_feature = "sse2")))]
    {
        let _ = (s, pos);
        None
    }
}

/// [`find_below`] eight bytes at a time: what other targets use, and the tail of a
/// vectorised search.
#[inline]
fn find_below_words<const N: u8>(s: &[u8], i: usize, end: usize) -> usize {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let hay = &s[i..end];
    let mut chunks = hay.chunks_exact(8);
    let mut off = i;
    for c in &mut chunks {
        let x = u64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]);
        // Bytes below N (the classic "has less than" test, for N up to 0x80; bytes >=
        // 0x80 never match because their high bit is set in x). The lowest flagged
        // byte is exact: a borrow only disturbs the bytes above it.
        let hits = x.wrapping_sub(ONES * u64::from(N)) & !x & HIGH;
        if hits != 0 {
            return off + (hits.trailing_zeros() / 8) as usize;
        }
        off += 8;
    }
    match chunks.remainder().iter().position(|&b| b < N) {
        Some(k) => off + k,
        None => end,
    }
}

/// Finds the first `"` or `\` in `s`, eight bytes at a time: the quoted strings of
/// SIP (display names, digest parameters) are short, so this costs less than a
/// vectorised search's set-up. Used to find the end of a quoted string and to tell
/// where [`write_quoted`] must escape.
#[inline]
pub(crate) fn find_quote_or_backslash(s: &[u8]) -> Option<usize> {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    // Zero bytes of `v`; the lowest flagged byte is exact (a borrow only disturbs the
    // bytes above a real zero), so the lowest of the two masks is the first match.
    let zero_bytes = |v: u64| v.wrapping_sub(ONES) & !v & HIGH;
    let mut chunks = s.chunks_exact(8);
    let mut off = 0;
    for c in &mut chunks {
        let x = u64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]);
        let hits =
            zero_bytes(x ^ (ONES * u64::from(b'"'))) | zero_bytes(x ^ (ONES * u64::from(b'\\')));
        if hits != 0 {
            return Some(off + (hits.trailing_zeros() / 8) as usize);
        }
        off += 8;
    }
    chunks
        .remainder()
        .iter()
        .position(|&b| b == b'"' || b == b'\\')
        .map(|k| off + k)
}

/// Finds the first `"` or `\` in `s[i..end]`, sixteen bytes at a time on x86_64 (reading
/// on past `end` where `s` has the bytes, and ignoring a match there); `None` when there
/// is none. What quoted strings are scanned with.
#[inline]
pub(crate) fn find_quote_or_backslash_in(s: &[u8], i: usize, end: usize) -> Option<usize> {
    #[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
    let i = match sse2::first_hit(s, i, end, sse2::quote_or_backslash_mask) {
        Ok(q) => return (q < end).then_some(q),
        Err(i) => i,
    };
    find_quote_or_backslash(&s[i..end]).map(|o| i + o)
}

/// Whether a byte could start linear white space (SP, HTAB, or a line break that a
/// fold continues): where the fast paths hand over to the general parsers.
#[inline(always)]
pub(crate) fn is_lws_byte(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\r' | b'\n')
}

/// Skips linear white space: SP, HTAB and folded line breaks (CRLF or LF followed by SP/HTAB).
#[inline(always)]
pub(crate) fn skip_lws(s: &[u8], mut pos: usize, end: usize) -> usize {
    if pos < end && s[pos] > b' ' {
        return pos;
    }
    while pos < end {
        match s[pos] {
            b' ' | b'\t' => pos += 1,
            b'\r' if pos + 2 < end && s[pos + 1] == b'\n' && is_wsp(s[pos + 2]) => pos += 3,
            b'\n' if pos + 1 < end && is_wsp(s[pos + 1]) => pos += 2,
            _ => break,
        }
    }
    pos
}

/// Skips host name characters ([`HOSTNAME`]): sixteen bytes per round with SSE2 where
/// the buffer has them (reading past `end` within `s` is harmless: the answer is capped
/// at `end`), then the table.
#[inline(always)]
pub(crate) fn skip_hostname(s: &[u8], pos: usize, end: usize) -> usize {
    #[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
    let pos = match sse2::first_hit(s, pos, end, sse2::outside_hostname) {
        Ok(p) => return p.min(end),
        Err(p) => p,
    };
    skip_class(s, pos, end, &HOSTNAME)
}

/// SSE2 versions of the hottest scans (every x86_64 CPU has SSE2), through
/// `safe_arch`'s safe wrappers of the intrinsics; other targets use the scalar code.
#[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
mod sse2 {
    use safe_arch::{
        add_i8_m128i, bitor_m128i, cmp_eq_mask_i8_m128i, cmp_lt_mask_i8_m128i,
        load_unaligned_m128i, max_u8_m128i, move_mask_i8_m128i, set_splat_i8_m128i,
    };

    /// Runs `mask` over `s` sixteen bytes at a time from `pos` while `pos < end`,
    /// reading on past `end` where `s` has the bytes (the caller decides what a hit
    /// there means): `Ok` with the first flagged position, or `Err` with where the
    /// chunks ran out (at most `end`) for a scalar search to go on from.
    #[inline(always)]
    pub(super) fn first_hit(
        s: &[u8],
        mut pos: usize,
        end: usize,
        mask: impl Fn(&[u8; 16]) -> u32,
    ) -> Result<usize, usize> {
        while pos < end {
            let Some(c) = s.get(pos..).and_then(|r| r.first_chunk::<16>()) else {
                break;
            };
            let m = mask(c);
            if m != 0 {
                return Ok(pos + m.trailing_zeros() as usize);
            }
            pos += 16;
        }
        Err(pos.min(end))
    }

    /// Whether every byte of the blocks, the chunks and `last` is below 0x80.
    #[inline(always)]
    pub(super) fn all_ascii(blocks: &[[u8; 64]], chunks: &[[u8; 16]], last: &[u8; 16]) -> bool {
        let mut acc = load_unaligned_m128i(last);
        for b in blocks {
            let (c, _) = b.as_chunks::<16>();
            let lo = bitor_m128i(load_unaligned_m128i(&c[0]), load_unaligned_m128i(&c[1]));
            let hi = bitor_m128i(load_unaligned_m128i(&c[2]), load_unaligned_m128i(&c[3]));
            acc = bitor_m128i(acc, bitor_m128i(lo, hi));
        }
        for c in chunks {
            acc = bitor_m128i(acc, load_unaligned_m128i(c));
        }
        move_mask_i8_m128i(acc) == 0
    }

    /// Bit k set when byte k of the chunk is `"` or `\`.
    #[inline(always)]
    pub(super) fn quote_or_backslash_mask(c: &[u8; 16]) -> u32 {
        let v = load_unaligned_m128i(c);
        let quote = cmp_eq_mask_i8_m128i(v, set_splat_i8_m128i(b'"' as i8));
        let backslash = cmp_eq_mask_i8_m128i(v, set_splat_i8_m128i(b'\\' as i8));
        move_mask_i8_m128i(bitor_m128i(quote, backslash)) as u32
    }

    /// Bit k set when byte k of the chunk is at most `lim`.
    #[inline(always)]
    pub(super) fn at_most_mask(c: &[u8; 16], lim: u8) -> u32 {
        let v = load_unaligned_m128i(c);
        let lim = set_splat_i8_m128i(lim as i8);
        // max(v, lim) == lim exactly when v <= lim (unsigned).
        move_mask_i8_m128i(cmp_eq_mask_i8_m128i(max_u8_m128i(v, lim), lim)) as u32
    }

    /// Bit k of the first mask set when byte k of the chunk is `:`, of the second when
    /// it is SP or below.
    #[inline(always)]
    pub(super) fn colon_and_low_masks(c: &[u8; 16]) -> (u32, u32) {
        let v = load_unaligned_m128i(c);
        let colons = move_mask_i8_m128i(cmp_eq_mask_i8_m128i(v, set_splat_i8_m128i(b':' as i8)));
        (colons as u32, at_most_mask(c, b' '))
    }

    /// Bit k set when byte k of the chunk is not a host name character (letter, digit,
    /// `-`, `.`, `_`). Each range is one wrapping add that moves it to the bottom of the
    /// signed range and one signed compare; `-` and `.` are neighbours.
    #[inline(always)]
    pub(super) fn outside_hostname(c: &[u8; 16]) -> u32 {
        let v = load_unaligned_m128i(c);
        let splat = |b: u8| set_splat_i8_m128i(b as i8);
        // Bytes in lo..lo+n land on -128..-128+n after adding 0x80 - lo.
        let in_range = |x, lo: u8, n: u8| {
            cmp_lt_mask_i8_m128i(
                add_i8_m128i(x, splat(0x80u8.wrapping_sub(lo))),
                splat(0x80u8.wrapping_add(n)),
            )
        };
        let alpha = in_range(bitor_m128i(v, splat(0x20)), b'a', 26);
        let digit = in_range(v, b'0', 10);
        let dash_dot = in_range(v, b'-', 2);
        let underscore = cmp_eq_mask_i8_m128i(v, splat(b'_'));
        let ok = bitor_m128i(bitor_m128i(alpha, digit), bitor_m128i(dash_dot, underscore));
        !(move_mask_i8_m128i(ok) as u32) & 0xffff
    }
}

/// Skips characters of a class; returns the first position not in it.
#[inline(always)]
pub(crate) fn skip_class(s: &[u8], mut pos: usize, end: usize, class: &[bool; 256]) -> usize {
    let s = &s[..end];
    // Four bytes per round with one bounds check: runs (branches, tags, Call-IDs, host
    // names) are long enough for it to pay.
    while let Some(c) = s.get(pos..pos + 4) {
        if !class[c[0] as usize] {
            return pos;
        }
        if !class[c[1] as usize] {
            return pos + 1;
        }
        if !class[c[2] as usize] {
            return pos + 2;
        }
        if !class[c[3] as usize] {
            return pos + 3;
        }
        pos += 4;
    }
    while pos < s.len() && class[s[pos] as usize] {
        pos += 1;
    }
    pos
}

/// Skips characters of a class and `%HH` escapes (the class must not contain `%`).
/// A `%` without two hex digits after it is an error at its position.
#[inline]
pub(crate) fn skip_escaped(
    s: &[u8],
    mut pos: usize,
    end: usize,
    class: &[bool; 256],
) -> Result<usize, usize> {
    loop {
        pos = skip_class(s, pos, end, class);
        if pos < end && s[pos] == b'%' {
            if pos + 2 < end && s[pos + 1].is_ascii_hexdigit() && s[pos + 2].is_ascii_hexdigit() {
                pos += 3;
                continue;
            }
            return Err(pos);
        }
        return Ok(pos);
    }
}

/// Scans a token; `None` when none starts at `pos`.
#[inline]
pub(crate) fn token(s: &[u8], pos: usize, end: usize) -> Option<usize> {
    let e = skip_class(s, pos, end, &TOKEN);
    (e > pos).then_some(e)
}

/// Scans a quoted string starting at the opening `"` at `pos`; returns the position after
/// the closing quote. Quoted pairs (`\` + any byte but CR/LF) are allowed; an
/// unterminated string or a backslash at the end gives `Err(position)`.
pub(crate) fn quoted_string(s: &[u8], pos: usize, end: usize) -> Result<usize, usize> {
    debug_assert!(pos < end && s[pos] == b'"');
    let mut i = pos + 1;
    while let Some(q) = find_quote_or_backslash_in(s, i, end) {
        if s[q] == b'"' {
            return Ok(q + 1);
        }
        if q + 1 >= end || s[q + 1] == b'\r' || s[q + 1] == b'\n' {
            return Err(q);
        }
        i = q + 2;
    }
    Err(pos)
}

/// Skips `SWS c SWS` and returns the position after it, or `None` when `c` is not next.
#[inline]
pub(crate) fn sep(s: &[u8], pos: usize, end: usize, c: u8) -> Option<usize> {
    let p = skip_lws(s, pos, end);
    if p < end && s[p] == c {
        Some(skip_lws(s, p + 1, end))
    } else {
        None
    }
}

/// Checks `%HH` escapes in `s[span]`: every `%` must be followed by two hex digits.
/// Returns the offset of the first bad `%`.
pub(crate) fn check_escapes(s: &[u8], start: usize, end: usize) -> Result<(), usize> {
    let mut i = start;
    while let Some(off) = memchr::memchr(b'%', &s[i..end]) {
        let p = i + off;
        if p + 2 >= end || !(s[p + 1].is_ascii_hexdigit() && s[p + 2].is_ascii_hexdigit()) {
            return Err(p);
        }
        i = p + 3;
    }
    Ok(())
}

/// Parses ASCII decimal digits into a `u64`, refusing overflow and empty input.
#[inline]
pub(crate) fn parse_u64(s: &[u8]) -> Option<u64> {
    if s.is_empty() {
        return None;
    }
    let mut v: u64 = 0;
    for &b in s {
        if !b.is_ascii_digit() {
            return None;
        }
        v = v.checked_mul(10)?.checked_add(u64::from(b - b'0'))?;
    }
    Some(v)
}

/// Reads the run of ASCII digits at `s[pos..end]` in one pass: its value (saturating
/// at `u64::MAX`, so an overflow shows as a value above any limit a caller checks) and
/// where it ends.
#[inline]
pub(crate) fn digits(s: &[u8], mut pos: usize, end: usize) -> (u64, usize) {
    let mut v: u64 = 0;
    while let Some(&b) = s[..end].get(pos) {
        let d = b.wrapping_sub(b'0');
        if d > 9 {
            break;
        }
        v = v.saturating_mul(10).saturating_add(u64::from(d));
        pos += 1;
    }
    (v, pos)
}

/// Parses ASCII decimal digits into a `u32` (leading zeros allowed), refusing overflow.
#[inline]
pub(crate) fn parse_u32(s: &[u8]) -> Option<u32> {
    parse_u64(s).and_then(|v| u32::try_from(v).ok())
}

/// Case-insensitive ASCII comparison.
#[inline]
pub(crate) fn eq_ic(a: &[u8], b: &[u8]) -> bool {
    a.eq_ignore_ascii_case(b)
}

/// [`eq_ic`] for a token (no byte at or below SP) against a lowercase name of letters,
/// digits, `-` and `.`: `| 0x20` lowercases the letters and cannot turn any other
/// token character into one of those, so one OR per byte does.
#[inline(always)]
pub(crate) fn eq_token_ic(token: &[u8], lower: &[u8]) -> bool {
    debug_assert!(
        lower
            .iter()
            .all(|&b| b | 0x20 == b && b != b'_' && b > b' ')
    );
    const CASE: u32 = 0x2020_2020;
    let n = lower.len();
    if token.len() != n {
        return false;
    }
    // Four to eight bytes: two (overlapping) words.
    if n <= 8
        && let (Some(t0), Some(l0), Some(t1), Some(l1)) = (
            token.first_chunk::<4>(),
            lower.first_chunk::<4>(),
            token.last_chunk::<4>(),
            lower.last_chunk::<4>(),
        )
    {
        return u32::from_le_bytes(*t0) | CASE == u32::from_le_bytes(*l0)
            && u32::from_le_bytes(*t1) | CASE == u32::from_le_bytes(*l1);
    }
    token.iter().zip(lower).all(|(&t, &l)| t | 0x20 == l)
}

/// Trims SP/HTAB/CR/LF at both ends of `s[start..end]`. The usual case (one space
/// after a header colon, nothing at the end) is inlined; the rest is not.
#[inline(always)]
pub(crate) fn trim(s: &[u8], mut start: usize, end: usize) -> Span {
    if start < end && s[start] == b' ' {
        start += 1;
    }
    if start < end && s[start] > b' ' && s[end - 1] > b' ' {
        return Span::new(start, end);
    }
    trim_slow(s, start, end)
}

#[inline(never)]
fn trim_slow(s: &[u8], mut start: usize, mut end: usize) -> Span {
    while start < end && matches!(s[start], b' ' | b'\t' | b'\r' | b'\n') {
        start += 1;
    }
    while end > start && matches!(s[end - 1], b' ' | b'\t' | b'\r' | b'\n') {
        end -= 1;
    }
    Span::new(start, end)
}

/// Removes the quotes and quoted-pair backslashes of a quoted string; other text is
/// returned as it is. Borrows when there is nothing to unescape.
pub fn unquote(s: &str) -> std::borrow::Cow<'_, str> {
    let b = s.as_bytes();
    if b.len() >= 2 && b[0] == b'"' && b[b.len() - 1] == b'"' {
        let inner = &s[1..s.len() - 1];
        // The quoted string was checked: a `"` inside it follows a backslash.
        if find_quote_or_backslash(inner.as_bytes()).is_none() {
            return std::borrow::Cow::Borrowed(inner);
        }
        let mut out = String::with_capacity(inner.len());
        let mut chars = inner.chars();
        while let Some(c) = chars.next() {
            if c == '\\' {
                if let Some(n) = chars.next() {
                    out.push(n);
                }
            } else {
                out.push(c);
            }
        }
        std::borrow::Cow::Owned(out)
    } else {
        std::borrow::Cow::Borrowed(s)
    }
}

/// Writes `s` as a quoted string (RFC 3261 `quoted-string`), escaping `"` and `\`:
/// the inverse of [`unquote`]. Runs without either byte are written whole.
pub fn write_quoted(f: &mut impl std::fmt::Write, s: &str) -> std::fmt::Result {
    f.write_char('"')?;
    let mut rest = s;
    while let Some(i) = find_quote_or_backslash(rest.as_bytes()) {
        f.write_str(&rest[..i])?;
        f.write_char('\\')?;
        f.write_str(&rest[i..i + 1])?;
        rest = &rest[i + 1..];
    }
    f.write_str(rest)?;
    f.write_char('"')
}

/// Decodes `%HH` escapes. Invalid escapes are kept as they are. Borrows when there is
/// no `%`. The result is bytes: `%00` and non-UTF-8 octets are legal in URIs.
pub fn percent_decode(s: &str) -> std::borrow::Cow<'_, [u8]> {
    let b = s.as_bytes();
    if !b.contains(&b'%') {
        return std::borrow::Cow::Borrowed(b);
    }
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%'
            && i + 2 < b.len()
            && let (Some(h), Some(l)) = (hex(b[i + 1]), hex(b[i + 2]))
        {
            out.push(h << 4 | l);
            i += 3;
            continue;
        }
        out.push(b[i]);
        i += 1;
    }
    std::borrow::Cow::Owned(out)
}

fn hex(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ascii_check_matches_std_at_every_length_and_position() {
        for len in 0..100 {
            let clean = vec![b'a'; len];
            assert!(is_ascii(&clean));
            for at in 0..len {
                let mut v = clean.clone();
                v[at] = 0x80 | (at as u8);
                assert!(!is_ascii(&v), "len {len}, at {at}");
                assert_eq!(is_ascii(&v), v.is_ascii());
            }
        }
    }

    #[test]
    fn escapes_checked() {
        let ok = b"a%41b%00";
        assert!(check_escapes(ok, 0, ok.len()).is_ok());
        for bad in [&b"a%"[..], b"a%4", b"%ZZ", b"x%4g"] {
            assert!(check_escapes(bad, 0, bad.len()).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn decode_does_not_recurse() {
        assert_eq!(&*percent_decode("v%61lue%25%34%31"), b"value%41");
        assert_eq!(&*percent_decode("null-%00-null"), b"null-\0-null");
        assert_eq!(&*percent_decode("end%4"), b"end%4");
    }

    #[test]
    fn quoted_strings() {
        let s = br#""a\"b" rest"#;
        assert_eq!(quoted_string(s, 0, s.len()), Ok(6));
        let s = br#""open"#;
        assert!(quoted_string(s, 0, s.len()).is_err());
        let s = br#""end\"#;
        assert!(quoted_string(s, 0, s.len()).is_err());
        assert_eq!(unquote(r#""J Rosenberg \\\"""#), "J Rosenberg \\\"");
    }

    #[test]
    fn quote_or_backslash_search_matches_a_byte_loop() {
        // Every length around the word size, each of the two bytes at every position,
        // with neighbours that differ from them by one bit or one borrow.
        for n in 0..34 {
            for at in 0..=n {
                for &c in b"\"\\" {
                    let mut v: Vec<u8> = (0..n)
                        .map(|k| [b'!', b'#', b'[', b']', 0x80, 0xa2][k % 6])
                        .collect();
                    if at < n {
                        v[at] = c;
                    }
                    let expected = v.iter().position(|&b| b == b'"' || b == b'\\');
                    assert_eq!(find_quote_or_backslash(&v), expected, "{v:?}");
                }
            }
        }
        assert_eq!(find_quote_or_backslash(b"abc\\def\"gh"), Some(3));
        assert_eq!(find_quote_or_backslash(b"abcdefgh\"\\"), Some(8));
        assert_eq!(find_quote_or_backslash(b""), None);
    }

    proptest::proptest! {
        /// Any bytes: the word-at-a-time search finds what a byte loop finds.
        #[test]
        fn quote_or_backslash_search_on_any_bytes(v in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..80)) {
            let expected = v.iter().position(|&b| b == b'"' || b == b'\\');
            proptest::prop_assert_eq!(find_quote_or_backslash(&v), expected);
        }
    }

    proptest::proptest! {
        /// The control-byte search and the host name scan (vectorised on x86_64) agree
        /// with byte loops for any bytes, start and end; bytes past `end` never count.
        #[test]
        fn vectorised_scans_agree_with_byte_loops(
            v in proptest::collection::vec(
                proptest::prop_oneof![
                    proptest::prelude::any::<u8>(),
                    proptest::sample::select(&b"aZ09-._\r\n\t \x1f\x20\x7f\x80\xff/@:\"\\"[..]),
                ],
                0..70,
            ),
            a in 0usize..70,
            b in 0usize..70,
        ) {
            let end = b.min(v.len());
            let pos = a.min(end);
            let ctl = v[pos..end].iter().position(|&c| c < 0x20).map_or(end, |k| pos + k);
            proptest::prop_assert_eq!(find_ctl(&v, pos, end), ctl);
            let quote = v[pos..end].iter().position(|&c| c == b'"' || c == b'\\').map(|k| pos + k);
            proptest::prop_assert_eq!(find_quote_or_backslash_in(&v, pos, end), quote);
            let space = v[pos..end].iter().position(|&c| c <= b' ').map_or(end, |k| pos + k);
            proptest::prop_assert_eq!(find_space_or_ctl(&v, pos, end), space);
            let host = v[pos..end].iter().position(|&c| !HOSTNAME[c as usize]).map_or(end, |k| pos + k);
            proptest::prop_assert_eq!(skip_hostname(&v, pos, end), host);
            // The quick colon search: when it answers, it names the first colon within
            // sixteen bytes with nothing at or below SP before it.
            if let Some((colon, name)) = known_name_colon(&v, pos) {
                proptest::prop_assert!(colon < pos + 16 && v[colon] == b':');
                proptest::prop_assert!(v[pos..colon].iter().all(|&c| c > b' ' && c != b':'));
                proptest::prop_assert_eq!(name, HeaderName::from_bytes(&v[pos..colon]));
            } else if cfg!(all(target_arch = "x86_64", target_feature = "sse2")) && v.len() >= pos + 16 {
                let first = v[pos..pos + 16].iter().position(|&c| c == b':' || c <= b' ');
                if let Some(k) = first.filter(|&k| v[pos + k] == b':') {
                    proptest::prop_assert_eq!(HeaderName::from_bytes(&v[pos..pos + k]), HeaderName::Other);
                }
            }
        }
    }

    #[test]
    fn long_runs_end_where_the_byte_loop_ends() {
        // Runs longer than a vector, ended by every byte value, cut by every `end`.
        for n in 0..40 {
            for stop in 0..=255u8 {
                let mut v: Vec<u8> = (0..n).map(|k| b"ab-Z.9_x"[k % 8]).collect();
                v.push(stop);
                v.extend_from_slice(b"more.host.chars.after");
                for end in [n / 2, n, n + 1, v.len()] {
                    let host = v[..end]
                        .iter()
                        .position(|&c| !HOSTNAME[c as usize])
                        .unwrap_or(end);
                    assert_eq!(skip_hostname(&v, 0, end), host, "{v:?} {end}");
                    let ctl = v[..end].iter().position(|&c| c < 0x20).unwrap_or(end);
                    assert_eq!(find_ctl(&v, 0, end), ctl, "{v:?} {end}");
                }
            }
        }
    }

    #[test]
    fn control_search() {
        let s = b"abcdefghijklmnop\tqrs\r\n";
        assert_eq!(find_ctl(s, 0, s.len()), 16);
        assert_eq!(find_ctl(s, 17, s.len()), 20);
        let u = "caf\u{e9} \u{444}\u{44b}\r".as_bytes();
        assert_eq!(find_ctl(u, 0, u.len()), u.len() - 1);
        for n in 0..40 {
            let mut v = vec![b'x'; n];
            v.push(0);
            assert_eq!(find_ctl(&v, 0, v.len()), n);
            assert_eq!(find_ctl(&v, 0, n), n);
        }
    }

    #[test]
    fn token_comparison_matches_the_general_one() {
        // Every token byte at every position of each name the fast paths look for.
        for lower in [
            &b"branch"[..],
            b"rport",
            b"ttl",
            b"received",
            b"maddr",
            b"tag",
            b"a-1.b",
        ] {
            for at in 0..lower.len() {
                for b in (0u8..=255).filter(|&b| TOKEN[b as usize]) {
                    let mut t = lower.to_vec();
                    t[at] = b;
                    assert_eq!(eq_token_ic(&t, lower), eq_ic(&t, lower), "{t:?}");
                }
            }
            assert!(eq_token_ic(&lower.to_ascii_uppercase(), lower));
            assert!(!eq_token_ic(&lower[1..], lower));
        }
    }

    #[test]
    fn digit_runs() {
        assert_eq!(digits(b"123 ", 0, 4), (123, 3));
        assert_eq!(digits(b"123", 0, 2), (12, 2));
        assert_eq!(digits(b"x1", 0, 2), (0, 0));
        assert_eq!(digits(b"a007b", 1, 5), (7, 4));
        assert_eq!(digits(b"4294967296", 0, 10), (4_294_967_296, 10));
        // Overflow saturates, above every limit a caller checks.
        assert_eq!(digits(b"99999999999999999999999", 0, 23).0, u64::MAX);
        assert_eq!(digits(b"18446744073709551616", 0, 20).0, u64::MAX);
        // Bytes next to the digits in ASCII are not digits.
        assert_eq!(digits(b"/0:", 0, 3), (0, 0));
        assert_eq!(digits(b"0/", 0, 2), (0, 1));
        assert_eq!(digits(b"9:", 0, 2), (9, 1));
    }

    #[test]
    fn numbers() {
        assert_eq!(parse_u32(b"0009"), Some(9));
        assert_eq!(parse_u32(b"4294967295"), Some(u32::MAX));
        assert_eq!(parse_u32(b"4294967296"), None);
        assert_eq!(parse_u64(b"18446744073709551616"), None);
        assert_eq!(parse_u32(b"+5"), None);
        assert_eq!(parse_u32(b""), None);
    }
}
