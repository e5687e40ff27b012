"""What every scenario shares: timing, the run (its corpora and imported databases), and
the processes it starts."""

from __future__ import annotations

import asyncio
import gc
import inspect
import json
import math
import os
import socket
import sys
import time
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path

from bench.corpus import Corpus
from bench.generate import generate
from graph.crypto import MasterKey

ROOT = Path(__file__).resolve().parent.parent  # where ``bench`` and ``graph`` import from
HOST = "127.0.0.1"
Call = Callable[[], object]  # a coroutine function or a plain one


@dataclass(frozen=True, slots=True)
class Plan:
    """How to time a call: ``warmup`` rounds, then up to ``iterations`` or ``budget_s``
    seconds, at least ``minimum``; the defaults are a full run's."""

    warmup: int = 5
    iterations: int = 300
    budget_s: float = 2.0
    minimum: int = 20


@dataclass(frozen=True, slots=True)
class Timing:
    """Nearest-rank p50 and p95 of the latencies of a call, in milliseconds."""

    p50_ms: float
    p95_ms: float

    @classmethod
    def of(cls, seconds: Sequence[float]) -> Timing:
        ordered = sorted(s * 1000 for s in seconds)
        return cls(*(ordered[max(1, math.ceil(q * len(ordered))) - 1] for q in (0.50, 0.95)))

    @property
    def tail(self) -> float:
        return self.p95_ms / self.p50_ms

    def __str__(self) -> str:
        return f"{self.p50_ms:.2f} / {self.p95_ms:.2f}"


async def interleaved(api: Call, raw: Call, plan: Plan) -> tuple[Timing, Timing, float]:
    """Time ``api`` and ``raw`` once per round: their ratio (p50 / p50) is under one load."""
    gc.collect()  # the previous series' garbage is not this one's cost
    for _ in range(plan.warmup):
        await _timed(api)
        await _timed(raw)
    samples: tuple[list[float], list[float]] = ([], [])
    deadline = time.perf_counter() + plan.budget_s * 2
    for rounds in range(plan.iterations):
        if rounds >= plan.minimum and time.perf_counter() > deadline:
            break
        for call, series in zip((api, raw), samples, strict=True):
            series.append(await _timed(call))
    a, b = Timing.of(samples[0]), Timing.of(samples[1])
    return a, b, a.p50_ms / b.p50_ms


async def _timed(call: Call) -> float:
    """The seconds ``call`` takes, with what it returns awaited if it is awaitable."""
    t0 = time.perf_counter()
    if inspect.isawaitable(done := call()):
        await done
    return time.perf_counter() - t0


Cell = str | bool | int | float | None  # a bool says whether two sides agreed


@dataclass(slots=True)
class Outcome:
    """What a scenario returns: its table, and its figures by name (``import.10k.x_raw``)."""

    title: str
    columns: list[str]
    caption: str = ""
    rows: list[list[Cell]] = field(default_factory=list)
    figures: dict[str, float] = field(default_factory=dict)

    def add(self, prefix: str, **figures: float) -> None:
        """Add ``figures`` under ``prefix``: ``add("query.nested", x_raw=2.1)``."""
        self.figures |= {f"{prefix}.{name}": float(value) for name, value in figures.items()}


@dataclass(frozen=True, slots=True)
class Ingest:
    """One fill of a fresh database by :mod:`bench.worker`."""

    seconds: float  # the timed part: import_paths, or the executemany calls
    messages: int
    peak_rss_mb: float  # the worker process's own high-water mark
    child_rss_mb: float  # the import's own reading process, if it started one
    db_mb: float


