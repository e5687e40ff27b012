"""The server side of the serve scenario: ``python -m bench.serve_app {graph,raw} DB``.

``graph`` serves sessiongraph's app over ``DB`` as ``sessiongraph serve`` does (token
from ``$SESSIONGRAPH_TOKEN``, key from ``$SESSIONGRAPH_KEY``); ``raw`` serves a Starlette
app with one route that answers the four pages of :mod:`bench.pages` with hand-written
SQL over ``DB`` (sqlite3 on the event loop, orjson), no middleware, no token. Both run
under the same uvicorn settings, on a socket bound here to a free port on 127.0.0.1,
whose number is the first line written to stdout.
"""

from __future__ import annotations

import logging
import os
import socket
import sys
from pathlib import Path
from typing import Any, Final

import orjson
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from bench.core import HOST
from bench.pages import FLAT, NESTED, SEARCH, SESSION, RawPages

# What ``sessiongraph serve`` passes to uvicorn.run, loop and HTTP parser left to uvicorn.
UVICORN_OPTIONS: Final[dict[str, Any]] = {
    "log_level": "info",
    "access_log": False,
    "server_header": False,
    "lifespan": "on",
}


def raw_app(db: Path) -> Starlette:
    """The hand-written endpoint: the page is picked by its query text."""
    pages = RawPages(db)
    answer = {
        NESTED: lambda v: pages.nested(),
        FLAT: lambda v: pages.flat(),
        SESSION: lambda v: pages.session(v["id"]),
        SEARCH: lambda v: pages.search(v["q"]),
    }

    async def graphql(request: Request) -> Response:
        body = orjson.loads(await request.body())
        data = answer[body["query"]](body.get("variables") or {})
        return Response(orjson.dumps({"data": data}), media_type="application/json")

    return Starlette(routes=[Route("/graphql", graphql, methods=["POST"])])


def graph_app(db: Path) -> Starlette:
    from graph.app import create_app
    from graph.keys import resolve_key
    from graph.settings import ServerSettings

    token = os.environ.get("SESSIONGRAPH_TOKEN") or None
    return create_app(db, server=ServerSettings(token=token), key=resolve_key())


def main(argv: list[str]) -> int:
    kind, db = argv[0], Path(argv[1])
    app = graph_app(db) if kind == "graph" else raw_app(db)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    # IPPROTO_TCP spelled out: asyncio sets TCP_NODELAY only on sockets whose ``proto``
    # says TCP (accepted ones copy it); with 0 a keep-alive answer written in two parts
    # waits ~40 ms for a delayed ACK.
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((HOST, 0))
    sys.stdout.write(f"{sock.getsockname()[1]}\n")
    sys.stdout.flush()
    uvicorn.Server(uvicorn.Config(app, host=HOST, **UVICORN_OPTIONS)).run(sockets=[sock])
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
