"""Codex CLI rollouts: the traps of the format (the shared promises are in test_agents.py)."""

from __future__ import annotations

import io
import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest

import graph.importers.importer as importer_module
from graph.blocks.codex import blocks as codex_blocks
from graph.content import records_of
from graph.crypto import MasterKey
from graph.export import ExportFormat, export_session
from graph.importers.importer import import_paths
from graph.inputs import TokenTotals
from graph.store import Store, load_migrations
from graph.store.keyring import KeyMaterial
from tests.conftest import FIXTURES, GraphQL
from tests.test_import_incremental import fresh_snapshot
from tests.test_import_support import snapshot

SID = "019fc8be-0000-7000-8000-00000000c0de"


def line(kind: str, payload: dict[str, Any], ts: str = "2026-01-01T10:00:00.000Z") -> str:
    return json.dumps({"timestamp": ts, "type": kind, "payload": payload})


def meta(session_id: str = SID) -> str:
    return line("session_meta", {"id": session_id, "cwd": "/w", "cli_version": "0.146.0"})


def user(text: str) -> str:
    return line(
        "response_item",
        {"type": "message", "role": "user", "content": [{"type": "input_text", "text": text}]},
    )


def said(text: str) -> str:
    return line(
        "response_item",
        {
            "type": "message",
            "role": "assistant",
            "content": [{"type": "output_text", "text": text}],
        },
    )


def tokens(total: int, last: int, cached: int = 0) -> str:
    def usage(n: int) -> dict[str, int]:
        return {
            "input_tokens": n,
            "cached_input_tokens": cached,
            "output_tokens": 1,
            "reasoning_output_tokens": 1,
            "total_tokens": n + 1,
        }

    info = {"total_token_usage": usage(total), "last_token_usage": usage(last)}
    return line("event_msg", {"type": "token_count", "info": info})


def rollout(root: Path, lines: list[str], name: str = SID) -> Path:
    path = root / f"rollout-2026-01-01T10-00-00-{name}.jsonl"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(f"{text}\n" for text in lines))
    return path


async def session(store: Store, session_id: str = SID) -> Any:
    async with store.read() as reader:
        (row,) = await reader.sessions_by_session_id([session_id])
    assert row is not None
    return row


async def test_agents_md_and_environment_context_are_not_the_title(
    store: Store, tmp_path: Path
) -> None:
    turn = line("turn_context", {"turn_id": "t1", "model": "gpt-x"})
    rollout(
        tmp_path,
        [
            meta(),
            turn,
            user("# AGENTS.md instructions for /w\n\nbe nice"),
            user("<environment_context>\n<cwd>/w</cwd>\n</environment_context>"),
            user("fix the flaky login test"),
            said("done"),
        ],
    )
    await import_paths(store, [tmp_path])
    assert (await session(store)).title == "fix the flaky login test"


async def test_thread_name_updated_names_the_session(store: Store, tmp_path: Path) -> None:
    renamed = line("event_msg", {"type": "thread_name_updated", "thread_name": "Login work"})
    rollout(tmp_path, [meta(), user("fix the flaky login test"), renamed])
    await import_paths(store, [tmp_path])
    assert (await session(store)).title == "Login work"


async def test_tokens_count_once_per_turn_not_per_repeated_event(
    store: Store, tmp_path: Path
) -> None:
    turn = line("turn_context", {"turn_id": "t1", "model": "gpt-x"})
    lines = [meta(), turn, user("go"), said("one"), tokens(100, 100, cached=30)]
    lines += [tokens(100, 100, cached=30), tokens(100, 100, cached=30)]  # repeats
    lines += [said("two"), tokens(250, 150, cached=30)]  # a second model call, same turn
    rollout(tmp_path, lines)
    await import_paths(store, [tmp_path])
    row = await session(store)
    # input excludes the cached part (cache reads); output includes reasoning.
    assert row.tokens == TokenTotals(input=70 + 120, output=2, cache_read=60)
    assert row.message_count == 2  # the prompt, and the turn's assistant message


async def test_a_fork_replaying_its_parent_counts_the_parent_turns_once(
    store: Store, tmp_path: Path
) -> None:
    turn = line("turn_context", {"turn_id": "t1", "model": "gpt-x"})
    parent = [meta(), turn, user("go"), said("one"), tokens(100, 100)]
    child_turn = line("turn_context", {"turn_id": "t2", "model": "gpt-x"})
    fork = [meta("fork-1"), *parent, child_turn, user("more"), said("two"), tokens(160, 60)]
    rollout(tmp_path, parent, "parent")
    rollout(tmp_path, fork, "fork")
    await import_paths(store, [tmp_path])
    assert (await session(store, "fork-1")).session_id == "fork-1"  # its own meta, first
    async with store.read() as reader:
        stats = await reader.stats()
    assert stats.tokens.input == 160  # 100 once (the parent's turn), 60 of the fork's own


