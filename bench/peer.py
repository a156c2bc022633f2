#!/usr/bin/env python3
"""The reference do-it-yourself peer: what an admin would write with lxml's iterparse and
sqlite3 — read every <Event> of a no-root event XML file, keep the fields, insert them in
batches. Run with a Python that has lxml (Debian: /usr/bin/python3 with python3-lxml).

usage: peer.py FILE DBFILE      prints: events seconds
"""
import sqlite3
import sys
import time

from lxml import etree

NS = "{http://schemas.microsoft.com/win/2004/08/events/event}"
COLS = ["event_id", "level", "time_created", "record_id", "channel", "computer", "provider",
        "account", "domain", "process", "client", "target", "target_name", "reason",
        "version", "mic", "client_ip", "server"]
DATA = {"Username": "account", "UserName": "account", "DomainName": "domain",
        "ProcessName": "process", "Hostname": "client", "Workstation": "client",
        "RemoteClientMachine": "client", "TargetMachine": "target", "TargetName": "target_name",
        "NtlmUsageId": "reason", "NtlmVersion": "version", "MicStatus": "mic",
        "ClientIP": "client_ip", "ServerName": "server"}


class Rooted:
    """wevtutil prints <Event> elements with no root: give the parser one."""
    def __init__(self, f):
        self.parts = [b"<r>"]
        self.f = f
        self.done = False

    def read(self, n):
        if self.parts:
            return self.parts.pop()
        data = self.f.read(n)
        if not data and not self.done:
            self.done = True
            return b"</r>"
        return data


def main():
    t0 = time.time()
    db = sqlite3.connect(sys.argv[2])
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=NORMAL")
    db.execute("CREATE TABLE IF NOT EXISTS e (%s, UNIQUE (computer, channel, record_id, time_created))"
               % ", ".join(COLS))
    sql = "INSERT OR IGNORE INTO e VALUES (%s)" % ", ".join("?" * len(COLS))
    rows, n = [], 0
    with open(sys.argv[1], "rb") as f:
        for _, ev in etree.iterparse(Rooted(f), events=("end",), tag=NS + "Event"):
            rec = dict.fromkeys(COLS)
            system = ev.find(NS + "System")
            rec["event_id"] = int(system.findtext(NS + "EventID"))
            rec["level"] = int(system.findtext(NS + "Level"))
            rec["time_created"] = system.find(NS + "TimeCreated").get("SystemTime")
            rec["record_id"] = int(system.findtext(NS + "EventRecordID"))
            rec["channel"] = system.findtext(NS + "Channel")
            rec["computer"] = system.findtext(NS + "Computer")
            rec["provider"] = system.find(NS + "Provider").get("Name")
            for d in ev.iter(NS + "Data"):
                key = DATA.get(d.get("Name"))
                if key and rec[key] is None:
                    rec[key] = d.text
            rows.append([rec[c] for c in COLS])
            n += 1
            ev.clear()
            while ev.getprevious() is not None:
                del ev.getparent()[0]
            if len(rows) == 10000:
                db.executemany(sql, rows)
                db.commit()
                rows = []
    db.executemany(sql, rows)
    db.commit()
    db.close()
    print("%d %.3f" % (n, time.time() - t0))


if __name__ == "__main__":
    main()
