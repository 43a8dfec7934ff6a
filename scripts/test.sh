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

# OpenSSL 3 checks that it accepts Keel-issued SM2/Ed25519 chains (crates/pki/tests/issue.rs;
# the test is skipped, loudly, without it).
if ! command -v openssl >/dev/null 2>&1; then
  step "installing openssl"
  if [ "$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq openssl; else sudo apt-get update -qq && sudo apt-get install -y -qq openssl; fi
fi

if ! cargo nextest --version >/dev/null 2>&1; then
  step "installing cargo-nextest"
  cargo install --locked cargo-nextest
fi

# The web UI test (crates/cli/tests/browser.rs) drives Debian's Chromium with playwright-core
# from tests/browser (committed package-lock.json; no browser is ever downloaded).
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }
if [ ! -x /usr/bin/chromium ]; then
  step "installing chromium (web UI browser test)"
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium
fi
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  step "installing nodejs and npm (web UI tests)"
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm
fi
if [ "$(node -p 'process.versions.node.split(".")[0]')" -lt 20 ]; then
  echo "warning: Node.js $(node --version) is older than 20; the web UI browser test needs 20+ (playwright-core)" >&2
fi
if [ ! -d tests/browser/node_modules ]; then
  step "npm ci in tests/browser (playwright-core)"
  (cd tests/browser && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund)
fi
# Ethereum client tests (crates/cli/tests/eth_clients.rs, ADR 0009): ethers.js + solc-js from
# the committed npm lock file, web3.py from pinned requirements into a venv. Idempotent.
apt_install() {
  if [ "$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq "$@"; else sudo apt-get update -qq && sudo apt-get install -y -qq "$@"; fi
}
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
