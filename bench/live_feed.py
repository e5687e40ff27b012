"""The change feed's poll cost per tick, in process, with few and many subscribers.

A :class:`graph.feed.ChangeFeed` on its own database, ticks driven by hand (its poll
interval set to an hour). For each subscriber count N, N ``sessionActivity``
subscribers and N ``sessionsChanged`` subscribers all follow the one session being
written, so every change goes to every subscriber (the worst fan-out). Measured:

- an idle tick (nothing committed since the last): SQL statements (``feed.statements``)
  and time, over many ticks;
- a tick after a commit: a few lines appended to the transcript and imported in
  process (``import_paths``, not timed), then one timed ``tick()``; statements, time,
  changes dispatched, and whether every subscriber received every change.

Statements per tick are the figure the issue asks about: they must not grow with N.
Time per tick does include handing each change to each subscriber's queue, which is
Python work proportional to N.
"""

from __future__ import annotations

import asyncio
import random
import time
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any, Final

from bench.live_lines import LineMaker
from bench.timing import Plan, Timing, measure_async, summarize
from graph.feed import Activity, ChangeFeed, Subscriber
from graph.importers import import_paths
from graph.store import SessionRow, Store

if TYPE_CHECKING:
    from pathlib import Path

__all__ = ["SUBSCRIBER_COUNTS", "TickCost", "bench_feed"]

SUBSCRIBER_COUNTS: Final = (1, 100)
_SESSION: Final = "bbbbbbbb-0000-4000-8000-00000000feed"


@dataclass(frozen=True, slots=True)
class TickCost:
    """One subscriber count: what an idle tick and a tick with changes cost."""

    subscribers: int  # per kind: N sessionActivity + N sessionsChanged
    idle_statements: list[int]  # per idle tick
    idle: Timing
    busy_statements: list[int]  # per tick with changes
    busy: Timing
    changes_per_tick: int
    delivered: bool  # every subscriber got every change of every tick, in order

    @property
    def idle_per_tick(self) -> int:
        """Statements of an idle tick (the most seen)."""
        return max(self.idle_statements)

    @property
    def busy_per_tick(self) -> int:
        """Statements of a tick with changes (the most seen)."""
        return max(self.busy_statements)

    @property
    def steady(self) -> bool:
        """Every tick of a kind ran the same number of statements."""
        return len(set(self.idle_statements)) == 1 and len(set(self.busy_statements)) == 1

    def to_dict(self) -> dict[str, Any]:
        return {
            **asdict(self),
            "idle_per_tick": self.idle_per_tick,
            "busy_per_tick": self.busy_per_tick,
            "steady": self.steady,
        }


def _drain(subscriber: Subscriber) -> list[object]:
    items = []
    while not subscriber.queue.empty():
        items.append(subscriber.queue.get_nowait())
    return items


async def _cost(
    store: Store,
    feed: ChangeFeed,
    transcript: Path,
    lines: LineMaker,
    session_pk: int,
    subscribers: int,
    ticks: int,
    batch: int,
    plan: Plan,
) -> TickCost:
    activity = [
        feed.subscribe(Subscriber(session_pk=session_pk, wants_sessions=False))
        for _ in range(subscribers)
    ]
    sessions = [
        feed.subscribe(Subscriber(session_pk=None, wants_sessions=True)) for _ in range(subscribers)
    ]
    try:
        await feed.tick()  # catch up with anything committed before
        for subscriber in (*activity, *sessions):
            _drain(subscriber)
        idle_statements = []
        for _ in range(max(ticks, 5)):
            before = feed.statements.count
            await feed.tick()
            idle_statements.append(feed.statements.count - before)
        idle = await measure_async(feed.tick, plan)

        busy_statements, seconds, dispatched = [], [], []
        delivered = True
        for _ in range(ticks):
            with transcript.open("a", encoding="utf-8") as handle:
                for _ in range(batch):
                    handle.write(lines.next()[1])
            await import_paths(store, [transcript])
            before = feed.statements.count
            started = time.perf_counter()
            count = await feed.tick()
            seconds.append(time.perf_counter() - started)
            busy_statements.append(feed.statements.count - before)
            dispatched.append(count)
            seqs = [
                [item.change.seq for item in _drain(s) if isinstance(item, Activity)]
                for s in activity
            ]
            touched = [
                [item.session_id for item in _drain(s) if isinstance(item, SessionRow)]
                for s in sessions
            ]
            delivered = (
                delivered
                and count == batch
                and all(len(got) == count and got == sorted(got) and got == seqs[0] for got in seqs)
                and all(got == [_SESSION] for got in touched)
            )
        return TickCost(
            subscribers=subscribers,
            idle_statements=idle_statements,
            idle=idle,
            busy_statements=busy_statements,
            busy=summarize(seconds),
            changes_per_tick=max(dispatched),
            delivered=delivered,
        )
    finally:
        for subscriber in (*activity, *sessions):
            feed.unsubscribe(subscriber)


async def bench_feed(
    workdir: Path,
    plan: Plan,
    *,
    ticks: int = 30,
    batch: int = 5,
    counts: tuple[int, ...] = SUBSCRIBER_COUNTS,
    seed: int = 7,
) -> list[TickCost]:
    """Tick costs on a fresh database under ``workdir``, for each subscriber count.

    Each tick with changes follows ``batch`` appended lines (messages and events).
    """
    project = workdir / "feed-projects" / "-home-dev-feed"
    project.mkdir(parents=True, exist_ok=True)
    transcript = project / f"{_SESSION}.jsonl"
    lines = LineMaker(_SESSION, "/home/dev/feed", random.Random(seed), prefix="feed")
    transcript.write_text(lines.next()[1], encoding="utf-8")
    store = await Store.open(workdir / "feed.db", backup=False)
    feed = ChangeFeed(store.path, poll_seconds=3600)  # ticks are driven here
    try:
        await import_paths(store, [transcript])
        async with store.read() as reader:
            [row] = await reader.sessions_by_session_id([_SESSION])
        assert row is not None
        await feed.start()
        return [
            await _cost(store, feed, transcript, lines, row.id, n, ticks, batch, plan)
            for n in counts
        ]
    finally:
        await feed.close()
        await store.close()


if __name__ == "__main__":  # a quick look: python -m bench.live_feed
    import tempfile
    from pathlib import Path as _Path

    with tempfile.TemporaryDirectory() as tmp:
        for cost in asyncio.run(bench_feed(_Path(tmp), Plan(warmup=2, iterations=50))):
            print(cost.subscribers, cost.idle_per_tick, cost.busy_per_tick, cost.idle, cost.busy)
