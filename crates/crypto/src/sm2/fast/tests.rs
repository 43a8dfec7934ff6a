//! Cross-checks of the fast arithmetic against the RustCrypto `sm2` crate's curve arithmetic,
//! and verification edge cases.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use ::sm2::elliptic_curve::sec1::ToSec1Point as _;
use ::sm2::elliptic_curve::{Group as _, PrimeField as _};
use ::sm2::{FieldBytes, ProjectivePoint, PublicKey};

use super::arith::limbs_to_be;
use super::point::Jacobian;
use super::*;
use crate::HashAlgorithm;

type GScalar = ::sm2::Scalar;

fn bytes(i: u32, tag: &[u8]) -> [u8; 32] {
    HashAlgorithm::Sha256.digest_parts(&[b"fast sm2 unit", tag, &i.to_be_bytes()])
}

fn gscalar(b: &[u8; 32]) -> GScalar {
    Option::from(GScalar::from_repr(FieldBytes::from(*b))).expect("scalar < n")
}

/// Our affine point → the crate's point.
fn to_generic(p: &Affine) -> ProjectivePoint {
    let (x, y) = encode_xy(p);
    let sec1 = [&[4u8][..], &x, &y].concat();
    PublicKey::from_sec1_bytes(&sec1).unwrap().to_projective()
}

/// The crate's point → uncompressed SEC1, or `None` for the identity.
fn generic_sec1(p: &ProjectivePoint) -> Option<Vec<u8>> {
    let enc = p.to_affine().to_sec1_point(false);
    (enc.as_bytes().len() == 65).then(|| enc.as_bytes().to_vec())
}

fn our_sec1(p: &Jacobian) -> Option<Vec<u8>> {
    let a = p.to_affine()?;
    let (x, y) = encode_xy(&a);
    Some([&[4u8][..], &x, &y].concat())
}

/// Scalars that stress the comb and the wNAF: small, window edges, n − 1, and pseudo-random.
fn interesting_scalars() -> Vec<[u8; 32]> {
    let n_minus = |k: u64| limbs_to_be(&[N[0] - k, N[1], N[2], N[3]]);
    let mut out = vec![
        limbs_to_be(&[1, 0, 0, 0]),
        limbs_to_be(&[2, 0, 0, 0]),
        limbs_to_be(&[15, 0, 0, 0]),
        limbs_to_be(&[16, 0, 0, 0]),
        limbs_to_be(&[0xffff_ffff_ffff_ffff, 0, 0, 0]),
        limbs_to_be(&[0, 0, 0, 1 << 60]),
        limbs_to_be(&[0, 0, 0, 0xf << 60]),
        limbs_to_be(&[0x8080_8080_8080_8080; 4]),
        n_minus(1),
        n_minus(2),
        n_minus(15),
    ];
    for i in 0..12 {
        let b = bytes(i, b"scalar");
        // Reduce mod n so it is a valid scalar.
        out.push(Scalar::reduce_bytes(&b).to_bytes());
    }
    out
}

#[test]
fn fixed_base_matches_the_sm2_crate() {
    for k in interesting_scalars() {
        let ours = table::mul_base_ct(&arith::limbs_from_be(&k));
        let theirs = ProjectivePoint::mul_by_generator(&gscalar(&k));
        assert_eq!(our_sec1(&ours), generic_sec1(&theirs), "k = {k:02x?}");
    }
}

#[test]
fn public_keys_match_and_n_minus_1_is_rejected() {
    for d in interesting_scalars() {
        let n_minus_1 = d == limbs_to_be(&[N[0] - 1, N[1], N[2], N[3]]);
        let Some((_, public)) = FastSecret::new(&d) else {
            assert!(n_minus_1, "valid d rejected");
            continue;
        };
        assert!(!n_minus_1);
        assert!(public.is_on_curve());
        let theirs = PublicKey::from_secret_scalar(
            &Option::from(::sm2::NonZeroScalar::from_repr(FieldBytes::from(d))).unwrap(),
        );
        let (x, y) = encode_xy(&public);
        assert_eq!(
            theirs.to_sec1_point(false).as_bytes(),
            &[&[4u8][..], &x, &y].concat()[..]
        );
    }
    assert!(FastSecret::new(&[0u8; 32]).is_none());
    assert!(FastSecret::new(&limbs_to_be(&N)).is_none());
    assert!(FastSecret::new(&[0xff; 32]).is_none());
}

