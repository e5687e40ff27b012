"""Filling a fresh database from a corpus, three ways, each timed.

- ``importer``: ``graph.importers.import_paths`` on the projects dir; the whole thing is
  timed (discovery, reading, parsing, storing), as a user would experience it.
- ``store``: the corpus is parsed by :mod:`bench.corpus` first (not timed), then written
  through ``Store.write()`` (upsert_session / upsert_conversation / add_messages /
  add_events), one transaction per session: the cost of the store's write path alone.
- ``raw``: the same final rows (pre-built, not timed) inserted with plain
  ``sqlite3.executemany`` into the same migrated tables, one transaction per session,
  same pragmas (WAL, synchronous=NORMAL): the floor of the database cost.

``importer-nosearch`` is ``importer`` on a store opened without write hooks, so without
the search index upkeep: a diagnostic that splits the import cost between the core
tables and full-text indexing (the raw floor covers the core tables only).
``importer-here`` is ``importer`` reading in its own process (``worker=False``): what the
worker process buys. ``importer`` itself starts the worker, as it does for any import of
16 MB or more; its peak RSS is reported apart (``worker_rss_mb``).
``idle`` does nothing but load the modules and open the store: the RSS baseline.
"""

from __future__ import annotations

import asyncio
import resource
import sqlite3
import time
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any, Literal

from bench.corpus import read_sessions, session_rows
from graph.store import Store

if TYPE_CHECKING:
    from pathlib import Path

__all__ = ["MODES", "IngestResult", "Mode", "ingest", "peak_rss_mb"]

Mode = Literal["importer", "importer-here", "importer-nosearch", "store", "raw", "idle"]
MODES: tuple[Mode, ...] = ("importer", "importer-here", "importer-nosearch", "store", "raw", "idle")

_SESSION_COLUMNS = (
    "id, session_id, project, cwd, git_branch, version, title, summary, metadata, started_at,"
    " ended_at, models, conversation_count, sidechain_count, message_count, event_count,"
    " input_tokens, output_tokens, cache_read_tokens, cache_creation_tokens"
)
_CONVERSATION_COLUMNS = (
    "id, session_pk, agent_id, is_sidechain, parent_tool_use_id, started_at, ended_at,"
    " message_count, event_count"
)


@dataclass(slots=True)
class IngestResult:
    """One fill of one database; ``seconds`` is the timed part (see the module doc)."""

    mode: str
    seconds: float
    wall_seconds: float
    sessions: int
    messages: int
    events: int
    nbytes: int
    statements: int
    peak_rss_mb: float
    db_mb: float = 0.0
    worker_rss_mb: float = 0.0  # the import's worker process, if it started one

    @property
    def messages_per_s(self) -> float:
        return self.messages / self.seconds if self.seconds else 0.0

    @property
    def mb_per_s(self) -> float:
        return self.nbytes / 1e6 / self.seconds if self.seconds else 0.0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def peak_rss_mb() -> float:
    """This process's peak resident set size, in MiB.

    Linux's ``VmHWM`` first: ``ru_maxrss`` survives ``exec``, so a worker forked from
    the (large) benchmark process would report the parent's size; ``VmHWM`` belongs to
    the address space and starts afresh at ``exec``.
    """
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def children_rss_mb() -> float:
    """The peak RSS of the largest child process waited for so far, in MiB (0: none)."""
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024


def ingest(mode: Mode, root: Path, db: Path) -> IngestResult:
    """Fill the fresh database ``db`` from the projects dir ``root``."""
    asyncio.run(_migrate(db))
    started = time.perf_counter()
    if mode in ("importer", "importer-here", "importer-nosearch"):
        # The importer's own choice (a worker from 16 MB on) but for ``importer-here``.
        worker = False if mode == "importer-here" else None
        hooks = mode != "importer-nosearch"
        seconds, statements = asyncio.run(_importer(root, db, hooks=hooks, worker=worker))
    elif mode == "store":
        seconds, statements = asyncio.run(_store_api(root, db))
    elif mode == "raw":
        seconds, statements = _raw(root, db)
    else:
        seconds, statements = 0.0, 0
    wall = time.perf_counter() - started
    counts = _counts(db)
    return IngestResult(
        mode=mode,
        seconds=seconds,
        wall_seconds=wall,
        sessions=counts[0],
        messages=counts[1],
        events=counts[2],
        nbytes=_corpus_bytes(root) if mode != "idle" else 0,
        statements=statements,
        peak_rss_mb=peak_rss_mb(),
        db_mb=_db_bytes(db) / 1e6,
        worker_rss_mb=children_rss_mb(),
    )


