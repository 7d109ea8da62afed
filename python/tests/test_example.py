"""examples/python/course.py: the outline becomes a module spec that validates and renders."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import reelsmith
from conftest import REPO, temp_leftovers

SCRIPT = REPO / "examples" / "python" / "course.py"
OUTLINE = REPO / "examples" / "python" / "course.json"


def test_the_course_generator_renders(tmp_path: Path, media_root: Path) -> None:
    out = tmp_path / "course.mp4"
    spec = tmp_path / "course.spec.json"
    run = subprocess.run(
        [sys.executable, SCRIPT, OUTLINE, "-o", out, "--media-root", media_root,
         "--width", "320", "--height", "180", "--fps", "15", "--max-sections", "1",
         "--spec", spec],
        capture_output=True, text=True, timeout=600,
    )
    assert run.returncode == 0, run.stderr
    assert "wrote" in run.stdout and "frames" in run.stderr  # the progress bar
    written = json.loads(spec.read_text())
    assert [s["id"] for s in written["scenes"]] == ["title", "s01-photo", "s01-points", "end"]
    assert reelsmith.types.check(written) == []
    info = reelsmith.probe(out)
    video = info.stream("video")
    assert video is not None and (video.width, video.height) == (320, 180)
    assert info.stream("audio") is not None and info.stream("subtitle") is not None
    assert temp_leftovers(media_root) == []
