"""The store's upkeep: its index and derived tables brought up to date, repairs, checks,
copies, reverts, and the file's compaction."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import TYPE_CHECKING

from graph.blocks import cache_writes_1h_for
from graph.errors import CleanupPending, ConfigError
from graph.store.backfills import fill_message_rows, fill_message_text
from graph.store.backups import backup_path, copies_of, copy_database, is_plaintext, shred
from graph.store.cache_ttl import fill_cache_ttl
from graph.store.cleanup import clear_cleanup, pending_cleanup
from graph.store.counting import elect_all
from graph.store.faults import file_faults
from graph.store.indexing import indexed_version, mark_indexed
from graph.store.keyring import CRYPTO_STATE_SINCE, crypto_state
from graph.store.maintenance import check_database
from graph.store.migrations import Migration
from graph.store.sealed import check_envelopes
from graph.store.snapshots import backups_of

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable
    from contextlib import AbstractAsyncContextManager

    import aiosqlite

    from graph.crypto import Codec
    from graph.store.indexing import SearchIndexer
    from graph.store.migrations import Migrator
    from graph.store.writes import Writer

__all__ = ["Upkeep"]

log = logging.getLogger("graph.store")


class Upkeep:
    """What :class:`~graph.store.Store` does besides reading and writing rows.

    A base of ``Store``: these are the parts of it the upkeep uses (``Store`` defines them).
    """

    path: Path
    codec: Codec
    _write_lock: asyncio.Lock
    _feed: bool | None

    @property
    def writer_connection(self) -> aiosqlite.Connection:
        raise NotImplementedError

    def migrator(self) -> Migrator:
        raise NotImplementedError

    def _indexer(self) -> SearchIndexer | None:
        raise NotImplementedError

    def write(self) -> AbstractAsyncContextManager[Writer]:
        raise NotImplementedError

    async def ensure_index(self) -> bool:
        """Reindex if the documents were built by another index version; True if it did.

        A new database is simply marked; one whose index predates this version (or the
        search migration itself) is rebuilt from its rows.
        """
        indexer = self._indexer()
        if indexer is None:
            return False
        conn = self.writer_connection
        version = indexer.analysis.version
        if await indexed_version(conn) == version:
            return False
        [(has_rows,)] = await conn.execute_fetchall("SELECT EXISTS (SELECT 1 FROM sessions)")
        if not has_rows:
            async with self.write():
                await mark_indexed(conn, version)
            return False
        log.warning("rebuilding the search index of %s (index version %s)", self.path, version)
        await self.reindex()
        # The stored texts were masked by the same rules as the index: mask them again
        # (ensure_message_text, next).
        async with self.write() as writer:
            await writer.connection.execute(
                "INSERT OR REPLACE INTO meta (key, value) VALUES ('message_text.after', '0')"
            )
        return True

    async def _fill(self, cursor: str, step: Callable[[Writer], Awaitable[bool]]) -> None:
        """Run ``step`` in one transaction after another while the migration's ``cursor``
        is in ``meta`` and ``step`` says there is more: an interrupted open resumes where it
        stopped (the step moves the cursor in the transaction that did the work)."""
        pending = await self.writer_connection.execute_fetchall(
            "SELECT 1 FROM meta WHERE key = ?", (cursor,)
        )
        if not list(pending):
            return
        more = True
        while more:
            async with self.write() as writer:
                more = await step(writer)

    async def ensure_message_rows(self) -> None:
        """Finish filling ``message_rows`` for sealed messages (see migration 0005)."""

        async def step(writer: Writer) -> bool:
            return await fill_message_rows(writer.connection, self.codec) is not None

        await self._fill("message_rows.after", step)

    async def ensure_cache_ttl(self) -> None:
        """Finish reading 1-hour cache writes out of sealed messages (see migration 0008),
        refreshing the totals of the sessions each batch changed."""

        async def step(writer: Writer) -> bool:
            # The format of each message's session reads its records (graph.blocks).
            sessions = await fill_cache_ttl(writer.connection, self.codec, cache_writes_1h_for)
            for pk in sessions or ():
                writer.touch(pk)
            return sessions is not None

        await self._fill("usage_1h.after", step)

    async def ensure_message_text(self) -> None:
        """Finish storing the masked text of older messages (see migrations 0011, 0013)."""
        indexer = self._indexer()
        rules = indexer.analysis.scanner if indexer is not None else None

        async def step(writer: Writer) -> bool:
            return await fill_message_text(writer.connection, self.codec, rules) is not None

        await self._fill("message_text.after", step)

    async def repair(self) -> int:
        """Recompute which copies count, every session's aggregates, and the search index.

        An encrypted database is vacuumed afterwards: the old index pages are freed,
        and no free page may keep bytes from before it was encrypted.
        """
        with file_faults(self.path, "repairing", "run `sessiongraph doctor --repair` again"):
            async with self.write() as writer:
                await elect_all(writer.connection)
                for (pk,) in await writer.connection.execute_fetchall("SELECT id FROM sessions"):
                    writer.touch(pk)
            count = await self.reindex()
            if self.codec.encrypted:
                await self.vacuum()
        return count

    async def finish_cleanup(self) -> bool:
        """Finish the clean-up a re-seal recorded (VACUUM, then its copies); True if owed.

        The VACUUM comes first: until it is done the marker stays, so a kill anywhere
        here leaves it for the next open.
        """
        copies = await pending_cleanup(self.writer_connection)
        if copies is None:
            return False
        with file_faults(self.path, "vacuuming", "open it again to finish the clean-up"):
            if not await self.vacuum():
                raise CleanupPending(
                    f"{self.path} is sealed, but another process is reading it, so the "
                    "clean-up of its old bytes (and copies) can not finish yet: any "
                    "sessiongraph command finishes it once that process is done"
                )
            for copy in copies:
                await asyncio.to_thread(shred, copy)
            async with self.write() as writer:
                await clear_cleanup(writer.connection)
            await self.checkpoint()
        return True

    async def reindex(self) -> int:
        """Rebuild the search index from every stored row, in one transaction."""
        indexer = self._indexer()
        if indexer is None:
            return 0
        async with self.write() as writer:
            return await indexer.rebuild(writer.connection)

    async def revert(self, steps: int, *, backup: bool = True) -> list[Migration]:
        """Revert the ``steps`` newest migrations, first copying the database aside."""
        migrator = self.migrator()
        async with self._write_lock:
            current = await migrator.current_version()
            # Migrations 0003 and later touch no sealed value (they add or drop derived
            # tables and triggers); 0002 drops ``meta``, where an encrypted database
            # records its key check: the sealed values would then pass for plaintext.
            if current - steps < CRYPTO_STATE_SINCE and await crypto_state(self.writer_connection):
                raise ConfigError(
                    f"{self.path} is encrypted: reverting migration {CRYPTO_STATE_SINCE:04d} "
                    "would drop the record of its key and leave its sealed values unreadable"
                )
            if backup and current > 0:
                copy = await self.backup(f"pre-down-{current:04d}")
                log.info("copied the database to %s before reverting", copy)
            self._feed = None
            return await migrator.down(steps)

    async def backup(self, label: str) -> Path:
        """Copy the database aside (mode 0600, SQLite's online backup API); the copy's path.

        Raises:
            StoreError: the copy failed (a full disk, say); nothing of it is left.
        """
        target = backup_path(self.path, label)
        with file_faults(self.path, "copying", "try again"):
            await copy_database(self.writer_connection, target)
        return target

    async def check(self) -> list[str]:
        """Problems found by SQLite's, FTS5's and our own consistency checks.

        An encrypted database has every sealed value authenticated too, and is checked
        for what an interrupted re-seal may leave: free pages not yet vacuumed, and
        plaintext copies beside it.
        """
        with file_faults(self.path, "checking", "run `sessiongraph doctor` again"):
            async with self._write_lock:
                conn = self.writer_connection
                problems = await check_database(conn)
                if not self.codec.encrypted:
                    return problems
                problems += await check_envelopes(conn, self.codec)
                if await pending_cleanup(conn) is not None:
                    problems.append(
                        "encryption: the clean-up after encrypt or rotate-key did not finish: "
                        "free pages may still hold old values (run `sessiongraph doctor --repair`)"
                    )
        # The copies a re-seal or a migration set aside, and the backups `backup` made
        # (one taken before `encrypt` holds every value in plaintext).
        for copy in [*copies_of(self.path), *backups_of(self.path)]:
            plaintext = await asyncio.to_thread(is_plaintext, copy)
            if plaintext is None:
                problems.append(
                    f"copy {copy} can not be read (a partial copy?) and may "
                    "hold plaintext: delete it"
                )
            elif plaintext:
                problems.append(
                    f"copy {copy} holds this encrypted database's values in "
                    "plaintext: delete it (and run `sessiongraph doctor --repair`)"
                )
        return problems

    async def vacuum(self) -> bool:
        """Rewrite the file (no freed page keeps old bytes) and empty the WAL; False when
        another process's read kept the WAL from being folded back (the file keeps its
        old pages until it is)."""
        async with self._write_lock:
            await self.writer_connection.execute("VACUUM")
            return await self._fold_wal()

    async def checkpoint(self) -> bool:
        """Fold the WAL back into the database file; False when a reader kept it from
        finishing."""
        async with self._write_lock:
            return await self._fold_wal()

    async def _fold_wal(self) -> bool:
        # (busy, frames in the WAL, frames folded back): busy once the busy timeout
        # passed with a reader still on a snapshot the fold would overwrite.
        [(busy, _, _)] = await self.writer_connection.execute_fetchall(
            "PRAGMA wal_checkpoint(TRUNCATE)"
        )
        return not busy
