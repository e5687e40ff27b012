"""Importing the real Claude Code samples: what lands in each table, and why."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

import pytest

from graph.blocks.claude_code import blocks as claude_blocks
from graph.content import records_of
from graph.errors import TranscriptError
from graph.importers.importer import import_paths
from graph.importers.lines import normalize_timestamp
from graph.store import Store
from tests.test_import_support import (  # noqa: F401  (fixtures by name)
    CANONICAL_TS,
    MAIN,
    expected_counts,
    imported_fixture,
    parsed_lines,
    query,
    records,
    sample_files,
    samples_db_fixture,
    usage_by_api_message,
    write_lines,
)

# Hand counts (also computed below from the files, independently of the importer).
HAND_COUNTS = {
    f"{MAIN}.jsonl": (466, 1728),
    "agent-aac57f5.jsonl": (16, 12),
    "agent-acompact-946d2b.jsonl": (2, 0),
    "short.jsonl": (5, 6),
    "subagent.jsonl": (32, 48),
    "tool_heavy.jsonl": (17, 17),
}


def session_of(path: Path) -> str:
    return str(next(r["sessionId"] for r in records(path) if "sessionId" in r))


@pytest.mark.parametrize("name", sorted(HAND_COUNTS))
async def test_each_sample_file_gives_its_messages_and_events(
    store: Store, samples_dir: Path, tmp_path: Path, name: str
) -> None:
    path = next(p for p in sample_files(samples_dir) if p.name == name)
    assert expected_counts(path) == HAND_COUNTS[name]
    summary = await import_paths(store, [path])
    messages, events = HAND_COUNTS[name]
    assert (summary.messages_added, summary.events_added) == (messages, events)
    assert summary.conversations_added == 1 and summary.sessions_added == 1
    assert summary.lines_read == len(path.read_bytes().splitlines())
    rows = await query(
        store, "SELECT message_count, event_count, is_sidechain, agent_id FROM conversations"
    )
    sidechain = path.parent.name == "subagents"
    agent = path.stem.removeprefix("agent-") if sidechain else ""
    assert rows == [(messages, events, int(sidechain), agent)]
    sessions = await query(store, "SELECT session_id, message_count, event_count FROM sessions")
    assert sessions == [(session_of(path), messages, events)]


async def test_a_whole_projects_tree_in_one_run(store: Store, samples_dir: Path) -> None:
    summary = await import_paths(store, [samples_dir])
    assert summary.files == summary.files_read == 6
    assert summary.sessions_added == 4 and summary.conversations_added == 6
    assert summary.messages_added == sum(m for m, _ in HAND_COUNTS.values())
    assert summary.events_added == sum(e for _, e in HAND_COUNTS.values())
    assert summary.lines_skipped == 0 and summary.problems == []
    rows = await query(
        store,
        "SELECT project, cwd, git_branch, version, conversation_count, sidechain_count"
        " FROM sessions WHERE session_id = ?",
        MAIN,
    )
    cwd = "/home/USER/projects/spotter-worktrees/spotter-4te"
    assert rows == [
        ("-home-USER-projects-spotter-worktrees-spotter-4te", cwd, "spotter-4te", "2.1.39", 3, 2)
    ]


async def test_token_totals_count_each_api_message_once(imported: Store, samples_dir: Path) -> None:
    store = imported
    files = sample_files(samples_dir)
    for session_id in {session_of(p) for p in files}:
        mine = [p for p in files if session_of(p) == session_id]
        once, naive = usage_by_api_message(mine)
        rows = await query(
            store,
            "SELECT input_tokens, output_tokens, cache_read_tokens, cache_creation_tokens"
            " FROM sessions WHERE session_id = ?",
            session_id,
        )
        assert list(rows[0]) == once
        assert list(rows[0]) != naive  # the per-row sum over-counts
    once, _ = usage_by_api_message(files)
    async with store.read() as reader:
        stats = await reader.stats()
    tokens = stats.tokens
    assert [tokens.input, tokens.output, tokens.cache_read, tokens.cache_creation] == once
    assert once == [
        2408 + 242 + 3 + 3 + 1576 + 54,
        49467 + 7 + 8 + 13 + 1586 + 212,
        16553628 + 29274 + 17842 + 11515 + 427286 + 88231,
        237121 + 18814 + 121689 + 13835 + 25842 + 17696,
    ]


async def test_split_assistant_rows_are_one_message_with_blocks_in_order(
    imported: Store, samples_dir: Path
) -> None:
    store = imported
    path = samples_dir / f"{MAIN}.jsonl"
    rows_by_id: dict[str, list[tuple[int, dict[str, Any]]]] = {}
    for number, record in parsed_lines(path):
        if record.get("type") == "assistant":
            rows_by_id.setdefault(record["message"]["id"], []).append((number, record))
    interleaved = 0
    for message_id, rows in rows_by_id.items():
        found = await query(
            store,
            "SELECT content, seq, output_tokens, model FROM messages WHERE msg_key LIKE ?",
            f"m:{message_id}:%",
        )
        assert len(found) == 1
        content, seq, output_tokens, model = found[0]
        stored = records_of(content)
        assert stored == rows
        assert seq == rows[0][0]
        expected_blocks = [b for _, r in rows for b in r["message"]["content"]]
        assert claude_blocks(stored) == expected_blocks
        assert output_tokens == rows[-1][1]["message"]["usage"]["output_tokens"]
        assert model == rows[-1][1]["message"]["model"]
        interleaved += rows[-1][0] - rows[0][0] + 1 > len(rows)
    assert interleaved > 10  # rows of one message with other records between them


async def test_a_subagent_is_a_sidechain_linked_to_its_task_call(
    imported: Store, samples_dir: Path
) -> None:
    store = imported
    links = {
        r["data"]["agentId"]: r["parentToolUseID"]
        for r in records(samples_dir / f"{MAIN}.jsonl")
        if r.get("type") == "progress" and r["data"].get("type") == "agent_progress"
    }
    assert links == {"aac57f5": "toolu_01Hf8v1Za7y4af8VUwSR4CXU"}
    rows = await query(
        store,
        "SELECT c.agent_id, c.is_sidechain, c.parent_tool_use_id FROM conversations c"
        " JOIN sessions s ON s.id = c.session_pk WHERE s.session_id = ? ORDER BY c.agent_id",
        MAIN,
    )
    assert rows == [("", 0, None), ("aac57f5", 1, links["aac57f5"]), ("acompact-946d2b", 1, None)]


async def test_a_subagent_read_in_a_later_run_is_linked_too(
    store: Store, samples_dir: Path, tmp_path: Path
) -> None:
    project = tmp_path / "projects" / "p"
    shutil.copytree(samples_dir / MAIN, project / MAIN)
    await import_paths(store, [project])  # the subagents alone: their main file is missing
    rows = await query(store, "SELECT agent_id, parent_tool_use_id FROM conversations")
    assert sorted(rows) == [("aac57f5", None), ("acompact-946d2b", None)]
    assert await query(store, "SELECT session_id FROM sessions") == [(MAIN,)]
    shutil.copy(samples_dir / f"{MAIN}.jsonl", project)
    await import_paths(store, [project])
    rows = await query(
        store, "SELECT agent_id, is_sidechain, parent_tool_use_id FROM conversations"
    )
    assert sorted(rows) == [
        ("", 0, None),
        ("aac57f5", 1, "toolu_01Hf8v1Za7y4af8VUwSR4CXU"),
        ("acompact-946d2b", 1, None),
    ]


@pytest.mark.parametrize("sealed", [False, True], ids=["plain", "encrypted"])
async def test_main_first_then_subagent_in_separate_runs(
    samples_dir: Path, tmp_path: Path, sealed: bool
) -> None:
    """The subagent's starting tool call is found in the stored main thread's events
    (read with SQLite's JSON functions, or opened with the key when sealed)."""
    from graph.crypto import MasterKey
    from graph.store.keyring import KeyMaterial

    key = KeyMaterial(key=MasterKey(bytes(range(32)))) if sealed else None
    store = await Store.open(tmp_path / "s.db", key=key)
    try:
        project = tmp_path / "projects" / "p"
        project.mkdir(parents=True)
        shutil.copy(samples_dir / f"{MAIN}.jsonl", project)
        await import_paths(store, [project])
        shutil.copytree(samples_dir / MAIN, project / MAIN)
        await import_paths(store, [project])
        rows = await query(
            store, "SELECT parent_tool_use_id FROM conversations WHERE agent_id = ?", "aac57f5"
        )
    finally:
        await store.close()
    assert rows == [("toolu_01Hf8v1Za7y4af8VUwSR4CXU",)]


async def test_an_old_style_agent_file_beside_the_main_file(
    store: Store, samples_dir: Path, tmp_path: Path
) -> None:
    project = tmp_path / "-home-USER-projects-spotter-worktrees-spotter-4te"
    project.mkdir()
    shutil.copy(samples_dir / f"{MAIN}.jsonl", project)
    shutil.copy(samples_dir / MAIN / "subagents" / "agent-aac57f5.jsonl", project)
    await import_paths(store, [project])
    rows = await query(
        store,
        "SELECT s.session_id, s.project, c.agent_id, c.is_sidechain, c.parent_tool_use_id"
        " FROM conversations c JOIN sessions s ON s.id = c.session_pk ORDER BY c.agent_id",
    )
    assert rows == [
        (MAIN, project.name, "", 0, None),
        (MAIN, project.name, "aac57f5", 1, "toolu_01Hf8v1Za7y4af8VUwSR4CXU"),
    ]


async def test_project_is_the_claude_folder_under_projects(store: Store, tmp_path: Path) -> None:
    folder = tmp_path / "projects" / "-shortened-by-claude-1a2b"
    write_lines(
        folder / "s1.jsonl",
        [
            {
                "type": "user",
                "sessionId": "s1",
                "cwd": "/a/b.c",
                "uuid": "u1",
                "timestamp": "2026-01-01T00:00:00.000Z",
                "message": {"role": "user", "content": "hi"},
            }
        ],
    )
    write_lines(
        tmp_path / "elsewhere" / "s2.jsonl",
        [{"type": "user", "sessionId": "s2", "cwd": "/a/b.c", "uuid": "u2"}],
    )
    await import_paths(store, [tmp_path / "projects", tmp_path / "elsewhere" / "s2.jsonl"])
    rows = await query(store, "SELECT session_id, project, cwd FROM sessions ORDER BY 1")
    assert rows == [("s1", "-shortened-by-claude-1a2b", "/a/b.c"), ("s2", "-a-b-c", "/a/b.c")]


async def test_every_row_has_a_canonical_utc_timestamp(imported: Store) -> None:
    store = imported
    stamps = await query(
        store, "SELECT timestamp FROM messages UNION ALL SELECT timestamp FROM events"
    )
    assert len(stamps) == 538 + 1811
    assert all(CANONICAL_TS.fullmatch(ts) for (ts,) in stamps)
    snapshots = await query(
        store,
        "SELECT timestamp, json_extract(data, '$.snapshot.timestamp') FROM events"
        " WHERE type = 'file-history-snapshot'",
    )
    assert snapshots and all(a == b for a, b in snapshots)


async def test_records_before_the_first_timed_one_are_timed_by_it_not_the_mtime(
    store: Store, tmp_path: Path
) -> None:
    # A resumed session's file may open with summaries, which have no timestamp: they
    # take the first time that follows, not the file's mtime (which a copy changes).
    path = tmp_path / "s.jsonl"
    first, last = "2026-01-01T10:00:00.000Z", "2026-01-01T10:00:09.000Z"
    user = {"type": "user", "sessionId": "s", "uuid": "u1", "timestamp": first}
    write_lines(
        path,
        [
            {"type": "summary", "summary": "Earlier work", "leafUuid": "x"},
            {**user, "message": {"role": "user", "content": "hello"}},
            {"type": "summary", "summary": "Later", "leafUuid": "y"},  # the one before's
            {**user, "uuid": "u2", "timestamp": last, "message": {"role": "user", "content": "b"}},
        ],
    )
    os.utime(path, (2_000_000_000, 2_000_000_000))  # 2033: as a copy would leave it
    await import_paths(store, [path])
    events = await query(store, "SELECT seq, timestamp FROM events ORDER BY seq")
    assert events == [(1, first), (3, first)]
    assert await query(store, "SELECT started_at, ended_at FROM sessions") == [(first, last)]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2026-02-10T21:11:52.438Z", "2026-02-10T21:11:52.438Z"),
        ("2026-02-10T21:11:52Z", "2026-02-10T21:11:52.000Z"),
        ("2026-02-10T23:11:52.123456+02:00", "2026-02-10T21:11:52.123Z"),
        ("2026-02-10 21:11:52", "2026-02-10T21:11:52.000Z"),
        (1770758400, "2026-02-10T21:20:00.000Z"),
        (1770758400123, "2026-02-10T21:20:00.123Z"),
        ("yesterday", None),
        (None, None),
        (True, None),
    ],
)
def test_timestamps_are_normalized(value: object, expected: str | None) -> None:
    assert normalize_timestamp(value) == expected


