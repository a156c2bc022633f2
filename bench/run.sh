#!/usr/bin/env bash
# The benchmark: a simulated domain of N events, and each figure next to the baseline
# measured in the same run on the same file. Run by hand; prints, asserts nothing.
# usage: bench/run.sh [EVENTS=1000000] [HOSTS=2000] [BUILD=build]
set -euo pipefail
N=${1:-1000000}
HOSTS=${2:-2000}
BUILD=$(realpath "${3:-build}")
BIN=$BUILD/ntlmscope
B=$BUILD/bench
HERE=$(dirname "$(realpath "$0")")
if ! /usr/bin/python3 -c 'import lxml' 2>/dev/null; then
    echo "bench/run.sh: the Python peer needs lxml: apt-get install python3-lxml" >&2
    exit 1
fi
W=$(mktemp -d /tmp/ntlmscope-bench-XXXXXX)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$W"' EXIT
rate() { python3 -c "import sys; print('%.0f' % (int(sys.argv[1]) / float(sys.argv[2])))" "$@"; }
ratio() { python3 -c "import sys; print('%.2f' % (float(sys.argv[1]) / float(sys.argv[2])))" "$@"; }
now() { date +%s.%N; }
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(free -g | awk '/Mem/ {print $2}') GiB"
echo "sqlite $(sqlite3 --version 2>/dev/null | cut -d' ' -f1), libxml2 $(xml2-config --version 2>/dev/null || pkg-config --modversion libxml-2.0)"

t0=$(now); "$B/ns-bench-gen" "$N" "$HOSTS" xml > "$W/events.xml"; t1=$(now)
echo "data: $N events, $(du -m "$W/events.xml" | cut -f1) MB event XML (generated in $(ratio "$(python3 -c "print($t1-$t0)")" 1) s)"

read -r n s < <("$B/ns-bench-sax" "$W/events.xml")
SAX=$(rate "$n" "$s")
read -r n s < <("$B/ns-bench-parse" "$W/events.xml")
PARSE=$(rate "$n" "$s")
read -r n s bytes < <("$B/ns-bench-sqlite" "$W/sqlite.db" "$N" "$HOSTS")
SQL=$(rate "$n" "$s")
read -r n s < <(/usr/bin/python3 "$HERE/peer.py" "$W/events.xml" "$W/peer.db")
PEER=$(rate "$n" "$s")
# ingest between two more SAX2 runs of the file: on a shared host the parse limit itself moves
# by a third within minutes, so ingest is compared with the mean of the runs around it
read -r n s < <("$B/ns-bench-sax" "$W/events.xml")
SAX_BEFORE=$(rate "$n" "$s")
/usr/bin/time -f "%M" -o "$W/rss" "$BIN" ingest --db "$W/ns.db" "$W/events.xml" > "$W/ingest.out"
s=$(grep -o '([0-9.]* s)' "$W/ingest.out" | tr -d '(s) ')
ING=$(rate "$N" "$s")
read -r n s < <("$B/ns-bench-sax" "$W/events.xml")
SAX_AFTER=$(rate "$n" "$s")
SAX_AROUND=$(python3 -c "import sys; print('%.0f' % ((float(sys.argv[1]) + float(sys.argv[2])) / 2))" "$SAX_BEFORE" "$SAX_AFTER")
DBBYTES=$(( $(stat -c %s "$W/ns.db") + $( [ -f "$W/ns.db-wal" ] && stat -c %s "$W/ns.db-wal" || echo 0) ))
printf '%-34s %10s events/s\n' "libxml2 SAX2 parse-only" "$SAX"
printf '%-34s %10s events/s  %sx SAX parse\n' "ntlmscope parse + normalize only" "$PARSE" "$(ratio "$PARSE" "$SAX")"
printf '%-34s %10s rows/s   (%d bytes/row)\n' "raw SQLite insert, 24 columns" "$SQL" "$((bytes / N))"
printf '%-34s %10s events/s\n' "Python lxml iterparse + sqlite3" "$PEER"
printf '%-34s %10s events/s  (%s before ingest, %s after)\n' "libxml2 SAX2 around ingest" "$SAX_AROUND" "$SAX_BEFORE" "$SAX_AFTER"
printf '%-34s %10s events/s  %sx SAX parse (%sx the first run), %sx Python peer\n' "ntlmscope ingest" "$ING" "$(ratio "$ING" "$SAX_AROUND")" "$(ratio "$ING" "$SAX")" "$(ratio "$ING" "$PEER")"
printf '%-34s %10s bytes/event (%s MB)\n' "database size" "$((DBBYTES / N))" "$((DBBYTES >> 20))"
printf '%-34s %10s MB\n' "ingest peak RSS" "$(( $(cat "$W/rss") / 1024 ))"

# every view the dashboard calls, over HTTP
"$BIN" serve --db "$W/ns.db" --listen 127.0.0.1:0 --port-file "$W/port" 2>/dev/null &
for _ in $(seq 100); do [ -s "$W/port" ] && break; sleep 0.05; done
python3 "$HERE/views.py" "http://127.0.0.1:$(cat "$W/port")" 2026-09-21 2026-10-21 20
