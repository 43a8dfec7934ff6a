//! Arithmetic in GF(p), p = 2^256 − 2^224 − 2^96 + 2^64 − 1 (the SM2 prime), on four 64-bit
//! limbs in Montgomery form (R = 2^256).
//!
//! Montgomery reduction exploits the shape of p: −p⁻¹ ≡ 1 (mod 2^64), so each reduction round's
//! multiplier m is just the lowest limb, and m·(p + 1)/2^64 = m·(2^192 − 2^160 − 2^32 + 1) is
//! formed with shifts and subtractions instead of multiplications. Every operation is
//! branch-free (constant-time); only [`Fe::sqrt`]'s caller and equality tests branch on results.

use ::sm2::elliptic_curve::subtle::{Choice, ConditionallySelectable, ConstantTimeEq};

#[cfg(test)]
use super::arith::pow_fixed;
use super::arith::{
    adc, add_mod, is_zero, limbs_from_be, limbs_to_be, lt, mul_wide, sbb, square_wide, sub_if_ge,
    sub_mod,
};

/// p, little-endian limbs.
pub(super) const P: [u64; 4] = [
    0xffff_ffff_ffff_ffff,
    0xffff_ffff_0000_0000,
    0xffff_ffff_ffff_ffff,
    0xffff_fffe_ffff_ffff,
];
/// R² mod p, to enter Montgomery form.
const R2: [u64; 4] = [
    0x0000_0002_0000_0003,
    0x0000_0002_ffff_ffff,
    0x0000_0001_0000_0001,
    0x0000_0004_0000_0002,
];
/// p − 2 (Fermat inversion exponent; the addition chain in [`Fe::invert`] is checked against it).
#[cfg(test)]
const P_MINUS_2: [u64; 4] = [P[0] - 2, P[1], P[2], P[3]];
/// (p + 1) / 4 (square-root exponent; p ≡ 3 mod 4).
#[cfg(test)]
const P_PLUS_1_DIV_4: [u64; 4] = [
    0x4000_0000_0000_0000,
    0xffff_ffff_c000_0000,
    0xffff_ffff_ffff_ffff,
    0x3fff_ffff_bfff_ffff,
];

/// A field element mod p in Montgomery form (a·R mod p), fully reduced (< p).
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Fe(pub(super) [u64; 4]);

/// Montgomery reduction of a 512-bit value t < p·2^256: t·2^-256 mod p.
#[inline(always)]
fn redc(t: [u64; 8]) -> [u64; 4] {
    let mut t = t;
    // Carry out of the top limb of the previous round, added one limb higher in the next.
    let mut pending = false;
    for i in 0..4 {
        let m = t[i];
        let lo = m << 32;
        let hi = m >> 32;
        // x = m·(2^192 − 2^160 − 2^32 + 1) = [m, 0, 0, m − hi] − [lo, hi, lo, 0] (never negative).
        let (x0, b) = sbb(m, lo, false);
        let (x1, b) = sbb(0, hi, b);
        let (x2, b) = sbb(0, lo, b);
        let (x3, _) = sbb(m - hi, 0, b);
        // t += x·2^(64(i+1)); t[i] + m·p ≡ 0 mod 2^64 by construction, so limb i is dropped.
        let (s1, c) = adc(t[i + 1], x0, false);
        let (s2, c) = adc(t[i + 2], x1, c);
        let (s3, c) = adc(t[i + 3], x2, c);
        let (s4, c) = adc(t[i + 4], x3, c);
        t[i + 1] = s1;
        t[i + 2] = s2;
        t[i + 3] = s3;
        t[i + 4] = s4;
        if i < 3 {
            let (s5, c2) = adc(t[i + 5], u64::from(pending), c);
            t[i + 5] = s5;
            pending = c2;
        } else {
            // The result is below 2p < 2^257, so at most one of the two carries is set.
            pending |= c;
        }
    }
    sub_if_ge(&[t[4], t[5], t[6], t[7]], pending, &P)
}

impl Fe {
    pub(crate) const ZERO: Fe = Fe([0; 4]);
    /// 1 in Montgomery form (R mod p).
    pub(crate) const ONE: Fe = Fe([
        0x0000_0000_0000_0001,
        0x0000_0000_ffff_ffff,
        0x0000_0000_0000_0000,
        0x0000_0001_0000_0000,
    ]);
    /// The curve coefficient b in Montgomery form.
    pub(crate) const B: Fe = Fe([
        0x90d2_3063_2bc0_dd42,
        0x71cf_379a_e9b5_37ab,
        0x5279_8150_5ea5_1c3c,
        0x240f_e188_ba20_e2c8,
    ]);

