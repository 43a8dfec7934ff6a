//! Native Keel transactions.

use crate::codec::{self, CodecError};
use crate::limits::{
    MAX_EVIDENCE_METADATA_BYTES, MAX_MEDIA_TYPE_BYTES, MAX_PUBLIC_KEY_BYTES, MAX_SIGNATURE_BYTES,
    MAX_TX_BYTES,
};
use crate::{Address, Hash};
use borsh::{BorshDeserialize, BorshSerialize};
use keel_crypto::{HashAlgorithm, Scheme, Suite};
use std::io::{Error as IoError, ErrorKind, Read, Write};

/// Domain separator prefixed to the encoded [`Transaction`] before signing, so a transaction
/// signature can never be replayed as a signature over any other Keel message.
pub const TX_SIGNING_DOMAIN: &[u8] = b"KEEL/TX/v1\0";

/// Who signs: the signature scheme, named explicitly, and the public key in that scheme's
/// encoding (see `keel_crypto::Scheme::public_key_len`).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Signer {
    /// Signature scheme the signature must verify under.
    pub scheme: Scheme,
    /// Encoded public key.
    pub public_key: Vec<u8>,
}

impl BorshSerialize for Signer {
    fn serialize<W: Write>(&self, w: &mut W) -> std::io::Result<()> {
        (self.scheme as u8).serialize(w)?;
        self.public_key.serialize(w)
    }
}

impl BorshDeserialize for Signer {
    fn deserialize_reader<R: Read>(r: &mut R) -> std::io::Result<Self> {
        let tag = u8::deserialize_reader(r)?;
        let scheme = Scheme::from_u8(tag).ok_or_else(|| {
            IoError::new(
                ErrorKind::InvalidData,
                format!("unknown signature scheme tag {tag}"),
            )
        })?;
        let public_key = Vec::<u8>::deserialize_reader(r)?;
        Ok(Signer { scheme, public_key })
    }
}

/// Hash function that produced an evidence content hash.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ContentHashAlg {
    /// SM3 (GB/T 32905).
    Sm3,
    /// SHA-256.
    Sha256,
}

impl ContentHashAlg {
    /// The corresponding hash algorithm.
    pub fn algorithm(self) -> HashAlgorithm {
        match self {
            ContentHashAlg::Sm3 => HashAlgorithm::Sm3,
            ContentHashAlg::Sha256 => HashAlgorithm::Sha256,
        }
    }
    /// `"sm3"` or `"sha256"`.
    pub fn name(self) -> &'static str {
        self.algorithm().name()
    }
    /// Parse `"sm3"` / `"sha256"`.
    pub fn from_name(s: &str) -> Option<ContentHashAlg> {
        match s {
            "sm3" => Some(ContentHashAlg::Sm3),
            "sha256" => Some(ContentHashAlg::Sha256),
            _ => None,
        }
    }
    fn tag(self) -> u8 {
        match self {
            ContentHashAlg::Sm3 => 1,
            ContentHashAlg::Sha256 => 2,
        }
    }
}

impl BorshSerialize for ContentHashAlg {
    fn serialize<W: Write>(&self, w: &mut W) -> std::io::Result<()> {
        self.tag().serialize(w)
    }
}

impl BorshDeserialize for ContentHashAlg {
    fn deserialize_reader<R: Read>(r: &mut R) -> std::io::Result<Self> {
        match u8::deserialize_reader(r)? {
            1 => Ok(ContentHashAlg::Sm3),
            2 => Ok(ContentHashAlg::Sha256),
            t => Err(IoError::new(
                ErrorKind::InvalidData,
                format!("unknown content hash tag {t}"),
            )),
        }
    }
}

/// Record a piece of evidence (存证): the hash of some content, never the content itself.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct EvidencePut {
    /// Hash of the content.
    pub content_hash: Hash,
    /// Which function produced `content_hash`.
    pub hash_alg: ContentHashAlg,
    /// Content size in bytes.
    pub size: u64,
    /// Media type, e.g. `application/pdf` (at most [`MAX_MEDIA_TYPE_BYTES`]).
    pub media_type: String,
    /// Free-form metadata, e.g. JSON (at most [`MAX_EVIDENCE_METADATA_BYTES`]).
    pub metadata: String,
}

