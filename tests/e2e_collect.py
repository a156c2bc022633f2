#!/usr/bin/env python3
"""End-to-end test of domain-wide collection: the real `ntlmscope serve` on loopback and
real `ntlmscope ship` agents. Every wait is bounded; only 127.0.0.1 is contacted.

usage: e2e_collect.py NTLMSCOPE TESTS_DATA_DIR SAMPLES_DIR
"""
import gzip
import json
import os
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

from e2e_util import PROCS, check, free_port, run_main, wait_for

BIN, DATA, SAMPLES = sys.argv[1], sys.argv[2], sys.argv[3]
WORK = tempfile.mkdtemp(prefix="ntlmscope-collect-")




def run(*args, **kw):
    return subprocess.run([BIN, *args], capture_output=True, text=True, timeout=300, **kw)




def path(*parts):
    return os.path.join(WORK, *parts)


class Server:
    def __init__(self, db, port=None, extra=(), tls=None):
        self.db, self.port, self.extra, self.tls = db, port or free_port(), list(extra), tls
        self.proc = None
        self.log = path("serve-%d.log" % self.port)

    def start(self):
        args = [BIN, "serve", "--db", self.db, "--listen", "127.0.0.1:%d" % self.port, *self.extra]
        if self.tls:
            args += ["--tls-cert", self.tls[0], "--tls-key", self.tls[1]]
        self.logf = open(self.log, "a")
        self.proc = subprocess.Popen(args, stdout=self.logf, stderr=self.logf)
        PROCS.append(self.proc)
        deadline = time.time() + 10
        while time.time() < deadline:
            try:
                self.get("/healthz")
                return self
            except Exception:
                if self.proc.poll() is not None:
                    raise RuntimeError("server exited: " + open(self.log).read())
                time.sleep(0.05)
        raise RuntimeError("server did not start")

    @property
    def url(self):
        return ("https" if self.tls else "http") + "://127.0.0.1:%d" % self.port

    def get(self, p):
        ctx = ssl.create_default_context(cafile=self.tls[0]) if self.tls else None
        with urllib.request.urlopen(self.url + p, timeout=10, context=ctx) as r:
            return r.read()

    def view(self, name):
        return json.loads(self.get("/api/v1/views/" + name))

    def metric(self, name):
        for line in self.get("/metrics").decode().splitlines():
            if line.startswith(name + " "):
                return float(line.split()[1])
        return None

    def post(self, body, token=None, headers=None):
        h = dict(headers or {})
        if token:
            h["Authorization"] = "Bearer " + token
        req = urllib.request.Request(self.url + "/api/v1/events", data=body, headers=h,
                                     method="POST")
        ctx = ssl.create_default_context(cafile=self.tls[0]) if self.tls else None
        try:
            with urllib.request.urlopen(req, timeout=30, context=ctx) as r:
                return r.status, json.loads(r.read() or b"{}")
        except urllib.error.HTTPError as e:
            return e.code, json.loads(e.read() or b"{}")

    def stop(self, sig=signal.SIGTERM):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.logf.close()
        return self.proc.returncode


def token(db, name):
    r = run("token", "add", name, "--db", db)
    assert r.returncode == 0, r.stderr
    tok = r.stdout.strip()
    f = path("token-" + name)
    with open(f, "w") as fh:
        fh.write(tok + "\n")
    os.chmod(f, 0o600)
    return tok, f


def local_views(files, db):
    r = run("ingest", "--db", db, *files)
    out = {}
    for v in ("dependencies", "accounts", "targets", "clients", "trend", "reasons", "ntlmv1"):
        out[v] = json.loads(run("report", "--db", db, "--view", v, "--format", "json").stdout)
    return r, out


def count_events(db):
    return len(json.loads(run("report", "--db", db, "--view", "events", "--format", "json").stdout))




