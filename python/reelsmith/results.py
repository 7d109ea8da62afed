"""Typed results: a render's :class:`Report`, a validation's :class:`Summary`, a
:class:`ProbeInfo`. Each keeps the JSON it was made from (``to_dict()`` returns it, the same
object the CLI writes with ``--report`` / ``--json``), so a field added to the library is
never lost on the way."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Type, TypeVar

__all__ = ["Stage", "Loudness", "TextFit", "Report", "Summary", "Stream", "ProbeInfo"]

T = TypeVar("T", bound="_FromDict")


class _FromDict:
    """Built from a JSON object; keys without a field are kept in ``to_dict()`` only."""

    _raw: Dict[str, Any]

    @classmethod
    def from_dict(cls: Type[T], data: Dict[str, Any]) -> T:
        kwargs = {}
        for f in dataclasses.fields(cls):  # type: ignore[arg-type]
            if f.name.startswith("_") or f.name not in data:
                continue
            kwargs[f.name] = cls._convert(f.name, data[f.name])
        obj = cls(**kwargs)
        obj._raw = data
        return obj

    @classmethod
    def _convert(cls, name: str, value: Any) -> Any:
        return value

    def to_dict(self) -> Dict[str, Any]:
        """The JSON object this was made from."""
        return self._raw


@dataclass
class Stage(_FromDict):
    """One stage's cost: ``stage`` is validate, prepare, mix, compose, encode or finalize."""

    stage: str = ""
    wall_s: float = 0.0
    frames: int = 0
    bytes: int = 0
    note: Optional[str] = None


@dataclass
class Loudness(_FromDict):
    """The delivered audio's loudness (EBU R128), before and after normalisation."""

    input_lufs: Optional[float] = None
    gain_db: float = 0.0
    output_lufs: Optional[float] = None
    range_lu: Optional[float] = None
    true_peak_dbtp: Optional[float] = None
    limited_samples: int = 0


@dataclass
class TextFit(_FromDict):
    """A text layer that was shrunk or cut to fit its box."""

    path: str = ""
    size: float = 0.0
    fitted_size: float = 0.0
    kept_chars: Optional[int] = None
    chars: int = 0


def _fits(value: Any) -> List[TextFit]:
    return [TextFit.from_dict(f) if isinstance(f, dict) else f for f in value or []]


@dataclass
class Report(_FromDict):
    """What a render made and what it cost (the CLI's ``--report`` JSON)."""

    output: str = ""
    width: int = 0
    height: int = 0
    fps: float = 0.0
    frames: int = 0
    duration_s: float = 0.0
    unique_frames: int = 0
    encoded_frames: int = 0
    patched_frames: int = 0
    segments: int = 0
    segments_reused: int = 0
    frames_reused: int = 0
    quality: str = ""
    wall_s: float = 0.0
    realtime_factor: float = 0.0
    output_bytes: int = 0
    peak_rss_bytes: Optional[int] = None
    cpu_s: Optional[float] = None
    audio: Loudness = field(default_factory=Loudness)
    audio_cached: bool = False
    threads: int = 0
    stages: List[Stage] = field(default_factory=list)
    text_fits: List[TextFit] = field(default_factory=list)
    captions: int = 0
    captions_file: Optional[str] = None

    @classmethod
    def _convert(cls, name: str, value: Any) -> Any:
        if name == "audio":
            return Loudness.from_dict(value)
        if name == "stages":
            return [Stage.from_dict(s) for s in value]
        if name == "text_fits":
            return _fits(value)
        return value

    @property
    def timings(self) -> Dict[str, float]:
        """Seconds per stage, by stage name."""
        return {s.stage: s.wall_s for s in self.stages}

    def table(self) -> str:
        """The per-stage table the CLI prints after a render."""
        lines = [f"{'stage':<10} {'seconds':>9} {'items':>9} {'bytes':>12}"]
        lines += [f"{s.stage:<10} {s.wall_s:>9.3f} {s.frames:>9} {s.bytes:>12}" for s in self.stages]
        return "\n".join(lines) + "\n"


@dataclass
class Summary(_FromDict):
    """What ``validate`` found: the spec is renderable, and this is what it makes."""

    scenes: int = 0
    frames: int = 0
    duration_s: float = 0.0
    width: int = 0
    height: int = 0
    fps: float = 0.0
    tracks: int = 0
    unique_frames: int = 0
    text_fits: List[TextFit] = field(default_factory=list)
    captions: int = 0

    @classmethod
    def _convert(cls, name: str, value: Any) -> Any:
        return _fits(value) if name == "text_fits" else value


@dataclass
class Stream(_FromDict):
    """One stream of a media file (``kind``: video, audio, subtitle, ...)."""

    index: int = 0
    kind: str = ""
    codec: str = ""
    profile: Optional[str] = None
    start_s: float = 0.0
    duration_s: float = 0.0
    packets: int = 0
    width: Optional[int] = None
    height: Optional[int] = None
    pix_fmt: Optional[str] = None
    fps: Optional[float] = None
    color_space: Optional[str] = None
    sample_rate: Optional[int] = None
    channels: Optional[int] = None
    language: Optional[str] = None


@dataclass
class ProbeInfo(_FromDict):
    """Facts about a media file (``reelsmith probe --json``)."""

    path: str = ""
    format: str = ""
    duration_s: float = 0.0
    size_bytes: int = 0
    bit_rate: int = 0
    faststart: Optional[bool] = None
    interleave_s: Optional[float] = None
    streams: List[Stream] = field(default_factory=list)

    @classmethod
    def _convert(cls, name: str, value: Any) -> Any:
        return [Stream.from_dict(s) for s in value] if name == "streams" else value

    def stream(self, kind: str) -> Optional[Stream]:
        """The first stream of this kind (``video``, ``audio``, ``subtitle``), if any."""
        return next((s for s in self.streams if s.kind == kind), None)
