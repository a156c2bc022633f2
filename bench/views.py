#!/usr/bin/env python3
"""Latency of every view the dashboard calls, over HTTP against a running server: each call
repeated, p50 and p95 (nearest rank: the slowest of fewer than 20 calls) printed.
usage: views.py BASE_URL SINCE UNTIL [REPEATS]"""
import datetime
import json
import sys
import time
import urllib.parse
import urllib.request

BASE, SINCE, UNTIL = sys.argv[1], sys.argv[2], sys.argv[3]
REPEATS = int(sys.argv[4]) if len(sys.argv) > 4 else 20
R = "since=%s&until=%s" % (SINCE, UNTIL)


def week(back=0):
    """The 7 days ending `back` days before UNTIL: a time-filtered range that is not every
    stored day."""
    end = datetime.date.fromisoformat(UNTIL) - datetime.timedelta(days=back)
    return "since=%s&until=%s" % ((end - datetime.timedelta(days=6)).isoformat(), end.isoformat())


WEEK = week()
CALLS = [
    ("totals, this week", "totals?" + WEEK),
    ("totals, the week before", "totals?" + week(7)),
    ("trend", "trend?" + R),
    ("reasons", "reasons?" + R),
    ("dependencies page", "dependencies?" + R + "&limit=50&offset=0"),
    ("dependencies sorted", "dependencies?" + R + "&limit=50&sort=last_seen&dir=desc"),
    ("dependencies search", "dependencies?" + R + "&limit=50&q=user0001"),
    ("dependencies filtered", "dependencies?" + R + "&limit=50&version=NTLMv1"),
    ("accounts", "accounts?" + R + "&limit=50"),
    ("processes", "processes?" + R + "&limit=50"),
    ("targets", "targets?" + R + "&limit=50"),
    ("clients", "clients?" + R + "&limit=50"),
    ("ntlmv1", "ntlmv1?" + R + "&limit=2000"),
    ("readiness", "readiness?" + R + "&limit=50"),
    ("burndown", "burndown?" + R),
    ("hosts", "hosts?" + R + "&limit=5000"),
    ("dependencies, last 7 days", "dependencies?" + WEEK + "&limit=50&offset=0"),
    ("accounts, last 7 days", "accounts?" + WEEK + "&limit=50"),
    ("readiness, last 7 days", "readiness?" + WEEK + "&limit=50"),
    # a range asked for the first time (the server keeps a connection's last range summed):
    # each call's 7 days end one day earlier than the previous call's
    ("dependencies, new 7 days", lambda i: "dependencies?" + week(i + 1) + "&limit=50"),
    ("accounts, new 7 days", lambda i: "accounts?" + week(i + 1) + "&limit=50"),
    ("targets, new 7 days", lambda i: "targets?" + week(i + 1) + "&limit=50"),
    ("readiness, new 7 days", lambda i: "readiness?" + week(i + 1) + "&limit=50"),
    ("totals, new 7 days", lambda i: "totals?" + week(i + 1)),
    ("events, latest page", "events?" + R + "&limit=100&dir=desc"),
    ("events of one account", "events?" + R + "&account=user00001&limit=100&dir=desc"),
]


def drill_down(row):
    """The dashboard's drill-down: every key of a dependency row, latest 100 events."""
    keys = {"client": "client", "account": "account", "domain": "domain", "process": "process",
            "target": "target", "service": "target_service", "reason_id": "reason_id",
            "version": "ntlm_version"}
    q = {f: "" if row[k] is None else str(row[k]) for f, k in keys.items()}
    return "events?" + R + "&limit=100&dir=desc&" + urllib.parse.urlencode(q)


with urllib.request.urlopen(BASE + "/api/v1/views/dependencies?" + R + "&limit=100000",
                            timeout=600) as r:
    DEPS = json.load(r)
DEPS = DEPS["rows"] if isinstance(DEPS, dict) else DEPS
if DEPS:
    CALLS.append(("drill-down, top dependency", drill_down(DEPS[0])))
    CALLS.append(("drill-down, rarest", drill_down(DEPS[-1])))
print("%-24s %10s %10s" % ("view", "p50 ms", "p95 ms"))
for name, path in CALLS:
    times = []
    for i in range(REPEATS):
        t = time.perf_counter()
        url = BASE + "/api/v1/views/" + (path(i) if callable(path) else path)
        with urllib.request.urlopen(url, timeout=120) as r:
            r.read()
        times.append((time.perf_counter() - t) * 1000)
    times.sort()
    # p95 by nearest rank: the slowest call when there are fewer than 20
    p95 = times[min(len(times), -(-len(times) * 95 // 100)) - 1]
    print("%-24s %10.1f %10.1f" % (name, times[len(times) // 2], p95))
