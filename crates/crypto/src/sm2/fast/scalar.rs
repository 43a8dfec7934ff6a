//! Arithmetic mod n, the order of the SM2 base point, in Montgomery form (R = 2^256). Every
//! operation is branch-free, so signing's secret-dependent arithmetic is constant-time.

use ::sm2::elliptic_curve::subtle::{Choice, ConditionallySelectable};

use super::arith::{
    adc, add_mod, is_zero, limbs_from_be, limbs_to_be, lt, mac, mul_wide, pow_fixed, sub_if_ge,
    sub_mod,
};

/// n, little-endian limbs.
pub(crate) const N: [u64; 4] = [
    0x53bb_f409_39d5_4123,
    0x7203_df6b_21c6_052b,
    0xffff_ffff_ffff_ffff,
    0xffff_fffe_ffff_ffff,
];
/// −n⁻¹ mod 2^64.
const N0: u64 = 0x327f_9e88_7235_0975;
/// R² mod n.
const R2: [u64; 4] = [
    0x9011_92af_7c11_4f20,
    0x3464_504a_de6f_a2fa,
    0x620f_c84c_3aff_e0d4,
    0x1eb5_e412_a22b_3d3b,
];
/// n − 2 (Fermat inversion exponent).
const N_MINUS_2: [u64; 4] = [N[0] - 2, N[1], N[2], N[3]];

/// A scalar mod n in Montgomery form, fully reduced.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Scalar([u64; 4]);

/// Montgomery reduction of t < n·2^256.
#[inline(always)]
fn redc(t: [u64; 8]) -> [u64; 4] {
    let mut t = t;
    let mut pending = false;
    for i in 0..4 {
        let m = t[i].wrapping_mul(N0);
        let mut carry = 0;
        for j in 0..4 {
            let (lo, hi) = mac(t[i + j], m, N[j], carry);
            t[i + j] = lo;
            carry = hi;
        }
        let (s, c) = adc(t[i + 4], carry, pending);
        t[i + 4] = s;
        pending = c;
    }
    sub_if_ge(&[t[4], t[5], t[6], t[7]], pending, &N)
}

impl Scalar {
    /// 1 in Montgomery form (R mod n).
    pub(crate) const ONE: Scalar = Scalar([
        0xac44_0bf6_c62a_bedd,
        0x8dfc_2094_de39_fad4,
        0x0000_0000_0000_0000,
        0x0000_0001_0000_0000,
    ]);

    /// From canonical little-endian limbs, which must be < n.
    #[inline]
    fn from_canonical(a: &[u64; 4]) -> Scalar {
        Scalar(redc(mul_wide(a, &R2)))
    }

    /// Canonical little-endian limbs.
    #[inline]
    pub(crate) fn to_canonical(self) -> [u64; 4] {
        redc([self.0[0], self.0[1], self.0[2], self.0[3], 0, 0, 0, 0])
    }

    /// From 32 big-endian bytes; `None` unless the value is < n.
    pub(crate) fn from_bytes(bytes: &[u8; 32]) -> Option<Scalar> {
        let limbs = limbs_from_be(bytes);
        lt(&limbs, &N).then(|| Scalar::from_canonical(&limbs))
    }

    /// 32 big-endian bytes reduced mod n (any 256-bit value is below 2n, so one conditional
    /// subtraction suffices; branch-free).
    pub(crate) fn reduce_bytes(bytes: &[u8; 32]) -> Scalar {
        Scalar::reduce_limbs(&limbs_from_be(bytes))
    }

    /// Little-endian limbs reduced mod n (branch-free).
    pub(crate) fn reduce_limbs(limbs: &[u64; 4]) -> Scalar {
        Scalar::from_canonical(&sub_if_ge(limbs, false, &N))
    }

    /// 32 big-endian bytes of the canonical value.
    pub(crate) fn to_bytes(self) -> [u8; 32] {
        limbs_to_be(&self.to_canonical())
    }

    #[inline]
    pub(crate) fn mul(&self, b: &Scalar) -> Scalar {
        Scalar(redc(mul_wide(&self.0, &b.0)))
    }

