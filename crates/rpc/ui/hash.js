// Keel web UI: hashing and proof checks that run entirely in the browser.
// SM3 (GB/T 32905) and SHA-256 (FIPS 180-4) in plain JS, streaming; the RFC 6962 / RFC 9162
// audit-path check; decoding of a borsh-encoded block header and of an evidence transaction.
// No dependencies. Also loadable by Node.js (tests/browser/hash_check.mjs) through globalThis.
(function () {
  "use strict";

  const rotl = (x, n) => ((x << n) | (x >>> (32 - n))) >>> 0;

  // ---- a streaming Merkle–Damgård hasher over 64-byte blocks (SM3 and SHA-256 share padding)
  class MD {
    constructor(iv, compress) {
      this.v = Uint32Array.from(iv);
      this.compress = compress;
      this.buf = new Uint8Array(64);
      this.bufLen = 0;
      this.total = 0; // bytes
      this.w = new Uint32Array(132);
    }
    update(data) {
      let i = 0;
      this.total += data.length;
      if (this.bufLen > 0) {
        const take = Math.min(64 - this.bufLen, data.length);
        this.buf.set(data.subarray(0, take), this.bufLen);
        this.bufLen += take;
        i = take;
        if (this.bufLen === 64) {
          this.compress(this.v, this.buf, 0, this.w);
          this.bufLen = 0;
        }
      }
      for (; i + 64 <= data.length; i += 64) this.compress(this.v, data, i, this.w);
      if (i < data.length) {
        this.buf.set(data.subarray(i), 0);
        this.bufLen = data.length - i;
      }
      return this;
    }
    digest() {
      const bits = this.total * 8;
      const padLen = this.bufLen < 56 ? 56 - this.bufLen : 120 - this.bufLen;
      const pad = new Uint8Array(padLen + 8);
      pad[0] = 0x80;
      const hi = Math.floor(bits / 0x100000000);
      const lo = bits >>> 0;
      const dv = new DataView(pad.buffer);
      dv.setUint32(padLen, hi);
      dv.setUint32(padLen + 4, lo);
      const total = this.total;
      this.update(pad);
      this.total = total;
      const out = new Uint8Array(32);
      const odv = new DataView(out.buffer);
      for (let k = 0; k < 8; k++) odv.setUint32(4 * k, this.v[k]);
      return out;
    }
  }

  // ---- SM3
  const SM3_IV = [0x7380166f, 0x4914b2b9, 0x172442d7, 0xda8a0600, 0xa96f30bc, 0x163138aa, 0xe38dee4d, 0xb0fb0e4e];
  const SM3_T = new Uint32Array(64);
  for (let j = 0; j < 64; j++) SM3_T[j] = rotl(j < 16 ? 0x79cc4519 : 0x7a879d8a, j % 32);
  const p0 = (x) => (x ^ rotl(x, 9) ^ rotl(x, 17)) >>> 0;
  const p1 = (x) => (x ^ rotl(x, 15) ^ rotl(x, 23)) >>> 0;

  function sm3Compress(v, b, off, w) {
    // w[0..67] = W, w[68..131] = W'
    for (let j = 0; j < 16; j++) {
      const o = off + 4 * j;
      w[j] = ((b[o] << 24) | (b[o + 1] << 16) | (b[o + 2] << 8) | b[o + 3]) >>> 0;
    }
    for (let j = 16; j < 68; j++) {
      w[j] = (p1(w[j - 16] ^ w[j - 9] ^ rotl(w[j - 3], 15)) ^ rotl(w[j - 13], 7) ^ w[j - 6]) >>> 0;
    }
    for (let j = 0; j < 64; j++) w[68 + j] = (w[j] ^ w[j + 4]) >>> 0;
    let a = v[0], bb = v[1], c = v[2], d = v[3], e = v[4], f = v[5], g = v[6], h = v[7];
    for (let j = 0; j < 64; j++) {
      const a12 = rotl(a, 12);
      const ss1 = rotl((a12 + e + SM3_T[j]) >>> 0, 7);
      const ss2 = (ss1 ^ a12) >>> 0;
      let ff, gg;
      if (j < 16) {
        ff = a ^ bb ^ c;
        gg = e ^ f ^ g;
      } else {
        ff = (a & bb) | (a & c) | (bb & c);
        gg = (e & f) | (~e & g);
      }
      const tt1 = ((ff >>> 0) + d + ss2 + w[68 + j]) >>> 0;
      const tt2 = ((gg >>> 0) + h + ss1 + w[j]) >>> 0;
      d = c;
      c = rotl(bb, 9);
      bb = a;
      a = tt1;
      h = g;
      g = rotl(f, 19);
      f = e;
      e = p0(tt2);
    }
    v[0] ^= a; v[1] ^= bb; v[2] ^= c; v[3] ^= d;
    v[4] ^= e; v[5] ^= f; v[6] ^= g; v[7] ^= h;
  }

  // ---- SHA-256
  const SHA_IV = [0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19];
  const SHA_K = Uint32Array.from([
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
  ]);
  const rotr = (x, n) => ((x >>> n) | (x << (32 - n))) >>> 0;

  function shaCompress(v, b, off, w) {
    for (let j = 0; j < 16; j++) {
      const o = off + 4 * j;
      w[j] = ((b[o] << 24) | (b[o + 1] << 16) | (b[o + 2] << 8) | b[o + 3]) >>> 0;
    }
    for (let j = 16; j < 64; j++) {
      const s0 = rotr(w[j - 15], 7) ^ rotr(w[j - 15], 18) ^ (w[j - 15] >>> 3);
      const s1 = rotr(w[j - 2], 17) ^ rotr(w[j - 2], 19) ^ (w[j - 2] >>> 10);
      w[j] = (w[j - 16] + s0 + w[j - 7] + s1) >>> 0;
    }
    let a = v[0], bb = v[1], c = v[2], d = v[3], e = v[4], f = v[5], g = v[6], h = v[7];
    for (let j = 0; j < 64; j++) {
      const S1 = rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25);
      const ch = (e & f) ^ (~e & g);
      const t1 = (h + S1 + ch + SHA_K[j] + w[j]) >>> 0;
      const S0 = rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22);
      const maj = (a & bb) ^ (a & c) ^ (bb & c);
      const t2 = (S0 + maj) >>> 0;
      h = g; g = f; f = e;
      e = (d + t1) >>> 0;
      d = c; c = bb; bb = a;
      a = (t1 + t2) >>> 0;
    }
    v[0] = (v[0] + a) >>> 0; v[1] = (v[1] + bb) >>> 0; v[2] = (v[2] + c) >>> 0; v[3] = (v[3] + d) >>> 0;
    v[4] = (v[4] + e) >>> 0; v[5] = (v[5] + f) >>> 0; v[6] = (v[6] + g) >>> 0; v[7] = (v[7] + h) >>> 0;
  }

  /** A streaming hasher: `hasher("sm3"|"sha256").update(bytes)…digest()` → Uint8Array(32). */
  function hasher(alg) {
    if (alg === "sm3") return new MD(SM3_IV, sm3Compress);
    if (alg === "sha256") return new MD(SHA_IV, shaCompress);
    throw new Error("unknown hash algorithm " + alg);
  }

  /** One-shot digest of several byte arrays. */
  function digest(alg, ...parts) {
    const h = hasher(alg);
    for (const p of parts) h.update(p);
    return h.digest();
  }

  // ---- hex
  function toHex(b) {
    let s = "0x";
    for (let i = 0; i < b.length; i++) s += b[i].toString(16).padStart(2, "0");
    return s;
  }
  function fromHex(s) {
    const h = s.startsWith("0x") ? s.slice(2) : s;
    if (h.length % 2 !== 0 || /[^0-9a-fA-F]/.test(h)) throw new Error("not hex: " + s.slice(0, 20));
    const out = new Uint8Array(h.length / 2);
    for (let i = 0; i < out.length; i++) out[i] = parseInt(h.substr(2 * i, 2), 16);
    return out;
  }
  const eqBytes = (a, b) => a.length === b.length && a.every((x, i) => x === b[i]);

  // ---- RFC 6962 Merkle tree (leaf H(0x00‖d), node H(0x01‖l‖r)) and RFC 9162 §2.1.3.2 check
  const leafHash = (alg, data) => digest(alg, Uint8Array.of(0), data);
  const nodeHash = (alg, l, r) => digest(alg, Uint8Array.of(1), l, r);

  /** Recompute the root from a leaf hash and its audit path; null if the path is malformed. */
  function rootFromAuditPath(alg, leaf, index, size, path) {
    if (!(index < size)) return null;
    let f = index, s = size - 1, r = leaf;
    for (const p of path) {
      if (s === 0) return null;
      if ((f & 1) === 1 || f === s) {
        r = nodeHash(alg, p, r);
        while ((f & 1) === 0 && f !== 0) {
          f = Math.floor(f / 2);
          s = Math.floor(s / 2);
        }
      } else {
        r = nodeHash(alg, r, p);
      }
      f = Math.floor(f / 2);
      s = Math.floor(s / 2);
    }
    return s === 0 ? r : null;
  }

  // ---- borsh decoding of the pieces the UI checks
  class Reader {
    constructor(b) { this.b = b; this.o = 0; this.dv = new DataView(b.buffer, b.byteOffset, b.byteLength); }
    need(n) { if (this.o + n > this.b.length) throw new Error("truncated at byte " + this.o); }
    bytes(n) { this.need(n); const r = this.b.subarray(this.o, this.o + n); this.o += n; return r; }
    u8() { this.need(1); return this.b[this.o++]; }
    u32() { this.need(4); const v = this.dv.getUint32(this.o, true); this.o += 4; return v; }
    u64() { this.need(8); const v = this.dv.getBigUint64(this.o, true); this.o += 8; return v; }
    vec() { return this.bytes(this.u32()); }
    str() { return new TextDecoder().decode(this.vec()); }
    done() { if (this.o !== this.b.length) throw new Error((this.b.length - this.o) + " trailing bytes"); }
  }

  /** Decode a borsh `Header` (see crates/types/src/block.rs). */
  function decodeHeader(bytes) {
    const r = new Reader(bytes);
    const h = {
      chainId: r.u64(),
      height: r.u64(),
      parentHash: toHex(r.bytes(32)),
      timestampMs: r.u64(),
      txRoot: toHex(r.bytes(32)),
      receiptsRoot: toHex(r.bytes(32)),
      stateRoot: toHex(r.bytes(32)),
      proposer: toHex(r.bytes(20)),
      txCount: r.u32(),
      gasUsed: r.u64(),
    };
    r.done();
    return h;
  }

  /** Borsh-encode a `Header` from its JSON view (keel_getBlock fields; u64 as number/BigInt/string). */
  function encodeHeader(h) {
    const out = new Uint8Array(8 + 8 + 32 + 8 + 32 + 32 + 32 + 20 + 4 + 8);
    const dv = new DataView(out.buffer);
    let o = 0;
    const u64 = (v) => { dv.setBigUint64(o, BigInt(v), true); o += 8; };
    const fixed = (hex, n) => {
      const b = fromHex(hex);
      if (b.length !== n) throw new Error(`expected ${n} bytes, got ${b.length}`);
      out.set(b, o);
      o += n;
    };
    u64(h.chainId); u64(h.height); fixed(h.parentHash, 32); u64(h.timestampMs);
    fixed(h.txRoot, 32); fixed(h.receiptsRoot, 32); fixed(h.stateRoot, 32); fixed(h.proposer, 20);
    dv.setUint32(o, Number(h.txCount), true); o += 4;
    u64(h.gasUsed);
    return out;
  }

  /** Header hash `H("KEEL/HEADER/v1\0" ‖ borsh(header))` of a JSON header view, as 0x hex. */
  function headerHash(alg, h) {
    return toHex(digest(alg, new TextEncoder().encode("KEEL/HEADER/v1\0"), encodeHeader(h)));
  }

  /** The evidence fields of a borsh `SignedTransaction` carrying `EvidencePut`, else null. */
  function decodeEvidenceTx(bytes) {
    const r = new Reader(bytes);
    const chainId = r.u64();
    const nonce = r.u64();
    r.u64(); // expires_at_height
    r.u64(); // gas_limit
    r.u8(); // signer scheme
    r.vec(); // signer public key
    if (r.u8() !== 1) return null; // payload tag: 0 transfer, 1 evidence
    const contentHash = toHex(r.bytes(32));
    const algTag = r.u8();
    const size = r.u64();
    const mediaType = r.str();
    const metadata = r.str();
    r.vec(); // signature
    r.done();
    return { chainId, nonce, contentHash, hashAlg: algTag === 1 ? "sm3" : algTag === 2 ? "sha256" : "?", size, mediaType, metadata };
  }

  globalThis.KeelHash = {
    hasher, digest, toHex, fromHex, eqBytes, leafHash, nodeHash, rootFromAuditPath,
    decodeHeader, encodeHeader, headerHash, decodeEvidenceTx,
  };
})();
