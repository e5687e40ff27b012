"""Sessions carry the agent that wrote them: stored, filtered, searched, migrated."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from typer.testing import CliRunner

from graph.cli import app
from graph.errors import StoreError
from graph.store import NewSession, Store
from tests.conftest import GraphQL
from tests.factories import make_sessions

runner = CliRunner()


async def _mixed(store: Store) -> tuple[list[str], list[str]]:
    """Three Claude Code sessions and two Codex ones (distinct ids)."""
    claude = await make_sessions(store, 3)
    codex = await make_sessions(store, 2, source="codex", first=3, start=3 * 3600)
    return claude, codex


async def test_existing_sessions_become_claude_code_and_the_pair_is_unique(
    store: Store, db_path: Path
) -> None:
    ids = await make_sessions(store, 2)
    # Back to before the migration (the column goes), then up again: rows that were
    # there before it are Claude Code's.
    from graph.store import load_migrations

    later = sum(m.version >= 10 for m in load_migrations())  # 0010 and any after it
    reverted = await store.revert(later)
    assert reverted[-1].name.endswith("session_source")
    with sqlite3.connect(db_path) as conn:
        columns = {row[1] for row in conn.execute("PRAGMA table_info(sessions)")}
    assert "source" not in columns
    await store.migrate()
    with sqlite3.connect(db_path) as conn:
        rows = conn.execute("SELECT session_id, source FROM sessions ORDER BY id").fetchall()
        assert rows == [(ids[0], "claude-code"), (ids[1], "claude-code")]
        with pytest.raises(sqlite3.IntegrityError):
            conn.execute(
                "INSERT INTO sessions (session_id, source) VALUES (?, 'claude-code')", (ids[0],)
            )


async def test_an_id_stored_from_another_source_is_refused_not_merged(
    store: Store, db_path: Path
) -> None:
    [sid] = await make_sessions(store, 1)
    with pytest.raises(StoreError, match="another source"):
        async with store.write() as writer:
            await writer.upsert_session(NewSession(sid, source="codex", cwd="/elsewhere"))
    with sqlite3.connect(db_path) as conn:
        rows = conn.execute("SELECT session_id, source, cwd FROM sessions").fetchall()
    assert rows == [(sid, "claude-code", "/home/dev/app0")]


async def test_source_is_served_and_filters_sessions_and_search(store: Store, gql: GraphQL) -> None:
    claude, codex = await _mixed(store)
    data = await gql(
        "query($f: SessionFilter) { sessions(filter: $f, orderBy: {field: STARTED_AT,"
        " direction: ASC}) { totalCount edges { node { sessionId source } } } }",
        f={"source": "CODEX"},
    )
    assert data["sessions"]["totalCount"] == 2
    assert [e["node"] for e in data["sessions"]["edges"]] == [
        {"sessionId": sid, "source": "CODEX"} for sid in codex
    ]
    data = await gql("{ sessions(first: 10) { edges { node { sessionId source } } } }")
    sources = {e["node"]["sessionId"]: e["node"]["source"] for e in data["sessions"]["edges"]}
    assert sources == {**dict.fromkeys(claude, "CLAUDE_CODE"), **dict.fromkeys(codex, "CODEX")}
    data = await gql(
        'query($f: SearchFilter) { search(query: "answer", filter: $f, first: 50) {'
        " totalCount edges { node { session { sessionId source } } } } }",
        f={"source": "CLAUDE_CODE"},
    )
    found = {e["node"]["session"]["sessionId"] for e in data["search"]["edges"]}
    assert found == set(claude)
    data = await gql(
        "query($f: SessionFilter) { sessions(filter: $f) { totalCount } }",
        f={"source": "GEMINI_CLI"},
    )
    assert data["sessions"]["totalCount"] == 0


@pytest.fixture
async def mixed_db(db_path: Path) -> tuple[Path, list[str]]:
    store = await Store.open(db_path)
    try:
        _, codex = await _mixed(store)
    finally:
        await store.close()
    return db_path, codex


def test_cli_search_takes_a_source(mixed_db: tuple[Path, list[str]]) -> None:
    db_path, codex = mixed_db
    result = runner.invoke(
        app, ["search", "answer", "--db", str(db_path), "--json", "--source", "codex"]
    )
    assert result.exit_code == 0, result.stderr
    found = {e["node"]["session"]["sessionId"] for e in json.loads(result.stdout)["edges"]}
    assert found == set(codex)
    bad = runner.invoke(app, ["search", "answer", "--db", str(db_path), "--source", "cursor"])
    assert bad.exit_code != 0


async def test_stats_count_sessions_and_messages_per_source(store: Store, gql: GraphQL) -> None:
    await _mixed(store)
    data = await gql("{ stats { sessions sources { source sessions messages } } }")
    sources = data["stats"]["sources"]
    assert [s["source"] for s in sources] == ["CLAUDE_CODE", "CODEX"]
    assert [s["sessions"] for s in sources] == [3, 2]
    async with store.read() as reader:
        rows = {c.source: c.messages for c in await reader.sessions_by_source()}
    assert [s["messages"] for s in sources] == [rows["claude-code"], rows["codex"]]
    assert sum(s["sessions"] for s in sources) == data["stats"]["sessions"]


def test_stats_json_has_the_sources(db_path: Path) -> None:
    import json

    from graph.cli import app

    assert runner.invoke(app, ["demo", "--db", str(db_path)]).exit_code == 0
    result = runner.invoke(app, ["stats", "--db", str(db_path), "--json"])
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["sources"] == {"claude-code": {"sessions": 4, "messages": 538}}
