"""A Gemini CLI chat document (``session-*.json``) and the ``.jsonl`` gemini-cli moves it
to when it resumes the chat: two files of one thread, each kept whole whatever order
they are imported in."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

from graph.export import ExportFormat, export_session
from graph.importers.importer import import_paths
from graph.store import Store
from tests.conftest import GraphQL

SID = "3b1d2c00-0000-4000-8000-00000000e5e5"
HEADER = {
    "sessionId": SID,
    "projectHash": "h1",
    "startTime": "2026-01-01T10:00:00.000Z",
    "lastUpdated": "2026-01-01T10:00:05.000Z",
}


def msg(id_: str, kind: str, content: str) -> dict[str, Any]:
    return {"id": id_, "timestamp": "2026-01-01T10:00:01.000Z", "type": kind, "content": content}


# What the document held when it was moved: two messages and an info record.
OLD = [msg("u1", "user", "hello"), msg("g1", "gemini", "hi"), msg("i1", "info", "notice")]
# The .jsonl: its own metadata line, the document's records, then what came after.
NEW = [
    {**HEADER, "kind": "main"},
    *OLD,
    msg("u2", "user", "again"),
    msg("g2", "gemini", "sure"),
    {"$set": {"lastUpdated": "2026-01-01T10:09:00.000Z"}},
    msg("w1", "warning", "careful"),
]
_SEARCH = "query($q: String!) { search(query: $q, scopes: [MESSAGES, EVENTS]) { totalCount } }"
MORE = [msg("u3", "user", "one more"), msg("i2", "info", "later notice")]


def chats(root: Path) -> Path:
    folder = root / "tmp" / "h1" / "chats"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def write_document(root: Path) -> Path:
    path = chats(root) / f"session-2026-01-01T10-00-{SID[:8]}.json"
    path.write_text(json.dumps({**HEADER, "messages": OLD}, indent=2))
    return path


def write_lines(root: Path, records: list[dict[str, Any]]) -> Path:
    path = chats(root) / f"session-2026-01-01T10-00-{SID[:8]}.jsonl"
    with path.open("a") as fh:
        fh.writelines(json.dumps(record) + "\n" for record in records)
    return path


def lines_of(path: Path) -> list[Any]:
    return [json.loads(line) for line in path.read_text().splitlines()]


async def exported(store: Store) -> list[Any]:
    out = io.BytesIO()
    await export_session(store, SID, out, ExportFormat.JSONL)
    return [json.loads(line) for line in out.getvalue().splitlines()]


async def stored(store: Store) -> tuple[int, int, int]:
    """The session's (messages, events, records in the record store)."""
    out = io.BytesIO()
    await export_session(store, SID, out, ExportFormat.JSON)
    document = json.loads(out.getvalue())
    (thread,) = document["conversations"]
    session = document["session"]
    return session["messageCount"], session["eventCount"], len(thread["records"])


async def test_a_document_imported_before_its_jsonl_continuation_keeps_both(
    store: Store, tmp_path: Path
) -> None:
    document = write_document(tmp_path)
    await import_paths(store, [tmp_path])
    continued = write_lines(tmp_path, NEW)
    summary = await import_paths(store, [tmp_path])  # the folder's .json is passed over now
    assert summary.files == 1
    # Messages u1 g1 u2 g2; events: the document's fields and i1, then the .jsonl's
    # metadata line, i1, $set and w1. Every line of both files is in the record store.
    assert await stored(store) == (4, 6, 1 + len(OLD) + len(NEW))
    whole = json.loads(document.read_bytes())
    assert await exported(store) == [whole, *lines_of(continued)]

    write_lines(tmp_path, MORE)  # the chat goes on in the .jsonl
    await import_paths(store, [tmp_path])
    assert await stored(store) == (5, 7, 1 + len(OLD) + len(NEW) + len(MORE))
    assert await exported(store) == [whole, *lines_of(continued)]

    again = await import_paths(store, [tmp_path, document])
    assert again.files_unchanged == 2
    assert (again.messages_added, again.events_added) == (0, 0)
    assert await exported(store) == [whole, *lines_of(continued)]


