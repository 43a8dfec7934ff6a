// Keel web UI: operator dashboard, block explorer, evidence check. Plain JS, no build step.
// Reads only the node's public JSON-RPC (POST /) and the live event stream (GET /events).
// Every value from the chain is inserted as text (never as HTML).
(function () {
  "use strict";
  const K = globalThis.KeelHash;
  const SVG_NS = "http://www.w3.org/2000/svg";
  /** Blocks kept for the charts and the latest lists. */
  const KEEP_BLOCKS = 120;
  /** Blocks loaded when the page opens. */
  const INITIAL_BLOCKS = 40;
  /** SHA-256 files up to this size go through WebCrypto (which needs the whole file in memory). */
  const WEBCRYPTO_MAX = 256 * 1024 * 1024;
  /** Files are read in chunks of this size for the JS hashers. */
  const CHUNK = 4 * 1024 * 1024;

  const state = {
    info: null, // keel_chainInfo
    status: null, // keel_status (latest)
    members: null, // keel_validators
    blocks: [], // [{height, hash, timestampMs, txCount, proposer, transactions}] oldest first
    txs: [], // [{hash, height}] newest first
    lastEvent: 0,
  };

  // ---------------------------------------------------------------- helpers
  let rpcId = 0;
  async function rpc(method, params = []) {
    const r = await fetch("/", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ jsonrpc: "2.0", id: ++rpcId, method, params }),
    });
    const j = await r.json();
    if (j.error) throw new Error(`${method}: ${j.error.code} ${j.error.data ? j.error.data.name : ""} ${j.error.message}`);
    return j.result;
  }
  async function batch(calls) {
    if (calls.length === 0) return [];
    const body = calls.map(([method, params], i) => ({ jsonrpc: "2.0", id: i, method, params }));
    const r = await fetch("/", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
    const j = await r.json();
    const out = new Array(calls.length).fill(null);
    for (const x of j) if (!x.error) out[x.id] = x.result;
    return out;
  }

  /** Build an element: h("div", {class: "x", onclick: f}, "text", child, …). */
  function h(tag, attrs, ...kids) {
    const el = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === null || v === undefined || v === false) continue;
      if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
      else el.setAttribute(k, v === true ? "" : String(v));
    }
    for (const kid of kids.flat()) {
      if (kid === null || kid === undefined || kid === false) continue;
      el.append(kid instanceof Node ? kid : document.createTextNode(String(kid)));
    }
    return el;
  }
  const short = (s, n = 10) => (s && s.length > 2 * n + 2 ? `${s.slice(0, n)}…${s.slice(-6)}` : s || "—");
  const link = (href, text, attrs = {}) => h("a", Object.assign({ href }, attrs), text);
  const blockLink = (height) => link(`#/block/${height}`, `#${height}`);
  const txLink = (hash) => link(`#/tx/${hash}`, short(hash), { class: "mono", title: hash });
  const addrLink = (a) => (a ? link(`#/account/${a}`, short(a, 8), { class: "mono", title: a }) : "—");
  const fmtTime = (ms) => (ms ? new Date(Number(ms)).toLocaleString() : "—");
  const ago = (ms) => {
    const s = Math.max(0, (Date.now() - Number(ms)) / 1000);
    return s < 60 ? `${s.toFixed(1)} s ago` : s < 3600 ? `${Math.floor(s / 60)} min ago` : `${Math.floor(s / 3600)} h ago`;
  };
  const dash = (v) => (v === null || v === undefined || v === "" ? "—" : v);
  const kv = (pairs) => h("dl", { class: "kv" }, pairs.flatMap(([k, v]) => [h("dt", {}, k), h("dd", {}, v)]));
  const stat = (k, v, id) => h("div", { class: "card stat" }, h("div", { class: "k" }, k), h("div", { class: "v", "data-testid": id }, v));
  const main = () => document.getElementById("main");
  function show(...nodes) {
    const m = main();
    m.replaceChildren(...nodes);
  }
  const errorBox = (e) => h("div", { class: "card err", "data-testid": "error" }, String(e && e.message ? e.message : e));

  // ---------------------------------------------------------------- data
  function addBlock(b) {
    const last = state.blocks[state.blocks.length - 1];
    if (last && b.height <= last.height) return false;
    state.blocks.push(b);
    if (state.blocks.length > KEEP_BLOCKS) state.blocks.shift();
    for (const t of b.transactions || []) state.txs.unshift({ hash: t, height: b.height });
    if (state.txs.length > KEEP_BLOCKS) state.txs.length = KEEP_BLOCKS;
    return true;
  }

  async function loadInitial() {
    state.info = await rpc("keel_chainInfo");
    const head = state.info.height;
    const from = Math.max(0, head - INITIAL_BLOCKS + 1);
    const calls = [];
    for (let x = from; x <= head; x++) calls.push(["keel_getBlock", [x]]);
    const blocks = await batch(calls);
    for (const b of blocks) if (b) addBlock(slim(b));
  }
  const slim = (b) => ({
    height: b.height, hash: b.hash, timestampMs: b.timestampMs, txCount: b.txCount, proposer: b.proposer,
    transactions: b.transactions, round: b.certificate ? b.certificate.round : null,
  });

  function connectEvents() {
    const live = document.getElementById("live");
    const es = new EventSource("/events");
    es.addEventListener("open", () => { live.textContent = "live"; live.className = "live on"; });
    es.addEventListener("error", () => { live.textContent = "reconnecting…"; live.className = "live off"; });
    es.addEventListener("head", (ev) => {
      state.lastEvent = Date.now();
      const b = JSON.parse(ev.data);
      // Fill a gap (the stream sends at most 16 heads per poll) before appending.
      const last = state.blocks[state.blocks.length - 1];
      if (last && b.height > last.height + 1) {
        const calls = [];
        for (let x = Math.max(last.height + 1, b.height - INITIAL_BLOCKS); x < b.height; x++) calls.push(["keel_getBlock", [x]]);
        batch(calls).then((bs) => { for (const x of bs) if (x) addBlock(slim(x)); addBlock(b); refresh("head"); });
        return;
      }
      if (addBlock(b)) refresh("head");
    });
    es.addEventListener("status", (ev) => {
      state.lastEvent = Date.now();
      state.status = JSON.parse(ev.data);
      refresh("status");
    });
  }

  // ---------------------------------------------------------------- charts
  /** A small SVG chart: bars or a line over `values`, labelled with min/max. */
  function chart(title, values, unit, kind, testid) {
    const W = 600, H = 140, P = 28;
    const svg = document.createElementNS(SVG_NS, "svg");
    svg.setAttribute("viewBox", `0 0 ${W} ${H}`);
    svg.setAttribute("preserveAspectRatio", "none");
    svg.setAttribute("role", "img");
    svg.setAttribute("aria-label", title);
    const el = (tag, attrs, text) => {
      const e = document.createElementNS(SVG_NS, tag);
      for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
      if (text !== undefined) e.textContent = text;
      svg.append(e);
      return e;
    };
    el("line", { x1: P, y1: H - P / 2, x2: W, y2: H - P / 2, class: "axis" });
    const max = Math.max(1e-9, ...values);
    const n = values.length;
    if (n > 0) {
      const x = (i) => P + ((W - P) * (i + 0.5)) / n;
      const y = (v) => H - P / 2 - ((H - P) * v) / max;
      if (kind === "bar") {
        const bw = Math.max(1, (W - P) / n - 2);
        values.forEach((v, i) => el("rect", { x: x(i) - bw / 2, y: y(v), width: bw, height: Math.max(0, H - P / 2 - y(v)), class: "bar" }));
      } else {
        el("polyline", { points: values.map((v, i) => `${x(i).toFixed(1)},${y(v).toFixed(1)}`).join(" "), class: "line" });
      }
      el("text", { x: 2, y: 12 }, `${fmtNum(max)} ${unit}`);
      el("text", { x: 2, y: H - P / 2 }, "0");
    } else {
      el("text", { x: W / 2 - 40, y: H / 2 }, "no data yet");
    }
    const lastV = n ? values[n - 1] : null;
    return h("div", { class: "card chart", "data-testid": testid },
      h("h2", {}, title, h("span", { class: "muted" }, lastV === null ? "" : ` — last ${fmtNum(lastV)} ${unit}`)), svg);
  }
  const fmtNum = (v) => (v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2));

  /** Block times (ms) and throughput (tx/s, averaged over the last TPS_WINDOW blocks). */
  const TPS_WINDOW = 5;
  function series() {
    const bs = state.blocks;
    const tps = [], bt = [];
    for (let i = 1; i < bs.length; i++) {
      if (bs[i].height !== bs[i - 1].height + 1) continue;
      bt.push(Number(bs[i].timestampMs) - Number(bs[i - 1].timestampMs));
      const j = Math.max(0, i - TPS_WINDOW);
      const span = Number(bs[i].timestampMs) - Number(bs[j].timestampMs);
      let n = 0;
      for (let k = j + 1; k <= i; k++) n += Number(bs[k].txCount);
      tps.push(span > 0 && bs[i].height - bs[j].height === i - j ? (1000 * n) / span : 0);
    }
    return { tps: tps.slice(-60), bt: bt.slice(-60) };
  }

  // ---------------------------------------------------------------- overview
  let membersLoading = false;
  async function loadMembers() {
    if (membersLoading) return;
    membersLoading = true;
    try { state.members = await rpc("keel_validators"); } catch (e) { state.members = { error: String(e.message || e) }; }
    membersLoading = false;
  }

  /** A member's genesis name, or the short address. */
  function memberName(addr) {
    const m = state.members && state.members.members && state.members.members.find((x) => x.address === addr);
    return m ? m.name : short(addr, 8);
  }

  function renderOverview() {
    const info = state.info, st = state.status;
    const head = state.blocks[state.blocks.length - 1];
    const c = st && st.consensus;
    const height = st ? st.height : head ? head.height : info.height;
    const finalized = c && c.committedHeight !== undefined ? Math.min(c.committedHeight, height) : height;
    const { tps, bt } = series();
    const stalled = st && st.healthy === false;
    const diag = h("div", { class: "card" }, h("h2", {}, "Diagnosis (keel_status)"),
      h("ul", { class: "diag" + (stalled ? " alert" : ""), "data-testid": "diagnosis" }, (st ? st.diagnosis : ["waiting for the first status…"]).map((d) => h("li", {}, d))));
    const members = state.members;
    let memberCard;
    if (!members) memberCard = h("div", { class: "card" }, h("h2", {}, "Validators and observers"), "loading…");
    else if (members.error) memberCard = h("div", { class: "card" }, h("h2", {}, "Validators and observers"), h("p", { class: "err" }, members.error));
    else memberCard = h("div", { class: "card" },
      h("h2", {}, "Validators and observers"),
      h("table", { "data-testid": "members" },
        h("thead", {}, h("tr", {}, ["Name", "Address", "Role", "Status", "Last vote (signed block)", "Lag", "Certificate expiry"].map((x) => h("th", {}, x)))),
        h("tbody", {}, members.members.map((m) => h("tr", {},
          h("td", {}, m.name, m.isSelf ? h("span", { class: "badge" }, "this node") : null, m.isLeader ? h("span", { class: "badge" }, "leader") : null),
          h("td", {}, addrLink(m.address)),
          h("td", {}, m.role),
          h("td", { title: m.lastError || "" }, m.online === null ? h("span", { class: "muted" }, "unknown") :
            [h("span", { class: "dot " + (m.online ? "ok" : "bad") }), m.online ? "online" : "offline"]),
          h("td", {}, m.lastSignedHeight === null ? (m.role === "observer" ? "— (observer)" : `none in the last ${members.scannedBlocks} blocks`) : blockLink(m.lastSignedHeight)),
          h("td", {}, m.lag === null ? "—" : `${m.lag} block${m.lag === 1 ? "" : "s"}`),
          h("td", {}, m.certificateExpiry ? fmtTime(m.certificateExpiry) : "—"),
        )))));
    show(
      h("h1", {}, `${info.chainName} — overview`),
      h("div", { class: "grid" },
        stat("Chain id", info.chainId, "chain-id"),
        stat("Crypto suite", [info.suite, h("span", { class: "sub" }, ` ${info.hashAlgorithm} / ${info.signatureScheme}`)], "suite"),
        stat("Height", height, "height"),
        stat("Finalized height", finalized, "finalized"),
        stat("Head age", st ? `${(st.headAgeMs / 1000).toFixed(1)} s` : "—", "head-age"),
        stat("Mempool", st ? `${st.pendingTxs} pending` : "—", "mempool"),
        stat("Consensus", st ? (st.mode === "bft" ? (c ? `round ${c.round}` : "observer") : "solo") : "—", "round"),
        stat("Leader", c ? memberName(c.leader) : "—", "leader"),
      ),
      diag,
      h("div", { class: "cols" },
        chart(`Throughput (${TPS_WINDOW}-block average)`, tps, "tx/s", "bar", "chart-tps"),
        chart("Block time", bt, "ms", "line", "chart-blocktime")),
      c ? h("div", { class: "card" }, h("h2", {}, `Round ${c.round} (as seen by this node)`), kv([
        ["Leader", [memberName(c.leader), " ", addrLink(c.leader)]],
        ["Proposal", c.currentProposal ? h("span", { class: "mono" }, short(c.currentProposal)) : "none yet"],
        ["Votes collected", `${c.votesCollected.length} of quorum ${c.quorum}`],
        ["Votes missing", c.votesMissing.length ? c.votesMissing.map(memberName).join(", ") : "none"],
        ["High QC round", c.highQcRound],
        ["Last timeout certificate", dash(c.lastTcRound)],
      ])) : null,
      memberCard,
    );
  }

  // ---------------------------------------------------------------- explorer
  function renderExplorer() {
    const bs = state.blocks.slice(-25).reverse();
    show(
      h("h1", {}, "Explorer"),
      h("div", { class: "cols" },
        h("div", { class: "card" }, h("h2", {}, "Latest blocks"),
          h("table", { "data-testid": "latest-blocks" },
            h("thead", {}, h("tr", {}, ["Height", "Hash", "Time", "Txs", "Proposer"].map((x) => h("th", {}, x)))),
            h("tbody", {}, bs.map((b) => h("tr", {},
              h("td", {}, blockLink(b.height)), h("td", { class: "mono" }, short(b.hash)),
              h("td", {}, ago(b.timestampMs)), h("td", {}, b.txCount), h("td", {}, addrLink(b.proposer))))))),
        h("div", { class: "card" }, h("h2", {}, "Latest transactions"),
          state.txs.length === 0 ? h("p", { class: "muted" }, "No transactions in the recent blocks.") :
          h("table", { "data-testid": "latest-txs" },
            h("thead", {}, h("tr", {}, ["Hash", "Block"].map((x) => h("th", {}, x)))),
            h("tbody", {}, state.txs.slice(0, 25).map((t) => h("tr", {}, h("td", {}, txLink(t.hash)), h("td", {}, blockLink(t.height)))))))));
  }

  /** Recompute the block hash from the header fields shown, in this browser. */
  function headerCheck(b) {
    try {
      const ok = K.headerHash(state.info.hashAlgorithm, b) === b.hash;
      return h("span", { class: ok ? "ok" : "bad", "data-testid": "header-check", title: "header re-encoded and hashed in this browser" },
        ok ? "✓ recomputed from the fields below" : "✗ does not match the fields below");
    } catch (e) {
      return h("span", { class: "bad", "data-testid": "header-check" }, "✗ " + e.message);
    }
  }

  async function renderBlock(id) {
    const param = /^\d+$/.test(id) ? Number(id) : id;
    const b = await rpc("keel_getBlock", [param, true]);
    if (!b) return show(h("h1", {}, "Block"), h("div", { class: "card", "data-testid": "not-found" }, `No block ${id}.`));
    show(
      h("h1", { "data-testid": "block-title" }, `Block #${b.height}`),
      h("p", {}, b.height > 0 ? link(`#/block/${b.height - 1}`, "← previous") : null, " ", link(`#/block/${b.height + 1}`, "next →")),
      h("div", { class: "card" }, kv([
        ["Hash", [h("span", { class: "mono", "data-testid": "block-hash" }, b.hash), " ", headerCheck(b)]],
        ["Parent", b.height > 0 ? link(`#/block/${b.parentHash}`, b.parentHash, { class: "mono" }) : "—"],
        ["Time", `${fmtTime(b.timestampMs)} (${ago(b.timestampMs)})`],
        ["Proposer", addrLink(b.proposer)],
        ["Transactions", b.txCount],
        ["Gas used", b.gasUsed],
        ["Tx root", h("span", { class: "mono" }, b.txRoot)],
        ["Receipts root", h("span", { class: "mono" }, b.receiptsRoot)],
        ["State root", h("span", { class: "mono" }, b.stateRoot)],
        ["Certificate", b.certificate.signatures.length
          ? `round ${b.certificate.round}, signed by ${b.certificate.signatures.length}: ` + b.certificate.signatures.map((s) => short(s.validator, 8)).join(", ")
          : "committed through a descendant's certificate (or genesis)"],
      ])),
      h("div", { class: "card" }, h("h2", {}, "Transactions"),
        b.transactions.length === 0 ? h("p", { class: "muted" }, "No transactions.") :
        h("table", { "data-testid": "block-txs" },
          h("thead", {}, h("tr", {}, ["#", "Hash", "Type", "From", "Nonce"].map((x) => h("th", {}, x)))),
          h("tbody", {}, b.transactions.map((t) => h("tr", {},
            h("td", {}, t.index), h("td", {}, txLink(t.hash)), h("td", {}, t.payload.type),
            h("td", {}, addrLink(t.sender)), h("td", {}, t.nonce)))))));
  }

  async function renderTx(hash) {
    const [t, r] = await batch([["keel_getTransaction", [hash]], ["keel_getReceipt", [hash]]]);
    if (!t) return show(h("h1", {}, "Transaction"), h("div", { class: "card", "data-testid": "not-found" }, `No transaction ${hash} (it may still be pending).`));
    const p = t.payload;
    const payload = p.type === "transfer"
      ? [["Type", "transfer"], ["To", addrLink(p.to)], ["Amount", p.amount]]
      : [["Type", "evidence record"], ["Content hash", h("span", { class: "mono" }, `${p.contentHash} (${p.hashAlg})`)],
         ["Size", `${p.size} bytes`], ["Media type", p.mediaType], ["Metadata", h("pre", {}, p.metadata || "—")]];
    show(
      h("h1", { "data-testid": "tx-title" }, "Transaction"),
      h("div", { class: "card" }, kv([
        ["Hash", h("span", { class: "mono", "data-testid": "tx-hash" }, t.hash)],
        ["Block", t.blockHeight === null ? "pending" : [blockLink(t.blockHeight), ` (index ${t.index})`]],
        ["From", addrLink(t.sender)], ["Nonce", t.nonce], ["Scheme", t.scheme], ["Gas limit", t.gasLimit],
        ["Expires at height", t.expiresAtHeight], ...payload,
      ])),
      h("div", { class: "card" }, h("h2", {}, "Receipt"), r ? kv([
        ["Status", h("span", { class: r.status === "success" ? "ok" : "bad", "data-testid": "tx-status" }, r.status)],
        ["Error", r.error ? `${r.error.code} ${r.error.name}: ${r.error.message}` : "none"],
        ["Gas used", r.gasUsed], ["Fee", r.fee],
        ["Events", r.events.length === 0 ? "none" : h("ul", { "data-testid": "tx-events" }, r.events.map((e) =>
          h("li", {}, h("b", {}, `${e.module}.${e.name}`), " ", Object.entries(e.attributes).map(([k, v]) => `${k}=${v}`).join(", "))))],
      ]) : h("p", { class: "muted" }, "No receipt yet.")));
  }

  async function renderAccount(addr) {
    const [a, ev] = await batch([["keel_getAccount", [addr]], ["keel_listEvidence", [addr, 0, 100]]]);
    if (!a) return show(h("h1", {}, "Account"), errorBox(`Not an address: ${addr}`));
    show(
      h("h1", {}, "Account"),
      h("div", { class: "card" }, kv([["Address", h("span", { class: "mono" }, a.address)],
        ["Balance", h("span", { "data-testid": "balance" }, a.balance)], ["Nonce", h("span", { "data-testid": "nonce" }, a.nonce)]])),
      h("div", { class: "card" }, h("h2", {}, "Evidence records (oldest first, up to 100)"),
        !ev || ev.length === 0 ? h("p", { class: "muted" }, "None.") :
        h("table", {}, h("thead", {}, h("tr", {}, ["Record (tx)", "Content hash", "Height", "Time"].map((x) => h("th", {}, x)))),
          h("tbody", {}, ev.map((r) => h("tr", {}, h("td", {}, txLink(r.id)), h("td", { class: "mono" }, short(r.contentHash)),
            h("td", {}, blockLink(r.height)), h("td", {}, fmtTime(r.timestampMs))))))));
  }

  async function search(q) {
    q = q.trim();
    if (/^\d+$/.test(q)) return (location.hash = `#/block/${q}`);
    if (/^0x[0-9a-fA-F]{40}$/.test(q)) return (location.hash = `#/account/${q}`);
    if (/^0x[0-9a-fA-F]{64}$/.test(q)) {
      const [t, b, e] = await batch([["keel_getTransaction", [q]], ["keel_getBlock", [q]], ["keel_getEvidence", [q]]]);
      if (t) return (location.hash = `#/tx/${q}`);
      if (b) return (location.hash = `#/block/${b.height}`);
      if (e) return (location.hash = `#/tx/${e.id}`);
      return show(h("h1", {}, "Search"), h("div", { class: "card", "data-testid": "not-found" }, `Nothing on chain has hash ${q}.`));
    }
    show(h("h1", {}, "Search"), errorBox("Enter a block height, a 0x block/transaction hash (64 hex digits) or a 0x address (40 hex digits)."));
  }

  // ---------------------------------------------------------------- evidence check
  async function hashFile(file, alg, progress) {
    if (alg === "sha256" && globalThis.crypto && crypto.subtle && file.size <= WEBCRYPTO_MAX) {
      progress("hashing with WebCrypto SHA-256…");
      return { digest: new Uint8Array(await crypto.subtle.digest("SHA-256", await file.arrayBuffer())), how: "WebCrypto (crypto.subtle)" };
    }
    const hs = K.hasher(alg);
    for (let off = 0; off < file.size; off += CHUNK) {
      hs.update(new Uint8Array(await file.slice(off, off + CHUNK).arrayBuffer()));
      progress(`hashing… ${Math.min(100, Math.round((100 * (off + CHUNK)) / file.size))}%`);
    }
    return { digest: hs.digest(), how: `JavaScript ${alg.toUpperCase()} (in this page)` };
  }

  /** Check a record's inclusion in the browser; returns [[label, ok, detail]]. */
  async function verifyRecord(rec, fileHash, alg) {
    const checks = [];
    const add = (label, ok, detail) => checks.push([label, !!ok, detail || ""]);
    const proof = await rpc("keel_getTxProof", [rec.id]);
    if (!proof) {
      add("inclusion proof available", false, "the node returned no proof for the record's transaction");
      return checks;
    }
    const halg = proof.hashAlgorithm;
    const raw = K.fromHex(proof.rawTx);
    const txHash = K.toHex(K.digest(halg, raw));
    add(`transaction bytes hash (${halg}) to the record id`, txHash === rec.id && txHash === proof.txHash, txHash);
    let ev = null;
    try { ev = K.decodeEvidenceTx(raw); } catch (e) { add("transaction decodes", false, e.message); }
    add("the transaction records this file's hash", ev && ev.contentHash === fileHash && ev.hashAlg === alg,
      ev ? `${ev.contentHash} (${ev.hashAlg})` : "not an evidence transaction");
    const headerBytes = K.fromHex(proof.header);
    let header = null;
    try { header = K.decodeHeader(headerBytes); } catch (e) { add("block header decodes", false, e.message); return checks; }
    const root = K.rootFromAuditPath(halg, K.leafHash(halg, K.fromHex(txHash)), proof.index, header.txCount, proof.auditPath.map(K.fromHex));
    add(`Merkle audit path (${proof.auditPath.length} hashes, leaf ${proof.index} of ${header.txCount}) leads to the header's tx root`,
      root !== null && K.toHex(root) === header.txRoot, header.txRoot);
    const headerHash = K.toHex(K.digest(halg, K.fromHex(proof.headerHashDomain), headerBytes));
    add("header hashes to the block hash", headerHash === proof.headerHash, headerHash);
    add("header height is the record's height", String(header.height) === String(rec.height) && String(header.chainId) === String(state.info.chainId),
      `height ${header.height}, chain ${header.chainId}`);
    const blk = await rpc("keel_getBlock", [Number(header.height)]);
    add("the node's chain has this block at that height", blk && blk.hash === headerHash, blk ? blk.hash : "no block");
    return checks;
  }

  function renderEvidence() {
    const suiteAlg = state.info.hashAlgorithm === "sm3" ? "sm3" : "sha256";
    const out = h("div", { "data-testid": "evidence-output" });
    const algSel = h("select", { id: "evidence-alg", "aria-label": "Hash algorithm" },
      ["sm3", "sha256"].map((a) => h("option", { value: a, selected: a === suiteAlg }, a === suiteAlg ? `${a} (this chain's suite)` : a)));
    const input = h("input", { type: "file", id: "evidence-file", "data-testid": "evidence-file" });
    async function run() {
      const file = input.files && input.files[0];
      if (!file) return;
      const alg = algSel.value;
      const prog = h("p", { class: "muted" }, "reading…");
      out.replaceChildren(prog);
      try {
        const { digest, how } = await hashFile(file, alg, (t) => (prog.textContent = t));
        const fileHash = K.toHex(digest);
        const facts = h("div", { class: "card" }, kv([["File", `${file.name} (${file.size} bytes)`],
          [`${alg} hash`, h("span", { class: "mono", "data-testid": "evidence-hash" }, fileHash)], ["Computed by", how]]));
        const rec = await rpc("keel_getEvidence", [fileHash, alg]);
        if (!rec) {
          out.replaceChildren(facts, h("div", { class: "card" },
            h("div", { class: "verdict bad", "data-testid": "evidence-verdict" }, "Not found"),
            h("p", {}, `No record of this ${alg} content hash exists on this chain. If the file was recorded, it has been modified since (any change gives a different hash), or it was recorded with another hash algorithm.`)));
          return;
        }
        const recCard = h("div", { class: "card" }, h("h2", {}, "Record"), kv([
          ["Recorded by", addrLink(rec.owner)], ["When", fmtTime(rec.timestampMs)], ["Block", blockLink(rec.height)],
          ["Record id (tx)", txLink(rec.id)], ["Media type", rec.mediaType], ["Metadata", h("pre", {}, rec.metadata || "—")]]));
        out.replaceChildren(facts, recCard, h("p", { class: "muted" }, "verifying the Merkle proof in this page…"));
        const checks = await verifyRecord(rec, fileHash, alg);
        const ok = checks.every((c) => c[1]);
        out.replaceChildren(facts, h("div", { class: "card" },
          h("div", { class: "verdict " + (ok ? "ok" : "bad"), "data-testid": "evidence-verdict" }, ok ? "Verified" : "Proof FAILED"),
          h("p", {}, ok ? "This exact file was recorded on chain; every check below was computed in your browser." : "The record exists but a check below failed: do not trust it."),
          h("ul", { class: "checks", "data-testid": "evidence-checks" }, checks.map(([label, good, detail]) =>
            h("li", {}, h("span", { class: good ? "ok" : "bad" }, good ? "✓ " : "✗ "), label, detail ? h("span", { class: "muted mono" }, ` — ${short(detail, 14)}`) : null)))),
        recCard);
      } catch (e) {
        out.replaceChildren(errorBox(e));
      }
    }
    input.addEventListener("change", run);
    algSel.addEventListener("change", run);
    show(
      h("h1", {}, "Evidence check"),
      h("div", { class: "card" },
        h("p", {}, "Choose a file: it is hashed in this page and never uploaded. Only its hash is looked up (keel_getEvidence), then the record's Merkle proof (keel_getTxProof) is checked here against the block header."),
        h("p", {}, input, " ", algSel)),
      out);
  }

  async function renderGovernance() {
    const [m, p] = await Promise.all([rpc("keel_getMembers"), rpc("keel_listProposals")]);
    const online = new Set(m.onlineValidators || []);
    const nodeList = m.nodePolicy || { type: "open", addresses: [] };
    const revoked = m.revokedCertificates || [];
    const listed = (a) => nodeList.type === "open" ||
      (nodeList.type === "allow") === nodeList.addresses.includes(a);
    const totalWeight = (m.committee || []).reduce((a, c) => a + Number(c.weight), 0);
    const proposalRows = (list) => list.map((x) => {
      const yes = x.votes.filter((v) => v.approve).length;
      const no = x.votes.length - yes;
      return h("tr", { "data-testid": "gov-proposal" },
        h("td", { class: "mono", title: x.id }, short(x.id)),
        h("td", {}, x.action.type, " ", h("span", { class: "muted mono" }, JSON.stringify(x.action.args || {}).slice(0, 80))),
        h("td", {}, addrLink(x.proposer)),
        h("td", {}, `${yes} yes / ${no} no`),
        h("td", {}, x.status, x.failure ? h("span", { class: "muted" }, ` (${x.failure.message})`) : null),
        h("td", {}, x.status === "open" ? `expires at #${x.expiresAtHeight}` : x.closedAtHeight ? blockLink(x.closedAtHeight) : "—"));
    });
    const proposalTable = (list, empty) => list.length === 0 ? h("p", { class: "muted" }, empty) :
      h("table", {}, h("thead", {}, h("tr", {}, ["Id", "Action", "Proposer", "Votes", "Status", "Deadline / closed"].map((t) => h("th", {}, t)))),
        h("tbody", {}, proposalRows(list)));
    show(h("h1", {}, "Governance"),
      h("div", { class: "card", "data-testid": "gov-summary" }, kv([
        ["Epoch", `${m.epoch} (since block #${m.epochStartHeight})`],
        ["Threshold", `${m.threshold} of the committee weight (total ${totalWeight})`],
        ["Permissioned", m.permissioned ? "yes: only admitted accounts may send" : "no"],
        ["Proposal lifetime", `${m.proposalTtlBlocks} blocks`],
        ["Chain parameters", Object.entries(m.params || {}).map(([k, v]) => `${k} ${v ?? "default"}`).join(", ") || "defaults"],
        ["Restricted operations", Object.keys(m.operationPolicies || {}).length === 0 ? "none" :
          Object.entries(m.operationPolicies).map(([op, pol]) => `${op}: ${pol.type} ${pol.addresses.length}`).join(", ")],
        ["Node list", nodeList.type === "open" ? "open: every certified node may link" :
          `${nodeList.type === "allow" ? "only" : "all but"} ${nodeList.addresses.length} node(s): ${nodeList.addresses.map((a) => short(a)).join(", ")}`],
        ["Certificates revoked on chain", revoked.length === 0 ? "none" : revoked.map((f) => short(f)).join(", ")],
      ])),
      h("div", { class: "card" }, h("h2", {}, `Validators (epoch ${m.epoch})`),
        h("table", { "data-testid": "gov-validators" }, h("thead", {}, h("tr", {}, ["Name", "Address", "Scheme", "P2P", "Recently active", "Node list"].map((t) => h("th", {}, t)))),
          h("tbody", {}, (m.validators || []).map((v) => h("tr", {},
            h("td", {}, v.name), h("td", {}, addrLink(v.address)), h("td", {}, v.scheme), h("td", { class: "mono" }, v.p2pAddr || "—"),
            h("td", {}, online.has(v.address) ? h("span", { class: "ok" }, "● yes") : h("span", { class: "bad" }, "● no")),
            h("td", {}, listed(v.address) ? h("span", { class: "ok" }, "admitted") : h("span", { class: "bad" }, "excluded"))))))),
      h("div", { class: "card" }, h("h2", {}, "Committee"),
        h("table", { "data-testid": "gov-committee" }, h("thead", {}, h("tr", {}, ["Member", "Organisation", "Weight", "Certificate"].map((t) => h("th", {}, t)))),
          h("tbody", {}, (m.committee || []).map((c) => h("tr", {},
            h("td", {}, addrLink(c.address)), h("td", {}, c.org || "—"), h("td", {}, String(c.weight)),
            h("td", { class: "mono" }, c.certFingerprint ? short(c.certFingerprint) : "—")))))),
      h("div", { class: "card" }, h("h2", {}, "Open proposals"), proposalTable(p.open || [], "No open proposals.")),
      h("div", { class: "card" }, h("h2", {}, "Recently closed"), proposalTable(p.recent || [], "None yet.")));
  }

  // ---------------------------------------------------------------- routing
  /** keel_validators reads recent blocks: refresh it at most this often. */
  const MEMBERS_EVERY_MS = 3000;
  let membersAt = 0;
  let current = "";
  let lastRender = 0;
  function route() {
    const hash = location.hash || "#/";
    const parts = hash.slice(2).split("/");
    const page = parts[0] || "overview";
    current = page;
    for (const a of document.querySelectorAll("nav a")) {
      const nav = a.getAttribute("data-nav");
      a.classList.toggle("active", nav === page || (nav === "explorer" && ["block", "tx", "account"].includes(page)));
    }
    const arg = decodeURIComponent(parts.slice(1).join("/"));
    const guard = (p) => p.catch((e) => show(errorBox(e)));
    switch (page) {
      case "overview": loadMembers().then(() => current === "overview" && renderOverview()); return renderOverview();
      case "explorer": return renderExplorer();
      case "block": return guard(renderBlock(arg));
      case "tx": return guard(renderTx(arg));
      case "account": return guard(renderAccount(arg));
      case "evidence": return renderEvidence();
      case "governance": return guard(renderGovernance());
      default: return show(errorBox(`No page ${page}.`));
    }
  }

  /** Live refresh of the pages that show live data (throttled to 4 per second). */
  function refresh(kind) {
    const now = Date.now();
    if (now - lastRender < 250 && kind === "head") return;
    lastRender = now;
    if (current === "overview") {
      if (kind === "status" && now - membersAt >= MEMBERS_EVERY_MS) {
        membersAt = now;
        loadMembers().then(() => current === "overview" && renderOverview());
      }
      renderOverview();
    } else if (current === "explorer") renderExplorer();
  }

  async function start() {
    document.getElementById("search").addEventListener("submit", (e) => {
      e.preventDefault();
      search(document.getElementById("search-input").value).catch((err) => show(errorBox(err)));
    });
    try {
      await loadInitial();
    } catch (e) {
      show(errorBox(`Cannot reach the node's RPC: ${e.message || e}`));
      return;
    }
    document.title = `Keel — ${state.info.chainName}`;
    window.addEventListener("hashchange", route);
    route();
    connectEvents();
    // Polling fallback: if the event stream is silent for 5 s, read the status over JSON-RPC.
    setInterval(async () => {
      if (Date.now() - state.lastEvent < 5000) return;
      try {
        state.status = await rpc("keel_status");
        const head = await rpc("keel_getBlock", ["latest"]);
        if (head) addBlock(slim(head));
        refresh("status");
      } catch (_) { /* the live indicator already says so */ }
    }, 2000);
  }

  document.addEventListener("DOMContentLoaded", start);
})();