async def test_ui_echoes_are_events_and_reasoning_ciphertext_is_never_text(
    store: Store, gql: GraphQL, tmp_path: Path
) -> None:
    reasoning = line(
        "response_item",
        {
            "type": "reasoning",
            "summary": [{"type": "summary_text", "text": "plan it"}],
            "encrypted_content": "gAAAAsecretciphertext",
        },
    )
    echo = line("event_msg", {"type": "agent_message", "message": "done"})
    thinking = line("event_msg", {"type": "agent_reasoning", "text": "plan it"})
    rollout(tmp_path, [meta(), user("go"), reasoning, said("done"), echo, thinking])
    await import_paths(store, [tmp_path])
    row = await session(store)
    assert row.message_count == 2
    query = "query($q: String!) { search(query: $q, scopes: [MESSAGES, EVENTS]) { totalCount } }"
    assert (await gql(query, q="gAAAAsecretciphertext"))["search"]["totalCount"] == 0
    assert (await gql(query, q="done"))["search"]["totalCount"] == 1
    data = await gql(
        "{ sessions(first: 1) { nodes { messages(first: 5) { nodes { role "
        "blocks { __typename ... on ThinkingBlock { thinking } } } } } } }"
    )
    assistant = data["sessions"]["nodes"][0]["messages"]["nodes"][1]
    assert assistant["role"] == "assistant"
    assert {"__typename": "ThinkingBlock", "thinking": "plan it"} in assistant["blocks"]
    assert "secretciphertext" not in json.dumps(data)


def test_calls_and_outputs_are_tool_use_and_tool_result_blocks_tied_by_call_id() -> None:
    call = {
        "type": "response_item",
        "payload": {
            "type": "function_call",
            "name": "shell",
            "call_id": "c9",
            "arguments": '{"command": ["ls"]}',
        },
    }
    custom = {
        "type": "response_item",
        "payload": {
            "type": "custom_tool_call",
            "name": "apply_patch",
            "call_id": "c10",
            "input": "*** Begin Patch",
        },
    }
    output = {
        "type": "response_item",
        "payload": {"type": "function_call_output", "call_id": "c9", "output": "a.txt"},
    }
    use, patch, result = codex_blocks([(1, call), (2, custom), (3, output)])
    assert use == {"type": "tool_use", "id": "c9", "name": "shell", "input": {"command": ["ls"]}}
    assert patch["name"] == "apply_patch" and patch["input"] == {"input": "*** Begin Patch"}
    assert result == {"type": "tool_result", "tool_use_id": "c9", "content": "a.txt"}


async def test_compacted_history_missing_turn_context_and_unknown_lines_are_kept(
    store: Store, tmp_path: Path
) -> None:
    compacted = line("compacted", {"message": "", "replacement_history": []})
    unknown = line("brand_new_kind", {"anything": 1})
    path = rollout(tmp_path, [meta(), user("go"), said("ok"), compacted, unknown])
    await import_paths(store, [tmp_path])
    out = io.BytesIO()
    await export_session(store, SID, out, ExportFormat.JSONL)
    exported = [json.loads(text) for text in out.getvalue().splitlines()]
    assert exported == [json.loads(text) for text in path.read_text().splitlines()]
    row = await session(store)
    assert json.loads(row.models) == []  # no turn_context: no model is made up
    assert row.event_count == 3  # session_meta, compacted, the unknown line


async def test_old_builds_report_usage_per_turn(store: Store) -> None:
    await import_paths(store, [FIXTURES / "codex" / "codex_051_usage.jsonl"])
    await import_paths(store, [FIXTURES / "codex" / "codex_050_legacy.jsonl"])
    usage = await session(store, "test-usage-session")
    # turn.completed: input includes cached_input_tokens.
    assert usage.tokens == TokenTotals(input=1040 + 1420, output=2430, cache_read=1800)
    legacy = await session(store, "test-legacy-session")
    assert legacy.tokens == TokenTotals(input=1420, output=910)


def test_a_stored_codex_message_reads_back_from_its_records() -> None:
    stored = json.dumps([[4, json.loads(said("hi"))]]).encode()
    assert codex_blocks(records_of(stored)) == [{"type": "text", "text": "hi"}]