#[test]
fn double_scalar_multiplication_matches_the_sm2_crate() {
    let scalars = interesting_scalars();
    let g = Affine::generator();
    let points: Vec<Affine> = (0..4)
        .map(|i| {
            let d = Scalar::reduce_bytes(&bytes(i, b"point")).to_bytes();
            FastSecret::new(&d).unwrap().1
        })
        .chain([g, g.neg()])
        .collect();
    for (i, s) in scalars.iter().enumerate() {
        let t = &scalars[(i * 7 + 3) % scalars.len()];
        for p in &points {
            let ours =
                table::mul_double_vartime(&arith::limbs_from_be(s), &arith::limbs_from_be(t), p);
            let theirs =
                ProjectivePoint::mul_by_generator(&gscalar(s)) + to_generic(p) * gscalar(t);
            assert_eq!(our_sec1(&ours), generic_sec1(&theirs));
        }
    }
    // s·G + t·G with s + t = n is the identity; with s = t the additions hit doublings.
    let s = Scalar::reduce_bytes(&bytes(99, b"s"));
    let minus_s = Scalar::reduce_limbs(&[0, 0, 0, 0]).sub(&s);
    let sum = table::mul_double_vartime(&s.to_canonical(), &minus_s.to_canonical(), &g);
    assert!(sum.is_identity_vartime());
    let twice = table::mul_double_vartime(&s.to_canonical(), &s.to_canonical(), &g);
    let expected = ProjectivePoint::mul_by_generator(&(gscalar(&s.to_bytes()).double()));
    assert_eq!(our_sec1(&twice), generic_sec1(&expected));
    // 0·G + 0·P is the identity.
    assert!(table::mul_double_vartime(&[0; 4], &[0; 4], &g).is_identity_vartime());
}

#[test]
fn jacobian_formulas_agree() {
    let g = Jacobian::from_affine(&Affine::generator());
    let g2 = g.double();
    let g3a = g2.add_vartime(&g);
    let g3b = g2.add_mixed_vartime(&Affine::generator());
    let g3c = g2.add_mixed_ct(&Affine::generator());
    let g3 = our_sec1(&g3a);
    assert_eq!(g3, our_sec1(&g3b));
    assert_eq!(g3, our_sec1(&g3c));
    assert_eq!(
        g3,
        generic_sec1(&(ProjectivePoint::generator() * GScalar::from(3u64)))
    );
    // Exceptional cases of the variable-time additions.
    assert_eq!(our_sec1(&g.add_vartime(&g)), our_sec1(&g2));
    assert_eq!(
        our_sec1(&g.add_mixed_vartime(&Affine::generator())),
        our_sec1(&g2)
    );
    assert!(g.add_vartime(&g.neg()).is_identity_vartime());
    assert!(
        g.add_mixed_vartime(&Affine::generator().neg())
            .is_identity_vartime()
    );
    assert_eq!(our_sec1(&Jacobian::IDENTITY.add_vartime(&g)), our_sec1(&g));
    assert_eq!(our_sec1(&g.add_vartime(&Jacobian::IDENTITY)), our_sec1(&g));
    assert!(Jacobian::IDENTITY.double().is_identity_vartime());
    assert!(Jacobian::IDENTITY.to_affine().is_none());
}

