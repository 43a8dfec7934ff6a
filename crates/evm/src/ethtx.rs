//! Ethereum transactions in Keel blocks (ADR 0009).
//!
//! A signed Ethereum transaction (legacy with EIP-155, EIP-2930, EIP-1559) travels inside a
//! Keel [`SignedTransaction`] whose payload is [`Payload::Ethereum`] with the raw EIP-2718
//! bytes. The envelope is a pure function of the raw bytes ([`envelope`]): chain id, nonce and
//! gas limit are mirrored, the signer is the secp256k1 key recovered from the Ethereum
//! signature, the expiry is `u64::MAX` (Ethereum transactions do not expire) and the outer
//! signature is empty. [`verify_envelope`] re-derives it and compares, so a block can carry only
//! envelopes whose every field is implied by a valid Ethereum signature. The sender address is
//! then `keel_crypto::address_of(Secp256k1, key)`: the Ethereum address, the same account as a
//! native secp256k1 key.

use alloy_consensus::transaction::SignerRecoverable;
use alloy_consensus::{Transaction as _, TxEnvelope};
use alloy_eips::eip2718::Decodable2718;
use alloy_primitives::{Address as EthAddress, B256, Bytes, TxKind, U256};
use keel_crypto::{HashAlgorithm, Scheme};
use keel_types::limits::MAX_TX_BYTES;
use keel_types::{Address, Payload, SignedTransaction, Signer, Transaction};

/// Why raw bytes are not an acceptable Ethereum transaction.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EthTxError {
    /// Too large.
    #[error("raw transaction is {0} bytes, the limit is {MAX_RAW_BYTES}")]
    TooLarge(usize),
    /// RLP / EIP-2718 decoding failed, or bytes were left over.
    #[error("transaction does not decode: {0}")]
    Decode(String),
    /// EIP-4844 and EIP-7702 transactions are not supported.
    #[error("transaction type {0} is not supported (legacy, 1 and 2 are)")]
    UnsupportedType(u8),
    /// Legacy transaction without EIP-155 replay protection.
    #[error("legacy transaction without an EIP-155 chain id is not accepted")]
    NoChainId,
    /// Signature invalid (high s, bad r/s, recovery failed).
    #[error("invalid signature: {0}")]
    BadSignature(String),
    /// Signed for another chain.
    #[error("transaction is for chain {got}, this chain is {expected}")]
    WrongChainId {
        /// This chain.
        expected: u64,
        /// In the transaction.
        got: u64,
    },
    /// A field breaks a protocol rule (nonce 2^64-1, priority fee above max fee, init code too
    /// large, gas limit below the intrinsic gas).
    #[error("invalid transaction: {0}")]
    Invalid(String),
    /// Value does not fit the native 128-bit balance.
    #[error("value {0} exceeds the native balance range")]
    ValueTooLarge(U256),
}

/// Decode raw EIP-2718 bytes (the caller bounds the input; [`envelope`] enforces
/// [`MAX_RAW_BYTES`]) (legacy RLP or typed), rejecting trailing bytes and types Keel
/// does not support.
pub fn decode(raw: &[u8]) -> Result<TxEnvelope, EthTxError> {
    let mut buf = raw;
    let env = TxEnvelope::decode_2718(&mut buf).map_err(|e| EthTxError::Decode(e.to_string()))?;
    if !buf.is_empty() {
        return Err(EthTxError::Decode(format!("{} trailing bytes", buf.len())));
    }
    match &env {
        TxEnvelope::Legacy(_) | TxEnvelope::Eip2930(_) | TxEnvelope::Eip1559(_) => Ok(env),
        other => Err(EthTxError::UnsupportedType(other.tx_type() as u8)),
    }
}

/// `r‖s‖v` (v ∈ {0, 1}) of the envelope's signature.
fn signature_bytes(env: &TxEnvelope) -> [u8; 65] {
    let sig = env.signature();
    let mut out = [0u8; 65];
    out[..32].copy_from_slice(&sig.r().to_be_bytes::<32>());
    out[32..64].copy_from_slice(&sig.s().to_be_bytes::<32>());
    out[64] = u8::from(sig.v());
    out
}

/// Recover the signer's compressed secp256k1 public key (33 bytes). High-s signatures are
/// rejected (EIP-2).
pub fn recover_key(env: &TxEnvelope) -> Result<Vec<u8>, EthTxError> {
    let prehash: B256 = env.signature_hash();
    keel_crypto::recover_secp256k1(&prehash.0, &signature_bytes(env))
        .map_err(|e| EthTxError::BadSignature(e.to_string()))
}

