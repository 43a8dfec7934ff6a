//! Hard size limits. Every decoder and validator enforces these; they are part of the protocol
//! (changing one is a consensus change).

/// Largest encoded signed transaction accepted anywhere, in bytes.
pub const MAX_TX_BYTES: usize = 32 * 1024;
/// Largest encoded block (header + transactions + certificate), in bytes.
pub const MAX_BLOCK_BYTES: usize = 64 * 1024 * 1024;
/// Most bytes of encoded transactions in one block: well below the network's 16 MiB frame
/// limit, so a proposal body, a fetched block and a sync response of one block always fit a
/// frame, and far below [`MAX_BLOCK_BYTES`], so a committed block always decodes.
pub const MAX_BLOCK_TX_BYTES: usize = 8 * 1024 * 1024;
/// Default per-block EVM gas budget: the sum of the gas limits of a block's EVM transactions
/// (`EvmCall`, Ethereum), until governance sets `max_block_gas` (issue 12; security review
/// finding 13: without it a leader could pack 10,000 calls of 30M gas each).
pub const DEFAULT_MAX_BLOCK_EVM_GAS: u64 = 100_000_000;
/// Smallest per-block EVM gas budget governance may set: the per-transaction EVM gas limit, so
/// every admissible transaction fits some block.
pub const MIN_BLOCK_EVM_GAS: u64 = 30_000_000;
/// Most transactions in one block.
pub const MAX_BLOCK_TXS: usize = 50_000;
/// Largest encoded receipt, in bytes.
pub const MAX_RECEIPT_BYTES: usize = 64 * 1024;
/// Largest evidence media type string, in bytes.
pub const MAX_MEDIA_TYPE_BYTES: usize = 128;
/// Largest evidence metadata string, in bytes.
pub const MAX_EVIDENCE_METADATA_BYTES: usize = 4 * 1024;
/// Largest public key in a transaction, in bytes.
pub const MAX_PUBLIC_KEY_BYTES: usize = 65;
/// Largest signature in a transaction, in bytes.
pub const MAX_SIGNATURE_BYTES: usize = 72;
/// Most signatures in a commit certificate.
pub const MAX_CERTIFICATE_SIGNATURES: usize = 1024;
/// Largest encoded header, in bytes.
pub const MAX_HEADER_BYTES: usize = 4 * 1024;
/// Most call data / init code bytes of a native `EvmCall` (an Ethereum transaction is bounded
/// by [`MAX_TX_BYTES`] as a whole).
pub const MAX_EVM_DATA_BYTES: usize = 28 * 1024;
