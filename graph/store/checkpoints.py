"""Folding the WAL back into the database beside a long run of writes.

SQLite checkpoints on the writer's own connection when a commit leaves the WAL past
``wal_autocheckpoint`` pages, and the writer waits for it. During a bulk import that
was a fifth of the store's time. A checkpoint can run on another connection while the
writer goes on (PASSIVE: it copies what is committed and never blocks a writer), and
as one long statement it holds the GIL only at its start and end, so it runs on its
own thread beside the writes instead of after them.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from typing import TYPE_CHECKING

from graph.store.connection import open_connection

if TYPE_CHECKING:
    from pathlib import Path

    import aiosqlite

__all__ = ["BackgroundCheckpoints"]

log = logging.getLogger(__name__)


class BackgroundCheckpoints:
    """Runs a PASSIVE checkpoint after each commit it is told of, one at a time."""

    def __init__(self, conn: aiosqlite.Connection) -> None:
        self._conn = conn
        self._running: asyncio.Task[None] | None = None
        self._again = False

    @classmethod
    async def open(cls, path: Path) -> BackgroundCheckpoints:
        return cls(await open_connection(path, readonly=False))

    def committed(self) -> None:
        """A write transaction committed: fold it back when the running checkpoint ends."""
        if self._running is None or self._running.done():
            self._running = asyncio.ensure_future(self._checkpoint())
        else:
            self._again = True

    async def _checkpoint(self) -> None:
        again = True
        while again:
            self._again = False
            try:
                await self._conn.execute("PRAGMA wal_checkpoint(PASSIVE)")
            except sqlite3.Error as exc:
                # The writer's own checkpoints still happen, and whatever stopped this
                # one (a full disk) stops the writes too and is reported there.
                log.info("background checkpoint failed: %s", exc)
                return
            except Exception:
                log.warning("background checkpoint failed", exc_info=True)
                return
            again = self._again

    async def close(self) -> None:
        """Wait for the running checkpoint, then close the connection."""
        if self._running is not None:
            await self._running
        await self._conn.close()
