"""web3.py against a running Keel network (ADR 0009): the ERC-20 flow with the contract
compiled by solc-js (the committed artefact ../contracts/build/Contracts.json, checked to be
reproducible by ../ethers/compile.mjs --check): deploy, transfer, balances, receipts,
Transfer event logs, a revert that surfaces its reason, and a transaction looked up by hash.

Usage: python test_erc20.py <http-rpc-url> <funded-private-key>
"""

import json
import sys
from pathlib import Path

from eth_account import Account
from web3 import Web3
from web3.exceptions import ContractLogicError

TIMEOUT = 60


def step(msg):
    print(f"web3.py: {msg}", flush=True)


def send(w3, acct, tx):
    tx.setdefault("nonce", w3.eth.get_transaction_count(acct.address, "pending"))
    tx.setdefault("chainId", w3.eth.chain_id)
    signed = acct.sign_transaction(tx)
    h = w3.eth.send_raw_transaction(signed.raw_transaction)
    assert h == Web3.keccak(signed.raw_transaction), "tx hash is keccak(raw)"
    return w3.eth.wait_for_transaction_receipt(h, timeout=TIMEOUT, poll_latency=0.2)


def main():
    url, key = sys.argv[1], sys.argv[2]
    w3 = Web3(Web3.HTTPProvider(url, request_kwargs={"timeout": 30}))
    assert w3.is_connected(), f"cannot reach {url}"
    acct = Account.from_key(key)
    other = Account.create()
    step(f"connected to chain {w3.eth.chain_id} at block {w3.eth.block_number}, {w3.client_version}")
    assert w3.eth.get_balance(acct.address) > 0

    artefact = json.loads((Path(__file__).parent / "../contracts/build/Contracts.json").read_text())
    spec = artefact["contracts"]["KeelToken"]
    factory = w3.eth.contract(abi=spec["abi"], bytecode=spec["bytecode"])
    supply = 10**6 * 10**18
    tx = factory.constructor("Web3 Token", "W3T", supply).build_transaction({"from": acct.address})
    rcpt = send(w3, acct, tx)
    assert rcpt.status == 1, rcpt
    token = w3.eth.contract(address=rcpt.contractAddress, abi=spec["abi"])
    assert token.functions.symbol().call() == "W3T"
    assert token.functions.balanceOf(acct.address).call() == supply
    step(f"ERC-20 deployed at {rcpt.contractAddress} in block {rcpt.blockNumber}")

    amount = 777 * 10**18
    tx = token.functions.transfer(other.address, amount).build_transaction({"from": acct.address})
    rcpt = send(w3, acct, tx)
    assert rcpt.status == 1
    assert token.functions.balanceOf(other.address).call() == amount
    assert token.functions.balanceOf(acct.address).call() == supply - amount
    got = w3.eth.get_transaction(rcpt.transactionHash)
    assert got["from"] == acct.address and got["to"] == token.address
    events = token.events.Transfer().process_receipt(rcpt)
    assert len(events) == 1 and events[0].args.value == amount
    logs = token.events.Transfer.get_logs(from_block=0, argument_filters={"to": other.address})
    assert len(logs) == 1 and logs[0].args["from"] == acct.address, logs
    step(f"transfer ok (gas {rcpt.gasUsed}), Transfer log found by topic filter")

    try:
        token.functions.transfer(other.address, supply * 2).call({"from": acct.address})
    except ContractLogicError as e:
        assert "ERC20: transfer amount exceeds balance" in str(e), str(e)
        step(f"revert reason surfaced: {e}")
    else:
        raise AssertionError("expected a revert")
    try:
        token.functions.transfer(other.address, supply * 2).estimate_gas({"from": acct.address})
    except ContractLogicError as e:
        assert "ERC20: transfer amount exceeds balance" in str(e), str(e)
    else:
        raise AssertionError("expected eth_estimateGas to revert")

    print("web3.py: all checks passed")


if __name__ == "__main__":
    main()
