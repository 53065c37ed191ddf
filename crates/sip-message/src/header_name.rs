//! Header names: the well-known ones as an enum, compact forms, case-insensitive lookup.

use std::fmt;

macro_rules! header_names {
    ($( $(#[$doc:meta])* $variant:ident => $canonical:literal $(, compact $compact:literal)? ; )*) => {
        /// A header name. Known names are variants; anything else is [`HeaderName::Other`],
        /// whose text stays in the message as it came.
        ///
        /// Names compare case-insensitively on the wire and compact forms (`v`, `f`, `i`,
        /// ...) map to the same variant as the long form.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum HeaderName {
            $( $(#[$doc])* $variant, )*
            /// A header this crate has no name for; see the raw name on the field.
            Other,
        }

        impl HeaderName {
            /// Every known header name, in declaration order.
            pub const ALL: &'static [HeaderName] = &[$(HeaderName::$variant,)*];

            /// The canonical spelling (`"Via"`, `"Call-ID"`); `""` for [`HeaderName::Other`].
            pub const fn as_str(self) -> &'static str {
                match self {
                    $( HeaderName::$variant => $canonical, )*
                    HeaderName::Other => "",
                }
            }

            /// The compact form (RFC 3261 §7.3.3 and later RFCs), if the header has one.
            pub const fn compact(self) -> Option<char> {
                match self {
                    $( $( HeaderName::$variant => Some($compact), )? )*
                    _ => None,
                }
            }

            /// Canonical names with their variants, in declaration order.
            const TABLE: &'static [(&'static str, HeaderName)] = &[$(($canonical, HeaderName::$variant),)*];

            fn from_compact(c: u8) -> HeaderName {
                match c.to_ascii_lowercase() as char {
                    $( $( $compact => HeaderName::$variant, )? )*
                    _ => HeaderName::Other,
                }
            }
        }
    };
}

