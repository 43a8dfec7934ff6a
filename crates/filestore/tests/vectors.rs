//! Shard addresses on `gm` are SM3 multihashes: checked against GB/T 32905 Appendix A.

use keel_crypto::HashAlgorithm;
use keel_filestore::ShardAddress;

const SM3_VECTORS: &str = include_str!("../../../../shared/vectors/gm-standards/sm3_gbt32905.json");

#[test]
fn sm3_shard_addresses_match_gbt32905() {
    let doc: serde_json::Value = serde_json::from_str(SM3_VECTORS).expect("vector file is JSON");
    let cases = doc["cases"].as_array().expect("cases");
    assert!(!cases.is_empty());
    for case in cases {
        let (Some(msg), Some(digest)) = (case["msg_hex"].as_str(), case["digest"].as_str()) else {
            continue;
        };
        let msg = hex::decode(msg).expect("hex message");
        let address = ShardAddress::of(HashAlgorithm::Sm3, &msg);
        assert_eq!(hex::encode(address.digest()), digest, "{}", case["name"]);
        assert!(address.matches(&msg));
        let multihash = address.to_multihash();
        assert_eq!(&multihash[..4], &[0xcd, 0xa6, 0x01, 0x20]);
        assert_eq!(hex::encode(&multihash[4..]), digest);
    }
}
