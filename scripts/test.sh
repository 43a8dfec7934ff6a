#!/usr/bin/env bash
# The whole Keel test suite: formatting, lints, and every test (unit, property, vector,
# crash/kill, multi-process). This is the README's test command; .ci/run calls it.
# Installs what it needs; safe to run on a fresh clone.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n==> %s\n' "$*"; }

if [ ! -d ../shared/vectors ]; then
  echo "error: ../shared/vectors (the standard test vectors) must sit beside this repository" >&2
  exit 2
fi

if ! command -v cargo >/dev/null 2>&1; then
  echo "error: cargo is not installed (https://rustup.rs)" >&2
  exit 2
fi

# A C compiler is needed by libsecp256k1's build script.
if ! command -v cc >/dev/null 2>&1; then
  step "installing a C compiler"
  if [ "$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq build-essential; else sudo apt-get update -qq && sudo apt-get install -y -qq build-essential; fi
fi

if ! cargo nextest --version >/dev/null 2>&1; then
  step "installing cargo-nextest"
  cargo install --locked cargo-nextest
fi

# Ethereum client tests (crates/cli/tests/eth_clients.rs, ADR 0009): ethers.js + solc-js from
# the committed npm lock file, web3.py from pinned requirements into a venv. Idempotent.
apt_install() {
  if [ "$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq "$@"; else sudo apt-get update -qq && sudo apt-get install -y -qq "$@"; fi
}
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  step "installing node and npm"
  apt_install nodejs npm
fi
if [ ! -d tests/clients/ethers/node_modules/ethers ] || [ ! -d tests/clients/ethers/node_modules/solc ]; then
  step "npm ci (tests/clients/ethers)"
  npm ci --prefix tests/clients/ethers --no-audit --no-fund
fi
if [ ! -f tests/clients/web3py/.venv/.installed ]; then
  step "pip install web3.py into tests/clients/web3py/.venv"
  python3 -m venv tests/clients/web3py/.venv || { apt_install python3-venv && python3 -m venv tests/clients/web3py/.venv; }
  tests/clients/web3py/.venv/bin/pip install -q --disable-pip-version-check -r tests/clients/web3py/requirements.txt
  touch tests/clients/web3py/.venv/.installed
fi

step "cargo fmt --check"
cargo fmt --all -- --check

step "cargo clippy --workspace --all-targets -- -D warnings"
cargo clippy --workspace --all-targets --locked -- -D warnings

step "cargo nextest run --workspace"
cargo nextest run --workspace --locked --no-fail-fast "$@"
