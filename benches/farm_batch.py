#!/usr/bin/env python3
"""Many renders on the farm vs the embedded service, on this machine: N variants of a spec
(each with its own title text, so no unit is shared) submitted at once to `reelsmith serve`,
first embedded (--workers 2: two renders at a time in the service's process), then with
--broker and two `reelsmith worker` processes pinned to a core each. Prints the time from the
first submission to the last render done, and renders per minute.

    cargo build --release && python3 benches/farm_batch.py [N] [SPEC]

Needs redis-server.
"""
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

BIN = os.path.abspath("target/release/reelsmith")


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def call(method, url, body=None):
    req = urllib.request.Request(url, method=method, data=body,
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=60) as r:
        return json.loads(r.read())


def serve(media, extra):
    p = subprocess.Popen([BIN, "serve", "--addr", "127.0.0.1:0", "--media", media] + extra,
                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    line = p.stdout.readline()
    return p, line.split("http://")[1].split()[0]


def batch(base, specs):
    t = time.time()
    ids = [call("POST", f"http://{base}/v1/renders", json.dumps(s).encode())["id"] for s in specs]
    while True:
        states = [call("GET", f"http://{base}/v1/renders/{i}")["state"] for i in ids]
        if all(s in ("done", "failed", "canceled") for s in states):
            assert all(s == "done" for s in states), states
            return time.time() - t
        time.sleep(0.2)


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 20
    spec_path = sys.argv[2] if len(sys.argv) > 2 else "examples/hello.json"
    base_spec = json.load(open(spec_path))
    work = tempfile.mkdtemp(prefix="reelsmith-batch-")
    stock = os.path.abspath("media/stock")

    def specs(tag):
        out = []
        for i in range(n):
            s = json.loads(json.dumps(base_spec))
            s.get("output", {}).pop("path", None)
            # A different first text layer per render: no two renders share a unit.
            for scene in s["scenes"]:
                for layer in scene.get("layers", []):
                    if "text" in layer:
                        layer["text"] = f"{layer['text']} {tag}{i}"
                        break
                else:
                    continue
                break
            out.append(s)
        return out

    results = {}
    for mode in ("embedded", "farm"):
        media = os.path.join(work, mode)
        os.makedirs(media)
        os.symlink(stock, os.path.join(media, "stock"))
        procs = []
        extra = ["--workers", "2", "--max-per-client", "1000"]
        if mode == "farm":
            port = free_port()
            procs.append(subprocess.Popen(["redis-server", "--port", str(port), "--bind", "127.0.0.1",
                                           "--save", "", "--appendonly", "no"],
                                          stdout=subprocess.DEVNULL))
            time.sleep(0.5)
            broker = f"redis://127.0.0.1:{port}/0"
            store = os.path.join(work, "store")
            for c in (0, 1):
                procs.append(subprocess.Popen(["taskset", "-c", str(c), BIN, "worker", "--broker", broker,
                                               "--store", store, "--cache", os.path.join(work, f"w{c}"), "-q"]))
            extra += ["--broker", broker, "--store", store]
        p, base = serve(media, extra)
        try:
            results[mode] = batch(base, specs(mode))
        finally:
            p.terminate()
            p.wait()
            for q in procs:
                q.terminate()
                q.wait()
    shutil.rmtree(work, ignore_errors=True)
    for mode, s in results.items():
        print(f"{mode:9} {n} renders of {spec_path}: {s:.1f} s, {60 * n / s:.1f} renders/min")


if __name__ == "__main__":
    main()
