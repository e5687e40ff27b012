"""Keeping the search index in step with the store, inside the same write transaction.

:class:`SearchIndexer` is a store write hook. The writer hands it the messages, events
and session titles it writes, and the old versions of what it replaces or deletes; the
indexer tokenizes them and adds or removes their FTS5 documents. ``search_fts`` is
contentless (it stores no text), so removing a document means handing FTS5 the same
tokens again: they are re-derived from the old version, which is deterministic for a
given :data:`INDEX_VERSION`. A database indexed under another version is reindexed.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Final

import orjson

from graph.blocks import blocks_for
from graph.content import records_of
from graph.crypto import Codec, DecryptionFailed, PlainCodec
from graph.search.analysis import INDEX_VERSION, Analysis, Finding
from graph.search.documents import (
    FIELD_COLUMNS,
    UNSEARCHED_EVENT_TYPES,
    Fields,
    is_searched_event,
    session_fields,
)
from graph.store.bulk import from_json, insert_json
from graph.store.rows import event_row_key, message_row_key
from graph.store.searching import SESSION_DOCS

if TYPE_CHECKING:
    import aiosqlite

    from graph.inputs import Document, NewEvent, NewMessage

__all__ = [
    "INDEX_VERSION",
    "REBUILD_ORDER",
    "SEARCHED_EVENTS",
    "SearchIndexer",
    "doc_rowid",
    "indexed_version",
    "mark_indexed",
]

_KINDS: Final = {"message": 0, "event": 1, "session": 2}
_COLUMNS: Final = ", ".join(FIELD_COLUMNS)
_SLOTS: Final = ", ".join("?" * len(FIELD_COLUMNS))
_INSERT: Final = f"INSERT INTO search_fts (rowid, {_COLUMNS}) VALUES (?, {_SLOTS})"
_DELETE: Final = (
    f"INSERT INTO search_fts (search_fts, rowid, {_COLUMNS}) VALUES ('delete', ?, {_SLOTS})"
)
_UPSERT_DOC: Final = (
    " ON CONFLICT (rowid) DO UPDATE SET role = excluded.role, model = excluded.model,"
    " timestamp = excluded.timestamp"
)
_DOC_COLUMNS: Final = "INSERT INTO search_docs (rowid, kind, session_pk, role, model, timestamp) "
_DOCS: Final = f"{_DOC_COLUMNS} VALUES (?, ?, ?, ?, ?, ?){_UPSERT_DOC}"
# ``WHERE true``: without it SQLite would read ON CONFLICT as part of a join.
_DOCS_JSON: Final = f"{_DOC_COLUMNS} {from_json(6)} WHERE true{_UPSERT_DOC}"
_BATCH: Final = 500
_FINDING: Final = (
    "INSERT INTO secret_findings (doc, session_pk, field, kind, fingerprint, timestamp, count)"
    " VALUES (?, ?, ?, ?, ?, ?, ?)"
)
REBUILD_ORDER: Final = ("messages", "events", "sessions")
# The events that have documents, as a condition on ``events`` and its parameters.
SEARCHED_EVENTS: Final = (
    f"type NOT IN ({', '.join('?' * len(UNSEARCHED_EVENT_TYPES))})",
    tuple(sorted(UNSEARCHED_EVENT_TYPES)),
)
# What a rebuild reads, and its parameters; a page's bounds are ANDed to it.
_REBUILD: Final[dict[str, tuple[str, tuple[str, ...]]]] = {
    "messages": (
        "SELECT id, session_pk, role, model, timestamp, content, conversation_pk, msg_key,"
        " (SELECT source FROM sessions WHERE sessions.id = messages.session_pk)"
        " FROM messages WHERE true",
        (),
    ),
    "events": (
        "SELECT id, session_pk, timestamp, data, conversation_pk, seq FROM events"
        f" WHERE {SEARCHED_EVENTS[0]}",
        SEARCHED_EVENTS[1],
    ),
    "sessions": ("SELECT id, session_id, title, summary FROM sessions WHERE true", ()),
}


def doc_rowid(kind: str, pk: int) -> int:
    """The document id of a row: its pk and its kind in one integer; sessions above all
    others (see ``graph.store.searching.search_sql``)."""
    return SESSION_DOCS + pk if kind == "session" else pk * 4 + _KINDS[kind]


class SearchIndexer:
    """Adds and removes search documents (a :class:`~graph.store.WriteHook`).

    New documents are held until the transaction commits, then inserted in rowid
    order: FTS5 flushes its pending terms to a new segment whenever a rowid is not
    above the last one written, and a batch's messages (pks * 4) and events (pks * 4 + 1)
    interleave, which made the index's share of an import three times larger. Anything
    held is written before a removal, so operations keep their order.

    Args:
        codec: How the database keeps values and tokens (the store sets it on open).
    """

    def __init__(self, codec: Codec | None = None) -> None:
        self.codec = codec or PlainCodec()
        self._documents: list[tuple[Any, ...]] = []
        self._docs: list[tuple[Any, ...]] = []
        self._findings: list[tuple[Any, ...]] = []
        # Values a rebuild found not to authenticate, left out of the index (doctor
        # names them): one such value stopped every rebuild, and so every command.
        self.unreadable = 0

    @property
    def codec(self) -> Codec:
        return self._codec

    @codec.setter
    def codec(self, codec: Codec) -> None:
        self._codec = codec
        self.analysis = Analysis(codec.hasher)

    def _row(self, rowid: int, fields: Fields) -> tuple[Any, ...]:
        return (rowid, *self.analysis.columns(fields))

    def _document(
        self,
        rowid: int,
        document: Document | None,
        fields: Callable[[], tuple[Fields, tuple[Finding, ...]]],
    ) -> tuple[tuple[Any, ...], tuple[Finding, ...]]:
        """The FTS5 row of a document and the secrets left out of it: prepared ahead when
        it was, under this analysis, else built here."""
        if document is not None and document[0] == self.analysis.tag:
            return (rowid, *document[1]), document[2]
        columns, found = self.analysis.documented(fields())
        return (rowid, *columns), found

    def _message_doc(
        self, pk: int, message: NewMessage
    ) -> tuple[tuple[Any, ...], tuple[Finding, ...]]:
        analysis = self.analysis
        return self._document(
            doc_rowid("message", pk),
            message.document,
            lambda: analysis.message_document(message.blocks()),
        )

    def _event_doc(self, pk: int, event: NewEvent) -> tuple[tuple[Any, ...], tuple[Finding, ...]]:
        analysis = self.analysis
        return self._document(
            doc_rowid("event", pk), event.document, lambda: analysis.event_document(event.record)
        )

    def _found(
        self, rowid: int, session_pk: int, timestamp: str | None, found: tuple[Finding, ...]
    ) -> None:
        self._findings += [(rowid, session_pk, *finding, timestamp) for finding in found]

    async def _flush(self, conn: aiosqlite.Connection) -> None:
        documents, self._documents = self._documents, []
        docs, self._docs = self._docs, []
        findings, self._findings = self._findings, []
        documents.sort(key=_rowid)
        docs.sort(key=_rowid)
        await _run(conn, _INSERT, documents)
        await insert_json(conn, _DOCS_JSON, docs)
        if findings:
            counts = Counter(findings)
            await _run(conn, _FINDING, ((*key, n) for key, n in counts.items()))

    async def _forget(self, conn: aiosqlite.Connection, rowids: Iterable[int]) -> None:
        """Drop what was found in these documents (they are replaced or deleted)."""
        await _run(conn, "DELETE FROM secret_findings WHERE doc = ?", ((r,) for r in rowids))

    async def before_commit(self, conn: aiosqlite.Connection) -> None:
        await self._flush(conn)

    def rolled_back(self) -> None:
        self._documents.clear()
        self._docs.clear()
        self._findings.clear()

    async def messages_written(
        self,
        conn: aiosqlite.Connection,
        session_pk: int,
        written: Sequence[tuple[int, NewMessage]],
        replaced: Mapping[int, NewMessage],
    ) -> None:
        if replaced:
            await self._flush(conn)
            old = [self._message_doc(pk, m)[0] for pk, m in replaced.items()]
            await _run(conn, _DELETE, old)
            await self._forget(conn, (row[0] for row in old))
        for pk, message in written:
            row, found = self._message_doc(pk, message)
            self._documents.append(row)
            if found:
                self._found(row[0], session_pk, message.timestamp, found)
        self._docs += [
            (doc_rowid("message", pk), "message", session_pk, m.role, m.model, m.timestamp)
            for pk, m in written
        ]

    async def events_written(
        self, conn: aiosqlite.Connection, session_pk: int, written: Sequence[tuple[int, NewEvent]]
    ) -> None:
        written = [(pk, e) for pk, e in written if is_searched_event(e.type)]
        for pk, event in written:
            row, found = self._event_doc(pk, event)
            self._documents.append(row)
            if found:
                self._found(row[0], session_pk, event.timestamp, found)
        self._docs += [
            (doc_rowid("event", pk), "event", session_pk, None, None, e.timestamp)
            for pk, e in written
        ]

    async def session_text_written(
        self,
        conn: aiosqlite.Connection,
        session_pk: int,
        before: tuple[str | None, str | None],
        after: tuple[str | None, str | None],
    ) -> None:
        rowid = doc_rowid("session", session_pk)
        await self._flush(conn)
        if any(before):
            await conn.execute(_DELETE, self._row(rowid, session_fields(*before)))
            await self._forget(conn, (rowid,))
        if any(after):
            columns, found = self.analysis.document(session_fields(*after))
            await conn.execute(_INSERT, (rowid, *columns))
            await conn.execute(_DOCS, (rowid, "session", session_pk, None, None, None))
            if found:
                self._found(rowid, session_pk, None, found)
                await self._flush(conn)
        else:
            await conn.execute("DELETE FROM search_docs WHERE rowid = ?", (rowid,))

    async def rows_deleting(
        self,
        conn: aiosqlite.Connection,
        messages: Sequence[tuple[int, NewMessage]],
        events: Sequence[tuple[int, NewEvent]],
        sessions: Sequence[tuple[int, str | None, str | None]],
    ) -> None:
        await self._flush(conn)
        rows = [self._message_doc(pk, m)[0] for pk, m in messages]
        rows += [self._event_doc(pk, e)[0] for pk, e in events if is_searched_event(e.type)]
        rows += [
            self._row(doc_rowid("session", pk), session_fields(title, summary))
            for pk, title, summary in sessions
            if title or summary
        ]
        await _run(conn, _DELETE, rows)
        await _run(conn, "DELETE FROM search_docs WHERE rowid = ?", ((row[0],) for row in rows))
        await self._forget(conn, (row[0] for row in rows))

    def _add(
        self,
        rowid: int,
        session_pk: int,
        timestamp: str | None,
        fields: tuple[Fields, tuple[Finding, ...]],
    ) -> None:
        columns, found = self.analysis.documented(fields)
        self._documents.append((rowid, *columns))
        if found:
            self._found(rowid, session_pk, timestamp, found)

    def _text(self, column: str, session_id: str, stored: str | bytes | None) -> str | None:
        if stored is None:
            return None
        if not self.codec.encrypted:
            return stored.decode() if isinstance(stored, bytes) else stored
        opened = self._opened("sessions", column, session_id, stored)
        return opened.decode() if opened is not None else None

    def _opened(self, table: str, column: str, row: str, stored: str | bytes) -> bytes | None:
        """A stored value, or None (counted) when it does not authenticate."""
        try:
            return self.codec.open(table, column, row, stored)
        except DecryptionFailed:
            self.unreadable += 1
            return None

    async def clear(self, conn: aiosqlite.Connection) -> None:
        """Drop every document (the first step of a rebuild)."""
        self.rolled_back()  # whatever was held back would be dropped too
        await conn.execute("INSERT INTO search_fts (search_fts) VALUES ('delete-all')")
        await conn.execute("DELETE FROM search_docs")
        await conn.execute("DELETE FROM secret_findings")

    async def index_page(
        self, conn: aiosqlite.Connection, table: str, after: int
    ) -> tuple[int, int] | None:
        """Index up to one page of ``table``'s rows with pk > ``after``.

        Returns:
            The last pk done and how many rows, or ``None`` when the table is finished.
            A rebuild is a sequence of these, each in its own transaction if the caller
            likes (key rotation does, so that it resumes).
        """
        select, parameters = _REBUILD[table]
        rows = list(
            await conn.execute_fetchall(
                f"{select} AND id > ? ORDER BY id LIMIT ?", (*parameters, after, _BATCH)
            )
        )
        if not rows:
            return None
        indexed: list[tuple[Any, ...]] = []
        if table == "messages":
            for r in rows:
                content = self._opened("messages", "content", message_row_key(r[6], r[7]), r[5])
                if content is not None:
                    fields = self.analysis.message_document(blocks_for(r[8])(records_of(content)))
                    self._add(doc_rowid("message", r[0]), r[1], r[4], fields)
                    indexed.append((doc_rowid("message", r[0]), "message", r[1], r[2], r[3], r[4]))
            await self._flush(conn)
            await insert_json(conn, _DOCS_JSON, indexed)
        elif table == "events":
            for r in rows:
                data = self._opened("events", "data", event_row_key(r[4], r[5]), r[3])
                if data is not None:
                    fields = self.analysis.event_document(orjson.loads(data))
                    self._add(doc_rowid("event", r[0]), r[1], r[2], fields)
                    indexed.append((doc_rowid("event", r[0]), "event", r[1], None, None, r[2]))
            await self._flush(conn)
            await insert_json(conn, _DOCS_JSON, indexed)
        else:
            for pk, session_id, title, summary in rows:
                after_text = (
                    self._text("title", session_id, title),
                    self._text("summary", session_id, summary),
                )
                await self.session_text_written(conn, pk, (None, None), after_text)
        return int(rows[-1][0]), len(rows)

    async def rebuild(self, conn: aiosqlite.Connection) -> int:
        """Index every stored row again from scratch, here; how many rows were indexed."""
        await self.clear(conn)
        total = 0
        for table in REBUILD_ORDER:
            last = 0
            while (done := await self.index_page(conn, table, last)) is not None:
                last, count = done
                total += count
        await mark_indexed(conn, self.analysis.version)
        return total


def _rowid(row: tuple[Any, ...]) -> int:
    return int(row[0])


async def _run(conn: aiosqlite.Connection, sql: str, rows: Iterable[tuple[Any, ...]]) -> None:
    batch = list(rows)
    if batch:
        await conn.executemany(sql, batch)


async def indexed_version(conn: aiosqlite.Connection) -> str | None:
    """The index version the database's documents were built with (None: never)."""
    rows = list(await conn.execute_fetchall("SELECT value FROM meta WHERE key = 'search.version'"))
    return str(rows[0][0]) if rows else None


async def mark_indexed(conn: aiosqlite.Connection, version: str) -> None:
    """Record the analysis version the documents follow (``Analysis.version``)."""
    await conn.execute(
        "INSERT INTO meta (key, value) VALUES ('search.version', ?)"
        " ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        (version,),
    )
