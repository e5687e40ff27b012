"""Every promise, for every agent: one suite parametrized over Claude Code, Codex CLI and
Gemini CLI, the latter in both its forms (JSONL, and the older whole-file JSON document);
the per-format traps are in test_import_codex.py, test_import_gemini.py and
test_import_gemini_document.py.

Each source gets a small transcript written here, with one made-up word in its text
("zebrafinch"), one in its thinking ("quokkamind") and one in a tool's input
("narwhalcmd"), in that agent's own shapes; and the sample files of tests/fixtures.
"""

from __future__ import annotations

import asyncio
import io
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from graph.cli import app as cli
from graph.crypto import MasterKey
from graph.export import ExportFormat, export_session
from graph.feed import Activity, ChangeFeed, Subscriber
from graph.importers.importer import import_paths
from graph.importers.lines import TranscriptParser
from graph.importers.watch import watch_paths
from graph.store import MessageRow, Store
from graph.store.keyring import KeyMaterial
from tests.conftest import FIXTURES, GraphQL, api_client
from tests.test_import_cli import wait_for

TEXT, THINKING, TOOL = "zebrafinch", "quokkamind", "narwhalcmd"
SID = "5e551011-0000-4000-8000-000000000001"
runner = CliRunner()


@dataclass(frozen=True)
class Source:
    """One agent: where its transcript goes and what it holds."""

    name: str  # sessions.source
    enum: str  # SessionSource in GraphQL
    relative: str  # where the transcript file sits under the import root
    records: list[dict[str, Any]]
    # One JSON document rewritten whole (the first record holds the session's fields,
    # the others are its messages), not lines.
    document: bool = False

    @property
    def id(self) -> str:
        return f"{self.name}-json" if self.document else self.name


def _claude() -> list[dict[str, Any]]:
    base = {"sessionId": SID, "cwd": "/w/proj", "version": "2.0.0", "gitBranch": "main"}
    return [
        {
            **base,
            "type": "user",
            "uuid": "u1",
            "parentUuid": None,
            "timestamp": "2026-01-01T10:00:00.000Z",
            "message": {"role": "user", "content": f"please find the {TEXT} file"},
        },
        {
            **base,
            "type": "assistant",
            "uuid": "a1",
            "parentUuid": "u1",
            "requestId": "r1",
            "timestamp": "2026-01-01T10:00:01.000Z",
            "message": {
                "id": "msg1",
                "role": "assistant",
                "model": "claude-x",
                "content": [
                    {"type": "thinking", "thinking": f"I think {THINKING}"},
                    {
                        "type": "tool_use",
                        "id": "t1",
                        "name": "Bash",
                        "input": {"command": f"ls {TOOL}"},
                    },
                ],
                "usage": {"input_tokens": 10, "output_tokens": 5},
            },
        },
        {
            **base,
            "type": "user",
            "uuid": "u2",
            "parentUuid": "a1",
            "timestamp": "2026-01-01T10:00:02.000Z",
            "message": {
                "role": "user",
                "content": [{"type": "tool_result", "tool_use_id": "t1", "content": "found"}],
            },
        },
    ]


def _codex() -> list[dict[str, Any]]:
    def line(ts: int, kind: str, payload: dict[str, Any]) -> dict[str, Any]:
        return {"timestamp": f"2026-01-01T10:00:0{ts}.000Z", "type": kind, "payload": payload}

    usage = {
        "input_tokens": 100,
        "cached_input_tokens": 40,
        "output_tokens": 7,
        "reasoning_output_tokens": 3,
        "total_tokens": 107,
    }
    return [
        line(
            0,
            "session_meta",
            {
                "id": SID,
                "cwd": "/w/proj",
                "cli_version": "0.146.0",
                "originator": "codex_cli_rs",
                "git": {"branch": "main"},
            },
        ),
        line(0, "turn_context", {"turn_id": "turn-1", "cwd": "/w/proj", "model": "gpt-x"}),
        line(
            1,
            "response_item",
            {
                "type": "message",
                "role": "user",
                "content": [
                    {"type": "input_text", "text": "<environment_context>cwd</environment_context>"}
                ],
            },
        ),
        line(
            1,
            "response_item",
            {
                "type": "message",
                "role": "user",
                "content": [{"type": "input_text", "text": f"please find the {TEXT} file"}],
            },
        ),
        line(1, "event_msg", {"type": "user_message", "message": f"please find the {TEXT} file"}),
        line(
            2,
            "response_item",
            {
                "type": "reasoning",
                "summary": [{"type": "summary_text", "text": f"I think {THINKING}"}],
                "encrypted_content": "gAAAAopaqueopaque",
            },
        ),
        line(
            2,
            "response_item",
            {
                "type": "function_call",
                "name": "shell",
                "call_id": "c1",
                "arguments": json.dumps({"command": ["ls", TOOL]}),
            },
        ),
        line(
            3, "response_item", {"type": "function_call_output", "call_id": "c1", "output": "found"}
        ),
        line(
            4,
            "event_msg",
            {
                "type": "token_count",
                "info": {"total_token_usage": usage, "last_token_usage": usage},
            },
        ),
        line(
            4,
            "event_msg",
            {
                "type": "token_count",
                "info": {"total_token_usage": usage, "last_token_usage": usage},
            },
        ),
    ]


