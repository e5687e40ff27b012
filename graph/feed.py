"""The change feed: one watcher per process, fanning committed changes out to subscribers.

Another process (``sessiongraph import --watch``) writes the database; this process sees
its commits through ``PRAGMA data_version`` on a dedicated connection, polled every tick.
A tick costs one statement when nothing changed, and when something did, a fixed handful
(the new changes, the rows they name, the sessions they touch) whatever the number of
subscribers: rows are loaded once and handed to every subscriber that wants them.

Each subscriber has a bounded queue. One that falls too far behind is cut off (told to
resubscribe from its last cursor) rather than slowing the feed or the others.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

from graph.errors import SessiongraphError
from graph.store import (
    ChangeRow,
    ChangeWatch,
    EventRow,
    MessageRow,
    Reader,
    SessionFilter,
    StatementCounter,
)

__all__ = ["Activity", "ChangeFeed", "FellBehind", "Subscriber"]

log = logging.getLogger(__name__)

POLL_SECONDS: Final = 0.1
QUEUE_SIZE: Final = 1_000
_PAGE: Final = 2_000


class FellBehind(SessiongraphError):
    """A subscriber's queue overflowed; it must resubscribe with its last cursor."""

    code = "SUBSCRIPTION_LAGGED"


@dataclass(frozen=True, slots=True)
class Activity:
    """One change with the row it names (``row`` is None if it was deleted since)."""

    change: ChangeRow
    row: MessageRow | EventRow | None


_CLOSED = object()


@dataclass(eq=False)
class Subscriber:
    """What one subscription receives: activities of one session, or changed sessions."""

    session_pk: int | None
    wants_sessions: bool
    # Which changed sessions it wants: the same filter, and the same SQL, as the
    # `sessions` query's (None: all of them).
    where: SessionFilter | None = None
    queue: asyncio.Queue[object] = field(default_factory=lambda: asyncio.Queue(QUEUE_SIZE))
    lagged: bool = False

    def offer(self, item: object) -> None:
        if self.lagged:
            return
        try:
            self.queue.put_nowait(item)
        except asyncio.QueueFull:
            self.lagged = True  # the consumer finds out when it reaches the end

    async def next(self) -> object:
        """The next item; raises FellBehind when the queue overflowed and is drained."""
        if self.lagged and self.queue.empty():
            raise FellBehind(
                "this subscription fell too far behind and was stopped: subscribe again "
                "with `after` set to the last cursor you received"
            )
        return await self.queue.get()


class ChangeFeed:
    """Watches one database file for commits and fans its changes out."""

    def __init__(self, path: Path, *, poll_seconds: float = POLL_SECONDS) -> None:
        self.path = path
        self.poll_seconds = poll_seconds
        self.statements = StatementCounter()
        self.last = 0
        self._watch: ChangeWatch | None = None
        self._version: int | None = None
        self._task: asyncio.Task[None] | None = None
        self._by_session: dict[int, set[Subscriber]] = defaultdict(set)
        self._session_subscribers: set[Subscriber] = set()

    async def start(self) -> None:
        self._watch = await ChangeWatch.open(self.path, self.statements)
        self.last = await self._watch.head()
        self._version = await self._watch.data_version()
        self._task = asyncio.create_task(self._run(), name="sessiongraph-change-feed")

    async def close(self) -> None:
        """Stop watching; every subscription ends cleanly."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        for subscriber in self.subscribers():
            subscriber.lagged = False
            with contextlib.suppress(asyncio.QueueFull):
                subscriber.queue.put_nowait(_CLOSED)
        if self._watch is not None:
            await self._watch.close()
            self._watch = None

    def subscribers(self) -> set[Subscriber]:
        return {s for group in self._by_session.values() for s in group} | set(
            self._session_subscribers
        )

    def subscribe(self, subscriber: Subscriber) -> Subscriber:
        if subscriber.wants_sessions:
            self._session_subscribers.add(subscriber)
        elif subscriber.session_pk is not None:
            self._by_session[subscriber.session_pk].add(subscriber)
        return subscriber

    def unsubscribe(self, subscriber: Subscriber) -> None:
        self._session_subscribers.discard(subscriber)
        if subscriber.session_pk is not None:
            group = self._by_session.get(subscriber.session_pk)
            if group is not None:
                group.discard(subscriber)
                if not group:
                    del self._by_session[subscriber.session_pk]

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self.poll_seconds)
            try:
                await self.tick()
            except Exception:  # a bad tick must not kill the feed: log, try again
                log.exception("change feed tick failed")

    async def tick(self) -> int:
        """Look for commits once; how many changes were dispatched."""
        assert self._watch is not None
        version = await self._watch.data_version()
        if version == self._version:
            return 0
        self._version = version
        dispatched = 0
        while True:
            changes = await self._watch.reader.changes_after(self.last, _PAGE)
            if not changes:
                return dispatched
            self.last = changes[-1].seq
            await self._dispatch(changes)
            dispatched += len(changes)
            if len(changes) < _PAGE:
                return dispatched

    async def _dispatch(self, changes: list[ChangeRow]) -> None:
        assert self._watch is not None
        reader = self._watch.reader
        wanted = [c for c in changes if c.session_pk in self._by_session]
        if wanted:
            rows = await load_rows(reader, wanted)
            for change, row in zip(wanted, rows, strict=True):
                for subscriber in self._by_session.get(change.session_pk, ()):
                    subscriber.offer(Activity(change, row))
        if self._session_subscribers:
            pks = list(dict.fromkeys(c.session_pk for c in changes))
            sessions = [s for s in await reader.sessions_by_pk(pks) if s is not None]
            # One statement per distinct filter, whatever the number of subscribers.
            matching: dict[SessionFilter, set[int]] = {}
            for where in {s.where for s in self._session_subscribers if s.where is not None}:
                matching[where] = await reader.sessions_matching(where, pks)
            for subscriber in self._session_subscribers:
                chosen = None if subscriber.where is None else matching[subscriber.where]
                for session in sessions:
                    if chosen is None or session.id in chosen:
                        subscriber.offer(session)


async def load_rows(reader: Reader, changes: list[ChangeRow]) -> list[MessageRow | EventRow | None]:
    """The rows the changes name, in their order (two statements at most)."""
    messages = [c.target_pk for c in changes if c.kind == "message"]
    events = [c.target_pk for c in changes if c.kind == "event"]
    found: dict[tuple[str, int], MessageRow | EventRow] = {}
    if messages:
        for message in await reader.messages_by_pk(list(dict.fromkeys(messages))):
            if message is not None:
                found["message", message.id] = message
    if events:
        for event in await reader.events_by_pk(list(dict.fromkeys(events))):
            if event is not None:
                found["event", event.id] = event
    return [found.get((c.kind, c.target_pk)) for c in changes]


def is_closed(item: object) -> bool:
    return item is _CLOSED
