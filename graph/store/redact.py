"""Rewriting stored values with secrets replaced, for good: rows, index, WAL, free pages.

The store knows no secret rules: the caller hands it ``mask`` (a JSON value in, the
same value with its secrets replaced out) and ``might_hold`` (a cheap test of a value's
JSON text, false when ``mask`` could change nothing). Rows are rewritten in batches,
each its own transaction, through the writer, so the search index drops the old
documents and takes the new ones in the same transaction. The file is vacuumed and its
WAL truncated afterwards, so the old bytes are in no page of the database, free or not.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

import orjson

from graph.inputs import NewEvent, NewMessage
from graph.store.rows import event_row_key, message_row_key

if TYPE_CHECKING:
    from graph.store.store import Store
    from graph.store.writes import Writer

__all__ = ["Redaction", "redact"]

_BATCH: Final = 200
Mask = Callable[[Any], Any]
MightHold = Callable[[bytes], bool]
# (writer, session pk, its source) -> the title derived again from its prompts, or None.
Retitle = Callable[["Writer", int, str], Awaitable[str | None]]


@dataclass(slots=True)
class Redaction:
    """What a redaction changed (or, on a dry run, would change), and what it could not.

    Attributes:
        messages, events, sessions: Rows rewritten (or to rewrite).
        vacuumed: False when another connection kept the file from being rewritten.
        wal_bytes: What the WAL still holds after the clean-up (0: emptied).
        holders: Files beside the database that still hold the old values (backups).
    """

    messages: int = 0
    events: int = 0
    sessions: int = 0
    vacuumed: bool = True
    wal_bytes: int = 0
    holders: list[Path] = field(default_factory=list)

    @property
    def rows(self) -> int:
        return self.messages + self.events + self.sessions


async def redact(
    store: Store,
    mask: Mask,
    might_hold: MightHold,
    *,
    session_pk: int | None = None,
    dry_run: bool = False,
    retitle: Retitle | None = None,
) -> Redaction:
    """Replace every secret ``mask`` finds in the stored rows (of one session, or all).

    A title derived from a prompt is a cut piece of it, in which ``mask`` may no longer
    recognise a cut secret: ``retitle`` derives it again from the redacted prompts.

    Returns:
        What changed; after a real run, ``wal_bytes`` and ``holders`` say whether any
        copy of the old values is left (another process holding the WAL open, backups).
    """
    done = Redaction()
    done.messages = await _messages(store, mask, might_hold, session_pk, dry_run)
    done.events = await _events(store, mask, might_hold, session_pk, dry_run)
    done.sessions = await _sessions(store, mask, might_hold, session_pk, dry_run, retitle)
    if not dry_run and (done.rows or await _wal_has_frames(store)):
        try:
            done.vacuumed = await store.vacuum()
        except sqlite3.OperationalError:  # "database is locked": someone is reading
            done.vacuumed = False
    wal = store.path.with_name(store.path.name + "-wal")
    done.wal_bytes = wal.stat().st_size if wal.exists() else 0
    done.holders = sorted(
        path for path in store.path.parent.glob(f"{store.path.name}.*.bak") if path.is_file()
    )
    return done


async def _wal_has_frames(store: Store) -> bool:
    # A run after one that another process kept from emptying the WAL has nothing left
    # to rewrite, but still the clean-up to finish.
    wal = store.path.with_name(store.path.name + "-wal")
    return wal.exists() and wal.stat().st_size > 0


def _where(session_pk: int | None) -> tuple[str, tuple[Any, ...]]:
    if session_pk is None:
        return "", ()
    return " AND session_pk = ?", (session_pk,)


def _masked(raw: bytes, mask: Mask, might_hold: MightHold) -> tuple[Any, Any] | None:
    """(old, new) decoded values when masking changes something, else None."""
    if not might_hold(raw):
        return None
    old = orjson.loads(raw)
    new = mask(old)
    return None if new == old else (old, new)


async def _messages(
    store: Store, mask: Mask, might_hold: MightHold, session_pk: int | None, dry_run: bool
) -> int:
    where, params = _where(session_pk)
    changed, after = 0, 0
    while True:
        async with store.write() as writer:
            rows = list(
                await writer.connection.execute_fetchall(
                    "SELECT id, session_pk, conversation_pk, msg_key, role, timestamp, model,"
                    " content,"
                    " (SELECT source FROM sessions WHERE sessions.id = messages.session_pk)"
                    f" FROM messages WHERE id > ?{where} ORDER BY id LIMIT ?",
                    (after, *params, _BATCH),
                )
            )
            if not rows:
                return changed
            after = int(rows[-1][0])
            for pk, spk, cpk, msg_key, role, timestamp, model, content, source in rows:
                raw = store.codec.open(
                    "messages", "content", message_row_key(cpk, msg_key), content
                )
                found = _masked(raw, mask, might_hold)
                if found is None:
                    continue
                changed += 1
                if dry_run:
                    continue
                old, new = (
                    NewMessage(
                        msg_key,
                        role,
                        timestamp,
                        [(int(line), r) for line, r in value],
                        model=model,
                        source=source,
                    )
                    for value in found
                )
                await writer.rewrite_message(spk, cpk, pk, old, new)


async def _events(
    store: Store, mask: Mask, might_hold: MightHold, session_pk: int | None, dry_run: bool
) -> int:
    where, params = _where(session_pk)
    changed, after = 0, 0
    while True:
        async with store.write() as writer:
            rows = list(
                await writer.connection.execute_fetchall(
                    "SELECT id, session_pk, conversation_pk, seq, type, subtype, timestamp, uuid,"
                    f" data FROM events WHERE id > ?{where} ORDER BY id LIMIT ?",
                    (after, *params, _BATCH),
                )
            )
            if not rows:
                return changed
            after = int(rows[-1][0])
            for pk, spk, cpk, seq, type_, subtype, timestamp, uuid, data in rows:
                raw = store.codec.open("events", "data", event_row_key(cpk, seq), data)
                found = _masked(raw, mask, might_hold)
                if found is None:
                    continue
                changed += 1
                if dry_run:
                    continue
                old, new = (
                    NewEvent(seq, type_, timestamp, value, uuid=uuid, subtype=subtype)
                    for value in found
                )
                await writer.rewrite_event(spk, cpk, pk, old, new)


async def _sessions(
    store: Store,
    mask: Mask,
    might_hold: MightHold,
    session_pk: int | None,
    dry_run: bool,
    retitle: Retitle | None,
) -> int:
    where, params = _where(session_pk)
    where = where.replace("session_pk", "id")
    changed = 0
    async with store.write() as writer:
        rows = await writer.connection.execute_fetchall(
            "SELECT id, session_id, source, title_source, title, summary, metadata"
            f" FROM sessions WHERE 1{where}",
            params,
        )
        codec = store.codec
        for pk, session_id, source, title_source, *stored in rows:
            title, summary, metadata = (
                None if value is None else codec.open("sessions", column, session_id, value)
                for column, value in zip(("title", "summary", "metadata"), stored, strict=True)
            )
            texts = [None if t is None else t.decode() for t in (title, summary)]
            masked = [None if t is None else mask(t) for t in texts]
            if retitle is not None and title_source == "prompt" and title is not None:
                masked[0] = await retitle(writer, pk, source) or masked[0]
            meta = None if metadata is None else _masked(metadata, mask, might_hold)
            if masked == texts and meta is None:
                continue
            changed += 1
            if dry_run:
                continue
            if masked != texts:
                await writer.set_session_text(pk, title=masked[0], summary=masked[1])
            if meta is not None:
                await writer.rewrite_session_metadata(pk, session_id, meta[1])
    return changed
