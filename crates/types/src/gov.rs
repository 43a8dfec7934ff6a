//! Governance payloads (ADR 0011): committee proposals and votes, and the roles accounts hold.
//!
//! Members and validators are identified by their addresses/keys; a member or account may carry
//! an optional certificate fingerprint so the PKI can be bound later without a format change.

use crate::tx::Signer;
use crate::{Address, Hash};
use borsh::{BorshDeserialize, BorshSerialize};

/// Longest validator/organisation name, bytes.
pub const MAX_GOV_NAME_BYTES: usize = 64;
/// Longest validator P2P address (`host:port`), bytes.
pub const MAX_P2P_ADDR_BYTES: usize = 128;
/// Longest proposal TTL a proposer may ask for, blocks.
pub const MAX_PROPOSAL_TTL_BLOCKS: u64 = 1_000_000;
/// Gas for a governance transaction.
pub const GAS_GOV: u64 = 50_000;

/// What an account may do. Stable tags (borsh discriminants).
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, BorshSerialize, BorshDeserialize,
)]
#[borsh(use_discriminant = true)]
#[repr(u8)]
pub enum Role {
    /// Sends transfers and writes evidence.
    Client = 1,
    /// Read-only (e.g. a regulator): every transaction is refused.
    Auditor = 2,
    /// Read-only node operator account.
    Observer = 3,
    /// Administers an organisation; may also transact as a client.
    OrgAdmin = 4,
}

impl Role {
    /// Stable lower-case name.
    pub fn name(self) -> &'static str {
        match self {
            Role::Client => "client",
            Role::Auditor => "auditor",
            Role::Observer => "observer",
            Role::OrgAdmin => "org_admin",
        }
    }

    /// Parse a [`Role::name`].
    pub fn from_name(s: &str) -> Option<Role> {
        [Role::Client, Role::Auditor, Role::Observer, Role::OrgAdmin]
            .into_iter()
            .find(|r| r.name() == s)
    }

    /// Whether the role may send transactions at all.
    pub fn may_write(self) -> bool {
        matches!(self, Role::Client | Role::OrgAdmin)
    }
}

/// Most addresses in one operation allow/deny list.
pub const MAX_POLICY_ADDRESSES: usize = 256;

/// An operation (per module) that a chain-level policy can restrict. Tags are stable; later
/// modules' operations are reserved here so policies can be set before they exist.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, BorshSerialize, BorshDeserialize,
)]
#[borsh(use_discriminant = true)]
#[repr(u8)]
pub enum Operation {
    /// Native token transfer (module `token`).
    Transfer = 1,
    /// Evidence write (module `evidence`).
    EvidencePut = 2,
    /// Contract deployment (reserved for the contract module).
    DeployContract = 3,
    /// Contract call (reserved for the contract module).
    CallContract = 4,
    /// Asset issuance (module `assets`).
    AssetIssue = 5,
    /// A holder moves asset balance: transfer, approve, transfer-from, burn (module `assets`).
    AssetTransfer = 6,
    /// An issuer administers an asset: mint, freeze, unfreeze, white list, hand on the issuer
    /// role (module `assets`).
    AssetAdmin = 7,
    /// Creation of an NFT collection (module `nft`).
    NftIssue = 8,
    /// Minting an NFT (the collection's issuer; module `nft`).
    NftMint = 9,
    /// An owner moves an NFT: transfer, approve, burn (module `nft`).
    NftTransfer = 10,
    /// Creating, updating or deactivating a DID (module `did`).
    Did = 11,
}

impl Operation {
    /// Every operation.
    pub const ALL: [Operation; 11] = [
        Operation::Transfer,
        Operation::EvidencePut,
        Operation::DeployContract,
        Operation::CallContract,
        Operation::AssetIssue,
        Operation::AssetTransfer,
        Operation::AssetAdmin,
        Operation::NftIssue,
        Operation::NftMint,
        Operation::NftTransfer,
        Operation::Did,
    ];

