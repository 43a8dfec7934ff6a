// Compiles tests/clients/contracts/*.sol with solc-js (pure JS, the compiler ships inside the
// npm package: no download) into ../contracts/build/Contracts.json (ABI + bytecode), the
// artefact the web3.py test uses. `node compile.mjs --check` fails if the committed artefact is
// not what the pinned compiler produces (reproducibility).
import solc from "solc";
import { readFileSync, writeFileSync, readdirSync, mkdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const dir = join(here, "..", "contracts");
const out = join(dir, "build", "Contracts.json");

export function compile() {
  const sources = {};
  for (const f of readdirSync(dir).filter((f) => f.endsWith(".sol")).sort()) {
    sources[f] = { content: readFileSync(join(dir, f), "utf8") };
  }
  const input = {
    language: "Solidity",
    sources,
    settings: {
      evmVersion: "cancun",
      optimizer: { enabled: true, runs: 200 },
      metadata: { bytecodeHash: "none" },
      outputSelection: { "*": { "*": ["abi", "evm.bytecode.object"] } },
    },
  };
  const result = JSON.parse(solc.compile(JSON.stringify(input)));
  const errors = (result.errors || []).filter((e) => e.severity === "error");
  if (errors.length) {
    throw new Error(errors.map((e) => e.formattedMessage).join("\n"));
  }
  const contracts = { compiler: solc.version(), contracts: {} };
  for (const file of Object.keys(result.contracts).sort()) {
    for (const name of Object.keys(result.contracts[file]).sort()) {
      const c = result.contracts[file][name];
      contracts.contracts[name] = { abi: c.abi, bytecode: "0x" + c.evm.bytecode.object };
    }
  }
  return JSON.stringify(contracts, null, 1) + "\n";
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const text = compile();
  if (process.argv.includes("--check")) {
    const committed = readFileSync(out, "utf8");
    if (committed !== text) {
      console.error(`${out} is not reproducible with solc ${solc.version()}: run node compile.mjs`);
      process.exit(1);
    }
    console.log(`${out} reproduces with solc ${solc.version()}`);
  } else {
    mkdirSync(dirname(out), { recursive: true });
    writeFileSync(out, text);
    console.log(`wrote ${out} (solc ${solc.version()})`);
  }
}
