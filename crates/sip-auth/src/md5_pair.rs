//! Two independent MD5 compressions run side by side.
//!
//! One MD5 block is a chain of 64 dependent steps, each waiting for the one before:
//! the processor spends most of the block waiting, not computing. A digest response
//! has hashes that do not depend on each other (HA2, and the session key or the first
//! blocks of the response input), so their blocks are compressed in one pass with the
//! two chains' steps side by side, which costs little more than one block alone. The
//! steps are those of RFC 1321 §3.4; `md5::block_api::compress` checks them in the tests.

/// The sine-derived constants of RFC 1321 §3.4, one per step.
const K: [u32; 64] = [
    0xd76a_a478,
    0xe8c7_b756,
    0x2420_70db,
    0xc1bd_ceee,
    0xf57c_0faf,
    0x4787_c62a,
    0xa830_4613,
    0xfd46_9501,
    0x6980_98d8,
    0x8b44_f7af,
    0xffff_5bb1,
    0x895c_d7be,
    0x6b90_1122,
    0xfd98_7193,
    0xa679_438e,
    0x49b4_0821,
    0xf61e_2562,
    0xc040_b340,
    0x265e_5a51,
    0xe9b6_c7aa,
    0xd62f_105d,
    0x0244_1453,
    0xd8a1_e681,
    0xe7d3_fbc8,
    0x21e1_cde6,
    0xc337_07d6,
    0xf4d5_0d87,
    0x455a_14ed,
    0xa9e3_e905,
    0xfcef_a3f8,
    0x676f_02d9,
    0x8d2a_4c8a,
    0xfffa_3942,
    0x8771_f681,
    0x6d9d_6122,
    0xfde5_380c,
    0xa4be_ea44,
    0x4bde_cfa9,
    0xf6bb_4b60,
    0xbebf_bc70,
    0x289b_7ec6,
    0xeaa1_27fa,
    0xd4ef_3085,
    0x0488_1d05,
    0xd9d4_d039,
    0xe6db_99e5,
    0x1fa2_7cf8,
    0xc4ac_5665,
    0xf429_2244,
    0x432a_ff97,
    0xab94_23a7,
    0xfc93_a039,
    0x655b_59c3,
    0x8f0c_cc92,
    0xffef_f47d,
    0x8584_5dd1,
    0x6fa8_7e4f,
    0xfe2c_e6e0,
    0xa301_4314,
    0x4e08_11a1,
    0xf753_7e82,
    0xbd3a_f235,
    0x2ad7_d2bb,
    0xeb86_d391,
];

/// The sixteen little-endian words of a block.
#[inline(always)]
fn words(block: &[u8; 64]) -> [u32; 16] {
    let (chunks, _) = block.as_chunks::<4>();
    core::array::from_fn(|i| u32::from_le_bytes(chunks[i]))
}

/// Round 1's function, `(x & y) | (!x & z)`, in the form with one fewer operation.
#[inline(always)]
fn f(x: u32, y: u32, z: u32) -> u32 {
    ((y ^ z) & x) ^ z
}

/// Round 2's function, `(x & z) | (y & !z)`; the halves never share a bit, so the OR
/// is an addition, which lets the `y & !z` half be added before `x` is known.
#[inline(always)]
fn g(x: u32, y: u32, z: u32) -> u32 {
    (x & z).wrapping_add(y & !z)
}

/// Round 3's function.
#[inline(always)]
fn h(x: u32, y: u32, z: u32) -> u32 {
    x ^ y ^ z
}

/// Round 4's function.
#[inline(always)]
fn i(x: u32, y: u32, z: u32) -> u32 {
    y ^ (x | !z)
}

