"""Gemini CLI's older chat documents (``chats/session-*.json``, rewritten whole on every
change): the traps of reading them again (the shared promises are in test_agents.py)."""

from __future__ import annotations

import io
import json
import os
from pathlib import Path
from typing import Any

from graph.crypto import MasterKey
from graph.export import ExportFormat, export_session
from graph.importers.importer import import_paths
from graph.inputs import TokenTotals
from graph.store import Store
from graph.store.keyring import KeyMaterial
from tests.conftest import GraphQL
from tests.test_import_gemini import msg

SID = "3b1d2c00-0000-4000-8000-00000000d0c5"
HEADER = {
    "sessionId": SID,
    "projectHash": "h1",
    "startTime": "2026-01-01T10:00:00.000Z",
    "lastUpdated": "2026-01-01T10:00:00.000Z",
}
_TEXTS = """{ sessions(first: 5) { nodes { sessionId messageCount
  messages(first: 10) { nodes { role text } } } } }"""
_SEARCH = "query($q: String!) { search(query: $q, scopes: [MESSAGES, EVENTS]) { totalCount } }"


def save(
    root: Path, messages: list[dict[str, Any]], *, updated: str = "10:00:00", under: str = ""
) -> Path:
    """Write the chat document as gemini-cli does: indented JSON, the whole file."""
    folder = root / "tmp" / "h1" / "chats" / under
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"session-2026-01-01T10-00-{SID[:8]}.json"
    header = {**HEADER, "lastUpdated": f"2026-01-01T{updated}.000Z"}
    path.write_text(json.dumps({**header, "messages": messages}, indent=2))
    return path


async def exported(store: Store, fmt: ExportFormat = ExportFormat.JSONL) -> Any:
    out = io.BytesIO()
    await export_session(store, SID, out, fmt)
    if fmt is ExportFormat.JSONL:
        return [json.loads(line) for line in out.getvalue().splitlines()]
    return json.loads(out.getvalue())


async def session(store: Store) -> Any:
    async with store.read() as reader:
        (row,) = await reader.sessions_by_session_id([SID])
    assert row is not None
    return row


async def test_a_message_updated_in_place_is_read_as_its_newest_version(
    store: Store, gql: GraphQL, tmp_path: Path
) -> None:
    asked = msg("u1", "user", "list the files")
    draft = msg("g1", "gemini", "")  # gemini-cli adds tool calls and tokens to it later
    await import_paths(store, [save(tmp_path, [asked, draft])])
    call = {"id": "c1", "name": "ls", "args": {"path": "."}, "status": "success"}
    done = {**draft, "toolCalls": [call], "tokens": {"input": 30, "output": 5, "cached": 20}}
    path = save(tmp_path, [asked, done, msg("u2", "user", "thanks")], updated="10:00:09")
    second = await import_paths(store, [path])
    assert second.files_reset == 0 and second.messages_added == 1  # u2; g1 is not doubled
    (node,) = (await gql(_TEXTS))["sessions"]["nodes"]
    assert node["messageCount"] == 3
    assert (await session(store)).tokens == TokenTotals(input=10, output=5, cache_read=20)
    assert await exported(store) == [json.loads(path.read_bytes())]
    # Both versions of g1, and of the document's own fields, stay in the record store.
    (thread,) = (await exported(store, ExportFormat.JSON))["conversations"]
    records = [item["record"] for item in thread["records"]]
    assert [r.get("id") for r in records].count("g1") == 2
    assert sum("lastUpdated" in r for r in records) == 2
    again = await import_paths(store, [path])
    assert again.files_unchanged == 1


