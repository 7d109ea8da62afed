"""A type checker (mypy, strict) over the package, a spec written with reelsmith.types, and a
spec with wrong fields: the editor's view of the generated types. Skipped without mypy
(scripts/python-test.sh installs it, pinned)."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import REPO

api = pytest.importorskip("mypy.api")

GOOD = '''
from reelsmith.types import Composition
spec: Composition = {
    "output": {"width": 1280, "height": 720, "quality": "fast"},
    "scenes": [{"duration": 4, "background": {"type": "solid", "color": "#14213D"},
                "layers": [{"type": "title", "title": "Safe lifting", "subtitle": "Module 3"},
                           {"type": "text", "text": "hi", "size": 40, "x": "50%"}]}],
}
'''

BAD = '''
from reelsmith.types import Composition
spec: Composition = {
    "output": {"width": 1280, "height": 720, "quality": "ultra"},
    "scenes": [{"duration": 4, "background": {"type": "solid", "colour": "#14213D"},
                "layers": [{"type": "text", "txt": "hi"}]}],
}
'''


def mypy(*args: str) -> tuple:
    out, err, code = api.run(["--no-incremental", "--strict", *args])
    return out, code


def test_the_package_type_checks() -> None:
    out, code = mypy(str(REPO / "python" / "reelsmith"))
    assert code == 0, out


def test_a_typed_spec_passes_and_wrong_fields_fail(tmp_path: Path) -> None:
    good, bad = tmp_path / "good.py", tmp_path / "bad.py"
    good.write_text(GOOD)
    bad.write_text(BAD)
    out, code = mypy(str(good))
    assert code == 0, out
    out, code = mypy(str(bad))
    assert code == 1
    assert 'TypedDict item "quality" has type "Literal[\'fast\', \'standard\', \'high\']"' in out
    assert 'TypedDict item "background"' in out  # "colour" fits no background
    assert "List item 0 has incompatible type" in out  # "txt" fits no layer
