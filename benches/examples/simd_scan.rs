//! How much SSE2 saves on the two scans that `sip-message` vectorises (the control-byte
//! search in header values and the host name scan) against its scalar code (eight bytes
//! per word, a table four bytes per round), on the bench corpus's values and hosts.
//! The scalar functions here are copies of the private ones in `lex`; the SSE2 ones are
//! written the same way as the library's (through `safe_arch`), so the comparison is
//! like for like.
//! x86_64 only.
#![allow(missing_docs)]
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
fn find_ctl_safe_arch(s: &[u8]) -> usize {
    use safe_arch::*;
    let lim = set_splat_i8_m128i(0x1f);
    let mut chunks = s.chunks_exact(16);
    let mut i = 0;
    for c in &mut chunks {
        let v = load_unaligned_m128i(c.try_into().unwrap());
        let m = move_mask_i8_m128i(cmp_eq_mask_i8_m128i(max_u8_m128i(v, lim), lim));
        if m != 0 {
            return i + m.trailing_zeros() as usize;
        }
        i += 16;
    }
    i + s[i..].iter().position(|&b| b < 0x20).unwrap_or(s.len() - i)
}

#[cfg(target_arch = "x86_64")]
fn skip_safe_arch(s: &[u8]) -> usize {
    use safe_arch::*;
    let x20 = set_splat_i8_m128i(0x20);
    let mut chunks = s.chunks_exact(16);
    let mut i = 0;
    for c in &mut chunks {
        let v = load_unaligned_m128i(c.try_into().unwrap());
        // As the library's `outside_hostname`: each range one wrapping add to the bottom
        // of the signed range and one signed compare.
        let in_range = |x, lo: u8, n: u8| {
            cmp_lt_mask_i8_m128i(
                add_i8_m128i(x, set_splat_i8_m128i(0x80u8.wrapping_sub(lo) as i8)),
                set_splat_i8_m128i(0x80u8.wrapping_add(n) as i8),
            )
        };
        let alpha = in_range(bitor_m128i(v, x20), b'a', 26);
        let digit = in_range(v, b'0', 10);
        let dash_dot = in_range(v, b'-', 2);
        let underscore = cmp_eq_mask_i8_m128i(v, set_splat_i8_m128i(b'_' as i8));
        let ok = bitor_m128i(bitor_m128i(alpha, digit), bitor_m128i(dash_dot, underscore));
        let m = !move_mask_i8_m128i(ok) & 0xffff;
        if m != 0 {
            return i + m.trailing_zeros() as usize;
        }
        i += 16;
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
        assert_eq!(find_ctl_swar(v), find_ctl_safe_arch(v));
    }
    for h in &hosts {
        assert_eq!(skip_table(h), skip_safe_arch(h));
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
        t("find_ctl safe_arch", &|| {
            values
                .iter()
                .map(|v| find_ctl_safe_arch(black_box(v)))
                .sum()
        });
        t("host table", &|| {
            hosts.iter().map(|h| skip_table(black_box(h))).sum()
        });
        t("host safe_arch", &|| {
            hosts.iter().map(|h| skip_safe_arch(black_box(h))).sum()
        });
    }
}

#[cfg(not(target_arch = "x86_64"))]
fn main() {
    println!("x86_64 only");
}
