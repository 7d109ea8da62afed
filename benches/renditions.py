#!/usr/bin/env python3
"""Renditions from one render against separate renders: renders SPEC at 1920x1080 with a
1280x720 and a 1080x1920 rendition in one run, and the same three sizes as three separate
renders, ROUNDS times alternating which goes first, every run cold (no audio or scene cache),
and prints wall and CPU (user + system) seconds per run, then medians and the cost of the
2nd and 3rd rendition as a fraction of a single 1080p render.

    cargo build --release
    python3 benches/renditions.py examples/training-module.json 3 target/release/reelsmith
    python3 benches/renditions.py examples/training-module.json 3 target/release/reelsmith --scenes 4

`--scenes N` keeps the first N scenes (a shorter module). Needs /usr/bin/time (Debian `time`).
"""
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time

SIZES = {"1080p": (1920, 1080), "720p": (1280, 720), "vertical": (1080, 1920)}


def run(binary, spec, out, media):
    t = time.time()
    p = subprocess.run(["/usr/bin/time", "-f", "%M %U %S", binary, "render", spec, "-q", "-o", out,
                        "--media-root", media, "--no-audio-cache", "--no-scene-cache"],
                       capture_output=True, text=True)
    wall = time.time() - t
    if p.returncode != 0:
        sys.exit(f"{spec} failed:\n{p.stderr[-3000:]}")
    m = re.findall(r"^(\d+) ([\d.]+) ([\d.]+)$", p.stderr, re.M)[-1]
    return wall, float(m[1]) + float(m[2]), int(m[0]) / 1024


def main():
    args = sys.argv[1:]
    scenes = None
    if "--scenes" in args:
        i = args.index("--scenes")
        scenes = int(args[i + 1])
        del args[i:i + 2]
    if len(args) != 3:
        sys.exit(__doc__)
    spec_path, rounds, binary = args[0], int(args[1]), os.path.abspath(args[2])
    base = json.load(open(spec_path))
    if scenes:
        base["scenes"] = base["scenes"][:scenes]
    work = tempfile.mkdtemp(prefix="reelsmith-renditions-")
    media = os.path.join(work, "media")
    os.makedirs(media)
    stock = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "media", "stock"))
    os.symlink(stock, os.path.join(media, "stock"))

    def write(name, spec):
        p = os.path.join(work, name + ".json")
        json.dump(spec, open(p, "w"))
        return p

    specs = {}
    for name, (w, h) in SIZES.items():
        s = json.loads(json.dumps(base))
        s["output"].update({"width": w, "height": h})
        s["output"].pop("path", None)
        specs[name] = write(name, s)
    one = json.loads(json.dumps(base))
    one["output"].update({"width": 1920, "height": 1080, "renditions": [
        {"name": "720p", "width": 1280, "height": 720},
        {"name": "vertical", "width": 1080, "height": 1920}]})
    one["output"].pop("path", None)
    specs["one"] = write("one", one)

    rows = []
    for r in range(rounds):
        row = {}
        order = ["one", "separate"] if r % 2 == 0 else ["separate", "one"]
        for kind in order:
            if kind == "one":
                row["one"] = run(binary, specs["one"], os.path.join(work, "one.mp4"), media)
            else:
                for name in SIZES:
                    row[name] = run(binary, specs[name], os.path.join(work, name + ".mp4"), media)
        sep_wall = sum(row[n][0] for n in SIZES)
        sep_cpu = sum(row[n][1] for n in SIZES)
        row["separate"] = (sep_wall, sep_cpu, max(row[n][2] for n in SIZES))
        rows.append(row)
        print(f"round {r + 1}: " + "  ".join(
            f"{k} {v[0]:.1f} s wall {v[1]:.1f} s CPU {v[2]:.0f} MB" for k, v in row.items()),
            flush=True)

    med = {k: (statistics.median(x[k][0] for x in rows), statistics.median(x[k][1] for x in rows))
           for k in rows[0]}
    print("\nmedians (wall s, CPU s):")
    for k, (w, c) in med.items():
        print(f"  {k:<10} {w:8.1f} {c:8.1f}")
    single_w, single_c = med["1080p"]
    extra_w, extra_c = med["one"][0] - single_w, med["one"][1] - single_c
    print(f"\n2nd + 3rd rendition in the same run: +{extra_w:.1f} s wall, +{extra_c:.1f} s CPU "
          f"= {extra_w / single_w:.2f} / {extra_c / single_c:.2f} of a single 1080p render "
          f"(separately, 720p + vertical cost {med['720p'][0] + med['vertical'][0]:.1f} s wall, "
          f"{med['720p'][1] + med['vertical'][1]:.1f} s CPU = "
          f"{(med['720p'][0] + med['vertical'][0]) / single_w:.2f} / "
          f"{(med['720p'][1] + med['vertical'][1]) / single_c:.2f})")
    print(f"one run / separate renders: {med['one'][0] / med['separate'][0]:.2f} wall, "
          f"{med['one'][1] / med['separate'][1]:.2f} CPU")


if __name__ == "__main__":
    main()
