#!/usr/bin/env bash
# House rules that a compiler does not check: no unbounded string functions, no SQL text
# outside sql/ (beyond transaction control and PRAGMA user_version) in the product; tests/
# and the benchmark baselines in bench/ may use SQL directly.
# Usage: source_rules.sh SOURCE_DIR
set -u
cd "$1" || exit 1
failed=0
files=$(git ls-files '*.c' '*.h' 2>/dev/null || find . -name '*.[ch]' -not -path './build*')
if grep -nE '(^|[^a-z_])(sprintf|vsprintf|strcpy|strcat|strtok|atoi|atol|gets)[[:space:]]*\(' $files; then
    echo "FAIL - banned function (use snprintf, memcpy with a length, ns_parse_int)"
    failed=1
else
    echo "ok - no banned string functions"
fi
if grep -nE '"[[:space:]]*(SELECT|INSERT|UPDATE|DELETE|CREATE)[[:space:]]' $files | grep -v -E '^(tests|bench)/'; then
    echo "FAIL - SQL in C source: it belongs in sql/*.sql"
    failed=1
else
    echo "ok - SQL lives in sql/"
fi
if [ $failed -eq 0 ]; then echo "2 passed, 0 failed"; else echo "fail"; fi
exit $failed
