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
from collections import defaultdict
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path
from typing import Any, Final

import orjson

from bench.core import HOST, Run, listening, started, summarize, yes
from bench.pages import RawPages, pages_of
from bench.report import Cell, Outcome, Table

CONCURRENCY: Final = 8
SIDES: Final = ("graph", "raw")
_TIMEOUT_S: Final = 60.0  # to start, and per request
_MAX_LOAD_S: Final = 20.0  # per load of one page kind on one server
_COLUMNS: Final = (  # noqa: SIM905 - the table's header reads better as one string
    "page|same|sessiongraph req/s|p50 / p95 ms|raw req/s|p50 / p95 ms|ratio req/s|ratio range|"
    "p95/p50"
).split("|")
Stream = tuple[asyncio.StreamReader, asyncio.StreamWriter]


async def _request(stream: Stream, raw: bytes) -> tuple[int, bytes]:
    """Send ``raw`` on a keep-alive connection; the answer's status and body."""
    reader, writer = stream
    writer.write(raw)
    lines = (await reader.readuntil(b"\r\n\r\n"))[:-4].split(b"\r\n")
    length = next(
        int(line.split(b":", 1)[1]) for line in lines if line.lower().startswith(b"content-length:")
    )
    return int(lines[0].split(b" ", 2)[1]), await reader.readexactly(length)


def _post(port: int, token: str, query: str, variables: dict[str, Any]) -> bytes:
    body = orjson.dumps({"query": query, "variables": variables})
    head = (
        f"POST /graphql HTTP/1.1\r\nHost: {HOST}:{port}\r\nContent-Type: application/json\r\n"
        f"Authorization: Bearer {token}\r\nContent-Length: {len(body)}\r\n\r\n"
    )
    return head.encode("ascii") + body


async def _load(port: int, raw: bytes, count: int) -> tuple[list[float], float]:
    """``count`` requests over :data:`CONCURRENCY` connections (at most
    :data:`_MAX_LOAD_S`): the latencies and the seconds taken."""
    streams = [await asyncio.open_connection(HOST, port) for _ in range(CONCURRENCY)]
    latencies: list[float] = []
    left, begun = count, time.perf_counter()

    async def client(stream: Stream) -> None:
        nonlocal left
        while left > 0 and time.perf_counter() - begun < _MAX_LOAD_S:
            left -= 1
            t0 = time.perf_counter()
            status, body = await asyncio.wait_for(_request(stream, raw), _TIMEOUT_S)
            if status != 200:
                raise RuntimeError(f"HTTP {status}: {body[:300]!r}")
            latencies.append(time.perf_counter() - t0)

    try:
        await asyncio.gather(*map(client, streams))
    finally:
        for _, writer in streams:
            writer.close()
    return latencies, time.perf_counter() - begun


async def _answer(port: int, raw: bytes) -> Any:
    """The JSON answer to one request on a connection of its own."""
    stream = await asyncio.open_connection(HOST, port)
    try:
        status, body = await _request(stream, raw)
    finally:
        stream[1].close()
    return orjson.loads(body) if status == 200 else {"status": status}


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
    size, requests, token = run.sizes[0], run.requests, secrets.token_urlsafe(24)
    db, plain = await run.database(size), await run.database(size, encrypted=False)
    env = run.env(run.encrypted, SESSIONGRAPH_TOKEN=token)
    raw_pages = RawPages(plain)
    pages = pages_of(raw_pages.busiest_session())
    raw_pages.close()
    table = Table(
        f"Serving over loopback, {run.label(size)} messages, {CONCURRENCY} clients, "
        f"{run.rounds} round(s) of {requests} requests per page and server",
        _COLUMNS,
        caption="raw: Starlette + sqlite3 + orjson, hand-written SQL, same uvicorn settings, "
        "same file. ratio: sessiongraph req/s over raw req/s within a round, median (range) "
        "over the rounds.",
    )
    outcome = Outcome([table])
    latencies: dict[tuple[str, str], list[float]] = defaultdict(list)
    seconds: dict[tuple[str, str], float] = defaultdict(float)
    ratios: dict[str, list[float]] = defaultdict(list)
    same: dict[str, bool] = {}
    async with AsyncExitStack() as stack:
        servers = [_server(run, "graph", db, env), _server(run, "raw", plain, env)]
        ports = await asyncio.gather(*map(stack.enter_async_context, servers))
        posts = {
            p.name: [_post(port, token, p.query, p.variables) for port in ports] for p in pages
        }
        for page in pages:
            answers = [await _answer(*sent) for sent in zip(ports, posts[page.name], strict=True)]
            same[page.name] = answers[0] == answers[1]
            for port, post in zip(ports, posts[page.name], strict=True):  # warm-up, untimed
                await _load(port, post, max(CONCURRENCY, requests // 5))
        for _ in range(run.rounds):
            for page in pages:
                rates = []
                for side, port, post in zip(SIDES, ports, posts[page.name], strict=True):
                    got, took = await _load(port, post, requests)
                    latencies[page.name, side] += got
                    seconds[page.name, side] += took
                    rates.append(len(got) / took)
                ratios[page.name].append(rates[0] / rates[1])
    for page in pages:
        graph, raw = (summarize(latencies[page.name, side]) for side in SIDES)
        rate = {side: len(latencies[page.name, side]) / seconds[page.name, side] for side in SIDES}
        middle, spread = statistics.median(ratios[page.name]), sorted(ratios[page.name])
        row: list[Cell] = [page.name, yes(same[page.name]), round(rate["graph"]), str(graph)]
        row += [round(rate["raw"]), str(raw), round(middle, 2), f"{spread[0]:.2f}-{spread[-1]:.2f}"]
        table.rows.append([*row, round(graph.p95_ms / graph.p50_ms, 2)])
        figures = dict(req_per_s=rate["graph"], raw_req_per_s=rate["raw"], ratio=middle)
        figures |= dict(p95_over_p50=graph.p95_ms / graph.p50_ms, same=float(same[page.name]))
        outcome.figures |= {f"serve.{page.key}.{k}": v for k, v in figures.items()}
    return outcome
