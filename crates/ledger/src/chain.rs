//! The chain store schema over `keel-storage` tables.
//!
//! | table        | key                               | value                              |
//! |--------------|-----------------------------------|------------------------------------|
//! | Meta         | `head`                            | height (u64 BE) of the last block  |
//! | Meta         | `genesis`                         | genesis block hash                 |
//! | Headers      | height (u64 BE)                   | encoded [`Header`]                 |
//! | Bodies       | height (u64 BE)                   | encoded `(txs, certificate)`       |
//! | BlockHashes  | block hash                        | height (u64 BE)                    |
//! | TxIndex      | tx hash                           | height (u64 BE) ‖ index (u32 BE)   |
//! | Receipts     | height (u64 BE) ‖ index (u32 BE)  | encoded [`Receipt`]                |
//! | Evidence     | owner ‖ height (u64 BE) ‖ index   | record id (owner listing index)    |
//!
//! All rows of one block, and the head pointer, are written in one batch.

use crate::LedgerError;
use borsh::{BorshDeserialize, BorshSerialize};
use keel_storage::{Store, Table, WriteBatch};
use keel_types::{
    Address, Block, CommitCertificate, Hash, Header, Receipt, SignedTransaction, codec, limits,
};

const HEAD: &[u8] = b"head";
const GENESIS: &[u8] = b"genesis";
const GENESIS_CONFIG: &[u8] = b"genesis_config";

#[derive(BorshSerialize, BorshDeserialize)]
struct Body {
    transactions: Vec<SignedTransaction>,
    certificate: CommitCertificate,
}

/// Where a transaction is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TxLocation {
    /// Block height.
    pub height: u64,
    /// Position in the block.
    pub index: u32,
}

/// Typed access to blocks, receipts and indexes.
#[derive(Clone, Debug)]
pub struct ChainStore {
    store: Store,
}

fn be(h: u64) -> [u8; 8] {
    h.to_be_bytes()
}

fn receipt_key(height: u64, index: u32) -> [u8; 12] {
    let mut k = [0u8; 12];
    k[..8].copy_from_slice(&height.to_be_bytes());
    k[8..].copy_from_slice(&index.to_be_bytes());
    k
}

fn read_u64(bytes: &[u8], what: &str) -> Result<u64, LedgerError> {
    <[u8; 8]>::try_from(bytes)
        .map(u64::from_be_bytes)
        .map_err(|_| {
            LedgerError::Invariant(format!("{what}: expected 8 bytes, found {}", bytes.len()))
        })
}

impl ChainStore {
    /// Wrap a store.
    pub fn new(store: Store) -> Self {
        ChainStore { store }
    }

    /// The underlying store.
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// Height of the last committed block, if any block exists.
    pub fn head_height(&self) -> Result<Option<u64>, LedgerError> {
        self.store
            .get(Table::Meta, HEAD)?
            .map(|b| read_u64(&b, "head"))
            .transpose()
    }

    /// Genesis hash recorded at initialisation.
    pub fn genesis_hash(&self) -> Result<Option<Hash>, LedgerError> {
        Ok(self
            .store
            .get(Table::Meta, GENESIS)?
            .and_then(|b| Hash::from_slice(&b)))
    }

    /// Hash of the genesis configuration the database was created from.
    pub fn genesis_config_hash(&self) -> Result<Option<Hash>, LedgerError> {
        Ok(self
            .store
            .get(Table::Meta, GENESIS_CONFIG)?
            .and_then(|b| Hash::from_slice(&b)))
    }

    /// Record the genesis configuration hash (at initialisation).
    pub fn put_genesis_config_hash(&self, batch: &mut WriteBatch, hash: &Hash) {
        batch.put(Table::Meta, GENESIS_CONFIG, &hash.0);
    }

    /// Header at `height`.
    pub fn header(&self, height: u64) -> Result<Option<Header>, LedgerError> {
        match self.store.get(Table::Headers, &be(height))? {
            None => Ok(None),
            Some(b) => Ok(Some(Header::decode(&b)?)),
        }
    }

    /// Height of the block with this hash.
    pub fn height_of(&self, hash: &Hash) -> Result<Option<u64>, LedgerError> {
        self.store
            .get(Table::BlockHashes, &hash.0)?
            .map(|b| read_u64(&b, "block hash index"))
            .transpose()
    }

