#!/usr/bin/env bash
# How ntlmscope's own cost grows with size, without the baselines (run.sh has them): generate
# EVENTS events, ingest them, print the rate, database bytes per event and peak RSS, then time
# every dashboard view over HTTP. Run by hand; prints, asserts nothing.
# usage: bench/scale.sh [EVENTS=10000000] [HOSTS=2000] [BUILD=build] [REPEATS=10]
set -euo pipefail
N=${1:-10000000}
HOSTS=${2:-2000}
BUILD=$(realpath "${3:-build}")
REPEATS=${4:-10}
BIN=$BUILD/ntlmscope
HERE=$(dirname "$(realpath "$0")")
W=$(mktemp -d /tmp/ntlmscope-scale-XXXXXX)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$W"' EXIT
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(free -g | awk '/Mem/ {print $2}') GiB"
"$BUILD/bench/ns-bench-gen" "$N" "$HOSTS" xml > "$W/events.xml"
echo "data: $N events, $(du -m "$W/events.xml" | cut -f1) MB event XML"
/usr/bin/time -f "%M" -o "$W/rss" "$BIN" ingest --db "$W/ns.db" "$W/events.xml" > "$W/ingest.out"
s=$(grep -o '([0-9.]* s)' "$W/ingest.out" | tr -d '(s) ')
rm -f "$W/events.xml"
DBBYTES=$(( $(stat -c %s "$W/ns.db") + $( [ -f "$W/ns.db-wal" ] && stat -c %s "$W/ns.db-wal" || echo 0) ))
printf '%-34s %10s events/s (%s s)\n' "ntlmscope ingest" "$(python3 -c "print('%.0f' % ($N / $s))")" "$s"
printf '%-34s %10s bytes/event (%s MB)\n' "database size" "$((DBBYTES / N))" "$((DBBYTES >> 20))"
printf '%-34s %10s MB\n' "ingest peak RSS" "$(( $(cat "$W/rss") / 1024 ))"
"$BIN" serve --db "$W/ns.db" --listen 127.0.0.1:0 --port-file "$W/port" 2>/dev/null &
for _ in $(seq 100); do [ -s "$W/port" ] && break; sleep 0.05; done
python3 "$HERE/views.py" "http://127.0.0.1:$(cat "$W/port")" 2026-09-21 2026-10-21 "$REPEATS"