    /// Stable lower-case name.
    pub fn name(self) -> &'static str {
        match self {
            Operation::Transfer => "transfer",
            Operation::EvidencePut => "evidence_put",
            Operation::DeployContract => "deploy_contract",
            Operation::CallContract => "call_contract",
            Operation::AssetIssue => "asset_issue",
            Operation::AssetTransfer => "asset_transfer",
            Operation::AssetAdmin => "asset_admin",
            Operation::NftIssue => "nft_issue",
            Operation::NftMint => "nft_mint",
            Operation::NftTransfer => "nft_transfer",
            Operation::Did => "did",
        }
    }

    /// Parse a [`Operation::name`].
    pub fn from_name(s: &str) -> Option<Operation> {
        Operation::ALL.into_iter().find(|o| o.name() == s)
    }
}

/// Who may perform an operation (on top of roles and freezes), or which nodes may link and
/// vote ([`GovAction::SetNodePolicy`]).
#[derive(Clone, Debug, Default, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub enum OpPolicy {
    /// Everyone the role rules allow (the default).
    #[default]
    Open,
    /// Only these accounts (a white list).
    AllowList(Vec<Address>),
    /// Everyone but these accounts (a black list).
    DenyList(Vec<Address>),
}

impl OpPolicy {
    /// Whether `a` passes the policy.
    pub fn permits(&self, a: &Address) -> bool {
        match self {
            OpPolicy::Open => true,
            OpPolicy::AllowList(l) => l.contains(a),
            OpPolicy::DenyList(l) => !l.contains(a),
        }
    }
}

/// A validator named in a proposal or in the epoch state.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct ValidatorInfo {
    /// Human name.
    pub name: String,
    /// Consensus key (scheme and public key); its address is the validator's id.
    pub key: Signer,
    /// P2P address other validators dial (`host:port`), may be empty.
    pub p2p_addr: String,
}

/// A chain parameter a proposal may change.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub enum ChainParam {
    /// Gas price in the smallest unit.
    GasPrice(u128),
    /// Most transactions per block a leader includes.
    MaxBlockTxs(u32),
    /// Leaders propose at most this often, ms.
    BlockIntervalMs(u64),
    /// Default lifetime of a proposal, blocks.
    ProposalTtlBlocks(u64),
    /// Per-block EVM gas budget (sum of the gas limits of EVM transactions), at least
    /// [`crate::limits::MIN_BLOCK_EVM_GAS`].
    MaxBlockGas(u64),
    /// Permissioned mode: an admitted account must also hold a client certificate
    /// ([`GovAction::SetAccountCertificate`]); committee members are exempt (issue 14).
    RequireAccountCertificates(bool),
}

