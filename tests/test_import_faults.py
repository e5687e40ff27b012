"""Bad input the importer meets: numbers out of range, records nested too deeply, paths
it can not read, edits the stat check can not see, and rows written by other processes."""

from __future__ import annotations

import io
import json
import os
from pathlib import Path
from typing import Any

import orjson
import pytest

import graph.importers.importer as importer_module
from graph.export import ExportFormat, export_session
from graph.importers.batch import (
    REPAIRED_JSON,
    SKIPPED_TOO_DEEP,
    SOURCE_CONFLICT,
    TOKENS_OUT_OF_RANGE,
    UNREADABLE,
)
from graph.importers.importer import import_paths
from graph.importers.lines import MAX_DEPTH, MAX_TOKENS
from graph.store import NewConversation, NewEvent, NewMessage, NewSession, Store
from graph.store.usage import Clock, UsageFilter
from tests.conftest import GraphQL
from tests.test_import_support import query, write_lines

TS = "2025-01-01T00:00:00.000Z"


def assistant(n: int, session: str = "s", **usage: Any) -> dict[str, Any]:
    message: dict[str, Any] = {"id": f"m{n}", "role": "assistant", "model": "claude", "content": []}
    if usage:
        message["usage"] = usage
    return {
        "type": "assistant",
        "sessionId": session,
        "uuid": f"u{n}",
        "timestamp": TS,
        "message": message,
    }


def nested(depth: int) -> dict[str, Any]:
    """A record ``depth`` levels deep (the record itself is the first level)."""
    value: Any = 1
    for _ in range(depth - 1):
        value = [value]
    return {"type": "deep", "sessionId": "s", "timestamp": TS, "value": value}


def nested_line(depth: int) -> str:
    """:func:`nested` as a line of JSON (written by hand: too deep for the json module)."""
    value = "[" * (depth - 1) + "1" + "]" * (depth - 1)
    return f'{{"type":"deep","sessionId":"s","timestamp":"{TS}","value":{value}}}'


async def exported(store: Store, session_id: str, fmt: ExportFormat = ExportFormat.JSONL) -> bytes:
    out = io.BytesIO()
    await export_session(store, session_id, out, fmt)
    return out.getvalue()


# numbers out of range


async def test_token_counts_out_of_range_are_left_out_per_line(
    store: Store, tmp_path: Path
) -> None:
    big = tmp_path / "p" / "big.jsonl"
    # 2^64 does not fit SQLite's integers (it raised OverflowError and stored nothing).
    lines = [
        '{"type":"assistant","sessionId":"big","uuid":"u1","timestamp":"' + TS + '",'
        '"message":{"id":"m1","role":"assistant","usage":'
        '{"input_tokens":18446744073709551616,"output_tokens":7}}}',
        json.dumps(assistant(2, "big", input_tokens=-3, output_tokens=2)),
        json.dumps(assistant(3, "big", input_tokens=MAX_TOKENS, output_tokens=1)),
    ]
    write_lines(big, lines)
    write_lines(tmp_path / "p" / "fine.jsonl", [assistant(4, "fine", input_tokens=10)])
    summary = await import_paths(store, [tmp_path / "p"])
    assert summary.messages_added == 4 and summary.lines_skipped == 0
    problems = [(p.path, p.line, p.kind) for p in summary.problems]
    assert problems == [(str(big), 1, TOKENS_OUT_OF_RANGE), (str(big), 2, TOKENS_OUT_OF_RANGE)]
    assert "input_tokens=" in summary.problems[0].detail
    # Only the counts out of range are left out; the records are kept as they were.
    rows = await query(
        store, "SELECT input_tokens, output_tokens FROM sessions WHERE session_id = 'big'"
    )
    assert rows == [(MAX_TOKENS, 10)]
    first = (await exported(store, "big")).splitlines()[0]
    assert json.loads(first)["message"]["usage"]["input_tokens"] == 18446744073709551616


