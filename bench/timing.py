"""Repeating a call and summarizing its latency: warm-up, then p50/p95 over many runs."""

from __future__ import annotations

import gc
import math
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

__all__ = ["Plan", "Timing", "measure", "measure_async", "summarize"]


@dataclass(frozen=True, slots=True)
class Plan:
    """How long to measure: ``warmup`` runs untimed, then up to ``iterations`` timed runs,
    stopping early once ``budget_s`` seconds have been spent (but never under ``minimum``)."""

    warmup: int = 5
    iterations: int = 300
    budget_s: float = 3.0
    minimum: int = 20


@dataclass(frozen=True, slots=True)
class Timing:
    """Latency of one call, in milliseconds."""

    samples: int
    p50_ms: float
    p95_ms: float
    mean_ms: float


def _percentile(ordered: list[float], q: float) -> float:
    """Nearest-rank percentile of an ascending list."""
    rank = max(1, math.ceil(q * len(ordered)))
    return ordered[min(rank, len(ordered)) - 1]


def summarize(seconds: list[float]) -> Timing:
    if not seconds:
        raise ValueError("no samples")
    ordered = sorted(s * 1000 for s in seconds)
    return Timing(
        samples=len(ordered),
        p50_ms=_percentile(ordered, 0.50),
        p95_ms=_percentile(ordered, 0.95),
        mean_ms=sum(ordered) / len(ordered),
    )


def _keep_going(plan: Plan, samples: list[float], started: float) -> bool:
    if len(samples) >= plan.iterations:
        return False
    return len(samples) < plan.minimum or time.perf_counter() - started < plan.budget_s


def measure(fn: Callable[[], Any], plan: Plan) -> Timing:
    """Time a synchronous call."""
    gc.collect()  # start clean: the previous series' garbage is not this call's cost
    for _ in range(plan.warmup):
        fn()
    samples: list[float] = []
    started = time.perf_counter()
    while _keep_going(plan, samples, started):
        t0 = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - t0)
    return summarize(samples)


async def measure_async(fn: Callable[[], Awaitable[Any]], plan: Plan) -> Timing:
    """Time a coroutine function, awaited on the running loop."""
    gc.collect()
    for _ in range(plan.warmup):
        await fn()
    samples: list[float] = []
    started = time.perf_counter()
    while _keep_going(plan, samples, started):
        t0 = time.perf_counter()
        await fn()
        samples.append(time.perf_counter() - t0)
    return summarize(samples)
