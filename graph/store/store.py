"""The store: one writer connection, a small pool of readers, and migrations."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Iterable, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import aiosqlite

from graph.crypto import Codec, PlainCodec
from graph.errors import CleanupPending, SchemaOutOfDate, StoreError
from graph.store.changes import changes_head
from graph.store.checkpoints import BackgroundCheckpoints
from graph.store.connection import (
    StatementCounter,
    create_private,
    narrow_mode,
    open_connection,
    refuse_foreign,
)
from graph.store.faults import file_faults
from graph.store.indexing import SearchIndexer
from graph.store.keyring import (
    KeyMaterial,
    codec_for,
    crypto_state,
    has_sessions,
    new_state,
    write_crypto_state,
)
from graph.store.migrations import Migration, Migrator, load_migrations
from graph.store.reads import Reader
from graph.store.scope import CURRENT_SCOPE, RequestScope
from graph.store.upkeep import Upkeep
from graph.store.writes import Writer

if TYPE_CHECKING:
    from graph.inputs import Masker
    from graph.store.writes import WriteHook

__all__ = ["Store"]

log = logging.getLogger(__name__)

# Reader connections, each with its thread. More let long reads overlap, but every row a
# thread hands back takes the GIL from the event loop: under 8 clients, 4 threads made
# p95 1.5-2x p50 (2: 1.2-1.5x) for the same throughput.
DEFAULT_READERS = 2


class Store(Upkeep):
    """Access to one sessiongraph database file.

    Writes are serialized on one connection (SQLite allows one writer at a time; a lock
    here queues them without busy retries); reads run concurrently on a pool of
    read-only connections, which WAL mode lets proceed while a write is under way.
    """

    def __init__(
        self,
        path: Path,
        *,
        readers: int = DEFAULT_READERS,
        hooks: Iterable[WriteHook] | None = None,
        migrations: list[Migration] | None = None,
        trace_writes: bool = False,
        key: KeyMaterial | None = None,
    ) -> None:
        self.path = path
        self.key = key
        # Until the database's state is read (``unlock``), values are taken as plain.
        self.codec: Codec = PlainCodec()
        # Reads are always counted, by the Reader (per-request statement counts are
        # asserted in tests); writes only on request, by a trace callback: sqlite3 expands
        # every bound value into the traced SQL text, which doubles a bulk import's cost.
        self.statements = StatementCounter()
        self.trace_writes = trace_writes
        # The search index is part of what a write means: it is kept in the same
        # transaction unless a caller supplies its own hooks (e.g. an encrypted indexer).
        self.hooks: list[WriteHook] = list(hooks) if hooks is not None else [SearchIndexer()]
        self._reader_count = readers
        self._migrations = migrations if migrations is not None else load_migrations()
        self._writer: aiosqlite.Connection | None = None
        self._write_lock = asyncio.Lock()
        self._readers: asyncio.Queue[aiosqlite.Connection] = asyncio.Queue()
        self._all_readers: list[aiosqlite.Connection] = []
        self._releasing: set[asyncio.Task[None]] = set()
        self._opened_readers = 0
        self._deadlines: dict[int, _Deadline] = {}
        self._closed = False
        # Whether the schema has the change feed (migration 0003); known after a write.
        self._feed: bool | None = None
        self._checkpoints: BackgroundCheckpoints | None = None  # inside ``bulk()``

    @classmethod
    async def open(
        cls,
        path: Path,
        *,
        migrate: bool = True,
        backup: bool = True,
        readers: int = DEFAULT_READERS,
        hooks: Iterable[WriteHook] | None = None,
        trace_writes: bool = False,
        key: KeyMaterial | None = None,
        cleanup: bool = True,
    ) -> Store:
        """Open the database, applying pending migrations unless ``migrate`` is false.

        The key (or its absence) is checked against what the database records before
        anything is written. With ``migrate``, a search index built by another index
        version is rebuilt too, and (with ``cleanup``) the clean-up an interrupted
        ``encrypt`` or ``rotate-key`` still owes is finished.

        Raises:
            ConfigError: the key is missing, wrong, or given for a plaintext database.
            SchemaOutOfDate: migrations are pending and ``migrate`` is false.
            MigrationError: a migration failed (the database is left as it was), or an
                applied migration no longer matches its file.
        """
        store = cls(path, readers=readers, hooks=hooks, trace_writes=trace_writes, key=key)
        try:
            with file_faults(path, "opening", "try again"):
                await store._open(migrate=migrate, backup=backup, cleanup=cleanup)
        except BaseException:
            await store.close()
            raise
        return store

    async def _open(self, *, migrate: bool, backup: bool, cleanup: bool) -> None:
        await self.connect()
        await self.unlock()  # before migrating: a wrong key must not write anything
        if not migrate:
            pending = await self.migrator().pending()
            if pending:
                raise SchemaOutOfDate(
                    f"{self.path} is at schema version {pending[0].version - 1}, this "
                    f"sessiongraph needs {pending[-1].version}: run `sessiongraph migrate up`"
                )
            return
        await self.migrate(backup=backup)
        await self.unlock(initialize=True)
        await self.ensure_index()
        await self.ensure_message_rows()
        await self.ensure_cache_ttl()
        await self.ensure_message_text()
        try:
            if cleanup and await self.finish_cleanup():
                log.warning("finished the clean-up of an interrupted re-seal of %s", self.path)
        except CleanupPending as exc:  # still owed: the next open tries again
            log.warning("%s", exc)

    async def connect(self) -> None:
        """Open the writer connection (readers open lazily, after migrations).

        Raises:
            StoreError: the file is another program's database, or can not be opened.
        """
        refuse_foreign(self.path)
        create_private(self.path)
        try:
            self._writer = await open_connection(
                self.path,
                readonly=False,
                counter=self.statements if self.trace_writes else None,
            )
        except aiosqlite.Error as exc:
            raise StoreError(f"cannot open database {self.path}: {exc}") from exc
        narrow_mode(self.path)

    @property
    def writer_connection(self) -> aiosqlite.Connection:
        """The one connection that writes (raises when the store is not open)."""
        if self._writer is None:
            raise StoreError(f"the store on {self.path} is not open")
        return self._writer

    def migrator(self) -> Migrator:
        return Migrator(self.writer_connection, self._migrations)

    async def migrate(self, *, backup: bool = True) -> list[Migration]:
        """Apply pending migrations, first copying a non-empty database aside."""
        migrator = self.migrator()
        async with self._write_lock:
            pending = await migrator.pending()
            if not pending:
                return []
            if backup and await migrator.current_version() > 0:
                copy = await self.backup(f"pre-{pending[-1].version:04d}")
                log.info("copied the database to %s before migrating", copy)
            self._feed = None
            return await migrator.up()

    async def unlock(self, *, initialize: bool = False) -> None:
        """Choose the codec from what the database records and the key given.

        Args:
            initialize: A key given for a database that holds no session yet makes it
                an encrypted one (its state is recorded; needs the meta table).

        Raises:
            ConfigError: see :func:`graph.store.keyring.codec_for`.
        """
        conn = self.writer_connection
        state = await crypto_state(conn)
        if not state and self.key is not None:
            if await has_sessions(conn):  # a plaintext database: refused before migrating
                codec_for(state, self.key, str(self.path))
            if not initialize:
                return  # decided after migrating (a new database has no meta table yet)
            state, _ = new_state(self.key)
            async with self.write() as writer:
                await write_crypto_state(writer.connection, state)
        self.codec = codec_for(state, self.key, str(self.path))
        for hook in self.hooks:
            if isinstance(hook, SearchIndexer):
                hook.codec = self.codec

    def _indexer(self) -> SearchIndexer | None:
        return next((hook for hook in self.hooks if isinstance(hook, SearchIndexer)), None)

    def _masker(self) -> Masker | None:
        """The secret rules texts are stored masked with: the search index's, which
        leaves the same secrets out of the documents."""
        indexer = self._indexer()
        return indexer.analysis.scanner if indexer is not None else None

    async def close(self) -> None:
        """Close every connection; the store can not be used afterwards."""
        self._closed = True
        for conn in self._all_readers:
            await conn.close()
        self._all_readers.clear()
        self._opened_readers = 0
        self._readers = asyncio.Queue()
        if self._writer is not None:
            await self._writer.close()
            self._writer = None

    @contextmanager
    def request_scope(self, timeout: float) -> Iterator[RequestScope]:
        """Bound the reads of one request (this task and those it starts): each is
        interrupted past ``timeout`` seconds, and their statements are counted."""
        scope = RequestScope(deadline=time.monotonic() + timeout)
        token = CURRENT_SCOPE.set(scope)
        try:
            yield scope
        finally:
            CURRENT_SCOPE.reset(token)

    @asynccontextmanager
    async def read(self) -> AsyncIterator[Reader]:
        """A reader connection from the pool, for the duration of the block."""
        if self._closed:
            raise StoreError(f"the store on {self.path} is closed")
        if self._readers.empty() and self._opened_readers < self._reader_count:
            self._opened_readers += 1  # before the await, so concurrent callers see it
            # No trace callback on readers: FTS5 runs an internal statement per ranked row
            # and the callback would be called for each; the Reader counts its own.
            conn = await open_connection(self.path, readonly=True)
            deadline = _Deadline()
            # Checked every few thousand VM steps: a statement past the request's
            # deadline is interrupted ("interrupted"), which the Reader reports.
            await conn.set_progress_handler(deadline.expired, 5_000)
            self._deadlines[id(conn)] = deadline
            self._all_readers.append(conn)
        else:
            conn = await self._readers.get()
        scope = CURRENT_SCOPE.get()
        self._deadlines[id(conn)].at = scope.deadline if scope else None
        reader = Reader(conn, self.statements)
        abandoned = False
        try:
            yield reader
        except asyncio.CancelledError:
            # Cancelled, it may leave a statement running on the connection's thread: the
            # next reader must not run one beside it (small reads run on the loop's).
            abandoned = True
            raise
        finally:
            if scope is not None:
                scope.statements += reader.statements
            if abandoned:
                task = asyncio.get_running_loop().create_task(self._release_when_done(conn))
                self._releasing.add(task)
                task.add_done_callback(self._releasing.discard)
            else:
                self._deadlines[id(conn)].at = None
                self._readers.put_nowait(conn)

    async def _release_when_done(self, conn: aiosqlite.Connection) -> None:
        """Back to the pool once the connection's thread has ended whatever the cancelled
        block left running (still stopped at its request's deadline, kept until then)."""
        # Queued after the abandoned read; an error (the store closed meanwhile) means
        # the same: the thread is done with it.
        with contextlib.suppress(Exception):
            await conn.execute_fetchall("SELECT 1")
        self._deadlines[id(conn)].at = None
        self._readers.put_nowait(conn)

    @asynccontextmanager
    async def write(self) -> AsyncIterator[Writer]:
        """One write transaction: committed when the block ends, rolled back on error."""
        conn = self.writer_connection
        async with self._write_lock:
            await conn.execute("BEGIN IMMEDIATE")
            if self._feed is None:
                self._feed = await changes_head(conn) is not None
            masker = self._masker()
            writer = Writer(conn, self.hooks, self.codec, feed=self._feed, masker=masker)
            try:
                yield writer
                await writer.finish()
            except BaseException:
                writer.rolled_back()
                await conn.execute("ROLLBACK")
                raise
            await conn.execute("COMMIT")
        if self._checkpoints is not None:
            self._checkpoints.committed()

    @asynccontextmanager
    async def bulk(self) -> AsyncIterator[None]:
        """A long run of large writes (an import): checkpoints run beside them.

        See :mod:`graph.store.checkpoints`. Nested uses share the outer one.
        """
        if self._checkpoints is not None:
            yield
            return
        self._checkpoints = await BackgroundCheckpoints.open(self.path)
        try:
            yield
        finally:
            checkpoints, self._checkpoints = self._checkpoints, None
            await checkpoints.close()


class _Deadline:
    """The deadline of whatever request holds a reader (``at``: a monotonic time)."""

    __slots__ = ("at",)

    def __init__(self) -> None:
        self.at: float | None = None

    def expired(self) -> int:
        return 1 if self.at is not None and time.monotonic() > self.at else 0