header_names! {
    /// `Accept` (RFC 3261 §20.1).
    Accept => "Accept";
    /// `Accept-Contact` (RFC 3841).
    AcceptContact => "Accept-Contact", compact 'a';
    /// `Accept-Encoding` (RFC 3261 §20.2).
    AcceptEncoding => "Accept-Encoding";
    /// `Accept-Language` (RFC 3261 §20.3).
    AcceptLanguage => "Accept-Language";
    /// `Alert-Info` (RFC 3261 §20.4).
    AlertInfo => "Alert-Info";
    /// `Allow` (RFC 3261 §20.5).
    Allow => "Allow";
    /// `Allow-Events` (RFC 6665).
    AllowEvents => "Allow-Events", compact 'u';
    /// `Authentication-Info` (RFC 3261 §20.6).
    AuthenticationInfo => "Authentication-Info";
    /// `Authorization` (RFC 3261 §20.7).
    Authorization => "Authorization";
    /// `Call-ID` (RFC 3261 §20.8).
    CallId => "Call-ID", compact 'i';
    /// `Call-Info` (RFC 3261 §20.9).
    CallInfo => "Call-Info";
    /// `Contact` (RFC 3261 §20.10).
    Contact => "Contact", compact 'm';
    /// `Content-Disposition` (RFC 3261 §20.11).
    ContentDisposition => "Content-Disposition";
    /// `Content-Encoding` (RFC 3261 §20.12).
    ContentEncoding => "Content-Encoding", compact 'e';
    /// `Content-Language` (RFC 3261 §20.13).
    ContentLanguage => "Content-Language";
    /// `Content-Length` (RFC 3261 §20.14).
    ContentLength => "Content-Length", compact 'l';
    /// `Content-Type` (RFC 3261 §20.15).
    ContentType => "Content-Type", compact 'c';
    /// `CSeq` (RFC 3261 §20.16).
    CSeq => "CSeq";
    /// `Date` (RFC 3261 §20.17).
    Date => "Date";
    /// `Error-Info` (RFC 3261 §20.18).
    ErrorInfo => "Error-Info";
    /// `Event` (RFC 6665).
    Event => "Event", compact 'o';
    /// `Expires` (RFC 3261 §20.19).
    Expires => "Expires";
    /// `From` (RFC 3261 §20.20).
    From => "From", compact 'f';
    /// `Identity` (RFC 8224).
    Identity => "Identity", compact 'y';
    /// `Identity-Info` (RFC 4474, obsolete).
    IdentityInfo => "Identity-Info", compact 'n';
    /// `In-Reply-To` (RFC 3261 §20.21).
    InReplyTo => "In-Reply-To";
    /// `Max-Forwards` (RFC 3261 §20.22).
    MaxForwards => "Max-Forwards";
    /// `MIME-Version` (RFC 3261 §20.24).
    MimeVersion => "MIME-Version";
    /// `Min-Expires` (RFC 3261 §20.23).
    MinExpires => "Min-Expires";
    /// `Min-SE` (RFC 4028).
    MinSe => "Min-SE";
    /// `Organization` (RFC 3261 §20.25).
    Organization => "Organization";
    /// `P-Asserted-Identity` (RFC 3325).
    PAssertedIdentity => "P-Asserted-Identity";
    /// `Path` (RFC 3327).
    Path => "Path";
    /// `Priority` (RFC 3261 §20.26).
    Priority => "Priority";
    /// `Privacy` (RFC 3323).
    Privacy => "Privacy";
    /// `Proxy-Authenticate` (RFC 3261 §20.27).
    ProxyAuthenticate => "Proxy-Authenticate";
    /// `Proxy-Authorization` (RFC 3261 §20.28).
    ProxyAuthorization => "Proxy-Authorization";
    /// `Proxy-Require` (RFC 3261 §20.29).
    ProxyRequire => "Proxy-Require";
    /// `RAck` (RFC 3262).
    RAck => "RAck";
    /// `Reason` (RFC 3326).
    Reason => "Reason";
    /// `Record-Route` (RFC 3261 §20.30).
    RecordRoute => "Record-Route";
    /// `Refer-To` (RFC 3515).
    ReferTo => "Refer-To", compact 'r';
    /// `Referred-By` (RFC 3892).
    ReferredBy => "Referred-By", compact 'b';
    /// `Reject-Contact` (RFC 3841).
    RejectContact => "Reject-Contact", compact 'j';
    /// `Replaces` (RFC 3891).
    Replaces => "Replaces";
    /// `Reply-To` (RFC 3261 §20.31).
    ReplyTo => "Reply-To";
    /// `Request-Disposition` (RFC 3841).
    RequestDisposition => "Request-Disposition", compact 'd';
    /// `Require` (RFC 3261 §20.32).
    Require => "Require";
    /// `Retry-After` (RFC 3261 §20.33).
    RetryAfter => "Retry-After";
    /// `Route` (RFC 3261 §20.34).
    Route => "Route";
    /// `RSeq` (RFC 3262).
    RSeq => "RSeq";
    /// `Server` (RFC 3261 §20.35).
    Server => "Server";
    /// `Service-Route` (RFC 3608).
    ServiceRoute => "Service-Route";
    /// `Session-Expires` (RFC 4028).
    SessionExpires => "Session-Expires", compact 'x';
    /// `SIP-ETag` (RFC 3903).
    SipETag => "SIP-ETag";
    /// `SIP-If-Match` (RFC 3903).
    SipIfMatch => "SIP-If-Match";
    /// `Subject` (RFC 3261 §20.36).
    Subject => "Subject", compact 's';
    /// `Subscription-State` (RFC 6665).
    SubscriptionState => "Subscription-State";
    /// `Supported` (RFC 3261 §20.37).
    Supported => "Supported", compact 'k';
    /// `Timestamp` (RFC 3261 §20.38).
    Timestamp => "Timestamp";
    /// `To` (RFC 3261 §20.39).
    To => "To", compact 't';
    /// `Unsupported` (RFC 3261 §20.40).
    Unsupported => "Unsupported";
    /// `User-Agent` (RFC 3261 §20.41).
    UserAgent => "User-Agent";
    /// `Via` (RFC 3261 §20.42).
    Via => "Via", compact 'v';
    /// `Warning` (RFC 3261 §20.43).
    Warning => "Warning";
    /// `WWW-Authenticate` (RFC 3261 §20.44).
    WwwAuthenticate => "WWW-Authenticate";
}

/// Longest known name we look up through the hash table.
const MAX_LEN: usize = 24;
/// The hash table has `1 << HASH_BITS` slots.
const HASH_BITS: u32 = 9;

