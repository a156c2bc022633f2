#!/usr/bin/env bash
# End-to-end test of the ntlmscope binary: ingest every input shape, duplicates across files
# and formats, truncated and unreadable files, every view in every format, the demo.
# Usage: e2e_cli.sh NTLMSCOPE TESTS_DATA_DIR SAMPLES_DIR
set -u
BIN=$1
DATA=$2
SAMPLES=$3
WORK=$(mktemp -d /tmp/ntlmscope-e2e-XXXXXX)
trap 'rm -rf "$WORK"' EXIT
export NTLMSCOPE_DB="$WORK/e2e.db"
passed=0
failed=0

ok() { passed=$((passed + 1)); echo "ok - $1"; }
bad() { failed=$((failed + 1)); echo "FAIL - $1"; }
check() { # check DESCRIPTION COMMAND...
    local what=$1; shift
    if "$@"; then ok "$what"; else bad "$what"; fi
}
# jq-like assertions with python3 on a JSON file: pyassert FILE 'python expression on rows'
pyassert() {
    python3 - "$1" "$2" <<'PY'
import json, sys
rows = json.load(open(sys.argv[1]))
ok = eval(sys.argv[2], {"rows": rows, "any": any, "all": all, "len": len, "sum": sum})
sys.exit(0 if ok else 1)
PY
}

# --- seeds: JSON array, single JSON objects, the seed's XML with its list markers ---------
"$BIN" ingest "$DATA/seeds-000-examples.json" "$DATA/seed-001-8002.json" \
    "$DATA/seed-002-8003.json" "$DATA/seed-004-8002-raw.xml" >"$WORK/out" 2>"$WORK/err"
rc=$?
check "ingest of the seed examples exits 0" test $rc -eq 0
check "seeds: 5 stored, 2 duplicate (001 and 002 repeat 000's events)" \
    grep -q "total: 7 events read from 4 files: 5 stored, 2 duplicate, 0 skipped (not NTLM), 0 rejected" "$WORK/out"

"$BIN" report --view dependencies --format json >"$WORK/deps.json"
check "4001 seed: bogus@BOGUS from DESKTOP-K7Q9MS2 to 127.0.0.1 (cifs)" pyassert "$WORK/deps.json" \
    'any(r["account"]=="bogus" and r["domain"]=="BOGUS" and r["client"]=="DESKTOP-K7Q9MS2" and r["target"]=="127.0.0.1" and r["target_service"]=="cifs" and r["target_ip"]=="127.0.0.1" for r in rows)'
check "8002 seed: LAB-WIN11\$ via lsass.exe to LAB-WIN11" pyassert "$WORK/deps.json" \
    'any(r["account"]=="LAB-WIN11$" and r["domain"]=="WORKGROUP" and r["process"]=="C:\\Windows\\System32\\lsass.exe" and r["target"]=="LAB-WIN11" and r["events"]==1 for r in rows)'
check "8003 seed: domainuser@LUDUS via lsass.exe" pyassert "$WORK/deps.json" \
    'any(r["account"]=="domainuser" and r["domain"]=="LUDUS" and r["process"]=="C:\\Windows\\System32\\lsass.exe" and r["client"] is None for r in rows)'
check "004 XML seed: DC\$@atc to the DC" pyassert "$WORK/deps.json" \
    'any(r["account"]=="DC$" and r["domain"]=="atc" and r["target"]=="DC" and r["first_seen"]=="2019-03-02T23:00:00.746139Z" for r in rows)'
"$BIN" report --view events --format json >"$WORK/events.json"
check "4014 seed: Credential Guard event with image svchost" pyassert "$WORK/events.json" \
    'any(r["event_id"]==4014 and r["image_name"]=="svchost" and r["level"]==2 and r["computer"]=="LAB-WIN11" for r in rows)'
check "events view times are ISO 8601 UTC with microseconds" pyassert "$WORK/events.json" \
    'any(r["time_created"]=="2026-03-12T02:56:00.824258Z" for r in rows)'
"$BIN" report --view hosts --format json >"$WORK/hosts.json"
check "hosts view lists the reporting computers with roles" pyassert "$WORK/hosts.json" \
    'any(r["computer"]=="LAB-WIN11" and "server" in r["roles"] and "other" in r["roles"] for r in rows)'

