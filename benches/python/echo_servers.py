"""Echo servers in Python for tulip-bench's network scenarios (echo, c10k, connect_rate).

    python echo_servers.py KIND [--addr HOST:PORT] [--cpu N] [--buf BYTES]

KIND is one of:

  asyncio-streams   asyncio.start_server; per connection `data = await reader.read(buf)`,
                    `writer.write(data)`, `await writer.drain()` until EOF
  asyncio-protocol  loop.create_server with an asyncio.Protocol whose data_received writes
                    the data straight back
  uvloop-protocol   the same Protocol on uvloop's loop
  uvloop-streams    the streams server on uvloop's loop

It prints `LISTENING host:port` once it accepts connections (tulip-bench waits for that line),
then serves until killed. Like the Rust servers it pins itself to CPU N (tulip-bench pins all
its threads again once it listens), raises its descriptor limit to the hard limit for c10k, and
listens with a backlog of 1024 (asyncio's default is 100; tokio's and tulip's are 1024). asyncio
and uvloop set TCP_NODELAY on every connection themselves.

`echo.sh` beside this file makes a venv with uvloop and runs tulip-bench with these servers.
"""

import argparse
import asyncio
import os
import resource
import sys

BACKLOG = 1024


class Echo(asyncio.Protocol):
    """Writes back whatever arrives; closes when the peer does."""

    def connection_made(self, transport):
        self.transport = transport

    def data_received(self, data):
        self.transport.write(data)

    def eof_received(self):
        return False  # close our side too


def streams_handler(buf):
    async def handle(reader, writer):
        try:
            while True:
                data = await reader.read(buf)
                if not data:
                    break
                writer.write(data)
                await writer.drain()
        except ConnectionError:
            pass
        finally:
            writer.close()

    return handle


async def serve(kind, host, port, buf):
    loop = asyncio.get_running_loop()
    if kind.endswith("streams"):
        server = await asyncio.start_server(streams_handler(buf), host, port, backlog=BACKLOG)
    else:
        server = await loop.create_server(Echo, host, port, backlog=BACKLOG)
    name = server.sockets[0].getsockname()
    print(f"LISTENING {name[0]}:{name[1]}", flush=True)
    await server.serve_forever()


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "kind", choices=["asyncio-streams", "asyncio-protocol", "uvloop-protocol", "uvloop-streams"]
    )
    parser.add_argument("--addr", default="127.0.0.1:0")
    parser.add_argument("--cpu", type=int)
    parser.add_argument("--buf", type=int, default=64 * 1024)
    args = parser.parse_args()

    if args.cpu is not None and args.cpu in os.sched_getaffinity(0):
        os.sched_setaffinity(0, {args.cpu})
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    host, _, port = args.addr.rpartition(":")

    if args.kind.startswith("uvloop"):
        import uvloop

        runner = uvloop.run
    else:
        runner = asyncio.run
    try:
        runner(serve(args.kind, host, int(port), args.buf))
    except KeyboardInterrupt:
        sys.exit(0)


if __name__ == "__main__":
    main()
