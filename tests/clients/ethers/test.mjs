// ethers.js v6 against a running Keel network (ADR 0009).
// Usage: node test.mjs <http-rpc-url> <ws-url> <funded-private-key> [evidence-sha256-hex]
// Deploys an ERC-20 and an ERC-721 compiled with solc-js, transfers, reads balances, waits for
// receipts, filters Transfer events, checks that a revert surfaces its reason, subscribes to
// newHeads over WebSocket, and reads Keel's evidence module through the precompile.
import assert from "node:assert/strict";
import { ethers } from "ethers";
import { compile } from "./compile.mjs";

const [rpcUrl, wsUrl, privKey, evidenceHash] = process.argv.slice(2);
if (!rpcUrl || !wsUrl || !privKey) {
  console.error("usage: node test.mjs <rpc-url> <ws-url> <private-key> [evidence-sha256]");
  process.exit(2);
}
const deadline = setTimeout(() => {
  console.error("FAIL: ethers test timed out after 220 s");
  process.exit(1);
}, 220_000);

const step = (m) => console.log(`ethers: ${m}`);
const { contracts } = JSON.parse(compile());

async function expectRevert(promise, reason) {
  try {
    await promise;
  } catch (e) {
    assert.equal(e.code, "CALL_EXCEPTION", `expected CALL_EXCEPTION, got ${e.code}: ${e.message}`);
    assert.equal(e.reason, reason, `revert reason: ${e.shortMessage}`);
    return;
  }
  assert.fail(`expected a revert with "${reason}"`);
}

