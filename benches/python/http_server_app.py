"""A hello-world ASGI app on uvicorn (uvloop + httptools) for tulip-bench's http_server scenario.

    python http_server_app.py [--addr HOST:PORT] [--cpu N]

`GET /` answers `Hello, World!` (text/plain; charset=utf-8), anything else 404, like the Rust
servers (`tulip-bench --serve-http KIND`, benches/src/http/serve.rs). It binds the socket
itself (backlog 1024, as the Rust servers), prints `LISTENING host:port` (tulip-bench waits for
that line), then hands the socket to uvicorn with loop="uvloop", http="httptools", no lifespan
and no access log, and serves until killed. It pins itself to CPU N first.

`http.sh` beside this file makes a venv with uvicorn, uvloop and httptools and runs the
scenario.
"""

import argparse
import os
import socket

import uvicorn

HELLO = b"Hello, World!"
TEXT = [(b"content-type", b"text/plain; charset=utf-8")]


async def app(scope, receive, send):
    """The one route."""
    if scope["method"] == "GET" and scope["path"] == "/":
        status, body = 200, HELLO
    else:
        status, body = 404, b""
    await send({"type": "http.response.start", "status": status, "headers": TEXT})
    await send({"type": "http.response.body", "body": body})


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--addr", default="127.0.0.1:0")
    parser.add_argument("--cpu", type=int, default=None)
    args = parser.parse_args()
    if args.cpu is not None and args.cpu in os.sched_getaffinity(0):
        os.sched_setaffinity(0, {args.cpu})
    host, port = args.addr.rsplit(":", 1)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, int(port)))
    sock.listen(1024)
    host, port = sock.getsockname()
    print(f"LISTENING {host}:{port}", flush=True)
    config = uvicorn.Config(
        app,
        loop="uvloop",
        http="httptools",
        lifespan="off",
        access_log=False,
        log_level="warning",
        backlog=1024,
    )
    uvicorn.Server(config).run(sockets=[sock])


if __name__ == "__main__":
    main()
