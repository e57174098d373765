#!/usr/bin/env bash
# queue_pc across languages: tulip's one-loop figures from `tulip-bench queue_pc`, then the
# same program in Python on asyncio and on uvloop, with tulip's speed-up over each.
#
# Makes its own venv with uvloop from PyPI (in $TULIP_BENCH_VENV, default
# /tmp/tulip-bench-venv) the first time. Options go to queue_pc.py (--quick, --reps N).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
venv="${TULIP_BENCH_VENV:-/tmp/tulip-bench-venv}"

if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c 'import uvloop' 2>/dev/null; then
    python3 -m venv "$venv"
    "$venv/bin/python" -m pip install --quiet --upgrade pip
    "$venv/bin/python" -m pip install --quiet uvloop
fi

quick=()
for arg in "$@"; do
    if [ "$arg" = "--quick" ]; then quick=(--quick); fi
done

# tulip's median ns/item in the two one-loop tables (unbounded, then maxsize 100).
bench_out="$(cd "$root" && cargo run --quiet --release -p tulip-benches -- \
    queue_pc --only tulip ${quick[@]+"${quick[@]}"} 2>/dev/null)"
tulip_ns="$(printf '%s\n' "$bench_out" | awk '
    /^### queue_pc, one loop/ { inside = 1; next }
    /^### / { inside = 0 }
    inside && /^\| tulip \|/ { split($0, cells, "|"); gsub(/ /, "", cells[3]); out = out sep cells[3]; sep = "," }
    END { print out }')"
echo "tulip one loop, ns/item (unbounded,maxsize 100): $tulip_ns"
echo

exec "$venv/bin/python" "$here/queue_pc.py" --tulip "$tulip_ns" "$@"