/// Recover the sender's address with alloy's own recovery (used to cross-check Keel's).
pub fn recover_sender_alloy(env: &TxEnvelope) -> Result<EthAddress, EthTxError> {
    env.recover_signer()
        .map_err(|e| EthTxError::BadSignature(e.to_string()))
}

/// Sender address from a recovered key (the Ethereum address rule).
pub fn sender_of_key(key: &[u8]) -> Result<Address, EthTxError> {
    keel_crypto::address_of(Scheme::Secp256k1, key, HashAlgorithm::Keccak256)
        .map(Address)
        .map_err(|e| EthTxError::BadSignature(e.to_string()))
}

/// Bytes the envelope adds around the raw transaction (fields, key, tags), with margin.
pub const ENVELOPE_OVERHEAD: usize = 128;
/// Largest raw Ethereum transaction Keel accepts: its envelope must fit `MAX_TX_BYTES`.
pub const MAX_RAW_BYTES: usize = MAX_TX_BYTES - ENVELOPE_OVERHEAD;

/// Largest init code (EIP-3860).
pub const MAX_INITCODE_SIZE: usize = 2 * 24_576;

/// A transaction that passed every stateless Ethereum rule.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ValidTx {
    /// The decoded transaction.
    pub envelope: TxEnvelope,
    /// Recovered compressed public key.
    pub key: Vec<u8>,
    /// Sender address.
    pub sender: Address,
    /// `keccak256(raw)`.
    pub hash: [u8; 32],
    /// Intrinsic gas under `spec`.
    pub intrinsic_gas: u64,
}

/// Every stateless rule of an Ethereum transaction for `spec`: strict decoding, chain id
/// (`expected_chain_id`; a legacy transaction without one is valid here — Keel's [`envelope`]
/// refuses it), EIP-2681 nonce bound, priority fee ≤ max fee, EIP-3860 init code size,
/// intrinsic gas (with the EIP-7623 floor from Prague), signature (low s, recovers).
pub fn validate(
    raw: &[u8],
    expected_chain_id: u64,
    spec: revm::primitives::hardfork::SpecId,
) -> Result<ValidTx, EthTxError> {
    let env = decode(raw)?;
    if let Some(got) = env.chain_id()
        && got != expected_chain_id
    {
        return Err(EthTxError::WrongChainId {
            expected: expected_chain_id,
            got,
        });
    }
    if env.nonce() == u64::MAX {
        return Err(EthTxError::Invalid("nonce 2^64-1 (EIP-2681)".into()));
    }
    if let Some(p) = env.max_priority_fee_per_gas()
        && p > env.max_fee_per_gas()
    {
        return Err(EthTxError::Invalid(
            "max priority fee per gas above max fee per gas".into(),
        ));
    }
    let is_create = env.kind() == TxKind::Create;
    if is_create && env.input().len() > MAX_INITCODE_SIZE {
        return Err(EthTxError::Invalid(format!(
            "init code of {} bytes exceeds {MAX_INITCODE_SIZE} (EIP-3860)",
            env.input().len()
        )));
    }
    let (accounts, slots) = env.access_list().map_or((0, 0), |l| {
        (
            l.0.len() as u64,
            l.0.iter().map(|i| i.storage_keys.len() as u64).sum(),
        )
    });
    let gas = revm::context_interface::cfg::gas::calculate_initial_tx_gas(
        spec,
        env.input(),
        is_create,
        accounts,
        slots,
        0,
        None,
    );
    let intrinsic_gas = gas.initial_total_gas().max(gas.floor_gas());
    if env.gas_limit() < intrinsic_gas {
        return Err(EthTxError::Invalid(format!(
            "gas limit {} below the intrinsic gas {intrinsic_gas}",
            env.gas_limit()
        )));
    }
    let key = recover_key(&env)?;
    let sender = sender_of_key(&key)?;
    Ok(ValidTx {
        hash: HashAlgorithm::Keccak256.digest(raw),
        envelope: env,
        key,
        sender,
        intrinsic_gas,
    })
}

/// The chain id the transaction commits to (`None` for a pre-EIP-155 legacy transaction).
pub fn chain_id(env: &TxEnvelope) -> Option<u64> {
    env.chain_id()
}