    #[inline]
    fn square(&self) -> Scalar {
        self.mul(self)
    }

    #[inline]
    pub(crate) fn add(&self, b: &Scalar) -> Scalar {
        Scalar(add_mod(&self.0, &b.0, &N))
    }

    #[inline]
    pub(crate) fn sub(&self, b: &Scalar) -> Scalar {
        Scalar(sub_mod(&self.0, &b.0, &N))
    }

    /// Whether the scalar is zero (variable time: public values only).
    pub(crate) fn is_zero_vartime(&self) -> bool {
        is_zero(&self.0)
    }

    /// a^(n−2) = a⁻¹ (0 for 0). Constant-time in `self`.
    pub(crate) fn invert(&self) -> Scalar {
        pow_fixed(*self, Scalar::ONE, &N_MINUS_2, Scalar::mul, Scalar::square)
    }

    /// Overwrites the limbs with zeros (for secrets).
    pub(crate) fn wipe(&mut self) {
        // Volatile-free best effort like `zeroize` does for integers.
        use zeroize::Zeroize as _;
        self.0.zeroize();
    }
}

impl ConditionallySelectable for Scalar {
    fn conditional_select(a: &Scalar, b: &Scalar, choice: Choice) -> Scalar {
        Scalar([
            u64::conditional_select(&a.0[0], &b.0[0], choice),
            u64::conditional_select(&a.0[1], &b.0[1], choice),
            u64::conditional_select(&a.0[2], &b.0[2], choice),
            u64::conditional_select(&a.0[3], &b.0[3], choice),
        ])
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn sc(hex: &str) -> Scalar {
        let mut b = [0u8; 32];
        let digits = format!("{hex:0>64}");
        for (i, byte) in b.iter_mut().enumerate() {
            *byte = u8::from_str_radix(&digits[2 * i..2 * i + 2], 16).unwrap();
        }
        Scalar::from_bytes(&b).unwrap()
    }

    #[test]
    fn range_and_reduction() {
        assert!(Scalar::from_bytes(&limbs_to_be(&N)).is_none());
        assert!(Scalar::reduce_bytes(&limbs_to_be(&N)).is_zero_vartime());
        // 2^256 − 1 mod n = 2^256 − 1 − n.
        let r = Scalar::reduce_bytes(&[0xff; 32]).to_canonical();
        let (d0, b) = super::super::arith::sbb(u64::MAX, N[0], false);
        let (d1, b) = super::super::arith::sbb(u64::MAX, N[1], b);
        let (d2, b) = super::super::arith::sbb(u64::MAX, N[2], b);
        let (d3, _) = super::super::arith::sbb(u64::MAX, N[3], b);
        assert_eq!(r, [d0, d1, d2, d3]);
        assert_eq!(Scalar::ONE.to_canonical(), [1, 0, 0, 0]);
    }

    #[test]
    fn known_products_and_inverses() {
        let m1 = Scalar::from_canonical(&[N[0] - 1, N[1], N[2], N[3]]);
        assert_eq!(m1.mul(&m1).to_canonical(), [1, 0, 0, 0]);
        assert!(m1.add(&Scalar::ONE).is_zero_vartime());
        assert_eq!(
            Scalar([0; 4]).sub(&Scalar::ONE).to_canonical(),
            m1.to_canonical()
        );
        // Independent value (Python): Gx·Gy mod n, with Gx and Gy read as integers < n.
        let a = sc("32C4AE2C1F1981195F9904466A39C9948FE30BBFF2660BE1715A4589334C74C7");
        let b = sc("BC3736A2F4F6779C59BDCEE36B692153D0A9877CC62A474002DF32E52139F0A0");
        assert_eq!(
            a.mul(&b).to_bytes(),
            sc("CF7296D5CBF0B64BB5E9A11B294962E9C779B41C038E9C8D815234A0DF9D6623").to_bytes()
        );
        let mut x = a;
        for _ in 0..50 {
            assert_eq!(x.mul(&x.invert()).to_canonical(), [1, 0, 0, 0]);
            x = x.mul(&b).add(&Scalar::ONE);
        }
        assert!(Scalar([0; 4]).invert().is_zero_vartime());
    }
}
