"""Session titles and summaries: precedence, and records that name their session by leafUuid."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from graph.crypto import MasterKey
from graph.importers.importer import import_paths
from graph.store import Store, load_migrations
from graph.store.backfills import fill_message_rows
from graph.store.keyring import KeyMaterial
from tests.test_import_support import query, records, write_lines

SHORT = "55604662-cf2a-4331-851a-ec234028f8ca"


async def texts(store: Store, session_id: str) -> tuple[str | None, str | None]:
    rows = await query(
        store, "SELECT title, summary FROM sessions WHERE session_id = ?", session_id
    )
    title, summary = rows[0]
    return title, summary


async def test_a_rename_beats_a_generated_title_which_beats_a_summary(
    store: Store, tmp_path: Path
) -> None:
    path = tmp_path / "s.jsonl"
    base = {"sessionId": "s"}
    write_lines(
        path,
        [
            {"type": "user", "uuid": "u1", "message": {"content": "hi"}, **base},
            {"type": "custom-title", "customTitle": "Mine", **base},
            {"type": "ai-title", "aiTitle": "Generated", **base},
            {"type": "summary", "summary": "What happened", "leafUuid": "u1"},
        ],
    )
    await import_paths(store, [path])
    assert await texts(store, "s") == ("Mine", "What happened")
    # Later runs keep the precedence: a generated title does not replace a rename...
    write_lines(path, [{"type": "ai-title", "aiTitle": "Newer", **base}], mode="a")
    await import_paths(store, [path])
    assert await texts(store, "s") == ("Mine", "What happened")
    # ...a newer rename does.
    write_lines(path, [{"type": "custom-title", "customTitle": "Renamed", **base}], mode="a")
    await import_paths(store, [path])
    assert await texts(store, "s") == ("Renamed", "What happened")
    events = await query(store, "SELECT type FROM events ORDER BY seq")
    assert events == [
        ("custom-title",),
        ("ai-title",),
        ("summary",),
        ("ai-title",),
        ("custom-title",),
    ]


async def test_a_summary_alone_titles_its_session(store: Store, tmp_path: Path) -> None:
    path = tmp_path / "s.jsonl"
    write_lines(
        path,
        [
            {"type": "user", "sessionId": "s", "uuid": "u1", "message": {"content": "hi"}},
            {"type": "summary", "summary": "First", "leafUuid": "u1"},
            {"type": "summary", "summary": "Second", "leafUuid": "u1"},
        ],
    )
    await import_paths(store, [path])
    assert await texts(store, "s") == ("Second", "Second")


@pytest.mark.parametrize("name", ["00000000-summary-only", "ffffffff-summary-only"])
async def test_a_summary_file_names_its_session_by_leaf_uuid(
    store: Store, samples_dir: Path, tmp_path: Path, name: str
) -> None:
    project = tmp_path / "projects" / "-home-marco-projects-spotter"
    project.mkdir(parents=True)
    shutil.copy(samples_dir / "short.jsonl", project / f"{SHORT}.jsonl")
    leaf = [r["uuid"] for r in records(samples_dir / "short.jsonl") if r["type"] == "assistant"][-1]
    # Read before the session's own file (its leaf is not stored yet), or after it (the
    # leaf is stored, but it is not the first row of its message).
    write_lines(
        project / f"{name}.jsonl",
        [
            {"type": "summary", "summary": "Hooks and local commands", "leafUuid": leaf},
            {"type": "summary", "summary": "Nobody's", "leafUuid": "not-a-known-uuid"},
        ],
    )
    await import_paths(store, [project])
    assert await texts(store, SHORT) == ("Hooks and local commands", "Hooks and local commands")
    # The record whose leaf is unknown stays with the session of its file.
    assert await texts(store, name) == ("Nobody's", "Nobody's")


async def test_a_leaf_uuid_already_stored_by_an_earlier_run(
    store: Store, samples_dir: Path, tmp_path: Path
) -> None:
    shutil.copy(samples_dir / "short.jsonl", tmp_path / f"{SHORT}.jsonl")
    await import_paths(store, [tmp_path / f"{SHORT}.jsonl"])
    first_user = next(
        r["uuid"] for r in records(samples_dir / "short.jsonl") if r["type"] == "user"
    )
    summary_file = tmp_path / "later.jsonl"
    write_lines(summary_file, [{"type": "summary", "summary": "Later", "leafUuid": first_user}])
    await import_paths(store, [summary_file])
    assert await texts(store, SHORT) == ("Later", "Later")


@pytest.mark.parametrize("sealed", [False, True], ids=["plain", "encrypted"])
async def test_a_leaf_that_is_a_later_row_of_a_message_stored_by_an_earlier_run(
    samples_dir: Path, tmp_path: Path, sealed: bool
) -> None:
    """Found through message_rows in both modes (sealed content can not be searched)."""
    key = KeyMaterial(key=MasterKey(bytes(range(32)))) if sealed else None
    store = await Store.open(tmp_path / "db.sqlite", key=key)
    try:
        shutil.copy(samples_dir / "short.jsonl", tmp_path / f"{SHORT}.jsonl")
        await import_paths(store, [tmp_path / f"{SHORT}.jsonl"])
        rows = records(samples_dir / "short.jsonl")
        ids = [r["message"]["id"] for r in rows if r["type"] == "assistant"]
        leaf = [r["uuid"] for r in rows if r["type"] == "assistant"][-1]
        assert ids.count(ids[-1]) > 1, "the leaf must be a later row of its message"
        summary = tmp_path / "later.jsonl"
        write_lines(summary, [{"type": "summary", "summary": "Later", "leafUuid": leaf}])
        await import_paths(store, [summary])
        titled = await query(store, "SELECT session_id FROM sessions WHERE title IS NOT NULL")
        assert titled == [(SHORT,)]
    finally:
        await store.close()


_MESSAGE_ROWS = "SELECT uuid, message_pk FROM message_rows ORDER BY uuid"


async def _back_before_migration_5(
    db: Path, samples_dir: Path, tmp_path: Path, key: KeyMaterial | None
) -> list[tuple[Any, ...]]:
    """Import a sample, keep its ``message_rows``, then undo migration 5 (and every later
    one, through their own down steps)."""
    shutil.copy(samples_dir / "short.jsonl", tmp_path / f"{SHORT}.jsonl")
    store = await Store.open(db, key=key)
    try:
        await import_paths(store, [tmp_path / f"{SHORT}.jsonl"])
        expected = await query(store, _MESSAGE_ROWS)
        later = [m for m in load_migrations() if m.version > 5]
        if later:
            await store.revert(len(later), backup=False)
    finally:
        await store.close()
    assert expected
    with sqlite3.connect(db) as conn:
        conn.execute("DROP TABLE message_rows")
        conn.execute("DELETE FROM schema_migrations WHERE version >= 5")
    return expected


@pytest.mark.parametrize("sealed", [False, True], ids=["plain", "encrypted"])
async def test_upgrading_fills_message_rows(
    samples_dir: Path, tmp_path: Path, sealed: bool
) -> None:
    """Plaintext content is read by the migration; sealed content by the store, with the
    key, on the next open, in batches that resume from a cursor."""
    key = KeyMaterial(key=MasterKey(bytes(range(32)))) if sealed else None
    db = tmp_path / "db.sqlite"
    expected = await _back_before_migration_5(db, samples_dir, tmp_path, key)
    store = await Store.open(db, key=key, backup=False)
    try:
        assert await query(store, _MESSAGE_ROWS) == expected
        assert not await query(store, "SELECT 1 FROM meta WHERE key = 'message_rows.after'")
        if not sealed:
            return
        async with store.write() as writer:
            await writer.connection.execute("DELETE FROM message_rows")
            await writer.connection.execute(
                "INSERT INTO meta (key, value) VALUES ('message_rows.after', '0')"
            )
        batches = 0
        while True:
            async with store.write() as writer:
                if await fill_message_rows(writer.connection, store.codec, batch=2) is None:
                    break
            batches += 1
        assert batches > 1
        assert await query(store, _MESSAGE_ROWS) == expected
    finally:
        await store.close()
