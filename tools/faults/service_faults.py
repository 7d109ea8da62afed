"""The job service killed mid-batch: `reelsmith serve` gets a batch of tiny renders (some with
an Idempotency-Key, resubmitted after each restart), is killed with SIGKILL at random moments
and started again on the same storage root; at the end every render must be `done` or
`failed` exactly once, its files complete, nothing left behind."""

import json
import os
import random
import signal
import sqlite3
import subprocess
import threading
import time
import urllib.error
import urllib.request

from cli_faults import Fault
from common import TEMPLATES, expected_frames

FINAL = ("done", "failed")


class Server:
    def __init__(self, camp, media, log):
        self.camp = camp
        self.media = media
        self.log = log
        self.proc = None
        self.base = None

    def start(self):
        cmd = [self.camp.binary, "serve", "--addr", "127.0.0.1:0", "--media", self.media,
               "--workers", "2", "--queue", "500", "--retention", "0",
               "--asset-root", self.camp.inputs]
        self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                     stderr=self.log, start_new_session=True)
        line = read_line(self.proc.stdout, 30)
        if "listening on " not in line:
            self.proc.kill()
            self.proc.wait()
            raise RuntimeError("serve did not start: %r" % line)
        self.base = line.split("listening on ")[1].split()[0].rstrip("/")
        return self

    def kill(self):
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()
        self.proc.stdout.close()

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.proc.stdout.close()

    def http(self, method, path, body=None, headers=None):
        """(status, json, headers), or (None, error text, {}) when the server did not answer."""
        data = json.dumps(body).encode() if body is not None else None
        h = {"Content-Type": "application/json"} if data is not None else {}
        h.update(headers or {})
        req = urllib.request.Request(self.base + path, data=data, method=method, headers=h)
        try:
            with urllib.request.urlopen(req, timeout=15) as r:
                return r.status, json.loads(r.read() or b"null"), dict(r.headers)
        except urllib.error.HTTPError as e:
            raw = e.read()
            try:
                return e.code, json.loads(raw or b"null"), dict(e.headers)
            except ValueError:
                return e.code, raw.decode(errors="replace"), dict(e.headers)
        except (urllib.error.URLError, ConnectionError, OSError, ValueError) as e:
            return None, str(e), {}


def read_line(stream, timeout):
    box = []
    t = threading.Thread(target=lambda: box.append(stream.readline().decode(errors="replace")),
                         daemon=True)
    t.start()
    t.join(timeout)
    return box[0] if box else ""


class Batch:
    """What the client knows: each submission, the ids the service answered, per key."""

    def __init__(self):
        self.lock = threading.Lock()
        self.ids = {}  # id -> submission index
        self.key_ids = {}  # key -> set of ids answered
        self.uncertain = 0  # keyless POSTs that got no answer (the render may or may not exist)
        self.replays = 0
        self.problems = []


def service_session(camp, session, rng, kills, indices):
    """One batch with `kills` SIGKILLs; returns one Fault per kill."""
    media = os.path.join(camp.work, "service-%02d" % session)
    os.makedirs(media, exist_ok=True)
    log = open(os.path.join(camp.work, "service-%02d.log" % session), "ab")
    # Renders come in waves, one before each kill (and one after the last restart), so that
    # every kill finds renders queued, running and being submitted.
    n = 3 * (kills + 1) + rng.randint(0, 2)
    subs = []
    for i in range(n):
        template = rng.choice(TEMPLATES)
        spec = camp.spec(template, "s%d-%d-%d" % (session, i, rng.randrange(10 ** 6)), None,
                         rng)
        key = "fault-%d-%d" % (session, i) if rng.random() < 0.5 else None
        subs.append({"spec": spec, "key": key, "frames": expected_frames(spec),
                     "template": template})
    waves = [subs[w::kills + 1] for w in range(kills + 1)]
    faults = [Fault("kill -9 service", idx, "session %d" % session) for idx in indices]
    batch = Batch()
    srv = Server(camp, media, log).start()
    current = {"srv": srv}
    stop = threading.Event()

    def submit_wave(wave, gaps):
        for s in wave:
            i = subs.index(s)
            time.sleep(gaps.uniform(0, 0.1))
            while not stop.is_set():
                status, body, _ = submit(current["srv"], s)
                if status is not None:
                    note(batch, i, s, status, body)
                    break
                if s["key"] is None and "refused" not in str(body):
                    # No answer and no key, but the request reached the server:
                    # resubmitting could make a second render by design. Leave it; it may or
                    # may not exist. (A refused connection made nothing: retried.)
                    with batch.lock:
                        batch.uncertain += 1
                    break
                time.sleep(0.2)  # the server is down: retry when it is back

    submitters = []
    for k, fault in enumerate(faults):
        gaps = random.Random(rng.random())  # the thread's own draws
        t = threading.Thread(target=submit_wave, args=(waves[k], gaps), daemon=True)
        t.start()
        submitters.append(t)
        delay = rng.uniform(0.05, 1.0)
        time.sleep(delay)
        srv.kill()
        running = None
        try:
            running = count_states(media)
        except sqlite3.Error:
            pass
        fault.variant = "session %d kill %d/%d after %.2f s%s" % (
            session, k + 1, len(faults), delay, " " + running if running else "")
        time.sleep(rng.uniform(0, 0.3))
        srv = Server(camp, media, log).start()
        current["srv"] = srv
        # Resubmit some keyed renders already answered: the service must give the same id.
        for i, s in enumerate(subs):
            if s["key"] and s["key"] in batch.key_ids and rng.random() < 0.5:
                status, body, _ = submit(srv, s)
                if status is not None:
                    note(batch, i, s, status, body)
    submit_wave(waves[-1], random.Random(rng.random()))
    for t in submitters:
        t.join(timeout=60)
    stop.set()
    # Every keyed render once more after the last restart.
    for i, s in enumerate(subs):
        if s["key"]:
            status, body, _ = submit(srv, s)
            if status is not None:
                note(batch, i, s, status, body)
    deadline = time.monotonic() + 60 + 5 * n
    states = {}
    while time.monotonic() < deadline:
        states = {rid: get_state(srv, rid) for rid in batch.ids}
        if all(st in FINAL for st in states.values()):
            break
        time.sleep(0.3)
    srv.stop()
    log.close()
    check_session(camp, media, subs, batch, states, faults)
    return faults


