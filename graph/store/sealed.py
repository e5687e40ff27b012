"""Where sealed values live, and checking that every one of them authenticates."""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

from graph.crypto import Codec, DecryptionFailed

if TYPE_CHECKING:
    import aiosqlite

__all__ = ["SEALED", "check_envelopes", "stored_text"]

# (table, column, SQL for the natural key the value is bound to: the same keys
# graph.store.rows.message_row_key / event_row_key build, and session_id)
SEALED: Final = (
    ("messages", "content", "conversation_pk || ':' || msg_key"),
    ("messages", "text", "conversation_pk || ':' || msg_key"),
    ("events", "data", "conversation_pk || ':' || seq"),
    ("sessions", "title", "session_id"),
    ("sessions", "summary", "session_id"),
    ("sessions", "metadata", "session_id"),
)

_BATCH: Final = 500


def stored_text(codec: Codec, table: str, column: str, row: str, text: str) -> str | bytes:
    """``text`` as stored: TEXT when plain (readable with sqlite3), else one envelope."""
    return codec.seal(table, column, row, text.encode()) if codec.encrypted else text


_SHOWN: Final = 20  # problems listed one by one; the rest are counted


async def check_envelopes(conn: aiosqlite.Connection, codec: Codec) -> list[str]:
    """One line per stored value that does not open with ``codec``, by place.

    Every value is read and authenticated (in batches, by rowid), so this costs one
    decryption per value: what ``doctor`` is for.
    """
    problems: list[str] = []
    failed = 0
    for table, column, key_sql in SEALED:
        after = 0
        while True:
            rows = list(
                await conn.execute_fetchall(
                    f"SELECT id, {key_sql}, {column} FROM {table}"
                    f" WHERE id > ? AND {column} IS NOT NULL ORDER BY id LIMIT ?",
                    (after, _BATCH),
                )
            )
            if not rows:
                break
            for pk, row_key, value in rows:
                try:
                    codec.open(table, column, str(row_key), value)
                except DecryptionFailed as exc:
                    failed += 1
                    if failed <= _SHOWN:
                        problems.append(
                            f"sealed value: {exc} (row id {pk}; restore it from a backup or "
                            "import its transcript again)"
                        )
            after = rows[-1][0]
    if failed > _SHOWN:
        problems.append(f"sealed value: {failed - _SHOWN} more do not authenticate")
    return problems
