//! Measurement prototype, not used by the library: how much SSE2 would save on the two
//! scans that dominate parsing (the control-byte search in header values and a
//! host-name class scan) against the scalar code in `sip-message`, on the bench corpus.
//! The scalar baselines are copies of `lex::find_ctl` and `lex::skip_class` (private to
//! that crate), kept identical so that the comparison is like for like.
//! x86_64 only; the one place with `unsafe` in the workspace, to answer whether a
//! vectorised scanner is worth its `unsafe` (DESIGN.md: only when a benchmark shows it).
#![allow(unsafe_code, missing_docs)]

#[cfg(target_arch = "x86_64")]
use std::arch::x86_64::*;
use std::hint::black_box;
use std::time::Instant;

const ONES: u64 = 0x0101_0101_0101_0101;
const HIGH: u64 = 0x8080_8080_8080_8080;

fn find_ctl_swar(s: &[u8]) -> usize {
    let mut chunks = s.chunks_exact(8);
    let mut off = 0;
    for c in &mut chunks {
        let x = u64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]);
        let hits = x.wrapping_sub(ONES * 0x20) & !x & HIGH;
        if hits != 0 {
            return off + (hits.trailing_zeros() / 8) as usize;
        }
        off += 8;
    }
    match chunks.remainder().iter().position(|&b| b < 0x20) {
        Some(k) => off + k,
        None => s.len(),
    }
}

#[cfg(target_arch = "x86_64")]
fn find_ctl_sse2(s: &[u8]) -> usize {
    let mut i = 0;
    // SAFETY: SSE2 is part of every x86_64 CPU; each load reads 16 bytes at `i` with
    // `i + 16 <= s.len()`, so it stays inside `s`.
    unsafe {
        let lim = _mm_set1_epi8(0x1f);
        while i + 16 <= s.len() {
            let v = _mm_loadu_si128(s.as_ptr().add(i) as *const __m128i);
            let le = _mm_cmpeq_epi8(_mm_max_epu8(v, lim), lim);
            let m = _mm_movemask_epi8(le);
            if m != 0 {
                return i + m.trailing_zeros() as usize;
            }
            i += 16;
        }
    }
    i + s[i..].iter().position(|&b| b < 0x20).unwrap_or(s.len() - i)
}

static HOST: [bool; 256] = {
    let mut t = [false; 256];
    let mut c = 0;
    while c < 256 {
        let b = c as u8;
        t[c] = b.is_ascii_alphanumeric() || b == b'-' || b == b'.' || b == b'_';
        c += 1;
    }
    t
};

fn skip_table(s: &[u8]) -> usize {
    let mut pos = 0;
    while let Some(c) = s.get(pos..pos + 4) {
        if !HOST[c[0] as usize] {
            return pos;
        }
        if !HOST[c[1] as usize] {
            return pos + 1;
        }
        if !HOST[c[2] as usize] {
            return pos + 2;
        }
        if !HOST[c[3] as usize] {
            return pos + 3;
        }
        pos += 4;
    }
    while pos < s.len() && HOST[s[pos] as usize] {
        pos += 1;
    }
    pos
}

#[cfg(target_arch = "x86_64")]
fn skip_sse2(s: &[u8]) -> usize {
    let mut i = 0;
    // SAFETY: as in `find_ctl_sse2`: SSE2 is baseline on x86_64 and every load is
    // within `s`.
    unsafe {
        let x20 = _mm_set1_epi8(0x20);
        while i + 16 <= s.len() {
            let v = _mm_loadu_si128(s.as_ptr().add(i) as *const __m128i);
            // signed compares are fine for ASCII ranges; bytes >= 0x80 are negative and fail them
            let lower = _mm_or_si128(v, x20);
            let alpha = _mm_and_si128(
                _mm_cmpgt_epi8(lower, _mm_set1_epi8(b'a' as i8 - 1)),
                _mm_cmplt_epi8(lower, _mm_set1_epi8(b'z' as i8 + 1)),
            );
            let digit = _mm_and_si128(
                _mm_cmpgt_epi8(v, _mm_set1_epi8(b'0' as i8 - 1)),
                _mm_cmplt_epi8(v, _mm_set1_epi8(b'9' as i8 + 1)),
            );
            let extra = _mm_or_si128(
                _mm_or_si128(
                    _mm_cmpeq_epi8(v, _mm_set1_epi8(b'-' as i8)),
                    _mm_cmpeq_epi8(v, _mm_set1_epi8(b'.' as i8)),
                ),
                _mm_cmpeq_epi8(v, _mm_set1_epi8(b'_' as i8)),
            );
            let ok = _mm_or_si128(_mm_or_si128(alpha, digit), extra);
            let m = !_mm_movemask_epi8(ok) & 0xffff;
            if m != 0 {
                return i + m.trailing_zeros() as usize;
            }
            i += 16;
        }
    }
    while i < s.len() && HOST[s[i] as usize] {
        i += 1;
    }
    i
}

#[cfg(target_arch = "x86_64")]
fn main() {
    let mut values: Vec<Vec<u8>> = Vec::new();
    let mut hosts: Vec<Vec<u8>> = Vec::new();
    for sample in sip_benches::corpus() {
        let text = String::from_utf8_lossy(&sample.raw).to_string();
        let head = text
            .split("\r\n\r\n")
            .next()
            .unwrap_or_default()
            .to_string();
        for line in head.split("\r\n").skip(1) {
            if let Some((_, v)) = line.split_once(':') {
                let mut v = v.as_bytes().to_vec();
                v.extend_from_slice(b"\r\nNext: x\r\n");
                values.push(v);
            }
        }
        let is_host = |c: char| c.is_ascii_alphanumeric() || c == '-' || c == '.' || c == '_';
        for w in head.split(|c: char| !is_host(c)) {
            if w.contains('.') && w.len() > 3 {
                let mut h = w.as_bytes().to_vec();
                h.extend_from_slice(b">;tag=1\r\n");
                hosts.push(h);
            }
        }
    }
    println!("{} values, {} hosts", values.len(), hosts.len());
    for v in &values {
        assert_eq!(find_ctl_swar(v), find_ctl_sse2(v));
    }
    for h in &hosts {
        assert_eq!(skip_table(h), skip_sse2(h));
    }
    for round in 0..3 {
        let t = |name: &str, f: &dyn Fn() -> usize| {
            let s = Instant::now();
            let mut acc = 0;
            for _ in 0..200_000 {
                acc += f();
            }
            println!(
                "round {round} {name}: {:.1} ns per corpus pass (10 messages; checksum {acc})",
                s.elapsed().as_nanos() as f64 / 200_000.0
            );
        };
        t("find_ctl swar", &|| {
            values.iter().map(|v| find_ctl_swar(black_box(v))).sum()
        });
        t("find_ctl sse2", &|| {
            values.iter().map(|v| find_ctl_sse2(black_box(v))).sum()
        });
        t("host table", &|| {
            hosts.iter().map(|h| skip_table(black_box(h))).sum()
        });
        t("host sse2", &|| {
            hosts.iter().map(|h| skip_sse2(black_box(h))).sum()
        });
    }
}

#[cfg(not(target_arch = "x86_64"))]
fn main() {
    println!("x86_64 only");
}
