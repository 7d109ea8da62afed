"""The job service's HTTP API without I/O: the requests :class:`reelsmith.Client` and
:class:`reelsmith.AsyncClient` send, what their answers mean, and the Server-Sent Events
parser. Each client only moves the bytes (urllib, asyncio streams)."""

from __future__ import annotations

import json
import mimetypes
import urllib.parse
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Mapping, NamedTuple, Optional, Union

from .errors import Cancelled, Error, ServiceError, error_from_json
from .results import Report

__all__ = ["RenderStatus", "Page", "Request", "TERMINAL"]

#: States a render does not leave.
TERMINAL = frozenset({"done", "failed", "canceled"})


@dataclass
class RenderStatus:
    """A render on the service (``GET /v1/renders/{id}``). ``to_dict()`` is the JSON."""

    id: str
    state: str
    progress: float = 0.0
    frames_done: int = 0
    frames_total: int = 0
    eta_s: Optional[float] = None
    attempts: int = 0
    report: Optional[Report] = None
    error: Optional[Dict[str, Any]] = None
    links: Dict[str, str] = field(default_factory=dict)
    #: A resubmission with the same ``Idempotency-Key`` returned this earlier render.
    replayed: bool = False
    _raw: Dict[str, Any] = field(default_factory=dict, repr=False)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], replayed: bool = False) -> "RenderStatus":
        frames = data.get("frames") or {}
        report = data.get("report")
        return cls(
            id=str(data.get("id", "")),
            state=str(data.get("state", "")),
            progress=float(data.get("progress") or 0.0),
            frames_done=int(frames.get("done") or 0),
            frames_total=int(frames.get("total") or 0),
            eta_s=data.get("eta_s"),
            attempts=int(data.get("attempts") or 0),
            report=Report.from_dict(report) if isinstance(report, dict) else None,
            error=data.get("error"),
            links=dict(data.get("links") or {}),
            replayed=replayed,
            _raw=dict(data),
        )

    @property
    def finished(self) -> bool:
        """Done, failed or canceled."""
        return self.state in TERMINAL

    def raise_for_state(self) -> "RenderStatus":
        """Itself when done; the render's error as an exception when it failed or was
        canceled (:class:`reelsmith.SpecError`, ``AssetError``, ``EncodeError``,
        ``Cancelled``, with the service's kind, stage, path and message)."""
        if self.state == "failed":
            raise error_from_json(self.error or {"kind": "internal", "message": "render failed"})
        if self.state == "canceled":
            raise Cancelled(f"render {self.id} was canceled", kind="canceled", exit_code=130)
        if self.state == "deleted":
            raise ServiceError(f"render {self.id} was deleted", kind="not_found", status=404)
        return self

    def to_dict(self) -> Dict[str, Any]:
        return self._raw


@dataclass
class Page:
    """One page of ``GET /v1/renders``, newest first."""

    renders: List[RenderStatus]
    total: int
    limit: int
    offset: int
    #: The offset of the next page, ``None`` on the last one.
    next_offset: Optional[int]


class Request(NamedTuple):
    """An HTTP request to the service, relative to its ``/v1`` root."""

    method: str
    path: str
    body: Optional[bytes] = None
    headers: Mapping[str, str] = {}


def _render_path(render_id: str, tail: str = "") -> str:
    return f"/renders/{urllib.parse.quote(render_id, safe='')}{tail}"


def submit(
    spec: Union[Mapping[str, Any], str],
    idempotency_key: Optional[str] = None,
    webhook: Optional[str] = None,
) -> Request:
    text = spec if isinstance(spec, str) else json.dumps(spec)
    if webhook is not None:
        text = json.dumps({"spec": json.loads(text), "webhook": webhook})
    headers = {"Content-Type": "application/json"}
    if idempotency_key is not None:
        headers["Idempotency-Key"] = idempotency_key
    return Request("POST", "/renders", text.encode(), headers)