/// What an accepted proposal does. Variants are borsh-encoded by position in stored proposals:
/// add new ones at the end.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub enum GovAction {
    /// Add a committee member (an organisation's voting account) with a voting weight.
    AddMember {
        /// Member account.
        address: Address,
        /// Voting weight (≥ 1).
        weight: u64,
        /// Organisation name.
        org: String,
    },
    /// Remove a committee member (never the last one).
    RemoveMember {
        /// Member account.
        address: Address,
    },
    /// Add a validator at the next epoch boundary.
    AddValidator(ValidatorInfo),
    /// Remove a validator at the next epoch boundary.
    RemoveValidator {
        /// Validator address.
        address: Address,
    },
    /// Admit an account (bind it to a client identity) with a role.
    SetAccount {
        /// Account.
        address: Address,
        /// Role.
        role: Role,
        /// Organisation.
        org: String,
        /// Optional certificate fingerprint the PKI binds later.
        cert_fingerprint: Option<Hash>,
    },
    /// Revoke an account's admission.
    RemoveAccount {
        /// Account.
        address: Address,
    },
    /// Freeze an account: it can send nothing until unfrozen.
    Freeze {
        /// Account.
        address: Address,
    },
    /// Unfreeze an account.
    Unfreeze {
        /// Account.
        address: Address,
    },
    /// Record a revoked certificate (by fingerprint) for the PKI to consult.
    RevokeCertificate {
        /// Certificate fingerprint.
        fingerprint: Hash,
    },
    /// Change a chain parameter.
    SetParam(ChainParam),
    /// Restrict (or reopen) an operation chain-wide with an allow or deny list.
    SetOperationPolicy {
        /// The operation.
        op: Operation,
        /// The policy.
        policy: OpPolicy,
    },
    /// The node list (issue 14), the same model as an operation's account list: a deny list
    /// (black list) keeps those nodes from linking and voting even with a valid certificate;
    /// an allow list (white list), when set, is the only set of nodes admitted; open admits
    /// every node the network otherwise accepts. Addresses are node-key addresses.
    SetNodePolicy {
        /// The policy.
        policy: OpPolicy,
    },
    /// Admit an account bound to its client certificate (issue 14): the certificate's role
    /// and organisation become the account's; once the certificate expires (`not_after_secs`,
    /// against the block time) or is revoked on chain, the account is refused. The members
    /// check the chain to the consortium root before voting (`keel cert verify`).
    SetAccountCertificate {
        /// Account (the certificate's key).
        address: Address,
        /// Certificate fingerprint.
        fingerprint: Hash,
        /// Role written in the certificate.
        role: Role,
        /// Organisation written in the certificate.
        org: String,
        /// The certificate's notAfter, Unix seconds.
        not_after_secs: u64,
    },
}

impl GovAction {
    /// Stable lower-case name.
    pub fn name(&self) -> &'static str {
        match self {
            GovAction::AddMember { .. } => "add_member",
            GovAction::RemoveMember { .. } => "remove_member",
            GovAction::AddValidator(_) => "add_validator",
            GovAction::RemoveValidator { .. } => "remove_validator",
            GovAction::SetAccount { .. } => "set_account",
            GovAction::SetAccountCertificate { .. } => "set_account_certificate",
            GovAction::RemoveAccount { .. } => "remove_account",
            GovAction::Freeze { .. } => "freeze",
            GovAction::Unfreeze { .. } => "unfreeze",
            GovAction::RevokeCertificate { .. } => "revoke_certificate",
            GovAction::SetParam(_) => "set_param",
            GovAction::SetOperationPolicy { .. } => "set_operation_policy",
            GovAction::SetNodePolicy { .. } => "set_node_policy",
        }
    }

    /// Whether the action changes the validator set (at most one per epoch).
    pub fn changes_validators(&self) -> bool {
        matches!(
            self,
            GovAction::AddValidator(_) | GovAction::RemoveValidator { .. }
        )
    }

    /// Field limits, checked at admission and again in blocks.
    pub fn check(&self) -> Result<(), (&'static str, String)> {
        let name_ok = |field: &'static str, s: &str, max: usize| {
            if s.len() > max {
                Err((field, format!("over {max} bytes")))
            } else {
                Ok(())
            }
        };
        match self {
            GovAction::AddMember { weight, org, .. } => {
                if *weight == 0 {
                    return Err(("weight", "must be at least 1".into()));
                }
                name_ok("org", org, MAX_GOV_NAME_BYTES)
            }
            GovAction::AddValidator(v) => {
                name_ok("name", &v.name, MAX_GOV_NAME_BYTES)?;
                name_ok("p2p_addr", &v.p2p_addr, MAX_P2P_ADDR_BYTES)?;
                if v.key.public_key.len() != v.key.scheme.public_key_len() {
                    return Err(("key", "public key length does not match its scheme".into()));
                }
                Ok(())
            }
            GovAction::SetAccount { org, .. } | GovAction::SetAccountCertificate { org, .. } => {
                name_ok("org", org, MAX_GOV_NAME_BYTES)
            }
            GovAction::SetOperationPolicy {
                policy: OpPolicy::AllowList(l) | OpPolicy::DenyList(l),
                ..
            }
            | GovAction::SetNodePolicy {
                policy: OpPolicy::AllowList(l) | OpPolicy::DenyList(l),
            } if l.len() > MAX_POLICY_ADDRESSES => {
                Err(("policy", format!("over {MAX_POLICY_ADDRESSES} addresses")))
            }
            _ => Ok(()),
        }
    }
}