#[test]
fn public_key_parsing_rejects_bad_encodings() {
    let (_, public) = FastSecret::new(&bytes(1, b"parse")).unwrap();
    let (x, y) = encode_xy(&public);
    let compressed = [&[2 | (y[31] & 1)][..], &x].concat();
    let uncompressed = [&[4u8][..], &x, &y].concat();
    for enc in [&compressed, &uncompressed] {
        let parsed = parse_public_key(enc).unwrap();
        assert_eq!(encode_xy(&parsed), (x, y));
    }
    // Wrong parity gives −P, a different key.
    let flipped = [&[3 ^ (y[31] & 1)][..], &x].concat();
    assert_ne!(encode_xy(&parse_public_key(&flipped).unwrap()), (x, y));
    // Not on the curve.
    let mut off = uncompressed.clone();
    off[64] ^= 1;
    assert!(parse_public_key(&off).is_none());
    // Bad prefixes and lengths.
    for prefix in [0u8, 1, 5, 6, 7] {
        assert!(parse_public_key(&[&[prefix][..], &x].concat()).is_none());
        assert!(parse_public_key(&[&[prefix][..], &x, &y].concat()).is_none());
    }
    assert!(parse_public_key(&uncompressed[..64]).is_none());
    assert!(parse_public_key(&[]).is_none());
    // Coordinates ≥ p.
    let p_bytes = limbs_to_be(&P);
    assert!(parse_public_key(&[&[2u8][..], &p_bytes].concat()).is_none());
    assert!(parse_public_key(&[&[4u8][..], &x, &p_bytes].concat()).is_none());
    // An x with no point on the curve (about half of all x): find one.
    let missing = (0u32..)
        .map(|i| Fe::from_canonical(&[u64::from(i), 0, 0, 0]))
        .find(|x| point::curve_rhs(x).sqrt().is_none())
        .unwrap();
    assert!(parse_public_key(&[&[2u8][..], &missing.to_bytes()].concat()).is_none());
}

/// Signs e with k on our code; also returns the public key.
fn sign(d: &[u8; 32], e: &[u8; 32], k: &[u8; 32]) -> (Affine, [u8; 64]) {
    let (secret, public) = FastSecret::new(d).unwrap();
    (public, secret.sign_with_nonce(e, k).unwrap())
}

fn generic_verify_prehash(public: &Affine, e: &[u8; 32], sig: &[u8; 64]) -> bool {
    use ::sm2::dsa::signature::hazmat::PrehashVerifier as _;
    let (x, y) = encode_xy(public);
    let key = PublicKey::from_sec1_bytes(&[&[4u8][..], &x, &y].concat()).unwrap();
    let Ok(sig) = ::sm2::dsa::Signature::from_slice(sig) else {
        return false;
    };
    ::sm2::dsa::VerifyingKey::new("1234567812345678", key)
        .unwrap()
        .verify_prehash(e, &sig)
        .is_ok()
}

#[test]
fn signatures_verify_in_both_implementations() {
    for i in 0..8 {
        let d = Scalar::reduce_bytes(&bytes(i, b"d")).to_bytes();
        let k = Scalar::reduce_bytes(&bytes(i, b"k")).to_bytes();
        let e = bytes(i, b"e");
        let (public, sig) = sign(&d, &e, &k);
        assert!(verify_prehash(&public, &e, &sig));
        assert!(generic_verify_prehash(&public, &e, &sig));
        let mut bad = sig;
        bad[i as usize * 7] ^= 0x10;
        assert!(!verify_prehash(&public, &e, &bad));
        assert!(!generic_verify_prehash(&public, &e, &bad));
        let mut e2 = e;
        e2[31] ^= 1;
        assert!(!verify_prehash(&public, &e2, &sig));
    }
}

#[test]
fn verification_edge_cases() {
    let d = bytes(5, b"edge-d");
    let e = bytes(5, b"edge-e");
    let k = bytes(5, b"edge-k");
    let (public, sig) = sign(&d, &e, &k);
    assert!(verify_prehash(&public, &e, &sig));
    let n = limbs_to_be(&N);
    let with = |r: &[u8], s: &[u8]| -> [u8; 64] {
        let mut out = [0u8; 64];
        out[..32].copy_from_slice(r);
        out[32..].copy_from_slice(s);
        out
    };
    let (r, s) = sig.split_at(32);
    // r = 0, s = 0, r ≥ n, s ≥ n, r + n, s + n (both ≥ 2^256 are impossible to encode).
    for bad in [
        with(&[0; 32], s),
        with(r, &[0; 32]),
        with(&n, s),
        with(r, &n),
        with(&[0xff; 32], s),
        with(r, &[0xff; 32]),
    ] {
        assert!(!verify_prehash(&public, &e, &bad));
        assert!(!generic_verify_prehash(&public, &e, &bad));
    }
    // t = r + s = 0 mod n: s = n − r.
    let r_s = Scalar::from_bytes(r.try_into().unwrap()).unwrap();
    let minus_r = Scalar::reduce_limbs(&[0; 4]).sub(&r_s);
    let t_zero = with(r, &minus_r.to_bytes());
    assert!(!verify_prehash(&public, &e, &t_zero));
    assert!(!generic_verify_prehash(&public, &e, &t_zero));
}

