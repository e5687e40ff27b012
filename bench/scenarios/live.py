"""``live``: ``graph serve`` and ``graph import --watch`` over a database holding a session;
lines appended to its file at a steady pace, then sparsely (so that the watcher's debounce
does not group them), each timed from its write to its ``sessionActivity`` frame."""

from __future__ import annotations

import asyncio
import contextlib
import os
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any, Final

import orjson
from websockets.asyncio.client import ClientConnection, connect
from websockets.typing import Subprotocol

from bench.claude_code import live_lines
from bench.core import HOST, Cell, Outcome, Run, Timing, free_port, started

SESSION: Final = "aaaaaaaa-0000-4000-8000-0000000000a1"
ACTIVITY: Final = """subscription($sid: ID!) { sessionActivity(sessionId: $sid) {
  node { __typename ... on Message { uuid } ... on Event { uuid } } } }"""
_TIMEOUT_S: Final = 30.0  # for the first line and the stragglers
Lines = Iterator[tuple[str, str]]  # (uuid, JSONL line)


@contextlib.asynccontextmanager
async def _subscribed(port: int, token: str) -> AsyncIterator[ClientConnection]:
    protocols = [Subprotocol("graphql-transport-ws")]
    url = f"ws://{HOST}:{port}/graphql"
    async with connect(url, max_size=1 << 24, subprotocols=protocols) as ws:
        init = {"type": "connection_init", "payload": {"authorization": f"Bearer {token}"}}
        await ws.send(orjson.dumps(init).decode())
        ack = orjson.loads(await asyncio.wait_for(ws.recv(), 10))
        if ack.get("type") != "connection_ack":
            raise RuntimeError(f"no connection_ack: {ack}")
        payload = {"query": ACTIVITY, "variables": {"sid": SESSION}}
        await ws.send(orjson.dumps({"id": "1", "type": "subscribe", "payload": payload}).decode())
        yield ws


async def _series(
    ws: ClientConnection, path: Path, lines: Lines, count: int, every: float
) -> list[float]:
    """Append ``count`` lines, one per ``every`` seconds; the delay of each that arrived."""
    written: dict[str, float] = {}
    arrived: dict[str, float] = {}
    done = asyncio.Event()

    async def receive() -> None:
        async for raw in ws:
            frame: dict[str, Any] = orjson.loads(raw)
            if frame.get("type") == "next":
                node = frame["payload"].get("data", {}).get("sessionActivity", {}).get("node")
                if node and node.get("uuid") in written:
                    arrived.setdefault(node["uuid"], time.perf_counter())
                    if len(arrived) == count:
                        done.set()
            elif frame.get("type") == "ping":
                await ws.send('{"type":"pong"}')

    receiver = asyncio.create_task(receive())
    begun = time.perf_counter()
    try:
        for index in range(count):
            await asyncio.sleep(max(0.0, begun + index * every - time.perf_counter()))
            uuid, line = next(lines)
            with path.open("a", encoding="utf-8") as handle:
                handle.write(line)
            written[uuid] = time.perf_counter()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(done.wait(), _TIMEOUT_S)
    finally:
        receiver.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await receiver
    return [arrived[u] - written[u] for u in written if u in arrived]


async def live(run: Run) -> Outcome:
    home, encrypted, port = run.workdir / "live", run.encrypted, free_port()
    path = home / "projects" / "-home-dev-live" / f"{SESSION}.jsonl"
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = live_lines(SESSION, run.seed)
    path.write_text("".join(next(lines)[1] for _ in range(3)), encoding="utf-8")
    db = home / "live.db"
    await run.worker("import", path.parent.parent, db, encrypted=encrypted)  # before subscribing
    token = "bench-" + os.urandom(12).hex()
    env = run.env(encrypted, SESSIONGRAPH_TOKEN=token, PYTHONUNBUFFERED="1")
    env |= {"XDG_CONFIG_HOME": str(home), "XDG_DATA_HOME": str(home)}
    serve = ["graph", "serve", "--db", str(db), "--host", HOST, "--port", str(port)]
    watch = ["graph", "import", str(path.parent.parent), "--db", str(db), "--watch", "--json"]
    steady = min(300, run.requests)
    outcome = Outcome(
        f"Live: line appended -> its sessionActivity frame (serve, import --watch){run.tag}, ms",
        ["series", "pace", "sent", "received", "p50", "p95", "max"],
    )
    log = run.workdir / "live.log"
    watching, serving = started(watch, env, log), started(serve, env, log, port=port)
    async with watching, serving, _subscribed(port, token) as ws:
        await _series(ws, path, lines, 1, 0.0)  # the watcher and the subscription are live
        for name, count, every in (("steady", steady, 0.02), ("sparse", max(2, steady // 8), 0.25)):
            delays = await _series(ws, path, lines, count, every)
            timing, worst = Timing.of(delays or [0.0]), max(delays or [0.0]) * 1000
            pace, received = f"1 / {every * 1000:.0f} ms", len(delays)
            row: list[Cell] = [name, pace, count, received, timing.p50_ms, timing.p95_ms]
            outcome.rows.append([*row, worst])
            outcome.add(f"live.{name}", p50_ms=timing.p50_ms, received=received / count)
    return outcome