async def test_messages_left_out_of_a_rewrite_are_kept_but_not_current(
    store: Store, gql: GraphQL, tmp_path: Path
) -> None:
    first = [msg("u1", "user", "first try"), msg("u2", "user", "wombat detour")]
    info = msg("i1", "info", "platypus notice")
    await import_paths(store, [save(tmp_path, [*first, info])])
    path = save(tmp_path, [first[0], msg("u3", "user", "second try")], updated="10:00:09")
    await import_paths(store, [path])
    (node,) = (await gql(_TEXTS))["sessions"]["nodes"]
    assert [m["text"] for m in node["messages"]["nodes"]] == ["first try", "second try"]
    for word in ("wombat", "platypus"):
        assert (await gql(_SEARCH, q=word))["search"]["totalCount"] == 0
    assert await exported(store) == [json.loads(path.read_bytes())]
    (thread,) = (await exported(store, ExportFormat.JSON))["conversations"]
    kept = [item["record"].get("id") for item in thread["records"]]
    assert "u2" in kept and "i1" in kept  # still in the record store


async def test_a_rewrite_of_the_same_size_and_time_is_noticed(store: Store, tmp_path: Path) -> None:
    path = save(tmp_path, [msg("u1", "user", "cat")])
    await import_paths(store, [path])
    stat = path.stat()
    path.write_text(path.read_text().replace('"cat"', '"dog"'))
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    summary = await import_paths(store, [path])
    assert summary.files_unchanged == 0
    assert await exported(store) == [json.loads(path.read_bytes())]


async def test_a_document_caught_half_written_loses_nothing(store: Store, tmp_path: Path) -> None:
    path = save(tmp_path, [msg("u1", "user", "hello"), msg("g1", "gemini", "hi")])
    await import_paths(store, [path])
    whole = path.read_bytes()
    path.write_bytes(whole[: len(whole) // 2])  # read while gemini-cli writes it
    summary = await import_paths(store, [path])
    assert [p.kind for p in summary.problems] == ["not JSON"]
    assert (await session(store)).message_count == 2  # nothing retired
    path.write_bytes(whole)
    await import_paths(store, [path])
    assert (await session(store)).message_count == 2
    assert await exported(store) == [json.loads(whole)]


async def test_a_rewrite_is_read_again_in_an_encrypted_store(tmp_path: Path) -> None:
    store = await Store.open(tmp_path / "sealed.db", key=KeyMaterial(key=MasterKey(bytes(32))))
    try:
        await import_paths(
            store, [save(tmp_path, [msg("u1", "user", "a"), msg("u2", "user", "b")])]
        )
        path = save(tmp_path, [msg("u1", "user", "a"), msg("u3", "user", "c")], updated="10:00:09")
        await import_paths(store, [path])
        assert (await session(store)).message_count == 2
        assert await exported(store) == [json.loads(path.read_bytes())]
    finally:
        await store.close()


async def test_a_subagent_document_is_a_thread_of_its_parent_session(
    store: Store, tmp_path: Path
) -> None:
    save(tmp_path, [msg("u1", "user", "hi")])
    sub = tmp_path / "tmp" / "h1" / "chats" / SID / "session-sub.json"
    sub.parent.mkdir(parents=True)
    sub.write_text(
        json.dumps({**HEADER, "sessionId": "sub-1", "messages": [msg("s1", "user", "go")]})
    )
    summary = await import_paths(store, [tmp_path])
    assert (summary.sessions_added, summary.conversations_added) == (1, 2)
    assert len(await exported(store)) == 2  # each thread's document


async def test_a_document_the_cli_moved_to_jsonl_is_read_there(
    store: Store, tmp_path: Path
) -> None:
    """gemini-cli resuming an old chat copies it to ``<name>.jsonl`` and goes on there (its
    chatRecordingService): the folder's document is then passed over, not read twice."""
    path = save(tmp_path, [msg("u1", "user", "hello")])
    moved = path.with_suffix(".jsonl")
    header = {**HEADER, "kind": "main"}
    lines = [header, msg("u1", "user", "hello"), msg("u2", "user", "again")]
    moved.write_text("".join(json.dumps(r) + "\n" for r in lines))
    summary = await import_paths(store, [tmp_path])
    assert summary.files == 1
    assert (await session(store)).message_count == 2
