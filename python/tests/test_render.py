"""In-process rendering: the MP4 read back through reelsmith.probe, the report, the forms a
spec can take, and the failures as exceptions."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import reelsmith
from conftest import REPO, small_spec, temp_leftovers


def test_version_is_the_crates() -> None:
    cargo = (REPO / "python" / "Cargo.toml").read_text()
    assert f'version = "{reelsmith.__version__}"' in cargo
    root = (REPO / "Cargo.toml").read_text()
    assert f'version = "{reelsmith.__version__}"' in root


def test_render_a_dict_and_probe_the_mp4(tmp_path: Path, media_root: Path) -> None:
    out = tmp_path / "short.mp4"
    seen = []
    report = reelsmith.render(small_spec(seconds=2.0), out, media_root=media_root,
                              progress=lambda done, total: seen.append((done, total)))
    assert isinstance(report, reelsmith.Report)
    assert report.output == str(out) and out.is_file()
    assert (report.width, report.height, report.frames) == (320, 180, 60)
    assert report.output_bytes == out.stat().st_size
    stages = [s.stage for s in report.stages]
    assert stages[0] == "validate" and stages[-1] == "finalize" and "encode" in stages
    assert all(isinstance(s, reelsmith.Stage) and s.wall_s >= 0 for s in report.stages)
    assert set(report.timings) == set(stages)
    assert isinstance(report.audio, reelsmith.Loudness)
    assert report.to_dict()["frames"] == 60 and "audio" in report.to_dict()
    json.dumps(report.to_dict())
    assert seen and seen[-1] == (60, 60)
    assert temp_leftovers(media_root) == []

    info = reelsmith.probe(out)
    assert isinstance(info, reelsmith.ProbeInfo) and info.faststart is True
    video, audio = info.stream("video"), info.stream("audio")
    assert video is not None and audio is not None
    assert (video.codec, video.profile, video.pix_fmt) == ("h264", "High", "yuv420p")
    assert (video.width, video.height, video.packets) == (320, 180, 60)
    assert (audio.codec, audio.sample_rate, audio.channels) == ("aac", 48000, 2)
    assert abs(info.duration_s - 2.0) < 0.05


def test_json_text_and_file_and_quality(tmp_path: Path, media_root: Path) -> None:
    spec = small_spec(seconds=0.5)
    a = reelsmith.render(json.dumps(spec), tmp_path / "a.mp4", media_root=media_root,
                         quality="standard")
    assert a.quality == "standard" and a.frames == 15
    path = tmp_path / "spec.json"
    path.write_text(json.dumps(spec))
    # A file: its default output is <media root>/videos/<file name>.mp4, as the CLI's.
    b = reelsmith.render(path, media_root=media_root)
    assert Path(b.output) == media_root / "videos" / "spec.mp4" and Path(b.output).is_file()
    assert b.quality == "fast"
    with pytest.raises(ValueError):
        reelsmith.render(spec, tmp_path / "c.mp4", media_root=media_root, quality="ultra")


def test_a_missing_asset_is_an_asset_or_spec_error(tmp_path: Path, media_root: Path) -> None:
    spec = small_spec(seconds=0.5)
    spec["scenes"][0]["layers"].append({"type": "image", "src": "nowhere/none.png"})
    out = tmp_path / "x.mp4"
    with pytest.raises(reelsmith.Error) as e:
        reelsmith.render(spec, out, media_root=media_root)
    assert isinstance(e.value, (reelsmith.SpecError, reelsmith.AssetError))
    assert e.value.path == "scenes[0].layers[1].src"
    assert e.value.exit_code in (3, 4)
    assert not out.exists() and temp_leftovers(media_root) == []


def test_an_unreadable_file_is_a_spec_error(tmp_path: Path) -> None:
    with pytest.raises(reelsmith.SpecError) as e:
        reelsmith.render(tmp_path / "missing.json")
    assert e.value.issues[0].path == "$" and "cannot read" in e.value.message


def test_probe_of_a_file_that_is_not_media(tmp_path: Path) -> None:
    bad = tmp_path / "bad.mp4"
    bad.write_bytes(b"not a video")
    with pytest.raises(reelsmith.EncodeError) as e:
        reelsmith.probe(bad)
    assert e.value.kind == "io" and str(bad) in str(e.value)


def test_schema_is_the_clis(binary: Path) -> None:
    import subprocess

    cli = json.loads(subprocess.run([binary, "schema"], check=True, capture_output=True).stdout)
    assert reelsmith.schema() == cli
