//! Points of y² = x³ − 3x + b over GF(p): affine (table entries, public keys) and Jacobian
//! (X/Z², Y/Z³; Z = 0 is the identity) for accumulators.
//!
//! Two families of formulas:
//! - `*_vartime`: complete by case analysis (identity, P = Q, P = −Q), for verification, which
//!   handles only public data.
//! - [`Jacobian::add_mixed_ct`]: the plain mixed addition with no branches, for fixed-base
//!   multiplication of secrets; its caller guarantees the exceptional cases never arise or
//!   selects the result away (see `table.rs`).

use ::sm2::elliptic_curve::subtle::{Choice, ConditionallySelectable};

use super::field::Fe;

/// An affine point that is not the identity.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Affine {
    pub(crate) x: Fe,
    pub(crate) y: Fe,
}

/// A point in Jacobian coordinates; Z = 0 is the identity.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Jacobian {
    pub(crate) x: Fe,
    pub(crate) y: Fe,
    pub(crate) z: Fe,
}

impl Affine {
    /// The base point G.
    pub(crate) fn generator() -> Affine {
        let g = &super::super::SM2P256V1;
        Affine {
            x: Fe::from_bytes(&g.gx).unwrap_or_default(),
            y: Fe::from_bytes(&g.gy).unwrap_or_default(),
        }
    }

    /// Whether y² = x³ − 3x + b.
    pub(crate) fn is_on_curve(&self) -> bool {
        self.y.square().eq_vartime(&curve_rhs(&self.x))
    }

    /// The point −P.
    #[inline]
    pub(crate) fn neg(&self) -> Affine {
        Affine {
            x: self.x,
            y: self.y.neg(),
        }
    }

    /// The point with affine x whose y has the given parity, if x is on the curve.
    pub(crate) fn decompress(x: &Fe, y_odd: bool) -> Option<Affine> {
        let y = curve_rhs(x).sqrt()?;
        let y = if y.is_odd() == y_odd { y } else { y.neg() };
        Some(Affine { x: *x, y })
    }
}

/// x³ − 3x + b.
pub(crate) fn curve_rhs(x: &Fe) -> Fe {
    let three_x = x.double().add(x);
    x.square().mul(x).sub(&three_x).add(&Fe::B)
}

impl ConditionallySelectable for Affine {
    #[inline(always)]
    fn conditional_select(a: &Affine, b: &Affine, choice: Choice) -> Affine {
        Affine {
            x: Fe::conditional_select(&a.x, &b.x, choice),
            y: Fe::conditional_select(&a.y, &b.y, choice),
        }
    }
}

impl ConditionallySelectable for Jacobian {
    #[inline(always)]
    fn conditional_select(a: &Jacobian, b: &Jacobian, choice: Choice) -> Jacobian {
        Jacobian {
            x: Fe::conditional_select(&a.x, &b.x, choice),
            y: Fe::conditional_select(&a.y, &b.y, choice),
            z: Fe::conditional_select(&a.z, &b.z, choice),
        }
    }
}

impl Jacobian {
    pub(crate) const IDENTITY: Jacobian = Jacobian {
        x: Fe::ONE,
        y: Fe::ONE,
        z: Fe::ZERO,
    };

    #[inline]
    pub(crate) fn from_affine(p: &Affine) -> Jacobian {
        Jacobian {
            x: p.x,
            y: p.y,
            z: Fe::ONE,
        }
    }

    /// Whether this is the identity (variable time).
    #[inline]
    pub(crate) fn is_identity_vartime(&self) -> bool {
        self.z.is_zero_vartime()
    }

    /// Affine coordinates, `None` for the identity. One inversion; constant-time apart from the
    /// identity test.
    pub(crate) fn to_affine(self) -> Option<Affine> {
        if self.is_identity_vartime() {
            return None;
        }
        let zinv = self.z.invert();
        let zinv2 = zinv.square();
        Some(Affine {
            x: self.x.mul(&zinv2),
            y: self.y.mul(&zinv2.mul(&zinv)),
        })
    }

    /// 2P with a = −3 (dbl-2001-b: 3M + 5S). Branch-free; the identity (Z = 0) maps to Z = 0.
    #[inline]
    pub(crate) fn double(&self) -> Jacobian {
        let delta = self.z.square();
        let gamma = self.y.square();
        let beta = self.x.mul(&gamma);
        let t = self.x.sub(&delta).mul(&self.x.add(&delta));
        let alpha = t.double().add(&t);
        let beta4 = beta.shl_small(2);
        let x3 = alpha.square().sub(&beta.shl_small(3));
        let z3 = self.y.add(&self.z).square().sub(&gamma).sub(&delta);
        let gamma2_8 = gamma.square().shl_small(3);
        let y3 = alpha.mul(&beta4.sub(&x3)).sub(&gamma2_8);
        Jacobian {
            x: x3,
            y: y3,
            z: z3,
        }
    }

