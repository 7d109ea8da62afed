"""Cancelling an in-process render: from the progress callback (False, an exception) and with
Ctrl-C (KeyboardInterrupt, raised in the callback or by a real SIGINT). Every way leaves no
output and no temporary folder, and an existing output file is kept."""

from __future__ import annotations

import os
import signal
import threading
import time
from pathlib import Path

import pytest

import reelsmith
from conftest import small_spec, temp_leftovers

# 8 s of a drifting photo at 480x270: every frame composed and encoded (a few seconds).
SPEC = small_spec(seconds=8.0, width=480, height=270, moving=True)


def render(out: Path, media_root: Path, progress=None) -> reelsmith.Report:
    return reelsmith.render(SPEC, out, media_root=media_root, progress=progress,
                            scene_cache=False)


def test_false_halfway_cancels(tmp_path: Path, media_root: Path) -> None:
    out = tmp_path / "out.mp4"
    calls = []

    def halfway(done: int, total: int) -> bool:
        calls.append(done)
        return done < total // 2

    with pytest.raises(reelsmith.Cancelled) as e:
        render(out, media_root, halfway)
    assert e.value.kind == "canceled" and e.value.exit_code == 130
    assert e.value.__cause__ is None
    assert calls and max(calls) >= 120 and max(calls) < 240
    assert not out.exists()
    assert temp_leftovers(media_root) == []


def test_an_exception_in_the_callback_cancels(tmp_path: Path, media_root: Path) -> None:
    out = tmp_path / "out.mp4"
    out.write_bytes(b"an earlier render")

    def boom(done: int, total: int) -> None:
        if done > 0:
            raise RuntimeError("the caller gave up")

    with pytest.raises(reelsmith.Cancelled) as e:
        render(out, media_root, boom)
    assert isinstance(e.value.__cause__, RuntimeError)
    assert out.read_bytes() == b"an earlier render"
    assert temp_leftovers(media_root) == []


def test_keyboard_interrupt_in_the_callback(tmp_path: Path, media_root: Path) -> None:
    out = tmp_path / "out.mp4"

    def ctrl_c(done: int, total: int) -> None:
        if done > 0:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        render(out, media_root, ctrl_c)
    assert not out.exists() and temp_leftovers(media_root) == []


def test_sigint_while_rendering(tmp_path: Path, media_root: Path) -> None:
    """A real Ctrl-C: SIGINT from another thread once frames are being made, with no
    callback at all; Python's handler raises KeyboardInterrupt in the rendering thread."""
    out = tmp_path / "out.mp4"
    temp = media_root / "assets" / "temp"
    stop = threading.Event()

    def interrupt() -> None:
        # Once the render's temp folder exists it is under way (and far from done: it is
        # long, 60 s of moving pictures, so that even a release build is still at it).
        while not stop.is_set() and not any(temp.iterdir()):
            time.sleep(0.002)
        if not stop.is_set():
            os.kill(os.getpid(), signal.SIGINT)

    t = threading.Thread(target=interrupt)
    t.start()
    started = time.monotonic()
    try:
        with pytest.raises(KeyboardInterrupt):
            reelsmith.render(small_spec(seconds=60.0, width=640, height=360, moving=True), out,
                             media_root=media_root, scene_cache=False)
    finally:
        stop.set()
        t.join()
    assert time.monotonic() - started < 30
    assert not out.exists() and temp_leftovers(media_root) == []


def test_other_threads_run_while_rendering(tmp_path: Path, media_root: Path) -> None:
    """The GIL is released: a Python thread keeps counting during the render."""
    ticks = []
    stop = threading.Event()

    def count() -> None:
        while not stop.is_set():
            ticks.append(1)
            time.sleep(0.005)

    t = threading.Thread(target=count)
    t.start()
    try:
        render(tmp_path / "o.mp4", media_root)
    finally:
        stop.set()
        t.join()
    assert len(ticks) > 5
