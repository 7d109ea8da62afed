"""``reelsmith.Client``: the job service (``reelsmith serve``) from Python, over the standard
library's ``urllib`` (no dependency)."""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any, BinaryIO, Callable, Dict, Iterator, Mapping, Optional, Tuple, Union

from . import _protocol as proto
from ._protocol import Page, RenderStatus
from .errors import ServiceError

__all__ = ["Client", "RenderStatus", "Page"]

#: ``progress(done, total)`` while a render runs on the service; a false return (other than
#: ``None``) cancels it.
WaitProgress = Callable[[int, int], Optional[bool]]


class Client:
    """A client of ``reelsmith serve`` at ``url`` (e.g. ``http://127.0.0.1:8080``), with the
    service's bearer token when it requires one.

    Every method raises :class:`reelsmith.ServiceError` (or :class:`reelsmith.SpecError` for
    a refused spec) carrying the service's JSON error: ``status``, ``kind``, ``path``,
    ``message``, ``issues``."""

    def __init__(self, url: str, token: Optional[str] = None, *, timeout: float = 60.0) -> None:
        self.url = url.rstrip("/")
        self.token = token
        self.timeout = timeout

    def _open(self, request: proto.Request, timeout: Optional[float] = None) -> Any:
        req = urllib.request.Request(
            f"{self.url}/v1{request.path}",
            data=request.body,
            method=request.method,
            headers=proto.headers(self.token, request),
        )
        try:
            return urllib.request.urlopen(req, timeout=timeout or self.timeout)
        except urllib.error.HTTPError as e:
            with e:
                raise proto.error(e.code, e.read()) from None
        except urllib.error.URLError as e:
            raise ServiceError(
                f"cannot reach {self.url}: {e.reason}", kind="unreachable"
            ) from None

    def _call(self, request: proto.Request) -> Tuple[bytes, Mapping[str, str]]:
        with self._open(request) as resp:
            return resp.read(), dict(resp.headers)

    def submit(
        self,
        spec: Union[Mapping[str, Any], str],
        idempotency_key: Optional[str] = None,
        webhook: Optional[str] = None,
    ) -> RenderStatus:
        """Queues a render of ``spec`` (a dict or JSON text); answered at once. A retry with
        the same ``idempotency_key`` returns the first render (``replayed`` is then true).
        ``webhook``: an ``http://`` URL the final status is POSTed to."""
        return proto.status(*self._call(proto.submit(spec, idempotency_key, webhook)))

    def get(self, render_id: str) -> RenderStatus:
        """The render's state, progress, report or error."""
        return proto.status(*self._call(proto.get(render_id)))

    def wait(
        self,
        render_id: str,
        progress: Optional[WaitProgress] = None,
        *,
        timeout: Optional[float] = None,
    ) -> RenderStatus:
        """Follows the render's Server-Sent Events until it ends; calls ``progress(done,
        total)`` on each update (a false return cancels the render). Returns the final status
        when done; raises the render's error when it failed (``SpecError``, ``AssetError``,
        ``EncodeError`` with its ``stage`` and ``path``) or :class:`reelsmith.Cancelled`."""
        while True:
            last = self._follow(render_id, progress, timeout)
            if last is None or not proto.ended(last):
                # The stream ended early (a restart, a proxy): read the state and go on.
                last = self.get(render_id)
            if proto.ended(last):
                return last.raise_for_state()

    def _follow(
        self, render_id: str, progress: Optional[WaitProgress], timeout: Optional[float]
    ) -> Optional[RenderStatus]:
        parser = proto.EventParser()
        last = None
        with self._open(proto.events(render_id), timeout) as resp:
            for raw in resp:
                status = parser.feed(raw.decode("utf-8").rstrip("\r\n"))
                if status is None:
                    continue
                last = status
                if proto.declined(progress, status):
                    self.cancel(render_id)
                if proto.ended(status):
                    break
        return last

    def download(self, render_id: str, path: Union[str, "os.PathLike[str]"]) -> Path:
        """Writes the finished render's MP4 to ``path`` (whole or not at all)."""
        with self._open(proto.video(render_id)) as resp, atomic_file(path) as f:
            while True:
                chunk = resp.read(1 << 20)
                if not chunk:
                    break
                f.write(chunk)
        return Path(path)

    def cancel(self, render_id: str) -> RenderStatus:
        """Stops the render and keeps its record (state ``canceled``)."""
        return proto.status(*self._call(proto.cancel(render_id)))

    def delete(self, render_id: str) -> None:
        """Stops the render and removes its files and record."""
        self._call(proto.delete(render_id))

    def list(self, state: Optional[str] = None, limit: int = 20, offset: int = 0) -> Page:
        """One page of renders, newest first (``state``: only those in it)."""
        body, _ = self._call(proto.list_renders(state, limit, offset))
        return proto.page(body)

    def upload_asset(
        self,
        data: Union[bytes, str, "os.PathLike[str]"],
        name: Optional[str] = None,
        content_type: Optional[str] = None,
    ) -> str:
        """Uploads a picture, sound or font (its bytes, or a file) and returns the path a spec
        uses for it (``assets/uploads/...``)."""
        blob, name = asset_bytes(data, name)
        body, _ = self._call(proto.upload(blob, name, content_type))
        return proto.uploaded(body)

    def health(self) -> Dict[str, Any]:
        """``GET /v1/health``."""
        body, _ = self._call(proto.Request("GET", "/health"))
        return dict(json.loads(body))


@contextlib.contextmanager
def atomic_file(path: Union[str, "os.PathLike[str]"]) -> Iterator[BinaryIO]:
    """A file written beside ``path`` and renamed onto it when the block ends without an
    exception (removed otherwise): the file at ``path`` is whole or absent."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            yield f
        # mkstemp makes the file private; give it the mode an ordinary new file gets.
        umask = os.umask(0o022)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise


def asset_bytes(data: Union[bytes, str, "os.PathLike[str]"], name: Optional[str]) -> Tuple[bytes, str]:
    """The bytes to upload and their name."""
    if isinstance(data, (bytes, bytearray)):
        return bytes(data), name or "asset"
    p = Path(data)
    return p.read_bytes(), name or p.name