def submit(srv, s):
    headers = {"Idempotency-Key": s["key"]} if s["key"] else {}
    return srv.http("POST", "/v1/renders", s["spec"], headers)


def note(batch, i, s, status, body):
    with batch.lock:
        if status in (200, 201, 202) and isinstance(body, dict) and "id" in body:
            rid = body["id"]
            batch.ids.setdefault(rid, i)
            if s["key"]:
                batch.key_ids.setdefault(s["key"], set()).add(rid)
        else:
            batch.problems.append("submission %d answered %s: %s" % (i, status,
                                                                     str(body)[:200]))


def get_state(srv, rid):
    status, body, _ = srv.http("GET", "/v1/renders/" + rid)
    if status == 200 and isinstance(body, dict):
        return body.get("state")
    return "missing (%s)" % status


def count_states(media):
    db = sqlite3.connect("file:%s?mode=ro" % os.path.join(media, "reelsmith.db"), uri=True,
                         timeout=5)
    try:
        rows = db.execute("SELECT state, COUNT(*) FROM renders GROUP BY state").fetchall()
    finally:
        db.close()
    return "(" + ", ".join("%s %d" % r for r in sorted(rows)) + ")"


def check_session(camp, media, subs, batch, states, faults):
    """Lost, duplicated, partial and leaked: charged to the session's last kill (the batch as
    a whole is what the invariants speak of)."""
    f = faults[-1]
    for p in batch.problems:
        f.violate("lost", p)
    for rid, st in sorted(states.items()):
        if st not in FINAL:
            f.violate("lost", "render %s never reached done/failed: %s" % (rid, st))
    for key, ids in sorted(batch.key_ids.items()):
        if len(ids) > 1:
            f.violate("duplicated", "Idempotency-Key %s answered with %s" % (key, sorted(ids)))
    db = sqlite3.connect(os.path.join(media, "reelsmith.db"))
    try:
        rows = db.execute("SELECT id, state, idempotency_key, attempts, error FROM renders"
                          ).fetchall()
    finally:
        db.close()
    by_id = {r[0]: r for r in rows}
    keys = {}
    for rid, state, key, attempts, error in rows:
        if key:
            keys.setdefault(key, []).append(rid)
        if state not in FINAL:
            f.violate("lost", "record %s is %s after the last restart" % (rid, state))
        if state == "failed":
            f.notes.append("render %s failed after %s attempts: %s" % (rid, attempts,
                                                                      (error or "")[:160]))
    for key, ids in keys.items():
        if len(ids) > 1:
            f.violate("duplicated", "records %s share Idempotency-Key %s" % (ids, key))
    unknown = [rid for rid in by_id if rid not in batch.ids]
    if len(unknown) > batch.uncertain:
        f.violate("duplicated", "%d records no answer named (%d unanswered POSTs): %s" % (
            len(unknown), batch.uncertain, unknown))
    for rid in batch.ids:
        if rid not in by_id:
            f.violate("lost", "render %s was answered but has no record" % rid)
    videos = os.path.join(media, "videos")
    names = sorted(os.listdir(videos)) if os.path.isdir(videos) else []
    for name in names:
        stem, _, ext = name.partition(".")
        rec = by_id.get(stem)
        if ext not in ("mp4", "jpg", "vtt") or rec is None:
            if not (name.endswith(".partial") or name.endswith(".tmp")):
                f.violate("partial output", "videos/%s belongs to no render" % name)
        elif rec[1] != "done":
            f.violate("partial output", "videos/%s of a render that is %s" % (name, rec[1]))
    for rid, (_, state, *_rest) in sorted(by_id.items()):
        if state != "done":
            continue
        mp4 = os.path.join(videos, rid + ".mp4")
        if not os.path.isfile(mp4):
            f.violate("bad output", "render %s is done but videos/%s.mp4 is missing" % (rid,
                                                                                         rid))
            continue
        frames = subs[batch.ids[rid]]["frames"] if rid in batch.ids else None
        for p in camp.check_output(mp4, frames):
            f.violate("bad output", "videos/%s.mp4: %s" % (rid, p))
        if not os.path.isfile(os.path.join(videos, rid + ".jpg")):
            f.violate("bad output", "render %s is done but has no poster" % rid)
    for p in camp.leftovers(media):
        f.violate("leaked temp", p)
    for b in camp.bad_cache_entries(media):
        f.violate("bad cache", b)
    for fault in faults:
        fault.outcome = "killed"
        fault.rc = None
    done = sum(1 for r in rows if r[1] == "done")
    attempts = sorted(r[3] for r in rows)
    f.notes.append("session: %d renders (%d done), attempts %s, %d keyed replays checked" % (
        len(rows), done, attempts, sum(len(v) for v in batch.key_ids.values())))
