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
import random
import socket
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any, Final

import orjson
from websockets.asyncio.client import ClientConnection, connect
from websockets.typing import Subprotocol

from bench.core import HOST, Run, listening, started, summarize
from bench.generate import TextPool, live_line
from bench.report import Cell, Outcome, Table
from graph.crypto import MasterKey
from graph.importers.importer import import_paths
from graph.store import Store
from graph.store.keyring import KeyMaterial

SESSION: Final = "aaaaaaaa-0000-4000-8000-0000000000a1"
ACTIVITY: Final = """subscription($sid: ID!) { sessionActivity(sessionId: $sid) {
  node { __typename ... on Message { uuid } ... on Event { uuid } } } }"""
_TIMEOUT_S: Final = 30.0  # for the server to start, the first line, the stragglers


@contextlib.asynccontextmanager
async def _processes(run: Run, db: Path, watched: Path, env: dict[str, str]) -> AsyncIterator[int]:
    """``serve`` and ``import --watch`` on ``db``; yields the port once served; ends both."""
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        port = int(probe.getsockname()[1])
    log = run.workdir / "live.log"
    serve = ["graph", "serve", "--db", str(db), "--host", HOST, "--port", str(port)]
    watch = ["graph", "import", str(watched), "--db", str(db), "--watch", "--json"]
    async with started(serve, env, log) as server, started(watch, env, log) as watcher:
        await listening(port, server, watcher, log=log)
        yield port


async def _subscribe(port: int, token: str) -> ClientConnection:
    ws = await connect(
        f"ws://{HOST}:{port}/graphql",
        max_size=1 << 24,
        subprotocols=[Subprotocol("graphql-transport-ws")],
    )
    init = {"type": "connection_init", "payload": {"authorization": f"Bearer {token}"}}
    await ws.send(orjson.dumps(init).decode())
    ack = orjson.loads(await asyncio.wait_for(ws.recv(), 10))
    if ack.get("type") != "connection_ack":
        raise RuntimeError(f"no connection_ack: {ack}")
    await ws.send(
        orjson.dumps(
            {
                "id": "1",
                "type": "subscribe",
                "payload": {"query": ACTIVITY, "variables": {"sid": SESSION}},
            }
        ).decode()
    )
    return ws


async def _series(
    ws: ClientConnection,
    path: Path,
    lines: Iterator[tuple[str, str]],
    count: int,
    interval_s: float,
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
            await asyncio.sleep(max(0.0, begun + index * interval_s - time.perf_counter()))
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
    folder = run.workdir / "live" / "projects" / "-home-dev-live"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{SESSION}.jsonl"
    text = TextPool(random.Random(run.options.seed), size=1 << 16)
    numbers = iter(range(1_000_000))
    lines = (live_line(SESSION, n, text) for n in numbers)
    path.write_text("".join(next(lines)[1] for _ in range(3)), encoding="utf-8")
    db = run.workdir / "live" / "live.db"
    token, home = "bench-" + os.urandom(12).hex(), str(run.workdir / "live")
    env = run.env(run.options.encrypted, SESSIONGRAPH_TOKEN=token, PYTHONUNBUFFERED="1")
    env |= {"XDG_CONFIG_HOME": home, "XDG_DATA_HOME": home}
    key = MasterKey.from_base64(run.key) if run.options.encrypted and run.key else None
    store = await Store.open(db, backup=False, key=KeyMaterial(key=key) if key else None)
    try:
        await import_paths(store, [path])  # the session exists before anyone subscribes
    finally:
        await store.close()
    steady = min(300, run.options.requests)
    table = Table(
        "Live: line appended -> sessionActivity subscriber receives it (serve + import "
        "--watch subprocesses, graphql-transport-ws)"
        + (", encrypted" if run.options.encrypted else "")
        + ", ms",
        ["series", "pace", "sent", "received", "p50", "p95", "max"],
    )
    outcome = Outcome([table])
    async with _processes(run, db, path.parent.parent, env) as port:
        ws = await _subscribe(port, token)
        try:
            await _series(ws, path, lines, 1, 0.0)  # the watcher and the subscription are live
            for name, count, interval in (
                ("steady", steady, 0.02),
                ("sparse", max(2, steady // 8), 0.25),
            ):
                delays, received = await _series(ws, path, lines, count, interval)
                timing = summarize(delays or [0.0])
                worst = round(max(delays or [0.0]) * 1000)
                row: list[Cell] = [name, f"1 / {interval * 1000:.0f} ms", count, received]
                table.rows.append([*row, round(timing.p50_ms), round(timing.p95_ms), worst])
                outcome.figures |= {
                    f"live.{name}.p50_ms": timing.p50_ms,
                    f"live.{name}.received": received / count,
                }
        finally:
            await ws.close()
    return outcome