/// A governance transaction's payload.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub enum GovPayload {
    /// Open a proposal (the proposer's yes vote is counted at once). Its id is the tx hash.
    Propose {
        /// What it does.
        action: GovAction,
        /// Lifetime in blocks; 0 = the chain's default.
        ttl_blocks: u64,
    },
    /// Vote on an open proposal.
    Vote {
        /// Proposal id.
        proposal: Hash,
        /// Yes or no.
        approve: bool,
    },
    /// An organisation revokes one of its own certificates, without a vote (issue 14): the
    /// sender must be an admitted `org_admin` account bound to a client certificate of that
    /// organisation; the certificate's subject O must name it. Takes effect like
    /// [`GovAction::RevokeCertificate`].
    RevokeMemberCertificate {
        /// The certificate to revoke, DER (at most [`MAX_CERT_DER_BYTES`]).
        certificate: Vec<u8>,
    },
}

/// Largest certificate a [`GovPayload::RevokeMemberCertificate`] may carry.
pub const MAX_CERT_DER_BYTES: usize = 4096;

/// The operation a payload performs (`None`: governance itself, never restricted by policy so
/// the committee cannot lock itself out).
pub fn operation_of(payload: &crate::Payload) -> Option<Operation> {
    match payload {
        crate::Payload::Transfer { .. } => Some(Operation::Transfer),
        crate::Payload::EvidencePut(_) => Some(Operation::EvidencePut),
        crate::Payload::Gov(_) => None,
        crate::Payload::Asset(op) => Some(op.operation()),
        crate::Payload::Nft(op) => Some(op.operation()),
        crate::Payload::Did(_) => Some(Operation::Did),
        crate::Payload::EvmCall { to: None, .. } => Some(Operation::DeployContract),
        crate::Payload::EvmCall { to: Some(_), .. } => Some(Operation::CallContract),
        // A malformed envelope never verifies; treat it as the stricter operation.
        crate::Payload::Ethereum { raw } => Some(match ethereum_is_create(raw) {
            Some(false) => Operation::CallContract,
            _ => Operation::DeployContract,
        }),
    }
}

/// Whether a raw EIP-2718 Ethereum transaction (legacy, type 1 or type 2) creates a contract
/// (its `to` field is empty), read from its RLP without decoding the rest; `None` if malformed.
pub fn ethereum_is_create(raw: &[u8]) -> Option<bool> {
    // Index of `to` in the field list of each transaction type.
    let (body, to_index) = match *raw.first()? {
        0x01 => (raw.get(1..)?, 4), // chainId, nonce, gasPrice, gasLimit, to
        0x02 => (raw.get(1..)?, 5), // chainId, nonce, maxPriorityFee, maxFee, gasLimit, to
        b if b >= 0xc0 => (raw, 3), // legacy: nonce, gasPrice, gasLimit, to
        _ => return None,
    };
    let (is_list, mut fields, _) = rlp_item(body)?;
    if !is_list {
        return None;
    }
    for _ in 0..to_index {
        fields = rlp_item(fields)?.2;
    }
    let (is_list, to, _) = rlp_item(fields)?;
    (!is_list).then_some(to.is_empty())
}