    /// P + Q for affine Q (madd-2007-bl: 7M + 4S) without any case analysis: correct only when
    /// P is not the identity and P ≠ ±Q. Branch-free.
    #[inline]
    pub(crate) fn add_mixed_ct(&self, q: &Affine) -> Jacobian {
        let z1z1 = self.z.square();
        let u2 = q.x.mul(&z1z1);
        let s2 = q.y.mul(&self.z).mul(&z1z1);
        let h = u2.sub(&self.x);
        let hh = h.square();
        let i = hh.shl_small(2);
        let j = h.mul(&i);
        let r = s2.sub(&self.y).double();
        let v = self.x.mul(&i);
        let x3 = r.square().sub(&j).sub(&v.double());
        let y3 = r.mul(&v.sub(&x3)).sub(&self.y.mul(&j).double());
        let z3 = self.z.add(&h).square().sub(&z1z1).sub(&hh);
        Jacobian {
            x: x3,
            y: y3,
            z: z3,
        }
    }

    /// P + Q for affine Q, all cases (variable time).
    #[inline]
    pub(crate) fn add_mixed_vartime(&self, q: &Affine) -> Jacobian {
        if self.is_identity_vartime() {
            return Jacobian::from_affine(q);
        }
        let z1z1 = self.z.square();
        let u2 = q.x.mul(&z1z1);
        let s2 = q.y.mul(&self.z).mul(&z1z1);
        let h = u2.sub(&self.x);
        let r = s2.sub(&self.y).double();
        if h.is_zero_vartime() {
            return if r.is_zero_vartime() {
                self.double()
            } else {
                Jacobian::IDENTITY
            };
        }
        let hh = h.square();
        let i = hh.shl_small(2);
        let j = h.mul(&i);
        let v = self.x.mul(&i);
        let x3 = r.square().sub(&j).sub(&v.double());
        let y3 = r.mul(&v.sub(&x3)).sub(&self.y.mul(&j).double());
        let z3 = self.z.add(&h).square().sub(&z1z1).sub(&hh);
        Jacobian {
            x: x3,
            y: y3,
            z: z3,
        }
    }

    /// P + Q, all cases (add-2007-bl: 11M + 5S; variable time).
    pub(crate) fn add_vartime(&self, q: &Jacobian) -> Jacobian {
        if self.is_identity_vartime() {
            return *q;
        }
        if q.is_identity_vartime() {
            return *self;
        }
        let z1z1 = self.z.square();
        let z2z2 = q.z.square();
        let u1 = self.x.mul(&z2z2);
        let u2 = q.x.mul(&z1z1);
        let s1 = self.y.mul(&q.z).mul(&z2z2);
        let s2 = q.y.mul(&self.z).mul(&z1z1);
        let h = u2.sub(&u1);
        let r = s2.sub(&s1).double();
        if h.is_zero_vartime() {
            return if r.is_zero_vartime() {
                self.double()
            } else {
                Jacobian::IDENTITY
            };
        }
        let i = h.double().square();
        let j = h.mul(&i);
        let v = u1.mul(&i);
        let x3 = r.square().sub(&j).sub(&v.double());
        let y3 = r.mul(&v.sub(&x3)).sub(&s1.mul(&j).double());
        let z3 = self.z.add(&q.z).square().sub(&z1z1).sub(&z2z2).mul(&h);
        Jacobian {
            x: x3,
            y: y3,
            z: z3,
        }
    }

    /// −P.
    #[inline]
    pub(crate) fn neg(&self) -> Jacobian {
        Jacobian {
            x: self.x,
            y: self.y.neg(),
            z: self.z,
        }
    }
}

/// Affine forms of many non-identity points with one inversion (Montgomery's trick).
/// Identity inputs map to the default (zero) point; callers never pass them.
pub(crate) fn batch_to_affine(points: &[Jacobian]) -> Vec<Affine> {
    let mut prefix = Vec::with_capacity(points.len());
    let mut acc = Fe::ONE;
    for p in points {
        prefix.push(acc);
        if !p.is_identity_vartime() {
            acc = acc.mul(&p.z);
        }
    }
    let mut inv = acc.invert();
    let mut out = vec![Affine::default(); points.len()];
    for (i, p) in points.iter().enumerate().rev() {
        if p.is_identity_vartime() {
            continue;
        }
        let zinv = inv.mul(&prefix[i]);
        inv = inv.mul(&p.z);
        let zinv2 = zinv.square();
        out[i] = Affine {
            x: p.x.mul(&zinv2),
            y: p.y.mul(&zinv2.mul(&zinv)),
        };
    }
    out
}