async def test_the_json_export_numbers_each_files_lines_from_one(
    store: Store, tmp_path: Path
) -> None:
    write_document(tmp_path)
    await import_paths(store, [tmp_path])
    write_lines(tmp_path, NEW)
    await import_paths(store, [tmp_path])
    out = io.BytesIO()
    await export_session(store, SID, out, ExportFormat.JSON)
    (thread,) = json.loads(out.getvalue())["conversations"]
    placed = [(r["file"], r["line"]) for r in thread["records"]]
    # The document: its header and messages; then the .jsonl, line by line.
    document = [(1, n) for n in range(1, len(OLD) + 2)]
    assert placed == [*document, *((2, n) for n in range(1, len(NEW) + 1))]
    assert [r["record"] for r in thread["records"][len(document) :]] == NEW


async def test_a_jsonl_imported_before_the_document_it_continues_keeps_both(
    store: Store, tmp_path: Path
) -> None:
    document = write_document(tmp_path)
    continued = write_lines(tmp_path, NEW)
    await import_paths(store, [continued])
    await import_paths(store, [document])  # named: the folder's walk would pass it over
    assert await stored(store) == (4, 6, 1 + len(OLD) + len(NEW))
    whole = json.loads(document.read_bytes())
    assert await exported(store) == [*lines_of(continued), whole]

    write_lines(tmp_path, MORE)
    await import_paths(store, [continued])
    assert await exported(store) == [*lines_of(continued), whole]

    again = await import_paths(store, [continued, document])
    assert again.files_unchanged == 2
    assert (again.messages_added, again.events_added) == (0, 0)
    assert await exported(store) == [*lines_of(continued), whole]


async def test_a_jsonl_read_again_from_its_start_leaves_the_documents_rows(
    store: Store, gql: GraphQL, tmp_path: Path
) -> None:
    """A file read again from its start (shorter, say) forgets only its own lines."""
    document = write_document(tmp_path)
    await import_paths(store, [tmp_path])
    continued = write_lines(tmp_path, NEW)
    await import_paths(store, [tmp_path])
    continued.write_text("".join(json.dumps(record) + "\n" for record in NEW[:4]))
    summary = await import_paths(store, [tmp_path])
    assert summary.files_reset == 1
    # Messages u1 g1; events: the document's fields and i1, the .jsonl's metadata and i1.
    assert await stored(store) == (2, 4, 1 + len(OLD) + 4)
    assert await exported(store) == [json.loads(document.read_bytes()), *lines_of(continued)]
    for word, hits in (("hello", 1), ("again", 0), ("careful", 0), ("notice", 2)):
        assert (await gql(_SEARCH, q=word))["search"]["totalCount"] == hits, word
    assert await store.check() == []


async def test_a_jsonl_read_again_before_the_document_it_continues_keeps_both(
    store: Store, tmp_path: Path
) -> None:
    document = write_document(tmp_path)
    continued = write_lines(tmp_path, NEW)
    await import_paths(store, [continued])
    await import_paths(store, [document])
    continued.write_text("".join(json.dumps(record) + "\n" for record in NEW[:4]))
    assert (await import_paths(store, [continued])).files_reset == 1
    assert await stored(store) == (2, 4, 1 + len(OLD) + 4)
    # The .jsonl's lines come after the document's now: it was stored again after it.
    assert await exported(store) == [json.loads(document.read_bytes()), *lines_of(continued)]


async def test_both_files_named_in_one_run_keep_both(store: Store, tmp_path: Path) -> None:
    document = write_document(tmp_path)
    continued = write_lines(tmp_path, NEW)
    summary = await import_paths(store, [continued, document])  # one transaction
    assert (summary.files_read, summary.events_added) == (2, 6)
    assert await exported(store) == [json.loads(document.read_bytes()), *lines_of(continued)]


async def test_a_document_stored_before_migration_0016_is_joined_by_its_jsonl(
    tmp_path: Path,
) -> None:
    db = tmp_path / "x.db"
    store = await Store.open(db)
    try:
        document = write_document(tmp_path)
        await import_paths(store, [tmp_path])
        await store.revert(1, backup=False)  # as stored before 0016: no line_base column
    finally:
        await store.close()
    store = await Store.open(db)  # applies 0016: the file's lines start at 0
    try:
        continued = write_lines(tmp_path, NEW)
        await import_paths(store, [tmp_path])
        assert await stored(store) == (4, 6, 1 + len(OLD) + len(NEW))
        assert await exported(store) == [json.loads(document.read_bytes()), *lines_of(continued)]
    finally:
        await store.close()
