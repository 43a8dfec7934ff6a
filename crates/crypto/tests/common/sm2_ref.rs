//! A small, slow, independent SM2 over any prime-field curve (affine coordinates, num-bigint),
//! written from GB/T 32918 for the tests only. It lets the standard's test-curve examples be
//! reproduced (the production code is fixed to sm2p256v1) and cross-checks the production code.
//! Only SM3 is shared with the crate (checked separately against GB/T 32905).

use keel_crypto::HashAlgorithm;
use num_bigint::BigUint;

#[derive(Clone, Debug)]
pub struct Curve {
    pub p: BigUint,
    pub a: BigUint,
    pub b: BigUint,
    pub g: Point,
    pub n: BigUint,
}

/// An affine point; `None` is the point at infinity.
pub type Point = Option<(BigUint, BigUint)>;

fn big(hex: &str) -> BigUint {
    BigUint::parse_bytes(hex.as_bytes(), 16).unwrap()
}

pub fn from_hex_be(bytes: &[u8]) -> BigUint {
    BigUint::from_bytes_be(bytes)
}

/// Left-pads to 32 bytes big-endian.
pub fn to32(x: &BigUint) -> [u8; 32] {
    let bytes = x.to_bytes_be();
    assert!(bytes.len() <= 32);
    let mut out = [0u8; 32];
    out[32 - bytes.len()..].copy_from_slice(&bytes);
    out
}

fn sm3(parts: &[&[u8]]) -> [u8; 32] {
    HashAlgorithm::Sm3.digest_parts(parts)
}

impl Curve {
    /// From the `curves` entry of sm2_gbt32918.json.
    pub fn from_json(v: &serde_json::Value) -> Curve {
        let f = |k: &str| big(v[k].as_str().unwrap());
        Curve {
            p: f("p"),
            a: f("a"),
            b: f("b"),
            g: Some((f("Gx"), f("Gy"))),
            n: f("n"),
        }
    }

    fn sub(&self, x: &BigUint, y: &BigUint) -> BigUint {
        ((x + &self.p) - (y % &self.p)) % &self.p
    }

    fn inv(&self, x: &BigUint) -> BigUint {
        x.modpow(&(&self.p - 2u32), &self.p)
    }

    pub fn is_on_curve(&self, point: &Point) -> bool {
        match point {
            None => true,
            Some((x, y)) => {
                (y * y) % &self.p == (x * x * x + &self.a * x + &self.b) % &self.p
                    && x < &self.p
                    && y < &self.p
            }
        }
    }

    pub fn add(&self, p1: &Point, p2: &Point) -> Point {
        let (Some((x1, y1)), Some((x2, y2))) = (p1, p2) else {
            return p1.clone().or_else(|| p2.clone());
        };
        let lambda = if x1 == x2 {
            if (y1 + y2) % &self.p == BigUint::ZERO {
                return None;
            }
            // tangent: (3x² + a) / 2y
            ((3u32 * x1 * x1 + &self.a) % &self.p) * self.inv(&((2u32 * y1) % &self.p)) % &self.p
        } else {
            self.sub(y2, y1) * self.inv(&self.sub(x2, x1)) % &self.p
        };
        let x3 = self.sub(&self.sub(&(&lambda * &lambda % &self.p), x1), x2);
        let y3 = self.sub(&(&lambda * self.sub(x1, &x3) % &self.p), y1);
        Some((x3, y3))
    }

    pub fn mul(&self, k: &BigUint, point: &Point) -> Point {
        let mut acc: Point = None;
        for i in (0..k.bits()).rev() {
            acc = self.add(&acc, &acc);
            if k.bit(i) {
                acc = self.add(&acc, point);
            }
        }
        acc
    }

    pub fn public_key(&self, d: &BigUint) -> Point {
        self.mul(d, &self.g)
    }

