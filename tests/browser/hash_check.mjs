// Checks crates/rpc/ui/hash.js (the web UI's in-browser hashing and proof code) in Node.js:
//   node hash_check.mjs CASES.json
// CASES.json (written by crates/rpc/tests/ui_hash.rs): {"sm3Vectors": path of the GB/T 32905
// vector file, "digests": [{alg, msgHex, digest}], "paths": [{alg, leaf, index, size, path,
// root, valid}], "headers": [{hex, hash, alg, domainHex, fields}], "txs": [{hex, evidence}]}.
// Prints one line per failure and exits 1 if any; prints "ok N checks" otherwise.
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { dirname, join } from "node:path";

const here = dirname(fileURLToPath(import.meta.url));
await import(join(here, "../../crates/rpc/ui/hash.js"));
const K = globalThis.KeelHash;
if (!K) throw new Error("hash.js did not define KeelHash");

const cases = JSON.parse(readFileSync(process.argv[2], "utf8"));
let checks = 0;
const failures = [];
const check = (ok, what) => {
  checks++;
  if (!ok) failures.push(what);
};

const vectors = JSON.parse(readFileSync(cases.sm3Vectors, "utf8"));
for (const v of vectors.cases) {
  const got = K.toHex(K.digest("sm3", K.fromHex(v.msg_hex))).slice(2);
  check(got === v.digest, `SM3 vector ${v.name}: got ${got}, want ${v.digest}`);
}
check(vectors.cases.length >= 2, "SM3 vector file has fewer than 2 cases");

for (const d of cases.digests) {
  const msg = K.fromHex(d.msgHex);
  const got = K.toHex(K.digest(d.alg, msg));
  check(got === d.digest, `${d.alg} of ${msg.length} bytes: got ${got}, want ${d.digest}`);
  // Streaming in odd-sized pieces gives the same digest.
  const h = K.hasher(d.alg);
  for (let i = 0; i < msg.length; i += 37) h.update(msg.subarray(i, i + 37));
  check(K.toHex(h.digest()) === d.digest, `${d.alg} streamed ${msg.length} bytes differs`);
}

for (const p of cases.paths) {
  const root = K.rootFromAuditPath(p.alg, K.fromHex(p.leaf), p.index, p.size, p.path.map(K.fromHex));
  const ok = root !== null && K.toHex(root) === p.root;
  check(ok === p.valid, `audit path ${p.alg} index ${p.index} of ${p.size} (valid=${p.valid}) verified=${ok}`);
}

for (const h of cases.headers) {
  const bytes = K.fromHex(h.hex);
  const got = K.toHex(K.digest(h.alg, K.fromHex(h.domainHex), bytes));
  check(got === h.hash, `header hash: got ${got}, want ${h.hash}`);
  const f = K.decodeHeader(bytes);
  check(K.toHex(K.encodeHeader(f)) === K.toHex(bytes), "encodeHeader(decodeHeader(x)) != x");
  check(K.headerHash(h.alg, f) === h.hash, `headerHash of the decoded header != ${h.hash}`);
  for (const [k, v] of Object.entries(h.fields)) {
    check(String(f[k]) === String(v), `header field ${k}: got ${f[k]}, want ${v}`);
  }
}

for (const t of cases.txs) {
  const e = K.decodeEvidenceTx(K.fromHex(t.hex));
  if (t.evidence === null) {
    check(e === null, "a transfer decoded as evidence");
  } else {
    for (const [k, v] of Object.entries(t.evidence)) {
      check(e !== null && String(e[k]) === String(v), `evidence tx field ${k}: got ${e && e[k]}, want ${v}`);
    }
  }
}

for (const f of failures) console.log("FAIL " + f);
if (failures.length) process.exit(1);
console.log(`ok ${checks} checks`);
