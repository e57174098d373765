#!/usr/bin/env bash
# The network benchmarks with the Python servers in the same tables: asyncio streams, asyncio
# Protocol and uvloop Protocol (echo_servers.py beside this file), measured by tulip-bench's
# load generator next to the Rust servers.
#
# Makes its own venv with uvloop from PyPI (in $TULIP_BENCH_VENV, default
# /tmp/tulip-bench-venv, shared with queue_pc.sh) the first time. Arguments go to tulip-bench:
# the scenarios (echo, c10k, connect_rate; echo when none is named) and options such as
# --quick, --reps N, --duration SECS, --servers KEY,...
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
venv="${TULIP_BENCH_VENV:-/tmp/tulip-bench-venv}"

if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c 'import uvloop' 2>/dev/null; then
    python3 -m venv "$venv"
    "$venv/bin/python" -m pip install --quiet --upgrade pip
    "$venv/bin/python" -m pip install --quiet uvloop
fi

scenario=(echo)
for arg in "$@"; do
    case "$arg" in
        echo | c10k | connect_rate) scenario=() ;;
    esac
done

cd "$root"
exec cargo run --quiet --release -p tulip-benches -- \
    ${scenario[@]+"${scenario[@]}"} "$@" --python "$venv/bin/python"