async def test_token_totals_can_not_overflow(store: Store, tmp_path: Path) -> None:
    # Each count is in range; their sum is past 2^63 ("integer overflow" in sum()).
    count = 1030
    write_lines(
        tmp_path / "many.jsonl",
        [assistant(n, "many", input_tokens=MAX_TOKENS, output_tokens=1) for n in range(count)],
    )
    summary = await import_paths(store, [tmp_path / "many.jsonl"])
    assert summary.messages_added == count
    rows = await query(store, "SELECT input_tokens, output_tokens FROM sessions")
    assert rows == [(2**63 - 1, count)]  # saturated, the rest exact
    async with store.read() as reader:
        stats = await reader.stats()
        [cell] = await reader.usage([], UsageFilter(), Clock(), ())  # one model, one day
    assert stats.tokens.input == 2**63 - 1 and stats.tokens.output == count
    assert cell.tokens.input == 2**63 - 1 and cell.tokens.output == count


# records nested too deeply


@pytest.mark.parametrize("depth", [MAX_DEPTH + 1, 300, 1024])
async def test_records_nested_too_deeply_are_refused_per_line(
    store: Store, tmp_path: Path, depth: int
) -> None:
    path = tmp_path / "s.jsonl"
    write_lines(path, [assistant(1), nested_line(depth), nested(MAX_DEPTH), assistant(2)])
    summary = await import_paths(store, [path])
    assert summary.lines_skipped == 1 and summary.events_added == 1
    [problem] = summary.problems
    assert (problem.path, problem.line, problem.kind) == (str(path), 2, SKIPPED_TOO_DEEP)
    # What was kept can be written out again, in every format.
    lines = (await exported(store, "s")).splitlines()
    assert [json.loads(line) for line in lines] == [assistant(1), nested(MAX_DEPTH), assistant(2)]
    assert json.loads(await exported(store, "s", ExportFormat.JSON))
    assert await exported(store, "s", ExportFormat.MARKDOWN)


async def test_deep_records_stored_by_an_earlier_version_still_export(store: Store) -> None:
    # orjson writes 254 levels at most; earlier versions stored up to 1,024.
    event_text = nested_line(600)
    deep = "[" * 600 + "1" + "]" * 600
    message_text = (
        f'{{"type":"assistant","sessionId":"old","timestamp":"{TS}","message":{{"id":"m",'
        f'"role":"assistant","content":[{{"type":"tool_use","name":"Bash","input":{{"x":{deep}}}}}]}}}}'
    )
    message = NewMessage(
        "m", "assistant", TS, [(2, orjson.loads(message_text))], texts=[message_text.encode()]
    )
    event = NewEvent(1, "deep", TS, orjson.loads(event_text), text=event_text.encode())
    message.pack()
    event.pack()
    async with store.write() as writer:
        session_pk = await writer.upsert_session(NewSession("old"))
        conversation_pk = await writer.upsert_conversation(session_pk, NewConversation())
        await writer.add_events(session_pk, conversation_pk, [event])
        await writer.add_messages(session_pk, conversation_pk, [message])
    records = [json.loads(event_text), json.loads(message_text)]
    assert [json.loads(line) for line in (await exported(store, "old")).splitlines()] == records
    document = json.loads(await exported(store, "old", ExportFormat.JSON))
    assert [item["record"] for item in document["conversations"][0]["records"]] == records
    assert b"**Tool call** `Bash`" in await exported(store, "old", ExportFormat.MARKDOWN)


# paths that can not be read