SUBAGENTS = FIXTURES / "codex" / "subagents"
PARENT, CHILD = sorted(SUBAGENTS.glob("rollout-*.jsonl"))
PARENT_ID = "019fd000-0000-7000-8000-00000000aaaa"
CHILD_ID = "019fd000-0000-7000-8000-00000000bbbb"
_THREADS = """query($id: ID!) { session(id: $id) { source messageCount
  conversations { isSidechain agentId parentToolUseId messageCount } } }"""


async def test_a_sub_agent_rollout_is_a_thread_of_its_parent_session(
    store: Store, gql: GraphQL
) -> None:
    summary = await import_paths(store, [SUBAGENTS])
    assert (summary.sessions_added, summary.conversations_added) == (1, 2)
    session = (await gql(_THREADS, id=PARENT_ID))["session"]
    assert session["conversations"] == [
        {"isSidechain": False, "agentId": None, "parentToolUseId": None, "messageCount": 3},
        {
            "isSidechain": True,
            "agentId": CHILD_ID,
            "parentToolUseId": "call-spawn-1",
            "messageCount": 2,
        },
    ]
    assert (await gql(_THREADS, id=CHILD_ID))["session"] is None  # not a session of its own
    out = io.BytesIO()
    await export_session(store, PARENT_ID, out, ExportFormat.JSONL)
    assert out.getvalue() == PARENT.read_bytes() + CHILD.read_bytes()


async def test_a_sub_agent_read_before_or_after_its_parent_is_linked(tmp_path: Path) -> None:
    for first, then in ((CHILD, PARENT), (PARENT, CHILD)):
        for key in (None, KeyMaterial(key=MasterKey(bytes(32)))):  # the lookup, sealed too
            store = await Store.open(tmp_path / f"{first.name[-10:]}-{key is None}.db", key=key)
            try:
                await import_paths(store, [first])
                await import_paths(store, [then])
                async with store.read() as reader:
                    (row,) = await reader.sessions_by_session_id([PARENT_ID])
                    assert row is not None
                    threads = (await reader.conversations_of_sessions([row.id]))[0]
                links = {(t.agent_id, t.parent_tool_use_id) for t in threads}
                assert links == {("", None), (CHILD_ID, "call-spawn-1")}
            finally:
                await store.close()


async def test_a_sub_agent_leaves_its_parent_sessions_facts_alone(tmp_path: Path) -> None:
    child = CHILD.read_text().replace('"cli_version":"0.146.0"', '"cli_version":"0.147.0"')
    child = child.replace('"cwd":"/tmp/repo"', '"cwd":"/tmp/elsewhere"', 1)
    assert "0.147.0" in child and "/tmp/elsewhere" in child
    (tmp_path / PARENT.name).write_text(PARENT.read_text())
    (tmp_path / CHILD.name).write_text(child)
    for n, first in enumerate((PARENT.name, CHILD.name)):  # read before and after it
        store = await Store.open(tmp_path / f"{n}.db")
        try:
            await import_paths(store, [tmp_path / first])
            await import_paths(store, [tmp_path / PARENT.name, tmp_path / CHILD.name])
            row = await session(store, PARENT_ID)
            assert (row.version, row.cwd, row.git_branch) == ("0.146.0", "/tmp/repo", "main")
        finally:
            await store.close()


async def test_a_fork_stays_a_session_that_names_its_origin(store: Store, tmp_path: Path) -> None:
    fork_id = "019fd000-0000-7000-8000-00000000cccc"
    fork = line(
        "session_meta",
        {"id": fork_id, "forked_from_id": PARENT_ID, "cwd": "/w", "source": "cli"},
    )
    rollout(tmp_path, [fork, meta(PARENT_ID), user("carry on from here")], name=fork_id)
    await import_paths(store, [tmp_path])
    row = await session(store, fork_id)
    async with store.read() as reader:
        assert (await reader.sessions_by_session_id([PARENT_ID])) == [None]
    assert row.metadata is not None and b"forkedFrom" in (
        row.metadata if isinstance(row.metadata, bytes) else row.metadata.encode()
    )