def _gemini_document() -> list[dict[str, Any]]:
    """The older form: the session's fields, then its messages (info items among them)."""
    header, *messages = _gemini()
    header = {key: value for key, value in header.items() if key != "kind"}
    info = {"id": "i1", "timestamp": "2026-01-01T10:00:03.000Z", "type": "info", "content": "ok"}
    # Ids of their own: one message in two files would be counted once (a replay).
    kept = [{**m, "id": f"d{m['id']}"} for m in messages if "$set" not in m]
    return [header, *kept, info]


def _gemini() -> list[dict[str, Any]]:
    return [
        {
            "sessionId": SID,
            "projectHash": "abc123",
            "startTime": "2026-01-01T10:00:00.000Z",
            "lastUpdated": "2026-01-01T10:00:00.000Z",
            "kind": "main",
        },
        {
            "id": "m1",
            "timestamp": "2026-01-01T10:00:01.000Z",
            "type": "user",
            "content": [{"text": f"please find the {TEXT} file"}],
        },
        {"$set": {"lastUpdated": "2026-01-01T10:00:01.000Z"}},
        {
            "id": "m2",
            "timestamp": "2026-01-01T10:00:02.000Z",
            "type": "gemini",
            "content": "",
            "model": "gemini-x",
            "thoughts": [{"subject": "Plan", "description": f"I think {THINKING}"}],
            "toolCalls": [
                {
                    "id": "c1",
                    "name": "run_shell_command",
                    "args": {"command": f"ls {TOOL}"},
                    "status": "success",
                    "result": [
                        {
                            "functionResponse": {
                                "id": "c1",
                                "name": "run_shell_command",
                                "response": {"output": "found"},
                            }
                        }
                    ],
                }
            ],
            "tokens": {
                "input": 100,
                "output": 7,
                "cached": 40,
                "thoughts": 3,
                "tool": 0,
                "total": 110,
            },
        },
    ]


SOURCES = [
    Source("claude-code", "CLAUDE_CODE", f"projects/-w-proj/{SID}.jsonl", _claude()),
    Source("codex", "CODEX", f"sessions/2026/01/01/rollout-2026-01-01-{SID}.jsonl", _codex()),
    Source(
        "gemini-cli", "GEMINI_CLI", f"tmp/abc123/chats/session-2026-01-01-{SID}.jsonl", _gemini()
    ),
    Source(
        "gemini-cli",
        "GEMINI_CLI",
        f"tmp/abc123/chats/session-2026-01-01T10-00-{SID}.json",
        _gemini_document(),
        document=True,
    ),
]
SAMPLES = [
    ("claude-code", FIXTURES / "claude-code" / "short.jsonl"),
    *(("codex", path) for path in sorted((FIXTURES / "codex").glob("*.jsonl"))),
    *(("gemini-cli", path) for path in sorted((FIXTURES / "gemini").glob("*.json*"))),
]


def write(root: Path, source: Source, records: list[dict[str, Any]] | None = None) -> Path:
    path = root / source.relative
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = records if records is not None else source.records
    if source.document:  # as gemini-cli writes it: indented, rewritten whole
        header, *messages = lines
        path.write_text(json.dumps({**header, "messages": messages}, indent=2))
    else:
        path.write_bytes(b"".join(json.dumps(r).encode() + b"\n" for r in lines))
    return path