/// The Keel envelope for raw Ethereum bytes (see the module docs): [`validate`] for
/// `chain_id` under Keel's EVM rules, EIP-155 required.
pub fn envelope(raw: &[u8], chain_id: u64) -> Result<SignedTransaction, EthTxError> {
    if raw.len() > MAX_RAW_BYTES {
        return Err(EthTxError::TooLarge(raw.len()));
    }
    if decode(raw)?.chain_id().is_none() {
        return Err(EthTxError::NoChainId);
    }
    let v = validate(raw, chain_id, crate::exec::SPEC)?;
    envelope_with_key(&v.envelope, raw, v.key)
}

fn envelope_with_key(
    env: &TxEnvelope,
    raw: &[u8],
    key: Vec<u8>,
) -> Result<SignedTransaction, EthTxError> {
    let chain_id = env.chain_id().ok_or(EthTxError::NoChainId)?;
    if env.value() > U256::from(u128::MAX) {
        return Err(EthTxError::ValueTooLarge(env.value()));
    }
    Ok(SignedTransaction {
        tx: Transaction {
            chain_id,
            nonce: env.nonce(),
            expires_at_height: u64::MAX,
            gas_limit: env.gas_limit(),
            signer: Signer {
                scheme: Scheme::Secp256k1,
                public_key: key,
            },
            payload: Payload::Ethereum { raw: raw.to_vec() },
        },
        signature: Vec::new(),
    })
}

/// True if `stx` is exactly the envelope of its raw Ethereum bytes (for the chain id it
/// names) with a valid signature.
pub fn verify_envelope(stx: &SignedTransaction) -> bool {
    let Payload::Ethereum { raw } = &stx.tx.payload else {
        return false;
    };
    match envelope(raw, stx.tx.chain_id) {
        Ok(expected) => &expected == stx,
        Err(_) => false,
    }
}

/// The parts of an Ethereum transaction the executor and the RPC need.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EthFields {
    /// EIP-2718 type: 0 legacy, 1 EIP-2930, 2 EIP-1559.
    pub tx_type: u8,
    /// Chain id.
    pub chain_id: u64,
    /// Nonce.
    pub nonce: u64,
    /// Gas limit.
    pub gas_limit: u64,
    /// Legacy / 2930 gas price, or the EIP-1559 max fee per gas.
    pub max_fee_per_gas: u128,
    /// EIP-1559 priority fee cap (`None` for legacy and 2930).
    pub max_priority_fee_per_gas: Option<u128>,
    /// Call target, `None` for a deployment.
    pub to: Option<Address>,
    /// Value (fits 128 bits, checked at envelope construction).
    pub value: u128,
    /// Call data or init code.
    pub input: Bytes,
    /// EIP-2930 access list, as (address, storage keys).
    pub access_list: Vec<(Address, Vec<[u8; 32]>)>,
    /// Signature `v` as Ethereum JSON-RPC shows it (legacy: `chain_id*2+35+parity`; typed: parity).
    pub v: u64,
    /// Signature `r`.
    pub r: [u8; 32],
    /// Signature `s`.
    pub s: [u8; 32],
    /// Signature parity.
    pub y_parity: bool,
}

/// Decode the fields of raw Ethereum bytes (no signature recovery).
pub fn fields(raw: &[u8]) -> Result<EthFields, EthTxError> {
    let env = decode(raw)?;
    let chain_id = env.chain_id().ok_or(EthTxError::NoChainId)?;
    let sig = env.signature();
    let y_parity = sig.v();
    let tx_type = env.tx_type() as u8;
    let v = if tx_type == 0 {
        chain_id * 2 + 35 + u64::from(y_parity)
    } else {
        u64::from(y_parity)
    };
    let to = match env.kind() {
        TxKind::Call(a) => Some(Address(a.0.0)),
        TxKind::Create => None,
    };
    let value = u128::try_from(env.value()).map_err(|_| EthTxError::ValueTooLarge(env.value()))?;
    let access_list = env
        .access_list()
        .map(|l| {
            l.0.iter()
                .map(|item| {
                    (
                        Address(item.address.0.0),
                        item.storage_keys.iter().map(|k| k.0).collect(),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    let (max_fee_per_gas, max_priority_fee_per_gas) = match tx_type {
        2 => (env.max_fee_per_gas(), env.max_priority_fee_per_gas()),
        _ => (env.gas_price().unwrap_or_default(), None),
    };
    Ok(EthFields {
        tx_type,
        chain_id,
        nonce: env.nonce(),
        gas_limit: env.gas_limit(),
        max_fee_per_gas,
        max_priority_fee_per_gas,
        to,
        value,
        input: env.input().clone(),
        access_list,
        v,
        r: sig.r().to_be_bytes::<32>(),
        s: sig.s().to_be_bytes::<32>(),
        y_parity,
    })
}
