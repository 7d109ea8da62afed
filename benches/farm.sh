#!/usr/bin/env bash
# The render farm measured on this machine (BENCHMARKS.md, "Many machines"): the 3-minute
# module rendered locally on both cores, then through 1 worker pinned to core 0, then through
# 2 workers pinned to cores 0 and 1 (the coordinator unpinned: it plans, then waits, then joins),
# each with a store of its own (a store that holds the units would copy them). Prints each
# run's wall time and the farm block of its report; the last report feeds benches/farm_sim.py.
#
#   cargo build --release && [CHUNK=10] benches/farm.sh [SPEC] [OUT_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
SPEC=${1:-examples/training-module.json}
OUT=${2:-target/farm-bench}
BIN=target/release/reelsmith
CHUNK=${CHUNK:-10}   # seconds per chunk of a long scene
rm -rf "$OUT"; mkdir -p "$OUT/media"
ln -s "$PWD/media/stock" "$OUT/media/stock"
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
redis-server --port "$PORT" --bind 127.0.0.1 --save '' --appendonly no >/dev/null &
REDIS=$!
WORKERS=()
cleanup() { kill "${WORKERS[@]}" "$REDIS" 2>/dev/null || true; }
trap cleanup EXIT
sleep 0.5
BROKER="redis://127.0.0.1:$PORT/0"

report() { python3 - "$1" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
f = r.get("farm") or {}
line = f"wall {r['wall_s']:.1f} s, {r['realtime_factor']:.1f}x realtime, coordinator CPU {r['cpu_s']:.1f} s"
if f:
    cpu = sum(u["cpu_s"] for u in f["unit_reports"])
    join = [s["wall_s"] for s in r["stages"] if s["stage"] == "finalize"][0]
    line += f"; {f['units']} units, {cpu:.1f} CPU s on the workers, join {join:.2f} s, workers {f['workers']}"
print(line)
PY
}

echo "local, both cores, default threads:"
$BIN render "$SPEC" -q -o "$OUT/local-default.mp4" --media-root "$OUT/media" \
  --no-scene-cache --no-audio-cache --report "$OUT/local-default.json"
report "$OUT/local-default.json"
echo "local, both cores, --threads 1 --chunk $CHUNK (the farm's settings):"
$BIN render "$SPEC" -q -o "$OUT/local.mp4" --media-root "$OUT/media" --threads 1 --chunk "$CHUNK" \
  --no-scene-cache --no-audio-cache --report "$OUT/local.json"
report "$OUT/local.json"

for n in 1 2; do
  WORKERS=()
  for ((i = 0; i < n; i++)); do
    taskset -c "$i" $BIN worker --broker "$BROKER" --store "$OUT/store-$n" \
      --cache "$OUT/cache-$n-$i" --name "w$i" -q &
    WORKERS+=($!)
  done
  sleep 0.5
  echo "$n worker(s), one core each:"
  $BIN render "$SPEC" -q -o "$OUT/farm-$n.mp4" --media-root "$OUT/media" --threads 1 --chunk "$CHUNK" \
    --broker "$BROKER" --store "$OUT/store-$n" --report "$OUT/farm-$n.json"
  report "$OUT/farm-$n.json"
  kill "${WORKERS[@]}"; wait "${WORKERS[@]}" 2>/dev/null || true
done
md5sum "$OUT"/*.mp4
