"""What every part of a :class:`~graph.store.Writer` shares: its transaction's connection,
codec and hooks, what it touched, and how it seals and opens stored values."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import orjson

from graph.crypto import Codec, PlainCodec
from graph.inputs import Masker, NewEvent, NewMessage
from graph.store.hooks import WriteHook
from graph.store.rows import event_row_key, message_row_key
from graph.store.sealed import stored_text
from graph.store.transcripts import Transcripts

if TYPE_CHECKING:
    import aiosqlite

__all__ = ["Added", "WriterBase"]


@dataclass(slots=True)
class Added:
    """Rows a transaction inserted: what it wrote, whatever other writers do meanwhile."""

    sessions: int = 0
    conversations: int = 0
    messages: int = 0
    events: int = 0


class WriterBase:
    """The state of one write transaction (see :class:`~graph.store.Writer`)."""

    def __init__(
        self,
        conn: aiosqlite.Connection,
        hooks: Iterable[WriteHook] = (),
        codec: Codec | None = None,
        *,
        feed: bool = True,
        masker: Masker | None = None,
    ) -> None:
        self._conn = conn
        # The secret rules messages' texts are stored masked with (None: stored as written).
        self._masker = masker
        self._hooks = tuple(hooks)
        self._codec: Codec = codec or PlainCodec()
        # Sessions whose aggregates are refreshed before the commit; threads likewise
        # (each one written to, and every thread of the sessions in ``_all_threads``).
        self._touched: set[int] = set()
        self._threads: set[int] = set()
        self._all_threads: set[int] = set()
        # Keys of messages written or deleted: which copy counts is decided again.
        self._usage_keys: set[str] = set()
        self._feed = feed
        # (kind, pk) -> (conversation_pk, line, session_pk): what this transaction wrote,
        # for the change feed; a row written twice is one change.
        self._changes: dict[tuple[str, int], tuple[int, int, int]] = {}
        self._next_ids: dict[str, int] = {}  # table -> next pk (see ``_new_ids``)
        self.added = Added()

    @property
    def connection(self) -> aiosqlite.Connection:
        """The writer connection, for writes kept in other store modules."""
        return self._conn

    @property
    def transcripts(self) -> Transcripts:
        """The importer's queries, inside this transaction."""
        return Transcripts(self._conn, self._codec)

    def rolled_back(self) -> None:
        """Tell the hooks that nothing of this transaction was kept."""
        for hook in self._hooks:
            hook.rolled_back()

    def touch(self, session_pk: int) -> None:
        """Have the aggregates of ``session_pk`` (and its threads) refreshed before the commit."""
        self._touched.add(session_pk)
        self._all_threads.add(session_pk)

    async def _new_ids(self, table: str, count: int) -> int:
        """The first of ``count`` pks for new rows of ``table`` (``messages``/``events``).

        Rows go in with these ids, so the writer knows them without reading them back.
        Only this writer inserts into those tables, inside its own write transaction, so
        the largest id read once per transaction stays the largest.
        """
        first = self._next_ids.get(table)
        if first is None and count:
            [(top,)] = await self._conn.execute_fetchall(
                f"SELECT coalesce(max(id), 0) FROM {table}"
            )
            first = int(top) + 1
        if first is None:
            return 0  # nothing to number
        self._next_ids[table] = first + count
        return first

    def _seal(self, table: str, column: str, row: str, value: Any) -> bytes:
        return self._codec.seal(table, column, row, _json(value))

    def _text_value(
        self, conversation_pk: int, message: NewMessage
    ) -> tuple[str | bytes, str | None]:
        """A message's readable text as stored (sealed like its content when encrypted),
        secrets masked, and the digest of the rules that masked them."""
        key = message_row_key(conversation_pk, message.msg_key)
        masker = self._masker
        if masker is None:
            return stored_text(self._codec, "messages", "text", key, message.text), None
        text = message.masked_text(masker)
        return stored_text(self._codec, "messages", "text", key, text), masker.digest

    def _open(self, table: str, column: str, row: str, stored: bytes | str) -> Any:
        return orjson.loads(self._codec.open(table, column, row, stored))

    def _stored_events(
        self, conversation_pk: int, rows: Iterable[Sequence[Any]]
    ) -> list[tuple[int, NewEvent]]:
        """A thread's ``(id, seq, type, timestamp, data)`` event rows as (pk, event), their
        data opened (what the hooks are told of events that go)."""
        return [
            (
                int(pk),
                NewEvent(
                    seq,
                    kind,
                    timestamp,
                    self._open("events", "data", event_row_key(conversation_pk, seq), data),
                ),
            )
            for pk, seq, kind, timestamp, data in rows
        ]

    def _open_text(self, table: str, column: str, row: str, stored: Any) -> str | None:
        if stored is None:
            return None
        if not self._codec.encrypted:
            return _text(stored)
        return self._codec.open(table, column, row, stored).decode()


def _json(value: Any) -> bytes:
    return orjson.dumps(value)


def _text(value: str | bytes | None) -> str | None:
    return value.decode() if isinstance(value, bytes) else value
