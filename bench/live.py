"""Live benchmark (issue 7): from a transcript line being appended to a subscriber seeing it.

    python -m bench.live                 # 300 lines at 1 per 20 ms, and the rest below
    python -m bench.live --quick         # 40 lines, fewer of everything
    python -m bench.live --encrypted     # the same against an encrypted database

Everything runs on 127.0.0.1, bounded in count and time, and every process started here
is terminated at the end:

- ``python -m graph serve`` (a subprocess, a random free port, a random token) on a
  database that already holds two sessions, and ``python -m graph import --watch``
  (another subprocess) following the projects folder of the first one;
- a real graphql-transport-ws client (``websockets``), token in ``connection_init``,
  subscribed to ``sessionActivity`` of both sessions.

Series of lines, each timed from ``time.perf_counter()`` right after the line is
written and flushed (or, without the watcher, right before it is imported) to the
client receiving its ``next`` frame (the node's ``uuid`` names the line):

- ``steady``: a few hundred lines appended at a steady pace (1 per 20 ms) to the file
  ``import --watch`` follows: the end-to-end delay a user sees while Claude Code writes;
- ``sparse``: fewer lines, 1 per 250 ms: lines that come one at a time, so the
  watcher's debounce does not group them;
- ``in-process import``: lines appended to the second session's file, which nothing
  watches, and imported here with ``import_paths`` (another process than the server,
  like the watcher): the server's share (change feed poll, resolving, WebSocket).

Each series reports p50/p95/max and how many lines arrived, in order, exactly once.
Then :mod:`bench.live_feed` measures the change feed's cost per tick in process, with 1
and with 100 subscribers of each kind. Figures only; nothing is asserted.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Final

import httpx
from rich.console import Console
from rich.table import Table
from websockets.asyncio.client import ClientConnection, connect
from websockets.typing import Subprotocol

from bench.live_feed import TickCost, bench_feed
from bench.live_lines import LineMaker
from bench.report import write_figures
from bench.run import wide_console
from bench.timing import Plan, Timing, summarize
from graph.crypto import MasterKey
from graph.feed import POLL_SECONDS
from graph.importers import import_paths
from graph.importers.watch import DEBOUNCE_MS, STEP_MS
from graph.keys import KEY_ENV, KEY_FILE_ENV
from graph.store import Store
from graph.store.keyring import KeyMaterial

__all__ = [
    "ACTIVITY",
    "LiveOptions",
    "LiveReport",
    "Series",
    "SeriesPlan",
    "bench_live",
    "live_tables",
    "main",
]

WATCHED: Final = "aaaaaaaa-0000-4000-8000-0000000000a1"  # followed by import --watch
DIRECT: Final = "aaaaaaaa-0000-4000-8000-0000000000b2"  # imported by the benchmark itself
ACTIVITY: Final = """subscription($sid: ID!) { sessionActivity(sessionId: $sid) {
  cursor node { __typename ... on Message { uuid } ... on Event { uuid } } } }"""
_START_TIMEOUT: Final = 60.0  # seconds for the server to answer /healthz
_WARMUP_TIMEOUT: Final = 30.0  # seconds for the first line to come through
_DRAIN_TIMEOUT: Final = 20.0  # seconds after the last line for the stragglers


@dataclass(frozen=True, slots=True)
class SeriesPlan:
    name: str
    path: str  # "import --watch" or "in-process import"
    lines: int
    interval_ms: float


@dataclass(frozen=True, slots=True)
class LiveOptions:
    series: tuple[SeriesPlan, ...]
    ticks: int = 30  # ticks with changes per subscriber count
    tick_plan: Plan = field(default_factory=lambda: Plan(warmup=5, iterations=300, budget_s=1.0))
    encrypted: bool = False
    seed: int = 7


FULL: Final = LiveOptions(
    series=(
        SeriesPlan("steady", "import --watch", 300, 20.0),
        SeriesPlan("sparse", "import --watch", 40, 250.0),
        SeriesPlan("in-process import", "in-process import", 100, 50.0),
    ),
)
QUICK: Final = LiveOptions(
    series=(
        SeriesPlan("steady", "import --watch", 40, 20.0),
        SeriesPlan("sparse", "import --watch", 8, 250.0),
        SeriesPlan("in-process import", "in-process import", 20, 50.0),
    ),
    ticks=10,
    tick_plan=Plan(warmup=2, iterations=50, budget_s=0.2, minimum=5),
)


@dataclass(frozen=True, slots=True)
class Series:
    """One series of lines: how long each took to reach the subscriber."""

    name: str
    path: str
    interval_ms: float
    sent: int
    received: int  # of the lines sent, how many arrived (each counted once)
    in_order: bool  # arrived in the order they were written
    in_order_by_kind: bool  # messages in the order written, and events in the order written
    overtaken: int  # lines that arrived after a line written later than them
    duplicates: int  # frames for a line that had already arrived
    errors: list[str]
    delays_ms: list[float]  # per line received, in the order written
    seconds: float  # from the first write to the last arrival (or giving up)

    @property
    def timing(self) -> Timing | None:
        return summarize([d / 1000 for d in self.delays_ms]) if self.delays_ms else None

    @property
    def max_ms(self) -> float:
        return max(self.delays_ms, default=0.0)

    @property
    def complete(self) -> bool:
        """Every line arrived, exactly once, and no error came."""
        return self.received == self.sent and not self.duplicates and not self.errors

    def to_dict(self) -> dict[str, Any]:
        timing = self.timing
        return {
            **{k: v for k, v in asdict(self).items() if k != "delays_ms"},
            "p50_ms": timing.p50_ms if timing else None,
            "p95_ms": timing.p95_ms if timing else None,
            "max_ms": self.max_ms,
            "complete": self.complete,
            "delays_ms": self.delays_ms,
        }


@dataclass(slots=True)
class LiveReport:
    encrypted: bool
    poll_seconds: float = POLL_SECONDS
    debounce_ms: int = DEBOUNCE_MS
    step_ms: int = STEP_MS
    server_start_s: float = 0.0
    warmup_s: float = 0.0
    pids: list[int] = field(default_factory=list)  # of the processes started (all ended)
    series: list[Series] = field(default_factory=list)
    ticks: list[TickCost] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "encrypted": self.encrypted,
            "poll_seconds": self.poll_seconds,
            "debounce_ms": self.debounce_ms,
            "step_ms": self.step_ms,
            "server_start_s": self.server_start_s,
            "warmup_s": self.warmup_s,
            "series": [s.to_dict() for s in self.series],
            "ticks": [t.to_dict() for t in self.ticks],
        }


# processes


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _stop(process: subprocess.Popen[bytes]) -> None:
    """Terminate one process we started; kill it if it does not go within 10 s."""
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)


def _tail(path: Path, chars: int = 3000) -> str:
    try:
        return path.read_text(errors="replace")[-chars:]
    except OSError:
        return ""


@contextlib.contextmanager
def _served(
    workdir: Path, db: Path, watched: Path, env: dict[str, str], pids: list[int]
) -> Iterator[int]:
    """``serve`` and ``import --watch`` running on ``db``; yields the port. Both are
    terminated on the way out (their pids are added to ``pids``)."""
    base = [sys.executable, "-m", "graph"]
    port = _free_port()
    logs = {name: workdir / f"{name}.log" for name in ("serve", "watch")}
    processes: list[subprocess.Popen[bytes]] = []
    try:
        with logs["serve"].open("wb") as log:
            processes.append(
                subprocess.Popen(
                    [*base, "serve", "--db", str(db), "--host", "127.0.0.1", "--port", str(port)],
                    env=env,
                    stdin=subprocess.DEVNULL,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                )
            )
        with logs["watch"].open("wb") as log:
            processes.append(
                subprocess.Popen(
                    [*base, "import", str(watched), "--db", str(db), "--watch", "--json"],
                    env=env,
                    stdin=subprocess.DEVNULL,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                )
            )
        pids.extend(process.pid for process in processes)
        deadline = time.monotonic() + _START_TIMEOUT
        while True:
            for process, name in zip(processes, logs, strict=True):
                if process.poll() is not None:
                    raise RuntimeError(
                        f"{name} exited ({process.returncode}):\n{_tail(logs[name])}"
                    )
            with contextlib.suppress(httpx.TransportError):
                if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).is_success:
                    break
            if time.monotonic() > deadline:
                raise RuntimeError(f"the server did not start:\n{_tail(logs['serve'])}")
            time.sleep(0.05)
        yield port
    finally:
        for process in reversed(processes):
            _stop(process)


# the client


class _Client:
    """A graphql-transport-ws client: arrival times of the uuids of each subscription."""

    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws
        self.arrived: dict[str, list[tuple[str, str, float]]] = {}  # uuid, typename, when
        self.errors: dict[str, list[str]] = {}
        self.changed = asyncio.Event()
        self.task: asyncio.Task[None] | None = None

    @classmethod
    async def connect(cls, port: int, token: str) -> _Client:
        ws = await connect(
            f"ws://127.0.0.1:{port}/graphql",
            subprotocols=[Subprotocol("graphql-transport-ws")],
            open_timeout=10,
            close_timeout=5,
            max_size=1 << 24,
        )
        await ws.send(
            json.dumps({"type": "connection_init", "payload": {"authorization": f"Bearer {token}"}})
        )
        ack = json.loads(await asyncio.wait_for(ws.recv(), 10))
        if ack.get("type") != "connection_ack":
            await ws.close()
            raise RuntimeError(f"no connection_ack: {ack}")
        client = cls(ws)
        client.task = asyncio.create_task(client._receive())
        return client

    async def subscribe(self, sid: str, session_id: str) -> None:
        self.arrived[sid], self.errors[sid] = [], []
        await self.ws.send(
            json.dumps(
                {
                    "id": sid,
                    "type": "subscribe",
                    "payload": {"query": ACTIVITY, "variables": {"sid": session_id}},
                }
            )
        )

    async def _receive(self) -> None:
        async for raw in self.ws:
            now = time.perf_counter()
            frame = json.loads(raw)
            kind, sid = frame.get("type"), frame.get("id")
            if kind == "ping":
                await self.ws.send(json.dumps({"type": "pong"}))
            elif kind == "next" and sid in self.arrived:
                payload = frame["payload"]
                if payload.get("errors"):
                    self.errors[sid].append(json.dumps(payload["errors"])[:300])
                else:
                    node = payload["data"]["sessionActivity"]["node"]
                    self.arrived[sid].append((node["uuid"], node["__typename"], now))
            elif kind in ("error", "complete") and sid in self.errors:
                self.errors[sid].append(f"{kind}: {json.dumps(frame.get('payload'))[:300]}")
            self.changed.set()

    async def wait_for(self, sid: str, uuids: set[str], seconds: float) -> bool:
        """Until every uuid arrived on ``sid`` (True), or ``seconds`` passed (False)."""
        deadline = time.monotonic() + seconds
        while not uuids <= {arrival[0] for arrival in self.arrived[sid]}:
            if self.errors[sid] or (self.task is not None and self.task.done()):
                return False
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            self.changed.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.changed.wait(), left)
        return True

    async def close(self) -> None:
        await self.ws.close()
        if self.task is not None:
            self.task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self.task


# the series


class _Writer:
    """Appends lines to one transcript; in process imports them too (no watcher)."""

    def __init__(self, path: Path, lines: LineMaker, store: Store | None) -> None:
        self.path = path
        self.lines = lines
        self.store = store

    async def write(self) -> tuple[str, float]:
        """Append one line; its uuid and when it was written (perf_counter)."""
        uuid, line = self.lines.next()
        if self.store is None:
            with self.path.open("a", encoding="utf-8") as handle:
                handle.write(line)
                handle.flush()
            return uuid, time.perf_counter()
        with self.path.open("a", encoding="utf-8") as handle:
            handle.write(line)
        written = time.perf_counter()  # the import's own time is part of the delay
        await import_paths(self.store, [self.path])
        return uuid, written


async def _warm_up(client: _Client, sid: str, writer: _Writer) -> None:
    """Write lines until one comes through: the subscription and the watcher are live."""
    deadline = time.monotonic() + _WARMUP_TIMEOUT
    sent: set[str] = set()
    while time.monotonic() < deadline:
        uuid, _ = await writer.write()
        sent.add(uuid)
        if await client.wait_for(sid, {uuid}, 1.0):
            await client.wait_for(sid, sent, 5.0)  # the earlier ones, before measuring
            return
    raise RuntimeError(
        f"no line came through on {sid} within {_WARMUP_TIMEOUT:.0f} s: {client.errors.get(sid)}"
    )


async def _series(client: _Client, sid: str, writer: _Writer, plan: SeriesPlan) -> Series:
    mark = len(client.arrived[sid])
    written: dict[str, float] = {}
    order: list[str] = []
    started = time.perf_counter()
    for index in range(plan.lines):
        await asyncio.sleep(
            max(0.0, started + index * plan.interval_ms / 1000 - time.perf_counter())
        )
        uuid, at = await writer.write()
        written[uuid] = at
        order.append(uuid)
    await client.wait_for(sid, set(order), _DRAIN_TIMEOUT)
    await asyncio.sleep(0.3)  # anything sent twice would come now
    arrivals = [a for a in client.arrived[sid][mark:] if a[0] in written]
    first: dict[str, float] = {}
    kinds: dict[str, str] = {}
    for uuid, typename, at in arrivals:
        first.setdefault(uuid, at)
        kinds.setdefault(uuid, typename)
    seen = list(first)  # in order of arrival
    sent = [uuid for uuid in order if uuid in first]  # in order of writing
    position = {uuid: index for index, uuid in enumerate(order)}
    overtaken, latest = 0, -1
    for uuid in seen:
        overtaken += position[uuid] < latest
        latest = max(latest, position[uuid])
    return Series(
        name=plan.name,
        path=plan.path,
        interval_ms=plan.interval_ms,
        sent=len(order),
        received=len(first),
        in_order=seen == sent,
        in_order_by_kind=all(
            [u for u in seen if kinds[u] == kind] == [u for u in sent if kinds[u] == kind]
            for kind in set(kinds.values())
        ),
        overtaken=overtaken,
        duplicates=len(arrivals) - len(first),
        errors=list(client.errors[sid]),
        delays_ms=[(first[uuid] - written[uuid]) * 1000 for uuid in sent],
        seconds=max((a[2] for a in arrivals), default=time.perf_counter()) - started,
    )


async def _measure(
    port: int,
    token: str,
    writers: dict[str, _Writer],
    options: LiveOptions,
    report: LiveReport,
    console: Console,
) -> None:
    client = await _Client.connect(port, token)
    try:
        for path in writers:
            await client.subscribe(path, WATCHED if path == "import --watch" else DIRECT)
        started = time.perf_counter()
        for path, writer in writers.items():
            await _warm_up(client, path, writer)
        report.warmup_s = time.perf_counter() - started
        for plan in options.series:
            with console.status(f"{plan.name}: {plan.lines} lines, 1 per {plan.interval_ms:g} ms"):
                series = await _series(client, plan.path, writers[plan.path], plan)
            report.series.append(series)
            timing = series.timing
            console.print(
                f"  {series.name}: {series.received}/{series.sent} received"
                + (f", p50 {timing.p50_ms:.0f} ms, p95 {timing.p95_ms:.0f} ms" if timing else "")
            )
    finally:
        await client.close()


def _import_once(db: Path, paths: list[Path], env: dict[str, str]) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "graph", "import", *map(str, paths), "--db", str(db), "--json"],
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        timeout=120,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"the first import failed:\n{done.stderr.decode(errors='replace')}")


async def _live(
    port: int,
    token: str,
    db: Path,
    files: dict[str, Path],
    makers: dict[str, LineMaker],
    key: MasterKey | None,
    options: LiveOptions,
    report: LiveReport,
    console: Console,
) -> None:
    store = await Store.open(db, backup=False, key=KeyMaterial(key=key) if key else None)
    try:
        writers = {
            "import --watch": _Writer(files["watched"], makers["watched"], None),
            "in-process import": _Writer(files["direct"], makers["direct"], store),
        }
        await _measure(port, token, writers, options, report, console)
    finally:
        await store.close()


def bench_live(workdir: Path, options: LiveOptions, console: Console | None = None) -> LiveReport:
    """Run the series against a real server and watcher, then the feed's tick costs."""
    console = console or Console(quiet=True)
    report = LiveReport(encrypted=options.encrypted)
    projects = workdir / "projects"
    files = {
        "watched": projects / "-home-dev-live" / f"{WATCHED}.jsonl",
        "direct": workdir / "unwatched" / "-home-dev-direct" / f"{DIRECT}.jsonl",
    }
    rng = random.Random(options.seed)
    makers = {
        "watched": LineMaker(WATCHED, "/home/dev/live", rng, prefix="w"),
        "direct": LineMaker(DIRECT, "/home/dev/direct", rng, prefix="d"),
    }
    for name, path in files.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(makers[name].next()[1], encoding="utf-8")  # the sessions exist
    token = secrets.token_urlsafe(24)
    key = MasterKey.generate() if options.encrypted else None
    env = {k: v for k, v in os.environ.items() if k not in (KEY_ENV, KEY_FILE_ENV)}
    env |= {
        "SESSIONGRAPH_TOKEN": token,
        "XDG_CONFIG_HOME": str(workdir / "config"),
        "XDG_DATA_HOME": str(workdir / "data"),
        "PYTHONUNBUFFERED": "1",
    }
    if key is not None:
        env[KEY_ENV] = key.to_base64()
    db = workdir / "live.db"
    with console.status("first import..."):
        _import_once(db, list(files.values()), env)
    started = time.perf_counter()
    with _served(workdir, db, projects, env, report.pids) as port:
        report.server_start_s = time.perf_counter() - started
        console.print(
            f"server on 127.0.0.1:{port} in {report.server_start_s:.1f}s, "
            f"watcher following {files['watched'].parent}"
        )
        asyncio.run(_live(port, token, db, files, makers, key, options, report, console))
    with console.status("change feed: cost per tick..."):
        report.ticks = asyncio.run(
            bench_feed(workdir, options.tick_plan, ticks=options.ticks, seed=options.seed)
        )
    return report


