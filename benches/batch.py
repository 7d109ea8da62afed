#!/usr/bin/env python3
"""What a batch of variants costs with shared scenes, against rendering each variant cold.

The template is the first SCENES scenes of examples/training-module.json (1080p, narration,
music bed) with the title card's title made a variable; ROWS rows differ only in that title.
Two ways, each in a fresh media root (empty caches; `stock/` linked in):

- batch: `reelsmith batch TEMPLATE --rows rows.csv` (the scene and audio caches on, as by
  default): the first row renders everything, the others only what differs;
- cold: one `reelsmith render TEMPLATE --var title=… --no-scene-cache --no-audio-cache` per
  row, each from scratch (what a user copying the JSON per variant gets).

Prints each way's total wall seconds, the median seconds of a row after the first, and the
ratio; checks that both ways made the same number of frames per row.

    python3 benches/batch.py [--rows 20] [--scenes 4] [--jobs 1]

Needs the release build (cargo build --release).
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.path.join(ROOT, "target/release/reelsmith")


def template(scenes):
    spec = json.load(open(os.path.join(ROOT, "examples/training-module.json")))
    spec["scenes"] = spec["scenes"][:scenes]
    for layer in spec["scenes"][0]["layers"]:
        if layer.get("type") == "title":
            layer["title"] = "{{title}}"
    spec["variables"] = {"title": {"description": "The title card's title"}, "id": {"default": "x"}}
    return spec


def media_root(tmp, name):
    root = os.path.join(tmp, name)
    os.makedirs(root)
    os.symlink(os.path.join(ROOT, "media/stock"), os.path.join(root, "stock"))
    return root


def frames(path):
    out = subprocess.run([BIN, "probe", "--json", path], capture_output=True, text=True, check=True)
    info = json.loads(out.stdout)
    return next(s["packets"] for s in info["streams"] if s["kind"] == "video")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rows", type=int, default=20)
    ap.add_argument("--scenes", type=int, default=4)
    ap.add_argument("--jobs", type=int, default=1)
    a = ap.parse_args()
    if not os.path.exists(BIN):
        sys.exit("build first: cargo build --release")
    tmp = tempfile.mkdtemp(prefix="reelsmith-batch-bench-")
    spec_path = os.path.join(tmp, "template.json")
    json.dump(template(a.scenes), open(spec_path, "w"), indent=1)
    titles = [f"Safe Lifting at Site {i:02d}" for i in range(1, a.rows + 1)]
    rows = os.path.join(tmp, "rows.csv")
    with open(rows, "w") as f:
        f.write("id,title\n" + "".join(f"site{i:02d},{t}\n" for i, t in enumerate(titles, 1)))

    # The batch.
    m = media_root(tmp, "batch-media")
    report = os.path.join(tmp, "batch.json")
    t0 = time.monotonic()
    subprocess.run([BIN, "batch", spec_path, "--rows", rows, "-q", "--jobs", str(a.jobs),
                    "--media-root", m, "-o", os.path.join(tmp, "batch/{{id}}.mp4"),
                    "--report", report], check=True, stdout=subprocess.DEVNULL)
    batch_wall = time.monotonic() - t0
    rep = json.load(open(report))
    batch_rows = [r["seconds"] for r in rep["rows"]]

    # Cold, one render per row.
    m = media_root(tmp, "cold-media")
    cold_rows = []
    for i, t in enumerate(titles, 1):
        out = os.path.join(tmp, f"cold/site{i:02d}.mp4")
        t0 = time.monotonic()
        subprocess.run([BIN, "render", spec_path, "-q", "--var", f"title={t}", "--media-root", m,
                        "--no-scene-cache", "--no-audio-cache", "-o", out],
                       check=True, stdout=subprocess.DEVNULL)
        cold_rows.append(time.monotonic() - t0)
        if frames(out) != frames(os.path.join(tmp, f"batch/site{i:02d}.mp4")):
            sys.exit(f"row {i}: the batch and the cold render differ in frames")
    cold_wall = sum(cold_rows)

    later = statistics.median(batch_rows[1:]) if len(batch_rows) > 1 else float("nan")
    cold_med = statistics.median(cold_rows)
    print(f"template: {a.scenes} scenes of examples/training-module.json, "
          f"{frames(os.path.join(tmp, 'batch/site01.mp4'))} frames at 1080p; {a.rows} rows")
    print(f"{'':24}{'total s':>10}{'first row s':>13}{'median row s':>14}")
    print(f"{'batch (caches on)':24}{batch_wall:>10.1f}{batch_rows[0]:>13.2f}{later:>14.2f}")
    print(f"{'cold (each from scratch)':24}{cold_wall:>10.1f}{cold_rows[0]:>13.2f}{cold_med:>14.2f}")
    print(f"batch / cold: {batch_wall / cold_wall:.3f} of the time "
          f"({cold_wall / batch_wall:.1f}x faster); a later row costs "
          f"{later / cold_med:.3f} of a cold render")
    print(f"(files in {tmp})")


if __name__ == "__main__":
    main()
