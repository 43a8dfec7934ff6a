//! Keel's own SM2 arithmetic on sm2p256v1, specialised for speed (ADR 0007): Montgomery field
//! arithmetic exploiting the special form of p, Jacobian points with a = −3 doubling, a
//! constant-time fixed-base comb for signing and key derivation, and a variable-time
//! wNAF double-scalar multiplication for verification that compares x-coordinates without an
//! inversion.
//!
//! Secret-dependent code (key derivation, signing) is branch-free with table lookups by
//! constant-time selects over whole table rows; verification handles only public data.

mod arith;
mod field;
pub(crate) mod keycache;
mod point;
mod scalar;
mod table;

use arith::{adc, limbs_from_be, lt};
use field::{Fe, P};
use point::Affine;
use scalar::{N, Scalar};

pub(crate) use point::Affine as PublicPoint;

/// Builds the generator tables now rather than on first use.
pub(crate) fn precompute() {
    table::precompute();
}

/// An SM2 secret scalar d with (1 + d)⁻¹ cached for signing; wiped on drop.
pub(crate) struct FastSecret {
    d: Scalar,
    d_plus_1_inv: Scalar,
}

impl Clone for FastSecret {
    fn clone(&self) -> Self {
        FastSecret {
            d: self.d,
            d_plus_1_inv: self.d_plus_1_inv,
        }
    }
}

impl Drop for FastSecret {
    fn drop(&mut self) {
        self.d.wipe();
        self.d_plus_1_inv.wipe();
    }
}

impl FastSecret {
    /// The secret for d (big-endian) in [1, n − 2] with its public key d·G; `None` if d is out
    /// of range. Constant-time in d apart from the range check.
    pub(crate) fn new(d_bytes: &[u8; 32]) -> Option<(FastSecret, Affine)> {
        let limbs = limbs_from_be(d_bytes);
        let d = Scalar::from_bytes(d_bytes)?;
        // GB/T 32918.1 §6.1 takes d ∈ [1, n − 2]: d = n − 1 has no (1 + d)⁻¹.
        let d_plus_1 = d.add(&Scalar::ONE);
        if d.is_zero_vartime() || d_plus_1.is_zero_vartime() {
            return None;
        }
        let public = table::mul_base_ct(&limbs).to_affine()?;
        let d_plus_1_inv = d_plus_1.invert();
        Some((FastSecret { d, d_plus_1_inv }, public))
    }

    /// GB/T 32918.2 §6.1 A4–A7 for digest e and nonce k (big-endian); `None` if k ∉ [1, n − 1],
    /// r = 0, r + k = n or s = 0.
    pub(crate) fn sign_with_nonce(&self, e: &[u8; 32], k_bytes: &[u8; 32]) -> Option<[u8; 64]> {
        let mut k = Scalar::from_bytes(k_bytes)?;
        let k_limbs = limbs_from_be(k_bytes);
        if k.is_zero_vartime() {
            return None;
        }
        // A4: (x1, y1) = k·G
        let point = table::mul_base_ct(&k_limbs).to_affine()?;
        // A5: r = (e + x1) mod n; x1 < p < 2n.
        let x1 = Scalar::reduce_limbs(&point.x.to_canonical());
        let r = Scalar::reduce_bytes(e).add(&x1);
        // r is published; r + k = n is public in effect (it would reveal k = −r) and rejected.
        if r.is_zero_vartime() || r.add(&k).is_zero_vartime() {
            k.wipe();
            return None;
        }
        // A6: s = (1 + d)⁻¹·(k − r·d) mod n
        let s = self.d_plus_1_inv.mul(&k.sub(&r.mul(&self.d)));
        k.wipe();
        if s.is_zero_vartime() {
            return None;
        }
        let mut out = [0u8; 64];
        out[..32].copy_from_slice(&r.to_bytes());
        out[32..].copy_from_slice(&s.to_bytes());
        Some(out)
    }
}

/// Big-endian affine coordinates.
pub(crate) fn encode_xy(p: &Affine) -> ([u8; 32], [u8; 32]) {
    (p.x.to_bytes(), p.y.to_bytes())
}

