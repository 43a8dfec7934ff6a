//! JSON views of core types (camelCase, hex for bytes, decimal strings for amounts).

use keel_execution::{Account, EvidenceRecord};
use keel_ledger::TxLocation;
use keel_types::{
    Address, AssetOp, Block, Hash, NftOp, Payload, Receipt, SignedTransaction, Suite, TxStatus,
};
use serde_json::{Value, json};

/// An NFT operation (`docs/assets.md`): `type` "nft", `op` its name, then its fields.
fn nft_payload(op: &NftOp) -> Value {
    let fields = match op {
        NftOp::CreateCollection(c) => json!({
            "name": c.name,
            "symbol": c.symbol,
            "issuer": c.issuer,
            "maxSupply": c.max_supply.map(|m| m.to_string()),
        }),
        NftOp::Mint {
            collection,
            token,
            to,
            metadata,
        } => json!({
            "collection": collection,
            "token": token.to_string(),
            "to": to,
            "uri": metadata.uri,
            "contentHash": metadata.content_hash,
            "hashAlg": metadata.hash_alg.name(),
            "evidence": metadata.evidence,
        }),
        NftOp::Transfer {
            collection,
            token,
            to,
        } => {
            json!({ "collection": collection, "token": token.to_string(), "to": to })
        }
        NftOp::Approve {
            collection,
            token,
            spender,
        } => {
            json!({ "collection": collection, "token": token.to_string(), "spender": spender })
        }
        NftOp::Burn { collection, token } => {
            json!({ "collection": collection, "token": token.to_string() })
        }
    };
    let mut v = json!({ "type": "nft", "op": op.name() });
    if let (Some(m), Value::Object(f)) = (v.as_object_mut(), fields) {
        m.extend(f);
    }
    v
}

/// An asset operation (`docs/assets.md`): `type` "asset", `op` its name, then its fields.
fn asset_payload(op: &AssetOp) -> Value {
    let fields = match op {
        AssetOp::Issue(i) => json!({
            "name": i.name,
            "symbol": i.symbol,
            "decimals": i.decimals,
            "maxSupply": i.max_supply.to_string(),
            "initialSupply": i.initial_supply.to_string(),
            "issuer": i.issuer,
            "mintable": i.mintable,
            "burnable": i.burnable,
            "freezable": i.freezable,
            "holderList": i.holder_list,
        }),
        AssetOp::Mint { asset, to, amount } | AssetOp::Transfer { asset, to, amount } => {
            json!({ "asset": asset, "to": to, "amount": amount.to_string() })
        }
        AssetOp::Burn { asset, amount } => json!({ "asset": asset, "amount": amount.to_string() }),
        AssetOp::Approve {
            asset,
            spender,
            amount,
        } => json!({ "asset": asset, "spender": spender, "amount": amount.to_string() }),
        AssetOp::TransferFrom {
            asset,
            from,
            to,
            amount,
        } => json!({ "asset": asset, "from": from, "to": to, "amount": amount.to_string() }),
        AssetOp::Freeze { asset, holder } | AssetOp::Unfreeze { asset, holder } => {
            json!({ "asset": asset, "holder": holder })
        }
        AssetOp::SetListed {
            asset,
            holder,
            listed,
        } => json!({ "asset": asset, "holder": holder, "listed": listed }),
        AssetOp::SetIssuer { asset, issuer } => json!({ "asset": asset, "issuer": issuer }),
    };
    let mut v = json!({ "type": "asset", "op": op.name() });
    if let (Some(v), Value::Object(f)) = (v.as_object_mut(), fields) {
        v.extend(f);
    }
    v
}

