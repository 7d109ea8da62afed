"""In-process rendering, validation and probing through the Rust extension."""

from __future__ import annotations

import json
import os
from typing import Any, Callable, Dict, Mapping, Optional, Tuple, Union

from . import _native
from .errors import _from_native
from .results import ProbeInfo, Report, Summary

__all__ = ["render", "validate", "probe", "schema", "Spec", "ProgressCallback"]

#: A spec: a dict (or a :class:`reelsmith.types.Composition`), its JSON text, or a JSON file.
Spec = Union[Mapping[str, Any], str, "os.PathLike[str]"]

#: Called as ``progress(done, total)`` with frames encoded so far; a false return (other than
#: ``None``) or an exception cancels the render.
ProgressCallback = Callable[[int, int], Optional[bool]]

_Path = Union[str, "os.PathLike[str]"]


def _spec_args(spec: Spec) -> Tuple[Optional[str], Optional[str]]:
    """``(json_text, None)`` or ``(None, file)``."""
    if isinstance(spec, Mapping):
        return json.dumps(spec), None
    if isinstance(spec, os.PathLike):
        return None, os.fspath(spec)
    if isinstance(spec, str):
        # JSON text starts with `{` (a spec is an object); anything else is a file name.
        if spec.lstrip().startswith("{"):
            return spec, None
        return None, spec
    raise TypeError(f"spec must be a dict, JSON text or a path, not {type(spec).__name__}")


def _path(p: Optional[_Path]) -> Optional[str]:
    return None if p is None else os.fspath(p)


def render(
    spec: Spec,
    output: Optional[_Path] = None,
    *,
    media_root: Optional[_Path] = None,
    quality: Optional[str] = None,
    progress: Optional[ProgressCallback] = None,
    base_dir: Optional[_Path] = None,
    scene_cache: bool = True,
    audio_cache: bool = True,
    threads: int = 0,
) -> Report:
    """Renders ``spec`` to an MP4 in this process and returns its :class:`Report`.

    ``spec`` is a dict, JSON text, or the path of a JSON file. Relative asset paths are
    looked up beside the spec file (or in ``base_dir``, default the current folder), then
    under ``media_root`` (default ``media``, as the CLI). ``output`` wins over the spec's
    ``output.path``; without either the video goes to ``<media_root>/videos/<name>.mp4``.
    ``quality`` (``fast``, ``standard``, ``high``) overrides the spec's.

    The GIL is released while rendering. ``progress(done, total)`` is called a few times a
    second from this thread; returning ``False`` or raising cancels the render, which then
    raises :class:`reelsmith.Cancelled` (the callback's exception as its ``__cause__``).
    Ctrl-C cancels it too and raises ``KeyboardInterrupt`` once it has stopped. A render
    that fails or is cancelled leaves no output and no temporary folder (an existing file at
    ``output`` is kept).

    Raises :class:`reelsmith.SpecError`, :class:`reelsmith.AssetError`,
    :class:`reelsmith.EncodeError`, :class:`reelsmith.Cancelled` or :class:`reelsmith.Error`.
    """
    spec_json, spec_path = _spec_args(spec)
    try:
        text = _native.render(
            spec_json,
            spec_path,
            output=_path(output),
            base_dir=_path(base_dir),
            media_root=_path(media_root),
            quality=quality,
            progress=progress,
            scene_cache=scene_cache,
            audio_cache=audio_cache,
            threads=threads,
        )
    except _native.NativeError as e:
        raise _from_native(e.args[0]) from e.__cause__
    return Report.from_dict(json.loads(text))


def validate(
    spec: Spec, *, media_root: Optional[_Path] = None, base_dir: Optional[_Path] = None
) -> Summary:
    """Checks everything a render would (the spec, then every asset: pictures decoded, text
    laid out, audio loaded) without drawing or encoding, and returns the plan's
    :class:`Summary`. Raises :class:`reelsmith.SpecError` whose ``issues`` list every problem
    with its JSON path (the same text as ``reelsmith validate``), or
    :class:`reelsmith.AssetError`."""
    spec_json, spec_path = _spec_args(spec)
    try:
        text = _native.validate(
            spec_json, spec_path, base_dir=_path(base_dir), media_root=_path(media_root)
        )
    except _native.NativeError as e:
        raise _from_native(e.args[0]) from None
    return Summary.from_dict(json.loads(text))


def probe(path: _Path) -> ProbeInfo:
    """Streams, codecs, frame counts and faststart of a media file (``reelsmith probe``)."""
    try:
        text = _native.probe(os.fspath(path))
    except _native.NativeError as e:
        raise _from_native(e.args[0]) from None
    return ProbeInfo.from_dict(json.loads(text))


def schema() -> Dict[str, Any]:
    """The JSON Schema of the spec (``reelsmith schema``)."""
    value: Dict[str, Any] = json.loads(_native.schema())
    return value

