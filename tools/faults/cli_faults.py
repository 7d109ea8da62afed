"""The faults injected into `reelsmith render`: kill -9, a full disk, corrupt inputs and
encoder errors. Each function injects one fault and returns a Fault record."""

import os
import pty
import resource
import select
import shutil
import signal
import subprocess
import time

from common import (EXT, RENDER_TIMEOUT, TEMPLATE_OF, TEMPLATES, Result, expected_frames,
                    parse_progress, remove, run, sha256)


class Fault:
    """One injected fault and what the checks found after it."""

    def __init__(self, kind, index, variant):
        self.kind = kind
        self.index = index
        self.variant = variant
        self.injected = True
        self.outcome = ""  # "ok" (rendered), "failed" (clean failure)
        self.rc = None
        self.error = ""
        self.violations = {}  # column -> [details]
        self.notes = []
        # The fault is the environment's (no space, a size limit, a read-only folder): the
        # product should exit 5 naming the folder, not blame the spec or an asset.
        self.environment = False

    def violate(self, column, detail):
        self.violations.setdefault(column, []).append(detail)

    def describe(self):
        return "#%d %s/%s" % (self.index, self.kind, self.variant)


class Mount:
    """A small tmpfs (root only). `ro` remounts it read-only after `prepare` filled it."""

    def __init__(self, path, size):
        self.path = path
        self.size = size

    def __enter__(self):
        os.makedirs(self.path, exist_ok=True)
        subprocess.run(["mount", "-t", "tmpfs", "-o", "size=%d,mode=755" % self.size,
                        "tmpfs", self.path], check=True, capture_output=True)
        return self

    def readonly(self):
        subprocess.run(["mount", "-o", "remount,ro", self.path], check=True,
                       capture_output=True)

    def __exit__(self, *exc):
        for args in (["umount", self.path], ["umount", "-l", self.path]):
            if subprocess.run(args, capture_output=True).returncode == 0:
                break
        shutil.rmtree(self.path, ignore_errors=True)


def can_mount(work):
    if os.geteuid() != 0:
        return "not root"
    probe = os.path.join(work, "mount-probe")
    try:
        with Mount(probe, 1 << 20):
            pass
        return None
    except (subprocess.CalledProcessError, OSError) as e:
        err = getattr(e, "stderr", b"") or b""
        return "mount -t tmpfs refused: %s" % (err.decode(errors="replace").strip() or e)


def fill(folder, leave_free):
    """Fills the filesystem of `folder` until about `leave_free` bytes remain."""
    st = os.statvfs(folder)
    avail = st.f_bavail * st.f_frsize
    want = max(0, avail - leave_free)
    path = os.path.join(folder, "filler.bin")
    with open(path, "wb") as f:
        chunk = b"\0" * (1 << 16)
        while want > 0:
            n = min(want, len(chunk))
            try:
                f.write(chunk[:n])
                f.flush()
            except OSError:
                break
            want -= n
    return path


