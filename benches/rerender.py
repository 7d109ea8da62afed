#!/usr/bin/env python3
"""What a re-render costs with the scene cache. Renders the training module four ways, each
with an empty cache folder unless said: a first render with one x264 for the whole video and
no scene cache (--no-segments), a first render as by default (every scene encoded as a
segment and kept in the scene cache), the same spec again (every segment copied), and the
spec with one bullet of one slide edited (that slide and the transition out of it made
again). Audio is mixed and encoded every time (--no-audio-cache),
so the figures are the video's. Prints wall, CPU, peak RSS, segments reused and size.

    python3 benches/rerender.py [--rounds 2] [--spec examples/training-module.json] [--scene 5]

Needs the release build (cargo build --release) and /usr/bin/time (Debian package `time`).
"""
import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.path.join(ROOT, "target/release/reelsmith")


def edited(spec_path, scene):
    """The spec with one text of `scene` changed (a bullet item, else a text layer)."""
    spec = json.load(open(spec_path))
    for layer in spec["scenes"][scene].get("layers", []):
        if layer.get("type") == "bullets":
            layer["items"][-1] = layer["items"][-1] + " (edited)"
            break
        if layer.get("type") == "text":
            layer["text"] = layer["text"] + " (edited)"
            break
    else:
        sys.exit(f"scene {scene} has no text to edit")
    # Next to the original so relative asset paths stay valid.
    out = os.path.join(os.path.dirname(os.path.abspath(spec_path)), ".rerender-edited.json")
    json.dump(spec, open(out, "w"))
    return out


def render(spec, media, out, *flags):
    p = subprocess.run(["/usr/bin/time", "-f", "%M %U %S", BIN, "render", spec, "-q", "-o", out,
                        "--media-root", media, "--no-audio-cache", "--json", *flags],
                       capture_output=True, text=True)
    if p.returncode != 0:
        sys.exit(f"render failed:\n{p.stderr[-2000:]}")
    rep = json.loads(p.stdout)
    rss, user, sys_ = p.stderr.strip().splitlines()[-1].split()
    return {"wall": rep["wall_s"], "cpu": float(user) + float(sys_), "rss": int(rss) / 1024,
            "reused": f"{rep.get('segments_reused', 0)}/{rep.get('segments', 1)}",
            "mb": os.path.getsize(out) / 1e6}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--spec", default=os.path.join(ROOT, "examples/training-module.json"))
    ap.add_argument("--scene", type=int, default=5, help="index of the scene to edit")
    a = ap.parse_args()
    edit = edited(a.spec, a.scene)
    work = tempfile.mkdtemp(prefix="reelsmith-rerender-")
    media = os.path.join(work, "media")
    rows = {k: [] for k in ("first, --no-segments", "first (default)", "same spec again",
                            "one slide edited")}
    try:
        for r in range(a.rounds):
            print(f"round {r + 1}/{a.rounds}", file=sys.stderr)
            shutil.rmtree(media, ignore_errors=True)
            rows["first, --no-segments"].append(
                render(a.spec, media, f"{work}/plain.mp4", "--no-segments"))
            shutil.rmtree(media, ignore_errors=True)
            rows["first (default)"].append(render(a.spec, media, f"{work}/first.mp4"))
            rows["same spec again"].append(render(a.spec, media, f"{work}/same.mp4"))
            rows["one slide edited"].append(render(edit, media, f"{work}/edit.mp4"))
    finally:
        os.remove(edit)
        shutil.rmtree(work, ignore_errors=True)
    base = statistics.median(x["wall"] for x in rows["first, --no-segments"])
    print(f"{'render':<24} {'wall s':>8} {'ratio':>6} {'CPU s':>7} {'RSS MB':>7} "
          f"{'reused':>7} {'MB':>6}   (medians of {a.rounds})")
    for name, runs in rows.items():
        med = lambda k: statistics.median(x[k] for x in runs)
        print(f"{name:<24} {med('wall'):>8.1f} {med('wall') / base:>6.2f} {med('cpu'):>7.1f} "
              f"{med('rss'):>7.0f} {runs[-1]['reused']:>7} {med('mb'):>6.2f}")


if __name__ == "__main__":
    main()
