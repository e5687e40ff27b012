"""``live``: from a transcript line being appended to a subscriber receiving it.

``python -m graph serve`` and ``python -m graph import --watch`` run as subprocesses on
127.0.0.1 (a free port, a random token; encrypted with ``--encrypted``) over a database
already holding the session; a graphql-transport-ws client (``websockets``) subscribes to
its ``sessionActivity``. Lines are appended to the watched file at a steady pace (1 per
20 ms) and then sparsely (1 per 250 ms, so the watcher's debounce does not group them);
each is timed from right after its write and flush to its ``next`` frame (the node's
``uuid`` names the line). Bounded in count and time; both processes end with the run.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Final

import orjson
from websockets.asyncio.client import ClientConnection, connect
from websockets.typing import Subprotocol

from bench.core import HOST, Run, listening, started, summarize
from bench.generate import live_lines
from bench.report import Cell, Outcome, Table

SESSION: Final = "aaaaaaaa-0000-4000-8000-0000000000a1"
ACTIVITY: Final = """subscription($sid: ID!) { sessionActivity(sessionId: $sid) {
  node { __typename ... on Message { uuid } ... on Event { uuid } } } }"""
_TIMEOUT_S: Final = 30.0  # for the first line and the stragglers


async def _subscribe(port: int, token: str) -> ClientConnection:
    protocols = [Subprotocol("graphql-transport-ws")]
    ws = await connect(f"ws://{HOST}:{port}/graphql", max_size=1 << 24, subprotocols=protocols)
    init = {"type": "connection_init", "payload": {"authorization": f"Bearer {token}"}}
    await ws.send(orjson.dumps(init).decode())
    ack = orjson.loads(await asyncio.wait_for(ws.recv(), 10))
    if ack.get("type") != "connection_ack":
        raise RuntimeError(f"no connection_ack: {ack}")
    payload = {"query": ACTIVITY, "variables": {"sid": SESSION}}
    await ws.send(orjson.dumps({"id": "1", "type": "subscribe", "payload": payload}).decode())
    return ws


async def _series(
    ws: ClientConnection, path: Path, lines: Iterator[tuple[str, str]], count: int, every_s: float
) -> tuple[list[float], int]:
    """Append ``count`` lines; the delay of each that arrived (s), and how many did."""
    written: dict[str, float] = {}
    arrived: dict[str, float] = {}
    changed = asyncio.Event()

    async def receive() -> None:
        async for raw in ws:
            frame: dict[str, Any] = orjson.loads(raw)
            if frame.get("type") == "next":
                node = frame["payload"].get("data", {}).get("sessionActivity", {}).get("node")
                if node and node.get("uuid") in written:
                    arrived.setdefault(node["uuid"], time.perf_counter())
                    changed.set()
            elif frame.get("type") == "ping":
                await ws.send('{"type":"pong"}')

    receiver = asyncio.create_task(receive())
    begun = time.perf_counter()
    try:
        for index in range(count):
            await asyncio.sleep(max(0.0, begun + index * every_s - time.perf_counter()))
            uuid, line = next(lines)
            with path.open("a", encoding="utf-8") as handle:
                handle.write(line)
                handle.flush()
            written[uuid] = time.perf_counter()
        deadline = time.monotonic() + _TIMEOUT_S
        while len(arrived) < len(written) and time.monotonic() < deadline:
            changed.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(changed.wait(), deadline - time.monotonic())
    finally:
        receiver.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await receiver
    return [arrived[u] - written[u] for u in written if u in arrived], len(arrived)


async def live(run: Run) -> Outcome:
    home, encrypted = run.workdir / "live", run.encrypted
    path = home / "projects" / "-home-dev-live" / f"{SESSION}.jsonl"
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = live_lines(SESSION, run.seed)
    path.write_text("".join(next(lines)[1] for _ in range(3)), encoding="utf-8")
    db = home / "live.db"
    await run.worker("import", path.parent.parent, db, encrypted=encrypted)  # before subscribing
    token = "bench-" + os.urandom(12).hex()
    env = run.env(encrypted, SESSIONGRAPH_TOKEN=token, PYTHONUNBUFFERED="1")
    env |= {"XDG_CONFIG_HOME": str(home), "XDG_DATA_HOME": str(home)}
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        port = int(probe.getsockname()[1])
    serve = ["graph", "serve", "--db", str(db), "--host", HOST, "--port", str(port)]
    watch = ["graph", "import", str(path.parent.parent), "--db", str(db), "--watch", "--json"]
    steady = min(300, run.requests)
    table = Table(
        "Live: line appended -> sessionActivity subscriber receives it (serve + import "
        f"--watch subprocesses, graphql-transport-ws){run.tag}, ms",
        ["series", "pace", "sent", "received", "p50", "p95", "max"],
    )
    outcome, log = Outcome([table]), run.workdir / "live.log"
    async with started(serve, env, log) as server, started(watch, env, log) as watcher:
        await listening(port, server, watcher, log=log)
        ws = await _subscribe(port, token)
        try:
            await _series(ws, path, lines, 1, 0.0)  # the watcher and the subscription are live
            series = (("steady", steady, 0.02), ("sparse", max(2, steady // 8), 0.25))
            for name, count, every in series:
                delays, received = await _series(ws, path, lines, count, every)
                timing, worst = summarize(delays or [0.0]), round(max(delays or [0.0]) * 1000)
                row: list[Cell] = [name, f"1 / {every * 1000:.0f} ms", count, received]
                table.rows.append([*row, round(timing.p50_ms), round(timing.p95_ms), worst])
                outcome.figures[f"live.{name}.p50_ms"] = timing.p50_ms
                outcome.figures[f"live.{name}.received"] = received / count
        finally:
            await ws.close()
    return outcome