class CliRun:
    """One CLI render with its spec, output, media root and what was there before."""

    def __init__(self, camp, fault, rng, template, media, out_dir, files=None, spec=None,
                 keep_old=None):
        self.camp = camp
        self.fault = fault
        self.template = template
        self.media = media
        self.out_dir = out_dir
        os.makedirs(out_dir, exist_ok=True)
        base = "f%04d" % fault.index
        self.out = os.path.join(out_dir, base + ".mp4")
        self.vtt = os.path.join(out_dir, base + ".vtt")
        spec_dir = os.path.join(camp.work, "specs")
        os.makedirs(spec_dir, exist_ok=True)
        self.spec_path = os.path.join(spec_dir, base + ".json")
        if spec is None:
            spec = camp.spec(template, "%d-%d" % (fault.index, rng.randrange(10 ** 6)), files,
                             rng)
        if isinstance(spec, (bytes, str)):
            with open(self.spec_path, "wb") as f:
                f.write(spec if isinstance(spec, bytes) else spec.encode())
            self.frames = None
        else:
            camp.write_spec(spec, self.spec_path)
            self.frames = expected_frames(spec)
        self.keep_old = keep_old if keep_old is not None else rng.random() < 0.4
        self.old_hash = None
        self.reset()

    def reset(self):
        """The output folder as before the fault: the earlier output (if this run keeps one)
        and no captions file."""
        if self.keep_old:
            shutil.copyfile(self.camp.old_output, self.out)
            self.old_hash = sha256(self.out)
        elif os.path.exists(self.out):
            os.remove(self.out)
        if os.path.exists(self.vtt):
            os.remove(self.vtt)

    def cmd(self, extra=()):
        return self.camp.render_cmd(self.spec_path, self.out, self.media, extra)

    def check_after(self, r, label, expect_vtt=None):
        """The invariants after a run that ended on its own (not killed): success means a
        complete output (and captions when the spec asks), failure means the output path as
        it was before and no captions file; no leftovers either way."""
        f = self.fault
        crash = r.crashed()
        if crash:
            f.violate("crash", "%s: %s" % (label, crash))
        if r.rc == 0:
            problems = self.camp.check_output(self.out, self.frames) \
                if os.path.exists(self.out) else ["exit 0 but no output"]
            for p in problems:
                f.violate("bad output", "%s: %s: %s" % (label, self.out, p))
            if expect_vtt and not os.path.isfile(self.vtt):
                f.violate("bad output", "%s: exit 0 but no captions file %s" % (label,
                                                                                self.vtt))
        else:
            self.check_untouched(label)
        self.check_leftovers(label)
        return r.rc == 0

    def check_untouched(self, label):
        f = self.fault
        if self.old_hash is not None:
            if not os.path.exists(self.out):
                f.violate("partial output", "%s: the earlier output %s was removed" % (
                    label, self.out))
            elif sha256(self.out) != self.old_hash:
                problems = self.camp.check_output(self.out, self.frames)
                if problems:
                    f.violate("partial output", "%s: the earlier output was replaced by an "
                              "incomplete one: %s" % (label, problems))
        elif os.path.exists(self.out):
            f.violate("partial output", "%s: failed (exit %s) but %s exists" % (
                label, f.rc, self.out))
        if os.path.exists(self.vtt):
            f.violate("partial output", "%s: failed but the captions %s exist" % (
                label, self.vtt))

    def check_leftovers(self, label):
        left = self.camp.leftovers(self.media, self.out_dir)
        for p in left:
            self.fault.violate("leaked temp", "%s: %s" % (label, p))
        remove(left)  # counted once, not again by the next fault
        bad = self.camp.bad_cache_entries(self.media)
        for b in bad:
            self.fault.violate("bad cache", "%s: %s" % (label, b))
        remove([b.split(": ")[0] for b in bad])

    def rerun(self, label="second run"):
        """The same render again with no fault: it must sweep what the fault left and
        succeed."""
        r = run(self.cmd())
        if r.rc != 0:
            self.fault.violate("bad output", "%s failed (exit %s): %s" % (label, r.rc,
                                                                       r.error_line()))
        self.check_after(r, label, expect_vtt=self.template == "narrated")
        return r


def record(fault, r):
    fault.rc = r.rc
    fault.error = r.error_line() if r.rc else ""
    fault.outcome = "ok" if r.rc == 0 else "failed"


# ---- 1. kill -9 ----------------------------------------------------------------------------

def kill_render(camp, index, rng, media):
    """kill -9 at a random moment (a delay into the run) or at a random frame (watching the
    progress bar on a pseudo-terminal), then the invariants, then a second run."""
    template = rng.choice(TEMPLATES)
    how = rng.choice(["delay", "frame"])
    fault = Fault("kill -9 CLI", index, "%s/%s" % (how, template))
    run_ = CliRun(camp, fault, rng, template, media, os.path.join(camp.work, "out-kill"))
    landed, where = False, ""
    for attempt in range(4):
        if how == "delay":
            delay = rng.uniform(0.0, camp.walls[template] * (1.0 if attempt == 0 else 0.5))
            landed, where = kill_after(run_.cmd(), delay)
        else:
            landed, where = kill_at_frame(run_.cmd([]), rng)
        if landed:
            break
        # The render finished first: check it, then start again from a clean slate.
        run_.check_after(Result(0, "", "", 0), "unkilled try")
        run_.reset()
    fault.injected = landed
    fault.variant += " " + where
    if landed:
        # Right after the kill: the output path holds the earlier file, a complete new one
        # (killed after the rename), or nothing.
        if os.path.exists(run_.out) and (run_.old_hash is None
                                         or sha256(run_.out) != run_.old_hash):
            for p in camp.check_output(run_.out, run_.frames):
                fault.violate("partial output", "after the kill: %s: %s" % (run_.out, p))
        elif os.path.exists(run_.vtt):
            fault.violate("partial output", "after the kill: captions %s without their video"
                          % run_.vtt)
    r = run_.rerun()
    record(fault, r)
    fault.outcome = "killed"
    return fault