async def test_missing_fields_get_defaults_and_unknown_types_are_kept(
    store: Store, tmp_path: Path
) -> None:
    path = tmp_path / "s.jsonl"
    write_lines(
        path,
        [
            {
                "type": "user",
                "sessionId": "s",
                "uuid": "u1",
                "timestamp": "2026-01-01T10:00:00+01:00",
                "message": {"role": "user", "content": "hello"},
            },
            {"type": "user"},  # no message, uuid or timestamp
            {"no_type": True, "payload": [1, 2]},
            {"type": "brand-new-kind", "subtype": 7, "extra": {"kept": True}},
            {
                "type": "assistant",
                "message": {"id": "msg_1", "content": [{"type": "text", "text": "a"}]},
            },
            {
                "type": "assistant",
                "message": {
                    "id": "msg_1",
                    "content": [{"type": "text", "text": "b"}],
                    "usage": {"output_tokens": 5},
                },
            },
        ],
    )
    await import_paths(store, [path])
    messages = await query(store, "SELECT msg_key, role, timestamp, output_tokens FROM messages")
    assert sorted(messages) == [
        ("l:2", "user", "2026-01-01T09:00:00.000Z", 0),
        ("m:msg_1:", "assistant", "2026-01-01T09:00:00.000Z", 5),
        ("u:u1", "user", "2026-01-01T09:00:00.000Z", 0),
    ]
    events = await query(store, "SELECT seq, type, subtype, data FROM events ORDER BY seq")
    assert [(seq, kind, sub) for seq, kind, sub, _ in events] == [
        (3, "unknown", None),
        (4, "brand-new-kind", None),
    ]
    assert json.loads(events[1][3]) == {
        "type": "brand-new-kind",
        "subtype": 7,
        "extra": {"kept": True},
    }