# --- the real samples: other providers' colliding IDs are skipped ------------------------
"$BIN" ingest "$SAMPLES/grouppolicy-4001-8001.evtx" "$SAMPLES/printservice-301.evtx" \
    "$SAMPLES/security-4624-ntlmv1.evtx" "$SAMPLES/ntlm-8002-real.xml" >"$WORK/out" 2>"$WORK/err"
rc=$?
check "samples ingest exits 0" test $rc -eq 0
check "samples: 5303 skipped, the real 8002 is a duplicate of the seed" \
    grep -q "total: 5304 events read from 4 files: 0 stored, 1 duplicate, 5303 skipped (not NTLM), 0 rejected" "$WORK/out"

# --- standard input, UTF-16LE with BOM and CRLF (a PowerShell 5 redirect) ----------------
python3 - "$WORK/ps5.xml" <<'PY'
import sys
ev = '''<Event xmlns="http://schemas.microsoft.com/win/2004/08/events/event"><System><Provider Name="Microsoft-Windows-NTLM"/><EventID>4020</EventID><Level>4</Level><TimeCreated SystemTime="2026-11-02T08:00:0{n}.1234567Z"/><EventRecordID>50{n}</EventRecordID><Channel>Microsoft-Windows-NTLM/Operational</Channel><Computer>WS77.corp.example.com</Computer></System><EventData><Data Name="ProcessName">C:\\Tools\\app.exe</Data><Data Name="Username">Ünïcødé</Data><Data Name="DomainName">CORP</Data><Data Name="TargetMachine">FS09</Data><Data Name="NtlmUsageId">7</Data><Data Name="NtlmVersion">NTLMv1</Data></EventData></Event>'''
text = "\n".join(ev.format(n=n) for n in range(3)) + "\n"
open(sys.argv[1], "wb").write(b"\xff\xfe" + text.replace("\n", "\r\n").encode("utf-16-le"))
PY
"$BIN" ingest - <"$WORK/ps5.xml" >"$WORK/out" 2>"$WORK/err"
check "UTF-16LE with BOM and CRLF on standard input: 3 stored" \
    grep -q "3 events read from 1 file: 3 stored" "$WORK/out"
"$BIN" report --view ntlmv1 --format json >"$WORK/v1.json"
check "the UTF-16 events show in the ntlmv1 view with their accents" pyassert "$WORK/v1.json" \
    'any(r["account"]=="Ünïcødé" and r["client"]=="WS77" and r["target"]=="FS09" and r["events"]==3 and r["reason_id"]==7 for r in rows)'

# --- truncated file: the good events before the fault are kept, exit 1, file and line named
python3 - "$WORK/cut.xml" <<'PY'
import sys
ev = '<Event><System><Provider Name="Microsoft-Windows-NTLM"/><EventID>8001</EventID><TimeCreated SystemTime="2026-11-03T08:00:{n:02d}Z"/><EventRecordID>{n}</EventRecordID><Channel>Microsoft-Windows-NTLM/Operational</Channel><Computer>WS88</Computer></System><EventData><Data Name="UserName">cut{n}</Data><Data Name="TargetName">cifs/fs01</Data></EventData></Event>\n'
text = "".join(ev.format(n=n) for n in range(1, 11))
open(sys.argv[1], "w").write(text[: len(text) - 60])
PY
"$BIN" ingest "$WORK/cut.xml" >"$WORK/out" 2>"$WORK/err"
rc=$?
check "truncated file exits 1" test $rc -eq 1
check "truncated file: 9 events kept, 1 rejected" \
    grep -q "10 events read from 1 file: 9 stored, 0 duplicate, 0 skipped (not NTLM), 1 rejected" "$WORK/out"
check "truncated file: the error names the file and line" \
    grep -q "cut.xml: line 10: rejected: truncated" "$WORK/err"
"$BIN" ingest "$WORK/cut.xml" >"$WORK/out" 2>"$WORK/err"
check "re-reading the truncated file stores nothing twice" \
    grep -q "9 duplicate" "$WORK/out"

