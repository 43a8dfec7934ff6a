//! `keel_resolveDid` (issue 15; `docs/did.md`): a did:keel DID's W3C DID Resolution result,
//! built from its document in the head state.

use crate::error::RpcError;
use keel_execution::did::{DidDocument, did_document};
use keel_node::Node;
use keel_types::{DidId, DidMethod, DidOp, Scheme};
use serde_json::{Value, json};

/// The JSON-LD context every document names.
pub(crate) const DID_CONTEXT: &str = "https://www.w3.org/ns/did/v1";
/// Longest DID string looked at (`did:keel:` + 20 digits + `:` + 32 hex, with room).
const MAX_DID_CHARS: usize = 96;

/// The id an operation acts on (`None` for a create that derives it from its tx hash).
pub(crate) fn op_id(op: &DidOp) -> Option<DidId> {
    match op {
        DidOp::Create { id, .. } => *id,
        DidOp::Update { id, .. } | DidOp::Deactivate { id } => Some(*id),
    }
}

/// `did:keel:<chain>:<32 lower-case hex digits>`.
pub(crate) fn did_string(chain_id: u64, id: &DidId) -> String {
    format!("did:keel:{chain_id}:{}", hex::encode(id))
}

/// Parse a did:keel DID into its chain id and 16-byte id (`None`: not a did:keel DID as
/// `docs/did.md` defines it — the chain id is decimal without leading zeros, the id 32
/// lower-case hex digits).
pub(crate) fn parse_did(s: &str) -> Option<(u64, DidId)> {
    if s.len() > MAX_DID_CHARS {
        return None;
    }
    let rest = s.strip_prefix("did:keel:")?;
    let (chain, id) = rest.split_once(':')?;
    let digits = !chain.is_empty() && chain.bytes().all(|b| b.is_ascii_digit());
    if !digits || (chain.len() > 1 && chain.starts_with('0')) {
        return None;
    }
    let lower_hex = id.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
    if id.len() != 32 || !lower_hex {
        return None;
    }
    let mut out = [0u8; 16];
    hex::decode_to_slice(id, &mut out).ok()?;
    Some((chain.parse().ok()?, out))
}

/// Run `keel_resolveDid [did]`.
pub(crate) fn resolve(node: &Node, params: &Value) -> Result<Value, RpcError> {
    let what = "keel_resolveDid takes one param: a did:keel DID string";
    let did = match params.as_array().map(Vec::as_slice) {
        Some([Value::String(s)]) => s.as_str(),
        _ => return Err(RpcError::invalid_params(what)),
    };
    let chain_id = node.genesis().chain_id;
    let Some((chain, id)) = parse_did(did) else {
        return Ok(failure("invalidDid"));
    };
    if chain != chain_id {
        // This chain only knows its own DIDs.
        return Ok(failure("notFound"));
    }
    let alg = node.suite().hash();
    let doc =
        did_document(&node.head_view(), alg, &id).map_err(|e| RpcError::internal(e.to_string()))?;
    Ok(match doc {
        None => failure("notFound"),
        Some(d) => result(chain_id, &d),
    })
}

fn failure(error: &str) -> Value {
    json!({
        "didDocument": Value::Null,
        "didResolutionMetadata": { "error": error },
        "didDocumentMetadata": {},
    })
}

/// The resolution result of an existing document (deactivated or not).
pub(crate) fn result(chain_id: u64, d: &DidDocument) -> Value {
    json!({
        "didDocument": document(chain_id, d),
        "didResolutionMetadata": { "contentType": "application/did+ld+json" },
        "didDocumentMetadata": {
            "created": iso8601(d.created_ms),
            "updated": iso8601(d.updated_ms),
            "createdHeight": d.created_height,
            "updatedHeight": d.updated_height,
            "versionId": d.version.to_string(),
            "deactivated": d.deactivated,
            "keelControllers": d.controllers.iter().map(|a| a.to_string()).collect::<Vec<_>>(),
        },
    })
}

/// The DID document (JSON-LD).
fn document(chain_id: u64, d: &DidDocument) -> Value {
    let did = did_string(chain_id, &d.id);
    let refs = |pick: fn(&DidMethod) -> bool| -> Vec<String> {
        d.methods
            .iter()
            .filter(|m| pick(m))
            .map(|m| format!("{did}#{}", m.fragment))
            .collect()
    };
    let methods: Vec<Value> = d.methods.iter().map(|m| method(&did, m)).collect();
    let services: Vec<Value> = d
        .services
        .iter()
        .map(|s| {
            json!({
                "id": format!("{did}#{}", s.fragment),
                "type": s.kind,
                "serviceEndpoint": s.endpoint,
            })
        })
        .collect();
    json!({
        "@context": [DID_CONTEXT],
        "id": did,
        // DID Core wants DIDs here; the Keel accounts that control it are in the metadata
        // (`keelControllers`), and the DID is its own controller for resolvers.
        "controller": did,
        "verificationMethod": methods,
        "authentication": refs(|m| m.authentication),
        "assertionMethod": refs(|m| m.assertion),
        "service": services,
    })
}

/// A verification method: its controller is the DID itself.
fn method(did: &str, m: &DidMethod) -> Value {
    json!({
        "id": format!("{did}#{}", m.fragment),
        "type": method_type(m.key.scheme),
        "controller": did,
        "publicKeyMultibase": multibase_key(m.key.scheme, &m.key.public_key),
    })
}

