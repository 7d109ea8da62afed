#!/usr/bin/env python3
"""SHA-256 of each track's samples in MP4 files (no libav needed): whether two renders hold
the same video and audio streams byte for byte, whatever the container around them.

    python3 benches/mp4_tracks.py A.mp4 [B.mp4 ...]
"""
import hashlib
import struct
import sys


def boxes(data, start, end):
    i = start
    while i + 8 <= end:
        size, kind = struct.unpack(">I4s", data[i:i + 8])
        head = 8
        if size == 1:
            size = struct.unpack(">Q", data[i + 8:i + 16])[0]
            head = 16
        elif size == 0:
            size = end - i
        yield kind.decode("latin-1"), i + head, i + size
        i += size


def child(data, start, end, path):
    for kind, s, e in boxes(data, start, end):
        if kind == path[0]:
            return (s, e) if len(path) == 1 else child(data, s, e, path[1:])
    return None


def tracks(path):
    data = open(path, "rb").read()
    moov = child(data, 0, len(data), ["moov"])
    out = []
    for kind, s, e in boxes(data, *moov):
        if kind != "trak":
            continue
        hdlr = child(data, s, e, ["mdia", "hdlr"])
        handler = data[hdlr[0] + 8:hdlr[0] + 12].decode("latin-1")
        stbl = child(data, s, e, ["mdia", "minf", "stbl"])
        st = lambda k: child(data, *stbl, [k])
        a, _ = st("stsz")
        fixed, count = struct.unpack(">II", data[a + 4:a + 12])
        sizes = [fixed] * count if fixed else list(struct.unpack(f">{count}I", data[a + 12:a + 12 + 4 * count]))
        co = st("stco") or st("co64")
        wide = st("stco") is None
        n = struct.unpack(">I", data[co[0] + 4:co[0] + 8])[0]
        fmt = f">{n}{'Q' if wide else 'I'}"
        offsets = struct.unpack(fmt, data[co[0] + 8:co[0] + 8 + (8 if wide else 4) * n])
        b = st("stsc")[0]
        m = struct.unpack(">I", data[b + 4:b + 8])[0]
        runs = [struct.unpack(">III", data[b + 8 + 12 * j:b + 20 + 12 * j]) for j in range(m)]
        h = hashlib.sha256()
        k = 0
        for c, off in enumerate(offsets, start=1):
            per = [r[1] for r in runs if r[0] <= c][-1]
            for _ in range(per):
                h.update(data[off:off + sizes[k]])
                off += sizes[k]
                k += 1
        out.append((handler, count, h.hexdigest()[:16]))
    return out


for p in sys.argv[1:]:
    print(p, " ".join(f"{h}:{n}:{d}" for h, n, d in tracks(p)))
