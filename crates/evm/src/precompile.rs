//! Native modules visible to contracts: Ethereum's precompiles, Keel's evidence lookup, and
//! the ERC-20 faces of native assets ([`crate::face`], ADR 0015).
//!
//! **Evidence lookup** at [`EVIDENCE_PRECOMPILE`] (`0x…1001`). Input: `abi.encode(bytes32
//! contentHash, uint8 alg)` with `alg` 1 = SM3, 2 = SHA-256 (64 bytes). Output:
//! `abi.encode(bool found, address recorder, uint64 height, uint64 timestampMs, bytes32
//! recordId)` (160 bytes; all zero when not found). Costs [`EVIDENCE_LOOKUP_GAS`]. Malformed
//! input reverts with empty data. It reads the state as of the start of the transaction.

use crate::db::{eth_addr, keel_addr};
use crate::face::erc20::Erc20;
use crate::face::erc721::Erc721;
use crate::face::{FaceCall, FaceSlots};
use alloy_primitives::{Address as EthAddress, Bytes, address};
use keel_crypto::HashAlgorithm;
use keel_execution::assets::{FaceTarget, face_target};
use keel_execution::{EvidenceRecord, StateView, keys};
use keel_types::{ContentHashAlg, Hash};
use revm::context::Cfg;
use revm::context_interface::ContextTr;
use revm::handler::{EthPrecompiles, PrecompileProvider};
use revm::interpreter::{CallInputs, Gas, InstructionResult, InterpreterResult};
use revm::primitives::AddressSet;
use revm::primitives::hardfork::SpecId;

/// Address of the evidence lookup precompile.
pub const EVIDENCE_PRECOMPILE: EthAddress = address!("0x0000000000000000000000000000000000001001");
/// Gas charged per evidence lookup (two state reads).
pub const EVIDENCE_LOOKUP_GAS: u64 = 5_000;

/// Ethereum precompiles for the spec, plus Keel's.
pub struct KeelPrecompiles<'a> {
    eth: EthPrecompiles,
    warm: AddressSet,
    view: &'a dyn StateView,
    alg: HashAlgorithm,
    faces: FaceSlots,
}

impl std::fmt::Debug for KeelPrecompiles<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeelPrecompiles").finish()
    }
}

impl<'a> KeelPrecompiles<'a> {
    /// Precompiles for `spec` reading evidence and asset faces from `view`; `faces` is shared
    /// with the transaction's database ([`crate::face`]).
    pub fn new(
        spec: SpecId,
        view: &'a dyn StateView,
        alg: HashAlgorithm,
        faces: FaceSlots,
    ) -> Self {
        let eth = EthPrecompiles::new(spec);
        let mut warm = eth.warm_addresses().clone();
        warm.insert(EVIDENCE_PRECOMPILE);
        KeelPrecompiles {
            eth,
            warm,
            view,
            alg,
            faces,
        }
    }
}

/// Evidence lookup on raw input; `Ok(None)` = malformed input.
pub fn evidence_lookup(
    view: &dyn StateView,
    alg: HashAlgorithm,
    input: &[u8],
) -> Result<Option<Vec<u8>>, String> {
    if input.len() != 64 || input[32..63].iter().any(|b| *b != 0) {
        return Ok(None);
    }
    let content_alg = match input[63] {
        1 => ContentHashAlg::Sm3,
        2 => ContentHashAlg::Sha256,
        _ => return Ok(None),
    };
    let mut content = [0u8; 32];
    content.copy_from_slice(&input[..32]);
    let mut out = vec![0u8; 160];
    let index = keys::evidence_by_hash(alg, content_alg, &Hash(content));
    let Some(id) = view.get(&index).map_err(|e| e.to_string())? else {
        return Ok(Some(out));
    };
    let id = Hash::from_slice(&id).ok_or("corrupt evidence index")?;
    let key = keys::evidence(alg, &id);
    let Some(bytes) = view.get(&key).map_err(|e| e.to_string())? else {
        return Ok(Some(out));
    };
    let rec = EvidenceRecord::decode(&key, &bytes).map_err(|e| e.to_string())?;
    out[31] = 1;
    out[44..64].copy_from_slice(eth_addr(&rec.owner).as_slice());
    out[88..96].copy_from_slice(&rec.height.to_be_bytes());
    out[120..128].copy_from_slice(&rec.timestamp_ms.to_be_bytes());
    out[128..160].copy_from_slice(&rec.id.0);
    Ok(Some(out))
}

impl<CTX: ContextTr> PrecompileProvider<CTX> for KeelPrecompiles<'_> {
    type Output = InterpreterResult;

    fn set_spec(&mut self, spec: <CTX::Cfg as Cfg>::Spec) -> bool {
        let changed = <EthPrecompiles as PrecompileProvider<CTX>>::set_spec(&mut self.eth, spec);
        if changed {
            self.warm = self.eth.warm_addresses().clone();
            self.warm.insert(EVIDENCE_PRECOMPILE);
        }
        changed
    }

    fn run(
        &mut self,
        context: &mut CTX,
        inputs: &CallInputs,
    ) -> Result<Option<InterpreterResult>, String> {
        if inputs.bytecode_address != EVIDENCE_PRECOMPILE {
            let addr = keel_addr(&inputs.bytecode_address);
            let call = |id| FaceCall {
                view: self.view,
                alg: self.alg,
                faces: &self.faces,
                id,
                face: inputs.bytecode_address,
            };
            return match face_target(self.view, self.alg, &addr).map_err(|e| e.to_string())? {
                Some(FaceTarget::Erc20(id)) => Erc20(call(id)).run(context, inputs).map(Some),
                Some(FaceTarget::Erc721(id)) => Erc721(call(id)).run(context, inputs).map(Some),
                None => self.eth.run(context, inputs),
            };
        }
        let input = inputs.input.as_bytes(context).to_vec();
        let mut gas = Gas::new(inputs.gas_limit);
        if !gas.record_regular_cost(EVIDENCE_LOOKUP_GAS) {
            gas.spend_all();
            return Ok(Some(InterpreterResult::new(
                InstructionResult::PrecompileOOG,
                Bytes::new(),
                gas,
            )));
        }
        let result = match evidence_lookup(self.view, self.alg, &input)? {
            Some(out) => InterpreterResult::new(InstructionResult::Return, out.into(), gas),
            None => InterpreterResult::new(InstructionResult::Revert, Bytes::new(), gas),
        };
        Ok(Some(result))
    }

    fn warm_addresses(&self) -> &AddressSet {
        &self.warm
    }

    fn contains(&self, address: &EthAddress) -> bool {
        self.warm.contains(address)
    }
}
