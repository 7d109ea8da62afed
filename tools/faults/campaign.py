#!/usr/bin/env python3
"""Fault campaign for reelsmith: injects faults into real renders and checks invariants.

  python3 tools/faults/campaign.py --faults 200 --seed 7 [--binary target/debug/reelsmith]

Kinds (spread evenly over --faults, in an order drawn from --seed):
  kill -9 CLI      `reelsmith render` killed at a random moment or frame, then run again
  ENOSPC           a small tmpfs, filled to a random level, as media root / output folder
  corrupt input    a truncated or bit-flipped image, audio file, clip, font or spec
  encoder error    writes failing past a random byte (EFBIG), x264 refusing its settings,
                   a read-only output folder
  kill -9 service  `reelsmith serve` killed mid-batch and restarted on the same storage root

Invariants, counted per kind: no partial output (a failed or killed render leaves the output
path as it was), no leaked temp (nothing under <media>/assets/temp/, no *.partial or *.tmp
under the media root or beside outputs), no bad output (an output that exists probes, holds
every frame and decodes to its last), no bad speech-cache entry, no crash (panic, stray signal,
hang), and for the service no lost and no duplicated render. Exit status 1 when any is broken.
See tools/faults/README.md.
"""

import argparse
import collections
import os
import random
import shutil
import sys
import tempfile
import time

sys.dont_write_bytecode = True  # no __pycache__ in the checkout
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import cli_faults  # noqa: E402
import service_faults  # noqa: E402
from common import REPO, Campaign  # noqa: E402

KINDS = ["kill -9 CLI", "ENOSPC", "corrupt input", "encoder error", "kill -9 service"]
SHORT = {"kill": "kill -9 CLI", "enospc": "ENOSPC", "corrupt": "corrupt input",
         "encoder": "encoder error", "service": "kill -9 service"}
COLUMNS = ["partial output", "leaked temp", "bad output", "bad cache", "crash", "lost",
           "duplicated"]
