"""reelsmith from Python: render declarative video compositions to web-ready MP4 in this
process (the Rust engine, through libav), validate specs with JSON paths, and drive the job
service (``reelsmith serve``).

>>> import reelsmith
>>> report = reelsmith.render("examples/hello.json", "hello.mp4",
...                           progress=lambda done, total: print(done, total))
>>> report.timings["encode"], report.audio.output_lufs

Specs are plain dicts (or JSON text, or a file); :mod:`reelsmith.types` has their typed
shape (``TypedDict``) for editors and type checkers.
"""

from . import types
from ._local import ProgressCallback, Spec, probe, render, schema, validate
from ._native import __version__
from .aio import AsyncClient
from .client import Client, Page, RenderStatus
from .errors import (
    AssetError,
    Cancelled,
    EncodeError,
    Error,
    Issue,
    ServiceError,
    SpecError,
)
from .results import Loudness, ProbeInfo, Report, Stage, Stream, Summary, TextFit

__all__ = [
    "__version__",
    "types",
    "render",
    "validate",
    "probe",
    "schema",
    "Spec",
    "ProgressCallback",
    "Report",
    "Stage",
    "Loudness",
    "TextFit",
    "Summary",
    "ProbeInfo",
    "Stream",
    "Error",
    "SpecError",
    "AssetError",
    "EncodeError",
    "Cancelled",
    "ServiceError",
    "Issue",
    "Client",
    "AsyncClient",
    "RenderStatus",
    "Page",
]