/// Compresses `bx` into `x` and `by` into `y`, the two chains' steps interleaved.
pub(crate) fn compress_pair(x: &mut [u32; 4], bx: &[u8; 64], y: &mut [u32; 4], by: &[u8; 64]) {
    let mx = words(bx);
    let my = words(by);
    let [mut a1, mut b1, mut c1, mut d1] = *x;
    let [mut a2, mut b2, mut c2, mut d2] = *y;
    // One step of one chain: `a = b + ((a + F(b, c, d) + M[m] + K[k]) <<< s)`.
    macro_rules! step {
        ($fun:ident, $w:ident, $a:ident, $b:ident, $c:ident, $d:ident, $m:expr, $k:expr, $s:expr) => {
            $a = $fun($b, $c, $d)
                .wrapping_add($a)
                .wrapping_add($w[$m])
                .wrapping_add(K[$k])
                .rotate_left($s)
                .wrapping_add($b);
        };
    }
    // Four steps of one round in both chains, side by side: message word
    // `m0 + j * dm` (mod 16) at step `k0 + j`, the registers rotating one place a step.
    macro_rules! four {
        ($fun:ident, $k0:expr, $m0:expr, $dm:expr, [$s0:expr, $s1:expr, $s2:expr, $s3:expr]) => {
            step!($fun, mx, a1, b1, c1, d1, ($m0) % 16, $k0, $s0);
            step!($fun, my, a2, b2, c2, d2, ($m0) % 16, $k0, $s0);
            step!($fun, mx, d1, a1, b1, c1, ($m0 + $dm) % 16, $k0 + 1, $s1);
            step!($fun, my, d2, a2, b2, c2, ($m0 + $dm) % 16, $k0 + 1, $s1);
            step!($fun, mx, c1, d1, a1, b1, ($m0 + 2 * $dm) % 16, $k0 + 2, $s2);
            step!($fun, my, c2, d2, a2, b2, ($m0 + 2 * $dm) % 16, $k0 + 2, $s2);
            step!($fun, mx, b1, c1, d1, a1, ($m0 + 3 * $dm) % 16, $k0 + 3, $s3);
            step!($fun, my, b2, c2, d2, a2, ($m0 + 3 * $dm) % 16, $k0 + 3, $s3);
        };
    }
    // Round 1: words in order; round 2: 1 + 5j; round 3: 5 + 3j; round 4: 7j.
    four!(f, 0, 0, 1, [7, 12, 17, 22]);
    four!(f, 4, 4, 1, [7, 12, 17, 22]);
    four!(f, 8, 8, 1, [7, 12, 17, 22]);
    four!(f, 12, 12, 1, [7, 12, 17, 22]);
    four!(g, 16, 1, 5, [5, 9, 14, 20]);
    four!(g, 20, 1 + 20, 5, [5, 9, 14, 20]);
    four!(g, 24, 1 + 40, 5, [5, 9, 14, 20]);
    four!(g, 28, 1 + 60, 5, [5, 9, 14, 20]);
    four!(h, 32, 5, 3, [4, 11, 16, 23]);
    four!(h, 36, 5 + 12, 3, [4, 11, 16, 23]);
    four!(h, 40, 5 + 24, 3, [4, 11, 16, 23]);
    four!(h, 44, 5 + 36, 3, [4, 11, 16, 23]);
    four!(i, 48, 0, 7, [6, 10, 15, 21]);
    four!(i, 52, 28, 7, [6, 10, 15, 21]);
    four!(i, 56, 56, 7, [6, 10, 15, 21]);
    four!(i, 60, 84, 7, [6, 10, 15, 21]);
    for (s, v) in x.iter_mut().zip([a1, b1, c1, d1]) {
        *s = s.wrapping_add(v);
    }
    for (s, v) in y.iter_mut().zip([a2, b2, c2, d2]) {
        *s = s.wrapping_add(v);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A reproducible stream of bytes (xorshift).
    fn bytes(seed: u64, out: &mut [u8]) {
        let mut s = seed | 1;
        for b in out {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            *b = s as u8;
        }
    }

    #[test]
    fn each_lane_is_md5s_compression() {
        for seed in 0..500u64 {
            let mut bx = [0u8; 64];
            let mut by = [0u8; 64];
            bytes(seed, &mut bx);
            bytes(seed + 1_000_003, &mut by);
            let mut sx = [seed as u32, 1, 2, 3];
            let mut sy = [0x6745_2301, 0xefcd_ab89, 0x98ba_dcfe, (seed as u32) << 3];
            let (mut ex, mut ey) = (sx, sy);
            md5::block_api::compress(&mut ex, &[bx]);
            md5::block_api::compress(&mut ey, &[by]);
            compress_pair(&mut sx, &bx, &mut sy, &by);
            assert_eq!((sx, sy), (ex, ey), "seed {seed}");
        }
    }
}