/// One RLP item: (is a list, its payload, the bytes after it).
fn rlp_item(b: &[u8]) -> Option<(bool, &[u8], &[u8])> {
    let first = *b.first()?;
    let (is_list, start, len) = match first {
        0x00..=0x7f => return Some((false, b.get(..1)?, b.get(1..)?)),
        0x80..=0xb7 => (false, 1, usize::from(first - 0x80)),
        0xc0..=0xf7 => (true, 1, usize::from(first - 0xc0)),
        _ => {
            let (is_list, len_of_len) = if first < 0xc0 {
                (false, usize::from(first - 0xb7))
            } else {
                (true, usize::from(first - 0xf7))
            };
            let mut len = 0usize;
            for byte in b.get(1..1 + len_of_len)? {
                len = len.checked_mul(256)?.checked_add(usize::from(*byte))?;
            }
            (is_list, 1 + len_of_len, len)
        }
    };
    let end = start.checked_add(len)?;
    Some((is_list, b.get(start..end)?, b.get(end..)?))
}

impl GovPayload {
    /// Field limits.
    pub fn check(&self) -> Result<(), (&'static str, String)> {
        match self {
            GovPayload::Propose { action, ttl_blocks } => {
                if *ttl_blocks > MAX_PROPOSAL_TTL_BLOCKS {
                    return Err(("ttl_blocks", format!("over {MAX_PROPOSAL_TTL_BLOCKS}")));
                }
                action.check()
            }
            GovPayload::Vote { .. } => Ok(()),
            GovPayload::RevokeMemberCertificate { certificate } => {
                if certificate.len() > MAX_CERT_DER_BYTES {
                    return Err(("certificate", format!("over {MAX_CERT_DER_BYTES} bytes")));
                }
                Ok(())
            }
        }
    }
}

#[cfg(test)]
mod ethereum_operation_tests {
    use super::*;

    #[test]
    fn create_and_call_are_told_apart_for_every_type() {
        // EIP-155 example (legacy, to = 0x3535…35): a call.
        let call = hex::decode("f86c098504a817c800825208943535353535353535353535353535353535353535880de0b6b3a76400008025a028ef61340bd939bc2195fe537567866003e1a15d3c71ff63e1590620aa636276a067cbe9d8997f761aecb703304b3800ccf555c9f3dc64214b297fb1966a3b6d83").unwrap();
        assert_eq!(ethereum_is_create(&call), Some(false));
        // Legacy create: [nonce 0, gasPrice 1, gasLimit 0x5208, to "", value 0, data 0x60, v, r, s].
        let create = [
            0xcb, 0x80, 0x01, 0x82, 0x52, 0x08, 0x80, 0x80, 0x60, 0x1b, 0x01, 0x01,
        ];
        assert_eq!(ethereum_is_create(&create), Some(true));
        // Type 2 create and call: [chainId, nonce, tip, maxFee, gas, to, …].
        let t2_create = [0x02, 0xc7, 0x01, 0x80, 0x01, 0x01, 0x01, 0x80, 0x80];
        assert_eq!(ethereum_is_create(&t2_create), Some(true));
        let mut t2_call = vec![0x02, 0xdb, 0x01, 0x80, 0x01, 0x01, 0x01, 0x94];
        t2_call.extend_from_slice(&[0x35; 20]);
        t2_call.push(0x80);
        assert_eq!(ethereum_is_create(&t2_call), Some(false));
        // Type 1: [chainId, nonce, gasPrice, gas, to, …].
        let t1_create = [0x01, 0xc6, 0x01, 0x80, 0x01, 0x01, 0x80, 0x80];
        assert_eq!(ethereum_is_create(&t1_create), Some(true));
        // Malformed: unknown type, truncated, not a list.
        for bad in [&[0x03, 0xc0][..], &[0xf8][..], &[0x02, 0x80][..], &[][..]] {
            assert_eq!(ethereum_is_create(bad), None);
        }
        // Policy mapping.
        let p = |raw: Vec<u8>| operation_of(&crate::Payload::Ethereum { raw });
        assert_eq!(p(call), Some(Operation::CallContract));
        assert_eq!(p(create.to_vec()), Some(Operation::DeployContract));
        assert_eq!(p(vec![0xff]), Some(Operation::DeployContract));
    }
}