# Kills per service batch (each kill is one fault).
KILLS_PER_SESSION = 4


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--faults", type=int, default=20, help="faults to inject (default 20)")
    ap.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
    ap.add_argument("--binary", default=os.path.join(REPO, "target", "debug", "reelsmith"))
    ap.add_argument("--kinds", default=",".join(SHORT),
                    help="comma-separated subset of: " + ", ".join(SHORT))
    ap.add_argument("--work", help="work folder (default: a new one under $TMPDIR, removed "
                    "at the end unless a check fails or --keep)")
    ap.add_argument("--keep", action="store_true", help="keep the work folder")
    ap.add_argument("-v", "--verbose", action="store_true", help="one line per fault")
    ap.add_argument("--strict-env-errors", action="store_true",
                    help="count a render that a full disk, a file size limit or a read-only "
                    "folder stopped with an exit status other than 5 (file error) as broken")
    args = ap.parse_args()

    kinds = [SHORT[k.strip()] for k in args.kinds.split(",") if k.strip()]
    if not os.access(args.binary, os.X_OK):
        sys.exit("no binary at %s (cargo build first)" % args.binary)
    work = args.work or tempfile.mkdtemp(prefix="reelsmith-faults-")
    os.makedirs(work, exist_ok=True)
    work = os.path.abspath(work)
    t0 = time.monotonic()
    camp = Campaign(args.binary, work, sys.stderr).setup()
    mount_refused = cli_faults.can_mount(work) if ("ENOSPC" in kinds
                                                   or "encoder error" in kinds) else None
    if mount_refused:
        print("note: %s; ENOSPC is replaced by RLIMIT_FSIZE (EFBIG on each file past a "
              "random size) and the read-only folder by nothing" % mount_refused)

    # Each fault index gets a kind (an even spread, in an order drawn from the seed) and a
    # random generator of its own, so one fault's draws do not shift the others'.
    order = (kinds * (args.faults // len(kinds) + 1))[:args.faults]
    random.Random(args.seed).shuffle(order)
    media = {k: os.path.join(work, "media-" + k.split()[0].lower()) for k in kinds}
    faults = []
    service_idx = [i for i, k in enumerate(order) if k == "kill -9 service"]
    for i, kind in enumerate(order):
        rng = random.Random("%d:%d" % (args.seed, i))
        if kind == "kill -9 CLI":
            f = cli_faults.kill_render(camp, i, rng, media[kind])
        elif kind == "ENOSPC":
            f = cli_faults.no_space(camp, i, rng, media[kind], mount_refused)
        elif kind == "corrupt input":
            f = cli_faults.corrupt_input(camp, i, rng, media[kind])
        elif kind == "encoder error":
            f = cli_faults.encoder_error(camp, i, rng, media[kind], mount_refused)
        else:
            continue
        faults.append(f)
        if args.verbose:
            print(line(f), flush=True)
    for s in range(0, len(service_idx), KILLS_PER_SESSION):
        idx = service_idx[s:s + KILLS_PER_SESSION]
        rng = random.Random("%d:service:%d" % (args.seed, s))
        got = service_faults.service_session(camp, s // KILLS_PER_SESSION, rng, len(idx), idx)
        faults += got
        if args.verbose:
            for f in got:
                print(line(f), flush=True)
    wall = time.monotonic() - t0

    broken = report(faults, kinds, args, wall)
    if broken or args.keep:
        print("work folder kept: %s" % work)
    else:
        shutil.rmtree(work, ignore_errors=True)
    return 1 if broken else 0


def line(f):
    bad = sum(len(v) for v in f.violations.values())
    state = "%s rc=%s" % (f.outcome, f.rc) if f.rc is not None else f.outcome
    why = ("  | " + f.error[:110]) if f.outcome == "failed" and f.error else ""
    return "#%-4d %-16s %-14s %s%s%s" % (f.index, f.kind, state, "BROKEN " if bad else "",
                                        f.variant[:80], why)


def report(faults, kinds, args, wall):
    rows = collections.OrderedDict((k, collections.Counter()) for k in kinds)
    codes = collections.defaultdict(collections.Counter)
    columns = list(COLUMNS)
    if args.strict_env_errors:
        columns.append("misnamed error")
        for f in faults:
            if f.environment and f.outcome == "failed" and f.rc != 5:
                f.violate("misnamed error", "exit %s: %s" % (f.rc, f.error))
    for f in faults:
        c = rows[f.kind]
        if not f.injected:
            c["missed"] += 1
            continue
        c["faults"] += 1
        c[f.outcome] += 1
        for col, items in f.violations.items():
            c[col] += len(items)
        if f.rc is not None and f.kind != "kill -9 CLI":
            codes[f.kind][f.rc] += 1
    head = ["kind", "faults", "ok", "failed", "killed"] + columns
    width = [16] + [max(6, len(h)) for h in head[1:]]
    print()
    print("fault campaign: %d faults, seed %d, %s, %.0f s" % (
        sum(c["faults"] for c in rows.values()), args.seed, os.path.relpath(args.binary), wall))
    print("  ".join(h.ljust(w) if i == 0 else h.rjust(w) for i, (h, w) in
                    enumerate(zip(head, width))))
    total = collections.Counter()
    for kind, c in rows.items():
        total.update(c)
        print("  ".join([kind.ljust(width[0])] + [str(c[h]).rjust(w) for h, w in
                                                  zip(head[1:], width[1:])]))
    print("  ".join(["total".ljust(width[0])] + [str(total[h]).rjust(w) for h, w in
                                                 zip(head[1:], width[1:])]))
    print("(ok: rendered; failed: a clean failure; killed: the kill landed, then a second run "
          "or restart)")
    if any(c["missed"] for c in rows.values()):
        print("kills that came after the render had finished (not counted): %d" %
              sum(c["missed"] for c in rows.values()))
    env = [f for f in faults if f.environment and f.outcome == "failed"]
    if env:
        misnamed = [f for f in env if f.rc != 5]
        print("environment faults (no space, size limit, read-only) failing with exit 5: %d "
              "of %d%s" % (len(env) - len(misnamed), len(env),
                           "; the others blame the spec or an asset (exit 3/4)" if misnamed
                           else ""))
    for kind, cnt in codes.items():
        print("exit codes, %s: %s" % (kind, ", ".join("%s x%d" % (k, v) for k, v in
                                                     sorted(cnt.items(), key=str))))
    errors = collections.Counter()
    for f in faults:
        if f.outcome == "failed" and f.error:
            errors["%s: %s" % (f.kind, shorten(f.error))] += 1
    if errors:
        print("clean failures, by message:")
        for msg, n in errors.most_common(12):
            print("  %3d  %s" % (n, msg))
    accepted = collections.Counter(f.variant.split("/")[0] for f in faults
                                   if f.kind == "corrupt input" and f.outcome == "ok")
    if accepted:
        print("corrupt inputs rendered anyway (complete MP4, so no invariant broken): %s" %
              ", ".join("%s x%d" % kv for kv in sorted(accepted.items())))
    notes = [n for f in faults for n in f.notes]
    for n in notes[:20]:
        print("note: " + n)
    broken = [(f, col, d) for f in faults for col, items in f.violations.items()
              for d in items]
    if broken:
        print("\nBROKEN INVARIANTS (%d):" % len(broken))
        for f, col, d in broken[:60]:
            print("  %s [%s] %s: %s" % (f.describe(), f.variant[:60], col, d))
    else:
        print("all invariants held")
    return bool(broken)


def shorten(msg):
    import re
    msg = re.sub(r"/\S*/(f\d{4}|input|old-output)", r"…/\1", msg)
    msg = re.sub(r"\.[\w-]+\.partial", ".….partial", msg)
    msg = re.sub(r"\b\d{3,}\b", "N", msg)
    return msg[:200]


if __name__ == "__main__":
    sys.exit(main())