def get(render_id: str) -> Request:
    return Request("GET", _render_path(render_id))


def events(render_id: str) -> Request:
    return Request("GET", _render_path(render_id, "/events"), None, {"Accept": "text/event-stream"})


def video(render_id: str) -> Request:
    return Request("GET", _render_path(render_id, "/video"))


def cancel(render_id: str) -> Request:
    return Request("POST", _render_path(render_id, "/cancel"))


def delete(render_id: str) -> Request:
    return Request("DELETE", _render_path(render_id))


def list_renders(state: Optional[str], limit: int, offset: int) -> Request:
    query: Dict[str, Any] = {"limit": limit, "offset": offset}
    if state is not None:
        query["state"] = state
    return Request("GET", "/renders?" + urllib.parse.urlencode(query))


def upload(data: bytes, name: str, content_type: Optional[str]) -> Request:
    ctype = content_type or mimetypes.guess_type(name)[0] or "application/octet-stream"
    query = urllib.parse.urlencode({"name": name})
    return Request("POST", f"/assets?{query}", data, {"Content-Type": ctype})


def headers(token: Optional[str], request: Request) -> Dict[str, str]:
    h = {"User-Agent": "reelsmith-python", **request.headers}
    if token:
        h["Authorization"] = f"Bearer {token}"
    return h


def error(status: int, body: bytes) -> Error:
    """The exception for an error response: its ``{"error": {...}}`` body (a ``422``'s
    becomes a :class:`reelsmith.SpecError` with every issue)."""
    try:
        err = json.loads(body.decode("utf-8"))["error"]
        if not isinstance(err, dict):
            raise TypeError
    except (ValueError, KeyError, TypeError, UnicodeDecodeError):
        err = {"kind": "http", "message": f"HTTP {status}: {body[:200].decode('utf-8', 'replace')}"}
    return error_from_json(err, status=status, default=ServiceError)


def status(body: bytes, headers: Mapping[str, str]) -> RenderStatus:
    replayed = str(headers.get("Idempotent-Replayed", headers.get("idempotent-replayed", ""))).lower()
    return RenderStatus.from_dict(json.loads(body.decode("utf-8")), replayed == "true")


def page(body: bytes) -> Page:
    data = json.loads(body.decode("utf-8"))
    renders = [RenderStatus.from_dict(r) for r in data.get("renders", [])]
    offset = int(data.get("offset", 0))
    nxt = offset + len(renders) if data.get("next") else None
    return Page(renders, int(data.get("total", 0)), int(data.get("limit", 0)), offset, nxt)


def uploaded(body: bytes) -> str:
    return str(json.loads(body.decode("utf-8"))["path"])


def declined(progress: Optional[Callable[[int, int], Optional[bool]]], st: RenderStatus) -> bool:
    """Reports a running render's progress; true when the callback asks to cancel it."""
    if progress is None or st.finished:
        return False
    answer = progress(st.frames_done, st.frames_total)
    return answer is not None and not answer


def ended(st: RenderStatus) -> bool:
    """The render is over (or gone): no more events will come."""
    return st.finished or st.state == "deleted"


class EventParser:
    """Server-Sent Events, fed line by line (without the line end): returns the data of each
    complete ``status`` event as a :class:`RenderStatus`."""

    def __init__(self) -> None:
        self._event = "message"
        self._data: List[str] = []

    def feed(self, line: str) -> Optional[RenderStatus]:
        if line == "":
            event, data = self._event, "\n".join(self._data)
            self._event, self._data = "message", []
            if event == "status" and data:
                return RenderStatus.from_dict(json.loads(data))
            return None
        if line.startswith(":"):
            return None  # a keep-alive comment
        name, _, value = line.partition(":")
        value = value[1:] if value.startswith(" ") else value
        if name == "event":
            self._event = value
        elif name == "data":
            self._data.append(value)
        return None
