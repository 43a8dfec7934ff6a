// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.20;

/// The ERC-20 functions a native Keel asset's face offers (docs/assets.md, ADR 0015).
interface IKeelAssetFace {
    function transfer(address to, uint256 amount) external returns (bool);
    function transferFrom(address from, address to, uint256 amount) external returns (bool);
    function balanceOf(address who) external view returns (uint256);
}

/// Holds a native Keel asset through its ERC-20 face at 0x4b45454c ‖ id[0..16]: a deposit pulls
/// with transferFrom (after the depositor's approve, native or ERC-20), a withdrawal pushes
/// with transfer. The balance it holds is the native balance of this contract's address.
contract AssetVault {
    IKeelAssetFace public immutable token;
    mapping(address => uint256) public deposited;

    constructor(IKeelAssetFace face) {
        token = face;
    }

    function deposit(uint256 amount) external {
        require(token.transferFrom(msg.sender, address(this), amount), "pull failed");
        deposited[msg.sender] += amount;
    }

    function withdraw(uint256 amount) external {
        deposited[msg.sender] -= amount; // reverts (panic 0x11) above the deposit
        require(token.transfer(msg.sender, amount), "push failed");
    }

    function held() external view returns (uint256) {
        return token.balanceOf(address(this));
    }
}
