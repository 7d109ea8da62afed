"""reelsmith.validate: the plan's summary, or every problem with its JSON path and the same
text as `reelsmith validate`."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

import reelsmith
from conftest import REPO, small_spec

THREE_PROBLEMS = {
    "output": {"width": 321, "height": 180, "fps": 30},
    "scenes": [{"duration": -1, "background": {"type": "solid", "color": "#12"}}],
}


def test_summary_of_a_valid_spec() -> None:
    s = reelsmith.validate(small_spec(seconds=2.0))
    assert isinstance(s, reelsmith.Summary)
    assert (s.scenes, s.frames, s.width, s.height, s.fps) == (1, 60, 320, 180, 30.0)
    assert s.to_dict()["frames"] == 60


def test_an_example_file_validates() -> None:
    s = reelsmith.validate(REPO / "examples" / "hello.json", media_root=REPO / "media")
    assert s.tracks == 1 and abs(s.duration_s - 5.0) < 1e-9


def test_three_problems_with_their_paths(tmp_path: Path, binary: Path) -> None:
    with pytest.raises(reelsmith.SpecError) as e:
        reelsmith.validate(THREE_PROBLEMS)
    err = e.value
    assert [i.path for i in err.issues] == [
        "output.width",
        "scenes[0].duration",
        "scenes[0].background.color",
    ]
    assert all(isinstance(i, reelsmith.Issue) for i in err.issues)
    path, message = err.issues[0]
    assert (path, message) == ("output.width",
                               "width 321 is odd (H.264 yuv420p needs even sizes; use 322)")
    assert err.path == "output.width" and err.kind == "invalid_spec" and err.exit_code == 3
    assert isinstance(err, reelsmith.Error)

    # The same text as the command line, which prints `error: <message>` and exits 3.
    spec = tmp_path / "bad.json"
    spec.write_text(json.dumps(THREE_PROBLEMS))
    cli = subprocess.run([binary, "validate", spec], capture_output=True, text=True, cwd=REPO)
    assert cli.returncode == 3
    with pytest.raises(reelsmith.SpecError) as from_file:
        reelsmith.validate(spec)
    assert cli.stderr == f"error: {from_file.value}\n"
    assert from_file.value.issues == err.issues


def test_a_parse_error_names_its_place() -> None:
    spec = small_spec()
    spec["scenes"][0]["layers"][0]["colour"] = "#fff"
    with pytest.raises(reelsmith.SpecError) as e:
        reelsmith.validate(spec)
    assert e.value.issues[0].path == "scenes[0].layers[0]"
    assert "colour" in e.value.issues[0].message


def test_not_a_spec() -> None:
    with pytest.raises(TypeError):
        reelsmith.validate(42)  # type: ignore[arg-type]
