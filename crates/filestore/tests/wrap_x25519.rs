//! The `intl` key wrap: round trip, wrong key, tampering, wrong file, bad keys and bad input.
//! (RFC 7748 vectors and the format pin are unit tests in `src/wrap/x25519/tests.rs`.)

use keel_crypto::{HashAlgorithm, Suite};
use keel_filestore::{
    DataKey, FileStoreError, Params, ShardAddress, WRAPPED_KEY_X25519_LEN_BYTES, X25519SecretKey,
    decode_file, encode_file, unwrap_key_x25519, wrap_key_x25519,
};

fn manifest_address(name: &[u8]) -> ShardAddress {
    ShardAddress::of(HashAlgorithm::Sha256, name)
}

#[test]
fn a_grantee_unwraps_the_key_and_reads_the_file() {
    let params = Params {
        suite: Suite::Intl,
        k: 2,
        m: 1,
        chunk_size_bytes: 256,
    };
    let data = b"evidence attachment".repeat(40);
    let file = encode_file(&params, &data).expect("encodes");
    let grantee = X25519SecretKey::random().expect("entropy");
    let address = file.manifest.address();
    let wrapped = wrap_key_x25519(&grantee.public_key(), &address, &file.key).expect("wraps");
    assert_eq!(wrapped.len(), WRAPPED_KEY_X25519_LEN_BYTES);
    assert_eq!(wrapped[0], 1, "version");
    let key = unwrap_key_x25519(&grantee, &address, &wrapped).expect("unwraps");
    assert_eq!(key, file.key);
    let shards: std::collections::HashMap<_, _> = file.shards.iter().cloned().collect();
    let read = decode_file(&file.manifest, &key, |a: &ShardAddress| {
        shards.get(a).cloned()
    });
    assert_eq!(read.expect("decodes"), data);
    let again = wrap_key_x25519(&grantee.public_key(), &address, &file.key).expect("wraps");
    assert_ne!(again, wrapped, "a fresh ephemeral key per wrap");
}

#[test]
fn the_wrong_key_or_the_wrong_file_cannot_unwrap() {
    let grantee = X25519SecretKey::random().expect("entropy");
    let other = X25519SecretKey::random().expect("entropy");
    let (file, another_file) = (manifest_address(b"a"), manifest_address(b"b"));
    let key = DataKey::random().expect("entropy");
    let wrapped = wrap_key_x25519(&grantee.public_key(), &file, &key).expect("wraps");
    assert!(matches!(
        unwrap_key_x25519(&other, &file, &wrapped),
        Err(FileStoreError::UnwrapFailed)
    ));
    assert!(matches!(
        unwrap_key_x25519(&grantee, &another_file, &wrapped),
        Err(FileStoreError::UnwrapFailed)
    ));
    let sm3_same_digest = ShardAddress::from_digest(HashAlgorithm::Sm3, *file.digest());
    assert!(matches!(
        unwrap_key_x25519(&grantee, &sm3_same_digest, &wrapped),
        Err(FileStoreError::UnwrapFailed)
    ));
}

#[test]
fn every_tampered_bit_is_refused() {
    let grantee = X25519SecretKey::random().expect("entropy");
    let file = manifest_address(b"a");
    let key = DataKey::random().expect("entropy");
    let wrapped = wrap_key_x25519(&grantee.public_key(), &file, &key).expect("wraps");
    for byte in 0..wrapped.len() {
        for bit in [0x01, 0x80] {
            let mut bad = wrapped.clone();
            bad[byte] ^= bit;
            let result = unwrap_key_x25519(&grantee, &file, &bad);
            match (byte, result) {
                (0, Err(FileStoreError::WrappedKeyMalformed { what })) => {
                    assert_eq!(what, "unknown version");
                }
                // Bit 255 of the ephemeral key is ignored by X25519 but still bound (AAD, salt).
                (1.., Err(FileStoreError::UnwrapFailed)) => {}
                (_, other) => panic!("byte {byte} bit {bit:#x}: {other:?}"),
            }
        }
    }
}

#[test]
fn malformed_wraps_and_bad_grantee_keys_are_specific_errors() {
    let grantee = X25519SecretKey::random().expect("entropy");
    let file = manifest_address(b"a");
    let key = DataKey::random().expect("entropy");
    let wrapped = wrap_key_x25519(&grantee.public_key(), &file, &key).expect("wraps");
    let mut longer = wrapped.clone();
    longer.push(0);
    for bad in [&wrapped[..wrapped.len() - 1], &longer[..], &[][..]] {
        assert!(matches!(
            unwrap_key_x25519(&grantee, &file, bad),
            Err(FileStoreError::WrappedKeyMalformed {
                what: "wrong length"
            })
        ));
    }
    let mut low_order_ephemeral = wrapped.clone();
    low_order_ephemeral[1..33].fill(0);
    assert!(matches!(
        unwrap_key_x25519(&grantee, &file, &low_order_ephemeral),
        Err(FileStoreError::WrappedKeyMalformed { .. })
    ));
    let mut one = [0u8; 32];
    one[0] = 1;
    for bad_key in [&[0u8; 32][..], &one[..], &[7u8; 31][..], &[7u8; 33][..]] {
        assert!(matches!(
            wrap_key_x25519(bad_key, &file, &key),
            Err(FileStoreError::GranteeKeyInvalid { .. })
        ));
    }
}

proptest::proptest! {
    /// Arbitrary bytes never unwrap and never panic.
    #[test]
    fn arbitrary_bytes_do_not_unwrap(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..100)) {
        let grantee = X25519SecretKey::from_bytes([5; 32]);
        let result = unwrap_key_x25519(&grantee, &manifest_address(b"a"), &bytes);
        let specific = matches!(
            result,
            Err(FileStoreError::UnwrapFailed | FileStoreError::WrappedKeyMalformed { .. })
        );
        proptest::prop_assert!(specific, "unexpected {:?}", result);
    }
}
