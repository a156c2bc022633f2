#!/usr/bin/env python3
"""End-to-end test of reports and the weekly summary: a real SMTP server on loopback
(Debian's python3-aiosmtpd, run by /usr/bin/python3), the real binary, a data set whose
answers are computed here, and the HTML report rendered by headless Chromium.

usage: e2e_summary.py NTLMSCOPE SCREENSHOT_DIR
"""
import email
import mailbox
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from email import policy

from e2e_util import PROCS, check, free_port, run_main, wait_for

BIN, SHOTS = sys.argv[1], sys.argv[2]
WORK = tempfile.mkdtemp(prefix="ntlmscope-summary-")
SYSTEM_PYTHON = "/usr/bin/python3"  # where Debian's python3-aiosmtpd is installed




def run(*args):
    return subprocess.run([BIN, *args], capture_output=True, text=True, timeout=120)






# --- a data set whose answers are known --------------------------------------------------------
# (client, account, target, version, day of November 2026, events); week ending 2026-11-22
PLAN = [
    ("WS-A", "alice", "FS01", "NTLMv2", 10, 12), ("WS-A", "alice", "FS01", "NTLMv2", 18, 9),
    ("WS-B", "bob", "FS02.corp.example.com", "NTLMv1", 11, 6),
    ("WS-B", "bob", "FS02.corp.example.com", "NTLMv1", 19, 4),
    ("WS-C", "carol", "OLD01", "NTLMv2", 12, 5),     # only the week before: retired, quiet
    ("WS-D", "dave", "FS01", "NTLMv2", 20, 7),       # new this week
    ("WS-E", "erin", "APP01", "NTLMv1", 21, 3),      # new, NTLMv1
]
WEEK = (16, 22)
BEFORE = (9, 15)


def in_week(day, week):
    return week[0] <= day <= week[1]


def events_xml():
    out, rec = [], 1
    for client, user, target, version, day, count in PLAN:
        for e in range(count):
            eid = 4021 if version == "NTLMv1" else 4020
            level = 3 if version == "NTLMv1" else 4
            out.append(
                '<Event><System><Provider Name="Microsoft-Windows-NTLM"/><EventID>%d</EventID>'
                '<Level>%d</Level><TimeCreated SystemTime="2026-11-%02dT09:%02d:00Z"/>'
                '<EventRecordID>%d</EventRecordID><Channel>Microsoft-Windows-NTLM/Operational'
                '</Channel><Computer>%s.corp.example.com</Computer></System><EventData>'
                '<Data Name="Username">%s</Data><Data Name="DomainName">CORP</Data>'
                '<Data Name="ProcessName">C:\\Apps\\app.exe</Data>'
                '<Data Name="TargetMachine">%s</Data><Data Name="NtlmUsageId">6</Data>'
                '<Data Name="NtlmVersion">%s</Data></EventData></Event>\n'
                % (eid, level, day, e, rec, client, user, target, version))
            rec += 1
    return "".join(out)


def expected():
    def total(week, v1=False):
        return sum(c for (_, _, _, ver, d, c) in PLAN if in_week(d, week) and (not v1 or ver == "NTLMv1"))
    deps_now = {(cl, u, t) for (cl, u, t, _, d, _) in PLAN if in_week(d, WEEK)}
    deps_before = {(cl, u, t) for (cl, u, t, _, d, _) in PLAN if in_week(d, BEFORE)}
    first = {}
    for (cl, u, t, _, d, _) in PLAN:
        first[(cl, u, t)] = min(d, first.get((cl, u, t), 99))
    return {
        "events": (total(WEEK), total(BEFORE)),
        "ntlmv1_events": (total(WEEK, True), total(BEFORE, True)),
        "dependencies": (len(deps_now), len(deps_before)),
        "new": sorted(u for (cl, u, t), d in first.items() if in_week(d, WEEK)),
        "retired": sorted(u for (cl, u, t) in deps_before - deps_now),
        "quiet": sorted({t for (_, _, t) in deps_before} - {t for (_, _, t) in deps_now}),
        "silent": sorted({cl for (cl, _, _) in deps_before} - {cl for (cl, _, _) in deps_now}),
        "targets": sorted({t for (_, _, t, _, _, _) in PLAN}),
    }


def figure(text, label):
    m = re.search(r"^%s\s+(\d+)\s+(\d+)" % re.escape(label), text, re.M)
    return (int(m.group(1)), int(m.group(2))) if m else None


def messages(maildir):
    box = mailbox.Maildir(maildir, factory=None, create=False)
    return [email.message_from_bytes(m.as_bytes(), policy=policy.default) for m in box]


