"""``serve``: the four pages over HTTP, sessiongraph beside a raw endpoint (issue 17).

Two uvicorn processes with the same settings (``bench.worker serve``): sessiongraph's
app (token required) and a Starlette + sqlite3 + orjson endpoint answering the same pages
from the same file (the plaintext twin with ``--encrypted``). Their answers are checked
equal (same JSON ``data``) before any timing. Then, in rounds, each page kind is loaded
on one server and then the other: :data:`CONCURRENCY` keep-alive connections, each sending its
next request when the previous answer is in, for a bounded count and time. The ratio of
req/s is taken within each round (the median of the rounds is reported), so load that
comes and goes on the machine hits both sides alike.

The client speaks HTTP/1.1 on asyncio streams itself: an httpx client would cost more CPU
per request than the raw endpoint. Traffic goes to 127.0.0.1 only; servers are
terminated (then killed) whatever happens.
"""

from __future__ import annotations

import asyncio
import secrets
import statistics
import time
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path
from typing import Any, Final

import orjson

from bench.core import HOST, Run, listening, started, summarize, yes
from bench.pages import RawPages, pages_of
from bench.report import Cell, Outcome, Table

CONCURRENCY: Final = 8
_TIMEOUT_S: Final = 60.0  # to start, and per request
_MAX_LOAD_S: Final = 20.0  # per load of one page kind on one server
_COLUMNS: Final = (  # noqa: SIM905 - the table's header reads better as one string
    "page|same|sessiongraph req/s|p50 / p95 ms|raw req/s|p50 / p95 ms|ratio req/s|ratio range|"
    "p95/p50"
).split("|")


