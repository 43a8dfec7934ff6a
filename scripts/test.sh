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

step "cargo fmt --check"
cargo fmt --all -- --check

step "cargo clippy --workspace --all-targets -- -D warnings"
cargo clippy --workspace --all-targets --locked -- -D warnings

step "cargo nextest run --workspace"
cargo nextest run --workspace --locked --no-fail-fast "$@"