async def test_unreadable_paths_are_reported_like_unreadable_files(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    projects = tmp_path / "projects"
    write_lines(projects / "p" / "s.jsonl", [assistant(1)])
    (projects / "p" / "folder.jsonl").mkdir()
    (projects / "p" / "loop.jsonl").symlink_to("loop.jsonl")
    (projects / "p" / "gone.jsonl").symlink_to("nowhere.jsonl")
    locked = projects / "locked"
    locked.mkdir()
    real_scandir = os.scandir

    def scandir(path: Any = ".") -> Any:  # root reads any folder: refuse this one
        if Path(path) == locked:
            raise PermissionError(13, "Permission denied", str(path))
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", scandir)
    summary = await import_paths(store, [projects])
    assert summary.messages_added == 1
    reported = {(Path(p.path).name, p.kind, p.detail) for p in summary.problems}
    assert reported == {
        ("folder.jsonl", UNREADABLE, "Is a directory"),
        ("loop.jsonl", UNREADABLE, "Too many levels of symbolic links"),
        ("gone.jsonl", UNREADABLE, "No such file or directory"),
        ("locked", UNREADABLE, "folder not readable: Permission denied"),
    }


# edits the stat check can not see


async def test_an_edit_that_keeps_size_and_mtime_is_read(store: Store, tmp_path: Path) -> None:
    path = tmp_path / "s.jsonl"
    write_lines(path, [assistant(1, input_tokens=11), assistant(2, input_tokens=22)])
    await import_paths(store, [path])
    before = path.stat()
    write_lines(path, [assistant(1, input_tokens=11), assistant(2, input_tokens=33)])
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert path.stat().st_size == before.st_size
    summary = await import_paths(store, [path])
    assert summary.files_reset == 1
    assert await query(store, "SELECT input_tokens FROM sessions") == [(44,)]
    again = await import_paths(store, [path])
    assert again.files_unchanged == 1 and again.lines_read == 0


async def test_an_edit_before_appended_lines_is_read_again(store: Store, tmp_path: Path) -> None:
    path = tmp_path / "s.jsonl"
    write_lines(path, [assistant(n, input_tokens=1) for n in range(100)])
    await import_paths(store, [path])
    # The last line read changes (beyond the head) and a line is appended.
    write_lines(
        path,
        [
            *(assistant(n, input_tokens=1) for n in range(99)),
            assistant(99, input_tokens=2),
            assistant(100, input_tokens=1),
        ],
    )
    summary = await import_paths(store, [path])
    assert summary.files_reset == 1
    assert await query(store, "SELECT input_tokens FROM sessions") == [(102,)]


# what a run reports


async def test_a_run_counts_the_rows_it_wrote_not_other_writers(
    db_path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ours, theirs = tmp_path / "ours", tmp_path / "theirs"
    write_lines(ours / "a.jsonl", [assistant(n, "a") for n in range(3)])
    write_lines(theirs / "b.jsonl", [assistant(n, "b") for n in range(5)])
    other = await Store.open(db_path)
    real_write = importer_module._Importer._write

    async def meanwhile(self: Any, chunks: Any) -> None:
        if self.store is store:  # another process writes before each of our commits
            await import_paths(other, [theirs])
        await real_write(self, chunks)

    monkeypatch.setattr(importer_module._Importer, "_write", meanwhile)
    store = await Store.open(db_path)
    try:
        summary = await import_paths(store, [ours])
    finally:
        await store.close()
        await other.close()
    assert (summary.sessions_added, summary.conversations_added) == (1, 1)
    assert (summary.messages_added, summary.events_added) == (3, 0)


async def test_a_file_read_again_counts_what_it_wrote(store: Store, tmp_path: Path) -> None:
    path = tmp_path / "s.jsonl"
    write_lines(path, [assistant(n) for n in range(50)])
    await import_paths(store, [path])
    write_lines(path, [assistant(n) for n in range(2)])  # truncated: read from the start
    summary = await import_paths(store, [path])
    assert summary.files_reset == 1 and summary.messages_added == 2
    assert summary.sessions_added == summary.conversations_added == 0


# a session id another agent's session has


def codex_meta(session_id: str, parent: str | None = None) -> str:
    payload: dict[str, Any] = {"id": session_id, "cwd": "/w"}
    if parent is not None:
        payload["source"] = {"subagent": {"thread_spawn": {"parent_thread_id": parent}}}
    return json.dumps({"timestamp": TS, "type": "session_meta", "payload": payload})


async def test_a_file_whose_session_another_agent_has_is_reported_not_fatal(
    store: Store, tmp_path: Path
) -> None:
    write_lines(tmp_path / "a" / "dup.jsonl", [assistant(1, "dup")])
    same = tmp_path / "b" / "rollout-2026-01-01T10-00-00-dup.jsonl"
    write_lines(same, [codex_meta("dup")])
    # A Codex sub-agent naming the Claude Code session as the thread that spawned it.
    child = tmp_path / "b" / "rollout-2026-01-01T10-00-00-child.jsonl"
    write_lines(child, [codex_meta("child", parent="dup")])
    write_lines(tmp_path / "c" / "rollout-2026-01-01T10-00-00-ok.jsonl", [codex_meta("ok")])
    for run in range(2):  # reported again by a later run, nothing stored from them
        summary = await import_paths(store, [tmp_path])
        problems = sorted((p.path, p.line, p.kind) for p in summary.problems)
        assert problems == [
            (str(child), 0, SOURCE_CONFLICT),
            (str(same), 0, SOURCE_CONFLICT),
        ]
        assert "session dup is already stored" in summary.problems[0].detail
        assert summary.sessions_added == (2 if run == 0 else 0)
    rows = await query(store, "SELECT session_id, source FROM sessions ORDER BY session_id")
    assert rows == [("dup", "claude-code"), ("ok", "codex")]
    assert await query(store, "SELECT count(*) FROM import_files") == [(2,)]


# file names that are not UTF-8


async def test_a_file_name_that_is_not_utf8_is_reported_and_the_others_imported(
    store: Store, tmp_path: Path
) -> None:
    folder = tmp_path / "p"
    write_lines(folder / "good.jsonl", [assistant(1, "good")])
    bad = os.fsencode(folder) + b"/bad\xffname.jsonl"
    Path(os.fsdecode(bad)).write_bytes(orjson.dumps(assistant(2, "bad")) + b"\n")
    for run in range(2):  # skipped and reported again, nothing stored twice
        summary = await import_paths(store, [folder])
        [problem] = summary.problems
        assert (problem.path, problem.line) == (f"{folder}/bad\\xffname.jsonl", 0)
        assert problem.kind == UNREADABLE and "not valid UTF-8" in problem.detail
        assert orjson.dumps(summary.to_dict())  # printable as --json prints it
        assert summary.sessions_added == (1 if run == 0 else 0)
    # Named on its own, it is reported the same way.
    summary = await import_paths(store, [Path(os.fsdecode(bad))])
    assert [p.path for p in summary.problems] == [f"{folder}/bad\\xffname.jsonl"]
    assert await query(store, "SELECT session_id FROM sessions") == [("good",)]


# valid JSON that orjson refuses


async def test_lone_surrogates_and_huge_numbers_are_kept_and_reported(
    store: Store, gql: GraphQL, tmp_path: Path
) -> None:
    path = tmp_path / "s.jsonl"
    cut = (
        '{"type":"user","sessionId":"s","uuid":"u0","timestamp":"' + TS + '",'
        '"message":{"role":"user","content":"tool output cut mid emoji \\ud83d"}}'
    )
    huge = '{"type":"progress","sessionId":"s","timestamp":"' + TS + '","n":1e400,"m":-1e400}'
    write_lines(path, [cut, huge, assistant(1)])
    summary = await import_paths(store, [path])
    assert summary.lines_skipped == 0 and summary.messages_added == 2
    assert summary.events_added == 1
    assert [(p.line, p.kind, p.detail) for p in summary.problems] == [
        (1, REPAIRED_JSON, "lone surrogate replaced by U+FFFD"),
        (2, REPAIRED_JSON, "number 1e400 kept as a string; number -1e400 kept as a string"),
    ]
    lines = [json.loads(line) for line in (await exported(store, "s")).splitlines()]
    assert lines[0]["message"]["content"] == "tool output cut mid emoji \ufffd"
    assert (lines[1]["n"], lines[1]["m"]) == ("1e400", "-1e400")
    assert lines[2] == assistant(1)
    assert json.loads(await exported(store, "s", ExportFormat.JSON))
    data = await gql('{ search(query: "emoji") { nodes { snippet } } }')
    assert any("emoji \ufffd" in hit["snippet"] for hit in data["search"]["nodes"])
    assert (await import_paths(store, [path])).files_unchanged == 1


async def test_a_gemini_document_with_a_lone_surrogate_is_kept(
    store: Store, tmp_path: Path
) -> None:
    path = tmp_path / "chats" / "session-g.json"
    path.parent.mkdir()
    message = '{"id":"m1","type":"user","timestamp":"' + TS + '","content":"cut \\ud83d"}'
    path.write_text('{"sessionId":"g","projectHash":"h","messages":[' + message + "]}")
    summary = await import_paths(store, [path])
    assert summary.messages_added == 1 and summary.lines_skipped == 0
    assert [(p.line, p.kind) for p in summary.problems] == [(1, REPAIRED_JSON)]
    [line] = (await exported(store, "g")).splitlines()
    assert json.loads(line)["messages"][0]["content"] == "cut \ufffd"