/// The verification method type: registered suites for Ed25519 and secp256k1, and the
/// Keel-defined `SM2VerificationKey2024` for SM2 (`docs/did.md`).
pub(crate) fn method_type(s: Scheme) -> &'static str {
    match s {
        Scheme::Ed25519 => "Ed25519VerificationKey2020",
        Scheme::Secp256k1 => "EcdsaSecp256k1VerificationKey2019",
        Scheme::Sm2 => "SM2VerificationKey2024",
    }
}

/// `z` + base58btc(multicodec varint ‖ key): ed25519-pub 0xed, secp256k1-pub 0xe7 (33-byte
/// compressed), sm2-pub 0x1206 (33-byte compressed).
pub(crate) fn multibase_key(s: Scheme, key: &[u8]) -> String {
    let prefix: &[u8] = match s {
        Scheme::Ed25519 => &[0xed, 0x01],
        Scheme::Secp256k1 => &[0xe7, 0x01],
        Scheme::Sm2 => &[0x86, 0x24],
    };
    let mut bytes = prefix.to_vec();
    bytes.extend_from_slice(key);
    format!("z{}", base58btc(&bytes))
}

/// Bitcoin base58 (the multibase `z` alphabet); quadratic, for short keys only.
pub(crate) fn base58btc(input: &[u8]) -> String {
    const ALPHABET: &[u8; 58] = b"123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";
    let zeros = input.iter().take_while(|b| **b == 0).count();
    let mut digits: Vec<u8> = Vec::with_capacity(input.len() * 138 / 100 + 1);
    for &byte in &input[zeros..] {
        let mut carry = u32::from(byte);
        for d in digits.iter_mut() {
            carry += u32::from(*d) << 8;
            *d = (carry % 58) as u8;
            carry /= 58;
        }
        while carry > 0 {
            digits.push((carry % 58) as u8);
            carry /= 58;
        }
    }
    let mut out = "1".repeat(zeros);
    out.extend(digits.iter().rev().map(|d| ALPHABET[*d as usize] as char));
    out
}

/// `YYYY-MM-DDTHH:MM:SSZ` (UTC) of a block timestamp in ms (W3C XML datetime, no fraction).
pub(crate) fn iso8601(ms: u64) -> String {
    let secs = ms / 1000;
    let (days, rem) = ((secs / 86_400) as i64, secs % 86_400);
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base58btc_matches_the_draft_vectors() {
        assert_eq!(base58btc(b"Hello World!"), "2NEpo7TZRRrLZSi2U");
        assert_eq!(
            base58btc(b"The quick brown fox jumps over the lazy dog."),
            "USm3fpXnKG5EUBx2ndxBDMPVciP5hGey2Jh4NDv6gmeo1LkMeiKrLJUUBk6Z"
        );
        assert_eq!(base58btc(&[0, 0, 0x28, 0x7f, 0xb4, 0xcd]), "11233QC4");
    }

    #[test]
    fn ed25519_multibase_matches_did_key() {
        // did:key test vector (w3c-ccg did-method-key): the RFC 8032 test 1 public key.
        let pk = hex::decode("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a")
            .unwrap_or_default();
        assert_eq!(
            multibase_key(Scheme::Ed25519, &pk),
            "z6MktwupdmLXVVqTzCw4i46r4uGyosGXRnR3XjN4Zq7oMMsw"
        );
    }

    #[test]
    fn sm2_and_secp256k1_multibase_carry_their_multicodec_varints() {
        // Computed independently (Python): varint(0x1206) = 86 24, varint(0xe7) = e7 01.
        let mut k = vec![2u8];
        k.extend([0x11; 32]);
        assert_eq!(
            multibase_key(Scheme::Sm2, &k),
            "zEPJbyXqVNUVQJzVda4RG1Mc8sZ122bmKqWf46zQ44FmZoHU4"
        );
        assert_eq!(
            multibase_key(Scheme::Secp256k1, &k),
            "zQ3shNZQnGqtqxokGkoVtFWnG9v6TJT43E3rfPxzc1eHqx3qJ"
        );
    }

    #[test]
    fn iso8601_of_known_instants() {
        assert_eq!(iso8601(0), "1970-01-01T00:00:00Z");
        assert_eq!(iso8601(951_782_400_000), "2000-02-29T00:00:00Z");
        assert_eq!(iso8601(1_796_520_000_123), "2026-12-06T01:20:00Z");
    }

    #[test]
    fn parse_did_accepts_only_the_canonical_form() {
        let id = "00112233445566778899aabbccddeeff";
        let (c, got) = parse_did(&format!("did:keel:7:{id}")).unwrap_or_default();
        assert_eq!((c, hex::encode(got)), (7, id.to_string()));
        for bad in [
            format!("did:keel:07:{id}"),
            format!("did:keel::{id}"),
            format!("did:keel:7:{}", id.to_uppercase()),
            format!("did:keel:7:{id}00"),
            format!("did:web:7:{id}"),
            format!("did:keel:7:{id}#key-1"),
            "did:keel:7".into(),
        ] {
            assert_eq!(parse_did(&bad), None, "{bad}");
        }
    }
}
