"""Shared fixtures: the repository's paths, a fresh media root per test, small specs, and the
`reelsmith` binary (for the service and the CLI comparisons)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Dict

import pytest

REPO = Path(__file__).resolve().parents[2]
MEDIA = REPO / "media"


@pytest.fixture
def media_root(tmp_path: Path) -> Path:
    """An empty storage root (temp files, caches, default outputs) for one test."""
    root = tmp_path / "media"
    (root / "assets" / "temp").mkdir(parents=True)
    return root


def temp_leftovers(media_root: Path) -> list:
    """What a render left in the media root's temp folder (nothing, when it cleaned up)."""
    temp = media_root / "assets" / "temp"
    return sorted(p.name for p in temp.iterdir()) if temp.is_dir() else []


def small_spec(seconds: float = 2.0, width: int = 320, height: int = 180, fps: int = 30,
               moving: bool = False) -> Dict[str, Any]:
    """A short spec: a gradient and a title, no files. `moving` puts a photo drifting under
    the title instead (Ken Burns), so every frame is composed and encoded anew and the
    render takes a while."""
    background: Dict[str, Any] = {"type": "linear_gradient", "angle": 135,
                                  "colors": ["#0F2027", "#2C5364"]}
    if moving:
        background = {"type": "image", "src": str(MEDIA / "stock" / "images" / "hills-dawn.jpg"),
                      "motion": "zoom_in"}
    return {
        "output": {"width": width, "height": height, "fps": fps, "quality": "fast"},
        "scenes": [{
            "id": "one",
            "duration": seconds,
            "background": background,
            "layers": [{"type": "text", "text": "reelsmith from Python", "size": 28, "y": "45%"}],
        }],
    }


def reelsmith_binary() -> Path:
    """The CLI (built by `cargo build`; REELSMITH_BIN overrides)."""
    path = Path(os.environ.get("REELSMITH_BIN", REPO / "target" / "debug" / "reelsmith"))
    if not path.exists():
        pytest.fail(f"{path} not found: run `cargo build` first (or set REELSMITH_BIN)")
    return path


@pytest.fixture
def binary() -> Path:
    return reelsmith_binary()