def original(path: Path) -> list[Any]:
    """The records of a transcript file, as JSON: its lines, or its one document."""
    if path.suffix == ".json":
        return [json.loads(path.read_bytes())]
    return [json.loads(line) for line in path.read_bytes().splitlines()]


@pytest.fixture(params=SOURCES, ids=lambda s: s.id)
def source(request: pytest.FixtureRequest) -> Source:
    result: Source = request.param
    return result


async def export(store: Store, session_id: str, fmt: ExportFormat) -> bytes:
    out = io.BytesIO()
    await export_session(store, session_id, out, fmt)
    return out.getvalue()


def first_session_id(path: Path) -> str:
    for record in original(path):
        if path.suffix == ".json":
            return str(record.get("sessionId", path.stem))
        payload = record.get("payload")
        if record.get("type") == "session_meta" and isinstance(payload, dict):
            return str(payload["id"])
        if "sessionId" in record:
            return str(record["sessionId"])
    raise AssertionError(f"no session id in {path}")


@pytest.mark.parametrize(("name", "path"), SAMPLES, ids=[p.name for _, p in SAMPLES])
async def test_jsonl_export_is_the_original_lines(
    store: Store, tmp_path: Path, name: str, path: Path
) -> None:
    await import_paths(store, [path])
    async with store.read() as reader:
        (row,) = await reader.sessions_by_session_id([first_session_id(path)])
    assert row is not None and row.source == name
    exported = await export(store, row.session_id, ExportFormat.JSONL)
    if path.suffix == ".json":  # the original document, equal as JSON
        assert [json.loads(line) for line in exported.splitlines()] == original(path)
    else:  # the original lines, byte for byte
        assert exported == path.read_bytes()


_EVERY_FIELD = """query($id: ID!) { session(id: $id) { title summary models
  conversations { agentId messages(first: 200) { nodes { ...M } } } } }
fragment M on Message { id uuid role model timestamp counted costUsd text records
  usage { input output cacheRead cacheCreation }
  blocks { __typename ... on TextBlock { text } ... on ThinkingBlock { thinking }
    ... on ToolUseBlock { toolUseId name input }
    ... on ToolResultBlock { toolUseId content rawContent isError }
    ... on ImageBlock { mediaType sourceType sizeBytes }
    ... on UnknownBlock { type data } } }"""


@pytest.mark.parametrize(("name", "path"), SAMPLES, ids=[p.name for _, p in SAMPLES])
async def test_every_field_of_every_sample_message_is_served(
    store: Store, gql: GraphQL, name: str, path: Path
) -> None:
    """Real transcripts hold what no made-up one does (a Codex call whose ``arguments``
    is null): every field of every message of every sample is served without an error."""
    await import_paths(store, [path])
    data = await gql(_EVERY_FIELD, id=first_session_id(path))
    conversations = data["session"]["conversations"]
    assert any(conversation["messages"]["nodes"] for conversation in conversations)


async def test_import_is_idempotent_and_incremental(
    store: Store, tmp_path: Path, source: Source
) -> None:
    half = len(source.records) // 2
    path = write(tmp_path, source, source.records[:half])
    first = await import_paths(store, [tmp_path])
    assert first.sessions_added == 1
    write(tmp_path, source)  # the rest appended (a document: rewritten with the rest)
    second = await import_paths(store, [tmp_path])
    # A document is read whole again; its records already stored are not stored twice.
    read = len(source.records) if source.document else len(source.records) - half
    assert second.files_reset == 0 and second.lines_read == read
    again = await import_paths(store, [tmp_path])
    assert again.files_unchanged == 1 and again.messages_added == again.events_added == 0
    exported = (await export(store, SID, ExportFormat.JSONL)).splitlines()
    assert [json.loads(line) for line in exported] == original(path)
    # The same as one import of the whole file.
    whole = await Store.open(tmp_path / "whole.db")
    try:
        await import_paths(whole, [path])
        async with store.read() as a, whole.read() as b:
            (one,) = await a.sessions_by_session_id([SID])
            (other,) = await b.sessions_by_session_id([SID])
        assert one is not None and other is not None
        assert (one.message_count, one.tokens) == (other.message_count, other.tokens)
        assert one.source == source.name
    finally:
        await whole.close()


