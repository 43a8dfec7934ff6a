//! Scalar multiplication: the constant-time fixed-base comb for signing and key derivation, and
//! the variable-time joint multiplication s·G + t·P for verification. The generator tables are
//! built once, lazily, on first use (about a millisecond).

use std::sync::LazyLock;

use ::sm2::elliptic_curve::subtle::{ConditionallySelectable as _, ConstantTimeEq as _};

use super::point::{Affine, Jacobian, batch_to_affine};

/// Fixed-base comb: 64 windows of 4 bits.
const COMB_WINDOWS: usize = 64;
/// Non-zero digits per window.
const COMB_ENTRIES: usize = 15;
/// wNAF width for the generator in verification (odd multiples 1G … (2^(w−1) − 1)G).
const G_WNAF_WIDTH: usize = 10;
/// wNAF width for the public key in verification.
const P_WNAF_WIDTH: usize = 5;
/// Longest wNAF: 256 bits plus a final carry that can land up to `width` bits higher.
const WNAF_LEN: usize = 256 + G_WNAF_WIDTH + 1;

/// `COMB[i][j] = (j + 1)·16^i·G` in affine form.
static COMB: LazyLock<Vec<[Affine; COMB_ENTRIES]>> =
    LazyLock::new(|| build_comb(&Affine::generator()));

/// Row `i` holds `j · 2^(4i) · p` for `j` in 1..=15 (affine), for the comb methods.
pub(crate) type Comb = Vec<[Affine; COMB_ENTRIES]>;

/// The 4-bit comb table of `p` (64 rows of 15 points; ~60 KiB).
pub(crate) fn build_comb(p: &Affine) -> Comb {
    let mut points = Vec::with_capacity(COMB_WINDOWS * COMB_ENTRIES);
    let mut base = Jacobian::from_affine(p);
    for _ in 0..COMB_WINDOWS {
        let mut multiple = base;
        for _ in 0..COMB_ENTRIES {
            points.push(multiple);
            multiple = multiple.add_vartime(&base);
        }
        base = multiple;
    }
    batch_to_affine(&points)
        .chunks_exact(COMB_ENTRIES)
        .map(|chunk| {
            let mut row = [Affine::default(); COMB_ENTRIES];
            row.copy_from_slice(chunk);
            row
        })
        .collect()
}

/// s·G + t·P with the generator's comb and a cached comb of P: no doublings, at most 128
/// mixed additions (variable time: public data only).
pub(crate) fn mul_double_comb_vartime(s: &[u64; 4], t: &[u64; 4], p_comb: &Comb) -> Jacobian {
    let g_comb = &*COMB;
    let mut acc = Jacobian::IDENTITY;
    for i in 0..COMB_WINDOWS {
        let shift = (i % 16) * 4;
        let ds = ((s[i / 16] >> shift) & 0xf) as usize;
        if ds != 0 {
            acc = acc.add_mixed_vartime(&g_comb[i][ds - 1]);
        }
        let dt = ((t[i / 16] >> shift) & 0xf) as usize;
        if dt != 0 {
            acc = acc.add_mixed_vartime(&p_comb[i][dt - 1]);
        }
    }
    acc
}

static G_ODD: LazyLock<Vec<Affine>> =
    LazyLock::new(|| odd_multiples_affine(&Affine::generator(), G_WNAF_WIDTH));

/// Builds the generator tables now (they are otherwise built on first use).
pub(crate) fn precompute() {
    LazyLock::force(&COMB);
    LazyLock::force(&G_ODD);
}

fn odd_multiples_jacobian(p: &Jacobian, width: usize) -> Vec<Jacobian> {
    let count = 1usize << (width - 2);
    let twice = p.double();
    let mut out = Vec::with_capacity(count);
    let mut acc = *p;
    for _ in 0..count {
        out.push(acc);
        acc = acc.add_vartime(&twice);
    }
    out
}

fn odd_multiples_affine(p: &Affine, width: usize) -> Vec<Affine> {
    batch_to_affine(&odd_multiples_jacobian(&Jacobian::from_affine(p), width))
}

/// k·G for canonical little-endian limbs k, which must lie in [1, n − 1] (secret; constant
/// time).
///
/// k = Σ k_i·16^i with unsigned 4-bit digits; the sum of `COMB[i][k_i − 1]` over non-zero digits
/// is accumulated with branch-free mixed additions. Each table row is scanned in full with
/// constant-time selects. The mixed addition is incomplete, but: (1) while the accumulator is
/// still the identity its result is replaced by the table point by a select; (2) a zero digit
/// keeps the accumulator by a select; (3) otherwise the accumulator is a·G with
/// 1 ≤ a < 16^i and the table point is b·G with 16^i ≤ b ≤ 15·16^i, so a ≠ b, and a + b ≤ k < n,
/// so a ≢ −b (mod n): the doubling and opposite-point cases cannot occur.
pub(crate) fn mul_base_ct(k: &[u64; 4]) -> Jacobian {
    let comb = &*COMB;
    let mut acc = Jacobian::IDENTITY;
    let mut acc_is_identity = 1u8.into();
    for (i, row) in comb.iter().enumerate() {
        let digit = ((k[i / 16] >> ((i % 16) * 4)) & 0xf) as u8;
        let mut entry = row[0];
        for (j, candidate) in row.iter().enumerate().skip(1) {
            entry.conditional_assign(candidate, digit.ct_eq(&((j + 1) as u8)));
        }
        let sum = acc.add_mixed_ct(&entry);
        let mut next =
            Jacobian::conditional_select(&sum, &Jacobian::from_affine(&entry), acc_is_identity);
        let zero_digit = digit.ct_eq(&0);
        next.conditional_assign(&acc, zero_digit);
        acc_is_identity &= zero_digit;
        acc = next;
    }
    acc
}