/// The slot of a name (at least two bytes) for the multiplier `mult`: a hash of its
/// length and its first, middle and last bytes in either case (the middle byte tells
/// `Refer-To` from `Reply-To`).
const fn name_slot(n: &[u8], mult: u32) -> usize {
    let len = n.len();
    let key = ((n[0] | 0x20) as u32) << 24
        | ((n[len / 2] | 0x20) as u32) << 16
        | ((n[len - 1] | 0x20) as u32) << 8
        | len as u32;
    (key.wrapping_mul(mult) >> (32 - HASH_BITS)) as usize
}

/// A multiplier under which every known name has a slot of its own (a perfect hash),
/// found when the crate is compiled.
const NAME_MULT: u32 = {
    let t = HeaderName::TABLE;
    let mut mult: u32 = 0x9E37_79B1;
    loop {
        let mut used = [false; 1 << HASH_BITS];
        let mut clash = false;
        let mut i = 0;
        while i < t.len() {
            let n = t[i].0.as_bytes();
            let slot = name_slot(n, mult);
            if used[slot] {
                clash = true;
                break;
            }
            used[slot] = true;
            i += 1;
        }
        if !clash {
            break mult;
        }
        mult = mult.wrapping_add(0x6D2B_79F6);
    }
};

/// `TABLE` index plus one (0: no name) for every slot.
static SLOTS: [u8; 1 << HASH_BITS] = {
    let mut slots = [0u8; 1 << HASH_BITS];
    let t = HeaderName::TABLE;
    assert!(t.len() < 255);
    let mut i = 0;
    while i < t.len() {
        let n = t[i].0.as_bytes();
        assert!(n.len() > 1 && n.len() <= MAX_LEN);
        slots[name_slot(n, NAME_MULT)] = (i + 1) as u8;
        i += 1;
    }
    slots
};

/// The canonical names in lowercase, zero-padded, for word-at-a-time comparison.
static LOWER: [[u8; MAX_LEN]; HeaderName::TABLE.len()] = {
    let t = HeaderName::TABLE;
    let mut out = [[0u8; MAX_LEN]; HeaderName::TABLE.len()];
    let mut i = 0;
    while i < t.len() {
        let name = t[i].0.as_bytes();
        let mut j = 0;
        while j < name.len() {
            let c = name[j].to_ascii_lowercase();
            // Every byte must keep its value under `| 0x20` for the comparison below.
            assert!(c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'-');
            out[i][j] = c;
            j += 1;
        }
        i += 1;
    }
    out
};

/// The one known name a name of two to [`MAX_LEN`] bytes can be, as its index in
/// `TABLE` and `LOWER` and its variant: one slot, since the hash is perfect over the
/// known names, and of the same length. Any other name finds an empty slot, a length
/// that differs, or fails the caller's byte comparison.
#[inline(always)]
fn candidate(name: &[u8]) -> Option<(usize, HeaderName)> {
    let slot = SLOTS[name_slot(name, NAME_MULT)];
    if slot == 0 {
        return None;
    }
    let i = slot as usize - 1;
    let (canonical, header) = HeaderName::TABLE[i];
    if canonical.len() != name.len() {
        return None;
    }
    Some((i, header))
}

#[inline(always)]
fn word(b: &[u8], at: usize) -> u64 {
    let mut w = [0u8; 8];
    w.copy_from_slice(&b[at..at + 8]);
    u64::from_le_bytes(w)
}

#[inline(always)]
fn half(b: &[u8], at: usize) -> u32 {
    let mut w = [0u8; 4];
    w.copy_from_slice(&b[at..at + 4]);
    u32::from_le_bytes(w)
}

/// Compares a name with no byte below 0x20 against a lowercase canonical name of the
/// same length. `| 0x20` lowercases letters and leaves digits and '-' alone; for bytes of
/// 0x20 and above it cannot turn anything else into a canonical byte.
#[inline(always)]
fn eq_canonical(name: &[u8], lower: &[u8; MAX_LEN]) -> bool {
    let n = name.len();
    if n >= 8 {
        const M: u64 = 0x2020_2020_2020_2020;
        let mut i = 0;
        while i + 8 <= n {
            if word(name, i) | M != word(lower, i) {
                return false;
            }
            i += 8;
        }
        i == n || word(name, n - 8) | M == word(lower, n - 8)
    } else if n >= 4 {
        const M: u32 = 0x2020_2020;
        half(name, 0) | M == half(lower, 0) && half(name, n - 4) | M == half(lower, n - 4)
    } else {
        name.iter().zip(lower).all(|(a, b)| a | 0x20 == *b)
    }
}

