#!/usr/bin/env bash
# ERC-20 transfers/s on a local 4-validator network (docs/benchmarks.md, ADR 0009).
# Usage: scripts/bench_evm.sh [senders=8] [transfers-per-sender=250]
# Needs a release build (cargo build --release --bin keel) and the ethers test packages
# (scripts/test.sh installs them). Uses ports 18545.. and 38300.. and .keel-local/evm-bench.
set -euo pipefail
cd "$(dirname "$0")/.."
KEEL=${KEEL:-./target/release/keel}
DIR=.keel-local/evm-bench
KEY=ac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80  # dev key, never on a real chain
ADDR=0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266
[ -x "$KEEL" ] || { echo "build first: cargo build --release --bin keel" >&2; exit 2; }
[ -d tests/clients/ethers/node_modules/ethers ] || npm ci --prefix tests/clients/ethers --no-audit --no-fund
rm -rf "$DIR"
"$KEEL" network init --dir "$DIR" --validators 4 --suite intl --chain-id 31337 --gas-price 1 \
  --accounts 1 --rpc-base-port 18545 --p2p-base-port 38300 >/dev/null
python3 - "$DIR/genesis.json" "$ADDR" <<'PY'
import json, sys
path, addr = sys.argv[1], sys.argv[2]
g = json.load(open(path))
g["alloc"].append({"address": addr, "balance": str(10**27)})
json.dump(g, open(path, "w"), indent=2)
PY
"$KEEL" network up "$DIR" --timeout-secs 60 >/dev/null
trap '"$KEEL" network down "$DIR" >/dev/null 2>&1 || true' EXIT
node tests/clients/ethers/bench.mjs http://127.0.0.1:18545 "0x$KEY" "${1:-8}" "${2:-250}"
