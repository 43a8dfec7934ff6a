//! The fixed set of tables (one fjall keyspace each).

/// A logical table. Each maps to exactly one fjall keyspace named [`Table::name`].
///
/// The set is closed on purpose: adding a table is a schema change that deserves review.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Table {
    /// Chain metadata: heights, safety state, schema version, counters.
    Meta,
    /// Block headers.
    Headers,
    /// Block bodies (transactions).
    Bodies,
    /// Block hash -> height index.
    BlockHashes,
    /// Transaction hash -> location index.
    TxIndex,
    /// Execution receipts.
    Receipts,
    /// Jellyfish Merkle tree nodes and per-version roots (owned by `keel-state`).
    StateNodes,
    /// Versioned state values (owned by `keel-state`).
    StateValues,
    /// Misbehaviour evidence (equivocations).
    Evidence,
}

impl Table {
    /// Every table, in a fixed order.
    pub const ALL: [Table; 9] = [
        Table::Meta,
        Table::Headers,
        Table::Bodies,
        Table::BlockHashes,
        Table::TxIndex,
        Table::Receipts,
        Table::StateNodes,
        Table::StateValues,
        Table::Evidence,
    ];

    /// The on-disk keyspace name. Never rename: it is part of the disk format.
    pub const fn name(self) -> &'static str {
        match self {
            Table::Meta => "meta",
            Table::Headers => "headers",
            Table::Bodies => "bodies",
            Table::BlockHashes => "block_hashes",
            Table::TxIndex => "tx_index",
            Table::Receipts => "receipts",
            Table::StateNodes => "state_nodes",
            Table::StateValues => "state_values",
            Table::Evidence => "evidence",
        }
    }

    /// Position in [`Table::ALL`]; used to index the keyspace handles.
    pub(crate) const fn index(self) -> usize {
        self as usize
    }
}

impl std::fmt::Display for Table {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn index_matches_position_in_all_and_names_are_unique() {
        for (i, t) in Table::ALL.iter().enumerate() {
            assert_eq!(t.index(), i);
        }
        let names: std::collections::BTreeSet<_> = Table::ALL.iter().map(|t| t.name()).collect();
        assert_eq!(names.len(), Table::ALL.len());
    }
}
