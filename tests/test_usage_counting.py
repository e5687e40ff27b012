"""Counting right: each API message once across the database, its last row's usage, per model."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from graph.importers.importer import import_paths
from graph.store import NewConversation, NewMessage, NewSession, Store, TokenTotals
from tests.conftest import GraphQL
from tests.factories import database_before, migrations_before
from tests.usage_data import (
    assistant,
    billed_messages,
    first_row_output,
    replay,
    user,
    write,
)

PARENT, CHILD = "11111111-0000-4000-8000-000000000001", "22222222-0000-4000-8000-000000000002"

TOTALS = """{
  stats { tokenUsage { input output cacheRead cacheCreation cacheCreation1h total } }
  usage(groupBy: [SESSION], first: 500) {
    totals { messageCount tokenUsage { input output cacheRead cacheCreation total } }
    nodes { sessionId messageCount tokenUsage { total } }
  }
  sessions(first: 500) { nodes { sessionId tokenUsage { total } } }
}"""


def _sample_files(samples_dir: Path) -> list[Path]:
    # Main threads first, then subagents: the order the importer reads them in.
    return sorted(samples_dir.rglob("*.jsonl"), key=lambda p: ("subagents" in p.parts, str(p)))


async def test_sample_totals_equal_an_independent_count(
    store: Store, gql: GraphQL, samples_dir: Path
) -> None:
    await import_paths(store, [samples_dir], worker=False)
    billed = billed_messages(_sample_files(samples_dir))
    data = await gql(TOTALS)
    stats = data["stats"]["tokenUsage"]
    assert stats == {
        "input": sum(b.input for b in billed.values()),
        "output": sum(b.output for b in billed.values()),
        "cacheRead": sum(b.cache_read for b in billed.values()),
        "cacheCreation": sum(b.cache_write for b in billed.values()),
        "cacheCreation1h": sum(b.cache_write_1h for b in billed.values()),
        "total": sum(b.total for b in billed.values()),
    }
    usage = data["usage"]
    assert usage["totals"]["messageCount"] == len(billed)
    assert usage["totals"]["tokenUsage"]["total"] == stats["total"]
    assert sum(n["tokenUsage"]["total"] for n in usage["nodes"]) == stats["total"]
    assert sum(n["tokenUsage"]["total"] for n in data["sessions"]["nodes"]) == stats["total"]
    per_session: dict[str, int] = {}
    for b in billed.values():
        per_session[b.session] = per_session.get(b.session, 0) + b.total
    assert {n["sessionId"]: n["tokenUsage"]["total"] for n in usage["nodes"]} == per_session


async def test_the_last_row_of_a_message_gives_its_usage(
    store: Store, gql: GraphQL, samples_dir: Path
) -> None:
    # Claude Code repeats a provisional usage on every row of a message: only the last
    # row's output_tokens is final. The samples have messages where the two differ.
    files = _sample_files(samples_dir)
    await import_paths(store, [samples_dir], worker=False)
    data = await gql("{ stats { tokenUsage { output } } }")
    last = sum(b.output for b in billed_messages(files).values())
    assert first_row_output(files) < last
    assert data["stats"]["tokenUsage"]["output"] == last


def _resumed(root: Path) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    parent = [
        user(PARENT, "u1", "2026-03-01T10:00:00.000Z"),
        assistant(PARENT, "a1", "msg_1", "2026-03-01T10:00:05.000Z", input=100, output=10),
        user(PARENT, "u2", "2026-03-01T10:01:00.000Z"),
        assistant(
            PARENT,
            "a2",
            "msg_2",
            "2026-03-01T10:01:05.000Z",
            input=100,
            output=20,
            model="claude-haiku-4-5-20251001",
        ),
    ]
    child = [
        *replay(parent, CHILD),
        user(CHILD, "u3", "2026-03-02T09:00:00.000Z"),
        assistant(CHILD, "a3", "msg_3", "2026-03-02T09:00:05.000Z", input=100, output=30),
    ]
    return parent, child


@pytest.mark.parametrize("child_first", [False, True])
async def test_a_resumed_session_counts_replayed_messages_once_in_its_parent(
    store: Store, gql: GraphQL, tmp_path: Path, child_first: bool
) -> None:
    parent, child = _resumed(tmp_path)
    parent_file = write(tmp_path / "a", PARENT, parent)
    child_file = write(tmp_path / "b", CHILD, child)
    for path in [child_file, parent_file] if child_first else [parent_file, child_file]:
        await import_paths(store, [path], worker=False)
    data = await gql(TOTALS)
    assert data["stats"]["tokenUsage"]["input"] == 300  # not 500
    assert data["usage"]["totals"]["messageCount"] == 3
    by_session = {n["sessionId"]: n for n in data["usage"]["nodes"]}
    assert by_session[PARENT]["tokenUsage"]["total"] == 230
    assert by_session[CHILD]["tokenUsage"]["total"] == 130
    assert {n["sessionId"]: n["tokenUsage"]["total"] for n in data["sessions"]["nodes"]} == {
        PARENT: 230,
        CHILD: 130,
    }
    # The child's transcript stays whole: what the user saw.
    child_view = await gql(
        'query($id: ID!) { session(id: $id) { messageCount messages(role: "assistant") {'
        " nodes { counted costUsd } } } }",
        id=CHILD,
    )
    nodes = child_view["session"]["messages"]["nodes"]
    assert child_view["session"]["messageCount"] == 6
    assert [n["counted"] for n in nodes] == [False, False, True]
    assert all(n["costUsd"] > 0 for n in nodes)  # what each API call cost, wherever it counts


async def test_a_fork_counts_its_shared_history_once(
    store: Store, gql: GraphQL, tmp_path: Path
) -> None:
    # A fork replays the parent's history up to the fork point (here its first answer,
    # not its second), then goes its own way.
    parent, _ = _resumed(tmp_path)
    fork = [
        *replay(parent[:2], CHILD),
        assistant(CHILD, "f1", "msg_f1", "2026-03-01T11:30:00.000Z", input=7, output=1),
    ]
    write(tmp_path, PARENT, parent)
    write(tmp_path, CHILD, fork)
    await import_paths(store, [tmp_path], worker=False)
    data = await gql(TOTALS)
    billed = billed_messages(
        [
            tmp_path / "-home-dev-app" / f"{PARENT}.jsonl",
            tmp_path / "-home-dev-app" / f"{CHILD}.jsonl",
        ]
    )
    assert data["stats"]["tokenUsage"]["total"] == sum(b.total for b in billed.values()) == 238
    assert {n["sessionId"]: n["tokenUsage"]["total"] for n in data["usage"]["nodes"]} == {
        PARENT: 230,
        CHILD: 8,
    }


async def test_deleting_the_parent_moves_the_count_to_the_copy_left(
    store: Store, gql: GraphQL, tmp_path: Path
) -> None:
    parent, child = _resumed(tmp_path)
    write(tmp_path, PARENT, parent)
    write(tmp_path, CHILD, child)
    await import_paths(store, [tmp_path], worker=False)
    session = await gql("query($id: ID!) { session(id: $id) { id } }", id=PARENT)
    from graph.schema.ids import decode_id

    async with store.write() as writer:
        await writer.delete_session(decode_id(session["session"]["id"])[1])
    data = await gql(TOTALS)
    assert data["stats"]["tokenUsage"]["total"] == 360
    assert data["sessions"]["nodes"] == [{"sessionId": CHILD, "tokenUsage": {"total": 360}}]


async def test_usage_goes_to_each_message_s_model(
    store: Store, gql: GraphQL, tmp_path: Path
) -> None:
    parent, _ = _resumed(tmp_path)
    write(tmp_path, PARENT, parent)
    await import_paths(store, [tmp_path], worker=False)
    data = await gql(
        "{ usage(groupBy: [SESSION, MODEL]) { nodes { model messageCount tokenUsage { total } } } }"
    )
    assert data["usage"]["nodes"] == [
        {"model": "claude-haiku-4-5-20251001", "messageCount": 1, "tokenUsage": {"total": 120}},
        {"model": "claude-sonnet-4-5-20250929", "messageCount": 1, "tokenUsage": {"total": 110}},
    ]


async def test_one_hour_cache_writes_are_read_from_the_record(
    store: Store, gql: GraphQL, tmp_path: Path
) -> None:
    write(
        tmp_path,
        PARENT,
        [
            assistant(
                PARENT,
                "a1",
                "msg_1",
                "2026-03-01T10:00:00.000Z",
                cache_write=1000,
                cache_write_1h=600,
            ),
            assistant(PARENT, "a2", "msg_2", "2026-03-01T10:01:00.000Z", cache_write=50),
        ],
    )
    await import_paths(store, [tmp_path], worker=False)
    data = await gql("{ stats { tokenUsage { cacheCreation cacheCreation1h } } }")
    assert data["stats"]["tokenUsage"] == {"cacheCreation": 1050, "cacheCreation1h": 600}


# Random corpora: sessions replaying each other's messages, written in random batches.

_MODELS = ["claude-sonnet-4-5-20250929", "claude-haiku-4-5-20251001", "mystery-model"]


@st.composite
def _corpora(draw: st.DrawFn) -> list[list[tuple[str, str, int, int]]]:
    """Sessions as lists of (msg_id, model, tokens, minute); later sessions may replay
    a prefix of an earlier one (a resume or a fork)."""
    sessions: list[list[tuple[str, str, int, int]]] = []
    for n in range(draw(st.integers(1, 5))):
        own = [
            (
                f"s{n}m{i}",
                draw(st.sampled_from(_MODELS)),
                draw(st.integers(0, 500)),
                draw(st.integers(0, 3000)),
            )
            for i in range(draw(st.integers(0, 4)))
        ]
        if len(sessions) > 0 and draw(st.booleans()):
            source = sessions[draw(st.integers(0, len(sessions) - 1))]
            own = source[: draw(st.integers(0, len(source)))] + own
        sessions.append(own)
    return sessions


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(corpus=_corpora(), order=st.randoms(use_true_random=False))
async def test_per_session_sums_equal_the_global_total(
    tmp_path_factory: pytest.TempPathFactory,
    corpus: list[list[tuple[str, str, int, int]]],
    order: Any,
) -> None:
    db = tmp_path_factory.mktemp("prop") / "x.db"
    store = await Store.open(db)
    try:
        writes = [(n, m) for n, messages in enumerate(corpus) for m in range(len(messages))]
        order.shuffle(writes)
        async with store.write() as writer:
            pks = [await writer.upsert_session(NewSession(f"sess-{n}")) for n in range(len(corpus))]
            threads = [await writer.upsert_conversation(pk, NewConversation()) for pk in pks]
        for n, m in writes:  # one transaction per message, in random order
            msg_id, model, tokens, minute = corpus[n][m]
            message = NewMessage(
                f"m:{msg_id}:req",
                "assistant",
                f"2026-03-01T{minute // 60:02d}:{minute % 60:02d}:00.000Z",
                [(m + 1, {"type": "assistant"})],
                uuid=f"{msg_id}-uuid",
                model=model,
                usage=TokenTotals(tokens, 1, 0, 0),
            )
            async with store.write() as writer:
                await writer.add_messages(pks[n], threads[n], [message])
        expected = {msg_id: tokens + 1 for s in corpus for msg_id, _, tokens, _ in s}
        async with store.read() as reader:
            stats = await reader.stats()
            sessions = await reader.sessions_by_pk(pks)
        assert stats.tokens.input + stats.tokens.output == sum(expected.values())
        assert sum(s.input_tokens + s.output_tokens for s in sessions if s) == sum(
            expected.values()
        )
        with sqlite3.connect(db) as conn:
            counted = dict(
                conn.execute(
                    "SELECT msg_key, sum(counted) FROM messages GROUP BY msg_key"
                ).fetchall()
            )
        assert counted == {f"m:{k}:req": 1 for k in expected}
    finally:
        await store.close()


async def test_migration_counts_existing_copies_once(tmp_path: Path) -> None:
    # A database written before migration 0008: the child's replayed messages were summed
    # into its session's totals too.
    db = tmp_path / "x.db"
    await database_before(db, 6)
    with sqlite3.connect(db) as conn:
        conn.execute("INSERT INTO meta VALUES ('search.index_version', '0')")
    root = tmp_path / "t"
    parent, child = _resumed(root)
    parent[1]["message"]["usage"]["cache_creation_input_tokens"] = 40
    parent[1]["message"]["usage"]["cache_creation"] = {"ephemeral_1h_input_tokens": 30}
    child = [*replay(parent, CHILD), *child[len(parent) :]]
    write(root, PARENT, parent)
    write(root, CHILD, child)
    with sqlite3.connect(db) as conn:
        conn.execute("PRAGMA foreign_keys = ON")
        for sid, records in ((PARENT, parent), (CHILD, child)):
            s = conn.execute(
                "INSERT INTO sessions (session_id) VALUES (?) RETURNING id", (sid,)
            ).fetchone()[0]
            c = conn.execute(
                "INSERT INTO conversations (session_pk) VALUES (?) RETURNING id", (s,)
            ).fetchone()[0]
            for line, r in enumerate(records, 1):
                if r["type"] != "assistant":
                    continue
                u = r["message"]["usage"]
                conn.execute(
                    "INSERT INTO messages (session_pk, conversation_pk, seq, msg_key, uuid, role,"
                    " model, timestamp, input_tokens, output_tokens, cache_creation_tokens,"
                    " content) VALUES (?, ?, ?, ?, ?, 'assistant', ?, ?, ?, ?, ?, ?)",
                    (
                        s,
                        c,
                        line,
                        f"m:{r['message']['id']}:{r['requestId']}",
                        r["uuid"],
                        r["message"]["model"],
                        r["timestamp"],
                        u["input_tokens"],
                        u["output_tokens"],
                        u.get("cache_creation_input_tokens", 0),
                        __import__("orjson").dumps([[line, r]]),
                    ),
                )
            conn.execute(
                "UPDATE sessions SET input_tokens = (SELECT sum(input_tokens) FROM messages"
                " WHERE session_pk = ?) WHERE id = ?",
                (s, s),
            )
        assert conn.execute("SELECT sum(input_tokens) FROM sessions").fetchone() == (500,)
    store = await Store.open(db)  # applies 0008
    try:
        async with store.read() as reader:
            stats = await reader.stats()
        assert stats.tokens.input == 300
        assert stats.tokens.cache_creation_1h == 30
    finally:
        await store.close()
    with sqlite3.connect(db) as conn:
        assert dict(
            conn.execute("SELECT s.session_id, s.input_tokens FROM sessions AS s").fetchall()
        ) == {PARENT: 200, CHILD: 100}


async def test_migration_reads_one_hour_cache_writes_of_sealed_messages(tmp_path: Path) -> None:
    # SQL cannot see into sealed content: the store reads it with the key on open.
    from graph.crypto import MasterKey
    from graph.store.keyring import KeyMaterial
    from graph.store.rows import message_row_key

    old = migrations_before(6)
    key = KeyMaterial(key=MasterKey(bytes(range(32))))
    db = tmp_path / "sealed.db"
    store = Store(db, migrations=old, key=key)
    await store.connect()
    await store.migrate()
    await store.unlock(initialize=True)
    record = assistant(
        PARENT, "a1", "msg_1", "2026-03-01T10:00:05.000Z", cache_write=900, cache_write_1h=700
    )
    conn = store.writer_connection
    await conn.execute("INSERT INTO sessions (id, session_id) VALUES (1, ?)", (PARENT,))
    await conn.execute("INSERT INTO conversations (id, session_pk) VALUES (1, 1)")
    sealed = store.codec.seal(
        "messages",
        "content",
        message_row_key(1, "m:msg_1:req_msg_1"),
        __import__("orjson").dumps([[1, record]]),
    )
    await conn.execute(
        "INSERT INTO messages (session_pk, conversation_pk, seq, msg_key, role, model,"
        " timestamp, cache_creation_tokens, content) VALUES (1, 1, 1, 'm:msg_1:req_msg_1',"
        " 'assistant', 'claude-opus-4-6', ?, 900, ?)",
        (record["timestamp"], sealed),
    )
    await conn.commit()
    await store.close()
    store = await Store.open(db, key=key)
    try:
        async with store.read() as reader:
            stats = await reader.stats()
            [session] = await reader.sessions_by_pk([1])
        assert stats.tokens.cache_creation_1h == 700
        assert session is not None and session.cache_creation_1h_tokens == 700
    finally:
        await store.close()
    with sqlite3.connect(db) as raw:
        assert raw.execute("SELECT count(*) FROM meta WHERE key = 'usage_1h.after'").fetchone() == (
            0,
        )


async def test_doctor_finds_and_repairs_a_miscount(store: Store, tmp_path: Path) -> None:
    parent, child = _resumed(tmp_path)
    write(tmp_path, PARENT, parent)
    write(tmp_path, CHILD, child)
    await import_paths(store, [tmp_path], worker=False)
    assert await store.check() == []
    async with store.write() as writer:  # as a bug or a hand edit could leave it
        await writer.connection.execute("UPDATE messages SET counted = 1")
    assert any("not counted exactly once" in p for p in await store.check())
    await store.repair()
    assert await store.check() == []
    async with store.read() as reader:
        assert (await reader.stats()).tokens.input == 300