def main():
    # --- the data set: the core tests' files plus a simulated domain --------------------------
    demo = path("demo.xml")
    run("demo", "--xml", demo, "--days", "10", "--seed", "3", "--end", "2026-11-20")
    # a larger file for the kill tests, so delivery is still under way when the kill comes
    big = path("big.xml")
    run("demo", "--xml", big, "--days", "40", "--seed", "4", "--end", "2026-11-20")
    core = [os.path.join(DATA, f) for f in ("seeds-000-examples.json", "seed-001-8002.json",
                                           "seed-002-8003.json", "seed-004-8002-raw.xml")]
    core += [os.path.join(SAMPLES, "grouppolicy-4001-8001.evtx"),
             os.path.join(SAMPLES, "ntlm-8002-real.xml")]
    parts = [path("part%d.xml" % k) for k in range(3)]
    # the demo split in three overlapping parts (agents on different hosts share some events)
    with open(demo) as fh:
        events = [line for line in fh if line.startswith("<Event")]
    n = len(events)
    bounds = [(0, n // 2), (n // 3, 2 * n // 3), (n // 2, n)]
    for p, (a, b) in zip(parts, bounds):
        with open(p, "w") as fh:
            fh.writelines(events[a:b])
    _, expected = local_views(core + [demo], path("local.db"))
    expected_events = count_events(path("local.db"))
    check("the local reference ingest stored the data set", expected_events > 10000,
          expected_events)

    # --- tokens ------------------------------------------------------------------------------
    db = path("server.db")
    toks = [token(db, "agent%d" % k) for k in range(4)]
    r = run("token", "add", "agent0", "--db", db)
    check("a second token with the same name is refused", r.returncode != 0 and not r.stdout)
    r = run("token", "list", "--db", db)
    check("token list names every agent", all("agent%d" % k in r.stdout for k in range(4)))
    check("token list never shows a token", all(t[0] not in r.stdout for t in toks))
    srv = Server(db, extra=["--max-body", "2M"]).start()

    st, body = srv.post(b"<Event/>")
    check("no token: 401", st == 401, (st, body))
    st, body = srv.post(b"<Event/>", token="0" * 64)
    check("a wrong token: 401", st == 401, (st, body))
    check("revoking a token works", run("token", "revoke", "agent3", "--db", db).returncode == 0)
    st, body = srv.post(open(core[3], "rb").read(), token=toks[3][0])
    check("a revoked token is refused at once: 401", st == 401, (st, body))
    check("nothing stored by refused requests", count_events(db) == 0)

    # --- several agents at once -------------------------------------------------------------
    agents = []
    for k in range(3):
        files = [parts[k]] + (core if k == 0 else core[:2] if k == 1 else core[2:])
        agents.append(subprocess.Popen(
            [BIN, "ship", "--server", srv.url, "--token-file", toks[k][1], "--spool",
             path("spool%d" % k), "--batch", "500", *files],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
        PROCS.append(agents[-1])
    outs = [a.communicate(timeout=300) for a in agents]
    check("three agents at once all exit 0", all(a.returncode == 0 for a in agents),
          [o[1][-300:] for o in outs])
    check("server events equal the local ingest", count_events(db) == expected_events,
          (count_events(db), expected_events))
    same = all(srv.view(v) == expected[v] for v in expected)
    check("every view over HTTP equals the local ingest's", same)
    check("overlapping parts were deduplicated",
          srv.metric("ntlmscope_events_duplicate_total") > 0)
    agents_m = srv.get("/metrics").decode()
    check("metrics carry each agent's last delivery",
          'ntlmscope_agent_last_seen_seconds{agent="agent0"}' in agents_m)
    check("token list shows the agents' deliveries",
          "batches 0" not in run("token", "list", "--db", db).stdout.split("agent0")[1]
          .splitlines()[0])

    # --- limits and bad batches leave the database unchanged ---------------------------------
    before = count_events(db)
    st, body = srv.post(b"<Event>" * 400000, token=toks[0][0])
    check("an oversized batch: 413", st == 413, (st, body))
    bomb = gzip.compress(b" " * (300 << 20))
    st, body = srv.post(bomb, token=toks[0][0], headers={"Content-Encoding": "gzip"})
    check("a gzip bomb past max_inflated: 413", st == 413, (st, body))
    good = open(os.path.join(DATA, "seed-001-8002.json"), "rb").read()
    new_evt = good.replace(b'"event_record_id": 1104', b'"event_record_id": 99104')
    batch = new_evt + b"\n{\"system\": {\"event_id\": 8001,, }}\n"
    st, body = srv.post(batch, token=toks[0][0])
    bad_line = "line %d" % batch.count(b"\n")
    check("a malformed batch: 400 naming the line", st == 400 and
          body.get("rejected", [{}])[0].get("where") == bad_line, (st, body, bad_line))
    st, body = srv.post(b"", token=toks[0][0])
    check("an empty batch: 400", st == 400, (st, body))
    cut = b"NSBATCH1" + b"S\x22Microsoft-Windows-NTLM/Operational" + b"E\x09\x00"
    st, body = srv.post(cut, token=toks[0][0],
                        headers={"Content-Type": "application/vnd.ntlmscope.batch"})
    check("a binary batch cut short: 400 naming the byte", st == 400 and
          body.get("rejected", [{}])[0].get("where") == "byte 44" and
          "truncated" in body["rejected"][0].get("why", ""), (st, body))
    st, body = srv.post(b"x", token=toks[0][0], headers={"Content-Encoding": "br"})
    check("an unknown encoding: 415", st == 415, (st, body))
    check("the database is unchanged by every bad batch", count_events(db) == before)

    # --- the requests the README's PowerShell snippet sends -----------------------------------
    xml = open(os.path.join(DATA, "seed-004-8002-raw.xml"), "rb").read().replace(
        b"<EventRecordID>12</EventRecordID>", b"<EventRecordID>7012</EventRecordID>")
    st, body = srv.post(xml, token=toks[1][0],
                        headers={"Content-Type": "application/xml; charset=utf-8"})
    check("XML as PowerShell posts it: 200, 1 accepted", st == 200 and body["accepted"] == 1,
          (st, body))
    st, body = srv.post(gzip.compress(xml), token=toks[1][0],
                        headers={"Content-Encoding": "gzip"})
    check("the same gzipped: a duplicate", st == 200 and body["duplicates"] == 1, (st, body))
    # gzip bodies as other tools make them: several members (gzip -c a b), a trailer whose
    # size lies, a corrupt or truncated stream
    two = [xml.replace(b"<EventRecordID>7012</EventRecordID>",
                       b"<EventRecordID>%d</EventRecordID>" % r) for r in (7101, 7102)]
    st, body = srv.post(gzip.compress(two[0]) + gzip.compress(two[1]), token=toks[1][0],
                        headers={"Content-Encoding": "gzip"})
    check("two gzip members: both events", st == 200 and body["accepted"] == 2, (st, body))
    gz = bytearray(gzip.compress(two[0]))
    lied = bytes(gz[:-4]) + (len(two[0]) - 5).to_bytes(4, "little")
    before = count_events(db)
    for what, data in (("a trailer whose size lies", lied),
                       ("a corrupt stream", bytes(gz[:12]) + bytes(b ^ 0x55 for b in gz[12:40])
                        + bytes(gz[40:])),
                       ("a truncated stream", bytes(gz[:len(gz) // 2]))):
        st, body = srv.post(data, token=toks[1][0], headers={"Content-Encoding": "gzip"})
        check("gzip, %s: 400" % what, st == 400, (st, body))
    check("the database is unchanged by the bad gzip bodies", count_events(db) == before)
    st, body = srv.post(open(os.path.join(SAMPLES, "printservice-301.evtx"), "rb").read(),
                        token=toks[1][0])
    check("an EVTX batch: 200, all skipped", st == 200 and body["skipped"] == 14, (st, body))
    check("views over HTTP as CSV", srv.get("/api/v1/views/accounts?format=csv")
          .startswith(b"\xef\xbb\xbfaccount,domain"))
    check("an unknown view: 404", urlcode(srv, "/api/v1/views/nope") == 404)
    check("SIGTERM stops the server cleanly", srv.stop() == 0 and
          "stopped" in open(srv.log).read())

    # --- the server killed mid-delivery, then restarted ----------------------------------------
    db2 = path("crash.db")
    tok, tokfile = token(db2, "crash")
    srv = Server(db2).start()
    ship = subprocess.Popen([BIN, "ship", "--server", srv.url, "--token-file", tokfile, "--spool",
                             path("spool-crash"), "--batch", "100", "--max-retry", "120", big],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    PROCS.append(ship)
    check("delivery under way before the kill",
          wait_for(lambda: (srv.metric("ntlmscope_events_accepted_total") or 0) > 2000))
    srv.stop(signal.SIGKILL)
    time.sleep(1.5)
    srv = Server(db2, port=srv.port).start()
    out, err = ship.communicate(timeout=300)
    check("the agent survives the server's death and finishes (exit 0)", ship.returncode == 0,
          err[-500:])
    big_events = count_events_file(big)
    check("nothing lost, nothing twice: every event stored once",
          count_events(db2) == big_events, (count_events(db2), big_events))
    srv.stop()

    # --- the agent killed mid-file, then restarted ---------------------------------------------
    db3 = path("resume.db")
    tok, tokfile = token(db3, "resume")
    srv = Server(db3).start()
    argv = [BIN, "ship", "--server", srv.url, "--token-file", tokfile, "--spool",
            path("spool-resume"), "--batch", "100", big]
    ship = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    PROCS.append(ship)
    check("delivery under way before the agent is killed",
          wait_for(lambda: (srv.metric("ntlmscope_events_accepted_total") or 0) > 3000))
    ship.kill()
    ship.wait()
    at_kill = srv.metric("ntlmscope_events_accepted_total")
    r = subprocess.run(argv, capture_output=True, text=True, timeout=300)
    check("the restarted agent finishes (exit 0)", r.returncode == 0, r.stderr[-500:])
    check("counts exact after the restart", count_events(db3) == big_events,
          (count_events(db3), big_events))
    dups = srv.metric("ntlmscope_events_duplicate_total")
    check("it resumed instead of re-sending the file (<= 1 batch repeated)",
          dups <= 100 and at_kill < big_events, (dups, at_kill))
    r = subprocess.run(argv, capture_output=True, text=True, timeout=300)
    check("a third run sends nothing (the file is done)",
          r.returncode == 0 and "shipped 0 events" in r.stdout, r.stdout)

    # --- an upgrade: a batch an older agent spooled (gzipped canonical NDJSON) is still sent ---
    old = path("spool-old")
    os.mkdir(old, 0o700)
    lines = b"".join(json.dumps(
        {"ntlmscope": 1, "channel": "Microsoft-Windows-NTLM/Operational",
         "provider": "Microsoft-Windows-NTLM", "event_id": 4020,
         "time_created": "2026-11-02T10:00:0%d.000000Z" % k, "record_id": 880000 + k,
         "computer": "OLDAGENT.corp.example.com", "role": "client", "outcome": "used",
         "account": "olduser"}, separators=(",", ":")).encode() + b"\n" for k in range(3))
    with open(os.path.join(old, "batch-%020d.ndjson.gz" % 7), "wb") as f:
        f.write(gzip.compress(lines))
    before = count_events(db3)
    r = subprocess.run([BIN, "ship", "--server", srv.url, "--token-file", tokfile, "--spool", old,
                        core[1]], capture_output=True, text=True, timeout=300)
    left = [f for f in os.listdir(old) if f.startswith("batch-")]
    check("an older agent's spooled NDJSON batch is sent after the upgrade, then the new ones",
          r.returncode == 0 and not left and
          count_events(db3) == before + 3 + events_in(core[1]) and
          "shipped %d events in 2 batches" % events_in(core[1]) in r.stdout,
          (r.stdout, r.stderr[-300:], left))

    # --- a crash between saving the progress and moving a batch into the spool -----------------
    pdir = path("spool-parts")
    os.mkdir(pdir, 0o700)
    with open(os.path.join(pdir, "state"), "w") as f:
        f.write("spooled\t5\n")  # the progress counts batch 5, not batch 6
    for seq, rid in ((5, 990005), (6, 990006)):
        with open(os.path.join(pdir, "batch-%020d.nsb.part" % seq), "wb") as f:
            f.write(nsbatch("PARTHOST", rid))
    before = count_events(db3)
    r = subprocess.run([BIN, "ship", "--server", srv.url, "--token-file", tokfile, "--spool", pdir,
                        core[1]], capture_output=True, text=True, timeout=300)
    rids = {e.get("record_id") for e in json.loads(run(
        "report", "--db", db3, "--view", "events", "--format", "json").stdout)
        if e.get("computer") == "PARTHOST"}
    check("after a crash, the batch the progress counts is sent and the other dropped",
          r.returncode == 0 and rids == {990005} and count_events(db3) == before + 1 and
          not [f for f in os.listdir(pdir) if f.endswith(".part")],
          (rids, r.stdout, r.stderr[-300:], os.listdir(pdir)))
    srv.stop()

    # --- the server down for good: the agent says so and keeps the spool -----------------------
    r = subprocess.run([BIN, "ship", "--server", "http://127.0.0.1:%d" % free_port(),
                        "--token-file", tokfile, "--spool", path("spool-down"),
                        "--max-retry", "2", core[1]], capture_output=True, text=True,
                       timeout=60)
    check("an unreachable server: exit 1, the batch stays spooled",
          r.returncode == 1 and "1 batch waiting" in r.stdout, (r.stdout, r.stderr[-300:]))
    spooled = [f for f in os.listdir(path("spool-down")) if f.startswith("batch-")]
    check("the spooled batch is a binary batch", [f[-4:] for f in spooled] == [".nsb"], spooled)
    dbn = path("from-spool.db")
    r = run("ingest", "--db", dbn, os.path.join(path("spool-down"), spooled[0]))
    check("ntlmscope ingest reads a spooled batch: the file's events, once",
          r.returncode == 0 and count_events(dbn) == events_in(core[1]) > 0,
          (r.stdout, r.stderr[-300:]))

    # --- watch a folder ----------------------------------------------------------------------
    db4 = path("watch.db")
    tok, tokfile = token(db4, "watcher")
    srv = Server(db4).start()
    inbox = path("inbox")
    os.mkdir(inbox)
    shutil.copy(core[0], inbox)
    w = subprocess.Popen([BIN, "ship", "--server", srv.url, "--token-file", tokfile, "--spool",
                          path("spool-watch"), "--watch", inbox, "--interval", "1"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    PROCS.append(w)
    check("watch: a file already there is shipped", wait_for(lambda: count_events(db4) == 4, 30))
    shutil.copy(parts[0], os.path.join(inbox, "later.xml"))
    check("watch: a file that arrives later is shipped",
          wait_for(lambda: count_events(db4) == 4 + len(set_of(parts[0])), 60))
    w.send_signal(signal.SIGTERM)
    w.communicate(timeout=30)
    check("watch: SIGTERM stops the agent", w.returncode is not None)
    srv.stop()

    # --- HTTPS with CA verification, and refusals ----------------------------------------------
    cert, key = path("cert.pem"), path("key.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key,
                    "-out", cert, "-days", "2", "-subj", "/CN=127.0.0.1", "-addext",
                    "subjectAltName=IP:127.0.0.1"], capture_output=True, check=True, timeout=60)
    db5 = path("tls.db")
    tok, tokfile = token(db5, "tls")
    srv = Server(db5, tls=(cert, key)).start()
    r = subprocess.run([BIN, "ship", "--server", srv.url, "--token-file", tokfile, "--spool",
                        path("spool-tls"), "--ca-file", cert, core[1]], capture_output=True,
                       text=True, timeout=60)
    check("HTTPS with --ca-file delivers", r.returncode == 0 and count_events(db5) == 1,
          r.stderr[-300:])
    r = subprocess.run([BIN, "ship", "--server", srv.url, "--token-file", tokfile, "--spool",
                        path("spool-tls2"), "--max-retry", "1", core[2]], capture_output=True,
                       text=True, timeout=60)
    check("HTTPS without the CA: refused by verification", r.returncode == 1, r.stderr[-300:])
    srv.stop()
    r = run("serve", "--db", path("x.db"), "--listen", "0.0.0.0:%d" % free_port())
    check("plain HTTP on a non-loopback address is refused",
          r.returncode == 1 and "refusing plain HTTP" in r.stderr, r.stderr)

    # --- config file, 429 and 503 ----------------------------------------------------------------
    port = free_port()
    conf = path("serve.conf")
    with open(conf, "w") as fh:
        fh.write("# ntlmscope serve\n[serve]\ndb = %s\nlisten = 127.0.0.1:%d\n"
                 "rate_per_ip = 5\nmax_inflight = 0\n" % (path("conf.db"), port))
    srv = Server(path("conf.db"), port=port)
    srv.extra = ["--config", conf]
    srv.db = path("conf.db")
    srv.start()
    tok, _ = token(path("conf.db"), "c")
    codes = [srv.post(b"<Event/>", token=tok)[0] for _ in range(8)]
    check("max_inflight reached: 503 with Retry-After", codes[0] == 503, codes)
    check("over rate_per_ip: 429", 429 in codes, codes)
    srv.stop()
    bad = path("bad.conf")
    with open(bad, "w") as fh:
        fh.write("listen = 127.0.0.1:1\nnonsense = 3\n")
    r = run("serve", "--config", bad)
    check("a config file with an unknown key names the file and line",
          r.returncode == 2 and "bad.conf:2" in r.stderr, r.stderr)


def urlcode(srv, p):
    try:
        srv.get(p)
        return 200
    except urllib.error.HTTPError as e:
        return e.code


def set_of(xml_file):
    with open(xml_file) as fh:
        return {line for line in fh if line.startswith("<Event")}


def nsbatch(computer, record_id):
    """A binary batch (collector/batch.c) of one 4020 event, written by hand."""
    def varint(u):
        out = bytearray()
        while u >= 0x80:
            out.append((u & 0x7f) | 0x80)
            u >>= 7
        out.append(u)
        return bytes(out)

    def zz(v):
        return (v << 1) ^ (v >> 63)

    def text(t):
        return b"S" + varint(len(t)) + t

    # fields by their number in NS_FIELDS: channel 0, event_id 2, time_created 8,
    # record_id 9, computer 10
    body = (bytes([0]) + varint(0) + bytes([2]) + varint(zz(4020)) + bytes([8]) +
            varint(zz(1793000000000000 + record_id)) + bytes([9]) + varint(zz(record_id)) +
            bytes([10]) + varint(1))
    return (b"NSBATCH1" + text(b"Microsoft-Windows-NTLM/Operational") + text(computer.encode()) +
            b"E" + varint(len(body)) + body + b"Z" + varint(1))


def count_events_file(xml_file):
    return len(set_of(xml_file))


def events_in(any_file):
    """Events a local ingest of the file stores (any format)."""
    db = tempfile.mktemp(prefix="count-", suffix=".db", dir=WORK)
    run("ingest", "--db", db, any_file)
    return count_events(db)


if __name__ == "__main__":
    run_main(main, WORK)
