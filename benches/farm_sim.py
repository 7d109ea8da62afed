#!/usr/bin/env python3
"""What N render workers would make of one render: replays a farm render's measured units
(the report of `reelsmith render SPEC --broker ... --report R.json`) onto N simulated workers.

    python3 benches/farm_sim.py R.json [--broker-ms 2] [--transfer-mbps 1000] [--local-s S]

Each unit costs its measured CPU seconds on one worker of the same speed (the report's cpu_s:
a unit runs x264 and the compositor on its worker's cores, so on a one-core worker its wall
time is its CPU time), plus the broker's round trip and moving its packets (and, once per
worker, the assets) over the store at --transfer-mbps. Units are taken in the order the
coordinator publishes them (the audio first, then the video in order), each by the first
worker free, as Redis hands them out. A plan whose audio is encoded in chunks has the audio
mastered by one unit ("audio mastering", first), which puts the mastered samples in the store
(8 bytes a sample); its chunks ("audio chunk N") are published when it is done, behind the
video, and each reads its samples (the chunk and 10 AAC frames around it) from the store.
The coordinator's own work is added before (planning, putting the assets and plan in the
store) and after (fetching the packets and joining), as measured in the same report.

Left out: contention in the store and the broker (each unit's transfer is timed as if alone),
workers of different speeds, a unit's start-up cost beyond what its CPU seconds include (the
plan and its fonts are loaded per unit), and the network between the coordinator and the
workers beyond the store's bandwidth.
"""
import argparse
import heapq
import json


def simulate(units, workers, broker_s, transfer_s_per_byte, before_s, after_s, asset_bytes,
             pcm_bytes=0.0, chunk_read_bytes=0.0):
    free = [(0.0, w) for w in range(workers)]
    heapq.heapify(free)
    warmed = set()
    end = 0.0
    mastered = 0.0
    first = [u for u in units if not u["label"].startswith("audio chunk")]
    chunks = [u for u in units if u["label"].startswith("audio chunk")]
    # The chunks are published once the mastering is done, behind every other unit.
    for u in first + chunks:
        t, w = heapq.heappop(free)
        cost = u["cpu_s"] + broker_s + u.get("bytes", 0) * transfer_s_per_byte
        if u["label"] == "audio mastering":
            cost += pcm_bytes * transfer_s_per_byte
        if u["label"].startswith("audio chunk"):
            t = max(t, mastered)
            cost += chunk_read_bytes * transfer_s_per_byte
        if w not in warmed:
            cost += asset_bytes * transfer_s_per_byte
            warmed.add(w)
        t += cost
        if u["label"] == "audio mastering":
            mastered = t
        end = max(end, t)
        heapq.heappush(free, (t, w))
    return before_s + end + after_s


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("report")
    ap.add_argument("--broker-ms", type=float, default=2.0, help="broker round trip per unit (measured: see BENCHMARKS.md)")
    ap.add_argument("--transfer-mbps", type=float, default=1000.0, help="store bandwidth, megabit/s")
    ap.add_argument("--asset-bytes", type=float, default=0.0, help="bytes of assets each worker fetches once")
    ap.add_argument("--local-s", type=float, default=None, help="the local render's wall time, for the table")
    ap.add_argument("--workers", default="1,2,4,8,16,32,64")
    a = ap.parse_args()
    rep = json.load(open(a.report))
    farm = rep["farm"]
    units = farm["unit_reports"]
    stages = {s["stage"]: s["wall_s"] for s in rep["stages"]}
    before = stages.get("validate", 0) + stages.get("prepare", 0)
    after = stages.get("finalize", 0)
    duration = rep["duration_s"]
    per_byte = 8.0 / (a.transfer_mbps * 1e6)
    chunks = [u for u in units if u["label"].startswith("audio chunk")]
    pcm_bytes = rep["frames"] / rep["fps"] * 48000 * 8 if chunks else 0.0
    chunk_read = (pcm_bytes / len(chunks) + 10 * 1024 * 8) if chunks else 0.0
    longest = max(u["cpu_s"] for u in units)
    total = sum(u["cpu_s"] for u in units)
    print(f"{len(units)} units, {total:.1f} CPU s in all, the longest {longest:.2f} s "
          f"({max(units, key=lambda u: u['cpu_s'])['label']}); coordinator {before:.2f} s before, "
          f"{after:.2f} s joining")
    if chunks:
        m = [u for u in units if u["label"] == "audio mastering"][0]
        print(f"audio: mastering {m['cpu_s']:.2f} s, {len(chunks)} chunks of "
              f"{min(u['cpu_s'] for u in chunks):.2f} to {max(u['cpu_s'] for u in chunks):.2f} s "
              f"({sum(u['cpu_s'] for u in chunks):.2f} s in all); the mastered samples "
              f"{pcm_bytes / 1e6:.0f} MB")
    print()
    print("| workers | wall s | realtime | vs local |")
    print("|---:|---:|---:|---:|")
    for n in [int(x) for x in a.workers.split(",")]:
        wall = simulate(units, n, a.broker_ms / 1000.0, per_byte, before, after, a.asset_bytes,
                        pcm_bytes, chunk_read)
        vs = f"{a.local_s / wall:.1f}x" if a.local_s else "-"
        print(f"| {n} | {wall:.2f} | {duration / wall:.1f}:1 | {vs} |")


if __name__ == "__main__":
    main()