#[test]
fn verification_handles_x1_at_least_n() {
    // A point R with x1 ∈ [n, p): then r = (e + x1) mod n = (e + x1 − n) mod n, and the verifier
    // must match X/Z² against r − e + n. Honest signatures hit this with probability ≈ 2^-128, so
    // the key is constructed backwards: pick R, s and e, set r = (e + x1) mod n, t = r + s and
    // P = t⁻¹·(R − s·G), so that s·G + t·P = R.
    let r_point = (0u64..)
        .find_map(|i| {
            let (x0, c) = arith::adc(N[0], i, false);
            let (x1, c) = arith::adc(N[1], 0, c);
            let (x2, c) = arith::adc(N[2], 0, c);
            let (x3, _) = arith::adc(N[3], 0, c);
            Affine::decompress(&Fe::from_canonical(&[x0, x1, x2, x3]), false)
        })
        .unwrap();
    let x1 = r_point.x.to_canonical();
    assert!(!arith::lt(&x1, &N), "x1 ≥ n");
    for i in 0..3 {
        let e = bytes(i, b"wrap-e");
        let s = Scalar::reduce_bytes(&bytes(i, b"wrap-s"));
        let r = Scalar::reduce_bytes(&e).add(&Scalar::reduce_limbs(&x1));
        let t = r.add(&s);
        let t_inv = gscalar(&t.to_bytes()).invert().unwrap();
        let p = (to_generic(&r_point) - ProjectivePoint::mul_by_generator(&gscalar(&s.to_bytes())))
            * t_inv;
        let public = parse_public_key(&generic_sec1(&p).unwrap()).unwrap();
        let mut sig = [0u8; 64];
        sig[..32].copy_from_slice(&r.to_bytes());
        sig[32..].copy_from_slice(&s.to_bytes());
        assert!(verify_prehash(&public, &e, &sig), "wrap case accepted");
        assert!(
            generic_verify_prehash(&public, &e, &sig),
            "the sm2 crate agrees"
        );
        // r − n·… variants: r' = r + 1 fails in both.
        let r1 = r.add(&Scalar::reduce_limbs(&[1, 0, 0, 0]));
        sig[..32].copy_from_slice(&r1.to_bytes());
        assert!(!verify_prehash(&public, &e, &sig));
        assert!(!generic_verify_prehash(&public, &e, &sig));
    }
}

#[test]
fn degenerate_nonces_are_rejected() {
    let (secret, _) = FastSecret::new(&bytes(3, b"nonce-d")).unwrap();
    let e = bytes(3, b"nonce-e");
    assert!(secret.sign_with_nonce(&e, &[0; 32]).is_none());
    assert!(secret.sign_with_nonce(&e, &limbs_to_be(&N)).is_none());
    assert!(secret.sign_with_nonce(&e, &[0xff; 32]).is_none());
    // k chosen so that r + k = n: r = e + x1(k) depends on k, so instead check the k = n − r
    // relation after the fact is rejected: take a valid signature's r and re-sign with e' such
    // that r' + k = n, i.e. e' = n − k − x1 (mod n).
    let k = Scalar::reduce_bytes(&bytes(3, b"nonce-k"));
    let point = table::mul_base_ct(&k.to_canonical()).to_affine().unwrap();
    let x1 = Scalar::reduce_limbs(&point.x.to_canonical());
    let zero = Scalar::reduce_limbs(&[0; 4]);
    let e_bad = zero.sub(&k).sub(&x1);
    assert!(
        secret
            .sign_with_nonce(&e_bad.to_bytes(), &k.to_bytes())
            .is_none()
    );
    // and e' with r' = 0: e' = −x1.
    let e_zero = zero.sub(&x1);
    assert!(
        secret
            .sign_with_nonce(&e_zero.to_bytes(), &k.to_bytes())
            .is_none()
    );
    assert!(secret.sign_with_nonce(&e, &k.to_bytes()).is_some());
}

