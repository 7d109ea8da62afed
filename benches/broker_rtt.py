#!/usr/bin/env python3
"""The broker's cost per unit of work: the Redis commands a unit goes through, from the
coordinator's XADD to the worker's XACK, timed over many units against a redis-server on
loopback (start one: redis-server --port 6399 --save '' --appendonly no).

    python3 benches/broker_rtt.py [redis://127.0.0.1:6399/0] [N]

Per unit, as reelsmith does it: XADD (publish), XAUTOCLAIM (any stale unit?), XREADGROUP
(take), XPENDING (its delivery count), EXISTS (cancelled?), XCLAIM JUSTID (one heartbeat),
XADD+EXPIRE (done event), XACK+XDEL, and the coordinator's XREAD of the event. Needs the
PyPI package redis.
"""
import statistics
import sys
import time

import redis


def main():
    url = sys.argv[1] if len(sys.argv) > 1 else "redis://127.0.0.1:6399/0"
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 2000
    r = redis.Redis.from_url(url)
    units, group, events = "bench:units", "workers", "bench:events"
    r.delete(units, events)
    r.xgroup_create(units, group, id="0", mkstream=True)
    times = []
    last = "0"
    for i in range(n):
        t = time.perf_counter()
        r.xadd(units, {"unit": '{"render":"x","index":%d}' % i})
        r.xautoclaim(units, group, "w", 30000, "0-0", count=1)
        got = r.xreadgroup(group, "w", {units: ">"}, count=1, block=1000)
        mid = got[0][1][0][0]
        r.xpending_range(units, group, mid, mid, 1)
        r.exists("bench:cancel")
        r.xclaim(units, group, "w", 0, [mid], justid=True)
        p = r.pipeline(transaction=False)
        p.xadd(events, {"event": "done"}, maxlen=100000, approximate=True)
        p.expire(events, 86400)
        p.execute()
        p = r.pipeline(transaction=False)
        p.xack(units, group, mid)
        p.xdel(units, mid)
        p.execute()
        ev = r.xread({events: last}, count=1000, block=1000)
        last = ev[0][1][-1][0]
        times.append(time.perf_counter() - t)
    r.delete(units, events)
    ms = sorted(x * 1000 for x in times)
    print(f"{n} units: median {statistics.median(ms):.3f} ms, p95 {ms[int(0.95 * n)]:.3f} ms, "
          f"p99 {ms[int(0.99 * n)]:.3f} ms per unit (all its broker commands)")


if __name__ == "__main__":
    main()