@pytest.mark.parametrize("saved", [True, False], ids=["saved-state", "replayed"])
async def test_a_turn_split_across_two_runs_counts_as_in_one(tmp_path: Path, saved: bool) -> None:
    """The second run takes up the turn, its model and its token totals where the first
    stopped: from the state saved with the file, or (a state saved before migration 0014,
    without it) by replaying the earlier lines."""
    turn = line("turn_context", {"turn_id": "t1", "model": "gpt-x"})
    first = [meta(), turn, user("go"), said("one"), tokens(100, 100, cached=30)]
    then = [tokens(100, 100, cached=30), said("two"), tokens(250, 150, cached=30)]
    path = rollout(tmp_path / "in", first)
    store = await Store.open(tmp_path / "split.db")
    try:
        await import_paths(store, [path])
        if not saved:
            with sqlite3.connect(tmp_path / "split.db") as conn:
                conn.execute("UPDATE import_files SET resume = NULL")
        path.write_text(path.read_text() + "".join(f"{text}\n" for text in then))
        await import_paths(store, [path])
        row = await session(store)
        assert row.tokens == TokenTotals(input=70 + 120, output=2, cache_read=60)
        assert (row.message_count, json.loads(row.models)) == (2, ["gpt-x"])
    finally:
        await store.close()


async def test_two_sessions_whose_turns_have_no_id_each_count_their_tokens(
    store: Store, tmp_path: Path
) -> None:
    """Without a turn id, a turn's key is the line of its prompt (``a:2`` in both files):
    it names a message within its own file, not one another session replays."""
    rollout(tmp_path, [meta("s-one"), user("go"), said("one"), tokens(100, 100)], "one")
    rollout(tmp_path, [meta("s-two"), user("go"), said("two"), tokens(40, 40)], "two")
    await import_paths(store, [tmp_path])
    assert (await session(store, "s-one")).tokens.input == 100
    assert (await session(store, "s-two")).tokens.input == 40
    async with store.read() as reader:
        assert (await reader.stats()).tokens.input == 140
        assert await store.check() == []  # every API message counted exactly once


async def test_migration_0015_counts_the_turns_stored_with_shared_line_keys(
    tmp_path: Path,
) -> None:
    db = tmp_path / "x.db"
    rollout(tmp_path / "in", [meta("s-one"), user("go"), said("one"), tokens(100, 100)], "one")
    rollout(tmp_path / "in", [meta("s-two"), user("go"), said("two"), tokens(40, 40)], "two")
    store = await Store.open(db)
    try:
        await import_paths(store, [tmp_path / "in"])  # the importer needs today's tables
        await store.revert(len(load_migrations()) - 14, backup=False)  # back to 0014
        # As the importer before 0015 stored them: only l: keys local, one a:2 counted.
        with sqlite3.connect(db) as conn:
            conn.execute(
                "UPDATE messages SET local_key = 0 WHERE msg_key LIKE 'a:%' OR msg_key LIKE 'u:%'"
            )
        await store.repair()
        assert (await session(store, "s-two")).tokens.input == 0
    finally:
        await store.close()

    store = await Store.open(db)  # applies 0015
    try:
        assert (await session(store, "s-one")).tokens.input == 100
        assert (await session(store, "s-two")).tokens.input == 40
        assert await store.check() == []
        await store.revert(len(load_migrations()) - 14, backup=False)
        assert (await session(store, "s-two")).tokens.input == 0  # as 0014 counted them
        assert await store.check() == []
    finally:
        await store.close()


ROLLOUTS = sorted((FIXTURES / "codex").glob("**/*.jsonl"))


@pytest.mark.parametrize("how", ["saved-state", "replayed", "batches"])
@pytest.mark.parametrize("sample", ROLLOUTS, ids=[p.name[-24:] for p in ROLLOUTS])
async def test_a_rollout_split_at_every_line_is_stored_as_in_one_import(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, sample: Path, how: str
) -> None:
    """Every line boundary a run boundary (appended a line at a time, each run taking up
    the saved state or replaying the lines before) or a batch boundary: the same
    messages, usage, models and counts as one import. A turn went on past a cut after
    its last token_count with no usage, and took the model of the later run."""
    whole = await fresh_snapshot(tmp_path, sample, "whole")
    lines = sample.read_bytes().splitlines(keepends=True)
    path = tmp_path / "live" / sample.name
    path.parent.mkdir()
    store = await Store.open(tmp_path / "split.db")
    try:
        if how == "batches":
            monkeypatch.setattr(importer_module, "BATCH_LINES", 1)
            path.write_bytes(b"".join(lines))
            await import_paths(store, [path], worker=False)
        for count in range(1, len(lines) + 1) if how != "batches" else ():
            path.write_bytes(b"".join(lines[:count]))
            await import_paths(store, [path], worker=False)
            if how == "replayed":  # a state saved before migration 0014: none
                with sqlite3.connect(tmp_path / "split.db") as conn:
                    conn.execute("UPDATE import_files SET resume = NULL")
        assert await snapshot(store) == whole
    finally:
        await store.close()
