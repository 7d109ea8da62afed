#!/usr/bin/env python3
"""Measures the job service against the CLI on a batch of short renders.

  scripts/service-batch.py cli       # N renders one by one: `reelsmith render` per spec
  scripts/service-batch.py service   # N renders submitted at once to `reelsmith serve`
  scripts/service-batch.py restart   # the same, killing the server (SIGKILL; --signal TERM for
                                     # a graceful stop) mid-batch and starting it again on the
                                     # same storage root

The specs are N variants of examples/hello.json (5 s, 1280x720, stock logo and music bed; the
text differs per render). Prints the total wall time; `service` and `restart` then check that
every render ended `done` exactly once: N videos and N posters in videos/, no temp files,
attempts = 1 except for the renders the kill interrupted (2). Standard library only.
"""

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def specs(n):
    with open(os.path.join(ROOT, "examples", "hello.json")) as f:
        base = json.load(f)
    stock = os.path.join(ROOT, "media", "stock")
    out = []
    for i in range(n):
        s = json.loads(json.dumps(base))
        s["scenes"][0]["layers"][0]["src"] = os.path.join(stock, "images", "logo.png")
        s["audio"]["tracks"][0]["src"] = os.path.join(stock, "audio", "music-bed.wav")
        s["scenes"][0]["layers"][1]["text"] = f"Render {i + 1} of {n}"
        out.append(s)
    return out


def http(method, url, body=None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method,
                                 headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=60) as r:
            return r.status, json.loads(r.read() or b"null")
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"null")


def start_server(binary, media, workers):
    p = subprocess.Popen([binary, "serve", "--addr", "127.0.0.1:0", "--media", media,
                          "--workers", str(workers), "--queue", "100",
                          "--asset-root", os.path.join(ROOT, "media", "stock")],
                         stdout=subprocess.PIPE, text=True)
    line = p.stdout.readline()
    base = line.split("listening on ")[1].split()[0]
    return p, base


def run_cli(binary, n):
    work = tempfile.mkdtemp(prefix="reelsmith-batch-cli-")
    try:
        paths = []
        for i, s in enumerate(specs(n)):
            p = os.path.join(work, f"spec-{i:02}.json")
            with open(p, "w") as f:
                json.dump(s, f)
            paths.append(p)
        t0 = time.monotonic()
        for i, p in enumerate(paths):
            subprocess.run([binary, "render", p, "-q", "-o", os.path.join(work, f"out-{i:02}.mp4"),
                            "--media-root", os.path.join(work, "media")],
                           check=True, stdout=subprocess.DEVNULL)
        wall = time.monotonic() - t0
        print(f"cli: {n} renders one by one in {wall:.1f} s ({wall / n:.2f} s each)")
    finally:
        shutil.rmtree(work, ignore_errors=True)


def run_service(binary, n, workers, restart_after, sig=signal.SIGKILL):
    media = tempfile.mkdtemp(prefix="reelsmith-batch-service-")
    server, base = start_server(binary, media, workers)
    ids = [None] * n
    try:
        t0 = time.monotonic()

        def submit(i, s):
            code, body = http("POST", f"{base}/v1/renders", s)
            assert code == 202, (code, body)
            ids[i] = body["id"]

        threads = [threading.Thread(target=submit, args=(i, s)) for i, s in enumerate(specs(n))]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        accepted = time.monotonic() - t0
        print(f"service: {n} submissions answered 202 in {accepted:.2f} s, {workers} workers")
        restarted = False
        peak_running = 0
        while True:
            code, page = http("GET", f"{base}/v1/renders?limit=100")
            states = [r["state"] for r in page["renders"]]
            done = states.count("done")
            running = sum(s in ("preparing", "rendering", "encoding", "finalizing") for s in states)
            peak_running = max(peak_running, running)
            bad = [r for r in page["renders"] if r["state"] in ("failed", "canceled")]
            assert not bad, bad
            if done == n:
                break
            if restart_after is not None and not restarted and done >= restart_after and running:
                server.send_signal(sig)
                server.wait()
                killed_at = time.monotonic() - t0
                temp = os.listdir(os.path.join(media, "assets", "temp"))
                print(f"restart: stopped the server ({signal.Signals(sig).name}) at {killed_at:.1f} s with {done} done, "
                      f"{running} running, {n - done - running} queued; {len(temp)} temp folders left")
                server, base = start_server(binary, media, workers)
                restarted = True
            time.sleep(0.2)
        wall = time.monotonic() - t0
        print(f"service: {n} renders done in {wall:.1f} s ({wall / n:.2f} s each on average), "
              f"at most {peak_running} running at once")
        # Exactly once: one video and one poster per render, nothing else.
        files = sorted(os.listdir(os.path.join(media, "videos")))
        want = sorted([f"{i}.mp4" for i in ids] + [f"{i}.jpg" for i in ids])
        temp = os.listdir(os.path.join(media, "assets", "temp"))
        attempts = {}
        for i in ids:
            _, st = http("GET", f"{base}/v1/renders/{i}")
            attempts[st["attempts"]] = attempts.get(st["attempts"], 0) + 1
        _, page = http("GET", f"{base}/v1/renders?limit=100")
        print(f"check: {page['total']} records, {sum(f.endswith('.mp4') for f in files)} videos, "
              f"{sum(f.endswith('.jpg') for f in files)} posters, {len(temp)} temp entries; "
              f"attempts {dict(sorted(attempts.items()))}")
        ok = files == want and not temp and page["total"] == n
        print("check: " + ("ok, every render done exactly once" if ok else f"FAILED: {files}"))
        return ok
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait()
        shutil.rmtree(media, ignore_errors=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("mode", choices=["cli", "service", "restart"])
    ap.add_argument("-n", type=int, default=20)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--bin", default=os.path.join(ROOT, "target", "release", "reelsmith"))
    ap.add_argument("--restart-after", type=int, default=8,
                    help="kill when this many are done (restart mode)")
    ap.add_argument("--signal", choices=["KILL", "TERM"], default="KILL",
                    help="how to stop the server (restart mode): KILL as in a crash, TERM to "
                         "stop gracefully (running renders go back to the queue)")
    a = ap.parse_args()
    if a.mode == "cli":
        run_cli(a.bin, a.n)
        return 0
    ok = run_service(a.bin, a.n, a.workers, a.restart_after if a.mode == "restart" else None,
                     getattr(signal, "SIG" + a.signal))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
