"""The raw ``sqlite3`` equivalents of the benchmarked GraphQL requests.

Each is what a hand-written endpoint would minimally do on the same file: the fewest
statements that fetch the same rows (keys batched with ``IN``, per-parent pages with a
correlated ``LIMIT``), content decoded with orjson where the API decodes it too. They
return what the checks compare against the API's answers.
"""

from __future__ import annotations

import sqlite3
from typing import TYPE_CHECKING, Any

import orjson

if TYPE_CHECKING:
    from pathlib import Path

__all__ = ["RawDb"]


def _marks(n: int) -> str:
    return ", ".join("?" * n)


class RawDb:
    """A read-only plain ``sqlite3`` connection on the benchmark database."""

    def __init__(self, path: Path) -> None:
        self.conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        self.statements = 0

    def close(self) -> None:
        self.conn.close()

    def counting(self, on: bool) -> None:
        """Count statements (off while timing: the trace callback has a cost of its own)."""
        self.statements = 0
        self.conn.set_trace_callback(self._count if on else None)

    def _count(self, _: str) -> None:
        self.statements += 1

    def session_page(self) -> list[tuple[Any, ...]]:
        """(a) The first 50 sessions, newest first, with their counts and token totals."""
        return self.conn.execute(
            "SELECT session_id, title, started_at, message_count, event_count, input_tokens,"
            " output_tokens, cache_read_tokens, cache_creation_tokens FROM sessions"
            " ORDER BY started_at DESC, id DESC LIMIT 50"
        ).fetchall()

    def session_messages(self, session_id: str, first: int) -> list[tuple[Any, ...]]:
        """(b) One session's first messages in time order, content decoded."""
        rows = self.conn.execute(
            "SELECT id, uuid, role, model, timestamp, content FROM messages"
            " WHERE session_pk = (SELECT id FROM sessions WHERE session_id = ?)"
            " ORDER BY timestamp, id LIMIT ?",
            (session_id, first),
        ).fetchall()
        return [(*row[:5], orjson.loads(row[5])) for row in rows]

    def nested(self) -> dict[str, Any]:
        """(c) 50 sessions, their threads, 5 messages per thread, events per session."""
        sessions = self.conn.execute(
            "SELECT id, session_id FROM sessions ORDER BY started_at DESC, id DESC LIMIT 50"
        ).fetchall()
        pks = [row[0] for row in sessions]
        conversations = self.conn.execute(
            f"SELECT id, session_pk FROM conversations WHERE session_pk IN ({_marks(len(pks))})"
            " ORDER BY session_pk, is_sidechain, started_at, id",
            pks,
        ).fetchall()
        cpks = [row[0] for row in conversations]
        messages = self.conn.execute(
            "SELECT c.value, m.content FROM json_each(?) AS c JOIN messages AS m ON m.id IN ("
            " SELECT x.id FROM messages AS x WHERE x.conversation_pk = c.value"
            " ORDER BY x.seq, x.id LIMIT 5) ORDER BY c.key, m.seq, m.id",
            (orjson.dumps(cpks).decode(),),
        ).fetchall()
        events = self.conn.execute(
            f"SELECT session_pk, count(*) FROM events WHERE session_pk IN ({_marks(len(pks))})"
            " GROUP BY session_pk",
            pks,
        ).fetchall()
        return {
            "sessions": [row[1] for row in sessions],
            "conversations": len(conversations),
            "messages": [(row[0], orjson.loads(row[1])) for row in messages],
            "events": dict(events),
        }

    def usage_day_model(self) -> list[tuple[Any, ...]]:
        """(d) The bare aggregate: tokens of counted messages per UTC day and model (no
        prices, no local days: what the API's figure is compared with)."""
        return self.conn.execute(
            "SELECT substr(timestamp, 1, 10), model, count(*), sum(input_tokens),"
            " sum(output_tokens), sum(cache_read_tokens), sum(cache_creation_tokens)"
            " FROM messages WHERE counted = 1 GROUP BY 1, 2 ORDER BY 1, 2"
        ).fetchall()

    def pick_session(self, wanted: int) -> tuple[str, int]:
        """A session with at least ``wanted`` messages (else the largest); (id, count)."""
        row = (
            self.conn.execute(
                "SELECT session_id, message_count FROM sessions WHERE message_count >= ?"
                " ORDER BY message_count, id LIMIT 1",
                (wanted,),
            ).fetchone()
            or self.conn.execute(
                "SELECT session_id, message_count FROM sessions ORDER BY message_count DESC LIMIT 1"
            ).fetchone()
        )
        if row is None:
            raise ValueError("the database has no sessions")
        return str(row[0]), int(row[1])

    def sizes(self) -> tuple[int, int, int, int]:
        """(sessions, conversations, messages, events) in the database."""
        row = self.conn.execute(
            "SELECT (SELECT count(*) FROM sessions), (SELECT count(*) FROM conversations),"
            " (SELECT count(*) FROM messages), (SELECT count(*) FROM events)"
        ).fetchone()
        return int(row[0]), int(row[1]), int(row[2]), int(row[3])
