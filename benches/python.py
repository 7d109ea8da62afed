#!/usr/bin/env python3
"""Measures the Python package against the CLI (BENCHMARKS.md, "Python").

    python benches/python.py cli-vs-python [--pairs 3] [--cli target/release/reelsmith]
    python benches/python.py many [--renders 100]

`cli-vs-python`: examples/training-module.json rendered by the CLI (a process, wall time
measured around it) and by reelsmith.render in this process, alternating, N pairs, with the
scene and audio caches off (each run makes everything) and the same media root; prints each
run and the medians. `many`: 100 short renders in one process, printing the resident memory
(VmRSS) after render 1, 10, 50 and 100.
Run with the Python of a virtual environment where the package is installed (a release build:
`pip install ./python`, or `maturin develop --release`).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import reelsmith

REPO = Path(__file__).resolve().parents[1]
SPEC = REPO / "examples" / "training-module.json"


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def cli_vs_python(args: argparse.Namespace) -> None:
    out = Path(tempfile.mkdtemp(prefix="reelsmith-bench-"))
    media = REPO / "media"
    rows = []
    for pair in range(1, args.pairs + 1):
        order = ["cli", "python"] if pair % 2 else ["python", "cli"]
        for kind in order:
            target = out / f"{kind}-{pair}.mp4"
            t = time.perf_counter()
            if kind == "cli":
                subprocess.run(
                    [args.cli, "render", SPEC, "-o", target, "-q", "--media-root", media,
                     "--no-scene-cache", "--no-audio-cache"],
                    check=True, cwd=REPO,
                )
                wall = time.perf_counter() - t
            else:
                reelsmith.render(SPEC, target, media_root=media, scene_cache=False,
                                 audio_cache=False)
                wall = time.perf_counter() - t
            rows.append((pair, kind, wall))
            print(f"pair {pair} {kind:6} {wall:7.2f} s", flush=True)
            target.unlink()
    for kind in ("cli", "python"):
        walls = [w for _, k, w in rows if k == kind]
        print(f"median {kind:6} {statistics.median(walls):7.2f} s over {len(walls)} runs")
    out.rmdir()


def many(args: argparse.Namespace) -> None:
    spec = {
        "output": {"width": 320, "height": 180, "fps": 30, "quality": "fast"},
        "scenes": [{"duration": 1.0,
                    "background": {"type": "linear_gradient", "colors": ["#0F2027", "#2C5364"]},
                    "layers": [{"type": "text", "text": "render", "size": 28}]}],
        "audio": {"tracks": [{"src": str(REPO / "media" / "stock" / "audio" / "music-bed.wav"),
                              "volume_db": -10}]},
    }
    with tempfile.TemporaryDirectory(prefix="reelsmith-many-") as tmp:
        media = Path(tmp) / "media"
        t = time.perf_counter()
        for i in range(1, args.renders + 1):
            spec["scenes"][0]["layers"][0]["text"] = f"render {i}"
            reelsmith.render(spec, Path(tmp) / "out.mp4", media_root=media, scene_cache=False,
                             audio_cache=False)
            if i in (1, 10, 50, args.renders):
                print(f"render {i:3}: VmRSS {rss_mb():6.1f} MB, {time.perf_counter() - t:6.1f} s",
                      flush=True)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="what", required=True)
    a = sub.add_parser("cli-vs-python")
    a.add_argument("--pairs", type=int, default=3)
    a.add_argument("--cli", default=str(REPO / "target" / "release" / "reelsmith"))
    b = sub.add_parser("many")
    b.add_argument("--renders", type=int, default=100)
    args = ap.parse_args()
    print(f"reelsmith {reelsmith.__version__} from {os.path.dirname(reelsmith.__file__)}")
    {"cli-vs-python": cli_vs_python, "many": many}[args.what](args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
