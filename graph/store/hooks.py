"""The write hooks' protocol: what a hook (the search index) is told inside a write."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    import aiosqlite

    from graph.inputs import NewEvent, NewMessage

__all__ = ["WriteHook"]


class WriteHook(Protocol):
    """Told about every change inside the write transaction: the search index's seam.

    Hooks get the objects being written, and the previous version of whatever is
    replaced or deleted, so they never read back or decode what the writer already has.
    """

    async def messages_written(
        self,
        conn: aiosqlite.Connection,
        session_pk: int,
        written: Sequence[tuple[int, NewMessage]],
        replaced: Mapping[int, NewMessage],
    ) -> None:
        """``written`` are (pk, message) pairs; ``replaced`` their old versions by pk."""

    async def events_written(
        self, conn: aiosqlite.Connection, session_pk: int, written: Sequence[tuple[int, NewEvent]]
    ) -> None:
        """``written`` are (pk, event) pairs of events that were not stored before."""

    async def session_text_written(
        self,
        conn: aiosqlite.Connection,
        session_pk: int,
        before: tuple[str | None, str | None],
        after: tuple[str | None, str | None],
    ) -> None:
        """A session's (title, summary) changed from ``before`` to ``after``."""

    async def rows_deleting(
        self,
        conn: aiosqlite.Connection,
        messages: Sequence[tuple[int, NewMessage]],
        events: Sequence[tuple[int, NewEvent]],
        sessions: Sequence[tuple[int, str | None, str | None]],
    ) -> None:
        """These rows are about to be deleted (sessions as (pk, title, summary))."""

    async def before_commit(self, conn: aiosqlite.Connection) -> None:
        """The transaction is about to commit: write anything held back."""

    def rolled_back(self) -> None:
        """The transaction was rolled back: forget anything held back."""
