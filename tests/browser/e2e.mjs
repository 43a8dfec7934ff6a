// End-to-end test of the Keel web UI in headless Chromium (Debian's /usr/bin/chromium, driven by
// playwright-core; no browser is ever downloaded).
//
//   node e2e.mjs RPC_URL OUT_DIR RECORDED_FILE MODIFIED_FILE
//
// RPC_URL is a validator of a running network of 4 validators and 1 observer on which RECORDED_FILE's hash is recorded
// (and at least one transaction is committed); MODIFIED_FILE is a changed copy (not recorded).
// Screenshots and result.json go to OUT_DIR. Exit code 0 only if every step passed.
import { chromium } from "playwright-core";
import { mkdtempSync, mkdirSync, writeFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

//   node e2e.mjs --stalled RPC_URL OUT_DIR
//
// checks instead that the overview of a network that lost its quorum (2 of 4 validators down)
// shows them offline and the keel_status diagnosis highlighted (overview-stalled.png).
const stalled = process.argv[2] === "--stalled";
const [url, outDir, recorded, modified] = process.argv.slice(stalled ? 3 : 2);
if (!url || !outDir || (!stalled && (!recorded || !modified))) {
  console.error("usage: node e2e.mjs RPC_URL OUT_DIR RECORDED_FILE MODIFIED_FILE | --stalled RPC_URL OUT_DIR");
  process.exit(2);
}
const CHROMIUM = process.env.KEEL_CHROMIUM || "/usr/bin/chromium";
/** Upper bound for any single wait in the page. */
const STEP_MS = 60_000;
mkdirSync(outDir, { recursive: true });
const profile = mkdtempSync(join(tmpdir(), "keel-e2e-profile-"));
const steps = [];
const problems = [];
const log = (s) => { steps.push(s); console.log("step: " + s); };

const ctx = await chromium.launchPersistentContext(profile, {
  executablePath: CHROMIUM,
  headless: true,
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  viewport: { width: 1366, height: 900 },
  timeout: 60_000,
});
ctx.setDefaultTimeout(STEP_MS);
const origin = new URL(url).origin;
let exitCode = 0;
let page = null;
try {
  page = await ctx.newPage();
  page.on("pageerror", (e) => problems.push("page error: " + e.message));
  page.on("console", (m) => { if (m.type() === "error") problems.push("console error: " + m.text()); });
  page.on("response", (r) => { if (r.status() >= 400) problems.push(`HTTP ${r.status()} for ${r.url()}`); });
  // The UI must not reach anything but its own node.
  page.on("request", (r) => { if (!r.url().startsWith(origin) && !r.url().startsWith("data:")) problems.push("external request: " + r.url()); });

  if (stalled) await checkStalled(page);
  else await checkAll(page);
  if (problems.length) throw new Error("problems in the page:\n" + problems.join("\n"));
} catch (e) {
  exitCode = 1;
  problems.push(String(e && e.stack ? e.stack : e));
  if (page) await page.screenshot({ path: join(outDir, "failure.png"), fullPage: true }).catch(() => {});
} finally {
  await ctx.close().catch(() => {});
  rmSync(profile, { recursive: true, force: true });
}
writeFileSync(join(outDir, stalled ? "result-stalled.json" : "result.json"), JSON.stringify({ ok: exitCode === 0, steps, problems }, null, 2));
if (exitCode === 0) console.log(`E2E OK: ${steps.length} steps`);
else console.error("E2E FAILED:\n" + problems.join("\n"));
process.exit(exitCode);

/** A network that lost its quorum: two validators offline, the diagnosis highlighted. */
async function checkStalled(page) {
  await page.goto(`${url}/ui/`);
  await page.getByTestId("members").waitFor();
  await page.waitForFunction(() => [...document.querySelectorAll('[data-testid="members"] tbody tr')]
    .filter((tr) => tr.textContent.includes("offline")).length === 2, null, { timeout: STEP_MS });
  await page.waitForFunction(() => {
    const d = document.querySelector('[data-testid="diagnosis"]');
    return d && d.classList.contains("alert") && d.textContent.includes("a quorum needs 3");
  }, null, { timeout: STEP_MS });
  log(`stalled overview: 2 validators offline, diagnosis "${(await page.getByTestId("diagnosis").textContent()).trim().slice(0, 90)}"`);
  await page.screenshot({ path: join(outDir, "overview-stalled.png"), fullPage: true });
}

/** The healthy network: overview, explorer, search, evidence check, governance. */
async function checkAll(page) {
  // --- overview: live height increases; 4 validators listed online
  await page.goto(`${url}/ui/`);
  const heightEl = page.getByTestId("height");
  await heightEl.waitFor();
  const h0 = Number(await heightEl.textContent());
  await page.waitForFunction((h) => Number(document.querySelector('[data-testid="height"]').textContent) > h, h0, { timeout: STEP_MS });
  const h1 = Number(await heightEl.textContent());
  log(`overview height increased live from ${h0} to ${h1}`);
  await page.getByTestId("members").waitFor();
  // 4 validators and 1 observer, all online.
  await page.waitForFunction(() => document.querySelectorAll('[data-testid="members"] tbody tr').length === 5 &&
    [...document.querySelectorAll('[data-testid="members"] tbody tr')].every((tr) => tr.textContent.includes("online")) &&
    [...document.querySelectorAll('[data-testid="members"] tbody tr')].filter((tr) => tr.textContent.includes("observer")).length === 1);
  const suite = await page.getByTestId("suite").textContent();
  if (!["gm sm3 / sm2", "intl sha256 / ed25519"].includes(suite)) throw new Error("suite shown as " + suite);
  await page.waitForFunction(() => /round \d+/.test(document.querySelector('[data-testid="round"]').textContent));
  const diag = await page.getByTestId("diagnosis").textContent();
  if (!diag.includes("progressing")) throw new Error("diagnosis does not say progressing: " + diag);
  // Charts have data once a few blocks arrived.
  await page.waitForFunction(() => document.querySelector('[data-testid="chart-blocktime"] polyline') !== null);
  log(`overview shows suite ${suite}, 4 validators and 1 observer online, a round, diagnosis "${diag.trim().slice(0, 60)}"`);
  await page.screenshot({ path: join(outDir, "overview.png"), fullPage: true });
  await page.emulateMedia({ colorScheme: "dark" });
  await page.screenshot({ path: join(outDir, "overview-dark.png"), fullPage: true });
  await page.emulateMedia({ colorScheme: "light" });

  // --- explorer: latest blocks and transactions; open a transaction, then its block
  await page.click('nav a[data-nav="explorer"]');
  await page.getByTestId("latest-blocks").waitFor();
  // The lists update live: pick by link target (which stays listed for a while), then click it.
  const firstTx = page.locator('[data-testid="latest-txs"] tbody tr td a').first();
  await firstTx.waitFor();
  const txHref = await firstTx.getAttribute("href");
  await page.screenshot({ path: join(outDir, "explorer.png"), fullPage: true });
  await page.locator(`[data-testid="latest-txs"] a[href="${txHref}"]`).first().click();
  await page.getByTestId("tx-status").waitFor();
  const txHash = await page.getByTestId("tx-hash").textContent();
  const status = await page.getByTestId("tx-status").textContent();
  if (status !== "success") throw new Error(`transaction ${txHash} status ${status}`);
  if (txHref !== `#/tx/${txHash}`) throw new Error(`clicked ${txHref} but opened ${txHash}`);
  log(`opened transaction ${txHash} from the explorer: ${status}`);
  await page.screenshot({ path: join(outDir, "transaction.png"), fullPage: true });
  await page.locator("dl.kv a[href^='#/block/']").first().click();
  await page.getByTestId("block-txs").waitFor();
  const txRow = await page.locator('[data-testid="block-txs"]').textContent();
  if (!txRow.includes(txHash.slice(0, 10))) throw new Error("the block page does not list the transaction");
  const headerCheck = await page.getByTestId("header-check").textContent();
  if (!headerCheck.startsWith("✓")) throw new Error("block hash not recomputed in the browser: " + headerCheck);
  const blockTitle = await page.getByTestId("block-title").textContent();
  log(`opened ${blockTitle} containing it`);
  await page.screenshot({ path: join(outDir, "block.png"), fullPage: true });

  // a block from the latest-blocks list
  await page.click('nav a[data-nav="explorer"]');
  const href = await page.locator('[data-testid="latest-blocks"] tbody tr td a').nth(2).getAttribute("href");
  const wanted = href.replace("#/block/", "");
  await page.locator(`[data-testid="latest-blocks"] a[href="${href}"]`).click();
  await page.waitForFunction((w) => document.querySelector('[data-testid="block-title"]')?.textContent === `Block #${w}`, wanted);
  log(`opened block #${wanted} from the latest blocks`);

  // --- search by height, by hash, by address
  await page.fill("#search-input", "1");
  await page.press("#search-input", "Enter");
  await page.waitForFunction(() => document.querySelector('[data-testid="block-title"]')?.textContent === "Block #1");
  const blockHash = await page.getByTestId("block-hash").textContent();
  await page.fill("#search-input", "2");
  await page.press("#search-input", "Enter");
  await page.waitForFunction(() => document.querySelector('[data-testid="block-title"]')?.textContent === "Block #2");
  await page.fill("#search-input", blockHash);
  await page.press("#search-input", "Enter");
  await page.waitForFunction(() => document.querySelector('[data-testid="block-title"]')?.textContent === "Block #1");
  await page.fill("#search-input", txHash);
  await page.press("#search-input", "Enter");
  await page.waitForFunction((t) => document.querySelector('[data-testid="tx-hash"]')?.textContent === t, txHash);
  const sender = await page.locator("dl.kv a[href^='#/account/']").first().getAttribute("title");
  await page.fill("#search-input", sender);
  await page.press("#search-input", "Enter");
  await page.getByTestId("nonce").waitFor();
  const nonce = Number(await page.getByTestId("nonce").textContent());
  if (!(nonce >= 1)) throw new Error(`account ${sender} nonce ${nonce}`);
  log(`search: height 1, block hash, tx hash and account ${sender} (nonce ${nonce}, balance ${await page.getByTestId("balance").textContent()})`);

  // --- evidence check: recorded file verifies in the browser; a modified copy is not found
  await page.click('nav a[data-nav="evidence"]');
  await page.getByTestId("evidence-file").setInputFiles(recorded);
  await page.waitForFunction(() => /Verified|FAILED|Not found/.test(document.querySelector('[data-testid="evidence-verdict"]')?.textContent || ""), null, { timeout: STEP_MS });
  const verdict = await page.getByTestId("evidence-verdict").textContent();
  const checks = await page.getByTestId("evidence-checks").textContent().catch(() => "");
  if (verdict !== "Verified") throw new Error(`recorded file: verdict ${verdict}; ${checks}`);
  const nChecks = await page.locator('[data-testid="evidence-checks"] li').count();
  if (nChecks < 6) throw new Error(`only ${nChecks} checks shown`);
  log(`evidence check of the recorded file: ${verdict} (${nChecks} checks in the browser)`);
  await page.screenshot({ path: join(outDir, "evidence-verified.png"), fullPage: true });
  await page.getByTestId("evidence-file").setInputFiles(modified);
  await page.waitForFunction(() => document.querySelector('[data-testid="evidence-verdict"]')?.textContent === "Not found", null, { timeout: STEP_MS });
  log("evidence check of the modified copy: Not found");
  await page.screenshot({ path: join(outDir, "evidence-not-found.png"), fullPage: true });

  // --- governance: epoch, validators (all recently active), committee
  await page.click('nav a[data-nav="governance"]');
  await page.getByTestId("gov-summary").waitFor({ timeout: STEP_MS });
  const summary = await page.getByTestId("gov-summary").textContent();
  if (!summary.includes("Epoch") || !summary.includes("2/3")) throw new Error("governance summary: " + summary);
  if (!summary.includes("Node list") || !summary.includes("open: every certified node may link")) throw new Error("governance summary lacks the node list: " + summary);
  const validatorRows = await page.locator('[data-testid="gov-validators"] tbody tr').count();
  if (validatorRows !== 4) throw new Error(`governance page lists ${validatorRows} validators, expected 4`);
  const committeeRows = await page.locator('[data-testid="gov-committee"] tbody tr').count();
  if (committeeRows < 1) throw new Error("governance page lists no committee member");
  log(`governance page: ${validatorRows} validators, ${committeeRows} committee members`);
  await page.screenshot({ path: join(outDir, "governance.png"), fullPage: true });

  // --- the overview kept updating while we were away
  await page.click('nav a[data-nav="overview"]');
  await page.waitForFunction((h) => Number(document.querySelector('[data-testid="height"]')?.textContent) > h, h1);
  log(`overview height now ${await heightEl.textContent()}`);

}
