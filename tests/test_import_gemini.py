"""Gemini CLI chats: the traps of the format (the shared promises are in test_agents.py)."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

from graph.export import ExportFormat, export_session
from graph.importers.importer import import_paths
from graph.inputs import TokenTotals
from graph.store import Store
from tests.conftest import GraphQL

SID = "9e3a1c00-0000-4000-8000-0000000000ge"
META = {
    "sessionId": SID,
    "projectHash": "h1",
    "startTime": "2026-01-01T10:00:00.000Z",
    "lastUpdated": "2026-01-01T10:00:00.000Z",
    "kind": "main",
}


def msg(id_: str, kind: str, content: Any, **more: Any) -> dict[str, Any]:
    return {
        "id": id_,
        "timestamp": "2026-01-01T10:00:01.000Z",
        "type": kind,
        "content": content,
        **more,
    }


def chat(root: Path, records: list[dict[str, Any]], *, under: str = "") -> Path:
    folder = root / "tmp" / "h1" / "chats" / under
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"session-2026-01-01T10-00-{records[0].get('sessionId', 'x')}.jsonl"
    path.write_text("".join(json.dumps(r, separators=(",", ":")) + "\n" for r in records))
    return path


_SEARCH = "query($q: String!) { search(query: $q, scopes: [MESSAGES, EVENTS]) { totalCount } }"
_TEXTS = """{ sessions(first: 5) { nodes { sessionId messageCount
  messages(first: 10) { nodes { role text } } } } }"""


async def test_a_repeated_id_replaces_the_earlier_record(
    store: Store, gql: GraphQL, tmp_path: Path
) -> None:
    first = msg("g1", "gemini", "draft answer", tokens={"input": 10, "output": 1, "cached": 0})
    final = msg("g1", "gemini", "final answer", tokens={"input": 30, "output": 5, "cached": 20})
    path = chat(tmp_path, [META, msg("u1", "user", "hi"), first, final])
    await import_paths(store, [tmp_path])
    (node,) = (await gql(_TEXTS))["sessions"]["nodes"]
    assert [m["text"] for m in node["messages"]["nodes"]] == ["hi", "final answer"]
    async with store.read() as reader:
        (row,) = await reader.sessions_by_session_id([SID])
    assert row is not None
    # The last record's tokens; input includes the cached ones (cache reads).
    assert row.tokens == TokenTotals(input=10, output=5, cache_read=20)
    out = io.BytesIO()
    await export_session(store, SID, out, ExportFormat.JSONL)
    assert out.getvalue() == path.read_bytes()  # both records stay


async def test_set_updates_are_events_and_a_summary_titles_the_session(
    store: Store, tmp_path: Path
) -> None:
    chat(tmp_path, [META, msg("u1", "user", "hi"), {"$set": {"summary": "Greeting"}}])
    await import_paths(store, [tmp_path])
    async with store.read() as reader:
        (row,) = await reader.sessions_by_session_id([SID])
    assert row is not None and (row.message_count, row.event_count) == (1, 2)
    assert row.title == "Greeting"


async def test_the_metadata_line_and_set_updates_are_timed_by_the_times_they_name(
    store: Store, gql: GraphQL, tmp_path: Path
) -> None:
    # Neither has a `timestamp`: the metadata line names its `startTime`, a `$set` its
    # `lastUpdated`. The file's mtime (today here) is no time of the chat.
    update = {"$set": {"lastUpdated": "2026-01-01T10:05:00.000Z"}}
    chat(tmp_path, [META, msg("u1", "user", "hi"), update])
    await import_paths(store, [tmp_path])
    query = """{ sessions(first: 1) { nodes { startedAt endedAt
      events(first: 5) { nodes { type timestamp } } } } }"""
    (node,) = (await gql(query))["sessions"]["nodes"]
    assert [(e["type"], e["timestamp"]) for e in node["events"]["nodes"]] == [
        ("session", "2026-01-01T10:00:00.000Z"),
        ("$set", "2026-01-01T10:05:00.000Z"),
    ]
    assert (node["startedAt"], node["endedAt"]) == (
        "2026-01-01T10:00:00.000Z",
        "2026-01-01T10:05:00.000Z",
    )


async def test_rewound_messages_stay_in_the_export_but_are_not_current(
    store: Store, gql: GraphQL, tmp_path: Path
) -> None:
    records = [
        META,
        msg("u1", "user", "first try"),
        msg("g1", "gemini", "answer one"),
        msg("u2", "user", "wrong turn"),
        msg("g2", "gemini", "answer two"),
        {"$rewindTo": "u2"},
        msg("u3", "user", "second try"),
    ]
    path = chat(tmp_path, records)
    await import_paths(store, [tmp_path])
    (node,) = (await gql(_TEXTS))["sessions"]["nodes"]
    texts = [m["text"] for m in node["messages"]["nodes"]]
    assert texts == ["first try", "answer one", "second try"]
    out = io.BytesIO()
    await export_session(store, SID, out, ExportFormat.JSONL)
    assert out.getvalue() == path.read_bytes()


async def test_info_error_and_warning_records_are_events(store: Store, tmp_path: Path) -> None:
    chat(
        tmp_path,
        [
            META,
            msg("u1", "user", "hi"),
            msg("i1", "info", "Switched model"),
            msg("e1", "error", "quota exceeded"),
        ],
    )
    await import_paths(store, [tmp_path])
    async with store.read() as reader:
        (row,) = await reader.sessions_by_session_id([SID])
    assert row is not None and (row.message_count, row.event_count) == (1, 3)


async def test_a_subagent_chat_is_a_thread_of_its_parent_session(
    store: Store, tmp_path: Path
) -> None:
    chat(tmp_path, [META, msg("u1", "user", "hi")])
    sub = {**META, "sessionId": "sub-1", "kind": "subagent"}
    chat(tmp_path, [sub, msg("s1", "user", "look around")], under=SID)
    summary = await import_paths(store, [tmp_path])
    assert (summary.sessions_added, summary.conversations_added) == (1, 2)


async def test_a_rewind_in_a_later_import_retires_messages_already_stored(
    store: Store, gql: GraphQL, tmp_path: Path
) -> None:
    kept = msg("g1", "gemini", "answer one", tokens={"input": 10, "output": 1, "cached": 0})
    dropped = msg("g2", "gemini", "answer wombat", tokens={"input": 50, "output": 9, "cached": 0})
    records = [META, msg("u1", "user", "first try"), kept, msg("u2", "user", "wrong turn"), dropped]
    path = chat(tmp_path, records)
    await import_paths(store, [tmp_path])
    with path.open("a") as fh:  # the rewind arrives after the dropped messages were stored
        for record in ({"$rewindTo": "u2"}, msg("u3", "user", "second try")):
            fh.write(json.dumps(record, separators=(",", ":")) + "\n")
    second = await import_paths(store, [tmp_path])
    assert second.files_reset == 0
    (node,) = (await gql(_TEXTS))["sessions"]["nodes"]
    assert [m["text"] for m in node["messages"]["nodes"]] == [
        "first try",
        "answer one",
        "second try",
    ]
    assert node["messageCount"] == 3
    async with store.read() as reader:
        (row,) = await reader.sessions_by_session_id([SID])
    assert row is not None and row.tokens == TokenTotals(input=10, output=1)
    for word in ("wombat", "wrong"):  # in no scope: neither a message nor an event
        found = await gql(_SEARCH, q=word)
        assert found["search"]["totalCount"] == 0
    out = io.BytesIO()
    await export_session(store, SID, out, ExportFormat.JSONL)
    assert out.getvalue() == path.read_bytes()  # the dropped records are still there


_REWOUND = """{ sessions(first: 2) { nodes {
  events(types: ["rewound"], first: 10) { nodes { uuid } } } } }"""


async def test_a_rewound_record_carries_its_id_whether_stored_earlier_or_not(
    store: Store, gql: GraphQL, tmp_path: Path
) -> None:
    draft = msg("g2", "gemini", "draft")  # g2 twice: each of its records becomes an event
    records = [META, msg("u1", "user", "hi"), msg("u2", "user", "wrong"), draft, draft]
    rewind = [{"$rewindTo": "u2"}, msg("u3", "user", "right")]
    chat(tmp_path / "one", [*records, *rewind])  # read with the rewind
    path = chat(tmp_path / "two", [{**META, "sessionId": "s-two"}, *records])
    await import_paths(store, [tmp_path / "one", tmp_path / "two"])
    with path.open("a") as fh:  # the rewind comes after its messages were stored
        fh.writelines(json.dumps(record) + "\n" for record in rewind)
    await import_paths(store, [tmp_path / "two"])
    found = (await gql(_REWOUND))["sessions"]["nodes"]
    assert len(found) == 2
    for node in found:
        assert [e["uuid"] for e in node["events"]["nodes"]] == ["u2", "g2", "g2"]
