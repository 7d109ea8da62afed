"""reelsmith.Client and AsyncClient against a real `reelsmith serve` on a loopback port:
submit, follow over SSE, download, idempotent resubmission, cancel, delete, list, upload,
and the service's JSON errors as exceptions."""

from __future__ import annotations

import asyncio
import subprocess
from pathlib import Path
from typing import Iterator, Tuple

import pytest

import reelsmith
from conftest import MEDIA, reelsmith_binary, small_spec


def start_service(root: Path, *extra: str) -> Tuple[subprocess.Popen, str]:
    """`reelsmith serve` on a free loopback port with storage root `root`, and its URL."""
    proc = subprocess.Popen(
        [reelsmith_binary(), "serve", "--addr", "127.0.0.1:0", "--media", root, "--workers", "1",
         "--threads", "2", *extra],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()
    if "listening on http://" not in line:
        stop(proc)
        pytest.fail(f"reelsmith serve did not start: {line!r}")
    return proc, line.split("listening on ", 1)[1].split()[0]


def stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    proc, url = start_service(tmp_path_factory.mktemp("service"))
    try:
        yield url
    finally:
        stop(proc)


def test_submit_wait_download_replay_delete(service: str, tmp_path: Path) -> None:
    client = reelsmith.Client(service)
    spec = small_spec(seconds=1.0)
    first = client.submit(spec, idempotency_key="py-order-1")
    assert isinstance(first, reelsmith.RenderStatus)
    assert first.state in ("queued", "preparing", "rendering") and not first.replayed
    assert first.frames_total == 30

    again = client.submit(spec, idempotency_key="py-order-1")
    assert again.replayed and again.id == first.id

    with pytest.raises(reelsmith.ServiceError) as conflict:
        client.submit(small_spec(seconds=2.0), idempotency_key="py-order-1")
    assert conflict.value.status == 409 and conflict.value.kind == "conflict"

    seen = []
    done = client.wait(first.id, progress=lambda d, t: seen.append((d, t)))
    assert done.state == "done" and done.frames_done == 30
    assert isinstance(done.report, reelsmith.Report) and done.report.frames == 30
    assert all(t == 30 for _, t in seen)

    out = client.download(first.id, tmp_path / "from-service.mp4")
    info = reelsmith.probe(out)
    assert info.stream("video").packets == 30 and info.stream("audio") is not None
    assert not list(tmp_path.glob(".*.part"))

    page = client.list(state="done")
    assert first.id in [r.id for r in page.renders] and page.total >= 1

    client.delete(first.id)
    with pytest.raises(reelsmith.ServiceError) as gone:
        client.get(first.id)
    assert gone.value.status == 404 and gone.value.kind == "not_found"


def test_upload_then_cancel_from_progress(service: str) -> None:
    client = reelsmith.Client(service)
    src = client.upload_asset(MEDIA / "stock" / "images" / "hills-dawn.jpg")
    assert src.startswith("assets/uploads/") and src.endswith("hills-dawn.jpg")
    spec = small_spec(seconds=30.0, width=640, height=360, moving=True)
    spec["scenes"][0]["background"]["src"] = src
    r = client.submit(spec)
    with pytest.raises(reelsmith.Cancelled):
        # The first frames seen: give up (the client cancels the render on the service).
        client.wait(r.id, progress=lambda done, total: done == 0)
    st = client.get(r.id)
    assert st.state == "canceled"
    client.delete(r.id)


def test_cancel_and_refused_specs(service: str) -> None:
    client = reelsmith.Client(service)
    r = client.submit(small_spec(seconds=20.0, width=640, height=360))
    st = client.cancel(r.id)
    assert st.state == "canceled"
    with pytest.raises(reelsmith.Cancelled):
        client.wait(r.id)
    client.delete(r.id)

    # A path outside the service's roots is refused before anything else is looked at.
    bad = small_spec()
    bad["scenes"][0]["background"] = {"type": "image", "src": "/etc/passwd"}
    with pytest.raises(reelsmith.SpecError) as e:
        client.submit(bad)
    err = e.value
    assert err.status == 422 and err.kind == "invalid_spec"
    assert [i.path for i in err.issues] == ["scenes[0].background.src"]
    assert err.path == "scenes[0].background.src"


def test_a_failed_render_raises_its_error(service: str) -> None:
    client = reelsmith.Client(service)
    src = client.upload_asset(b"\x89PNG\r\n\x1a\n broken", name="broken.png")
    spec = small_spec(seconds=1.0)
    spec["scenes"][0]["layers"].append({"type": "image", "src": src})
    try:
        r = client.submit(spec)
    except reelsmith.Error as e:
        # Refused at submission (the picture is checked while planning): still its path.
        assert e.path == "scenes[0].layers[1].src"
        return
    with pytest.raises(reelsmith.AssetError) as failed:
        client.wait(r.id)
    assert failed.value.path == "scenes[0].layers[1].src" and failed.value.stage


def test_bearer_token(tmp_path: Path) -> None:
    proc, url = start_service(tmp_path / "media", "--token", "s3cret")
    try:
        with pytest.raises(reelsmith.ServiceError) as e:
            reelsmith.Client(url).list()
        assert e.value.status == 401 and e.value.kind == "unauthorized"
        assert reelsmith.Client(url, token="s3cret").list().total == 0
        page = asyncio.run(reelsmith.AsyncClient(url, token="s3cret").list())
        assert page.renders == []
    finally:
        stop(proc)


def test_unreachable() -> None:
    with pytest.raises(reelsmith.ServiceError) as e:
        reelsmith.Client("http://127.0.0.1:9").get("r_x")
    assert e.value.kind == "unreachable"


def test_async_client(service: str, tmp_path: Path) -> None:
    async def flow() -> None:
        client = reelsmith.AsyncClient(service)
        r = await client.submit(small_spec(seconds=1.0), idempotency_key="py-async-1")
        replay = await client.submit(small_spec(seconds=1.0), idempotency_key="py-async-1")
        assert replay.replayed and replay.id == r.id
        seen = []
        done = await client.wait(r.id, progress=lambda d, t: seen.append(d))
        assert done.state == "done" and done.report is not None
        out = await client.download(r.id, tmp_path / "async.mp4")
        assert reelsmith.probe(out).stream("video").packets == 30
        page = await client.list()
        assert r.id in [x.id for x in page.renders]
        path = await client.upload_asset(b"GIF89a", name="tiny.gif")
        assert path.startswith("assets/uploads/")
        bad = small_spec()
        bad["output"]["width"] = 321
        try:
            await client.submit(bad)
            raise AssertionError("accepted a bad spec")
        except reelsmith.SpecError as e:
            assert e.status == 422 and e.path == "output.width"
        await client.delete(r.id)
        try:
            await client.get(r.id)
            raise AssertionError("still there")
        except reelsmith.ServiceError as e:
            assert e.status == 404

    asyncio.run(flow())
