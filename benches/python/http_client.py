"""aiohttp as a client for tulip-bench's http_client scenario.

    python http_client.py --loop asyncio|uvloop --url URL [--requests N] [--warmup N]
                          [--concurrency N] [--expect BYTES] [--cpu N]

The same protocol as `tulip-bench --http-client KIND` (benches/src/http/clients.rs): one
aiohttp.ClientSession with TCPConnector(limit=concurrency); `--warmup` GETs of URL (which also
open the connections), then `START` on stdout, then `--requests` GETs, `--concurrency` at a
time (that many tasks each take the next request number until all are taken, and read the whole
body), then `RESULT <requests> <seconds> <errors>`; then it waits for stdin to close, so that
tulip-bench can read its CPU time and peak RSS from /proc before it exits. A status other than
200, a body of the wrong length or an exception counts as an error (the first is printed on
stderr). It pins itself to CPU N first.

`http.sh` beside this file makes a venv with aiohttp and uvloop and runs the scenario.
"""

import argparse
import asyncio
import os
import sys
import time

import aiohttp


async def batch(session, url, n, concurrency, expect):
    """n GETs, concurrency at a time; returns the number of errors."""
    taken = 0
    errors = 0

    async def worker():
        nonlocal taken, errors
        while taken < n:
            taken += 1
            try:
                async with session.get(url) as response:
                    body = await response.read()
                    status = response.status
                if status != 200 or (expect is not None and len(body) != expect):
                    what = f"status {status}, {len(body)} B body"
                    errors += 1
                    if errors == 1:
                        print(f"http_client.py: {what}", file=sys.stderr)
            except Exception as e:  # noqa: BLE001 - any failure is counted
                errors += 1
                if errors == 1:
                    print(f"http_client.py: {e!r}", file=sys.stderr)

    await asyncio.gather(*(worker() for _ in range(max(1, min(concurrency, n)))))
    return errors


async def main(args):
    connector = aiohttp.TCPConnector(limit=args.concurrency)
    async with aiohttp.ClientSession(connector=connector) as session:
        await batch(session, args.url, args.warmup, args.concurrency, args.expect)
        print("START", flush=True)
        start = time.perf_counter()
        errors = await batch(session, args.url, args.requests, args.concurrency, args.expect)
        secs = time.perf_counter() - start
        print(f"RESULT {args.requests} {secs:.6f} {errors}", flush=True)
        # Until tulip-bench has read our CPU time and peak RSS (blocking on purpose: the
        # measured work is done).
        for _ in sys.stdin:
            pass


def parse():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--loop", choices=["asyncio", "uvloop"], default="asyncio")
    parser.add_argument("--url", required=True)
    parser.add_argument("--requests", type=int, default=100_000)
    parser.add_argument("--warmup", type=int, default=2_000)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--expect", type=int, default=None)
    parser.add_argument("--cpu", type=int, default=None)
    return parser.parse_args()


if __name__ == "__main__":
    args = parse()
    if args.cpu is not None and args.cpu in os.sched_getaffinity(0):
        os.sched_setaffinity(0, {args.cpu})
    if args.loop == "uvloop":
        import uvloop

        uvloop.run(main(args))
    else:
        asyncio.run(main(args))
