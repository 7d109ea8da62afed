#!/usr/bin/env python3
"""Is peak memory independent of video length? Renders the training module and the same
module repeated N times (scenes copied with new ids, narration and music as in the original),
and prints peak RSS, wall and CPU for both, side by side.

    python3 benches/length.py [--repeat 10] [--spec examples/training-module.json] [--keep DIR]

Needs the release build (cargo build --release).
"""
import argparse
import copy
import json
import os
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.path.join(ROOT, "target/release/reelsmith")


def repeated(spec_path, n):
    spec = json.load(open(spec_path))
    scenes = []
    for r in range(n):
        for s in spec["scenes"]:
            c = copy.deepcopy(s)
            if "id" in c:
                c["id"] = f"{c['id']}-{r + 1}"
            scenes.append(c)
    spec["scenes"] = scenes
    # Next to the original so relative asset paths stay valid.
    out = os.path.join(os.path.dirname(os.path.abspath(spec_path)), f".length-{n}x.json")
    json.dump(spec, open(out, "w"))
    return out


def render(spec, out_dir, name):
    out = os.path.join(out_dir, f"{name}.mp4")
    r = subprocess.run([BIN, "render", spec, "-o", out, "--quiet", "--json", "--no-audio-cache",
                        "--no-scene-cache"],
                       capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit(f"render failed: {r.stderr[-2000:]}")
    return json.loads(r.stdout)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--repeat", type=int, default=10)
    ap.add_argument("--spec", default=os.path.join(ROOT, "examples/training-module.json"))
    ap.add_argument("--keep", help="keep the videos in this folder")
    a = ap.parse_args()
    long_spec = repeated(a.spec, a.repeat)
    out_dir = a.keep or tempfile.mkdtemp(prefix="reelsmith-length-")
    os.makedirs(out_dir, exist_ok=True)
    try:
        rows = [("1x", render(a.spec, out_dir, "1x")),
                (f"{a.repeat}x", render(long_spec, out_dir, f"{a.repeat}x"))]
    finally:
        os.remove(long_spec)
        if not a.keep:
            for f in os.listdir(out_dir):
                os.remove(os.path.join(out_dir, f))
            os.rmdir(out_dir)
    print(f"| length | duration s | frames | wall s | CPU s | peak RSS MB | output MB |")
    print(f"|---|---|---|---|---|---|---|")
    for name, r in rows:
        print(f"| {name} | {r['duration_s']:.1f} | {r['frames']} | {r['wall_s']:.1f} | "
              f"{r['cpu_s']:.1f} | {r['peak_rss_bytes'] / 1e6:.0f} | {r['output_bytes'] / 1e6:.1f} |")
    ratio = rows[1][1]["peak_rss_bytes"] / rows[0][1]["peak_rss_bytes"]
    print(f"\npeak RSS {rows[1][0]} / 1x: {ratio:.3f} (target <= 1.10)")


if __name__ == "__main__":
    main()
