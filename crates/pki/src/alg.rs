//! Algorithm identifiers, subject public keys and signatures: the only place that knows how
//! SM2 and Ed25519 appear in X.509.
//!
//! * SM2: key `id-ecPublicKey` (1.2.840.10045.2.1) with the named curve sm2p256v1
//!   (1.2.156.10197.1.301), point uncompressed; signature `SM2-with-SM3` (1.2.156.10197.1.501,
//!   no parameters), value `SEQUENCE { INTEGER r, INTEGER s }` over `SM3(Z_A ‖ tbs)` with
//!   the GM/T 0009 default ID `1234567812345678` (keel-crypto's `KeyPair::sign`/`verify`).
//! * Ed25519: key and signature `id-Ed25519` (1.3.101.112, RFC 8410), raw 32/64 bytes.

use der::asn1::{BitString, ObjectIdentifier, UintRef};
use der::{Decode as _, Encode as _};
use keel_crypto::{KeyPair, Scheme};
use sm2::elliptic_curve::sec1::ToSec1Point as _;
use spki::{AlgorithmIdentifierOwned, SubjectPublicKeyInfoOwned};

use crate::PkiError;

/// SM2-with-SM3 signature algorithm.
pub const OID_SM2_WITH_SM3: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.156.10197.1.501");
/// The sm2p256v1 named curve.
pub const OID_SM2_CURVE: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.156.10197.1.301");
/// id-ecPublicKey.
pub const OID_EC_PUBLIC_KEY: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.2.1");
/// id-Ed25519 (key and signature).
pub const OID_ED25519: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.101.112");

/// Bytes of one SM2 signature component.
const SM2_SCALAR_BYTES: usize = 32;

#[derive(der::Sequence)]
struct DerSignature<'a> {
    r: UintRef<'a>,
    s: UintRef<'a>,
}

/// The signature algorithm a key of `scheme` signs with.
pub(crate) fn signature_algorithm(scheme: Scheme) -> Result<AlgorithmIdentifierOwned, PkiError> {
    let oid = match scheme {
        Scheme::Sm2 => OID_SM2_WITH_SM3,
        Scheme::Ed25519 => OID_ED25519,
        other => {
            return Err(PkiError::Issue(format!(
                "{other:?} keys cannot sign certificates"
            )));
        }
    };
    Ok(AlgorithmIdentifierOwned {
        oid,
        parameters: None,
    })
}

/// The SubjectPublicKeyInfo of a Keel public key (SM2: 33 or 65 bytes SEC1; Ed25519: 32).
pub(crate) fn spki_of(
    scheme: Scheme,
    public_key: &[u8],
) -> Result<SubjectPublicKeyInfoOwned, PkiError> {
    let bad = |e: String| PkiError::Issue(format!("invalid {scheme:?} public key: {e}"));
    match scheme {
        Scheme::Sm2 => {
            let point =
                sm2::PublicKey::from_sec1_bytes(public_key).map_err(|e| bad(e.to_string()))?;
            let uncompressed = point.to_sec1_point(false);
            Ok(SubjectPublicKeyInfoOwned {
                algorithm: AlgorithmIdentifierOwned {
                    oid: OID_EC_PUBLIC_KEY,
                    parameters: Some(
                        der::Any::encode_from(&OID_SM2_CURVE).map_err(|e| bad(e.to_string()))?,
                    ),
                },
                subject_public_key: BitString::from_bytes(uncompressed.as_bytes())
                    .map_err(|e| bad(e.to_string()))?,
            })
        }
        Scheme::Ed25519 => {
            if public_key.len() != 32 {
                return Err(bad(format!("{} bytes", public_key.len())));
            }
            Ok(SubjectPublicKeyInfoOwned {
                algorithm: AlgorithmIdentifierOwned {
                    oid: OID_ED25519,
                    parameters: None,
                },
                subject_public_key: BitString::from_bytes(public_key)
                    .map_err(|e| bad(e.to_string()))?,
            })
        }
        other => Err(PkiError::Issue(format!(
            "{other:?} keys are not supported in certificates"
        ))),
    }
}