pub(crate) fn tx(
    t: &SignedTransaction,
    hash: &Hash,
    suite: Suite,
    loc: Option<TxLocation>,
) -> Value {
    let sender = t.sender(suite).map(|a| a.to_string()).unwrap_or_default();
    let payload = match &t.tx.payload {
        Payload::Transfer { to, amount } => {
            json!({ "type": "transfer", "to": to, "amount": amount.to_string() })
        }
        Payload::EvidencePut(e) => json!({
            "type": "evidencePut",
            "contentHash": e.content_hash,
            "hashAlg": e.hash_alg.name(),
            "size": e.size,
            "mediaType": e.media_type,
            "metadata": e.metadata,
        }),
        Payload::Gov(g) => crate::gov::payload(g),
        Payload::EvmCall { to, value, data } => json!({
            "type": "evmCall",
            "to": to,
            "value": value.to_string(),
            "data": format!("0x{}", hex::encode(data)),
        }),
        Payload::Ethereum { raw } => json!({
            "type": "ethereum",
            "raw": format!("0x{}", hex::encode(raw)),
        }),
        Payload::Asset(op) => asset_payload(op),
        Payload::Nft(op) => nft_payload(op),
        Payload::Did(op) => json!({
            "type": "did",
            "op": op.name(),
            "id": crate::did::op_id(op).map(hex::encode),
        }),
    };
    json!({
        "hash": hash,
        "chainId": t.tx.chain_id,
        "nonce": t.tx.nonce,
        "expiresAtHeight": t.tx.expires_at_height,
        "gasLimit": t.tx.gas_limit,
        "scheme": t.tx.signer.scheme.name(),
        "publicKey": format!("0x{}", hex::encode(&t.tx.signer.public_key)),
        "sender": sender,
        "payload": payload,
        "signature": format!("0x{}", hex::encode(&t.signature)),
        "blockHeight": loc.map(|l| l.height),
        "index": loc.map(|l| l.index),
    })
}

pub(crate) fn receipt(r: &Receipt, loc: TxLocation) -> Value {
    let events: Vec<Value> = r
        .events
        .iter()
        .map(|e| {
            let attrs: serde_json::Map<String, Value> = e
                .attributes
                .iter()
                .map(|(k, v)| (k.clone(), Value::String(v.clone())))
                .collect();
            json!({ "module": e.module, "name": e.name, "attributes": attrs })
        })
        .collect();
    json!({
        "txHash": r.tx_hash,
        "status": match r.status { TxStatus::Success => "success", TxStatus::Failed => "failed" },
        "gasUsed": r.gas_used,
        "fee": r.fee.to_string(),
        "events": events,
        "error": r.error.as_ref().map(|(code, msg)| json!({
            "code": code.code(), "name": code.name(), "message": msg
        })),
        "output": format!("0x{}", hex::encode(&r.output)),
        "blockHeight": loc.height,
        "index": loc.index,
    })
}

pub(crate) fn block(b: &Block, hash: &Hash, suite: Suite, full: bool) -> Value {
    let alg = suite.hash();
    let txs: Vec<Value> = b
        .transactions
        .iter()
        .enumerate()
        .map(|(i, t)| {
            let h = t.hash(alg);
            if full {
                tx(
                    t,
                    &h,
                    suite,
                    Some(TxLocation {
                        height: b.header.height,
                        index: i as u32,
                    }),
                )
            } else {
                json!(h)
            }
        })
        .collect();
    let h = &b.header;
    json!({
        "hash": hash,
        "height": h.height,
        "chainId": h.chain_id,
        "parentHash": h.parent_hash,
        "timestampMs": h.timestamp_ms,
        "txRoot": h.tx_root,
        "receiptsRoot": h.receipts_root,
        "stateRoot": h.state_root,
        "proposer": h.proposer,
        "txCount": h.tx_count,
        "gasUsed": h.gas_used,
        "certificate": {
            "round": b.certificate.round,
            "signatures": b.certificate.signatures.iter().map(|s| json!({
                "validator": s.validator,
                "signature": format!("0x{}", hex::encode(&s.signature)),
            })).collect::<Vec<_>>(),
        },
        "transactions": txs,
    })
}

pub(crate) fn account(addr: &Address, a: &Account) -> Value {
    json!({ "address": addr, "nonce": a.nonce, "balance": a.balance.to_string() })
}

pub(crate) fn evidence(r: &EvidenceRecord) -> Value {
    json!({
        "id": r.id,
        "contentHash": r.content_hash,
        "hashAlg": r.hash_alg.name(),
        "size": r.size,
        "mediaType": r.media_type,
        "owner": r.owner,
        "metadata": r.metadata,
        "height": r.height,
        "timestampMs": r.timestamp_ms,
    })
}
