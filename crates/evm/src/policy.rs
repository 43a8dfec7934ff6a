//! Governance operation policies the EVM enforces (ADR 0011, issue 12).
//!
//! `keel_execution::governance::authorize` checks the operation of the payload itself
//! (`deploy_contract` for a creation, `call_contract` for a call). Two ways around it close here:
//!
//! * **Value.** An EVM transaction carrying value moves the sender's tokens like a native
//!   transfer, so it also needs the `transfer` policy, whatever its target (an ordinary
//!   account, a contract, a creation). Checked at admission (`Node::authorize_tx`) and before
//!   execution ([`value_refusal`]); a refusal in execution consumes the nonce and charges
//!   nothing, like every governance refusal of an EVM transaction. Value a contract later
//!   moves from its own balance is the contract's business (its funds came from senders the
//!   policy admitted).
//! * **Factories.** A contract creation from inside a call (CREATE or CREATE2 by a factory
//!   contract) needs the `deploy_contract` policy of the transaction's origin: when the origin
//!   is excluded, [`CreateGuard`] makes every creation frame revert with
//!   `Error("deploy_contract not permitted: …")` and its gas unspent, so the factory sees a
//!   failed creation (Solidity's `new` then reverts the call).

use alloy_primitives::{Bytes, U256};
use keel_crypto::HashAlgorithm;
use keel_execution::{ExecutionError, StateView, governance};
use keel_types::{Address, Operation, Payload};
use revm::Inspector;
use revm::interpreter::interpreter::EthInterpreter;
use revm::interpreter::{CreateInputs, CreateOutcome, Gas, InstructionResult, InterpreterResult};

/// The value an EVM payload moves out of its sender's balance (0 for a malformed envelope,
/// which never verifies).
pub fn payload_value(payload: &Payload) -> u128 {
    match payload {
        Payload::EvmCall { value, .. } => *value,
        Payload::Ethereum { raw } => crate::ethtx::fields(raw).map_or(0, |f| f.value),
        _ => 0,
    }
}

/// The refusal message if `sender` may not send `value` > 0 (the `transfer` policy).
pub fn value_refusal(
    view: &dyn StateView,
    alg: HashAlgorithm,
    sender: &Address,
    value: u128,
) -> Result<Option<String>, ExecutionError> {
    if value == 0 {
        return Ok(None);
    }
    refusal(view, alg, sender, Operation::Transfer)
        .map(|r| r.map(|msg| format!("{msg}: an EVM transaction carrying value is a transfer")))
}

/// The refusal message if `origin` may not create contracts (the `deploy_contract` policy).
pub fn deploy_refusal(
    view: &dyn StateView,
    alg: HashAlgorithm,
    origin: &Address,
) -> Result<Option<String>, ExecutionError> {
    refusal(view, alg, origin, Operation::DeployContract)
}

fn refusal(
    view: &dyn StateView,
    alg: HashAlgorithm,
    who: &Address,
    op: Operation,
) -> Result<Option<String>, ExecutionError> {
    match governance::permits(view, alg, who, op) {
        Ok(()) => Ok(None),
        Err(Ok((_, msg))) => Ok(Some(msg)),
        Err(Err(e)) => Err(e),
    }
}

/// Inspector installed when the transaction's origin may not deploy contracts: every creation
/// frame reverts at once (its gas is returned to the caller).
#[derive(Debug)]
pub(crate) struct CreateGuard {
    revert_data: Bytes,
}

impl CreateGuard {
    pub(crate) fn new(reason: &str) -> Self {
        CreateGuard {
            revert_data: error_string(&format!("deploy_contract not permitted: {reason}")),
        }
    }
}

impl<CTX> Inspector<CTX, EthInterpreter> for CreateGuard {
    fn create(&mut self, _context: &mut CTX, inputs: &mut CreateInputs) -> Option<CreateOutcome> {
        let result = InterpreterResult::new(
            InstructionResult::Revert,
            self.revert_data.clone(),
            Gas::new(inputs.gas_limit()),
        );
        Some(CreateOutcome::new(result, None))
    }
}

/// Solidity's `Error(string)` revert payload.
fn error_string(msg: &str) -> Bytes {
    let mut out = vec![0x08, 0xc3, 0x79, 0xa0];
    out.extend_from_slice(&U256::from(32).to_be_bytes::<32>());
    out.extend_from_slice(&U256::from(msg.len()).to_be_bytes::<32>());
    out.extend_from_slice(msg.as_bytes());
    out.resize(4 + 64 + msg.len().div_ceil(32) * 32, 0);
    Bytes::from(out)
}

#[cfg(test)]
mod tests {
    #[test]
    fn error_string_decodes_back() {
        let data = super::error_string("no factories for you");
        assert_eq!(
            crate::exec::decode_revert_reason(&data).as_deref(),
            Some("no factories for you")
        );
        assert_eq!((data.len() - 4) % 32, 0);
    }
}