@pytest.mark.parametrize("lines", [s for s in SOURCES if not s.document], ids=lambda s: s.id)
async def test_an_append_is_parsed_from_where_reading_stopped(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, lines: Source
) -> None:
    """What the earlier lines carry over (a Codex turn and totals, the order of Gemini's
    messages) is saved with the file's state: the lines are not parsed again."""
    half = len(lines.records) // 2
    path = write(tmp_path, lines, lines.records[:half])
    await import_paths(store, [tmp_path], worker=False)
    write(tmp_path, lines)
    fed: list[int] = []
    feed = TranscriptParser.feed

    def counted(parser: TranscriptParser, line_no: int, raw: bytes) -> None:
        fed.append(line_no)
        feed(parser, line_no, raw)

    monkeypatch.setattr(TranscriptParser, "feed", counted)
    await import_paths(store, [tmp_path], worker=False)
    assert fed == list(range(half + 1, len(lines.records) + 1))
    exported = (await export(store, SID, ExportFormat.JSONL)).splitlines()
    assert [json.loads(line) for line in exported] == original(path)


async def test_a_subscriber_gets_what_is_appended(
    store: Store, tmp_path: Path, source: Source
) -> None:
    """The change feed (what `sessionActivity` subscriptions are served from) delivers
    the messages a later import adds, in the order they were written."""
    half = len(source.records) // 2
    write(tmp_path, source, source.records[:half])
    await import_paths(store, [tmp_path])
    async with store.read() as reader:
        (before,) = await reader.sessions_by_session_id([SID])
    assert before is not None
    feed = ChangeFeed(store.path, poll_seconds=3600)  # ticks driven by the test
    await feed.start()
    try:
        subscriber = feed.subscribe(Subscriber(session_pk=before.id, wants_sessions=False))
        write(tmp_path, source)  # the rest appended (a document: rewritten with the rest)
        await import_paths(store, [tmp_path])
        assert await feed.tick() > 0
        delivered = []
        while not subscriber.queue.empty():
            delivered.append(subscriber.queue.get_nowait())
    finally:
        await feed.close()
    async with store.read() as reader:
        (after,) = await reader.sessions_by_session_id([SID])
    assert after is not None
    activities = [item for item in delivered if isinstance(item, Activity)]
    assert [a.change.seq for a in activities] == sorted(a.change.seq for a in activities)
    new = {a.row.id for a in activities if isinstance(a.row, MessageRow)}
    assert len(new) >= after.message_count - before.message_count > 0


_SEARCH = """query($q: String!, $source: SessionSource) {
  search(query: $q, filter: {source: $source}, scopes: [MESSAGES]) { totalCount }
}"""


@pytest.mark.parametrize("word", [TEXT, THINKING, TOOL])
async def test_search_finds_text_thinking_and_tool_input(
    store: Store, gql: GraphQL, tmp_path: Path, source: Source, word: str
) -> None:
    write(tmp_path, source)
    await import_paths(store, [tmp_path])
    found = await gql(_SEARCH, q=word, source=source.enum)
    assert found["search"]["totalCount"] == 1  # once: Codex's UI echo is not a second hit
    other = next(s for s in SOURCES if s.name != source.name)
    assert (await gql(_SEARCH, q=word, source=other.enum))["search"]["totalCount"] == 0


async def test_session_carries_its_source_and_resume_command(
    store: Store, gql: GraphQL, tmp_path: Path, source: Source
) -> None:
    write(tmp_path, source)
    await import_paths(store, [tmp_path])
    data = await gql(
        "query($s: SessionSource) { sessions(first: 5, filter: {source: $s}) "
        "{ nodes { source sessionId resumeCommand title } } }",
        s=source.enum,
    )
    (node,) = data["sessions"]["nodes"]
    assert node["source"] == source.enum and node["sessionId"] == SID
    command = {
        "CLAUDE_CODE": "claude --resume",
        "CODEX": "codex resume",
        "GEMINI_CLI": "gemini --resume",
    }[source.enum]
    assert command in node["resumeCommand"]
    assert node["title"] == f"please find the {TEXT} file"  # not Codex's environment context


async def test_markdown_export_reads_the_conversation(
    store: Store, tmp_path: Path, source: Source
) -> None:
    write(tmp_path, source)
    await import_paths(store, [tmp_path])
    markdown = (await export(store, SID, ExportFormat.MARKDOWN)).decode()
    assert TEXT in markdown and TOOL in markdown


