//! The validator set: membership, quorum size and round-robin leader election.

use keel_types::Address;

use crate::Round;
use crate::error::ConsensusError;

/// Largest validator set accepted; bounds certificate sizes and hence `MAX_MESSAGE_BYTES`.
pub const MAX_VALIDATORS: usize = 128;

/// The validators of one chain, ordered by address. Fixed for the chain's lifetime (validator
/// set changes are a later issue).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ValidatorSet {
    chain_id: u64,
    validators: Vec<Address>,
}

impl ValidatorSet {
    /// Builds the set; order of `validators` does not matter (they are sorted).
    pub fn new(
        chain_id: u64,
        mut validators: Vec<Address>,
    ) -> Result<ValidatorSet, ConsensusError> {
        if validators.is_empty() {
            return Err(ConsensusError::EmptyValidatorSet);
        }
        if validators.len() > MAX_VALIDATORS {
            return Err(ConsensusError::TooManyValidators {
                count: validators.len(),
                max: MAX_VALIDATORS,
            });
        }
        validators.sort();
        if let Some(pair) = validators.windows(2).find(|w| w[0] == w[1]) {
            return Err(ConsensusError::DuplicateValidator { address: pair[0] });
        }
        Ok(ValidatorSet {
            chain_id,
            validators,
        })
    }

    /// Chain id, bound into every signed consensus message (no cross-chain replay).
    pub fn chain_id(&self) -> u64 {
        self.chain_id
    }

    /// Number of validators `n`.
    pub fn len(&self) -> usize {
        self.validators.len()
    }

    /// Always false: a set has at least one validator.
    pub fn is_empty(&self) -> bool {
        self.validators.is_empty()
    }

    /// Validators in address order.
    pub fn addresses(&self) -> &[Address] {
        &self.validators
    }

    /// Whether `address` is a validator.
    pub fn contains(&self, address: &Address) -> bool {
        self.validators.binary_search(address).is_ok()
    }

    /// `f = floor((n - 1) / 3)`, the number of Byzantine validators tolerated.
    pub fn max_faulty(&self) -> usize {
        (self.len() - 1) / 3
    }

    /// Quorum `n - f` (= 2f + 1 when n = 3f + 1): any two quorums share an honest validator.
    pub fn quorum(&self) -> usize {
        self.len() - self.max_faulty()
    }

    /// DiemBFT-v4 LeaderElection.get_leader, round-robin variant:
    /// `validators[round mod n]`.
    pub fn leader(&self, round: Round) -> Address {
        let n = self.len() as u64;
        let index = usize::try_from(round % n).expect("round mod n < n <= MAX_VALIDATORS");
        self.validators[index]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addr(b: u8) -> Address {
        Address([b; 20])
    }

    #[test]
    fn quorum_sizes_follow_n_minus_f() {
        for (n, f, q) in [
            (1, 0, 1),
            (3, 0, 3),
            (4, 1, 3),
            (5, 1, 4),
            (7, 2, 5),
            (10, 3, 7),
        ] {
            let set = ValidatorSet::new(1, (0..n).map(addr).collect()).expect("valid set");
            assert_eq!((set.max_faulty(), set.quorum()), (f, q), "n = {n}");
        }
    }

    #[test]
    fn leaders_rotate_in_address_order() {
        let set = ValidatorSet::new(1, vec![addr(3), addr(1), addr(2)]).expect("valid set");
        let leaders: Vec<_> = (0..4).map(|r| set.leader(r)).collect();
        assert_eq!(leaders, vec![addr(1), addr(2), addr(3), addr(1)]);
    }

    #[test]
    fn rejects_bad_sets() {
        assert_eq!(
            ValidatorSet::new(1, vec![]),
            Err(ConsensusError::EmptyValidatorSet)
        );
        assert_eq!(
            ValidatorSet::new(1, vec![addr(1), addr(1)]),
            Err(ConsensusError::DuplicateValidator { address: addr(1) })
        );
        let many = (0..=MAX_VALIDATORS)
            .map(|i| {
                Address([
                    (i % 256) as u8,
                    (i / 256) as u8,
                    0,
                    0,
                    0,
                    0,
                    0,
                    0,
                    0,
                    0,
                    0,
                    0,
                    0,
                    0,
                    0,
                    0,
                    0,
                    0,
                    0,
                    0,
                ])
            })
            .collect();
        assert!(matches!(
            ValidatorSet::new(1, many),
            Err(ConsensusError::TooManyValidators { .. })
        ));
    }
}
