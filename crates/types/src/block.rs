//! Blocks, headers and commit certificates.

use crate::codec::{self, CodecError};
use crate::limits::{MAX_BLOCK_BYTES, MAX_HEADER_BYTES};
use crate::{Address, Hash, SignedTransaction};
use borsh::{BorshDeserialize, BorshSerialize};
use keel_crypto::HashAlgorithm;

/// Domain separator for the header hash preimage.
pub const HEADER_HASH_DOMAIN: &[u8] = b"KEEL/HEADER/v1\0";
/// Domain separator for commit signatures.
pub const COMMIT_SIGNING_DOMAIN: &[u8] = b"KEEL/COMMIT/v1\0";

/// Block header. Its hash identifies the block and is what validators sign.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct Header {
    /// Chain the block belongs to.
    pub chain_id: u64,
    /// Height; genesis is 0.
    pub height: u64,
    /// Hash of the previous header (zero for genesis).
    pub parent_hash: Hash,
    /// Proposer's clock, milliseconds since the Unix epoch; never below the parent's.
    pub timestamp_ms: u64,
    /// RFC 6962 root over the transaction hashes.
    pub tx_root: Hash,
    /// RFC 6962 root over the receipt hashes.
    pub receipts_root: Hash,
    /// Authenticated state root after executing this block.
    pub state_root: Hash,
    /// Address of the proposing validator.
    pub proposer: Address,
    /// Number of transactions.
    pub tx_count: u32,
    /// Total gas used.
    pub gas_used: u64,
}

impl Header {
    /// Header hash with the chain's suite hash.
    pub fn hash(&self, alg: HashAlgorithm) -> Hash {
        Hash(alg.digest_parts(&[HEADER_HASH_DOMAIN, &codec::encode(self)]))
    }
    /// Canonical encoding.
    pub fn encode(&self) -> Vec<u8> {
        codec::encode(self)
    }
    /// Bounded decode.
    pub fn decode(bytes: &[u8]) -> Result<Header, CodecError> {
        codec::decode("header", bytes, MAX_HEADER_BYTES)
    }
}

/// One validator's signature over a block.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct CommitSignature {
    /// Validator address.
    pub validator: Address,
    /// Signature over [`CommitCertificate::signing_message`].
    pub signature: Vec<u8>,
}

/// Proof that the validator set committed a block.
///
/// * Solo mode: `vote` is empty and `signatures` holds the single validator's signature over
///   [`CommitCertificate::signing_message`].
/// * BFT: `vote` is the encoded consensus `VoteData` and `signatures` the quorum certificate's
///   2f+1 signatures over it; the vote data names this block as the one it commits
///   (`keel_consensus::verify_commit`).
/// * Empty (no vote, no signatures): committed together with a descendant whose certificate
///   commits it through the hash links (several blocks can commit at once after a timeout).
#[derive(Clone, Debug, Default, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct CommitCertificate {
    /// Consensus round of the certifying votes.
    pub round: u64,
    /// Validator signatures, ordered by validator address, no duplicates.
    pub signatures: Vec<CommitSignature>,
    /// Encoded consensus vote data the signatures sign (empty in solo mode).
    pub vote: Vec<u8>,
}

impl CommitCertificate {
    /// True if the block is certified only through a descendant.
    pub fn is_implied(&self) -> bool {
        self.signatures.is_empty() && self.vote.is_empty()
    }
}

impl CommitCertificate {
    /// The message each validator signs: domain, height, round, block hash.
    pub fn signing_message(height: u64, round: u64, block_hash: &Hash) -> Vec<u8> {
        let mut m = COMMIT_SIGNING_DOMAIN.to_vec();
        m.extend_from_slice(&height.to_be_bytes());
        m.extend_from_slice(&round.to_be_bytes());
        m.extend_from_slice(&block_hash.0);
        m
    }
}

/// A block: header, ordered transactions and the commit certificate.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct Block {
    /// The header.
    pub header: Header,
    /// Transactions in execution order.
    pub transactions: Vec<SignedTransaction>,
    /// Commit certificate (empty for genesis).
    pub certificate: CommitCertificate,
}

impl Block {
    /// Canonical encoding.
    pub fn encode(&self) -> Vec<u8> {
        codec::encode(self)
    }
    /// Bounded decode.
    pub fn decode(bytes: &[u8]) -> Result<Block, CodecError> {
        codec::decode("block", bytes, MAX_BLOCK_BYTES)
    }
    /// Hash of the header.
    pub fn hash(&self, alg: HashAlgorithm) -> Hash {
        self.header.hash(alg)
    }
    /// RFC 6962 root over the given transaction hashes.
    pub fn tx_root(alg: HashAlgorithm, tx_hashes: &[Hash]) -> Hash {
        crate::merkle::root(alg, tx_hashes)
    }
}
