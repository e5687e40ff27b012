"""What every scenario shares: timing, the figures it returns, and the run it works in."""

from __future__ import annotations

import gc
import json
import math
import os
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.generate import Corpus, generate

__all__ = [
    "Cell",
    "Ingest",
    "Options",
    "Outcome",
    "Plan",
    "Run",
    "Scenario",
    "Table",
    "Timing",
    "interleaved",
    "ratio",
    "summarize",
]

ROOT = Path(__file__).resolve().parent.parent  # where ``bench`` and ``graph`` import from
Cell = str | int | float | None


@dataclass(frozen=True, slots=True)
class Plan:
    """How long to time a call: ``warmup`` untimed rounds, then rounds until ``iterations``
    or ``budget_s`` seconds (but never fewer than ``minimum``)."""

    warmup: int = 5
    iterations: int = 300
    budget_s: float = 2.0
    minimum: int = 20


@dataclass(frozen=True, slots=True)
class Timing:
    """Latency of one call, in milliseconds."""

    samples: int
    p50_ms: float
    p95_ms: float

    def __str__(self) -> str:
        return f"{self.p50_ms:.2f} / {self.p95_ms:.2f}"


def summarize(seconds: list[float]) -> Timing:
    """Nearest-rank p50 and p95 of ``seconds``."""
    if not seconds:
        raise ValueError("no samples")
    ordered = sorted(s * 1000 for s in seconds)

    def rank(q: float) -> float:
        return ordered[min(max(1, math.ceil(q * len(ordered))), len(ordered)) - 1]

    return Timing(len(ordered), rank(0.50), rank(0.95))


async def interleaved(
    calls: dict[str, Callable[[], Awaitable[object]]], plan: Plan
) -> dict[str, Timing]:
    """Time ``calls`` in rounds, each call once per round, so that a ratio between two of
    them is taken under the same load on the machine."""
    gc.collect()  # the previous series' garbage is not this one's cost
    for _ in range(plan.warmup):
        for call in calls.values():
            await call()
    samples: dict[str, list[float]] = {name: [] for name in calls}
    started = time.perf_counter()
    rounds = 0
    while rounds < plan.iterations and (
        rounds < plan.minimum or time.perf_counter() - started < plan.budget_s * len(calls)
    ):
        for name, call in calls.items():
            t0 = time.perf_counter()
            await call()
            samples[name].append(time.perf_counter() - t0)
        rounds += 1
    return {name: summarize(series) for name, series in samples.items()}


def ratio(a: float, b: float) -> float:
    return a / b if b else 0.0


@dataclass(slots=True)
class Table:
    """Rows of figures under a title; the report prints it, ``--json`` writes it."""

    title: str
    columns: list[str]
    rows: list[list[Cell]] = field(default_factory=list)
    caption: str = ""


@dataclass(slots=True)
class Outcome:
    """What a scenario returns: its tables, and its headline figures by dotted name
    (``import.10k.mb_per_s``), which the summary, ``--json`` and the smoke test read."""

    tables: list[Table] = field(default_factory=list)
    figures: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Options:
    sizes: tuple[int, ...]
    plan: Plan
    quick: bool = False
    encrypted: bool = False
    seed: int = 7
    workdir: Path = Path(".bench")
    rounds: int = 5  # serve: rounds of every page kind on both servers
    requests: int = 400  # serve: requests per page kind per server per round (also lines, live)


@dataclass(frozen=True, slots=True)
class Ingest:
    """One fill of a fresh database in a worker process (see :mod:`bench.worker`)."""

    seconds: float  # the timed part: import_paths, or the executemany calls
    messages: int
    events: int
    peak_rss_mb: float  # the worker process's own high-water mark
    child_rss_mb: float  # the import's own reading process, if it started one
    db_mb: float


class Run:
    """One benchmark run: options, a work directory, and the corpora and imported
    databases, made once and shared by every scenario that asks for them."""

    def __init__(self, options: Options, key: str | None = None) -> None:
        self.options = options
        self.plan = options.plan
        self.workdir = options.workdir
        self.key = key  # base64 master key of the encrypted databases
        self._corpora: dict[int, Corpus] = {}
        self.imports: dict[tuple[int, bool], tuple[Path, Ingest]] = {}

    def label(self, size: int) -> str:
        return f"{size // 1000}k" if size % 1000 == 0 else str(size)

    def corpus(self, size: int) -> Corpus:
        """The generated corpus of ``size`` API messages (made on first use)."""
        if size not in self._corpora:
            self._corpora[size] = generate(
                self.workdir / f"corpus-{size}", size, seed=self.options.seed
            )
        return self._corpora[size]

    def database(self, size: int, encrypted: bool | None = None) -> Path:
        """The corpus of ``size`` imported by ``import_paths`` into a fresh database, in a
        worker process (timed: the import scenario reports it). ``encrypted`` defaults to
        ``--encrypted``."""
        encrypted = self.options.encrypted if encrypted is None else encrypted
        if (size, encrypted) not in self.imports:
            db = self.workdir / f"{'encrypted' if encrypted else 'plain'}-{size}.db"
            result = self.worker("import", self.corpus(size).root, db, encrypted=encrypted)
            self.imports[size, encrypted] = (db, result)
        return self.imports[size, encrypted][0]

    def worker(self, mode: str, source: Path, db: Path, *, encrypted: bool = False) -> Ingest:
        """Fill ``db`` (removed first) from ``source`` in ``python -m bench.worker``."""
        for suffix in ("", "-wal", "-shm"):
            db.with_name(db.name + suffix).unlink(missing_ok=True)
        env = {k: v for k, v in os.environ.items() if not k.startswith("SESSIONGRAPH_KEY")}
        env["PYTHONPATH"] = str(ROOT)
        if encrypted and self.key:
            env["SESSIONGRAPH_KEY"] = self.key  # the environment, not argv: not shown by ps
        done = subprocess.run(
            [sys.executable, "-m", "bench.worker", mode, str(source), str(db)],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            check=False,
            timeout=7200,
        )
        if done.returncode != 0:
            raise RuntimeError(f"bench.worker {mode} failed:\n{done.stderr[-3000:]}")
        data: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
        return Ingest(**data)


Scenario = Callable[[Run], Awaitable[Outcome]]
