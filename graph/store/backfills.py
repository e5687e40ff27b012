"""Columns and tables added by a migration, filled for the rows stored before it when the
store is next opened: sealed content needs the key, which SQL does not have.

Each call reads one batch in its caller's transaction and moves a cursor kept in
``meta``; the cursor is gone when nothing is left (``graph/store/upkeep.py`` drives them).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import orjson

from graph.blocks import blocks_for
from graph.content import readable_text, records_of
from graph.crypto import Codec
from graph.inputs import Masker, masked_text
from graph.store.rows import message_row_key
from graph.store.sealed import stored_text

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    import aiosqlite

__all__ = ["done_with", "fill_message_rows", "fill_message_text", "next_batch"]


async def next_batch(
    conn: aiosqlite.Connection, cursor: str, sql: str, params: Callable[[int], Sequence[Any]]
) -> list[Any] | None:
    """The next batch of a backfill whose cursor (the last id done) is ``cursor`` in
    ``meta``: ``sql`` with ``params(after)``, rows led by their id. ``None`` when nothing
    is left to do; the cursor is then gone."""
    found = list(await conn.execute_fetchall("SELECT value FROM meta WHERE key = ?", (cursor,)))
    if not found:
        return None
    rows = list(await conn.execute_fetchall(sql, params(int(found[0][0]))))
    if not rows:
        await conn.execute("DELETE FROM meta WHERE key = ?", (cursor,))
        return None
    return rows


async def done_with(conn: aiosqlite.Connection, cursor: str, rows: Sequence[Any]) -> None:
    """Move the backfill's ``cursor`` past ``rows`` (a batch of :func:`next_batch`)."""
    await conn.execute("UPDATE meta SET value = ? WHERE key = ?", (str(rows[-1][0]), cursor))


async def fill_message_rows(
    conn: aiosqlite.Connection, codec: Codec, *, batch: int = 500
) -> int | None:
    """Fill ``message_rows`` for one batch of sealed messages stored before migration 5.

    Returns:
        How many messages were read, or ``None`` when nothing is left to do (the cursor
        in ``meta`` is then gone). Call it in its own transaction until it returns ``None``.
    """
    rows = await next_batch(
        conn,
        "message_rows.after",
        "SELECT id, conversation_pk, msg_key, content FROM messages WHERE id > ?"
        " ORDER BY id LIMIT ?",
        lambda after: (after, batch),
    )
    if rows is None:
        return None
    later = []
    for pk, conversation_pk, msg_key, content in rows:
        opened = codec.open(
            "messages", "content", message_row_key(conversation_pk, msg_key), content
        )
        for _, record in orjson.loads(opened)[1:]:
            uuid = record.get("uuid") if isinstance(record, dict) else None
            if isinstance(uuid, str):
                later.append((uuid, pk))
    await conn.executemany(
        "INSERT OR IGNORE INTO message_rows (uuid, message_pk) VALUES (?, ?)", later
    )
    await done_with(conn, "message_rows.after", rows)
    return len(rows)


async def fill_message_text(
    conn: aiosqlite.Connection, codec: Codec, rules: Masker | None, *, batch: int = 500
) -> int | None:
    """Store the readable text, masked by ``rules``, of one batch of messages whose text
    is missing (stored before migration 0011) or was masked by other rules (0013).

    Returns:
        How many messages were read, or ``None`` when nothing is left to do (the cursor
        in ``meta`` is then gone). Call it in its own transaction until it returns ``None``.
    """
    digest = rules.digest if rules is not None else None
    rows = await next_batch(
        conn,
        "message_text.after",
        "SELECT id, conversation_pk, msg_key, content,"
        " (SELECT source FROM sessions WHERE sessions.id = messages.session_pk)"
        " FROM messages WHERE id > ?1"
        " AND (text IS NULL OR (?2 IS NOT NULL AND text_masked_by IS NOT ?2))"
        " ORDER BY id LIMIT ?3",
        lambda after: (after, digest, batch),
    )
    if rows is None:
        return None
    texts = []
    for pk, conversation_pk, msg_key, content, source in rows:
        key = message_row_key(conversation_pk, msg_key)
        blocks = blocks_for(source)(records_of(codec.open("messages", "content", key, content)))
        text = masked_text(blocks, rules) if rules else readable_text(blocks)
        texts.append((stored_text(codec, "messages", "text", key, text), digest, pk))
    await conn.executemany("UPDATE messages SET text = ?, text_masked_by = ? WHERE id = ?", texts)
    await done_with(conn, "message_text.after", rows)
    return len(rows)
