//! Admission rules for EVM payloads (ADR 0009): the same pipeline as native transactions, with
//! these differences: an Ethereum envelope is verified by recovery from its raw bytes (not by
//! the outer signature) and does not expire; its fee cap must reach the chain's gas price; the
//! gas limit of any EVM transaction is bounded by the EVM block gas limit.

use crate::AdmitError;
use keel_types::{Payload, SignedTransaction};

/// EVM checks (after `check_stateless`); `gas_price` is the one the next block charges.
pub(crate) fn precheck(tx: &SignedTransaction, gas_price: u128) -> Result<(), AdmitError> {
    if tx.tx.gas_limit > keel_evm::BLOCK_GAS_LIMIT {
        return Err(AdmitError::InvalidField {
            field: "gas_limit",
            reason: format!(
                "{} exceeds the block gas limit {}",
                tx.tx.gas_limit,
                keel_evm::BLOCK_GAS_LIMIT
            ),
        });
    }
    if let Payload::Ethereum { raw } = &tx.tx.payload {
        let f = keel_evm::ethtx::fields(raw).map_err(|e| AdmitError::Malformed {
            reason: e.to_string(),
        })?;
        if f.max_fee_per_gas < gas_price {
            return Err(AdmitError::FeeTooLow {
                max_fee_per_gas: f.max_fee_per_gas,
                gas_price,
            });
        }
    }
    Ok(())
}

/// Value an EVM transaction moves out of the sender's balance (the fee is priced separately).
pub(crate) fn value(tx: &SignedTransaction) -> u128 {
    match &tx.tx.payload {
        Payload::EvmCall { value, .. } => *value,
        Payload::Ethereum { raw } => keel_evm::ethtx::fields(raw).map_or(0, |f| f.value),
        _ => 0,
    }
}

/// True if the Ethereum envelope at `tx` is valid (signature recovered from the raw bytes).
pub(crate) fn verify(tx: &SignedTransaction) -> bool {
    keel_evm::ethtx::verify_envelope(tx)
}