/// The scheme and Keel encoding (SM2: 33 bytes compressed; Ed25519: 32) of a certificate's
/// subject public key.
pub(crate) fn public_key_of(
    spki: &SubjectPublicKeyInfoOwned,
) -> Result<(Scheme, Vec<u8>), PkiError> {
    let bits = spki
        .subject_public_key
        .as_bytes()
        .ok_or_else(|| PkiError::malformed("public key", "bit string with unused bits"))?;
    let oid = spki.algorithm.oid;
    if oid == OID_EC_PUBLIC_KEY {
        let curve = spki
            .algorithm
            .parameters
            .as_ref()
            .ok_or_else(|| PkiError::malformed("public key", "EC key without a curve"))?
            .decode_as::<ObjectIdentifier>()
            .map_err(|e| PkiError::malformed("public key", e))?;
        if curve != OID_SM2_CURVE {
            return Err(PkiError::UnsupportedAlgorithm {
                what: "public key curve",
                oid: curve.to_string(),
            });
        }
        let point = sm2::PublicKey::from_sec1_bytes(bits)
            .map_err(|e| PkiError::malformed("SM2 public key", e))?;
        Ok((Scheme::Sm2, point.to_sec1_point(true).as_bytes().to_vec()))
    } else if oid == OID_ED25519 {
        if bits.len() != 32 || spki.algorithm.parameters.is_some() {
            return Err(PkiError::malformed(
                "Ed25519 public key",
                "need 32 bytes and no parameters",
            ));
        }
        Ok((Scheme::Ed25519, bits.to_vec()))
    } else {
        Err(PkiError::UnsupportedAlgorithm {
            what: "public key",
            oid: oid.to_string(),
        })
    }
}

/// Signs `tbs` (the DER of a TBSCertificate or TBSCertList) and returns the BIT STRING value.
pub(crate) fn sign(key: &KeyPair, tbs: &[u8]) -> Result<BitString, PkiError> {
    let raw = key.sign(tbs);
    let bytes = match key.scheme() {
        Scheme::Sm2 => {
            let (r, s) = raw.split_at(SM2_SCALAR_BYTES.min(raw.len()));
            let der_sig = DerSignature {
                r: UintRef::new(r).map_err(|e| PkiError::Issue(e.to_string()))?,
                s: UintRef::new(s).map_err(|e| PkiError::Issue(e.to_string()))?,
            };
            der_sig
                .to_der()
                .map_err(|e| PkiError::Issue(e.to_string()))?
        }
        _ => raw,
    };
    BitString::from_bytes(&bytes).map_err(|e| PkiError::Issue(e.to_string()))
}

/// Left-pads an INTEGER magnitude to 32 bytes.
fn scalar_32(x: UintRef<'_>) -> Option<[u8; SM2_SCALAR_BYTES]> {
    let bytes = x.as_bytes();
    let start = SM2_SCALAR_BYTES.checked_sub(bytes.len())?;
    let mut out = [0u8; SM2_SCALAR_BYTES];
    out[start..].copy_from_slice(bytes);
    Some(out)
}

/// Converts a DER `SEQUENCE { r, s }` SM2 signature to keel-crypto's raw `r‖s`.
pub fn sm2_signature_from_der(der_sig: &[u8]) -> Result<[u8; 64], PkiError> {
    let sig =
        DerSignature::from_der(der_sig).map_err(|e| PkiError::malformed("SM2 signature", e))?;
    let (Some(r), Some(s)) = (scalar_32(sig.r), scalar_32(sig.s)) else {
        return Err(PkiError::malformed(
            "SM2 signature",
            "component longer than 32 bytes",
        ));
    };
    let mut out = [0u8; 64];
    out[..32].copy_from_slice(&r);
    out[32..].copy_from_slice(&s);
    Ok(out)
}

/// Verifies a signature `sig` (BIT STRING contents) made with `algorithm` over `tbs` by the
/// key `(scheme, public_key)`. `Ok(false)` when it simply does not verify.
pub(crate) fn verify(
    algorithm: &AlgorithmIdentifierOwned,
    scheme: Scheme,
    public_key: &[u8],
    tbs: &[u8],
    sig: &[u8],
) -> Result<bool, PkiError> {
    let expected = match scheme {
        Scheme::Sm2 => OID_SM2_WITH_SM3,
        Scheme::Ed25519 => OID_ED25519,
        _ => {
            return Err(PkiError::UnsupportedAlgorithm {
                what: "issuer key",
                oid: format!("{scheme:?}"),
            });
        }
    };
    if algorithm.oid != expected {
        return Err(PkiError::UnsupportedAlgorithm {
            what: "signature (for the issuer's key type)",
            oid: algorithm.oid.to_string(),
        });
    }
    // OpenSSL/Tongsuo omit the parameters of SM2-with-SM3; an explicit NULL is tolerated.
    if let Some(p) = &algorithm.parameters
        && !p.is_null()
    {
        return Err(PkiError::malformed(
            "signature algorithm",
            "unexpected parameters",
        ));
    }
    let raw = match scheme {
        Scheme::Sm2 => match sm2_signature_from_der(sig) {
            Ok(raw) => raw.to_vec(),
            Err(_) => return Ok(false),
        },
        _ => sig.to_vec(),
    };
    Ok(keel_crypto::verify(scheme, public_key, tbs, &raw).is_ok())
}