    /// The element with canonical little-endian limbs `a` (must be < p).
    #[inline]
    pub(crate) fn from_canonical(a: &[u64; 4]) -> Fe {
        Fe(redc(mul_wide(a, &R2)))
    }

    /// Canonical little-endian limbs (< p).
    #[inline]
    pub(crate) fn to_canonical(self) -> [u64; 4] {
        redc([self.0[0], self.0[1], self.0[2], self.0[3], 0, 0, 0, 0])
    }

    /// From 32 big-endian bytes; `None` unless the value is < p.
    pub(crate) fn from_bytes(bytes: &[u8; 32]) -> Option<Fe> {
        let limbs = limbs_from_be(bytes);
        lt(&limbs, &P).then(|| Fe::from_canonical(&limbs))
    }

    /// 32 big-endian bytes of the canonical value.
    pub(crate) fn to_bytes(self) -> [u8; 32] {
        limbs_to_be(&self.to_canonical())
    }

    #[inline(always)]
    pub(crate) fn mul(&self, b: &Fe) -> Fe {
        Fe(redc(mul_wide(&self.0, &b.0)))
    }

    #[inline(always)]
    pub(crate) fn square(&self) -> Fe {
        Fe(redc(square_wide(&self.0)))
    }

    #[inline(always)]
    pub(crate) fn add(&self, b: &Fe) -> Fe {
        Fe(add_mod(&self.0, &b.0, &P))
    }

    #[inline(always)]
    pub(crate) fn sub(&self, b: &Fe) -> Fe {
        Fe(sub_mod(&self.0, &b.0, &P))
    }

    #[inline(always)]
    pub(crate) fn double(&self) -> Fe {
        self.add(self)
    }

    /// self·2^k for k ∈ 1..=3 with one reduction: the bits shifted out, h < 8, fold back as
    /// h·(2^256 mod p) = h·(2^224 + 2^96 − 2^64 + 1), then one conditional subtraction.
    #[inline(always)]
    pub(crate) fn shl_small(&self, k: u32) -> Fe {
        debug_assert!((1..=3).contains(&k));
        let a = &self.0;
        let h = a[3] >> (64 - k);
        let l0 = a[0] << k;
        let l1 = (a[1] << k) | (a[0] >> (64 - k));
        let l2 = (a[2] << k) | (a[1] >> (64 - k));
        let l3 = (a[3] << k) | (a[2] >> (64 - k));
        // h·R = [h, h·(2^32 − 1), 0, h·2^32] (no limb overflows for h < 8).
        let (s0, c) = adc(l0, h, false);
        let (s1, c) = adc(l1, (h << 32) - h, c);
        let (s2, c) = adc(l2, 0, c);
        let (s3, c) = adc(l3, h << 32, c);
        Fe(sub_if_ge(&[s0, s1, s2, s3], c, &P))
    }

    #[inline(always)]
    pub(crate) fn neg(&self) -> Fe {
        Fe::ZERO.sub(self)
    }

    /// Whether the element is zero (variable time: use on public values only).
    #[inline]
    pub(crate) fn is_zero_vartime(&self) -> bool {
        is_zero(&self.0)
    }

    /// Equality (variable time: use on public values only). Representations are canonical.
    #[inline]
    pub(crate) fn eq_vartime(&self, b: &Fe) -> bool {
        self.0 == b.0
    }

    /// self^(2^n).
    #[inline]
    fn square_n(&self, n: usize) -> Fe {
        let mut r = *self;
        for _ in 0..n {
            r = r.square();
        }
        r
    }

    /// (x^(2^30 − 1), x^(2^31 − 1), x^(2^32 − 1)): the blocks of ones that the binary forms of
    /// p − 2 and (p + 1)/4 are made of (31 squarings, 8 multiplications).
    fn ones_blocks(&self) -> (Fe, Fe, Fe) {
        let x = self;
        let a2 = x.square().mul(x);
        let a3 = a2.square().mul(x);
        let a6 = a3.square_n(3).mul(&a3);
        let a12 = a6.square_n(6).mul(&a6);
        let a15 = a12.square_n(3).mul(&a3);
        let a30 = a15.square_n(15).mul(&a15);
        let a31 = a30.square().mul(x);
        let a32 = a31.square().mul(x);
        (a30, a31, a32)
    }