def main():
    db = os.path.join(WORK, "s.db")
    with open(os.path.join(WORK, "events.xml"), "w") as fh:
        fh.write(events_xml())
    r = run("ingest", "--db", db, os.path.join(WORK, "events.xml"))
    check("the data set is ingested", r.returncode == 0, r.stderr)
    exp = expected()

    # --- the summary as text: the numbers computed here ------------------------------------------
    r = run("summary", "--db", db, "--week-ending", "2026-11-22")
    text = r.stdout
    check("summary text exits 0", r.returncode == 0, r.stderr)
    for label, key in (("NTLM events", "events"), ("NTLMv1 events", "ntlmv1_events"),
                       ("Dependencies", "dependencies")):
        check("summary: %s this week and the week before" % label, figure(text, label) == exp[key],
              (figure(text, label), exp[key]))
    sections = text.split("\n\n")
    def section(title):
        for s in sections:
            if s.startswith(title):
                return s
        return ""
    new = sorted(l.split()[1] for l in section("New dependencies").splitlines()[2:])
    check("summary: the new dependencies", new == exp["new"], (new, exp["new"]))
    retired = sorted(l.split()[1] for l in section("Retired dependencies").splitlines()[1:])
    check("summary: the retired dependencies", retired == exp["retired"], (retired, exp["retired"]))
    quiet = sorted(l.split()[0] for l in section("Targets that became safe").splitlines()[1:])
    check("summary: targets that became safe to block", quiet == exp["quiet"], (quiet, exp["quiet"]))
    silent = sorted(l.split()[0].split(".")[0] for l in section("Reporting hosts that went").splitlines()[1:])
    check("summary: hosts that went silent", silent == exp["silent"], (silent, exp["silent"]))
    check("summary: reasons carry their remediation",
          "Register the missing SPN (setspn -S)" in text)

    # --- the message, without sending ------------------------------------------------------------
    r = run("summary", "--db", db, "--week-ending", "2026-11-22", "--format", "eml", "--from",
            "ntlmscope@corp.example.com", "--to", "a@corp.example.com")
    m = email.message_from_string(r.stdout, policy=policy.default)
    check("eml parses as multipart/alternative", m.get_content_type() == "multipart/alternative")

    # --- sent to a real SMTP server on loopback --------------------------------------------------
    port = free_port()
    maildir = os.path.join(WORK, "mail")
    smtpd = subprocess.Popen([SYSTEM_PYTHON, "-m", "aiosmtpd", "-n", "-l", "127.0.0.1:%d" % port,
                              "-c", "aiosmtpd.handlers.Mailbox", maildir],
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    PROCS.append(smtpd)
    check("the SMTP server is up", wait_for(lambda: os.path.isdir(os.path.join(maildir, "new")), 15))
    time.sleep(0.5)
    smtp = "smtp://127.0.0.1:%d" % port
    r = run("summary", "--db", db, "--week-ending", "2026-11-22", "--send", "--smtp", smtp,
            "--smtp-tls", "none", "--from", "ntlmscope@corp.example.com", "--to",
            "secops@corp.example.com", "--to", "it-lead@corp.example.com,cio@corp.example.com")
    check("summary --send exits 0", r.returncode == 0, r.stderr)
    check("the message arrives", wait_for(lambda: len(messages(maildir)) == 1, 15))
    msg = messages(maildir)[0]
    check("it is multipart/alternative", msg.get_content_type() == "multipart/alternative")
    kinds = [p.get_content_type() for p in msg.iter_parts()]
    check("with a text and an HTML part", kinds == ["text/plain", "text/html"], kinds)
    body = msg.get_body(("plain",)).get_content()
    html = msg.get_body(("html",)).get_content()
    check("the text part carries the numbers",
          figure(body, "NTLM events") == exp["events"] and figure(body, "NTLMv1 events") == exp["ntlmv1_events"],
          figure(body, "NTLM events"))
    row = re.search(r'data-figure="events"><td>NTLM events</td><td class="n">(\d+)</td><td class="n">(\d+)', html)
    check("the HTML part carries the numbers", row and (int(row.group(1)), int(row.group(2))) == exp["events"])
    subject = str(msg["Subject"])
    check("the UTF-8 subject decodes (RFC 2047)",
          "\u2013 week ending 2026-11-22: %d events" % exp["events"][0] in subject, subject)
    check("three recipients", len(msg["To"].addresses) == 3, msg["To"])
    check("Date and Message-ID are set", msg["Date"] is not None and msg["Message-ID"] is not None)

    # --- header injection is refused, nothing sent -------------------------------------------------
    for args in (["--to", "x@corp.example.com\r\nBcc: evil@example.org"],
                 ["--to", "x@corp.example.com\nBcc: evil@example.org"],
                 ["--to", "x@corp.example.com", "--from", "a@b.c\nX-Evil: 1"]):
        base = ["summary", "--db", db, "--week-ending", "2026-11-22", "--send", "--smtp", smtp,
                "--smtp-tls", "none"]
        if "--from" not in args:
            base += ["--from", "ntlmscope@corp.example.com"]
        r = run(*(base + args))
        check("header injection refused (%r)" % args[-1][:30], r.returncode == 2, r.stderr)
    time.sleep(0.5)
    check("nothing more was sent", len(messages(maildir)) == 1)

    # --- the schedule in serve: once per week, also across a restart -------------------------------
    conf = os.path.join(WORK, "serve.conf")
    with open(conf, "w") as fh:
        fh.write("listen = 127.0.0.1:%d\ndb = %s\nsummary_at = Mon 07:00\nsummary_from = "
                 "ntlmscope@corp.example.com\nsummary_to = weekly@corp.example.com\n"
                 "smtp = %s\nsmtp_tls = none\n" % (free_port(), db, smtp))
    for attempt in range(2):
        log = open(os.path.join(WORK, "serve%d.log" % attempt), "w")
        srv = subprocess.Popen([BIN, "serve", "--config", conf], stdout=log, stderr=log)
        PROCS.append(srv)
        if attempt == 0:
            check("the scheduled summary is sent (late, the moment has passed)",
                  wait_for(lambda: len(messages(maildir)) == 2, 30))
        else:
            time.sleep(4)
            check("a restart does not send it twice", len(messages(maildir)) == 2,
                  len(messages(maildir)))
        srv.send_signal(signal.SIGTERM)
        srv.wait(timeout=30)
        log.close()
        check("serve stops cleanly (run %d)" % (attempt + 1), srv.returncode == 0)
    logtext = open(os.path.join(WORK, "serve0.log")).read()
    check("the server logged the sending", "weekly summary for the week ending" in logtext, logtext[-300:])

    # --- the exception lists --------------------------------------------------------------------
    r = run("report", "--db", db, "--view", "remote_server_exceptions", "--format", "list")
    listed = sorted(r.stdout.split())
    check("remote server exceptions: a plain list of the targets clients reach", listed == exp["targets"],
          (listed, exp["targets"]))
    r = run("report", "--db", db, "--view", "remote_server_exceptions", "--format", "csv")
    check("with the evidence in CSV", r.stdout.startswith("\ufeffserver,events,clients,accounts,first_seen,last_seen"))
    r = run("report", "--db", db, "--view", "ntlmv1_blockers", "--format", "list")
    check("NTLMv1 blockers: the clients that use NTLMv1", sorted(r.stdout.split()) == ["WS-B", "WS-E"], r.stdout)

    # --- the inventory report: one self-contained HTML file, rendered by Chromium -----------------
    inv = os.path.join(WORK, "inventory.html")
    r = run("report", "--db", db, "--view", "inventory", "--format", "html")
    with open(inv, "w") as fh:
        fh.write(r.stdout)
    page = r.stdout
    check("inventory report exits 0", r.returncode == 0, r.stderr)
    check("it has no script", "<script" not in page.lower())
    external = [u for u in re.findall(r'(?:src|href)\s*=\s*["\']?([^"\' >]+)', page)]
    check("it references nothing outside the file", not external, external)
    check("it carries the trend and the burn-down as SVG",
          page.count("<svg") >= 3 and page.count("<polyline") >= 6, page.count("<svg"))
    check("it carries the exception lists and the remediation",
          "Add remote server exceptions" in page and "Add server exceptions in this domain" in page
          and "setspn -S" in page)
    os.makedirs(SHOTS, exist_ok=True)
    png = os.path.join(SHOTS, "inventory-report.png")
    r = subprocess.run(["chromium", "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                        "--no-first-run", "--disable-background-networking",
                        "--disable-component-update", "--disable-sync",
                        "--user-data-dir=" + os.path.join(WORK, "chromium"),
                        "--window-size=1280,2400", "--screenshot=" + png, "file://" + inv],
                       capture_output=True, text=True, timeout=120)
    check("Chromium renders the report to PNG", os.path.exists(png) and os.path.getsize(png) > 20000,
          r.stderr[-300:])
    with open(png, "rb") as fh:
        check("the PNG is a PNG", fh.read(8) == b"\x89PNG\r\n\x1a\n")


if __name__ == "__main__":
    run_main(main, WORK)
