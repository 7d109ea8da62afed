#!/usr/bin/env python3
"""Side-by-side speed and quality run: reelsmith vs the ffmpeg CLI filtergraph peer vs the
encode-only floor, at 1080p and 720p, on the training module. Prints one table per height.

    python3 benches/peers/run.py [--height 1080|720|both] [--runs N] [--keep DIR] [--json] [--no-cli]

Ways, each timed (wall seconds; medians when --runs > 1):
- reelsmith: `reelsmith render SPEC` (release build), its report gives CPU and peak RSS.
- ffmpeg CLI: the same module as one filtergraph (benches/peers/ffmpeg_module.py).
- floor: only encoding finished frames with libx264 veryfast CRF 23: a lossless reelsmith
  render of the module is decoded to raw yuv420p on disk first (not timed), then
  `ffmpeg -f rawvideo -i RAW -c:v libx264 -preset veryfast -crf 23` is timed. Its output is also
  "plain x264 at the same CRF" for the quality check.
Quality: SSIM (ffmpeg's ssim filter, All) of reelsmith's output and of the floor's output
against the lossless render; video stream bytes of both. Checks: frame count (ffprobe
-count_frames) and a clean strict decode of reelsmith's output.
"""
import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ffmpeg_module  # noqa: E402

BIN = os.path.join(ROOT, "target/release/reelsmith")
SPEC = os.path.join(ROOT, "examples/training-module.json")
PX_KEYS = {"size", "width", "height", "x", "y", "distance", "padding", "radius", "border_width",
           "max_width", "max_height", "min_size", "outline_width", "shadow_blur", "shadow_x",
           "shadow_y", "spacing_px", "indent"}


def scaled_spec(path, height, out_dir):
    """The spec at another height: every pixel number scaled (percentages stay)."""
    spec = json.load(open(path))
    k = height / spec["output"]["height"]

    def walk(v, key=None):
        if isinstance(v, dict):
            return {kk: walk(vv, kk) for kk, vv in v.items()}
        if isinstance(v, list):
            return [walk(x, key) for x in v]
        if key in PX_KEYS and isinstance(v, (int, float)) and not isinstance(v, bool):
            return round(v * k, 2)
        return v

    spec = walk(spec)
    spec["output"]["width"] = int(round(1920 * height / 1080 / 2)) * 2
    spec["output"]["height"] = height
    base = os.path.dirname(os.path.abspath(path))
    # Keep relative asset paths valid: write next to the original.
    out = os.path.join(base, f".peers-{height}p.json")
    json.dump(spec, open(out, "w"))
    return out


def timed(cmd, env=None):
    t = time.time()
    r = subprocess.run(["/usr/bin/time", "-f", "%M %U %S", *cmd], capture_output=True, text=True, env=env)
    wall = time.time() - t
    if r.returncode != 0:
        sys.exit(f"failed: {' '.join(cmd[:6])}...\n{r.stderr[-3000:]}")
    m = re.findall(r"^(\d+) ([\d.]+) ([\d.]+)$", r.stderr, re.M)
    rss_kb, user, sys_ = (float(x) for x in m[-1]) if m else (0, 0, 0)
    return wall, user + sys_, rss_kb * 1024, r.stdout


def video_bytes(path):
    out = subprocess.run(["ffprobe", "-v", "error", "-select_streams", "v", "-show_entries", "packet=size",
                          "-of", "csv=p=0", path], capture_output=True, text=True).stdout
    return sum(int(x) for x in out.split())


def ssim(a, ref):
    r = subprocess.run(["ffmpeg", "-i", a, "-i", ref, "-lavfi", "[0:v][1:v]ssim", "-f", "null", "-"],
                       capture_output=True, text=True)
    m = re.search(r"All:([\d.]+)", r.stderr)
    return float(m.group(1)) if m else float("nan")


def frame_count(path):
    out = subprocess.run(["ffprobe", "-v", "error", "-count_frames", "-select_streams", "v", "-show_entries",
                          "stream=nb_read_frames", "-of", "csv=p=0", path], capture_output=True, text=True).stdout
    return int(out.strip() or 0)


