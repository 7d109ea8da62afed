"""``reelsmith.AsyncClient``: :class:`reelsmith.Client`'s asyncio twin, over asyncio streams
(HTTP/1.1, one connection per request; no dependency). Same methods, same errors, awaited."""

from __future__ import annotations

import asyncio
import json
import os
import ssl
import urllib.parse
from pathlib import Path
from typing import Any, AsyncIterator, Dict, Mapping, Optional, Tuple, Union

from . import _protocol as proto
from ._protocol import Page, RenderStatus
from .client import WaitProgress, asset_bytes, atomic_file
from .errors import ServiceError

__all__ = ["AsyncClient"]


class _Response:
    """A response whose body is read as it arrives (``Content-Length``, chunked, or to the
    end of the connection)."""

    def __init__(
        self, status: int, headers: Dict[str, str], reader: asyncio.StreamReader, writer: Any
    ) -> None:
        self.status = status
        self.headers = headers
        self._reader = reader
        self._writer = writer

    async def chunks(self) -> AsyncIterator[bytes]:
        r = self._reader
        if self.headers.get("transfer-encoding", "").lower() == "chunked":
            while True:
                size = int((await r.readline()).split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    return
                yield await r.readexactly(size)
                await r.readexactly(2)  # the CRLF after each chunk
        elif "content-length" in self.headers:
            left = int(self.headers["content-length"])
            while left > 0:
                data = await r.read(min(left, 1 << 20))
                if not data:
                    raise ServiceError("connection closed mid-response", kind="unreachable")
                left -= len(data)
                yield data
        else:
            while True:
                data = await r.read(1 << 20)
                if not data:
                    return
                yield data

    async def read(self) -> bytes:
        return b"".join([c async for c in self.chunks()])

    async def lines(self) -> AsyncIterator[str]:
        buf = b""
        async for chunk in self.chunks():
            buf += chunk
            *done, buf = buf.split(b"\n")
            for line in done:
                yield line.decode("utf-8").rstrip("\r")
        if buf:
            yield buf.decode("utf-8").rstrip("\r")

    def close(self) -> None:
        self._writer.close()


class AsyncClient:
    """An asyncio client of ``reelsmith serve``; see :class:`reelsmith.Client`."""

    def __init__(self, url: str, token: Optional[str] = None, *, timeout: float = 60.0) -> None:
        self.url = url.rstrip("/")
        self.token = token
        self.timeout = timeout
        parts = urllib.parse.urlsplit(self.url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"not an http(s) URL: {url}")
        self._host = parts.hostname
        self._tls = parts.scheme == "https"
        self._port = parts.port or (443 if self._tls else 80)
        self._base = parts.path
        self._host_header = parts.netloc.rpartition("@")[2]

    async def _open(self, request: proto.Request) -> _Response:
        try:
            reader, writer = await asyncio.wait_for(
                asyncio.open_connection(
                    self._host, self._port, ssl=ssl.create_default_context() if self._tls else None
                ),
                self.timeout,
            )
        except (OSError, asyncio.TimeoutError) as e:
            raise ServiceError(f"cannot reach {self.url}: {e}", kind="unreachable") from None
        body = request.body or b""
        head = [
            f"{request.method} {self._base}/v1{request.path} HTTP/1.1",
            f"Host: {self._host_header}",
            "Connection: close",
            f"Content-Length: {len(body)}",
        ]
        head += [f"{k}: {v}" for k, v in proto.headers(self.token, request).items()]
        writer.write(("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + body)
        await writer.drain()
        status_line = await asyncio.wait_for(reader.readline(), self.timeout)
        try:
            status = int(status_line.split()[1])
        except (IndexError, ValueError):
            writer.close()
            raise ServiceError(f"not an HTTP answer: {status_line[:80]!r}", kind="http") from None
        headers: Dict[str, str] = {}
        while True:
            line = (await reader.readline()).decode("latin-1").rstrip("\r\n")
            if not line:
                break
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        resp = _Response(status, headers, reader, writer)
        if status >= 400:
            try:
                raise proto.error(status, await resp.read())
            finally:
                resp.close()
        return resp

    async def _call(self, request: proto.Request) -> Tuple[bytes, Mapping[str, str]]:
        resp = await self._open(request)
        try:
            return await asyncio.wait_for(resp.read(), self.timeout), resp.headers
        finally:
            resp.close()

    async def submit(
        self,
        spec: Union[Mapping[str, Any], str],
        idempotency_key: Optional[str] = None,
        webhook: Optional[str] = None,
    ) -> RenderStatus:
        """See :meth:`reelsmith.Client.submit`."""
        return proto.status(*await self._call(proto.submit(spec, idempotency_key, webhook)))

    async def get(self, render_id: str) -> RenderStatus:
        """See :meth:`reelsmith.Client.get`."""
        return proto.status(*await self._call(proto.get(render_id)))

    async def wait(self, render_id: str, progress: Optional[WaitProgress] = None) -> RenderStatus:
        """See :meth:`reelsmith.Client.wait` (``progress`` is called on the event loop)."""
        while True:
            last = await self._follow(render_id, progress)
            if last is None or not proto.ended(last):
                last = await self.get(render_id)
            if proto.ended(last):
                return last.raise_for_state()

    async def _follow(
        self, render_id: str, progress: Optional[WaitProgress]
    ) -> Optional[RenderStatus]:
        parser = proto.EventParser()
        last = None
        resp = await self._open(proto.events(render_id))
        try:
            async for line in resp.lines():
                status = parser.feed(line)
                if status is None:
                    continue
                last = status
                if proto.declined(progress, status):
                    await self.cancel(render_id)
                if proto.ended(status):
                    break
        finally:
            resp.close()
        return last

    async def download(self, render_id: str, path: Union[str, "os.PathLike[str]"]) -> Path:
        """See :meth:`reelsmith.Client.download`."""
        resp = await self._open(proto.video(render_id))
        try:
            with atomic_file(path) as f:
                async for chunk in resp.chunks():
                    f.write(chunk)
        finally:
            resp.close()
        return Path(path)

    async def cancel(self, render_id: str) -> RenderStatus:
        """See :meth:`reelsmith.Client.cancel`."""
        return proto.status(*await self._call(proto.cancel(render_id)))

    async def delete(self, render_id: str) -> None:
        """See :meth:`reelsmith.Client.delete`."""
        await self._call(proto.delete(render_id))

    async def list(self, state: Optional[str] = None, limit: int = 20, offset: int = 0) -> Page:
        """See :meth:`reelsmith.Client.list`."""
        body, _ = await self._call(proto.list_renders(state, limit, offset))
        return proto.page(body)

    async def upload_asset(
        self,
        data: Union[bytes, str, "os.PathLike[str]"],
        name: Optional[str] = None,
        content_type: Optional[str] = None,
    ) -> str:
        """See :meth:`reelsmith.Client.upload_asset`."""
        blob, name = asset_bytes(data, name)
        body, _ = await self._call(proto.upload(blob, name, content_type))
        return proto.uploaded(body)

    async def health(self) -> Dict[str, Any]:
        """``GET /v1/health``."""
        body, _ = await self._call(proto.Request("GET", "/health"))
        return dict(json.loads(body))