# --- unreadable and wrong files --------------------------------------------------------------
"$BIN" ingest "$WORK/missing.xml" >"$WORK/out" 2>"$WORK/err"
rc=$?
check "a missing file exits 1 and is named" bash -c "test $rc -eq 1 && grep -q 'missing.xml: cannot open' '$WORK/err'"
printf 'hello, this is not a log\n' >"$WORK/junk.txt"
"$BIN" ingest "$WORK/junk.txt" >"$WORK/out" 2>"$WORK/err"
rc=$?
check "a file that is not an event log exits 1 with a reason" bash -c "test $rc -eq 1 && grep -q 'no <Event> element found' '$WORK/err'"
"$BIN" ingest --format evtx "$DATA/seed-001-8002.json" >"$WORK/out" 2>"$WORK/err"
rc=$?
check "--format evtx on JSON exits 1 naming the file" bash -c "test $rc -eq 1 && grep -q 'seed-001-8002.json: cannot open as EVTX' '$WORK/err'"
"$BIN" ingest --format yaml x >/dev/null 2>&1
check "an unknown --format is a usage error (exit 2)" test $? -eq 2

# --- every view, every format ---------------------------------------------------------------
for v in dependencies accounts processes reasons targets clients ntlmv1 hosts trend events; do
    for f in table csv json html; do
        if ! "$BIN" report --view "$v" --format "$f" >"$WORK/view.$f" 2>"$WORK/err"; then
            bad "report --view $v --format $f"
            continue
        fi
    done
    if python3 -c 'import json,sys; assert isinstance(json.load(open(sys.argv[1])), list)' "$WORK/view.json"; then
        ok "view $v renders in every format and its JSON parses"
    else
        bad "view $v JSON"
    fi
done
"$BIN" report --view dependencies --since 2026-11-02 --until 2026-11-02 --format json >"$WORK/range.json"
check "--since/--until select the day" pyassert "$WORK/range.json" \
    'len(rows)==1 and rows[0]["client"]=="WS77"'
"$BIN" report --view events --limit 2 --format json >"$WORK/lim.json"
check "--limit caps the rows" pyassert "$WORK/lim.json" 'len(rows)==2'
"$BIN" report --view nope >/dev/null 2>&1
check "an unknown view is a usage error (exit 2)" test $? -eq 2
"$BIN" report --view trend --since 2026-02-30 >/dev/null 2>&1
check "an impossible date is a usage error (exit 2)" test $? -eq 2
"$BIN" report --db "$WORK/none.db" --view trend >/dev/null 2>&1
check "a missing database exits 1" test $? -eq 1

# --- demo: deterministic for a seed, every reason, some NTLMv1 --------------------------------
"$BIN" demo --db "$WORK/d1.db" --seed 7 --days 21 --end 2026-11-20 >/dev/null 2>&1 &&
"$BIN" demo --db "$WORK/d2.db" --seed 7 --days 21 --end 2026-11-20 >/dev/null 2>&1 &&
"$BIN" demo --db "$WORK/d3.db" --seed 8 --days 21 --end 2026-11-20 >/dev/null 2>&1
check "demo runs" test $? -eq 0
"$BIN" report --db "$WORK/d1.db" --view dependencies --format csv >"$WORK/d1.csv"
"$BIN" report --db "$WORK/d2.db" --view dependencies --format csv >"$WORK/d2.csv"
"$BIN" report --db "$WORK/d3.db" --view dependencies --format csv >"$WORK/d3.csv"
check "demo is deterministic for a seed" cmp -s "$WORK/d1.csv" "$WORK/d2.csv"
check "another seed gives another domain" bash -c "! cmp -s '$WORK/d1.csv' '$WORK/d3.csv'"
"$BIN" report --db "$WORK/d1.db" --view reasons --format json >"$WORK/r.json"
check "demo covers every usage reason but the reserved 3" pyassert "$WORK/r.json" \
    'sorted(r["reason_id"] for r in rows if r["reason_id"] is not None)==[0,1,2,4,5,6,7,8,9,10,11]'
"$BIN" report --db "$WORK/d1.db" --view trend --format json >"$WORK/t.json"
check "demo trend spans the days with NTLMv1, warnings and blocks" pyassert "$WORK/t.json" \
    'len(rows)==21 and rows[-1]["day"]=="2026-11-20" and sum(r["ntlmv1_events"] for r in rows)>0 and sum(r["warnings"] for r in rows)>0 and sum(r["blocked"] for r in rows)>0'

echo "$passed passed, $failed failed"
test "$failed" -eq 0