impl HeaderName {
    /// Looks a name up case-insensitively, long or compact form. Unknown names give
    /// [`HeaderName::Other`].
    pub fn from_bytes(name: &[u8]) -> HeaderName {
        if name.iter().any(|&b| b < 0x20) {
            return HeaderName::Other;
        }
        HeaderName::from_token(name)
    }

    /// [`HeaderName::from_bytes`] for a name known to hold no byte below 0x20 (the
    /// parser's names are tokens).
    #[inline]
    pub(crate) fn from_token(name: &[u8]) -> HeaderName {
        let n = name.len();
        if n == 1 {
            return HeaderName::from_compact(name[0]);
        }
        if n == 0 || n > MAX_LEN {
            return HeaderName::Other;
        }
        match candidate(name) {
            Some((i, header)) if eq_canonical(name, &LOWER[i]) => header,
            _ => HeaderName::Other,
        }
    }

    /// [`HeaderName::from_token`] for a name of `n` bytes (none of them SP or below)
    /// at the start of a 16-byte chunk, as the line scan has it in hand: the comparison
    /// with the canonical name is one vector compare under a mask.
    #[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
    #[inline]
    pub(crate) fn from_chunk(chunk: &[u8; 16], n: usize) -> HeaderName {
        use safe_arch::{
            bitor_m128i, cmp_eq_mask_i8_m128i, load_unaligned_m128i, move_mask_i8_m128i,
            set_splat_i8_m128i,
        };
        // A name longer than the chunk is not in it: the caller never asks.
        let Some(name) = chunk.get(..n) else {
            return HeaderName::Other;
        };
        if n < 2 {
            return HeaderName::from_token(name);
        }
        let Some((i, header)) = candidate(name) else {
            return HeaderName::Other;
        };
        let Some(lower) = LOWER[i].first_chunk::<16>() else {
            return HeaderName::Other;
        };
        // `| 0x20` as in `eq_canonical`; bytes past the name are masked off.
        let folded = bitor_m128i(load_unaligned_m128i(chunk), set_splat_i8_m128i(0x20));
        let same = move_mask_i8_m128i(cmp_eq_mask_i8_m128i(folded, load_unaligned_m128i(lower)));
        let want = (1i32 << n) - 1;
        if same & want == want {
            header
        } else {
            HeaderName::Other
        }
    }

    /// Whether two header name texts denote the same header (case, compact forms).
    pub fn same_name(a: &str, b: &str) -> bool {
        let (na, nb) = (
            HeaderName::from_bytes(a.as_bytes()),
            HeaderName::from_bytes(b.as_bytes()),
        );
        if na == HeaderName::Other || nb == HeaderName::Other {
            a.eq_ignore_ascii_case(b)
        } else {
            na == nb
        }
    }
}

impl std::str::FromStr for HeaderName {
    type Err = std::convert::Infallible;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(HeaderName::from_bytes(s.as_bytes()))
    }
}

