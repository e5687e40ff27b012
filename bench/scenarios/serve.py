"""``serve``: the four pages over HTTP from sessiongraph's app and from a raw endpoint
(``bench.worker serve``, same uvicorn settings, same file), answers checked equal in an
untimed warm-up, then loaded in rounds, one server after the other, the ratio of req/s
taken within each round so that load coming and going on the machine hits both alike. The
client speaks HTTP/1.1 on asyncio streams: httpx would cost more CPU than the raw endpoint.
"""

from __future__ import annotations

import asyncio
import secrets
import statistics
import time
from collections import defaultdict
from contextlib import AsyncExitStack, closing
from typing import Final

import orjson

from bench.core import HOST, Cell, Outcome, Run, Timing, free_port, started
from bench.pages import Page, RawPages

CONCURRENCY: Final = 8  # keep-alive connections, each sending when its last answer is in
SIDES: Final = ("graph", "raw")
_TIMEOUT_S: Final = 60.0  # per request
_MAX_LOAD_S: Final = 20.0  # per load of one page kind on one server
_COLUMNS: Final = (  # noqa: SIM905 - the table's header reads better as one string
    "page|same|sessiongraph req/s|p50 / p95 ms|raw req/s|p50 / p95 ms|ratio|ratio range|p95/p50"
).split("|")
Stream = tuple[asyncio.StreamReader, asyncio.StreamWriter]


async def _request(stream: Stream, raw: bytes) -> tuple[int, bytes]:
    """Send ``raw`` on a keep-alive connection; the answer's status and body."""
    reader, writer = stream
    writer.write(raw)
    status, *lines = (await reader.readuntil(b"\r\n\r\n"))[:-4].split(b"\r\n")
    headers = dict(line.lower().split(b":", 1) for line in lines)
    return int(status.split(b" ", 2)[1]), await reader.readexactly(int(headers[b"content-length"]))


def _post(port: int, token: str, page: Page) -> bytes:
    body = orjson.dumps({"query": page.query, "variables": page.variables})
    head = (
        f"POST /graphql HTTP/1.1\r\nHost: {HOST}:{port}\r\nContent-Type: application/json\r\n"
        f"Authorization: Bearer {token}\r\nContent-Length: {len(body)}\r\n\r\n"
    )
    return head.encode("ascii") + body


async def _load(port: int, raw: bytes, count: int) -> tuple[list[float], float, bytes]:
    """``count`` requests: their latencies, the seconds taken, and the last answer."""
    streams = [await asyncio.open_connection(HOST, port) for _ in range(CONCURRENCY)]
    latencies: list[float] = []
    left, begun, last = count, time.perf_counter(), b""

    async def client(stream: Stream) -> None:
        nonlocal left, last
        while left > 0 and time.perf_counter() - begun < _MAX_LOAD_S:
            left -= 1
            t0 = time.perf_counter()
            status, last = await asyncio.wait_for(_request(stream, raw), _TIMEOUT_S)
            if status != 200:
                raise RuntimeError(f"HTTP {status}: {last[:300]!r}")
            latencies.append(time.perf_counter() - t0)

    try:
        await asyncio.gather(*map(client, streams))
    finally:
        for _, writer in streams:
            writer.close()
    return latencies, time.perf_counter() - begun, last


async def serve(run: Run) -> Outcome:
    size, requests, token = run.sizes[0], run.requests, secrets.token_urlsafe(24)
    dbs = await run.database(size), await run.database(size, encrypted=False)
    env, log = run.env(run.encrypted, SESSIONGRAPH_TOKEN=token), run.workdir / "serve.log"
    with closing(RawPages(dbs[1])) as raw_pages:
        pages = raw_pages.pages()
    outcome = Outcome(
        f"Serving over loopback, {run.label(size)} messages, {CONCURRENCY} clients, "
        f"{run.rounds} round(s) of {requests} requests per page and server",
        _COLUMNS,
        caption="raw: Starlette + sqlite3 + orjson, same uvicorn settings, same file. ratio: "
        "sessiongraph req/s over raw req/s within a round, median (range) over the rounds.",
    )
    port = {side: free_port() for side in SIDES}
    posts = {(p.key, side): _post(port[side], token, p) for p in pages for side in SIDES}
    latencies: dict[tuple[str, str], list[float]] = defaultdict(list)
    seconds: dict[tuple[str, str], float] = defaultdict(float)
    ratios: dict[str, list[float]] = defaultdict(list)
    same: dict[str, bool] = {}
    async with AsyncExitStack() as stack:
        servers = []
        for side, db in zip(SIDES, dbs, strict=True):
            argv = ["bench.worker", "serve", side, str(db), str(port[side])]
            servers.append(started(argv, env, log, port=port[side]))
        await asyncio.gather(*map(stack.enter_async_context, servers))
        for page in pages:  # a warm-up, untimed, whose last answers are to be the same
            warm = max(CONCURRENCY, requests // 5)
            answers = [(await _load(port[side], posts[page.key, side], warm))[2] for side in SIDES]
            same[page.key] = orjson.loads(answers[0]) == orjson.loads(answers[1])
        for _ in range(run.rounds):
            for page in pages:
                rates = []
                for side in SIDES:
                    got, took, _ = await _load(port[side], posts[page.key, side], requests)
                    latencies[page.key, side] += got
                    seconds[page.key, side] += took
                    rates.append(len(got) / took)
                ratios[page.key].append(rates[0] / rates[1])
    for page in pages:
        graph, raw = (Timing.of(latencies[page.key, side]) for side in SIDES)
        rate = {side: len(latencies[page.key, side]) / seconds[page.key, side] for side in SIDES}
        middle, spread = statistics.median(ratios[page.key]), sorted(ratios[page.key])
        row: list[Cell] = [page.name, same[page.key], rate["graph"], str(graph), rate["raw"]]
        row += [str(raw), middle, f"{spread[0]:.2f}-{spread[-1]:.2f}", graph.tail]
        outcome.rows.append(row)
        prefix = f"serve.{page.key}"
        outcome.add(prefix, req_per_s=rate["graph"], raw_req_per_s=rate["raw"], ratio=middle)
        outcome.add(prefix, p95_over_p50=graph.tail, same=same[page.key])
    return outcome