async function main() {
  const provider = new ethers.JsonRpcProvider(rpcUrl, undefined, { pollingInterval: 200 });
  const net = await provider.getNetwork();
  step(`connected, chain id ${net.chainId}, client ${await provider.send("web3_clientVersion", [])}`);
  const wallet = new ethers.Wallet(privKey, provider);
  const other = ethers.Wallet.createRandom().connect(provider);
  const start = await provider.getBalance(wallet.address);
  assert.ok(start > 0n, "the funded account has a balance");
  step(`${wallet.address} balance ${start}`);

  // Plain value transfer (a secp256k1 Ethereum account is a native Keel account).
  const fund = await wallet.sendTransaction({ to: other.address, value: ethers.parseEther("1") });
  const fundRcpt = await fund.wait();
  assert.equal(fundRcpt.status, 1);
  assert.equal(await provider.getBalance(other.address), ethers.parseEther("1"));
  const byHash = await provider.getTransaction(fund.hash);
  assert.equal(byHash.hash, fund.hash, "eth_getTransactionByHash by keccak(raw)");
  assert.equal(byHash.from, wallet.address);
  // The JSON view carries every signed field: re-serialising it gives back keccak(raw) = hash.
  assert.equal(ethers.keccak256(ethers.Transaction.from(byHash).serialized), fund.hash);
  step(`value transfer in block ${fundRcpt.blockNumber}, tx ${fund.hash}`);

  // ERC-20.
  const T = contracts.KeelToken;
  const supply = ethers.parseUnits("1000000", 18);
  const token = await new ethers.ContractFactory(T.abi, T.bytecode, wallet).deploy("Keel Token", "KEEL", supply);
  await token.waitForDeployment();
  const tokenAddr = await token.getAddress();
  assert.ok((await provider.getCode(tokenAddr)).length > 2, "code deployed");
  assert.equal(await token.symbol(), "KEEL");
  assert.equal(await token.balanceOf(wallet.address), supply);
  step(`ERC-20 deployed at ${tokenAddr}`);

  const amount = ethers.parseUnits("1234.5", 18);
  const tx = await token.transfer(other.address, amount);
  const rcpt = await tx.wait();
  assert.equal(rcpt.status, 1);
  assert.equal(await token.balanceOf(other.address), amount);
  assert.equal(await token.balanceOf(wallet.address), supply - amount);
  const parsed = rcpt.logs.map((l) => token.interface.parseLog(l)).filter(Boolean);
  assert.equal(parsed.length, 1);
  assert.equal(parsed[0].name, "Transfer");
  assert.equal(parsed[0].args.value, amount);
  step(`ERC-20 transfer ok, gas used ${rcpt.gasUsed}`);

  // A second transfer from the recipient (its own nonce, EIP-1559 fees from eth_feeHistory).
  const tokenAsOther = token.connect(other);
  await (await tokenAsOther.transfer(wallet.address, 1000n)).wait();
  const events = await token.queryFilter(token.filters.Transfer(), 0, "latest");
  assert.equal(events.length, 3, "mint + two transfers");
  const toOther = await token.queryFilter(token.filters.Transfer(null, other.address));
  assert.equal(toOther.length, 1);
  assert.equal(toOther[0].args.value, amount);
  step(`Transfer events filtered: ${events.length} total, ${toOther.length} to ${other.address}`);

  // Reverts surface their reason: in eth_call, in eth_estimateGas (before sending).
  await expectRevert(token.transfer.staticCall(other.address, supply * 2n), "ERC20: transfer amount exceeds balance");
  await expectRevert(token.transfer(other.address, supply * 2n), "ERC20: transfer amount exceeds balance");
  // A reverted transaction that is mined anyway (explicit gas limit) has status 0.
  const forced = await token.transfer(other.address, supply * 2n, { gasLimit: 100_000 });
  await assert.rejects(forced.wait(), (e) => e.code === "CALL_EXCEPTION");
  const forcedRcpt = await provider.getTransactionReceipt(forced.hash);
  assert.equal(forcedRcpt.status, 0);
  step("reverts carry their reason (eth_call, eth_estimateGas) and mined reverts have status 0");

  // ERC-721.
  const N = contracts.KeelNFT;
  const nft = await new ethers.ContractFactory(N.abi, N.bytecode, wallet).deploy("Keel NFT", "KNFT");
  await nft.waitForDeployment();
  await (await nft.mint(wallet.address, 7n)).wait();
  await (await nft.transferFrom(wallet.address, other.address, 7n)).wait();
  assert.equal(await nft.ownerOf(7n), other.address);
  assert.equal(await nft.balanceOf(other.address), 1n);
  assert.equal(await nft.supportsInterface("0x80ac58cd"), true);
  const nftEvents = await nft.queryFilter(nft.filters.Transfer(null, null, 7n));
  assert.equal(nftEvents.length, 2, "mint + transfer of token 7");
  await expectRevert(nft.connect(other).mint.staticCall(other.address, 8n), "ERC721: only the minter mints");
  step("ERC-721 mint/transfer/ownerOf/events ok");

  // Keel's evidence module through the precompile.
  const E = contracts.EvidenceReader;
  const reader = await new ethers.ContractFactory(E.abi, E.bytecode, wallet).deploy();
  await reader.waitForDeployment();
  const missing = await reader.lookup(ethers.id("never recorded"), 2);
  assert.equal(missing.found, false);
  await expectRevert(reader.requireRecorded.staticCall(ethers.id("never recorded"), 2), "evidence not recorded");
  if (evidenceHash) {
    const found = await reader.lookup("0x" + evidenceHash.replace(/^0x/, ""), 2);
    assert.equal(found.found, true, "recorded evidence is visible to contracts");
    assert.ok(found.height > 0n);
    step(`evidence ${evidenceHash} recorded by ${found.recorder} at height ${found.height}`);
  }
  step("evidence precompile ok");

  // WebSocket: newHeads subscription and a contract event subscription.
  const ws = new ethers.WebSocketProvider(wsUrl);
  const head = await new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error("no newHeads within 60 s")), 60_000);
    ws.once("block", (n) => {
      clearTimeout(t);
      resolve(n);
    });
  });
  assert.ok(head > 0);
  const wsToken = new ethers.Contract(tokenAddr, T.abi, ws);
  // ethers sends eth_subscribe without awaiting its answer, so a transfer made right away may
  // precede the subscription: send transfers until one is seen (bounded), instead of sleeping.
  const seen = new Promise((resolve) => {
    wsToken.once("Transfer", (from, to, value) => resolve({ from, to, value }));
  });
  let ev = null;
  for (let i = 0; i < 20 && ev === null; i++) {
    await (await token.transfer(other.address, 42n)).wait();
    ev = await Promise.race([seen, new Promise((r) => setTimeout(() => r(null), 3_000))]);
  }
  assert.ok(ev, "no Transfer log over WebSocket after 20 transfers");
  assert.equal(ev.value, 42n);
  assert.equal(await ws.getBlockNumber() >= head, true);
  await ws.destroy();
  step(`WebSocket newHeads (block ${head}) and logs subscription ok`);

  clearTimeout(deadline);
  console.log("ethers: all checks passed");
}

main().catch((e) => {
  console.error("FAIL:", e);
  process.exit(1);
});
