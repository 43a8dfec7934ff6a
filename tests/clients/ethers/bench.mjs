// ERC-20 transfers per second on a running Keel network (docs/benchmarks.md).
// Usage: node bench.mjs <http-rpc-url> <funded-private-key> [senders=8] [transfers-per-sender=250]
// Deploys the ERC-20, funds `senders` fresh accounts with native tokens and ERC-20 tokens, then
// pre-signs every transfer (signing is not timed), submits them in JSON-RPC batches of 100
// eth_sendRawTransaction calls, and times from the first submission until every transfer's
// receipt is committed (status 1 checked for all).
import { ethers } from "ethers";
import { compile } from "./compile.mjs";

const [rpcUrl, key, sendersArg, perArg] = process.argv.slice(2);
const SENDERS = Number(sendersArg || 8);
const PER = Number(perArg || 250);
const provider = new ethers.JsonRpcProvider(rpcUrl, undefined, { pollingInterval: 100 });
const { contracts } = JSON.parse(compile());
const T = contracts.KeelToken;

async function rpcBatch(calls) {
  const body = calls.map((c, i) => ({ jsonrpc: "2.0", id: i, method: c[0], params: c[1] }));
  const r = await fetch(rpcUrl, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
  return r.json();
}

const admin = new ethers.Wallet(key, provider);
const net = await provider.getNetwork();
const token = await new ethers.ContractFactory(T.abi, T.bytecode, admin).deploy("Bench", "B", 10n ** 30n);
await token.waitForDeployment();
const tokenAddr = await token.getAddress();
const senders = Array.from({ length: SENDERS }, () => ethers.Wallet.createRandom().connect(provider));
let nonce = await provider.getTransactionCount(admin.address, "pending");
const setup = [];
for (const s of senders) {
  setup.push(await admin.sendTransaction({ to: s.address, value: ethers.parseEther("10"), nonce: nonce++ }));
  setup.push(await token.transfer(s.address, 10n ** 24n, { nonce: nonce++ }));
}
await Promise.all(setup.map((t) => t.wait()));
const feeData = await provider.getFeeData();
const iface = new ethers.Interface(T.abi);
const data = iface.encodeFunctionData("transfer", [ethers.Wallet.createRandom().address, 1n]);
const gasLimit = await provider.estimateGas({ from: senders[0].address, to: tokenAddr, data });
const signed = [];
for (let n = 0; n < PER; n++) {
  for (const s of senders) {
    signed.push(await s.signTransaction({
      type: 2, chainId: net.chainId, nonce: n, to: tokenAddr, data, gasLimit,
      maxFeePerGas: feeData.maxFeePerGas, maxPriorityFeePerGas: 0n,
    }));
  }
}
const hashes = signed.map((raw) => ethers.keccak256(raw));
const startHeight = await provider.getBlockNumber();
const t0 = performance.now();
for (let i = 0; i < signed.length; i += 100) {
  const res = await rpcBatch(signed.slice(i, i + 100).map((raw) => ["eth_sendRawTransaction", [raw]]));
  const bad = res.filter((r) => r.error);
  if (bad.length) throw new Error(`rejected: ${JSON.stringify(bad[0].error)}`);
}
const tSent = performance.now();
// Wait for the last transfer of every sender, then check every receipt.
const last = hashes.slice(-SENDERS);
for (;;) {
  const rs = await rpcBatch(last.map((h) => ["eth_getTransactionReceipt", [h]]));
  if (rs.every((r) => r.result)) break;
  if (performance.now() - t0 > 300_000) throw new Error("not committed within 300 s");
  await new Promise((r) => setTimeout(r, 20));
}
const t1 = performance.now();
const endHeight = await provider.getBlockNumber();
let ok = 0;
for (let i = 0; i < hashes.length; i += 100) {
  const rs = await rpcBatch(hashes.slice(i, i + 100).map((h) => ["eth_getTransactionReceipt", [h]]));
  ok += rs.filter((r) => r.result && r.result.status === "0x1").length;
}
const secs = (t1 - t0) / 1000;
console.log(JSON.stringify({
  transfers: hashes.length, successful: ok, senders: SENDERS, gasPerTransfer: Number(gasLimit),
  submitSeconds: +((tSent - t0) / 1000).toFixed(2), totalSeconds: +secs.toFixed(2),
  transfersPerSecond: +(hashes.length / secs).toFixed(1), blocks: endHeight - startHeight,
}));
if (ok !== hashes.length) process.exit(1);
