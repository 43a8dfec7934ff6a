//! State proofs: what to prove, the self-contained proof bundle a client verifies offline,
//! and [`Ledger::prove`].

use crate::{Ledger, LedgerError};
use keel_crypto::Suite;
use keel_execution::keys;
use keel_state::StateProof;
use keel_types::{Address, ContentHashAlg, Hash, Header};
use serde::{Deserialize, Serialize};

/// What to prove.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProofKind {
    /// An account.
    Account(Address),
    /// An evidence record by id.
    Evidence(Hash),
    /// The content-hash index entry of evidence.
    EvidenceHash(ContentHashAlg, Hash),
    /// A fungible asset's record (`keel_execution::assets::AssetInfo`) by asset id.
    Asset(Hash),
    /// A holder's position in an asset (`keel_execution::assets::Holding`).
    AssetHolding(Hash, Address),
    /// An NFT collection's record (`keel_execution::nft::CollectionInfo`) by collection id.
    NftCollection(Hash),
    /// A token's immutable record: metadata, mint height (`keel_execution::nft::TokenRecord`),
    /// by collection id and token id.
    NftToken(Hash, u64),
    /// A token's owner, burned flag and provenance count (`keel_execution::nft::TokenState`).
    NftOwner(Hash, u64),
    /// A DID document (`keel_execution::did::DidDocument`) by its 16-byte id.
    Did(keel_types::DidId),
}

/// A self-contained proof bundle: verifiable offline with [`ProofResponse::verify`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProofResponse {
    /// `gm` or `intl`.
    pub suite: String,
    /// Block height the proof is for.
    pub height: u64,
    /// Encoded header, hex.
    pub header: String,
    /// Header hash.
    pub header_hash: Hash,
    /// State root in that header.
    pub state_root: Hash,
    /// Proven state key, hex.
    pub key: String,
    /// Value at the key (hex), null for a non-inclusion proof.
    pub value: Option<String>,
    /// Encoded proof, hex.
    pub proof: String,
}

/// Why a proof bundle does not verify.
#[derive(Debug, thiserror::Error)]
pub enum ProofError {
    /// The suite name is unknown.
    #[error("unknown suite {0}")]
    UnknownSuite(String),
    /// A field is not hex.
    #[error("{0} is not hex")]
    NotHex(&'static str),
    /// The header does not decode.
    #[error("header: {0}")]
    Header(#[from] keel_types::CodecError),
    /// The header hashes to another value.
    #[error("header hashes to {computed}, not {claimed}")]
    HeaderHash {
        /// Hash of the decoded header.
        computed: Hash,
        /// `headerHash` of the bundle.
        claimed: Hash,
    },
    /// The header is for another height.
    #[error("header is for height {header}, proof claims {claimed}")]
    Height {
        /// Height in the header.
        header: u64,
        /// `height` of the bundle.
        claimed: u64,
    },
    /// `stateRoot` differs from the header's.
    #[error("state root differs from the header's")]
    StateRoot,
    /// The key is not 32 bytes.
    #[error("key must be 32 bytes")]
    KeyLength,
    /// The proof does not decode.
    #[error("proof: {0}")]
    Encoding(keel_state::StateError),
    /// The Merkle proof does not verify.
    #[error("Merkle proof does not verify: {0}")]
    Merkle(keel_state::StateError),
}

impl ProofResponse {
    /// Check everything offline: header encoding and hash, state root, Merkle proof.
    /// Returns the decoded header and the proven value.
    pub fn verify(&self) -> Result<(Header, Option<Vec<u8>>), ProofError> {
        let suite: Suite = self
            .suite
            .parse()
            .map_err(|_| ProofError::UnknownSuite(self.suite.clone()))?;
        let unhex = |what: &'static str, s: &str| {
            hex::decode(s.trim_start_matches("0x")).map_err(|_| ProofError::NotHex(what))
        };
        let header = Header::decode(&unhex("header", &self.header)?)?;
        let alg = suite.hash();
        if header.hash(alg) != self.header_hash {
            return Err(ProofError::HeaderHash {
                computed: header.hash(alg),
                claimed: self.header_hash,
            });
        }
        if header.height != self.height {
            return Err(ProofError::Height {
                header: header.height,
                claimed: self.height,
            });
        }
        if header.state_root != self.state_root {
            return Err(ProofError::StateRoot);
        }
        let key: [u8; 32] = unhex("key", &self.key)?
            .try_into()
            .map_err(|_| ProofError::KeyLength)?;
        let value = self
            .value
            .as_deref()
            .map(|v| unhex("value", v))
            .transpose()?;
        let proof =
            StateProof::from_bytes(&unhex("proof", &self.proof)?).map_err(ProofError::Encoding)?;
        proof
            .verify(
                state_hash(suite),
                &header.state_root.0,
                &key,
                value.as_deref(),
            )
            .map_err(ProofError::Merkle)?;
        Ok((header, value))
    }
}

/// The state-tree hash of a suite.
pub fn state_hash(suite: Suite) -> keel_state::StateHash {
    match suite {
        Suite::Gm => keel_state::StateHash::Sm3,
        Suite::Intl => keel_state::StateHash::Sha256,
    }
}

impl Ledger {
    /// Prove a state entry at `height` (default: head).
    pub fn prove(
        &self,
        kind: ProofKind,
        height: Option<u64>,
    ) -> Result<Option<ProofResponse>, LedgerError> {
        let head = self.head();
        let height = height.unwrap_or(head.height).min(head.height);
        let Some(header) = self.chain.header(height)? else {
            return Ok(None);
        };
        let alg = self.suite.hash();
        let key = match kind {
            ProofKind::Account(a) => keys::account(alg, &a),
            ProofKind::Evidence(id) => keys::evidence(alg, &id),
            ProofKind::EvidenceHash(c, h) => keys::evidence_by_hash(alg, c, &h),
            ProofKind::Asset(id) => keys::asset(alg, &id),
            ProofKind::AssetHolding(id, holder) => keys::asset_holding(alg, &id, &holder),
            ProofKind::NftCollection(id) => keys::nft_collection(alg, &id),
            ProofKind::NftToken(id, token) => keys::nft_token(alg, &id, token),
            ProofKind::NftOwner(id, token) => keys::nft_owner(alg, &id, token),
            ProofKind::Did(id) => keys::did(alg, &id),
        };
        let (value, proof) = self.state.prove(&key, height)?;
        Ok(Some(ProofResponse {
            suite: self.suite.name().into(),
            height,
            header: hex::encode(header.encode()),
            header_hash: header.hash(alg),
            state_root: header.state_root,
            key: hex::encode(key),
            value: value.map(hex::encode),
            proof: hex::encode(proof.to_bytes()),
        }))
    }
}
