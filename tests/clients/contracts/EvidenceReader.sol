// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.20;

/// Reads Keel's evidence (存证) module from a contract through the precompile at 0x…1001
/// (docs/evm.md, ADR 0009): input abi.encode(bytes32 contentHash, uint8 alg) with alg 1 = SM3,
/// 2 = SHA-256; output abi.encode(bool found, address recorder, uint64 height,
/// uint64 timestampMs, bytes32 recordId).
contract EvidenceReader {
    address constant EVIDENCE = address(0x1001);

    function lookup(bytes32 contentHash, uint8 alg)
        public
        view
        returns (bool found, address recorder, uint64 height, uint64 timestampMs, bytes32 recordId)
    {
        (bool ok, bytes memory out) = EVIDENCE.staticcall(abi.encode(contentHash, alg));
        require(ok, "evidence lookup failed");
        return abi.decode(out, (bool, address, uint64, uint64, bytes32));
    }

    /// Reverts unless the content hash was recorded (e.g. a contract that pays on proof).
    function requireRecorded(bytes32 contentHash, uint8 alg) external view returns (address) {
        (bool found, address recorder,,,) = lookup(contentHash, alg);
        require(found, "evidence not recorded");
        return recorder;
    }
}