impl fmt::Display for HeaderName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The chunk lookup agrees with the slice lookup for every known name in several
    /// cases, for every prefix of them, and for every one-byte change of them.
    #[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
    #[test]
    fn chunk_lookup_agrees_with_the_slice_lookup() {
        let check = |name: &[u8]| {
            if name.len() > 15 || name.iter().any(|&b| b <= b' ') {
                return;
            }
            let mut chunk = [b':'; 16];
            chunk[..name.len()].copy_from_slice(name);
            assert_eq!(
                HeaderName::from_chunk(&chunk, name.len()),
                HeaderName::from_bytes(name),
                "{name:?}"
            );
        };
        for &h in HeaderName::ALL {
            let canonical = h.as_str();
            for written in [
                canonical.to_string(),
                canonical.to_ascii_lowercase(),
                canonical.to_ascii_uppercase(),
            ] {
                let w = written.as_bytes();
                check(w);
                for n in 0..w.len() {
                    check(&w[..n]);
                }
                for at in 0..w.len() {
                    for b in [
                        b'!', b'-', b'0', b'A', b'z', b'^', b'~', 0x7f, 0x80, 0xc3, 0xff,
                    ] {
                        let mut v = w.to_vec();
                        v[at] = b;
                        check(&v);
                    }
                }
            }
        }
    }

    #[test]
    fn every_compact_form() {
        let pairs = [
            ('i', HeaderName::CallId),
            ('m', HeaderName::Contact),
            ('e', HeaderName::ContentEncoding),
            ('l', HeaderName::ContentLength),
            ('f', HeaderName::From),
            ('t', HeaderName::To),
            ('v', HeaderName::Via),
            ('c', HeaderName::ContentType),
            ('k', HeaderName::Supported),
            ('s', HeaderName::Subject),
            ('o', HeaderName::Event),
            ('u', HeaderName::AllowEvents),
            ('r', HeaderName::ReferTo),
            ('b', HeaderName::ReferredBy),
            ('x', HeaderName::SessionExpires),
            ('y', HeaderName::Identity),
            ('a', HeaderName::AcceptContact),
            ('d', HeaderName::RequestDisposition),
            ('j', HeaderName::RejectContact),
            ('n', HeaderName::IdentityInfo),
        ];
        for (c, name) in pairs {
            assert_eq!(HeaderName::from_bytes(&[c as u8]), name);
            assert_eq!(
                HeaderName::from_bytes(&[c.to_ascii_uppercase() as u8]),
                name
            );
            assert_eq!(name.compact(), Some(c));
        }
        assert_eq!(HeaderName::from_bytes(b"z"), HeaderName::Other);
    }

    #[test]
    fn long_forms_case_insensitive() {
        for &name in HeaderName::ALL {
            let s = name.as_str();
            assert_eq!(HeaderName::from_bytes(s.as_bytes()), name, "{s}");
            assert_eq!(HeaderName::from_bytes(s.to_uppercase().as_bytes()), name);
            assert_eq!(HeaderName::from_bytes(s.to_lowercase().as_bytes()), name);
        }
        assert_eq!(
            HeaderName::from_bytes(b"MaX-fOrWaRdS"),
            HeaderName::MaxForwards
        );
        assert_eq!(HeaderName::from_bytes(b"C%6Fntact"), HeaderName::Other);
        assert!(HeaderName::same_name("v", "VIA"));
        assert!(HeaderName::same_name("X-Foo", "x-foo"));
        // Bytes that `| 0x20` would turn into '-' or digits never match.
        assert_eq!(HeaderName::from_bytes(b"Call\rID"), HeaderName::Other);
        assert_eq!(HeaderName::from_bytes(b"Min-SE"), HeaderName::MinSe);
        assert_eq!(HeaderName::from_bytes(b"Min_SE"), HeaderName::Other);
        assert_eq!(HeaderName::from_bytes(b"VIa"), HeaderName::Via);
        assert_eq!(HeaderName::from_bytes(b"Vi"), HeaderName::Other);
    }

    /// The lookup hashes only a name's length and three of its bytes: every prefix
    /// and every one-byte change of a known name must still come out as the right
    /// header or as `Other`.
    #[test]
    fn near_misses_of_known_names_are_other() {
        let known = |s: &str| {
            HeaderName::ALL
                .iter()
                .find(|h| h.as_str().eq_ignore_ascii_case(s))
        };
        for &name in HeaderName::ALL {
            let s = name.as_str();
            for cut in 2..s.len() {
                let p = &s[..cut];
                let want = known(p).copied().unwrap_or(HeaderName::Other);
                assert_eq!(HeaderName::from_bytes(p.as_bytes()), want, "{p}");
            }
            for at in 0..s.len() {
                let mut b = s.as_bytes().to_vec();
                b[at] = if b[at] == b'x' { b'y' } else { b'x' };
                let text = String::from_utf8(b).unwrap();
                let want = known(&text).copied().unwrap_or(HeaderName::Other);
                assert_eq!(HeaderName::from_bytes(text.as_bytes()), want, "{text}");
            }
        }
        assert_eq!(HeaderName::from_bytes(b"Refer-To"), HeaderName::ReferTo);
        assert_eq!(HeaderName::from_bytes(b"Reply-To"), HeaderName::ReplyTo);
    }
}
