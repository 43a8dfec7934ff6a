//! The hook through which the executor runs EVM payloads (`Payload::EvmCall`,
//! `Payload::Ethereum`). The EVM itself lives in `keel-evm`, which implements [`EvmHook`];
//! the node installs it with [`crate::Executor::with_evm`]. Native payloads never reach it, so
//! native transfers pay nothing for the EVM.

use crate::keys::StateKey;
use crate::{BlockContext, ChainParams, ExecutionError, StateView, TxInput};
use keel_types::Receipt;

/// Result of one EVM transaction: its receipt and the state writes to apply (`None` = delete).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EvmOutcome {
    /// The receipt (status, gas, fee, logs as events, revert data in `output`).
    pub receipt: Receipt,
    /// State writes, applied by the executor in order.
    pub writes: Vec<(StateKey, Option<Vec<u8>>)>,
}

/// Executes EVM payloads over a read-only view of the state as of the previous transaction.
pub trait EvmHook: Sync + std::fmt::Debug {
    /// Execute `input` (whose payload is an EVM payload). Must be deterministic. A transaction
    /// failure is a failed receipt; `Err` is reserved for operating errors (state reads).
    fn execute(
        &self,
        state: &dyn StateView,
        params: &ChainParams,
        ctx: BlockContext,
        input: &TxInput<'_>,
    ) -> Result<EvmOutcome, ExecutionError>;
}