# report


def _yes(ok: bool) -> str:
    return "[green]yes[/green]" if ok else "[red]no[/red]"


def live_tables(report: LiveReport) -> list[Table]:
    delays = Table(
        title="Live (issue 7): line appended -> subscriber receives it over graphql-transport-ws "
        f"({'encrypted' if report.encrypted else 'plaintext'} database), ms"
    )
    delays.caption = (
        f"serve and import --watch as subprocesses on 127.0.0.1. Watcher: changes handed over "
        f"once writing pauses {report.step_ms} ms, after {report.debounce_ms} ms of continuous "
        f"writing at the latest; server: change feed polled every "
        f"{report.poll_seconds * 1000:.0f} ms. in-process import: appended and imported by "
        "the benchmark (no watcher), timed from before the import. in order: as written; "
        "per kind: messages as written, and events as written (one import commits a batch's "
        "messages before its events)."
    )
    delays.add_column("series")
    for name in (
        "path",
        "pace",
        "sent",
        "received",
        "all, once",
        "in order",
        "per kind",
        "p50",
        "p95",
        "max",
        "mean",
    ):
        delays.add_column(name, justify="right")
    for s in report.series:
        t = s.timing
        delays.add_row(
            s.name,
            s.path,
            f"1 / {s.interval_ms:g} ms",
            f"{s.sent:,}",
            f"{s.received:,}",
            _yes(s.complete),
            _yes(True) if s.in_order else f"[red]no[/red] ({s.overtaken} overtaken)",
            _yes(s.in_order_by_kind),
            *(
                (f"{t.p50_ms:.0f}", f"{t.p95_ms:.0f}", f"{s.max_ms:.0f}", f"{t.mean_ms:.0f}")
                if t
                else ("", "", "", "")
            ),
        )
    ticks = Table(title="Change feed: cost per tick, in process (ChangeFeed.tick() driven by hand)")
    ticks.caption = (
        "N sessionActivity + N sessionsChanged subscribers, all on the session being written. "
        "SQL: feed.statements per tick (the most seen; steady: every tick the same). With "
        "changes: after each commit of a few appended lines."
    )
    ticks.add_column("subscribers")
    for name in (
        "SQL idle tick",
        "idle tick ms p50 / p95",
        "SQL tick with changes",
        "changes / tick",
        "tick with changes ms p50 / p95",
        "steady",
        "all delivered",
    ):
        ticks.add_column(name, justify="right")
    for c in report.ticks:
        ticks.add_row(
            f"{c.subscribers} + {c.subscribers}",
            str(c.idle_per_tick),
            f"{c.idle.p50_ms:.3f} / {c.idle.p95_ms:.3f}",
            str(c.busy_per_tick),
            str(c.changes_per_tick),
            f"{c.busy.p50_ms:.2f} / {c.busy.p95_ms:.2f}",
            _yes(c.steady),
            _yes(c.delivered),
        )
    if len(report.ticks) >= 2:
        low, high = report.ticks[0], report.ticks[-1]
        ticks.add_row(
            f"same SQL, {high.subscribers} as {low.subscribers}?",
            _yes(low.idle_per_tick == high.idle_per_tick),
            "",
            _yes(low.busy_per_tick == high.busy_per_tick),
            "",
            "",
            "",
            "",
        )
    return [delays, ticks]


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.live",
        description="Issue 7: delay from a transcript line being appended to a "
        "graphql-transport-ws subscriber receiving it (real server, real import --watch), "
        "and the change feed's poll cost with 1 and 100 subscribers. Figures only.",
    )
    parser.add_argument("--quick", action="store_true", help="fewer lines and ticks")
    parser.add_argument(
        "--lines",
        type=int,
        metavar="N",
        help="lines of the steady series (default 300, --quick 40)",
    )
    parser.add_argument("--encrypted", action="store_true", help="an encrypted database")
    parser.add_argument("--seed", type=int, default=7, help="text seed (default 7)")
    parser.add_argument(
        "--keep",
        type=Path,
        metavar="DIR",
        help="work in DIR and keep it (logs, database); default: a temp dir",
    )
    parser.add_argument("--json", type=Path, metavar="FILE", help="also write figures as JSON")
    args = parser.parse_args(argv)
    if args.lines is not None and not 1 <= args.lines <= 10_000:
        parser.error("--lines: 1 to 10000")
    return args


def options_from(args: argparse.Namespace) -> LiveOptions:
    base = QUICK if args.quick else FULL
    series = tuple(
        SeriesPlan(p.name, p.path, args.lines, p.interval_ms)
        if p.name == "steady" and args.lines is not None
        else p
        for p in base.series
    )
    return LiveOptions(
        series=series,
        ticks=base.ticks,
        tick_plan=base.tick_plan,
        encrypted=args.encrypted,
        seed=args.seed,
    )


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    console = wide_console()
    workdir = args.keep.resolve() if args.keep else Path(tempfile.mkdtemp(prefix="sg-bench-live-"))
    if args.keep:
        shutil.rmtree(workdir, ignore_errors=True)
    workdir.mkdir(parents=True, exist_ok=True)
    console.print(f"working in {workdir}" + ("" if args.keep else " (removed at the end)"))
    try:
        report = bench_live(workdir, options_from(args), console)
    finally:
        if args.keep is None:
            shutil.rmtree(workdir, ignore_errors=True)
    for table in live_tables(report):
        console.print(table)
    write_figures(console, args.json, report.to_dict())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
