"""Opening SQLite connections the way every part of the store expects them."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import sqlite3
from pathlib import Path
from typing import Final

import aiosqlite

from graph.errors import StoreError

__all__ = [
    "BUSY_TIMEOUT_MS",
    "PAGE_SIZE",
    "StatementCounter",
    "create_private",
    "narrow_mode",
    "open_connection",
    "read_only_uri",
    "refuse_foreign",
    "sqlite_connection",
]

log = logging.getLogger(__name__)

BUSY_TIMEOUT_MS: Final = 5_000
WRITER_CACHE_KIB: Final = 64 * 1024


class StatementCounter:
    """Counts the SQL statements SQLite runs on the connections it is attached to.

    Fed by ``sqlite3``'s trace callback, so it counts what SQLite really executed
    (including statements inside ``executemany`` and scripts), not what Python asked for.
    """

    __slots__ = ("count",)

    def __init__(self) -> None:
        self.count = 0

    def __call__(self, statement: str) -> None:
        # Trigger bodies are reported as "-- TRIGGER name": part of their statement.
        if not statement.startswith("--"):
            self.count += 1


WAL_AUTOCHECKPOINT_BYTES: Final = 32 << 20
# The page size of a new database (an existing one keeps its own). Most of the bytes
# are transcript content of 1-50 KB: 16 KiB pages store it in fewer overflow pages, and
# a commit writes a third fewer WAL frames; an import ran 10% faster, the file 8% smaller.
PAGE_SIZE: Final = 16384


def refuse_foreign(path: Path) -> None:
    """Refuse a SQLite file that has tables but no sessiongraph migration record.

    Migrating it would add sessiongraph's tables beside someone else's data (and
    ``encrypt`` would then call it encrypted while their tables stay as they are). A
    missing or empty file, or one without tables, is a new database. Read-only: the file
    is not touched. A file SQLite can not read is left to the open to report.

    Raises:
        StoreError: ``path`` is some other program's database.
    """
    try:
        if path.stat().st_size == 0:
            return
        conn = sqlite3.connect(read_only_uri(path), uri=True)
    except (OSError, sqlite3.Error):
        return
    try:
        names = {
            str(row[0])
            for row in conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
            )
        }
    except sqlite3.Error:
        return
    finally:
        conn.close()
    if names and "schema_migrations" not in names:
        shown = ", ".join(sorted(names)[:3]) + (", ..." if len(names) > 3 else "")
        raise StoreError(
            f"{path} is not a sessiongraph database (its tables: {shown}); it was left "
            "untouched: pass the --db of a sessiongraph database, or a new file"
        )


def create_private(path: Path) -> None:
    """Create the database file ``path`` mode 0600 (and its folder 0700) if it is missing.

    It holds every transcript, credentials included (in plaintext unless encrypted), so
    it is made before SQLite opens it: SQLite gives the -wal and -shm it creates the
    main file's mode. Folders that exist are the user's and keep their mode.
    """
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    with contextlib.suppress(FileExistsError):
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))


def narrow_mode(path: Path) -> None:
    """Take group and others' access off an open database made before it was created
    private, and off its -wal and -shm: they hold what it holds.

    Only once SQLite has opened it (a file that is not a database keeps its mode), and
    logged at INFO, not shown: the command's own output stays what it is.
    """
    for file in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        try:
            mode = file.stat().st_mode & 0o777
            if mode & 0o077:
                os.chmod(file, mode & 0o700)
                log.info("%s was readable by other users: now mode %o", file, mode & 0o700)
        except OSError:
            continue  # missing, or not ours to change: SQLite reports what matters


async def open_connection(
    path: Path, *, readonly: bool, counter: StatementCounter | None = None
) -> aiosqlite.Connection:
    """Open ``path`` in WAL mode with foreign keys on.

    Args:
        path: The database file; created when missing unless ``readonly``.
        readonly: Open a reader: ``query_only`` refuses writes on it.
        counter: Attached as the trace callback when given.
    """
    # Opened before aiosqlite's thread starts: when aiosqlite itself fails to open a file
    # (a directory, no permission), it stops its thread without waiting for it, and were
    # the loop closed first (a command that fails right there) the thread would print a
    # traceback ("Event loop is closed") after the command's error line.
    raw = await asyncio.to_thread(
        sqlite3.connect, path, isolation_level=None, check_same_thread=False
    )
    conn = await aiosqlite.Connection(lambda: raw, iter_chunk_size=64)
    conn.row_factory = sqlite3.Row
    try:
        await conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        if not readonly:
            await conn.execute(f"PRAGMA page_size = {PAGE_SIZE}")  # before WAL: new files only
            await conn.execute("PRAGMA journal_mode = WAL")
            # A bigger page cache for the one writer: index pages of a bulk import stay hot.
            await conn.execute(f"PRAGMA cache_size = -{WRITER_CACHE_KIB}")
            # Checkpoint every ~32 MB of WAL instead of every 4 MB: a bulk import
            # copies each page back into the database once rather than many times.
            [(page_size,)] = await conn.execute_fetchall("PRAGMA page_size")
            pages = WAL_AUTOCHECKPOINT_BYTES // int(page_size)
            await conn.execute(f"PRAGMA wal_autocheckpoint = {pages}")
        await conn.execute("PRAGMA synchronous = NORMAL")
        await conn.execute("PRAGMA foreign_keys = ON")
        if readonly:
            await conn.execute("PRAGMA query_only = ON")
        if counter is not None:
            await conn.set_trace_callback(counter)
    except BaseException:
        await conn.close()
        raise
    return conn


def sqlite_connection(conn: aiosqlite.Connection) -> sqlite3.Connection | None:
    """The ``sqlite3`` connection under ``conn`` (``None``: not open, or an aiosqlite that
    keeps it elsewhere), for statements run without its thread.

    aiosqlite opens it with ``check_same_thread=False`` as :func:`open_connection` asks;
    SQLite is serialized (``sqlite3.threadsafety == 3``), and the store never runs two
    statements on one connection at once.
    """
    raw = getattr(conn, "_connection", None)
    return raw if isinstance(raw, sqlite3.Connection) else None


def read_only_uri(path: Path) -> str:
    """The URI that opens ``path`` read-only (``sqlite3.connect(..., uri=True)``).

    Absolute, with ``?``, ``#`` and ``%`` escaped: ``f"file:{path}"`` reads them as the
    URI's query or fragment, and ``Path.as_uri`` refuses a relative path.
    """
    return f"{path.resolve().as_uri()}?mode=ro"
