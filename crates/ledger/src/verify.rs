//! Checking the stored chain: [`Ledger::verify_chain`] (links, roots, indexes, certificates,
//! state roots) and [`Ledger::verify_certificate`] (a block's commit certificate against the
//! validator set of its epoch, with no key).

use crate::certificate::{CertificateError, check_suffix, commit_proof, decode_vote};
use crate::{Ledger, LedgerError};
use keel_consensus::Crypto;
use keel_crypto::Scheme;
use keel_types::{Address, Block, CommitCertificate, Hash, codec, merkle};
use std::collections::BTreeMap;

impl Ledger {
    /// Check the whole stored chain: links, roots, indexes, certificates, and that the state
    /// tree's root at every height equals the header's. Returns the number of blocks checked.
    pub fn verify_chain(&self) -> Result<u64, LedgerError> {
        let alg = self.suite.hash();
        let head = self.head();
        let mut parent: Option<Hash> = None;
        // Blocks committed through a descendant's certificate (linked by parent hashes).
        let mut uncertified = 0u64;
        for h in 0..=head.height {
            let bad = |what: String| LedgerError::Invariant(format!("block {h}: {what}"));
            let block = self.chain.block(h)?.ok_or_else(|| bad("missing".into()))?;
            let hash = block.hash(alg);
            if let Some(p) = parent {
                if block.header.parent_hash != p {
                    return Err(bad("parent hash does not link".into()));
                }
                if block.certificate.is_implied() {
                    uncertified += 1;
                } else {
                    self.verify_certificate(&block, &hash)
                        .map_err(|source| LedgerError::Certificate { height: h, source })?;
                    uncertified = 0;
                }
            }
            if self.chain.height_of(&hash)? != Some(h) {
                return Err(bad("hash index does not point back".into()));
            }
            let tx_hashes: Vec<Hash> = block.transactions.iter().map(|t| t.hash(alg)).collect();
            if merkle::root(alg, &tx_hashes) != block.header.tx_root {
                return Err(bad("tx root mismatch".into()));
            }
            let receipts = self.chain.block_receipts(h)?;
            let rb: Vec<Vec<u8>> = receipts.iter().map(codec::encode).collect();
            if receipts.len() != block.transactions.len()
                || merkle::root(alg, &rb) != block.header.receipts_root
            {
                return Err(bad("receipts do not match the receipts root".into()));
            }
            for (i, th) in tx_hashes.iter().enumerate() {
                if self.chain.tx_location(th)?.map(|l| (l.height, l.index)) != Some((h, i as u32)) {
                    return Err(bad(format!("tx index wrong for tx {i}")));
                }
            }
            if self.state.root_at(h)? != Some(block.header.state_root.0) {
                return Err(bad("state root differs from the state tree".into()));
            }
            parent = Some(hash);
        }
        if uncertified > 0 {
            return Err(LedgerError::Invariant(format!(
                "the last {uncertified} blocks have no certificate and no certified descendant"
            )));
        }
        Ok(head.height + 1)
    }

    /// Check a block's commit certificate against the genesis validator set: a BFT quorum
    /// certificate (`keel_consensus::verify_commit`), or in solo mode the signatures of a quorum
    /// over [`CommitCertificate::signing_message`]. Implied certificates (empty) are not
    /// accepted here: the caller checks that a certified descendant links to the block.
    pub fn verify_certificate(&self, block: &Block, hash: &Hash) -> Result<(), CertificateError> {
        let cert = &block.certificate;
        if !cert.vote.is_empty() {
            let proof = commit_proof(cert)?;
            // The block's epoch: its parent's state names the validators that certify it (the
            // set changes only in a certified epoch-ending block, so the committed head's set is
            // the same when the parent is not committed yet).
            let at = block
                .header
                .height
                .saturating_sub(1)
                .min(self.head().height);
            let epoch = self.epoch_at(at).map_err(Box::new)?;
            let (set, _) = self.consensus_set_for(&epoch).map_err(Box::new)?;
            let crypto = CertVerifier::new(self.epoch_validators(&epoch));
            // An epoch-ending block may be proven through empty suffix blocks (ADR 0011).
            let (_, suffix) = decode_vote(cert)?;
            let (height, id) = check_suffix(self.suite.hash(), &block.header, hash, &suffix)?;
            return Ok(keel_consensus::verify_commit(
                &set, &crypto, &proof, height, &id,
            )?);
        }
        let msg = CommitCertificate::signing_message(block.header.height, cert.round, hash);
        let mut signers = std::collections::BTreeSet::new();
        for s in &cert.signatures {
            let (_, scheme, pk) = self
                .validators
                .iter()
                .find(|(a, _, _)| *a == s.validator)
                .ok_or(CertificateError::UnknownSigner(s.validator))?;
            keel_crypto::verify(*scheme, pk, &msg, &s.signature).map_err(|source| {
                CertificateError::Signature {
                    validator: s.validator,
                    source,
                }
            })?;
            if !signers.insert(s.validator) {
                return Err(CertificateError::DuplicateSigner(s.validator));
            }
        }
        let n = self.validators.len();
        let quorum = n - (n - 1) / 3;
        if signers.len() < quorum {
            return Err(CertificateError::NoQuorum {
                signatures: signers.len(),
                quorum,
            });
        }
        Ok(())
    }
}

/// A signature checker over an epoch's validator keys, for [`keel_consensus::verify_commit`]:
/// the ledger checks certificates without holding any key, so it never signs.
#[derive(Debug)]
struct CertVerifier {
    public_keys: BTreeMap<Address, (Scheme, Vec<u8>)>,
}

impl CertVerifier {
    /// `validators`: address, scheme and encoded public key of each validator.
    fn new(validators: Vec<(Address, Scheme, Vec<u8>)>) -> CertVerifier {
        CertVerifier {
            public_keys: validators
                .into_iter()
                .map(|(a, scheme, pk)| (a, (scheme, pk)))
                .collect(),
        }
    }
}

impl Crypto for CertVerifier {
    fn me(&self) -> Address {
        Address::ZERO
    }

    /// Never called by certificate verification; a verifier has no key.
    fn sign(&self, _msg: &[u8]) -> Vec<u8> {
        Vec::new()
    }

    fn verify(&self, signer: &Address, msg: &[u8], sig: &[u8]) -> bool {
        self.public_keys
            .get(signer)
            .is_some_and(|(scheme, key)| keel_crypto::verify(*scheme, key, msg, sig).is_ok())
    }
}
