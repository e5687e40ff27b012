"""Builds synthetic sessions through the store's write API, for tests that need volume."""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from graph.store import (
    Migration,
    NewConversation,
    NewEvent,
    NewMessage,
    NewSession,
    Store,
    TokenTotals,
    load_migrations,
)
from graph.times import format_timestamp

if TYPE_CHECKING:
    import aiosqlite

BASE = datetime(2026, 1, 1, tzinfo=UTC)


def foreign_db(path: Path) -> Path:
    """Another program's SQLite file: a table of its own, no sessiongraph in it."""
    conn = sqlite3.connect(path)
    with conn:
        conn.execute("CREATE TABLE notes (body)")
        conn.execute("INSERT INTO notes VALUES ('my own words')")
    conn.close()
    return path


def migrations_before(version: int) -> list[Migration]:
    """The migrations a database written before migration ``version`` had."""
    return [migration for migration in load_migrations() if migration.version < version]


async def database_before(path: Path, version: int) -> None:
    """A database at ``path`` as written before migration ``version`` (closed)."""
    store = Store(path, migrations=migrations_before(version))
    await store.connect()
    await store.migrate()
    await store.close()


def ts(seconds: float) -> str:
    value = BASE + timedelta(seconds=seconds)
    return format_timestamp(value)


def user_record(line: int, text: str) -> dict[str, object]:
    return {"type": "user", "uuid": f"u-{line}", "message": {"role": "user", "content": text}}


def assistant_record(line: int, msg_id: str, block: Mapping[str, object]) -> dict[str, object]:
    return {
        "type": "assistant",
        "uuid": f"a-{line}",
        "requestId": f"req-{msg_id}",
        "message": {
            "id": msg_id,
            "role": "assistant",
            "model": "claude-opus-4-6",
            "content": [block],
            "usage": {"input_tokens": 3, "output_tokens": 10},
        },
    }


async def make_sessions(
    store: Store,
    count: int,
    *,
    messages: int = 6,
    events: int = 3,
    sidechain_every: int = 3,
    project: str = "-home-dev-app",
    start: float = 0.0,
    source: str = "claude-code",
    first: int = 0,
) -> list[str]:
    """``count`` sessions, each with ``messages`` messages and ``events`` events on its
    main thread, and a subagent thread on every ``sidechain_every``-th session.

    Returns:
        The sessionIds, in creation (and start-time) order.
    """
    ids = []
    async with store.write() as writer:
        for n in range(first, first + count):
            session_id = f"00000000-0000-4000-8000-{n:012d}"
            ids.append(session_id)
            t0 = start + n * 3600
            pk = await writer.upsert_session(
                NewSession(
                    session_id,
                    source=source,
                    project=project,
                    cwd=f"/home/dev/app{n % 2}",
                    git_branch="main" if n % 2 else "dev",
                )
            )
            threads = [NewConversation()]
            if sidechain_every and n % sidechain_every == 0:
                threads.append(NewConversation(agent_id=f"agent{n}", is_sidechain=True))
            for thread in threads:
                conv = await writer.upsert_conversation(pk, thread)
                batch = []
                for m in range(messages):
                    line = m + 1
                    if m % 2 == 0:
                        batch.append(
                            NewMessage(
                                f"u:{line}",
                                "user",
                                ts(t0 + m),
                                [(line, user_record(line, f"prompt {n}.{m}"))],
                                uuid=f"u-{line}",
                            )
                        )
                    else:
                        msg_id = f"msg-{n}-{thread.agent_id}-{m}"
                        text_block = {"type": "text", "text": f"answer {n}.{m}"}
                        batch.append(
                            NewMessage(
                                f"m:{msg_id}",
                                "assistant",
                                ts(t0 + m),
                                [(line, assistant_record(line, msg_id, text_block))],
                                uuid=f"a-{line}",
                                model="claude-opus-4-6",
                                usage=TokenTotals(3, 10, 0, 0),
                            )
                        )
                await writer.add_messages(pk, conv, batch)
                await writer.add_events(
                    pk,
                    conv,
                    [
                        NewEvent(
                            messages + e + 1,
                            "progress",
                            ts(t0 + messages + e),
                            {"type": "progress", "data": {"type": "hook_progress"}},
                            subtype="hook_progress",
                        )
                        for e in range(events)
                    ],
                )
    return ids


async def move_sealed(conn: aiosqlite.Connection, table: str, columns: str) -> tuple[Any, ...]:
    """Row 1's sealed ``columns`` of ``table`` copied onto row 2, where they no longer
    authenticate (their AAD binds them to row 1): a value tampered with, or moved. Row 1's
    values."""
    [values] = await conn.execute_fetchall(f"SELECT {columns} FROM {table} WHERE id = 1")
    assignments = ", ".join(f"{column.strip()} = ?" for column in columns.split(","))
    await conn.execute(f"UPDATE {table} SET {assignments} WHERE id = 2", tuple(values))
    return tuple(values)