def kill_after(cmd, delay):
    p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        p.wait(timeout=delay)
        return False, "(finished before %.3f s)" % delay
    except subprocess.TimeoutExpired:
        pass
    p.send_signal(signal.SIGKILL)
    p.wait()
    return True, "at %.3f s" % delay


def kill_at_frame(cmd, rng):
    """Runs with stderr on a pseudo-terminal so the progress bar is drawn, and kills at the
    first frame count at or past a random target (or in a named stage before the frames)."""
    cmd = [c for c in cmd if c != "-q"]
    master, slave = pty.openpty()
    p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                         stderr=slave, start_new_session=True)
    os.close(slave)
    target = None
    stage = rng.choice(["validate", "prepare", "mix", None, None, None])
    deadline = time.monotonic() + RENDER_TIMEOUT
    landed, where = False, "(finished first)"
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([master], [], [], 0.5)
            if not ready:
                if p.poll() is not None:
                    break
                continue
            try:
                chunk = os.read(master, 4096)
            except OSError:
                break
            if not chunk:
                break
            if stage and stage.encode() in chunk:
                p.send_signal(signal.SIGKILL)
                landed, where = True, "in stage %s" % stage
                break
            for done, total in parse_progress(chunk):
                if total and target is None:
                    target = rng.randint(0, total)
                if target is not None and total and done >= target:
                    p.send_signal(signal.SIGKILL)
                    landed, where = True, "at frame %d/%d" % (done, total)
                    break
            if landed:
                break
    finally:
        if not landed and p.poll() is None and time.monotonic() >= deadline:
            p.send_signal(signal.SIGKILL)
        p.wait()
        os.close(master)
    # A kill that raced the process's own exit did not interrupt anything.
    if landed and p.returncode != -signal.SIGKILL:
        landed, where = False, "(exited %s before the kill)" % p.returncode
    return landed, where


# ---- 2. ENOSPC -----------------------------------------------------------------------------

