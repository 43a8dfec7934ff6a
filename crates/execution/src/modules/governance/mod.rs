//! The governance module (ADR 0011): committee, account roles and freezes, proposals voted by
//! weight with a threshold, chain parameters, revoked certificates, and the epoch state (the
//! validator set), which changes only when a validator proposal is accepted — that block ends
//! the epoch.
//!
//! Everything lives in the authenticated state, so it is proven and synced like any other
//! module's data:
//!
//! | key | value |
//! |---|---|
//! | `H("keel/gov/v1" ‖ "state")` | [`GovState`]: permissioned flag, committee, threshold, params, open proposals |
//! | `H("keel/gov/v1" ‖ "recent")` | ids of recently closed proposals (≤ 256) |
//! | `H("keel/gov/v1" ‖ "epoch")` | [`EpochState`]: epoch number, first height, validators |
//! | `H("keel/gov/acct/v1" ‖ address)` | [`AccountPerm`]: role, frozen, admitted |
//! | `H("keel/gov/prop/v1" ‖ id)` | [`Proposal`] |
//! | `H("keel/gov/revoked/v1" ‖ fingerprint)` | height of revocation (u64) |
//! | `H("keel/gov/v1" ‖ "revoked-list")` | every revoked fingerprint, in order (≤ 4,096): the nodes' network layers close these links |
//! | `H("keel/gov/v1" ‖ "node-policy")` | the node list ([`OpPolicy`](keel_types::OpPolicy)): nodes that may link and vote |
//! | `H("keel/gov/op/v1" ‖ operation tag)` | [`OpPolicy`](keel_types::OpPolicy) of an operation (allow/deny list) |
//!
//! Files: `state.rs` (records, keys, reads), `authorize.rs` (the permission rule run at admission
//! and in execution), `genesis.rs`, `proposals.rs` (propose, vote, count, expire) and
//! `actions.rs` (checks and effects of accepted actions).

mod actions;
mod authorize;
mod genesis;
mod proposals;
mod state;

pub use authorize::{Refusal, authorize, permits};
pub use genesis::genesis_changes;
pub(crate) use proposals::apply;
pub use proposals::dry_run;
pub use state::*;