def decode_errors(path):
    r = subprocess.run(["ffmpeg", "-v", "error", "-err_detect", "+crccheck+bitstream+buffer+explode", "-i", path,
                        "-f", "null", "-"], capture_output=True, text=True)
    return r.stderr.strip()


def run_height(spec, height, runs, work, cli=True):
    rows = {}
    out = os.path.join(work, f"reelsmith-{height}.mp4")
    rep = os.path.join(work, f"reelsmith-{height}.json")
    peer = os.path.join(work, f"ffmpeg-{height}.mp4")
    ref = os.path.join(work, f"lossless-{height}.mp4")
    raw = os.path.join(work, f"raw-{height}.yuv")
    floor = os.path.join(work, f"floor-{height}.mp4")
    rs, pe, fl = [], [], []
    for i in range(runs):
        print(f"[{height}p] run {i + 1}/{runs}: reelsmith", file=sys.stderr)
        w, cpu, rss, _ = timed([BIN, "render", spec, "-q", "-o", out, "--report", rep, "--no-audio-cache",
                               "--no-scene-cache"])
        r = json.load(open(rep))
        rs.append((w, r.get("cpu_s") or cpu, r.get("peak_rss_bytes") or rss))
        if cli:
            print(f"[{height}p] run {i + 1}/{runs}: ffmpeg CLI filtergraph", file=sys.stderr)
            with tempfile.TemporaryDirectory(dir=work) as tmp:
                pe.append(timed(ffmpeg_module.command(spec, peer, tmp))[:3])
        if i == 0:
            print(f"[{height}p] lossless reference and raw frames (not timed)", file=sys.stderr)
            subprocess.run([BIN, "render", spec, "-q", "-o", ref, "--lossless", "--no-audio-cache"], check=True, capture_output=True)
            subprocess.run(["ffmpeg", "-v", "error", "-y", "-i", ref, "-f", "rawvideo", "-pix_fmt", "yuv420p", raw],
                           check=True)
        print(f"[{height}p] run {i + 1}/{runs}: floor (libx264 on raw frames)", file=sys.stderr)
        w_ = r["width"]
        fl.append(timed(["ffmpeg", "-v", "error", "-y", "-f", "rawvideo", "-pix_fmt", "yuv420p", "-s",
                         f"{w_}x{height}", "-r", "30", "-i", raw, "-c:v", "libx264", "-preset", "veryfast",
                         "-crf", "23", "-an", floor])[:3])
    os.remove(raw)
    med = lambda xs, k: statistics.median(x[k] for x in xs)  # noqa: E731
    res = {
        "height": height, "frames": r["frames"], "encoded_frames": r.get("encoded_frames"),
        "patched_frames": r.get("patched_frames", 0),
        "reelsmith": {"wall_s": med(rs, 0), "cpu_s": med(rs, 1), "peak_rss": med(rs, 2),
                      "video_bytes": video_bytes(out), "file_bytes": os.path.getsize(out), "ssim": ssim(out, ref)},
        "ffmpeg_cli": {"wall_s": med(pe, 0), "cpu_s": med(pe, 1), "peak_rss": med(pe, 2),
                       "file_bytes": os.path.getsize(peer)} if cli else None,
        "floor": {"wall_s": med(fl, 0), "cpu_s": med(fl, 1), "peak_rss": med(fl, 2),
                  "video_bytes": video_bytes(floor), "ssim": ssim(floor, ref)},
        "frame_count": frame_count(out), "decode_errors": decode_errors(out), "runs": runs,
    }
    return res