def no_space(camp, index, rng, shared_media, mount_refused):
    """A render on a small tmpfs filled to a random level: as the media root, as the output
    folder, or both. Then the invariants, then the same render with the space freed."""
    template = rng.choice(TEMPLATES)
    if mount_refused:
        return file_size_limit(camp, index, rng, shared_media, "enospc",
                               "EFBIG (no tmpfs: %s)" % mount_refused)
    where = rng.choice(["media", "output", "both"])
    fault = Fault("ENOSPC", index, "%s/%s" % (where, template))
    fault.environment = True
    mnt = os.path.join(camp.work, "tmpfs-%04d" % index)
    with Mount(mnt, 8 << 20):
        media = os.path.join(mnt, "media") if where != "output" else shared_media
        out_dir = os.path.join(mnt, "out") if where != "media" else os.path.join(
            camp.work, "out-enospc")
        run_ = CliRun(camp, fault, rng, template, media, out_dir)
        # What a render writes: about 0.5 MB on a cold media root (speech, caches, output);
        # a free space drawn across that range stops it at a random write.
        free = int(rng.uniform(0, 700_000 if where != "output" else 80_000))
        filler = fill(mnt, free)
        fault.variant += " free=%dk" % (free // 1024)
        r = run(run_.cmd())
        record(fault, r)
        run_.check_after(r, "full disk", expect_vtt=template == "narrated")
        os.remove(filler)
        run_.rerun("space freed")
    return fault


# ---- 3. corrupt inputs ---------------------------------------------------------------------

def corrupt_input(camp, index, rng, media):
    """A truncated or bit-flipped copy of one input (image, audio, clip, font or the spec
    itself): the render fails cleanly or gives a complete MP4."""
    kind = rng.choice(list(EXT))
    how = rng.choice(["truncate", "flip", "truncate+flip"])
    fault = Fault("corrupt input", index, "%s/%s" % (kind, how))
    cdir = os.path.join(camp.work, "corrupt")
    os.makedirs(cdir, exist_ok=True)
    if kind == "json":
        template = rng.choice(TEMPLATES)
        import json
        data = json.dumps(camp.spec(template, "%d" % index, None, rng), indent=1).encode()
    else:
        template = TEMPLATE_OF[kind]
        with open(camp.files[kind], "rb") as f:
            data = f.read()
    data, detail = mutate(data, how, rng)
    fault.variant += " " + detail
    if kind == "json":
        run_ = CliRun(camp, fault, rng, template, media, os.path.join(camp.work, "out-corrupt"),
                      spec=data)
    else:
        bad = os.path.join(cdir, "f%04d.%s" % (index, EXT[kind]))
        with open(bad, "wb") as f:
            f.write(data)
        run_ = CliRun(camp, fault, rng, template, media, os.path.join(camp.work, "out-corrupt"),
                      files={kind: bad})
    r = run(run_.cmd())
    record(fault, r)
    run_.check_after(r, "corrupt " + kind, expect_vtt=template == "narrated")
    return fault


def mutate(data, how, rng):
    data = bytearray(data)
    parts = []
    if "truncate" in how and data:
        if rng.random() < 0.3:
            at = len(data) - rng.randint(1, min(256, len(data)))
        else:
            at = rng.randrange(len(data))
        del data[at:]
        parts.append("cut at %d" % at)
    if "flip" in how and data:
        n = rng.randint(1, 16)
        for _ in range(n):
            i = rng.randrange(len(data))
            data[i] ^= rng.randint(1, 255)
        parts.append("%d bytes flipped" % n)
    return bytes(data), ", ".join(parts) or "empty"


# ---- 4. encoder errors ---------------------------------------------------------------------

# x264 settings libx264 refuses when the encoder opens (found by trying them: most unknown or
# out-of-range keys are ignored or clamped by x264).
BAD_X264 = ["qp=-5", "level=99", "="]


def encoder_error(camp, index, rng, media, mount_refused):
    """Errors from the encoder and muxer: writes failing with EFBIG past a random byte
    (RLIMIT_FSIZE, SIGXFSZ ignored), x264 refusing its settings, a read-only output folder.
    Then the same render with no fault."""
    choices = ["efbig", "efbig", "x264"] + ([] if mount_refused else ["readonly"])
    variant = rng.choice(choices)
    if variant == "efbig":
        return file_size_limit(camp, index, rng, media, "encoder error", "EFBIG")
    template = rng.choice(TEMPLATES)
    fault = Fault("encoder error", index, "%s/%s" % (variant, template))
    if variant == "x264":
        params = rng.choice(BAD_X264)
        fault.variant += " " + params
        run_ = CliRun(camp, fault, rng, template, media, os.path.join(camp.work, "out-enc"))
        r = run(run_.cmd(["--x264-params", params]))
        record(fault, r)
        run_.check_after(r, "x264 " + params, expect_vtt=template == "narrated")
        if r.rc == 0:
            fault.notes.append("x264 accepted %r" % params)
        run_.rerun()
        return fault
    fault.environment = True
    mnt = os.path.join(camp.work, "tmpfs-%04d" % index)
    with Mount(mnt, 4 << 20) as m:
        run_ = CliRun(camp, fault, rng, template, media, mnt)
        m.readonly()
        r = run(run_.cmd())
        record(fault, r)
        run_.check_after(r, "read-only output folder", expect_vtt=template == "narrated")
    return fault


def file_size_limit(camp, index, rng, media, kind, label):
    template = rng.choice(TEMPLATES)
    # Log-uniform from 1 byte to 200 kB: owner files, cache entries and the output all get
    # their turn to be the write that fails.
    limit = int(2 ** rng.uniform(0, 17.6))
    fault = Fault("ENOSPC" if kind == "enospc" else "encoder error", index,
                  "%s/%s limit=%d" % (label, template, limit))
    fault.environment = True
    run_ = CliRun(camp, fault, rng, template, media, os.path.join(camp.work, "out-efbig"))

    def limit_writes():
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    r = run(run_.cmd(), preexec_fn=limit_writes)
    record(fault, r)
    run_.check_after(r, "EFBIG at %d bytes" % limit, expect_vtt=template == "narrated")
    run_.rerun()
    return fault