/// A SEC1 public key, compressed (33 bytes) or uncompressed (65 bytes), that is a point on
/// sm2p256v1 (the identity has no such encoding). Coordinates must be < p.
pub(crate) fn parse_public_key(bytes: &[u8]) -> Option<Affine> {
    match bytes.len() {
        33 => {
            let y_odd = match bytes[0] {
                2 => false,
                3 => true,
                _ => return None,
            };
            let x = Fe::from_bytes(bytes[1..33].try_into().ok()?)?;
            Affine::decompress(&x, y_odd)
        }
        65 => {
            if bytes[0] != 4 {
                return None;
            }
            let x = Fe::from_bytes(bytes[1..33].try_into().ok()?)?;
            let y = Fe::from_bytes(bytes[33..65].try_into().ok()?)?;
            let point = Affine { x, y };
            point.is_on_curve().then_some(point)
        }
        _ => None,
    }
}

/// Whether r and s of `r‖s` both lie in [1, n − 1] (GB/T 32918.2 §7.1 B1–B2).
pub(crate) fn signature_in_range(sig: &[u8; 64]) -> bool {
    let in_range = |half: &[u8]| {
        <[u8; 32]>::try_from(half)
            .ok()
            .and_then(|b| Scalar::from_bytes(&b))
            .is_some_and(|x| !x.is_zero_vartime())
    };
    in_range(&sig[..32]) && in_range(&sig[32..])
}

/// GB/T 32918.2 §7.1 B1–B7 for digest e: r, s ∈ [1, n − 1], t = r + s ≠ 0,
/// (x1, y1) = s·G + t·P, accept iff (e + x1) mod n = r. Variable time (public data).
///
/// x1 is compared without inverting Z: x1 = X/Z² ≡ r − e (mod n) means x1 = v or x1 = v + n
/// where v = (r − e) mod n (only if v + n < p), i.e. X = v·Z² or X = (v + n)·Z².
pub(crate) fn verify_prehash(public: &Affine, e: &[u8; 32], sig: &[u8; 64]) -> bool {
    verify_prehash_with(public, None, e, sig)
}

/// [`verify_prehash`], using `comb` (the cached comb table of `public`) when given.
pub(crate) fn verify_prehash_with(
    public: &Affine,
    comb: Option<&table::Comb>,
    e: &[u8; 32],
    sig: &[u8; 64],
) -> bool {
    let (r_bytes, s_bytes) = sig.split_at(32);
    let (Ok(r_bytes), Ok(s_bytes)) = (<[u8; 32]>::try_from(r_bytes), <[u8; 32]>::try_from(s_bytes))
    else {
        return false;
    };
    let (Some(r), Some(s)) = (Scalar::from_bytes(&r_bytes), Scalar::from_bytes(&s_bytes)) else {
        return false;
    };
    if r.is_zero_vartime() || s.is_zero_vartime() {
        return false;
    }
    let t = r.add(&s);
    if t.is_zero_vartime() {
        return false;
    }
    let point = match comb {
        Some(c) => table::mul_double_comb_vartime(&s.to_canonical(), &t.to_canonical(), c),
        None => table::mul_double_vartime(&s.to_canonical(), &t.to_canonical(), public),
    };
    if point.is_identity_vartime() {
        return false;
    }
    let v = r.sub(&Scalar::reduce_bytes(e)).to_canonical();
    let z2 = point.z.square();
    if Fe::from_canonical(&v).mul(&z2).eq_vartime(&point.x) {
        return true;
    }
    let (w0, c) = adc(v[0], N[0], false);
    let (w1, c) = adc(v[1], N[1], c);
    let (w2, c) = adc(v[2], N[2], c);
    let (w3, c) = adc(v[3], N[3], c);
    let w = [w0, w1, w2, w3];
    !c && lt(&w, &P) && Fe::from_canonical(&w).mul(&z2).eq_vartime(&point.x)
}

#[cfg(test)]
mod tests;
