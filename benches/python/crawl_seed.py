"""The seed's areq.py for tulip-bench's `crawl` scenario: taken out of the seed text at run time
(it is not copied into the repository), and run verbatim on asyncio or with uvloop installed.

    python crawl_seed.py extract SEED_TEXT DEST_DIR   # writes DEST_DIR/areq.py
    python crawl_seed.py uvloop DEST_DIR/areq.py      # runs it with uvloop's event loop policy

The asyncio run needs no wrapper: `python DEST_DIR/areq.py`. The script reads urls.txt beside
itself and writes foundurls.txt there, as in the tutorial.

The program is the fenced code block that contains the line `# areq.py`: from the fence before
that line to the next fence. It is checked to compile and to define the tutorial's coroutines
and its `__main__` block, so that a changed seed text fails here and not half-way into a run.
"""

import pathlib
import runpy
import sys

MARKER = "# areq.py"
MUST_HAVE = (
    "async def fetch_html(",
    "async def parse(",
    "async def write_one(",
    "async def bulk_crawl_and_write(",
    'if __name__ == "__main__":',
    "import aiofiles",
    "import aiohttp",
)


def extract(seed: pathlib.Path) -> str:
    lines = seed.read_text(encoding="utf-8").splitlines()
    marks = [i for i, line in enumerate(lines) if line.strip() == MARKER]
    if not marks:
        sys.exit(f"crawl_seed: no line `{MARKER}` in {seed}")
    for mark in marks:
        start = next((i for i in range(mark, -1, -1) if lines[i].lstrip().startswith("```")), None)
        end = next(
            (i for i in range(mark + 1, len(lines)) if lines[i].lstrip().startswith("```")), None
        )
        if start is None or end is None:
            continue
        program = "\n".join(lines[start + 1 : end]) + "\n"
        if all(needle in program for needle in MUST_HAVE):
            compile(program, "areq.py", "exec")
            return program
    sys.exit(f"crawl_seed: no complete areq.py program around `{MARKER}` in {seed}")


def main() -> None:
    if len(sys.argv) == 4 and sys.argv[1] == "extract":
        dest = pathlib.Path(sys.argv[3])
        dest.mkdir(parents=True, exist_ok=True)
        (dest / "areq.py").write_text(extract(pathlib.Path(sys.argv[2])), encoding="utf-8")
    elif len(sys.argv) == 3 and sys.argv[1] == "uvloop":
        import asyncio

        import uvloop

        asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())
        script = sys.argv[2]
        sys.argv = [script]
        runpy.run_path(script, run_name="__main__")
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