def table(res):
    r, p, f = res["reelsmith"], res["ffmpeg_cli"], res["floor"]
    h = res["height"]
    lines = [f"### {h}p: {res['frames']} frames, {res['runs']} run(s), medians", "",
             "| way | wall s | reelsmith / way | CPU s | peak RSS MB | video MB | SSIM vs lossless |",
             "|---|---|---|---|---|---|---|"]
    lines.append(f"| reelsmith | {r['wall_s']:.1f} | 1.00 | {r['cpu_s']:.1f} | {r['peak_rss'] / 1e6:.0f} | "
                 f"{r['video_bytes'] / 1e6:.2f} | {r['ssim']:.5f} |")
    if p:
        lines.append(f"| ffmpeg CLI filtergraph | {p['wall_s']:.1f} | {r['wall_s'] / p['wall_s']:.2f} | "
                     f"{p['cpu_s']:.1f} | {p['peak_rss'] / 1e6:.0f} | ({p['file_bytes'] / 1e6:.2f} file) | – |")
    lines.append(f"| encode-only floor (plain x264) | {f['wall_s']:.1f} | {r['wall_s'] / f['wall_s']:.2f} | "
                 f"{f['cpu_s']:.1f} | {f['peak_rss'] / 1e6:.0f} | {f['video_bytes'] / 1e6:.2f} | {f['ssim']:.5f} |")
    target = 45 if h >= 1080 else 15
    size = r["video_bytes"] / f["video_bytes"] - 1
    checks = [
        (f"reelsmith ≤ {target} s", r["wall_s"] <= target),
        ("≤ 0.36× ffmpeg CLI", r["wall_s"] / p["wall_s"] <= 0.36) if p else None,
        ("≤ 0.6× floor", r["wall_s"] / f["wall_s"] <= 0.6),
        ("SSIM ≥ 0.98", r["ssim"] >= 0.98),
        (f"video size within 10% of plain x264 ({size:+.1%})", abs(size) <= 0.10),
        ("peak RSS ≤ 600 MB", r["peak_rss"] <= 600e6 or h < 1080),
        (f"frame count {res['frame_count']} = {res['frames']}", res["frame_count"] == res["frames"]),
        ("strict decode clean", res["decode_errors"] == ""),
    ]
    lines += ["", " · ".join(f"{name}: {'pass' if ok else 'FAIL'}" for name, ok in filter(None, checks)),
              f"(x264 encoded {res['encoded_frames']} of {res['frames']} frames; {res['patched_frames']} are "
              "patches over the last reference (a progress bar's step), the rest exact skip copies)", ""]
    return "\n".join(lines)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--height", default="both", choices=["1080", "720", "both"])
    ap.add_argument("--runs", type=int, default=1)
    ap.add_argument("--keep", help="keep outputs and the JSON results in this folder")
    ap.add_argument("--json", action="store_true", help="print the results as JSON too")
    ap.add_argument("--no-cli", action="store_true",
                    help="leave out the ffmpeg CLI peer (its runs are 3x as long): reelsmith vs the floor only")
    a = ap.parse_args()
    if not os.path.exists(BIN):
        sys.exit("build first: cargo build --release")
    for tool in ("ffmpeg", "ffprobe", "/usr/bin/time"):
        if not shutil.which(tool):
            sys.exit(f"{tool} is needed to run the peers: apt-get install ffmpeg time")
    work = a.keep or tempfile.mkdtemp(prefix="reelsmith-peers-")
    os.makedirs(work, exist_ok=True)
    heights = [1080, 720] if a.height == "both" else [int(a.height)]
    results, made = [], []
    try:
        for h in heights:
            spec = SPEC if h == 1080 else scaled_spec(SPEC, h, work)
            if spec != SPEC:
                made.append(spec)
            results.append(run_height(spec, h, a.runs, work, cli=not a.no_cli))
            print(table(results[-1]), flush=True)
    finally:
        for m in made:
            os.remove(m)
        for f in os.listdir(work):
            if f.endswith(".yuv"):
                os.remove(os.path.join(work, f))
        if not a.keep:
            shutil.rmtree(work, ignore_errors=True)
    if a.keep:
        json.dump(results, open(os.path.join(work, "results.json"), "w"), indent=2)
    if a.json:
        print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