/// What a transaction does.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub enum Payload {
    /// Move native tokens.
    Transfer {
        /// Recipient.
        to: Address,
        /// Amount in the smallest unit.
        amount: u128,
    },
    /// Put an evidence record.
    EvidencePut(EvidencePut),
    /// Governance: propose or vote (ADR 0011).
    Gov(crate::gov::GovPayload),
    /// Call (or, with `to: None`, deploy) an EVM contract from a native account (ADR 0009).
    /// `tx.gas_limit` is the EVM gas limit; gas is priced at the chain's gas price.
    EvmCall {
        /// Contract to call; `None` deploys `data` as init code.
        to: Option<Address>,
        /// Native tokens sent with the call (smallest unit, = wei in the EVM).
        value: u128,
        /// Call data or init code (at most [`crate::limits::MAX_EVM_DATA_BYTES`]).
        data: Vec<u8>,
    },
    /// A signed Ethereum transaction (legacy/EIP-155, EIP-2930 or EIP-1559) carried as its raw
    /// EIP-2718 bytes (ADR 0009). The enclosing [`Transaction`] mirrors the Ethereum chain id,
    /// nonce and gas limit, names the secp256k1 key recovered from the Ethereum signature, and
    /// the outer signature is empty: it is verified by recovery (`keel_evm::ethtx`), and the
    /// transaction hash is `keccak256(raw)`.
    Ethereum {
        /// EIP-2718 encoding (legacy RLP or type byte ‖ RLP).
        raw: Vec<u8>,
    },
    /// A native fungible asset operation (issue 15; `docs/assets.md`).
    Asset(crate::asset::AssetOp),
    /// A native non-fungible asset operation (issue 15; `docs/assets.md`).
    Nft(crate::nft::NftOp),
    /// A did:keel operation (issue 15; `docs/did.md`).
    Did(crate::did::DidOp),
}

impl Payload {
    /// True for payloads executed by the EVM.
    pub fn is_evm(&self) -> bool {
        matches!(self, Payload::EvmCall { .. } | Payload::Ethereum { .. })
    }
}

/// The signed part of a native transaction.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct Transaction {
    /// Chain the transaction is meant for (replay protection across chains).
    pub chain_id: u64,
    /// Sender's sequence number; must equal the account nonce when executed.
    pub nonce: u64,
    /// Last block height at which the transaction may be included.
    pub expires_at_height: u64,
    /// Most gas the sender pays for; fee = gas used × the chain's gas price.
    pub gas_limit: u64,
    /// The sender's scheme and key.
    pub signer: Signer,
    /// The operation.
    pub payload: Payload,
}

/// A transaction with its signature. The transaction hash is the suite hash of this encoding.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct SignedTransaction {
    /// The signed content.
    pub tx: Transaction,
    /// Signature by `tx.signer` over [`SignedTransaction::signing_message`].
    pub signature: Vec<u8>,
}

/// A stateless check that failed; each maps to a distinct admission error code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TxCheckError {
    /// Bytes did not decode.
    #[error(transparent)]
    Codec(#[from] CodecError),
    /// `chain_id` is not this chain's.
    #[error("wrong chain id {got}, this chain is {expected}")]
    WrongChainId {
        /// This chain.
        expected: u64,
        /// In the transaction.
        got: u64,
    },
    /// The chain's suite does not accept this signature scheme.
    #[error("signature scheme {scheme} is not accepted on a {suite} chain")]
    SchemeNotAllowed {
        /// Declared scheme.
        scheme: Scheme,
        /// Chain suite.
        suite: Suite,
    },
    /// A field is out of its allowed range.
    #[error("invalid field {field}: {reason}")]
    InvalidField {
        /// Field name.
        field: &'static str,
        /// Why.
        reason: String,
    },
}

impl Transaction {
    /// The exact bytes a signer signs: [`TX_SIGNING_DOMAIN`] followed by the encoded transaction.
    pub fn signing_message(&self) -> Vec<u8> {
        let mut m = TX_SIGNING_DOMAIN.to_vec();
        m.extend_from_slice(&codec::encode(self));
        m
    }

    /// Sign with `key` (whose scheme must match `self.signer`).
    pub fn sign(self, key: &keel_crypto::KeyPair) -> SignedTransaction {
        let signature = key.sign(&self.signing_message());
        SignedTransaction {
            tx: self,
            signature,
        }
    }

    /// Gas a transaction of this payload type uses when it succeeds (native modules have fixed
    /// costs plus a per-byte charge for stored data).
    pub fn intrinsic_gas(&self) -> u64 {
        match &self.payload {
            Payload::Transfer { .. } => GAS_TRANSFER,
            Payload::EvidencePut(e) => {
                GAS_EVIDENCE_BASE
                    + GAS_PER_STORED_BYTE * (e.media_type.len() + e.metadata.len()) as u64
            }
            Payload::Gov(_) => crate::gov::GAS_GOV,
            Payload::Asset(op) => op.gas(),
            Payload::Nft(op) => op.gas(),
            Payload::Did(op) => op.gas(),
            // The EVM charges the real intrinsic gas; this is the floor of every EVM tx.
            Payload::EvmCall { .. } | Payload::Ethereum { .. } => GAS_TRANSFER,
        }
    }
}

/// Gas for a native transfer.
pub const GAS_TRANSFER: u64 = 21_000;
/// Base gas for an evidence record.
pub const GAS_EVIDENCE_BASE: u64 = 40_000;
/// Gas per byte of stored metadata.
pub const GAS_PER_STORED_BYTE: u64 = 16;

impl SignedTransaction {
    /// Canonical encoding.
    pub fn encode(&self) -> Vec<u8> {
        codec::encode(self)
    }