mod properties {
    use super::*;
    use proptest::prelude::*;

    /// 32 random bytes, biased towards values next to p and n and tiny values.
    fn limbs() -> impl Strategy<Value = [u64; 4]> {
        prop_oneof![
            any::<[u64; 4]>(),
            (0u64..1000).prop_map(|k| [P[0] - k, P[1], P[2], P[3]]),
            (0u64..1000).prop_map(|k| [N[0] - k, N[1], N[2], N[3]]),
            (0u64..1000).prop_map(|k| [k, 0, 0, 0]),
        ]
    }

    fn fe(l: [u64; 4]) -> Fe {
        // Reduce into range first (p < 2^256 < 2p).
        Fe::from_canonical(&arith::sub_if_ge(&l, false, &P))
    }

    fn gs(s: &Scalar) -> GScalar {
        gscalar(&s.to_bytes())
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        #[test]
        fn field_ring_identities(a in limbs(), b in limbs(), c in limbs()) {
            let (a, b, c) = (fe(a), fe(b), fe(c));
            let eq = |x: Fe, y: Fe| x.to_canonical() == y.to_canonical();
            prop_assert!(eq(a.mul(&b).mul(&c), a.mul(&b.mul(&c))));
            prop_assert!(eq(a.mul(&b.add(&c)), a.mul(&b).add(&a.mul(&c))));
            prop_assert!(eq(a.mul(&b), b.mul(&a)));
            prop_assert!(eq(a.square(), a.mul(&a)));
            prop_assert!(eq(a.sub(&b).add(&b), a));
            prop_assert!(eq(a.neg().add(&a), Fe::ZERO));
            prop_assert!(eq(a.double(), a.add(&a)));
            prop_assert!(eq(a.shl_small(3), a.double().double().double()));
            prop_assert!(arith::lt(&a.mul(&b).0, &P), "fully reduced");
            if !a.is_zero_vartime() {
                prop_assert!(eq(a.mul(&a.invert()), Fe::ONE));
            }
            // Canonical bytes round-trip.
            prop_assert!(eq(Fe::from_bytes(&a.to_bytes()).unwrap(), a));
        }

        #[test]
        fn scalar_ops_match_the_sm2_crate(a in limbs(), b in limbs()) {
            let (a, b) = (Scalar::reduce_limbs(&a), Scalar::reduce_limbs(&b));
            prop_assert_eq!(gs(&a.mul(&b)), gs(&a) * gs(&b));
            prop_assert_eq!(gs(&a.add(&b)), gs(&a) + gs(&b));
            prop_assert_eq!(gs(&a.sub(&b)), gs(&a) - gs(&b));
            if !a.is_zero_vartime() {
                prop_assert_eq!(gs(&a.invert()), gs(&a).invert().unwrap());
            }
        }

        #[test]
        fn scalar_multiplications_match_the_sm2_crate(k in limbs(), t in limbs()) {
            let k = Scalar::reduce_limbs(&k);
            let t = Scalar::reduce_limbs(&t);
            let ours = table::mul_base_ct(&k.to_canonical());
            let theirs = ProjectivePoint::mul_by_generator(&gs(&k));
            prop_assert_eq!(our_sec1(&ours), generic_sec1(&theirs));
            let p = Affine::generator();
            let q = table::mul_double_vartime(&k.to_canonical(), &t.to_canonical(), &p);
            prop_assert_eq!(
                our_sec1(&q),
                generic_sec1(&ProjectivePoint::mul_by_generator(&(gs(&k) + gs(&t))))
            );
        }
    }
}
