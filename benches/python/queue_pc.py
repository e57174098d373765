"""queue_pc in Python: the seed's asyncq.py at scale, on asyncio and on uvloop.

5 producers put 200,000 items each into one asyncio.Queue, 10 consumers get them and call
task_done(); the program ends with `await q.join()` and cancelling the consumers, exactly the
asyncq shape that tulip's `tulip-bench queue_pc` runs. Once with an unbounded queue, once with
maxsize=100. Prints ns per item and items per second, the median of several runs.

With --tulip NS_UNBOUNDED,NS_BOUNDED (tulip's one-loop ns/item from `tulip-bench queue_pc`),
it also prints how many times faster tulip is. `queue_pc.sh` beside this file makes the venv,
runs both and passes the figures along.
"""

import argparse
import asyncio
import statistics
import time

PRODUCERS = 5
ITEMS_PER_PRODUCER = 200_000
CONSUMERS = 10


async def produce(q: asyncio.Queue, p: int, n: int) -> None:
    for i in range(n):
        await q.put(p * n + i)


async def consume(q: asyncio.Queue, counts: list) -> None:
    while True:
        await q.get()
        counts[0] += 1
        q.task_done()


async def main(maxsize: int, per_producer: int) -> float:
    start = time.perf_counter()
    q = asyncio.Queue(maxsize)
    counts = [0]
    producers = [asyncio.create_task(produce(q, p, per_producer)) for p in range(PRODUCERS)]
    consumers = [asyncio.create_task(consume(q, counts)) for _ in range(CONSUMERS)]
    await asyncio.gather(*producers)
    await q.join()
    for c in consumers:
        c.cancel()
    await asyncio.gather(*consumers, return_exceptions=True)
    elapsed = time.perf_counter() - start
    assert counts[0] == PRODUCERS * per_producer, "items lost or duplicated"
    return elapsed


def measure(loop_name: str, maxsize: int, per_producer: int, reps: int) -> float:
    """Median ns per item over `reps` runs, each on a fresh loop."""
    runs = []
    for _ in range(reps):
        if loop_name == "uvloop":
            import uvloop

            elapsed = uvloop.run(main(maxsize, per_producer))
        else:
            elapsed = asyncio.run(main(maxsize, per_producer))
        runs.append(elapsed * 1e9 / (PRODUCERS * per_producer))
    return statistics.median(runs)


def main_cli() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=3, help="runs per figure (median)")
    parser.add_argument("--quick", action="store_true", help="a tenth of the items")
    parser.add_argument("--tulip", help="tulip's ns/item, unbounded and maxsize 100: A,B")
    parser.add_argument("--loops", default="asyncio,uvloop", help="which loops to measure")
    args = parser.parse_args()
    per_producer = ITEMS_PER_PRODUCER // (10 if args.quick else 1)
    tulip = [float(x) for x in args.tulip.split(",")] if args.tulip else None

    print(f"### queue_pc in Python: {PRODUCERS} producers × {per_producer} items, "
          f"{CONSUMERS} consumers, join, cancel (median of {args.reps})\n")
    header = "| loop | queue | ns/item | M items/s |"
    rule = "|---|---|---:|---:|"
    if tulip:
        header += " tulip × faster |"
        rule += "---:|"
    print(header)
    print(rule)
    for loop_name in args.loops.split(","):
        for index, maxsize in enumerate([0, 100]):
            ns = measure(loop_name, maxsize, per_producer, args.reps)
            queue = "unbounded" if maxsize == 0 else f"maxsize {maxsize}"
            line = f"| {loop_name} | {queue} | {ns:.1f} | {1e3 / ns:.2f} |"
            if tulip:
                line += f" {ns / tulip[index]:.1f}× |"
            print(line, flush=True)


if __name__ == "__main__":
    main_cli()