    /// x^e for the common top of both exponents, binary 1^31 0 1^128 (160 bits).
    fn top_160(a31: &Fe, a32: &Fe) -> Fe {
        let mut r = a31.square_n(33).mul(a32);
        for _ in 0..3 {
            r = r.square_n(32).mul(a32);
        }
        r
    }

    /// a^(p−2) = a⁻¹ (0 for 0) by an addition chain (256 squarings, 15 multiplications):
    /// p − 2 = 1^31 0 1^128 0^32 1^62 0 1 in binary. The chain is fixed, so this is constant-time.
    pub(crate) fn invert(&self) -> Fe {
        let (a30, a31, a32) = self.ones_blocks();
        let r = Fe::top_160(&a31, &a32);
        let r = r.square_n(64).mul(&a32);
        let r = r.square_n(30).mul(&a30);
        r.square_n(2).mul(self)
    }

    /// a⁻¹ by generic fixed-window exponentiation (cross-check for [`Fe::invert`]).
    #[cfg(test)]
    fn invert_generic(&self) -> Fe {
        pow_fixed(*self, Fe::ONE, &P_MINUS_2, Fe::mul, Fe::square)
    }

    /// A square root if one exists: a^((p+1)/4) (p ≡ 3 mod 4) by an addition chain,
    /// (p + 1)/4 = 1^31 0 1^128 0^31 1 0^62 in binary (254 squarings, 13 multiplications).
    pub(crate) fn sqrt(&self) -> Option<Fe> {
        let (_, a31, a32) = self.ones_blocks();
        let r = Fe::top_160(&a31, &a32);
        let r = r.square_n(32).mul(self).square_n(62);
        r.square().eq_vartime(self).then_some(r)
    }

    /// Square root candidate by generic exponentiation (cross-check for [`Fe::sqrt`]).
    #[cfg(test)]
    fn sqrt_generic(&self) -> Fe {
        pow_fixed(*self, Fe::ONE, &P_PLUS_1_DIV_4, Fe::mul, Fe::square)
    }

    /// Whether the canonical value is odd.
    pub(crate) fn is_odd(&self) -> bool {
        self.to_canonical()[0] & 1 == 1
    }
}

impl ConditionallySelectable for Fe {
    #[inline(always)]
    fn conditional_select(a: &Fe, b: &Fe, choice: Choice) -> Fe {
        Fe([
            u64::conditional_select(&a.0[0], &b.0[0], choice),
            u64::conditional_select(&a.0[1], &b.0[1], choice),
            u64::conditional_select(&a.0[2], &b.0[2], choice),
            u64::conditional_select(&a.0[3], &b.0[3], choice),
        ])
    }
}