async def test_nothing_of_any_source_is_readable_encrypted(tmp_path: Path, source: Source) -> None:
    write(tmp_path / "in", source)
    db = tmp_path / "sealed.db"
    sealed = await Store.open(db, key=KeyMaterial(key=MasterKey(bytes(range(32)))))
    try:
        summary = await import_paths(sealed, [tmp_path / "in"])
        assert summary.messages_added > 0
    finally:
        await sealed.close()
    raw = b"".join(p.read_bytes() for p in tmp_path.glob("sealed.db*"))
    for word in (TEXT, THINKING, TOOL, "opaque"):
        assert word.encode() not in raw


async def test_statement_count_of_a_session_page_does_not_grow(
    store: Store, tmp_path: Path, source: Source
) -> None:
    """The session list with messages costs the same statements for 1 session as for 3."""
    query = (
        "{ sessions(first: 10) { nodes { source title messages(first: 5) "
        "{ nodes { role text } } } } }"
    )
    async with api_client(store) as client:
        counts = []
        for n in (1, 3):
            for i in range(n):
                records = json.loads(json.dumps(source.records).replace(SID, f"{SID[:-1]}{i}"))
                shifted = Source(
                    source.name, source.enum, source.relative.replace(SID, f"x{i}"), records
                )
                write(tmp_path / f"run{n}", shifted)
            await import_paths(store, [tmp_path / f"run{n}"])
            before = store.statements.count
            response = await client.post("/graphql", json={"query": query})
            assert "errors" not in response.json()
            counts.append(store.statements.count - before)
        assert counts[0] == counts[1]


async def test_watch_imports_what_is_appended(store: Store, tmp_path: Path, source: Source) -> None:
    half = len(source.records) // 2
    write(tmp_path, source, source.records[:half])
    stop, ready = asyncio.Event(), asyncio.Event()
    task = asyncio.create_task(watch_paths(store, [tmp_path], stop=stop, ready=ready))

    async def messages() -> int:
        async with store.read() as reader:
            (row,) = await reader.sessions_by_session_id([SID])
        return row.message_count if row is not None else 0

    try:
        await asyncio.wait_for(ready.wait(), 10)
        before = await messages()
        write(tmp_path, source)  # the rest appended
        await wait_for(lambda: _more(messages, before))
    finally:
        stop.set()
        await asyncio.wait_for(task, 10)


async def _more(count: Callable[[], Awaitable[int]], than: int) -> bool:
    return await count() > than


async def test_usage_is_grouped_and_filtered_by_source(
    store: Store, gql: GraphQL, tmp_path: Path
) -> None:
    for source in SOURCES:
        # One session id per agent: the same id from two agents is refused.
        records = json.loads(json.dumps(source.records).replace(SID, f"{source.id}-1"))
        write(tmp_path, source, records)
    await import_paths(store, [tmp_path])
    data = await gql(
        "{ usage(groupBy: [SOURCE]) { nodes { source sessionCount tokenUsage { output } } } }"
    )
    rows = {row["source"]: row for row in data["usage"]["nodes"]}
    assert set(rows) == {"claude-code", "codex", "gemini-cli"}
    assert all(
        row["sessionCount"] == sum(s.name == row["source"] for s in SOURCES)
        and row["tokenUsage"]["output"] > 0
        for row in rows.values()
    )
    only = await gql(
        '{ usage(groupBy: [SOURCE], filter: {sources: ["codex"]}) { nodes { source } } }'
    )
    assert [row["source"] for row in only["usage"]["nodes"]] == ["codex"]


def test_the_cli_lists_and_searches_by_source(tmp_path: Path) -> None:
    for source in SOURCES:
        records = json.loads(json.dumps(source.records).replace(SID, f"{source.id}-1"))
        write(tmp_path / "in", source, records)
    db = str(tmp_path / "x.db")
    assert runner.invoke(cli, ["import", str(tmp_path / "in"), "--db", db]).exit_code == 0
    listed = runner.invoke(cli, ["sessions", "--source", "codex", "--json", "--db", db])
    assert [s["sessionId"] for s in json.loads(listed.stdout)] == ["codex-1"]
    found = runner.invoke(cli, ["search", TEXT, "--source", "gemini-cli", "--json", "--db", db])
    assert found.exit_code == 0 and "gemini-cli-1" in found.stdout and "codex-1" not in found.stdout
