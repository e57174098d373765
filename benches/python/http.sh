#!/usr/bin/env bash
# The HTTP benchmarks with the Python peers in the same tables: aiohttp on asyncio and on uvloop
# as clients of nginx (http_client.py), uvicorn with uvloop and httptools as a server
# (http_server_app.py), measured next to tulip-http, reqwest and hyper by tulip-bench.
#
# Makes its own venv with aiohttp, uvloop, uvicorn and httptools from PyPI (in
# $TULIP_BENCH_VENV, default /tmp/tulip-bench-venv, shared with echo.sh and queue_pc.sh) the
# first time. Needs nginx and wrk (Debian: apt-get install nginx wrk). Arguments go to
# tulip-bench: the scenarios (http_client, http_server; both when none is named) and options
# such as --quick, --reps N, --requests N, --duration SECS, --clients KEY,..., --servers KEY,...
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
venv="${TULIP_BENCH_VENV:-/tmp/tulip-bench-venv}"

if [ ! -x "$venv/bin/python" ]; then
    python3 -m venv "$venv"
    "$venv/bin/python" -m pip install --quiet --upgrade pip
fi
if ! "$venv/bin/python" -c 'import aiohttp, uvloop, uvicorn, httptools' 2>/dev/null; then
    "$venv/bin/python" -m pip install --quiet aiohttp uvloop uvicorn httptools
fi

scenario=(http_client http_server)
for arg in "$@"; do
    case "$arg" in
        http_client | http_server) scenario=() ;;
    esac
done

cd "$root"
exec cargo run --quiet --release -p tulip-benches -- \
    ${scenario[@]+"${scenario[@]}"} "$@" --python "$venv/bin/python"
