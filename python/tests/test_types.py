"""The generated spec types: current with the schema, and every example in examples/ is one
of them (round trip through the typed models, checked field by field)."""

from __future__ import annotations

import importlib.util
import json
import typing
from pathlib import Path

import pytest

import reelsmith
from reelsmith import types
from conftest import REPO

EXAMPLES = sorted(p for p in (REPO / "examples").glob("*.json") if not p.name.startswith("."))


def load_generator():
    path = REPO / "python" / "tools" / "gen_types.py"
    spec = importlib.util.spec_from_file_location("gen_types", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_types_are_current_with_the_schema() -> None:
    generated = load_generator().generate(reelsmith.schema())
    committed = (REPO / "python" / "reelsmith" / "types.py").read_text()
    assert generated == committed, (
        "python/reelsmith/types.py is out of date with `reelsmith schema`: "
        "run python3 python/tools/gen_types.py"
    )


def test_every_type_resolves() -> None:
    for name in types.__all__:
        tp = getattr(types, name)
        if isinstance(tp, type) and issubclass(tp, dict):
            typing.get_type_hints(tp, vars(types))


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_examples_round_trip_through_the_types(path: Path) -> None:
    raw = json.loads(path.read_text())
    assert types.check(raw) == []
    typed = types.Composition(**raw)  # a TypedDict is a dict: the same value
    assert typed == raw
    again = json.loads(json.dumps(typed))
    assert again == raw and types.check(again) == []
    # Each scene and layer is one of the generated variants, field for field.
    for i, scene in enumerate(raw["scenes"]):
        assert types.check(types.Scene(**scene), types.Scene) == [], i
        for layer in scene.get("layers", []):
            assert types.check(layer, types.Layer) == []


def test_the_typed_hello_renders_the_same_plan() -> None:
    raw = json.loads((REPO / "examples" / "hello.json").read_text())
    typed: types.Composition = types.Composition(**raw)
    a = reelsmith.validate(typed, media_root=REPO / "media", base_dir=REPO / "examples")
    b = reelsmith.validate(REPO / "examples" / "hello.json", media_root=REPO / "media")
    assert a.to_dict() == b.to_dict()


def test_a_wrong_field_is_caught_with_its_path() -> None:
    spec = {
        "output": {"width": 320, "height": 180, "quality": "ultra"},
        "scenes": [{"duration": 2, "background": {"type": "solid", "colour": "#fff"},
                    "layers": [{"type": "text", "txt": "hi"}]}],
    }
    problems = types.check(spec)
    assert any(p.startswith("output.quality: 'ultra' is not one of") for p in problems)
    assert "scenes[0].background.colour: unknown field of SolidBackground" in problems
    assert "scenes[0].background.color: missing (required by SolidBackground)" in problems
    assert "scenes[0].layers[0].txt: unknown field of TextLayer" in problems