    /// Decode with the [`MAX_TX_BYTES`] bound.
    pub fn decode(bytes: &[u8]) -> Result<SignedTransaction, CodecError> {
        codec::decode("transaction", bytes, MAX_TX_BYTES)
    }

    /// Transaction hash: suite hash of the canonical encoding; for an Ethereum transaction
    /// `keccak256` of its raw bytes (the hash Ethereum clients compute).
    pub fn hash(&self, alg: HashAlgorithm) -> Hash {
        self.hash_of_encoded(alg, &self.encode())
    }

    /// [`SignedTransaction::hash`] when the caller already holds `encoded` (= `self.encode()`).
    pub fn hash_of_encoded(&self, alg: HashAlgorithm, encoded: &[u8]) -> Hash {
        if let Payload::Ethereum { raw } = &self.tx.payload {
            return Hash(HashAlgorithm::Keccak256.digest(raw));
        }
        Hash(alg.digest(encoded))
    }

    /// The message the signature covers.
    pub fn signing_message(&self) -> Vec<u8> {
        self.tx.signing_message()
    }

    /// Sender address (validates the public key encoding).
    pub fn sender(&self, suite: Suite) -> Result<Address, TxCheckError> {
        keel_crypto::address_of(
            self.tx.signer.scheme,
            &self.tx.signer.public_key,
            suite.hash(),
        )
        .map(Address)
        .map_err(|e| TxCheckError::InvalidField {
            field: "signer",
            reason: e.to_string(),
        })
    }

    /// Everything that can be checked without state or signature verification.
    pub fn check_stateless(&self, chain_id: u64, suite: Suite) -> Result<(), TxCheckError> {
        let tx = &self.tx;
        if tx.chain_id != chain_id {
            return Err(TxCheckError::WrongChainId {
                expected: chain_id,
                got: tx.chain_id,
            });
        }
        let scheme = tx.signer.scheme;
        if !suite.allows(scheme) {
            return Err(TxCheckError::SchemeNotAllowed { scheme, suite });
        }
        let pk_len = tx.signer.public_key.len();
        if pk_len != scheme.public_key_len() || pk_len > MAX_PUBLIC_KEY_BYTES {
            return Err(TxCheckError::InvalidField {
                field: "signer.public_key",
                reason: format!(
                    "{} bytes, {scheme} keys are {}",
                    pk_len,
                    scheme.public_key_len()
                ),
            });
        }
        let sig_len = self.signature.len();
        if let Payload::Ethereum { raw } = &tx.payload {
            // Verified by recovery from `raw`; the envelope's own signature must be empty.
            if sig_len != 0 || scheme != Scheme::Secp256k1 || raw.len() > MAX_TX_BYTES {
                return Err(TxCheckError::InvalidField {
                    field: "signature",
                    reason: "an Ethereum envelope has an empty signature and a secp256k1 signer"
                        .into(),
                });
            }
        } else if sig_len != scheme.signature_len() || sig_len > MAX_SIGNATURE_BYTES {
            return Err(TxCheckError::InvalidField {
                field: "signature",
                reason: format!(
                    "{} bytes, {scheme} signatures are {}",
                    sig_len,
                    scheme.signature_len()
                ),
            });
        }
        if tx.gas_limit < tx.intrinsic_gas() {
            return Err(TxCheckError::InvalidField {
                field: "gas_limit",
                reason: format!(
                    "{} is below the {} this payload needs",
                    tx.gas_limit,
                    tx.intrinsic_gas()
                ),
            });
        }
        if let Payload::Gov(g) = &tx.payload {
            g.check()
                .map_err(|(field, reason)| TxCheckError::InvalidField { field, reason })?;
        }
        if let Payload::Asset(op) = &tx.payload {
            op.check()
                .map_err(|(field, reason)| TxCheckError::InvalidField { field, reason })?;
        }
        if let Payload::Nft(op) = &tx.payload {
            op.check()
                .map_err(|(field, reason)| TxCheckError::InvalidField { field, reason })?;
        }
        if let Payload::Did(op) = &tx.payload {
            op.check()
                .map_err(|(field, reason)| TxCheckError::InvalidField { field, reason })?;
        }
        if let Payload::EvmCall { data, .. } = &tx.payload
            && data.len() > crate::limits::MAX_EVM_DATA_BYTES
        {
            return Err(TxCheckError::InvalidField {
                field: "data",
                reason: format!("over {} bytes", crate::limits::MAX_EVM_DATA_BYTES),
            });
        }
        if let Payload::EvidencePut(e) = &tx.payload {
            if e.media_type.len() > MAX_MEDIA_TYPE_BYTES {
                return Err(TxCheckError::InvalidField {
                    field: "media_type",
                    reason: format!("over {MAX_MEDIA_TYPE_BYTES} bytes"),
                });
            }
            if e.metadata.len() > MAX_EVIDENCE_METADATA_BYTES {
                return Err(TxCheckError::InvalidField {
                    field: "metadata",
                    reason: format!("over {MAX_EVIDENCE_METADATA_BYTES} bytes"),
                });
            }
        }
        Ok(())
    }
}
