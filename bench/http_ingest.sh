#!/usr/bin/env bash
# HTTP ingest rate: K concurrent `ntlmscope ship` agents on loopback against `ntlmscope serve`,
# next to the baseline measured in the same run on the same events: `ntlmscope ingest` of the
# file, run just before and just after each agent count (the host is noisy: the ratio is to
# their mean, and to the first run). Agents send batches of their default size (5000 events).
# Prints events per second and the ratios.
# usage: bench/http_ingest.sh [BUILD_DIR] [HOSTS] [DAYS]     (run by hand; not a test)
set -euo pipefail
BUILD=${1:-build}
HOSTS=${2:-400}
DAYS=${3:-21}
BIN=$(realpath "$BUILD/ntlmscope")
W=$(mktemp -d /tmp/ntlmscope-bench-XXXXXX)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$W"' EXIT
now() { date +%s.%N; }
rate() { python3 -c "import sys; print('%.0f' % (float(sys.argv[1]) / (float(sys.argv[3]) - float(sys.argv[2]))))" "$@"; }

"$BIN" demo --xml "$W/events.xml" --hosts "$HOSTS" --days "$DAYS" --seed 9 --end 2026-11-20 >/dev/null
N=$(grep -c '^<Event' "$W/events.xml")
echo "data: $N events, $(du -m "$W/events.xml" | cut -f1) MB of event XML; $(nproc) cores"

file_ingest() {
    rm -f "$W"/file.db*
    local t0 t1
    t0=$(now); "$BIN" ingest --db "$W/file.db" "$W/events.xml" >/dev/null; t1=$(now)
    rate "$N" "$t0" "$t1"
}
FIRST=$(file_ingest)
BEFORE=$FIRST
printf '%-28s %10s events/s  (baseline)\n' "file ingest" "$FIRST"

for K in 1 4 8; do
    rm -f "$W"/http.db* "$W"/part.*; rm -rf "$W"/spool.*
    awk -v k="$K" -v out="$W/part" '/^<Event/ { print > (out "." (n++ % k) ".xml") }' "$W/events.xml"
    "$BIN" token add bench --db "$W/http.db" > "$W/token" 2>/dev/null; chmod 600 "$W/token"
    "$BIN" serve --db "$W/http.db" --listen 127.0.0.1:0 --port-file "$W/port" \
        --max-inflight 64 --rate-per-ip 0 2>"$W/serve.log" &
    SP=$!
    for _ in $(seq 100); do [ -s "$W/port" ] && break; sleep 0.05; done
    PORT=$(cat "$W/port"); rm -f "$W/port"
    t0=$(now)
    for ((a = 0; a < K; a++)); do
        "$BIN" ship --server "http://127.0.0.1:$PORT" --token-file "$W/token" \
            --spool "$W/spool.$a" "$W/part.$a.xml" >/dev/null 2>&1 &
        PIDS[a]=$!
    done
    for ((a = 0; a < K; a++)); do wait "${PIDS[a]}"; done
    t1=$(now)
    kill -TERM "$SP"; wait "$SP" || true
    R=$(rate "$N" "$t0" "$t1")
    AFTER=$(file_ingest)
    printf '%-28s %10s events/s  %5.2fx of file ingest around it (%s before, %s after), %.2fx of the first\n' \
        "HTTP, $K agent(s)" "$R" "$(python3 -c "print('%.2f' % ($R * 2 / ($BEFORE + $AFTER)))")" \
        "$BEFORE" "$AFTER" "$(python3 -c "print($R / $FIRST)")"
    BEFORE=$AFTER
done
