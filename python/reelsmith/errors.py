"""The exceptions of reelsmith, in-process and from the service alike.

Every failure is a :class:`Error`; its subclass says what went wrong, and the same
attributes are set whether the render ran in this process or on ``reelsmith serve``:

- ``kind``: ``invalid_spec``, ``asset``, ``encode``, ``io``, ``environment``,
  ``canceled``, ``internal`` (a render's error), or the service's request error kinds
  (``not_found``, ``conflict``, ``queue_full``, ``unauthorized``, ...);
- ``stage``: the pipeline stage that failed (``validate``, ``prepare``, ...), when known;
- ``path``: the JSON path of the first problem (``scenes[0].layers[1].src``), when known;
- ``message``: the text the CLI prints after ``error:``;
- ``issues``: every problem with a JSON path, a list of :class:`Issue` ``(path, message)``;
- ``exit_code``: the CLI's exit code for the same failure (3 spec, 4 asset, 5 encode or
  file, 130 cancelled, 1 other);
- ``status``: the HTTP status of a service error (``None`` in-process).
"""

from __future__ import annotations

import json
from typing import Any, Dict, List, Mapping, NamedTuple, Optional, Sequence, Type

__all__ = [
    "Issue",
    "Error",
    "SpecError",
    "AssetError",
    "EncodeError",
    "Cancelled",
    "ServiceError",
    "error_from_json",
]


class Issue(NamedTuple):
    """One problem in a spec: its JSON path and what is wrong."""

    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"


class Error(Exception):
    """Any failure of reelsmith."""

    def __init__(
        self,
        message: str,
        *,
        kind: str = "internal",
        stage: Optional[str] = None,
        path: Optional[str] = None,
        issues: Sequence[Issue] = (),
        exit_code: int = 1,
        status: Optional[int] = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.kind = kind
        self.stage = stage
        self.issues: List[Issue] = [Issue(*i) for i in issues]
        self.path = path if path is not None else (self.issues[0].path if self.issues else None)
        self.exit_code = exit_code
        self.status = status

    def __str__(self) -> str:
        return self.message

    def to_dict(self) -> Dict[str, Any]:
        """The error as the service writes it: kind, stage, path, message, issues."""
        return {
            "kind": self.kind,
            "stage": self.stage,
            "path": self.path,
            "message": self.message,
            "issues": [{"path": i.path, "message": i.message} for i in self.issues],
        }


class SpecError(Error):
    """The spec is invalid: ``issues`` lists every problem with its JSON path."""


class AssetError(Error):
    """A picture, sound, clip or font the spec names cannot be used."""


class EncodeError(Error):
    """Encoding or writing the output failed (also a full, read-only or forbidden folder)."""


class Cancelled(Error):
    """The render was cancelled (the progress callback said so, or it was cancelled on the
    service); no output was written and no temporary file is left."""


class ServiceError(Error):
    """A request the service refused or failed (``status`` is the HTTP status)."""


_BY_KIND: Dict[str, Type[Error]] = {
    "invalid_spec": SpecError,
    "asset": AssetError,
    "encode": EncodeError,
    "io": EncodeError,
    "environment": EncodeError,
    "canceled": Cancelled,
}

_EXIT_CODES = {
    "invalid_spec": 3,
    "asset": 4,
    "encode": 5,
    "io": 5,
    "environment": 5,
    "canceled": 130,
}


def error_from_json(
    error: Mapping[str, Any], *, status: Optional[int] = None, default: Type[Error] = Error
) -> Error:
    """The exception for an error object ``{"kind", "stage", "path", "message", "issues"}``
    (the library's, or the service's for a failed render or a refused request)."""
    kind = str(error.get("kind") or "internal")
    issues = [Issue(str(i.get("path", "$")), str(i.get("message", ""))) for i in error.get("issues") or []]
    cls = _BY_KIND.get(kind, default)
    return cls(
        str(error.get("message") or kind),
        kind=kind,
        stage=error.get("stage"),
        path=error.get("path"),
        issues=issues,
        exit_code=int(error.get("exit_code") or _EXIT_CODES.get(kind, 1)),
        status=status,
    )


def _from_native(text: str) -> Error:
    return error_from_json(json.loads(text))
