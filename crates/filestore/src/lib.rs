//! Keel's consortium file store core (issue 16, first parts), offline only: not yet wired to the
//! node, the network or the chain.
//!
//! A file is cut into chunks ([`CHUNK_SIZE_DEFAULT_BYTES`]); each chunk is sealed with the file's
//! fresh data key (SM4-GCM on `gm`, AES-256-GCM on `intl`) and becomes one stripe, split into
//! `k` data shards plus `m` Reed-Solomon parity shards. Every shard is addressed by the suite's
//! hash of its bytes; a [`Manifest`] lists the stripes and has its own address. Any `k` valid
//! shards per stripe rebuild the file; a shard that does not match its address is skipped.
//!
//! A node keeps its shards in a [`ShardStore`]: its own folder, one checked file per shard,
//! durable writes, per-owner quotas; [`decode_file`] reads from it directly ([`ShardSource`]).
//! A file's data key is wrapped per grantee: SM2 encryption on `gm` ([`wrap_key_sm2`]),
//! X25519 + HKDF-SHA256 + AES-256-GCM bound to the manifest address on `intl`
//! ([`wrap_key_x25519`]).
//!
//! See `docs/filestore.md`.

mod address;
mod cipher;
mod error;
mod manifest;
mod placement;
mod read;
mod source;
mod store;
mod wrap;
mod write;

pub use address::{MULTIHASH_MAX_BYTES, ShardAddress};
pub use cipher::DataKey;
pub use error::FileStoreError;
pub use manifest::{MANIFEST_MAX_BYTES, MANIFEST_VERSION, Manifest, SHARDS_PER_STRIPE_MAX, Stripe};
pub use placement::place_stripe;
pub use read::decode_file;
pub use source::ShardSource;
pub use store::{
    OpenReport, OwnerId, PutOutcome, Quota, SHARD_SIZE_MAX_BYTES, ShardStore, StoreConfig, Usage,
};
pub use wrap::{
    WRAPPED_KEY_X25519_LEN_BYTES, X25519SecretKey, unwrap_key_sm2, unwrap_key_x25519, wrap_key_sm2,
    wrap_key_x25519,
};
pub use write::{
    CHUNK_SIZE_DEFAULT_BYTES, CHUNK_SIZE_MAX_BYTES, CHUNK_SIZE_MIN_BYTES, EncodedFile,
    FILE_SIZE_MAX_BYTES, Params, encode_file, encode_file_with_key,
};
