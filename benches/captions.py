#!/usr/bin/env python3
"""How well the captions follow the voice: where each sentence's caption appears against where
the voice resumes after the pause before that sentence, over the example module's 12 recorded
narrations (media/stock/narration.json lists their texts and files).

    python3 benches/captions.py [VTT]

Without VTT it asks `reelsmith captions examples/training-module.json` (release build). The
pauses are found here independently of reelsmith: 10 ms RMS windows of the WAV below -45 dBFS
for at least 150 ms, away from the file's ends. Each caption that ends a sentence (not a
narration's last) is matched to the nearest pause; the error is caption change minus the
pause's end (where the voice resumes). The narrations' files start with 0.1 s of silence
(media/stock/README.md): a narration's start on the timeline is its first caption minus the
speech onset found here.
"""
import json
import math
import os
import re
import statistics
import subprocess
import sys
import wave
from array import array

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def ms(t):
    h, m, s = t.split(":")
    return round((int(h) * 3600 + int(m) * 60 + float(s)) * 1000)


def cues_of(vtt):
    out = []
    for block in vtt.split("\n\n")[1:]:
        lines = block.strip().split("\n")
        a, b = lines[1].split(" --> ")
        out.append((ms(a), ms(b), " ".join(lines[2:])))
    return out


def levels(path):
    """(dBFS per 10 ms) of a 16-bit WAV."""
    w = wave.open(path)
    rate, ch = w.getframerate(), w.getnchannels()
    x = array("h", w.readframes(w.getnframes()))
    if ch > 1:
        x = array("h", x[::ch])
    win = rate // 100
    out = []
    for i in range(0, len(x) - win + 1, win):
        s = sum(v * v for v in x[i:i + win]) / win / (32768.0 ** 2)
        out.append(10 * math.log10(s + 1e-12))
    return out


def speech(db):
    quiet = [d < -45 for d in db]
    onset = next(i for i, q in enumerate(quiet) if not q) * 10
    pauses, i = [], 0
    while i < len(quiet):
        if quiet[i]:
            j = i
            while j < len(quiet) and quiet[j]:
                j += 1
            if j - i >= 15 and i > 20 and j < len(quiet) - 20:
                pauses.append((i * 10, j * 10))
            i = j
        else:
            i += 1
    return onset, pauses


def main():
    if len(sys.argv) > 1:
        vtt = open(sys.argv[1]).read()
    else:
        vtt = subprocess.run(
            [os.path.join(ROOT, "target/release/reelsmith"), "captions",
             os.path.join(ROOT, "examples/training-module.json")],
            check=True, capture_output=True, text=True).stdout
    cues = cues_of(vtt)
    groups = []
    for c in cues:
        if groups and groups[-1][-1][1] == c[0]:
            groups[-1].append(c)
        else:
            groups.append([c])
    narr = json.load(open(os.path.join(ROOT, "media/stock/narration.json")))
    if len(groups) != len(narr):
        sys.exit(f"{len(groups)} runs of captions for {len(narr)} narrations")
    errors, onsets = [], []
    for g, n in zip(groups, narr):
        onset, pauses = speech(levels(os.path.join(ROOT, "media/stock", n["file"])))
        onsets.append(onset)
        t0 = g[0][0] - onset
        for c in g[:-1]:
            if not re.search(r"[.!?]$", c[2]) or not pauses:
                continue
            b = c[1] - t0
            p = min(pauses, key=lambda p: abs((p[0] + p[1]) / 2 - b))
            errors.append(b - p[1])
    a = [abs(e) for e in errors]
    print(f"{len(cues)} captions over {len(groups)} narrations; voice onsets "
          f"{min(onsets)}-{max(onsets)} ms into the files")
    print(f"sentence changes: {len(errors)}; |caption change - voice resumes|: median "
          f"{statistics.median(a):.0f} ms, max {max(a):.0f} ms; signed mean "
          f"{statistics.mean(errors):+.0f} ms")


if __name__ == "__main__":
    main()
