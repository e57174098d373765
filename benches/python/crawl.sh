#!/usr/bin/env bash
# The crawl benchmark (issue 8) with the seed's areq.py in the table: tulip-bench's `crawl`
# scenario crawls a generated 10,000-page site from nginx with areq, a reqwest/tokio crawler,
# and areq.py run verbatim on aiohttp + aiofiles (asyncio, then uvloop). areq.py is taken out of
# the seed text at run time by crawl_seed.py beside this file; it is not kept in the repository.
#
# Makes its own venv with aiohttp, aiofiles and uvloop from PyPI (in $TULIP_BENCH_VENV, default
# /tmp/tulip-bench-venv, shared with echo.sh, http.sh and queue_pc.sh) the first time. Needs
# nginx (scripts/peers/install.sh) and GNU time (/usr/bin/time). Arguments go to tulip-bench:
# --pages N, --reps N, --crawlers KEY,..., --quick, --keep.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
venv="${TULIP_BENCH_VENV:-/tmp/tulip-bench-venv}"

if [ ! -x "$venv/bin/python" ]; then
    python3 -m venv "$venv"
    "$venv/bin/python" -m pip install --quiet --upgrade pip
fi
if ! "$venv/bin/python" -c 'import aiohttp, aiofiles, uvloop' 2>/dev/null; then
    "$venv/bin/python" -m pip install --quiet aiohttp aiofiles uvloop
fi

cd "$root"
exec cargo run --quiet --release -p tulip-benches -- crawl "$@" --python "$venv/bin/python"
