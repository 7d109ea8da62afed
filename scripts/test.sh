#!/usr/bin/env bash
# Installs what is missing, then runs the whole test suite: formatting, clippy (warnings are
# errors), every unit, integration and CLI test (they render real MP4s and decode them), and
# two browser tests: Debian's Chromium plays a rendered MP4 (its pixels and audio are checked),
# and drives the job service's page (submit, follow live, play, seek, delete).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh --test
if ! command -v cargo >/dev/null && [ -f "$HOME/.cargo/env" ]; then . "$HOME/.cargo/env"; fi
cargo fmt --all -- --check
cargo clippy --locked --all-targets -- -D warnings
# The tests of the failure paths inject faults: a feature the product is built without.
cargo clippy --locked --all-targets --features fault-injection -- -D warnings
# The Python package's extension crate (python/, a workspace member; `suite`: the features
# above, so the checked dependencies are shared).
cargo clippy --locked -p reelsmith-python --all-targets --features suite -- -D warnings
cargo test --locked --features fault-injection
python3 tools/faults/campaign.py --faults 20 --seed 1 --binary target/debug/reelsmith

# The Python package: built into target/python-venv, then its pytest tests.
scripts/python-test.sh

# Browser playback: the CLI renders, Chromium (driven by playwright-core) plays it back.
mkdir -p target/browser
target/debug/reelsmith render tests/browser/colors.json -q \
  -o target/browser/colors.mp4 --media-root target/browser/media
(cd tests/browser && npm ci --no-audit --no-fund --loglevel=error)
node tests/browser/play.mjs target/browser/colors.mp4 tests/browser/colors.expect.json

# The same, rendered by a render farm: a redis-server of our own, two worker processes.
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
redis-server --port "$PORT" --bind 127.0.0.1 --save '' --appendonly no >/dev/null &
FARM=($!)
trap 'kill "${FARM[@]}" 2>/dev/null || true' EXIT
rm -rf target/browser/farm
for w in a b; do
  target/debug/reelsmith worker --broker "redis://127.0.0.1:$PORT/0" --store target/browser/farm/store \
    --cache "target/browser/farm/$w" --name "$w" -q &
  FARM+=($!)
done
target/debug/reelsmith render tests/browser/colors.json -q -o target/browser/colors-farm.mp4 \
  --media-root target/browser/media --broker "redis://127.0.0.1:$PORT/0" \
  --store target/browser/farm/store --chunk 1
node tests/browser/play.mjs target/browser/colors-farm.mp4 tests/browser/colors.expect.json
kill "${FARM[@]}" 2>/dev/null || true

# The job service's page: Chromium submits an example, follows it live, plays the result.
node tests/browser/service.mjs target/debug/reelsmith
