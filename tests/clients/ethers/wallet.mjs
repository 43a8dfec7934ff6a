// Wallet flow (issue 12): ethers.js v6 sends 20 dependent transactions back to back from one
// account, each after `tx.wait()`, with no retry logic, while governance changes the gas price
// in the middle. Fees and nonces come from the provider's defaults (`getFeeData`: eth_gasPrice,
// the latest block's baseFeePerGas, eth_maxPriorityFeePerGas; `getTransactionCount(pending)`).
// Usage: node wallet.mjs <http-rpc-url> <funded-private-key> <new-gas-price>
// After transaction 10 it waits (bounded) until eth_gasPrice reports <new-gas-price>, which the
// test harness sets with `keel gov propose set-param` + votes once the account's nonce is 10.
import assert from "node:assert/strict";
import { ethers } from "ethers";

const [rpcUrl, privKey, newPriceArg] = process.argv.slice(2);
if (!rpcUrl || !privKey || !newPriceArg) {
  console.error("usage: node wallet.mjs <rpc-url> <private-key> <new-gas-price>");
  process.exit(2);
}
const TXS = 20;
const CHANGE_AFTER = 10;
const newPrice = BigInt(newPriceArg);
const deadline = setTimeout(() => {
  console.error("FAIL: wallet flow timed out after 200 s");
  process.exit(1);
}, 200_000);
const step = (m) => console.log(`wallet: ${m}`);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function waitForPrice(provider, price) {
  const until = Date.now() + 120_000;
  for (;;) {
    const now = BigInt(await provider.send("eth_gasPrice", []));
    if (now === price) return;
    assert.ok(Date.now() < until, `eth_gasPrice still ${now}, expected ${price}`);
    await sleep(250);
  }
}

async function main() {
  // Polling every second instead of the default 4 s keeps the run short; it stays above the
  // provider's 250 ms request cache, so no answer is reused across two transactions.
  const provider = new ethers.JsonRpcProvider(rpcUrl, undefined, { pollingInterval: 1000 });
  const wallet = new ethers.Wallet(privKey, provider);
  const payee = ethers.Wallet.createRandom().address;
  const startPrice = BigInt(await provider.send("eth_gasPrice", []));
  assert.notEqual(startPrice, newPrice, "the change must change something");
  step(`from ${wallet.address} to ${payee}, gas price ${startPrice} then ${newPrice}`);
  let paid = 0n;
  const prices = [];
  for (let i = 1; i <= TXS; i++) {
    // Each transaction depends on the previous one: the next nonce, and a value that the
    // payee's balance (read after the receipt) must add up to.
    const tx = await wallet.sendTransaction({ to: payee, value: BigInt(i) });
    const rcpt = await tx.wait();
    assert.equal(rcpt.status, 1, `transaction ${i} failed`);
    paid += BigInt(i);
    assert.equal(await provider.getBalance(payee), paid, `payee balance after ${i}`);
    prices.push(rcpt.gasPrice);
    step(`tx ${i}: nonce ${tx.nonce}, block ${rcpt.blockNumber}, gas price ${rcpt.gasPrice}`);
    if (i === CHANGE_AFTER) {
      step(`waiting for the governance gas price ${newPrice}`);
      await waitForPrice(provider, newPrice);
    }
  }
  assert.equal(await provider.getTransactionCount(wallet.address, "latest"), TXS);
  assert.equal(prices[0], startPrice, "first transactions paid the genesis price");
  assert.equal(prices[TXS - 1], newPrice, "last transactions paid the governance price");
  clearTimeout(deadline);
  console.log(`wallet: all ${TXS} transactions succeeded`);
}

main().catch((e) => {
  console.error("FAIL:", e);
  process.exit(1);
});