class _Connection:
    """One keep-alive HTTP/1.1 connection to a loopback server."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

    @classmethod
    async def open(cls, port: int) -> _Connection:
        return cls(*await asyncio.open_connection(HOST, port))

    async def request(self, raw: bytes) -> tuple[int, bytes]:
        self.writer.write(raw)
        head = await self.reader.readuntil(b"\r\n\r\n")
        lines = head[:-4].split(b"\r\n")
        length = next(
            int(line.split(b":", 1)[1])
            for line in lines
            if line.lower().startswith(b"content-length:")
        )
        return int(lines[0].split(b" ", 2)[1]), await self.reader.readexactly(length)

    def close(self) -> None:
        self.writer.close()


def _post(port: int, token: str, query: str, variables: dict[str, Any] | None) -> bytes:
    body = orjson.dumps({"query": query, "variables": variables or {}})
    head = (
        f"POST /graphql HTTP/1.1\r\nHost: {HOST}:{port}\r\nContent-Type: application/json\r\n"
        f"Authorization: Bearer {token}\r\nContent-Length: {len(body)}\r\n\r\n"
    )
    return head.encode("ascii") + body


async def _load(port: int, raw: bytes, count: int) -> tuple[list[float], float]:
    """``count`` requests over :data:`CONCURRENCY` connections (at most
    :data:`_MAX_LOAD_S`): the latencies and the seconds taken."""
    connections = [await _Connection.open(port) for _ in range(CONCURRENCY)]
    latencies: list[float] = []
    left = count
    begun = time.perf_counter()

    async def client(connection: _Connection) -> None:
        nonlocal left
        while left > 0 and time.perf_counter() - begun < _MAX_LOAD_S:
            left -= 1
            t0 = time.perf_counter()
            status, body = await asyncio.wait_for(connection.request(raw), _TIMEOUT_S)
            if status != 200:
                raise RuntimeError(f"HTTP {status}: {body[:300]!r}")
            latencies.append(time.perf_counter() - t0)

    try:
        await asyncio.gather(*(client(c) for c in connections))
    finally:
        for connection in connections:
            connection.close()
    return latencies, time.perf_counter() - begun


@asynccontextmanager
async def _server(run: Run, kind: str, db: Path, env: dict[str, str]) -> AsyncIterator[int]:
    """A ``bench.worker serve`` process; yields its port once it answers."""
    log = run.workdir / "serve.log"
    async with started(["bench.worker", "serve", kind, str(db)], env, log, pipe=True) as process:
        assert process.stdout is not None
        port = int(await asyncio.wait_for(process.stdout.readline(), _TIMEOUT_S))
        await listening(port, process, log=log)
        yield port


async def serve(run: Run) -> Outcome:
    size, requests, token = run.options.sizes[0], run.options.requests, secrets.token_urlsafe(24)
    db, plain = await run.database(size), await run.database(size, encrypted=False)
    env = run.env(run.options.encrypted, SESSIONGRAPH_TOKEN=token)
    raw_pages = RawPages(plain)
    pages = pages_of(raw_pages.busiest_session())
    raw_pages.close()
    table = Table(
        f"Serving over loopback, {run.label(size)} messages, {CONCURRENCY} clients, "
        f"{run.options.rounds} round(s) of {requests} requests per page and server",
        _COLUMNS,
        caption="raw: Starlette + sqlite3 + orjson, hand-written SQL, same uvicorn settings, "
        "same file. ratio: sessiongraph req/s over raw req/s within a round, median (range) "
        "over the rounds.",
    )
    outcome = Outcome([table])
    sides = ("graph", "raw")
    latencies: dict[tuple[str, str], list[float]] = {}
    seconds: dict[tuple[str, str], float] = {}
    async with AsyncExitStack() as stack:
        servers = [_server(run, "graph", db, env), _server(run, "raw", plain, env)]
        ports = dict(
            zip(sides, await asyncio.gather(*map(stack.enter_async_context, servers)), strict=True)
        )
        posts = {
            (p.name, side): _post(port, token, p.query, p.variables)
            for p in pages
            for side, port in ports.items()
        }
        same = {p.name: await _same(ports, posts, p.name) for p in pages}
        for page, side in ((p, s) for p in pages for s in sides):  # warm-up, untimed
            await _load(ports[side], posts[page.name, side], max(CONCURRENCY, requests // 5))
        ratios: dict[str, list[float]] = {page.name: [] for page in pages}
        for _ in range(run.options.rounds):
            for page in pages:
                rates = {}
                for side in sides:
                    got, took = await _load(ports[side], posts[page.name, side], requests)
                    latencies.setdefault((page.name, side), []).extend(got)
                    seconds[page.name, side] = seconds.get((page.name, side), 0.0) + took
                    rates[side] = len(got) / took
                ratios[page.name].append(rates["graph"] / rates["raw"])
    for page in pages:
        graph, raw = (summarize(latencies[page.name, side]) for side in sides)
        rate = {side: len(latencies[page.name, side]) / seconds[page.name, side] for side in sides}
        middle, spread = statistics.median(ratios[page.name]), sorted(ratios[page.name])
        row: list[Cell] = [page.name, yes(same[page.name]), round(rate["graph"]), str(graph)]
        row += [round(rate["raw"]), str(raw), round(middle, 2), f"{spread[0]:.2f}-{spread[-1]:.2f}"]
        table.rows.append([*row, round(graph.p95_ms / graph.p50_ms, 2)])
        figures = dict(req_per_s=rate["graph"], raw_req_per_s=rate["raw"], ratio=middle)
        figures |= dict(p95_over_p50=graph.p95_ms / graph.p50_ms, same=float(same[page.name]))
        outcome.figures |= {f"serve.{page.key}.{k}": v for k, v in figures.items()}
    return outcome


async def _same(ports: dict[str, int], posts: dict[tuple[str, str], bytes], page: str) -> bool:
    """Whether both servers answer ``page`` with the same JSON."""
    answers = []
    for side, port in ports.items():
        connection = await _Connection.open(port)
        try:
            status, body = await connection.request(posts[page, side])
        finally:
            connection.close()
        answers.append(orjson.loads(body) if status == 200 else {"status": status})
    return bool(answers[0] == answers[1])
