//! The native token: accounts (`nonce`, `balance`), transfers and genesis allocations. Fees are
//! charged by the executor on the same [`Account`] record.
//!
//! State: `H("keel/acct/v1" ‖ address)` → [`Account`] ([`crate::keys::account`]).

use super::{Applied, Call, ModResult, event, refuse};
use crate::ExecutionError;
use crate::context::decode_value;
use crate::keys::{self, StateKey};
use crate::overlay::{Overlay, StateView};
use borsh::{BorshDeserialize, BorshSerialize};
use keel_crypto::HashAlgorithm;
use keel_types::{Address, ExecErrorCode, codec};

/// An account of the native token module.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct Account {
    /// Next nonce the account must use.
    pub nonce: u64,
    /// Balance in the smallest unit.
    pub balance: u128,
}

impl Account {
    /// Decode a stored account value.
    pub fn decode(key: &StateKey, bytes: &[u8]) -> Result<Account, ExecutionError> {
        decode_value("account", key, bytes)
    }
}

/// State changes that create the genesis allocations.
pub fn genesis_changes(
    alg: HashAlgorithm,
    alloc: &[(Address, u128)],
) -> Vec<(StateKey, Option<Vec<u8>>)> {
    let mut m = std::collections::BTreeMap::new();
    for (addr, balance) in alloc {
        let e: &mut Account = m.entry(keys::account(alg, addr)).or_default();
        e.balance = e.balance.saturating_add(*balance);
    }
    m.into_iter()
        .map(|(k, a)| (k, Some(codec::encode(&a))))
        .collect()
}

/// The account at `key` (default if absent).
pub(crate) fn read_account(
    view: &dyn StateView,
    key: &StateKey,
) -> Result<Account, ExecutionError> {
    match view.get(key)? {
        None => Ok(Account::default()),
        Some(bytes) => Account::decode(key, &bytes),
    }
}

/// `Payload::Transfer`: move `amount` from the sender to `to`.
pub(crate) fn transfer(
    ov: &mut Overlay<'_>,
    call: &Call,
    to: &Address,
    amount: u128,
) -> ModResult<Applied> {
    move_balance(ov, call.alg, &call.sender, to, amount)?;
    Ok(Applied::events(vec![event(
        "token",
        "Transfer",
        vec![
            ("from", call.sender.to_string()),
            ("to", to.to_string()),
            ("amount", amount.to_string()),
        ],
    )]))
}

fn move_balance(
    ov: &mut Overlay<'_>,
    alg: HashAlgorithm,
    from: &Address,
    to: &Address,
    amount: u128,
) -> ModResult<()> {
    let from_key = keys::account(alg, from);
    let mut src = read_account(ov, &from_key)?;
    if src.balance < amount {
        return refuse(
            ExecErrorCode::InsufficientBalance,
            format!("balance {} is less than the amount {}", src.balance, amount),
        );
    }
    if from == to {
        return Ok(());
    }
    let to_key = keys::account(alg, to);
    let mut dst = read_account(ov, &to_key)?;
    let Some(credited) = dst.balance.checked_add(amount) else {
        return refuse(ExecErrorCode::Overflow, "recipient balance would overflow");
    };
    dst.balance = credited;
    src.balance -= amount;
    ov.put(from_key, codec::encode(&src));
    ov.put(to_key, codec::encode(&dst));
    Ok(())
}
