#!/usr/bin/env python3
"""Side-by-side A/B of reelsmith builds: renders SPEC with each binary in turn, ROUNDS times,
alternating (so that a noisy machine affects all alike), and prints wall, CPU (user + system),
peak RSS and the output's MD5 per run, then medians.

    cp target/release/reelsmith /tmp/reelsmith-before   # build and copy each variant
    python3 benches/ab.py examples/training-module.json 2 /tmp/reelsmith-before target/release/reelsmith

Needs /usr/bin/time (Debian package `time`).
"""
import hashlib
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time


def main():
    if len(sys.argv) < 4:
        sys.exit(__doc__)
    spec, rounds, bins = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
    work = tempfile.mkdtemp(prefix="reelsmith-ab-")
    res = {b: [] for b in bins}
    # The examples name stock files by paths under the media root: the repository's.
    stock = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "media", "stock"))
    if os.path.isdir(stock):
        os.makedirs(os.path.join(work, "media"), exist_ok=True)
        os.symlink(stock, os.path.join(work, "media", "stock"))
    # Every run mixes and encodes its audio and every scene (builds that have the audio or
    # scene cache would otherwise copy them from the first run).
    def cold_flags(b):
        usage = subprocess.run([b, "render", "--help"], capture_output=True, text=True).stdout
        return [f for f in ("--no-audio-cache", "--no-scene-cache") if f in usage]
    cold = {b: cold_flags(b) for b in bins}
    for r in range(rounds):
        for i, b in enumerate(bins):
            out = os.path.join(work, f"{i}.mp4")
            t = time.time()
            p = subprocess.run(["/usr/bin/time", "-f", "%M %U %S", b, "render", spec, "-q", "-o", out,
                                "--media-root", os.path.join(work, "media")] + cold[b],
                               capture_output=True, text=True)
            wall = time.time() - t
            if p.returncode != 0:
                sys.exit(f"{b} failed:\n{p.stderr[-2000:]}")
            m = re.findall(r"^(\d+) ([\d.]+) ([\d.]+)$", p.stderr, re.M)[-1]
            rss, cpu = int(m[0]) / 1024, float(m[1]) + float(m[2])
            md5 = hashlib.md5(open(out, "rb").read()).hexdigest()[:10]
            res[b].append((wall, cpu, rss))
            print(f"round {r} {b:40} wall {wall:6.1f} s  cpu {cpu:6.1f} s  rss {rss:5.0f} MB  md5 {md5}",
                  flush=True)
    print("medians:")
    for b in bins:
        w = statistics.median(x[0] for x in res[b])
        c = statistics.median(x[1] for x in res[b])
        m = max(x[2] for x in res[b])
        print(f"{b:40} wall {w:6.1f} s  cpu {c:6.1f} s  peak rss {m:5.0f} MB")


if __name__ == "__main__":
    main()
