"""Small reads run on the event loop's thread, without ever making the loop wait: not for
a lock, and not for a statement another request left running on the same connection."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from typing import Any

import pytest

from graph.store import (
    EventFilter,
    MessageFilter,
    PageRequest,
    Reader,
    SessionFilter,
    SessionOrder,
    Store,
)
from graph.store.connection import open_connection, sqlite_connection
from graph.store.reader_base import SMALL_READ
from tests.factories import make_sessions

SLOW = (
    "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 1000000)"
    " SELECT count(*) FROM c"
)


@contextmanager
def threads_of(reader: Reader) -> Iterator[list[tuple[int, str]]]:
    """The thread each statement of ``reader`` that reads a table ran on."""
    conn = sqlite_connection(reader.connection)
    assert conn is not None
    seen: list[tuple[int, str]] = []

    def trace(statement: str) -> None:
        if " FROM " in statement:
            seen.append((threading.get_ident(), statement))

    conn.set_trace_callback(trace)
    try:
        yield seen
    finally:
        conn.set_trace_callback(None)


@asynccontextmanager
async def ticking() -> AsyncIterator[list[float]]:
    """The longest the loop went without running another task in the block, in seconds
    (filled in when the block ends)."""
    longest = [0.0]
    last = [time.perf_counter()]

    async def tick() -> None:
        while True:
            await asyncio.sleep(0.005)
            now = time.perf_counter()
            longest[0] = max(longest[0], now - last[0])
            last[0] = now

    task = asyncio.create_task(tick())
    await asyncio.sleep(0.01)
    try:
        yield longest
    finally:
        task.cancel()
        longest[0] = max(longest[0], time.perf_counter() - last[0])


def walks_an_index(conn: sqlite3.Connection, statement: str) -> bool:
    """Whether SQLite runs ``statement`` (parameters in place) through indexes only: no
    scan of a table, no sort of its rows."""
    plan = [row[3] for row in conn.execute(f"EXPLAIN QUERY PLAN {statement}")]
    return all(
        "TEMP B-TREE" not in step
        and (not step.startswith("SCAN") or "INDEX" in step or "VIRTUAL TABLE" in step)
        for step in plan
    )


async def test_which_reads_run_on_the_loops_thread(store: Store) -> None:
    ids = await make_sessions(store, SMALL_READ + 2, messages=6)
    loop_thread = threading.get_ident()
    async with store.read() as reader:
        [first] = await reader.sessions_by_session_id(ids[:1])
        assert first is not None
        pk = first.id
        page = PageRequest(limit=5)

        def messages(**options: Any) -> Callable[[], Awaitable[object]]:
            pks = options.pop("pks", [pk])
            where = options.pop("where", MessageFilter())
            request = options.pop("request", page)
            return lambda: reader.message_pages("session", pks, where, request, **options)

        def sessions(
            order: SessionOrder, descending: bool = True, **options: Any
        ) -> Callable[[], Awaitable[object]]:
            where = options.pop("where", SessionFilter())
            request = options.pop("request", PageRequest(limit=SMALL_READ - 1))
            return lambda: reader.sessions(where, order, descending, request)

        reads: dict[str, tuple[Callable[[], Awaitable[object]], bool]] = {
            "a session by id": (lambda: reader.sessions_by_session_id(ids[:1]), True),
            "a session by pk": (lambda: reader.sessions_by_pk([pk]), True),
            f"{SMALL_READ} sessions": (lambda: reader.sessions_by_pk(range(SMALL_READ)), True),
            "more sessions": (lambda: reader.sessions_by_pk(range(SMALL_READ + 1)), False),
            "a page of messages": (messages(content=False), True),
            "with their records": (messages(content=True), False),
            "filtered": (messages(content=False, where=MessageFilter(role="user")), False),
            "a long page": (messages(content=False, request=PageRequest(SMALL_READ)), False),
            "after a cursor": (
                messages(content=False, request=PageRequest(5, after=(first.started_at, 1))),
                True,
            ),
            "of two sessions": (messages(content=False, pks=[pk, pk + 1]), False),
            "a message by pk": (lambda: reader.messages_by_pk([1]), False),
            "a page of events": (lambda: reader.events(EventFilter(), page), False),
            "a long page of sessions": (
                sessions(SessionOrder.STARTED_AT, request=PageRequest(SMALL_READ)),
                False,
            ),
            "sessions of a project": (
                sessions(SessionOrder.STARTED_AT, where=SessionFilter(project="-p")),
                False,
            ),
        }
        for order in SessionOrder:
            for descending in (True, False):
                key = (
                    first.message_count if order is SessionOrder.MESSAGE_COUNT else first.started_at
                )
                for after in (None, (key, 4)):
                    request = PageRequest(limit=SMALL_READ - 1, after=after)
                    name = f"sessions by {order.name} {descending} after {after}"
                    reads[name] = (sessions(order, descending, request=request), True)
        here = sqlite_connection(reader.connection)
        assert here is not None
        for name, (read, small) in reads.items():
            with threads_of(reader) as seen:
                await read()
            assert len(seen) == 1, name
            [(thread, statement)] = seen
            assert (thread == loop_thread) is small, name
            # Small by its shape: it finds its rows through an index.
            assert not small or walks_an_index(here, statement), name


async def test_a_small_read_gives_what_the_connections_thread_gives(store: Store) -> None:
    ids = await make_sessions(store, 3, messages=7)
    async with store.read() as reader:
        here = await reader.sessions_by_session_id(ids)  # small
        pks = [row.id for row in here if row is not None]
        # Past SMALL_READ keys: on the connection's thread.
        there = await reader.sessions_by_pk(pks * (SMALL_READ // len(pks) + 1))
        assert len(pks) == 3 and here == there[:3]
        [page] = await reader.message_pages(
            "session", [pks[1]], MessageFilter(), PageRequest(limit=4), content=False
        )
        [whole] = await reader.message_pages(
            "session", [pks[1]], MessageFilter(), PageRequest(limit=4), content=True
        )
    assert page.has_next and len(page.rows) == 4
    assert page.rows == [row._replace(content=None) for row in whole.rows]


async def test_a_small_read_never_waits_for_a_lock_on_the_loop(store: Store) -> None:
    [session_id] = await make_sessions(store, 1)
    path = store.path
    await store.close()
    # A rollback journal, where a writer's exclusive lock keeps readers out until it
    # commits: the reader's statement finds the database locked.
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("PRAGMA journal_mode = DELETE")
    conn = await open_connection(path, readonly=True)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        async with ticking() as longest:
            asyncio.get_running_loop().call_later(0.3, holder.execute, "COMMIT")
            started = time.perf_counter()
            [row] = await Reader(conn).sessions_by_session_id([session_id])
            waited = time.perf_counter() - started
    finally:
        holder.close()
        await conn.close()
    assert row is not None and row.session_id == session_id
    assert waited >= 0.25  # it waited for the lock (on the connection's thread)...
    assert longest[0] < 0.25  # ...while the loop went on (blocked, it would be 5 s)


@pytest.fixture
async def one_reader(db_path: Path, migrated: Path) -> AsyncIterator[Store]:
    """A store whose pool has one reader connection."""
    db_path.write_bytes(migrated.read_bytes())
    store = await Store.open(db_path, readers=1)
    try:
        yield store
    finally:
        await store.close()


async def abandon_a_slow_read(store: Store) -> None:
    """Cancel a read while its statement runs on the connection's thread."""
    started = asyncio.Event()

    async def slow() -> None:
        async with store.read() as reader:
            started.set()
            await reader._all(SLOW)

    task = asyncio.create_task(slow())
    await started.wait()
    await asyncio.sleep(0.02)  # the statement is running on the connection's thread
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


async def test_a_cancelled_read_keeps_its_connection_until_it_has_ended(
    one_reader: Store,
) -> None:
    store = one_reader
    [session_id] = await make_sessions(store, 1)
    await abandon_a_slow_read(store)
    # The pool's one connection comes back when the slow statement has ended: a small
    # read beside it would have stopped the loop until then.
    async with ticking() as longest, store.read() as reader:
        [row] = await reader.sessions_by_session_id([session_id])
    assert row is not None
    assert longest[0] < 0.25  # beside the slow statement it would be ~0.5 s
    async with store.read() as reader:  # and it is back in the pool
        assert await reader.sessions_by_session_id([session_id]) == [row]


async def test_closing_the_store_after_an_abandoned_read(one_reader: Store) -> None:
    await abandon_a_slow_read(one_reader)
    await one_reader.close()
    # The connection went back to the pool before it was closed: nothing is left running.
    assert asyncio.all_tasks() == {asyncio.current_task()}