    /// Full block at `height`.
    pub fn block(&self, height: u64) -> Result<Option<Block>, LedgerError> {
        let Some(header) = self.header(height)? else {
            return Ok(None);
        };
        let body_bytes = self
            .store
            .get(Table::Bodies, &be(height))?
            .ok_or_else(|| LedgerError::Invariant(format!("header {height} has no body")))?;
        let body: Body = codec::decode("block body", &body_bytes, limits::MAX_BLOCK_BYTES)?;
        Ok(Some(Block {
            header,
            transactions: body.transactions,
            certificate: body.certificate,
        }))
    }

    /// Location of a transaction.
    pub fn tx_location(&self, hash: &Hash) -> Result<Option<TxLocation>, LedgerError> {
        let Some(b) = self.store.get(Table::TxIndex, &hash.0)? else {
            return Ok(None);
        };
        if b.len() != 12 {
            return Err(LedgerError::Invariant(format!(
                "tx index entry has {} bytes",
                b.len()
            )));
        }
        let height = read_u64(&b[..8], "tx index")?;
        let index = u32::from_be_bytes([b[8], b[9], b[10], b[11]]);
        Ok(Some(TxLocation { height, index }))
    }

    /// Receipt at a location.
    pub fn receipt(&self, loc: TxLocation) -> Result<Option<Receipt>, LedgerError> {
        match self
            .store
            .get(Table::Receipts, &receipt_key(loc.height, loc.index))?
        {
            None => Ok(None),
            Some(b) => Ok(Some(codec::decode(
                "receipt",
                &b,
                limits::MAX_RECEIPT_BYTES,
            )?)),
        }
    }

    /// All receipts of a block, in order.
    pub fn block_receipts(&self, height: u64) -> Result<Vec<Receipt>, LedgerError> {
        let rows = self
            .store
            .scan_prefix(Table::Receipts, &be(height), limits::MAX_BLOCK_TXS)?;
        rows.iter()
            .map(|(_, v)| {
                codec::decode("receipt", v, limits::MAX_RECEIPT_BYTES).map_err(LedgerError::from)
            })
            .collect()
    }

    /// Evidence record ids of an owner, oldest first, skipping `offset`, at most `limit`.
    pub fn evidence_of_owner(
        &self,
        owner: &Address,
        offset: usize,
        limit: usize,
    ) -> Result<Vec<Hash>, LedgerError> {
        let rows =
            self.store
                .scan_prefix(Table::Evidence, &owner.0, offset.saturating_add(limit))?;
        Ok(rows
            .iter()
            .skip(offset)
            .filter_map(|(_, v)| Hash::from_slice(v))
            .collect())
    }

    /// Add every row of `block` (and the head pointer) to `batch`.
    pub fn put_block(
        &self,
        batch: &mut WriteBatch,
        block: &Block,
        block_hash: &Hash,
        tx_hashes: &[Hash],
        receipts: &[Receipt],
        new_evidence: &[(Address, Hash)],
    ) {
        let h = block.header.height;
        batch.put(Table::Headers, &be(h), &block.header.encode());
        let body = Body {
            transactions: block.transactions.clone(),
            certificate: block.certificate.clone(),
        };
        batch.put(Table::Bodies, &be(h), &codec::encode(&body));
        batch.put(Table::BlockHashes, &block_hash.0, &be(h));
        for (i, (txh, r)) in tx_hashes.iter().zip(receipts).enumerate() {
            let idx = u32::try_from(i).expect("block tx count is bounded by MAX_BLOCK_TXS");
            batch.put(Table::TxIndex, &txh.0, &receipt_key(h, idx));
            batch.put(Table::Receipts, &receipt_key(h, idx), &codec::encode(r));
        }
        for (i, (owner, id)) in new_evidence.iter().enumerate() {
            let mut k = Vec::with_capacity(32);
            k.extend_from_slice(&owner.0);
            k.extend_from_slice(&h.to_be_bytes());
            k.extend_from_slice(&(i as u32).to_be_bytes());
            batch.put(Table::Evidence, &k, &id.0);
        }
        batch.put(Table::Meta, HEAD, &be(h));
        if h == 0 {
            batch.put(Table::Meta, GENESIS, &block_hash.0);
        }
    }
}