/// Width-w NAF digits of a 256-bit scalar (little-endian limbs), least significant first.
fn wnaf(k: &[u64; 4], width: usize) -> [i16; WNAF_LEN] {
    let x = [k[0], k[1], k[2], k[3], 0, 0];
    let mut naf = [0i16; WNAF_LEN];
    let full = 1u64 << width;
    let mask = full - 1;
    let mut pos = 0usize;
    let mut carry = 0u64;
    while pos < 256 || carry != 0 {
        let idx = pos / 64;
        let bit = pos % 64;
        let bits = if bit == 0 {
            x[idx]
        } else {
            (x[idx] >> bit) | (x[idx + 1] << (64 - bit))
        };
        let window = carry + (bits & mask);
        if window & 1 == 0 {
            pos += 1;
            continue;
        }
        // Digits are odd and |digit| < 2^(w−1) ≤ 2^15.
        if window < full / 2 {
            carry = 0;
            naf[pos] = window as i16;
        } else {
            carry = 1;
            naf[pos] = (window as i64 - full as i64) as i16;
        }
        pos += width;
    }
    naf
}

/// s·G + t·P (variable time; public inputs only).
pub(crate) fn mul_double_vartime(s: &[u64; 4], t: &[u64; 4], p: &Affine) -> Jacobian {
    let g_table = &*G_ODD;
    let p_table = odd_multiples_jacobian(&Jacobian::from_affine(p), P_WNAF_WIDTH);
    let s_naf = wnaf(s, G_WNAF_WIDTH);
    let t_naf = wnaf(t, P_WNAF_WIDTH);
    let top = (0..WNAF_LEN)
        .rev()
        .find(|&i| s_naf[i] != 0 || t_naf[i] != 0);
    let Some(top) = top else {
        return Jacobian::IDENTITY;
    };
    let mut acc = Jacobian::IDENTITY;
    for i in (0..=top).rev() {
        acc = acc.double();
        let d = s_naf[i];
        if d > 0 {
            acc = acc.add_mixed_vartime(&g_table[(d as usize) / 2]);
        } else if d < 0 {
            acc = acc.add_mixed_vartime(&g_table[(d.unsigned_abs() as usize) / 2].neg());
        }
        let d = t_naf[i];
        if d > 0 {
            acc = acc.add_vartime(&p_table[(d as usize) / 2]);
        } else if d < 0 {
            acc = acc.add_vartime(&p_table[(d.unsigned_abs() as usize) / 2].neg());
        }
    }
    acc
}

#[cfg(test)]
mod tests {
    use super::*;

    fn value_of(naf: &[i16; WNAF_LEN]) -> [u64; 6] {
        // Σ naf[i]·2^i as a 384-bit two's-complement number.
        let mut acc = [0u64; 6];
        for (i, &d) in naf.iter().enumerate().rev() {
            // acc = 2·acc + d
            let mut carry = 0u64;
            for limb in acc.iter_mut() {
                let next = *limb >> 63;
                *limb = (*limb << 1) | carry;
                carry = next;
            }
            let add = d as i64 as u64;
            let ext = if d < 0 { u64::MAX } else { 0 };
            let mut c = 0u64;
            for (j, limb) in acc.iter_mut().enumerate() {
                let a = if j == 0 { add } else { ext };
                let (s, c1) = limb.overflowing_add(a);
                let (s, c2) = s.overflowing_add(c);
                *limb = s;
                c = u64::from(c1 | c2);
            }
            let _ = i;
        }
        acc
    }

    #[test]
    fn wnaf_digits_reconstruct_the_scalar() {
        let cases = [
            [0u64, 0, 0, 0],
            [1, 0, 0, 0],
            [u64::MAX; 4],
            [0x8000_0000_0000_0000, 0, 0, 0xffff_ffff_ffff_ffff],
            [
                0x53bb_f409_39d5_4122,
                0x7203_df6b_21c6_052b,
                u64::MAX,
                0xffff_fffe_ffff_ffff,
            ],
        ];
        for k in cases {
            for width in [P_WNAF_WIDTH, G_WNAF_WIDTH] {
                let naf = wnaf(&k, width);
                assert_eq!(
                    value_of(&naf),
                    [k[0], k[1], k[2], k[3], 0, 0],
                    "{k:x?} w={width}"
                );
                let bound = 1i32 << (width - 1);
                let mut last: Option<usize> = None;
                for (i, &d) in naf.iter().enumerate() {
                    if d != 0 {
                        assert!(d % 2 != 0 && i32::from(d).abs() < bound);
                        if let Some(l) = last {
                            assert!(i - l >= width, "digits too close");
                        }
                        last = Some(i);
                    }
                }
            }
        }
    }
}
