#!/usr/bin/env bash
# Runs tulip's unit and integration tests under valgrind's memcheck, one test thread at a time.
# The runtime's unsafe code (task allocation with borrowed metadata, registry pointers) is
# exercised by these tests; memcheck must report no invalid reads/writes and no definite leaks.
# Not part of CI (it takes several minutes); run it after touching unsafe code:
#   bash scripts/valgrind.sh [test-name-filter]
set -euo pipefail
cd "$(dirname "$0")/.."
command -v valgrind >/dev/null || { echo "valgrind is not installed (apt-get install valgrind)"; exit 1; }
filter="${1:-}"
binaries=$(cargo test -p tulip-rt --lib --tests --no-run --message-format=json 2>/dev/null |
    python3 -c 'import json,sys
for line in sys.stdin:
    m = json.loads(line)
    if m.get("reason") == "compiler-artifact" and m.get("executable") and m["profile"]["test"]:
        print(m["executable"])')
status=0
for binary in $binaries; do
    name=$(basename "$binary")
    if TULIP_TEST_WATCHDOG_SECS=1200 valgrind --quiet --fair-sched=yes --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite \
        "$binary" --test-threads=1 $filter >"/tmp/valgrind-$name.log" 2>&1; then
        echo "clean: $name ($(grep -h 'test result' "/tmp/valgrind-$name.log" | tail -1))"
    else
        echo "FAILED: $name (see /tmp/valgrind-$name.log)"
        status=1
    fi
done
exit $status