@dataclass
class Run:
    """One benchmark run: its options, and the corpora and fills made once, shared by all."""

    workdir: Path
    sizes: tuple[int, ...]
    plan: Plan
    encrypted: bool
    seed: int
    rounds: int  # serve: rounds of every page kind on both servers
    requests: int  # serve: requests per page kind, server and round; live: lines
    key: str = field(default_factory=lambda: MasterKey.generate().to_base64())
    _corpora: dict[tuple[int, str], Corpus] = field(default_factory=dict, init=False)
    _fills: dict[tuple[int, str, bool], asyncio.Future[Ingest]] = field(
        default_factory=dict, init=False
    )

    def label(self, size: int) -> str:
        return f"{size // 1000}k" if size % 1000 == 0 else str(size)

    @property
    def tag(self) -> str:  # in titles
        return " (encrypted)" if self.encrypted else ""

    def corpus(self, size: int, agent: str = "claude-code") -> Corpus:
        if (size, agent) not in self._corpora:
            folder = self.workdir / f"{agent}-{size}"
            self._corpora[size, agent] = generate(folder, size, seed=self.seed, agent=agent)
        return self._corpora[size, agent]

    async def fill(
        self, size: int, encrypted: bool | None = None, agent: str = "claude-code"
    ) -> tuple[Path, Ingest]:
        """The corpus imported into a fresh database, and the figures of that import."""
        encrypted = self.encrypted if encrypted is None else encrypted
        db = self.workdir / f"{agent}-{'encrypted' if encrypted else 'plain'}-{size}.db"
        if (size, agent, encrypted) not in self._fills:
            work = self.worker("import", self.corpus(size, agent).root, db, encrypted=encrypted)
            self._fills[size, agent, encrypted] = asyncio.ensure_future(work)
        return db, await self._fills[size, agent, encrypted]

    async def database(self, size: int, encrypted: bool | None = None) -> Path:
        return (await self.fill(size, encrypted))[0]

    def env(self, encrypted: bool, **extra: str) -> dict[str, str]:
        """A child's environment: none of the user's ``SESSIONGRAPH_*``, the run's key if asked."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("SESSIONGRAPH_")}
        key = {"SESSIONGRAPH_KEY": self.key} if encrypted else {}  # not in argv: ps shows argv
        return env | {"PYTHONPATH": str(ROOT), **extra} | key

    async def worker(self, mode: str, source: Path, db: Path, *, encrypted: bool = False) -> Ingest:
        """Fill ``db`` (removed first) from ``source`` in :mod:`bench.worker`."""
        remove_db(db)
        log = self.workdir / "worker.log"
        argv = ["bench.worker", mode, str(source), str(db)]
        async with started(argv, self.env(encrypted), log, pipe=True) as process:
            out = (await asyncio.wait_for(process.communicate(), 7200))[0]
        if process.returncode != 0:
            raise RuntimeError(f"bench.worker {mode} failed, see {log}")
        return Ingest(**json.loads(out.decode().strip().splitlines()[-1]))


def remove_db(db: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        db.with_name(db.name + suffix).unlink(missing_ok=True)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


@asynccontextmanager
async def started(
    argv: list[str], env: dict[str, str], log: Path, *, pipe: bool = False, port: int = 0
) -> AsyncIterator[asyncio.subprocess.Process]:
    """``python -m *argv`` logging to ``log``, once ``port`` (if any) accepts; always stopped."""
    with log.open("ab") as log_file:
        process = await asyncio.create_subprocess_exec(
            *(sys.executable, "-m", *argv),
            cwd=ROOT,
            env=env,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE if pipe else log_file,
            stderr=log_file,
        )
    try:
        deadline = time.monotonic() + 60
        while port:
            with suppress(OSError):
                (await asyncio.open_connection(HOST, port))[1].close()
                break
            if process.returncode is not None or time.monotonic() > deadline:
                raise RuntimeError(f"{argv[0]} did not start, see {log}")
            await asyncio.sleep(0.05)
        yield process
    finally:
        if process.returncode is None:
            process.terminate()
            try:
                await asyncio.wait_for(process.wait(), 10)
            except TimeoutError:
                process.kill()
                await process.wait()
