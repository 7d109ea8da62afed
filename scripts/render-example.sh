#!/usr/bin/env bash
# Builds reelsmith (release) and renders the 3-minute example training module to
# media/videos/training-module.mp4, with a progress bar and a per-stage timing table.
# Extra arguments go to `reelsmith render` (e.g. --quality high, -o other.mp4).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
if ! command -v cargo >/dev/null && [ -f "$HOME/.cargo/env" ]; then . "$HOME/.cargo/env"; fi
cargo build --release --locked
exec target/release/reelsmith render examples/training-module.json \
  --report media/videos/training-module.report.json "$@"