async def test_bad_lines_are_reported_and_the_rest_imported(store: Store, tmp_path: Path) -> None:
    path = tmp_path / "bad.jsonl"
    good = {"type": "user", "sessionId": "s", "uuid": "u1", "message": {"content": "hi"}}
    write_lines(
        path,
        [
            b"\xef\xbb\xbf" + json.dumps(good).encode(),  # a byte-order mark is not a problem
            "this is not json",
            "[1, 2, 3]",
            b'{"type": "system", "content": "caf\xe9", "sessionId": "s"}',
            "",
            '{"type": "user", "uuid": "u2", "message": {"content": "trunc',
            {"type": "system", "subtype": "x", "sessionId": "s"},
        ],
    )
    summary = await import_paths(store, [path])
    assert summary.lines_read == 7 and summary.lines_skipped == 3
    assert summary.issues == {"not JSON": 2, "not a JSON object": 1, "invalid UTF-8 (replaced)": 1}
    assert [(p.line, p.kind) for p in summary.problems] == [
        (2, "not JSON"),
        (3, "not a JSON object"),
        (4, "invalid UTF-8 (replaced)"),
        (6, "not JSON"),
    ]
    assert str(summary.problems[0]).startswith(f"{path}:2: not JSON")
    events = await query(store, "SELECT seq, json_extract(data, '$.content') FROM events")
    assert events == [(4, "caf\ufffd"), (7, None)]
    assert await query(store, "SELECT seq FROM messages") == [(1,)]


async def test_a_path_without_transcripts_is_a_clear_error(store: Store, tmp_path: Path) -> None:
    with pytest.raises(TranscriptError, match="no such file or directory"):
        await import_paths(store, [tmp_path / "missing"])
    (tmp_path / "empty" / "sub").mkdir(parents=True)
    (tmp_path / "empty" / "notes.txt").write_text("hello")
    with pytest.raises(TranscriptError, match=r"no transcripts \(\*\.jsonl\)"):
        await import_paths(store, [tmp_path / "empty"])
