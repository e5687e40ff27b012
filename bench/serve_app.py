"""The server side of the serving benchmark: one uvicorn process per app.

``python -m bench.serve_app graph DB`` serves sessiongraph's app over ``DB`` the way
``sessiongraph serve`` does (token from ``$SESSIONGRAPH_TOKEN``, INFO logging, uvicorn's
access log off); ``python -m bench.serve_app bare`` serves a bare Starlette app that
answers every POST to ``/graphql`` with one constant JSON body. Both run under the same
uvicorn settings (:data:`UVICORN_OPTIONS`), on a socket bound here to a free port on
127.0.0.1, whose number is the first line written to stdout.
"""

from __future__ import annotations

import argparse
import importlib.util
import logging
import os
import socket
import sys
from pathlib import Path
from typing import Any, Final

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

__all__ = ["BARE_BODY", "UVICORN_OPTIONS", "bare_app", "graph_app", "server_stack"]

HOST: Final = "127.0.0.1"
TOKEN_ENV: Final = "SESSIONGRAPH_TOKEN"

# What ``sessiongraph serve`` passes to uvicorn.run, loop and HTTP parser left to uvicorn.
UVICORN_OPTIONS: Final[dict[str, Any]] = {
    "log_level": "info",
    "access_log": False,
    "server_header": False,
    "lifespan": "on",
}

# What ``{ health { ok } }`` answers, as a constant.
BARE_BODY: Final = b'{"data":{"health":{"ok":true}}}'


def server_stack() -> str:
    """The event loop and HTTP parser uvicorn picks with ``loop``/``http`` on auto."""
    loop = "uvloop" if importlib.util.find_spec("uvloop") else "asyncio"
    http = "httptools" if importlib.util.find_spec("httptools") else "h11"
    return f"uvicorn {uvicorn.__version__}, {loop} loop, {http}, 1 worker"


async def _constant(request: Request) -> Response:
    await request.body()  # read what was sent, as the GraphQL endpoint does
    return Response(BARE_BODY, media_type="application/json")


def bare_app() -> Starlette:
    """Starlette with one route and no middleware: the floor of the stack."""
    return Starlette(routes=[Route("/graphql", _constant, methods=["POST"])])


def graph_app(db: Path, token: str | None) -> Starlette:
    """sessiongraph's app over ``db``, requiring ``token`` (None: no authentication)."""
    from graph.app import create_app
    from graph.settings import ServerSettings

    return create_app(db, server=ServerSettings(token=token))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.serve_app")
    parser.add_argument("kind", choices=("graph", "bare"))
    parser.add_argument("db", nargs="?", type=Path)
    args = parser.parse_args(argv)
    if args.kind == "graph":
        if args.db is None:
            parser.error("graph needs a database")
        app = graph_app(args.db, os.environ.get(TOKEN_ENV) or None)
    else:
        app = bare_app()
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    # IPPROTO_TCP spelled out: asyncio sets TCP_NODELAY only on sockets whose ``proto``
    # says TCP, and accepted sockets copy it from this one. With 0, every keep-alive
    # answer written in two parts waits ~40 ms for a delayed ACK (Nagle).
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((HOST, 0))
    sys.stdout.write(f"{sock.getsockname()[1]}\n")
    sys.stdout.flush()
    server = uvicorn.Server(uvicorn.Config(app, host=HOST, **UVICORN_OPTIONS))
    server.run(sockets=[sock])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