async def _migrate(db: Path) -> None:
    store = await Store.open(db)
    await store.close()


async def _open(db: Path, *, hooks: bool) -> Store:
    """The migrated store on ``db``; without any write hook unless ``hooks``."""
    return await Store.open(db, hooks=None if hooks else [])


async def _importer(root: Path, db: Path, *, hooks: bool, worker: bool | None) -> tuple[float, int]:
    from graph.importers import import_paths

    store = await _open(db, hooks=hooks)
    try:
        started = time.perf_counter()
        await import_paths(store, [root], worker=worker)
        return time.perf_counter() - started, store.statements.count
    finally:
        await store.close()


async def _store_api(root: Path, db: Path) -> tuple[float, int]:
    store = await Store.open(db)
    seconds = 0.0
    try:
        for parsed in read_sessions(root):
            started = time.perf_counter()
            async with store.write() as writer:
                session_pk = await writer.upsert_session(parsed.session)
                if parsed.title is not None:
                    await writer.set_session_text(session_pk, title=parsed.title)
                for thread in parsed.threads:
                    cpk = await writer.upsert_conversation(session_pk, thread.conversation)
                    await writer.add_messages(session_pk, cpk, thread.messages)
                    await writer.add_events(session_pk, cpk, thread.events)
            seconds += time.perf_counter() - started
        return seconds, store.statements.count
    finally:
        await store.close()


def _raw(root: Path, db: Path) -> tuple[float, int]:
    # No trace callback here: sqlite3 hands it the statement with every parameter
    # expanded (blobs as hex), which costs more than the insert itself. The statement
    # count is exact without it: one per row, plus BEGIN and COMMIT.
    conn = sqlite3.connect(db, isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = NORMAL")
    conn.execute("PRAGMA foreign_keys = ON")
    statements = 0
    seconds = 0.0
    session_pk, conversation_pk = 1, 1
    try:
        for parsed in read_sessions(root):
            rows = session_rows(parsed, session_pk, conversation_pk)
            session_pk += 1
            conversation_pk += len(rows.conversations)
            started = time.perf_counter()
            conn.execute("BEGIN IMMEDIATE")
            conn.execute(
                f"INSERT INTO sessions ({_SESSION_COLUMNS}) VALUES ({_marks(20)})", rows.session
            )
            conn.executemany(
                f"INSERT INTO conversations ({_CONVERSATION_COLUMNS}) VALUES ({_marks(9)})",
                rows.conversations,
            )
            conn.executemany(
                "INSERT INTO messages (session_pk, conversation_pk, seq, msg_key, uuid, role,"
                " model, timestamp, input_tokens, output_tokens, cache_read_tokens,"
                f" cache_creation_tokens, content) VALUES ({_marks(13)})",
                rows.messages,
            )
            conn.executemany(
                "INSERT INTO events (session_pk, conversation_pk, seq, uuid, type, subtype,"
                f" timestamp, data) VALUES ({_marks(8)})",
                rows.events,
            )
            conn.execute("COMMIT")
            seconds += time.perf_counter() - started
            statements += 3 + len(rows.conversations) + len(rows.messages) + len(rows.events)
    finally:
        conn.close()
    return seconds, statements


def _marks(n: int) -> str:
    return ", ".join("?" * n)


def _counts(db: Path) -> tuple[int, int, int]:
    conn = sqlite3.connect(db)
    try:
        row = conn.execute(
            "SELECT (SELECT count(*) FROM sessions), (SELECT count(*) FROM messages),"
            " (SELECT count(*) FROM events)"
        ).fetchone()
    finally:
        conn.close()
    return int(row[0]), int(row[1]), int(row[2])


def _db_bytes(db: Path) -> int:
    files = (db.with_name(db.name + suffix) for suffix in ("", "-wal"))
    return sum(f.stat().st_size for f in files if f.exists())


def _corpus_bytes(root: Path) -> int:
    return sum(p.stat().st_size for p in root.rglob("*.jsonl"))
