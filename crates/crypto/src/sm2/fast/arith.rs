//! 64-bit limb primitives shared by the field and scalar code. All are branch-free.

/// a + b + carry → (sum, carry out).
#[inline(always)]
pub(super) fn adc(a: u64, b: u64, carry: bool) -> (u64, bool) {
    a.carrying_add(b, carry)
}

/// a − b − borrow → (difference, borrow out).
#[inline(always)]
pub(super) fn sbb(a: u64, b: u64, borrow: bool) -> (u64, bool) {
    a.borrowing_sub(b, borrow)
}

/// a + b·c + carry → (low, high). Never overflows u128.
#[inline(always)]
pub(super) const fn mac(a: u64, b: u64, c: u64, carry: u64) -> (u64, u64) {
    let t = (a as u128) + (b as u128) * (c as u128) + (carry as u128);
    (t as u64, (t >> 64) as u64)
}

/// The 512-bit product a·b (product scanning with a three-limb column accumulator, 16
/// multiplications).
#[inline(always)]
pub(super) fn mul_wide(a: &[u64; 4], b: &[u64; 4]) -> [u64; 8] {
    let mut t = [0u64; 8];
    let (mut c0, mut c1, mut c2) = (0u64, 0u64, 0u64);
    for k in 0usize..7 {
        let lo = k.saturating_sub(3);
        let hi = if k < 3 { k } else { 3 };
        for i in lo..=hi {
            let p = (a[i] as u128) * (b[k - i] as u128);
            let (s, c) = adc(c0, p as u64, false);
            c0 = s;
            let (s, c) = adc(c1, (p >> 64) as u64, c);
            c1 = s;
            c2 += u64::from(c);
        }
        t[k] = c0;
        c0 = c1;
        c1 = c2;
        c2 = 0;
    }
    t[7] = c0;
    t
}

/// The 512-bit square a² (6 cross products doubled plus 4 squares).
#[inline(always)]
pub(super) fn square_wide(a: &[u64; 4]) -> [u64; 8] {
    let mut t = [0u64; 8];
    for i in 0..3 {
        let mut carry = 0;
        for j in (i + 1)..4 {
            let (lo, hi) = mac(t[i + j], a[i], a[j], carry);
            t[i + j] = lo;
            carry = hi;
        }
        t[i + 4] = carry;
    }
    // Double the cross products.
    t[7] = t[6] >> 63;
    for i in (1..7).rev() {
        t[i] = (t[i] << 1) | (t[i - 1] >> 63);
    }
    t[0] <<= 1;
    // Add the squares a_i² at positions 2i.
    let mut carry = false;
    for i in 0..4 {
        let (lo, hi) = mac(0, a[i], a[i], 0);
        let (s0, c0) = adc(t[2 * i], lo, carry);
        let (s1, c1) = adc(t[2 * i + 1], hi, c0);
        t[2 * i] = s0;
        t[2 * i + 1] = s1;
        carry = c1;
    }
    t
}

/// (hi:a) − m if that does not go negative, else a; `hi` is an extra top bit and the input is
/// below 2m. Branch-free.
#[inline(always)]
pub(super) fn sub_if_ge(a: &[u64; 4], hi: bool, m: &[u64; 4]) -> [u64; 4] {
    let (d0, b) = sbb(a[0], m[0], false);
    let (d1, b) = sbb(a[1], m[1], b);
    let (d2, b) = sbb(a[2], m[2], b);
    let (d3, b) = sbb(a[3], m[3], b);
    let (_, b) = sbb(u64::from(hi), 0, b);
    // Borrow: (hi:a) < m, keep a.
    let keep = u64::from(b).wrapping_neg();
    [
        (a[0] & keep) | (d0 & !keep),
        (a[1] & keep) | (d1 & !keep),
        (a[2] & keep) | (d2 & !keep),
        (a[3] & keep) | (d3 & !keep),
    ]
}

/// (a + b) mod m for a, b < m.
#[inline(always)]
pub(super) fn add_mod(a: &[u64; 4], b: &[u64; 4], m: &[u64; 4]) -> [u64; 4] {
    let (s0, c) = adc(a[0], b[0], false);
    let (s1, c) = adc(a[1], b[1], c);
    let (s2, c) = adc(a[2], b[2], c);
    let (s3, c) = adc(a[3], b[3], c);
    sub_if_ge(&[s0, s1, s2, s3], c, m)
}

/// (a − b) mod m for a, b < m.
#[inline(always)]
pub(super) fn sub_mod(a: &[u64; 4], b: &[u64; 4], m: &[u64; 4]) -> [u64; 4] {
    let (d0, bw) = sbb(a[0], b[0], false);
    let (d1, bw) = sbb(a[1], b[1], bw);
    let (d2, bw) = sbb(a[2], b[2], bw);
    let (d3, bw) = sbb(a[3], b[3], bw);
    // On borrow add m back.
    let mask = u64::from(bw).wrapping_neg();
    let (r0, c) = adc(d0, m[0] & mask, false);
    let (r1, c) = adc(d1, m[1] & mask, c);
    let (r2, c) = adc(d2, m[2] & mask, c);
    let (r3, _) = adc(d3, m[3] & mask, c);
    [r0, r1, r2, r3]
}

/// Big-endian 32 bytes → little-endian limbs.
#[inline]
pub(super) fn limbs_from_be(bytes: &[u8; 32]) -> [u64; 4] {
    let mut out = [0u64; 4];
    for (i, limb) in out.iter_mut().enumerate() {
        let mut word = [0u8; 8];
        word.copy_from_slice(&bytes[32 - 8 * (i + 1)..32 - 8 * i]);
        *limb = u64::from_be_bytes(word);
    }
    out
}

/// Little-endian limbs → big-endian 32 bytes.
#[inline]
pub(super) fn limbs_to_be(limbs: &[u64; 4]) -> [u8; 32] {
    let mut out = [0u8; 32];
    for (i, limb) in limbs.iter().enumerate() {
        out[32 - 8 * (i + 1)..32 - 8 * i].copy_from_slice(&limb.to_be_bytes());
    }
    out
}

/// Whether a < m (variable time is not needed: branch-free borrow chain).
#[inline]
pub(super) fn lt(a: &[u64; 4], m: &[u64; 4]) -> bool {
    let (_, b) = sbb(a[0], m[0], false);
    let (_, b) = sbb(a[1], m[1], b);
    let (_, b) = sbb(a[2], m[2], b);
    let (_, b) = sbb(a[3], m[3], b);
    b
}

/// Whether all limbs are zero.
#[inline]
pub(super) fn is_zero(a: &[u64; 4]) -> bool {
    (a[0] | a[1] | a[2] | a[3]) == 0
}

/// a^e by 4-bit fixed windows, for a public exponent `e` (little-endian limbs): the sequence of
/// operations depends only on `e`, so this is constant-time in the base.
#[inline]
pub(super) fn pow_fixed<T: Copy>(
    base: T,
    one: T,
    e: &[u64; 4],
    mul: impl Fn(&T, &T) -> T,
    sqr: impl Fn(&T) -> T,
) -> T {
    let mut table = [one; 16];
    for i in 1..16 {
        table[i] = mul(&table[i - 1], &base);
    }
    let mut acc = one;
    for i in (0..64).rev() {
        for _ in 0..4 {
            acc = sqr(&acc);
        }
        let nibble = ((e[i / 16] >> ((i % 16) * 4)) & 0xf) as usize;
        if nibble != 0 {
            acc = mul(&acc, &table[nibble]);
        }
    }
    acc
}
