#!/usr/bin/env bash
# Installs what is missing, then runs the whole test suite: formatting, clippy (warnings are
# errors) and every unit, integration and CLI test. Tests render real MP4s and decode them.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
if ! command -v cargo >/dev/null && [ -f "$HOME/.cargo/env" ]; then . "$HOME/.cargo/env"; fi
cargo fmt --all -- --check
cargo clippy --locked --all-targets -- -D warnings
cargo test --locked