impl ConstantTimeEq for Fe {
    fn ct_eq(&self, other: &Fe) -> Choice {
        self.0[0].ct_eq(&other.0[0])
            & self.0[1].ct_eq(&other.0[1])
            & self.0[2].ct_eq(&other.0[2])
            & self.0[3].ct_eq(&other.0[3])
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn fe(hex: &str) -> Fe {
        let mut b = [0u8; 32];
        let digits = format!("{hex:0>64}");
        for (i, byte) in b.iter_mut().enumerate() {
            *byte = u8::from_str_radix(&digits[2 * i..2 * i + 2], 16).unwrap();
        }
        Fe::from_bytes(&b).unwrap()
    }

    fn p_minus(k: u64) -> Fe {
        Fe::from_canonical(&[P[0] - k, P[1], P[2], P[3]])
    }

    #[test]
    fn canonical_round_trip_and_range() {
        let x = fe("32C4AE2C1F1981195F9904466A39C9948FE30BBFF2660BE1715A4589334C74C7");
        assert_eq!(
            Fe::from_bytes(&x.to_bytes()).unwrap().to_canonical(),
            x.to_canonical()
        );
        assert!(Fe::from_bytes(&limbs_to_be(&P)).is_none());
        assert!(Fe::from_bytes(&[0xff; 32]).is_none());
        assert_eq!(
            p_minus(1).to_bytes(),
            limbs_to_be(&[P[0] - 1, P[1], P[2], P[3]])
        );
        assert_eq!(Fe::ONE.to_canonical(), [1, 0, 0, 0]);
    }

    #[test]
    fn known_products() {
        // (p − 1)² ≡ 1, (p − 1)·2 ≡ p − 2, (p−1) + 1 ≡ 0, 0 − 1 ≡ p − 1.
        let m1 = p_minus(1);
        assert_eq!(m1.square().to_canonical(), [1, 0, 0, 0]);
        assert_eq!(m1.mul(&m1).to_canonical(), [1, 0, 0, 0]);
        assert_eq!(m1.double().to_canonical(), p_minus(2).to_canonical());
        assert!(m1.add(&Fe::ONE).is_zero_vartime());
        assert_eq!(Fe::ZERO.sub(&Fe::ONE).to_canonical(), m1.to_canonical());
        // Small shifts agree with repeated doubling, also next to p.
        for x in [
            m1,
            p_minus(7),
            Fe::ONE,
            fe("FFFFFFFE00000000FFFFFFFFFFFFFFFFFFFFFFFF00000000FFFFFFFFFFFFFFF0"),
        ] {
            assert!(x.shl_small(1).eq_vartime(&x.double()));
            assert!(x.shl_small(2).eq_vartime(&x.double().double()));
            assert!(x.shl_small(3).eq_vartime(&x.double().double().double()));
        }
        // 2^128 · 2^128 = 2^256 ≡ 2^224 + 2^96 − 2^64 + 1.
        let t128 = Fe::from_canonical(&[0, 0, 1, 0]);
        assert_eq!(
            t128.square().to_canonical(),
            [1, 0x0000_0000_ffff_ffff, 0, 0x0000_0001_0000_0000]
        );
        // Values computed independently (Python):
        // Gx·Gy mod p and Gx² mod p.
        let gx = fe("32C4AE2C1F1981195F9904466A39C9948FE30BBFF2660BE1715A4589334C74C7");
        let gy = fe("BC3736A2F4F6779C59BDCEE36B692153D0A9877CC62A474002DF32E52139F0A0");
        assert_eq!(
            gx.mul(&gy).to_bytes(),
            fe("EDD7E745BDC4630CCFA1DA1057033A525346DBF202F082F3C431349991ACE76A").to_bytes()
        );
        assert_eq!(
            gx.square().to_bytes(),
            fe("F4E2CCA0BCFD67FBA8531EEBFF519E4CB3D47F9FE8C5EFF5151F4C497EC99FBF").to_bytes()
        );
        assert_eq!(gx.square().to_bytes(), gx.mul(&gx).to_bytes());
    }

    #[test]
    fn generator_is_on_the_curve() {
        let gx = fe("32C4AE2C1F1981195F9904466A39C9948FE30BBFF2660BE1715A4589334C74C7");
        let gy = fe("BC3736A2F4F6779C59BDCEE36B692153D0A9877CC62A474002DF32E52139F0A0");
        let three_x = gx.double().add(&gx);
        let rhs = gx.square().mul(&gx).sub(&three_x).add(&Fe::B);
        assert_eq!(gy.square().to_bytes(), rhs.to_bytes());
        let root = rhs.sqrt().unwrap();
        assert!(root.eq_vartime(&gy) || root.eq_vartime(&gy.neg()));
    }

    #[test]
    fn inverse_and_sqrt_identities() {
        let mut x = fe("123456789abcdef0fedcba9876543210");
        for _ in 0..50 {
            let inv = x.invert();
            assert_eq!(x.mul(&inv).to_canonical(), [1, 0, 0, 0]);
            assert!(inv.eq_vartime(&x.invert_generic()));
            if let Some(root) = x.sqrt() {
                assert!(root.eq_vartime(&x.sqrt_generic()));
            }
            let sq = x.square();
            let root = sq.sqrt().unwrap();
            assert!(root.eq_vartime(&x) || root.eq_vartime(&x.neg()));
            // −1 is a non-residue for p ≡ 3 mod 4, so −x² has no root.
            assert!(sq.neg().sqrt().is_none());
            x = x.square().add(&Fe::ONE).add(&x);
        }
        assert!(Fe::ZERO.invert().is_zero_vartime());
        assert_eq!(
            p_minus(1).invert().to_canonical(),
            p_minus(1).to_canonical()
        );
    }
}