    pub fn za(&self, id: &[u8], public: &Point) -> [u8; 32] {
        let (px, py) = public.clone().unwrap();
        let (gx, gy) = self.g.clone().unwrap();
        let entl = u16::try_from(id.len() * 8).unwrap().to_be_bytes();
        sm3(&[
            &entl,
            id,
            &to32(&self.a),
            &to32(&self.b),
            &to32(&gx),
            &to32(&gy),
            &to32(&px),
            &to32(&py),
        ])
    }

    pub fn e(&self, id: &[u8], public: &Point, msg: &[u8]) -> BigUint {
        from_hex_be(&sm3(&[&self.za(id, public), msg]))
    }

    /// GB/T 32918.2 §6.1 with a given k; `None` for a degenerate k.
    pub fn sign(
        &self,
        d: &BigUint,
        id: &[u8],
        msg: &[u8],
        k: &BigUint,
    ) -> Option<(BigUint, BigUint)> {
        let public = self.public_key(d);
        let e = self.e(id, &public, msg);
        let (x1, _) = self.mul(k, &self.g)?;
        let r = (e + x1) % &self.n;
        if r == BigUint::ZERO || (&r + k) == self.n {
            return None;
        }
        let n = &self.n;
        let inv = (d + 1u32).modpow(&(n - 2u32), n);
        let s = inv * ((k + n - (&r * d % n)) % n) % n;
        (s != BigUint::ZERO).then_some((r, s))
    }

    /// GB/T 32918.2 §7.1.
    pub fn verify(&self, public: &Point, id: &[u8], msg: &[u8], r: &BigUint, s: &BigUint) -> bool {
        let n = &self.n;
        let zero = BigUint::ZERO;
        if r == &zero || r >= n || s == &zero || s >= n {
            return false;
        }
        let e = self.e(id, public, msg);
        let t = (r + s) % n;
        if t == zero {
            return false;
        }
        match self.add(&self.mul(s, &self.g), &self.mul(&t, public)) {
            None => false,
            Some((x1, _)) => (e + x1) % n == *r,
        }
    }

    fn kdf(z: &[u8], len: usize) -> Vec<u8> {
        let mut out = Vec::new();
        let mut counter = 1u32;
        while out.len() < len {
            out.extend_from_slice(&sm3(&[z, &counter.to_be_bytes()]));
            counter += 1;
        }
        out.truncate(len);
        out
    }

    /// GB/T 32918.4 §6.1 with a given k: C1 (04‖x‖y) ‖ C3 ‖ C2; `None` if t is all zero.
    pub fn encrypt(&self, public: &Point, msg: &[u8], k: &BigUint) -> Option<Vec<u8>> {
        let (x1, y1) = self.mul(k, &self.g)?;
        let (x2, y2) = self.mul(k, public)?;
        let z = [to32(&x2), to32(&y2)].concat();
        let t = Self::kdf(&z, msg.len());
        if !msg.is_empty() && t.iter().all(|b| *b == 0) {
            return None;
        }
        let c2: Vec<u8> = msg.iter().zip(&t).map(|(m, t)| m ^ t).collect();
        let c3 = sm3(&[&to32(&x2), msg, &to32(&y2)]);
        Some([&[4u8][..], &to32(&x1), &to32(&y1), &c3, &c2].concat())
    }

    /// GB/T 32918.4 §7.1.
    pub fn decrypt(&self, d: &BigUint, ct: &[u8]) -> Option<Vec<u8>> {
        if ct.len() < 97 || ct[0] != 4 {
            return None;
        }
        let c1 = Some((from_hex_be(&ct[1..33]), from_hex_be(&ct[33..65])));
        if !self.is_on_curve(&c1) {
            return None;
        }
        let (x2, y2) = self.mul(d, &c1)?;
        let (c3, c2) = ct[65..].split_at(32);
        let z = [to32(&x2), to32(&y2)].concat();
        let t = Self::kdf(&z, c2.len());
        let msg: Vec<u8> = c2.iter().zip(&t).map(|(c, t)| c ^ t).collect();
        (sm3(&[&to32(&x2), &msg, &to32(&y2)]) == c3).then_some(msg)
    }
}
