//! RFC 7748 X25519 vectors, and a pin of the wrap's byte format.
//!
//! `../shared/vectors` has no X25519 set; the values below are transcribed from RFC 7748
//! (section 5.2, the two scalar-multiplication vectors and the iterated test; section 6.1, the
//! Diffie-Hellman example), <https://www.rfc-editor.org/rfc/rfc7748>.

use keel_crypto::HashAlgorithm;

use super::*;

fn h32(text: &str) -> [u8; 32] {
    let bytes = hex::decode(text).expect("hex");
    bytes.try_into().expect("32 bytes")
}

/// `X25519(k, u)` through the same calls the wrap makes.
fn x25519(k: [u8; 32], u: [u8; 32]) -> [u8; 32] {
    X25519SecretKey::from_bytes(k)
        .0
        .diffie_hellman(&PublicKey::from(u))
        .to_bytes()
}

#[test]
fn rfc7748_section_5_2_scalar_multiplication() {
    let cases = [
        (
            "a546e36bf0527c9d3b16154b82465edd62144c0ac1fc5a18506a2244ba449ac4",
            "e6db6867583030db3594c1a424b15f7c726624ec26b3353b10a903a6d0ab1c4c",
            "c3da55379de9c6908e94ea4df28d084f32eccf03491c71f754b4075577a28552",
        ),
        (
            "4b66e9d4d1b4673c5ad22691957d6af5c11b6421e0ea01d42ca4169e7918ba0d",
            "e5210f12786811d3f4b7959d0538ae2c31dbe7106fc03c3efc4cd549c715a493",
            "95cbde9476e8907d7aade45cb4b873f88b595a68799fa152e6f8f7647aac7957",
        ),
    ];
    for (k, u, out) in cases {
        assert_eq!(x25519(h32(k), h32(u)), h32(out));
    }
}

#[test]
fn rfc7748_section_5_2_iterated_to_1000() {
    let mut nine = [0u8; 32];
    nine[0] = 9;
    let (mut k, mut u) = (nine, nine);
    for i in 1..=1000 {
        (k, u) = (x25519(k, u), k);
        if i == 1 {
            let one = "422c8e7a6227d7bca1350b3e2bb7279f7897b87bb6854b783c60e80311ae3079";
            assert_eq!(k, h32(one));
        }
    }
    let thousand = "684cf59ba83309552800ef566f2f4d3c1c3887c49360e3875f2eb94d99532c51";
    assert_eq!(k, h32(thousand));
}

#[test]
fn rfc7748_section_6_1_diffie_hellman() {
    let alice = h32("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a");
    let bob = h32("5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb");
    let alice_public = h32("8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a");
    let bob_public = h32("de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f");
    let shared = h32("4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742");
    assert_eq!(
        X25519SecretKey::from_bytes(alice).public_key(),
        alice_public
    );
    assert_eq!(X25519SecretKey::from_bytes(bob).public_key(), bob_public);
    assert_eq!(x25519(alice, bob_public), shared);
    assert_eq!(x25519(bob, alice_public), shared);
}

/// Pins the byte format with a fixed ephemeral key: a change here breaks every stored grant.
///
/// Not an external vector, but cross-checked against an independent implementation of the
/// documented steps, Python's `cryptography` (OpenSSL):
///
/// ```text
/// eph, gr = X25519PrivateKey.from_private_bytes(b"\x11"*32), (… b"\x22"*32)
/// ep, gp  = raw public keys of eph, gr
/// mh      = b"\x12\x20" + sha256(b"manifest")
/// kek     = HKDF(SHA256, 32, salt=ep+gp, info=b"keel-filestore/v1/wrap-x25519"+mh)
///             .derive(eph.exchange(gr.public_key()))
/// AESGCM(kek).encrypt(bytes(12), b"\x33"*32, b"\x01"+ep).hex() == PINNED_SEALED
/// ```
#[test]
fn wrap_format_is_pinned() {
    let ephemeral = X25519SecretKey::from_bytes([0x11; 32]);
    let grantee = X25519SecretKey::from_bytes([0x22; 32]);
    let file = ShardAddress::of(HashAlgorithm::Sha256, b"manifest");
    let key = DataKey::from_bytes([0x33; 32]);
    let wrapped = wrap_with(&ephemeral, &grantee.public_key(), &file, &key).expect("wraps");
    assert_eq!(wrapped.len(), WRAPPED_KEY_X25519_LEN_BYTES);
    assert_eq!(wrapped[0], VERSION);
    assert_eq!(wrapped[1..33], ephemeral.public_key());
    assert_eq!(hex::encode(&wrapped[33..]), PINNED_SEALED);
    let unwrapped = unwrap_key_x25519(&grantee, &file, &wrapped).expect("unwraps");
    assert_eq!(unwrapped, key);
}

const PINNED_SEALED: &str = "bd0343df5b76a8d78ead1ddb9788bfa069d56799a752dbd2c165af168787ace4878a9903de48a0660a6c39d3e2e31a89";
