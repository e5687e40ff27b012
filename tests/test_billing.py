"""What counts in token totals is what the importer says (``billed``, ``local_key``):
the store applies no format's rules of its own."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import orjson

from graph.importers.formats import format_named
from graph.store import NewConversation, NewMessage, NewSession, Store, TokenTotals
from tests.factories import database_before


def reply(key: str, model: str, *, billed: bool = True, local_key: bool = False) -> NewMessage:
    return NewMessage(
        key,
        "assistant",
        "2026-01-01T00:00:01.000Z",
        [(1, {"type": "assistant"})],
        model=model,
        usage=TokenTotals(10, 1),
        billed=billed,
        local_key=local_key,
    )


async def test_the_store_counts_what_the_importer_marks(store: Store) -> None:
    sessions = {
        "one": [
            reply("k:1", "<synthetic>"),  # billed as told: the store knows no model names
            reply("k:2", "unbilled", billed=False),
            reply("l:3", "model-a"),  # a copy of the other session's, as told
            reply("own", "model-a", local_key=True),
        ],
        "two": [reply("l:3", "model-a"), reply("own", "model-a", local_key=True)],
    }
    pks = {}
    async with store.write() as writer:
        for sid, messages in sessions.items():
            pks[sid] = pk = await writer.upsert_session(NewSession(sid))
            thread = await writer.upsert_conversation(pk, NewConversation())
            await writer.add_messages(pk, thread, messages)
    async with store.read() as reader:
        stats = await reader.stats()
        one, two = await reader.sessions_by_pk([pks["one"], pks["two"]])
    # Counted: k:1, one l:3, and both local "own" keys.
    assert stats.tokens.input == 40
    assert one is not None and two is not None
    assert one.input_tokens + two.input_tokens == 40
    assert orjson.loads(one.models) == ["<synthetic>", "model-a"]


def test_claude_code_marks_synthetic_messages_unbilled_and_line_keys_local() -> None:
    parser = format_named("claude-code").parser(
        "x.jsonl", previous_timestamp=None, fallback_timestamp="2026-01-01T00:00:00.000Z"
    )
    lines = [
        {
            "type": "assistant",
            "uuid": "a1",
            "requestId": "r1",
            "message": {"id": "m1", "role": "assistant", "model": "<synthetic>", "content": []},
        },
        {
            "type": "assistant",
            "uuid": "a2",
            "requestId": "r2",
            "message": {"id": "m2", "role": "assistant", "model": "claude-x", "content": []},
        },
        {"type": "user", "message": {"role": "user", "content": "no uuid"}},
    ]
    for n, record in enumerate(lines, 1):
        parser.feed(n, orjson.dumps(record) + b"\n")
    messages = parser.take().messages
    assert {k: (m.billed, m.local_key) for k, m in messages.items()} == {
        "m:m1:r1": (False, False),
        "m:m2:r2": (True, False),
        "l:3": (False, True),
    }


async def test_migration_marks_stored_messages_by_the_rules_the_store_had(tmp_path: Path) -> None:
    db = tmp_path / "x.db"
    await database_before(db, 12)
    rows = [
        ("m:1:r", "assistant", "claude-x"),
        ("m:2:r", "assistant", "<synthetic>"),
        ("l:3", "assistant", None),
        ("l:4", "user", None),
        ("u:5", "user", None),
    ]
    with sqlite3.connect(db) as conn:
        conn.execute("INSERT INTO meta VALUES ('search.index_version', '0')")
        s = conn.execute("INSERT INTO sessions (session_id) VALUES ('s') RETURNING id").fetchone()
        c = conn.execute(
            "INSERT INTO conversations (session_pk) VALUES (?) RETURNING id", s
        ).fetchone()
        conn.executemany(
            "INSERT INTO messages (session_pk, conversation_pk, seq, msg_key, role, model,"
            " timestamp, content) VALUES (?, ?, ?, ?, ?, ?, '2026-01-01T00:00:00.000Z', '[]')",
            [(s[0], c[0], n, *row) for n, row in enumerate(rows, 1)],
        )
    store = await Store.open(db)  # applies 0012
    await store.close()
    with sqlite3.connect(db) as conn:
        marked = conn.execute("SELECT msg_key, billed, local_key FROM messages").fetchall()
    assert sorted(marked) == [
        ("l:3", 1, 1),
        ("l:4", 0, 1),
        ("m:1:r", 1, 0),
        ("m:2:r", 0, 0),
        ("u:5", 0, 0),
    ]
