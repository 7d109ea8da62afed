#!/usr/bin/env python3
"""Turns a short course outline into a training-module video, in this process.

    python3 examples/python/course.py examples/python/course.json -o media/videos/course.mp4

The outline (JSON, or YAML when PyYAML is installed) has a title, a brand, and sections with
a title, bullets, a narration text and a photo. Each section becomes two scenes: the photo
drifting (Ken Burns) under a lower third, then the bullets revealed one by one while the
narration is spoken (espeak-ng; the scene lasts as long as its voice). A title card opens,
a closing card ends, a music bed plays under everything, ducked while the voice speaks, and
a progress bar runs along the bottom. The spec is checked first (every problem at once, with
its JSON path), then rendered with a progress bar on the terminal.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any, Dict, List

import reelsmith
from reelsmith.types import Composition, Layer, Scene

HERE = Path(__file__).resolve().parent
REPO_MEDIA = HERE.parent.parent / "media"  # where stock/ lives in this repository

BRAND_COLOR = "#FFC83D"
BACKDROP = {"type": "linear_gradient", "angle": 135, "colors": ["#14213D", "#1F3B73"]}


def load_outline(path: Path) -> Dict[str, Any]:
    text = path.read_text(encoding="utf-8")
    if path.suffix in (".yaml", ".yml"):
        import yaml  # PyYAML, only for YAML outlines

        return dict(yaml.safe_load(text))
    return dict(json.loads(text))


def progress_bar() -> Layer:
    return {"type": "progress_bar", "color": BRAND_COLOR, "track_color": "#FFFFFF22"}


def title_scene(outline: Dict[str, Any]) -> Scene:
    return {
        "id": "title",
        "duration": 3.5,
        "background": BACKDROP,
        "layers": [
            {"type": "title", "title": outline["title"], "subtitle": outline.get("subtitle", ""),
             "fade_in": 0.5, "fade_out": 0.4},
            progress_bar(),
        ],
    }


def photo_scene(n: int, section: Dict[str, Any], brand: str) -> Scene:
    return {
        "id": f"s{n:02d}-photo",
        "duration": 3.0,
        "transition": {"type": "crossfade", "duration": 0.5},
        "background": {"type": "image", "src": section["photo"], "fit": "cover",
                       "motion": "zoom_in"},
        "layers": [
            {"type": "lower_third", "title": section["title"], "subtitle": brand, "start": 0.4},
            progress_bar(),
        ],
    }


def bullet_scene(n: int, section: Dict[str, Any]) -> Scene:
    return {
        "id": f"s{n:02d}-points",
        "duration": "auto",
        "padding": 0.8,
        "transition": {"type": "slide_left", "duration": 0.5},
        "background": BACKDROP,
        "narration": {"text": section["narration"], "start": 0.5},
        "layers": [
            {"type": "text", "text": section["title"], "size": 64, "weight": "bold",
             "x": "8%", "y": "12%", "anchor": "top-left", "align": "left", "fade_in": 0.4},
            {"type": "shape", "width": 160, "height": 6, "fill": BRAND_COLOR,
             "x": "8%", "y": "26%", "anchor": "top-left"},
            {"type": "bullets", "items": list(section["bullets"]), "x": "8%", "y": "34%",
             "max_width": "84%", "start": 0.8, "reveal": 1.6, "marker": "check"},
            progress_bar(),
        ],
    }


def closing_scene(outline: Dict[str, Any]) -> Scene:
    return {
        "id": "end",
        "duration": 3.0,
        "transition": {"type": "fade", "duration": 0.5},
        "background": BACKDROP,
        "layers": [
            {"type": "title", "title": "Thank you", "subtitle": outline.get("brand", ""),
             "fade_in": 0.4},
            progress_bar(),
        ],
    }


def module_spec(outline: Dict[str, Any], width: int, height: int, fps: float,
                quality: str, max_sections: int) -> Composition:
    """The reelsmith spec of the whole module."""
    sections: List[Dict[str, Any]] = outline["sections"][:max_sections]
    scenes: List[Scene] = [title_scene(outline)]
    for n, section in enumerate(sections, 1):
        scenes += [photo_scene(n, section, outline.get("brand", "")), bullet_scene(n, section)]
    scenes.append(closing_scene(outline))
    return {
        "output": {"width": width, "height": height, "fps": fps, "quality": quality},
        "scenes": scenes,
        "audio": {"tracks": [{"src": "stock/audio/music-bed.wav", "volume_db": -14, "loop": True,
                              "fade_in": 1, "fade_out": 2, "duck": {"by_db": 10}}]},
    }


class Bar:
    """A terminal progress bar: frames, percent, frames per second, ETA."""

    def __init__(self, out: Any = sys.stderr) -> None:
        self.out = out
        self.started = time.monotonic()

    def __call__(self, done: int, total: int) -> bool:
        secs = max(time.monotonic() - self.started, 1e-6)
        share = done / total if total else 0.0
        rate = done / secs
        eta = (total - done) / rate if rate > 0 else 0.0
        filled = int(share * 30)
        self.out.write(f"\r[{'=' * filled}{' ' * (30 - filled)}] {share:4.0%} "
                       f"{done}/{total} frames {rate:5.1f} fps ETA {eta:4.1f} s")
        self.out.flush()
        return True

    def close(self) -> None:
        self.out.write("\n")


def main(argv: List[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("outline", type=Path)
    ap.add_argument("-o", "--output", type=Path, default=None,
                    help="the MP4 (default: <media root>/videos/<outline name>.mp4)")
    ap.add_argument("--media-root", type=Path, default=REPO_MEDIA,
                    help="caches, temp files and the default output (default: the repo's media/)")
    ap.add_argument("--assets", type=Path, default=REPO_MEDIA,
                    help="where the outline's photos and stock/ are found (default: the repo's media/)")
    ap.add_argument("--width", type=int, default=1280)
    ap.add_argument("--height", type=int, default=720)
    ap.add_argument("--fps", type=float, default=30)
    ap.add_argument("--quality", default="fast", choices=["fast", "standard", "high"])
    ap.add_argument("--max-sections", type=int, default=100)
    ap.add_argument("--spec", type=Path, help="also write the spec (JSON) here")
    args = ap.parse_args(argv)

    outline = load_outline(args.outline)
    spec = module_spec(outline, args.width, args.height, args.fps, args.quality,
                       args.max_sections)
    if args.spec:
        args.spec.write_text(json.dumps(spec, indent=2) + "\n")
    output = args.output or args.media_root / "videos" / f"{args.outline.stem}.mp4"
    try:
        summary = reelsmith.validate(spec, media_root=args.media_root, base_dir=args.assets)
    except reelsmith.SpecError as e:
        for issue in e.issues:
            print(f"{issue.path}: {issue.message}", file=sys.stderr)
        return 3
    print(f"{summary.scenes} scenes, {summary.duration_s:.1f} s, {summary.captions} captions",
          file=sys.stderr)
    bar = Bar()
    try:
        report = reelsmith.render(spec, output, media_root=args.media_root, base_dir=args.assets,
                                  progress=bar)
    finally:
        bar.close()
    print(report.table(), end="", file=sys.stderr)
    print(f"wrote {report.output} ({report.duration_s:.1f} s, {report.output_bytes} bytes, "
          f"{report.realtime_factor:.1f}x real time)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
