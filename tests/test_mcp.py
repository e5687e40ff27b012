"""``sessiongraph mcp``, driven by the MCP SDK's own client over stdio, and ``mcp install``."""

from __future__ import annotations

import asyncio
import json
import os
import re
import sqlite3
import stat
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
import pytest_asyncio
from typer.testing import CliRunner

from graph.cli import app
from graph.importers.history import import_history
from graph.importers.importer import import_paths
from graph.keys import write_key_file
from graph.store import Store
from graph.store.keyring import KeyMaterial
from tests.conftest import FIXTURES
from tests.test_import_support import MAIN, write_lines

if TYPE_CHECKING:
    # Imported where used: the MCP SDK takes over a second to import, and every test
    # process collects this module, not only the one that runs it.
    from mcp import ClientSession
    from mcp.types import CallToolResult

runner = CliRunner()
SHORT = "55604662-cf2a-4331-851a-ec234028f8ca"  # short.jsonl
GONE = "9e1c2d3f-0000-4000-8000-00000000d0e5"
MORE = re.compile(r'\n---\nMore of this session: call get_session with cursor="([^"]+)"\n$')


async def fill(db: Path, samples_dir: Path, tmp_path: Path, key: KeyMaterial | None = None) -> None:
    """The sample sessions, and one session known only from the prompt history."""
    history = tmp_path / "history.jsonl"
    write_lines(
        history,
        [
            {
                "display": "rotate the payments webhook secret",
                "pastedContents": {},
                "timestamp": 1_760_000_000_000,
                "project": "/home/me/payments",
                "sessionId": GONE,
            }
        ],
    )
    store = await Store.open(db, key=key)
    try:
        await import_paths(store, [samples_dir])
        await import_history(store, history)
    finally:
        await store.close()


@asynccontextmanager
async def connected(home: Path, *args: str) -> AsyncIterator[ClientSession]:
    """A client session with ``sessiongraph mcp ARGS`` started as an MCP client starts it."""
    from mcp import ClientSession, StdioServerParameters, stdio_client

    env = {k: v for k, v in os.environ.items() if not k.startswith("SESSIONGRAPH_")}
    env["HOME"] = str(home)
    params = StdioServerParameters(
        command=sys.executable, args=["-m", "graph", "mcp", *args], env=env
    )
    with open(os.devnull, "w") as errlog:  # noqa: ASYNC230 - opening /dev/null does not block
        async with (
            stdio_client(params, errlog=errlog) as (read, write),
            ClientSession(read, write) as session,
        ):
            await session.initialize()
            yield session


# The tools only read: the tests that read the samples share one filled database and one
# server on it (started once: a server takes seconds to import the MCP SDK).
on_the_module_loop = pytest.mark.asyncio(loop_scope="module")


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def served(
    tmp_path_factory: pytest.TempPathFactory,
) -> AsyncIterator[tuple[Path, ClientSession]]:
    """The samples' database, and a client session with ``sessiongraph mcp`` serving it."""
    tmp = tmp_path_factory.mktemp("mcp")
    home = tmp / "home"
    home.mkdir()
    db = tmp / "s.db"
    await fill(db, FIXTURES / "claude-code", tmp)
    # The client's task group must be left by the task that entered it, and pytest-asyncio
    # runs a fixture's setup and teardown as two tasks: one task holds the connection.
    ready: asyncio.Future[ClientSession] = asyncio.get_running_loop().create_future()
    done = asyncio.Event()

    async def hold() -> None:
        async with connected(home, "--db", str(db)) as session:
            ready.set_result(session)
            await done.wait()

    holder = asyncio.create_task(hold())
    either: list[asyncio.Future[Any]] = [ready, holder]
    await asyncio.wait(either, return_when=asyncio.FIRST_COMPLETED)
    if not ready.done():
        holder.result()  # raises why the server did not start
    try:
        yield db, ready.result()
    finally:
        done.set()
        await holder


def text(result: CallToolResult) -> str:
    from mcp.types import TextContent

    [content] = result.content
    assert isinstance(content, TextContent)
    return content.text


async def call(session: ClientSession, tool: str, **arguments: Any) -> str:
    result = await session.call_tool(tool, arguments)
    assert not result.is_error, text(result)
    return text(result)


@on_the_module_loop
async def test_tools_are_listed_read_only_and_described_for_an_agent(
    served: tuple[Path, ClientSession],
) -> None:
    _, session = served
    tools = {tool.name: tool for tool in (await session.list_tools()).tools}
    assert set(tools) == {"search", "list_sessions", "get_session", "usage"}
    for tool in tools.values():
        assert tool.annotations is not None and tool.annotations.read_only_hint is True
        assert tool.description and len(tool.description) > 200
    assert "get_session" in (tools["search"].description or "")
    assert set(tools["search"].input_schema["properties"]) == {
        "query",
        "project",
        "since",
        "session_id",
        "limit",
        "cursor",
    }
    assert tools["search"].input_schema["required"] == ["query"]

    # search: hits with snippet, session id, time and the command that resumes it.
    found = await call(session, "search", query="bd show spotter-4te")
    assert f"session {MAIN}" in found and "user message" in found
    cwd = "/home/USER/projects/spotter-worktrees/spotter-4te"
    assert f"resume: cd {cwd} && claude --resume {MAIN}" in found
    assert re.search(r"\d{4}-\d\d-\d\d \d\d:\d\d", found)
    # The prompt of a session whose transcript is gone is found too.
    found = await call(session, "search", query="webhook secret", project="/home/me/payments")
    assert f"session {GONE}" in found and "prompt history only" in found
    assert await call(session, "search", query="webhook", since="2030-01-01") == (
        "No hits for 'webhook'."
    )

    # list_sessions: newest first, filtered, paged with a cursor.
    listed = await call(session, "list_sessions", project="/home/marco/projects/spotter")
    assert SHORT in listed and MAIN not in listed and GONE not in listed
    assert "/home/marco/projects/spotter (master)" in listed
    first = await call(session, "list_sessions", limit=1)
    cursor = re.search(r'cursor="([^"]+)"', first)
    assert cursor is not None
    second = await call(session, "list_sessions", limit=1, cursor=cursor.group(1))
    ids = re.findall(r"session (\S+)", first + second)
    assert len(ids) == len(set(ids)) == 2

    # get_session: the facts and the transcript as markdown.
    page = await call(session, "get_session", session_id=SHORT)
    assert page.startswith("# ") and f"- **Session:** `{SHORT}`" in page
    assert "## Main conversation" in page and "### User · " in page
    assert page.endswith("*(end of the transcript)*\n")


@on_the_module_loop
async def test_large_sessions_come_in_bounded_pages_that_add_up_to_the_transcript(
    served: tuple[Path, ClientSession],
) -> None:
    _, session = served
    whole = await call(session, "get_session", session_id=MAIN, max_chars=100_000)
    pages, cursor = [], None
    while True:
        args: dict[str, Any] = {"session_id": MAIN, "max_chars": 5_000}
        if cursor:
            args["cursor"] = cursor
        page = await call(session, "get_session", **args)
        found = MORE.search(page)
        pages.append(page[: found.start()] if found else page)
        assert len(pages[-1]) <= 5_000 + 300  # a heading or a cut note may go past
        if found is None:
            break
        cursor = found.group(1)
    assert len(pages) > 10
    assert "## Subagent `aac57f5`" in "".join(pages)
    cut = re.compile(r"\n… \*\(cut here; the next page goes on\)\*\n")
    joined = cut.sub("", "".join(pages))
    first_page_of_whole = cut.sub("", whole.split("\n---\nMore of this session")[0])
    assert joined.startswith(first_page_of_whole)
    assert joined.endswith("*(end of the transcript)*\n")


@on_the_module_loop
async def test_bad_arguments_are_tool_errors_and_the_server_carries_on(
    served: tuple[Path, ClientSession],
) -> None:
    _, session = served
    bad: list[tuple[str, dict[str, Any], str]] = [
        ("search", {"query": 'unbalanced "quote'}, "quote"),
        ("search", {"query": "x", "limit": 0}, "limit"),
        ("search", {"query": "x", "since": "last tuesday"}, "since"),
        ("search", {"query": "x", "cursor": "not-a-cursor"}, "cursor"),
        ("search", {}, "query"),
        ("list_sessions", {"limit": "many"}, "limit"),
        ("get_session", {"session_id": "no-such-session"}, "no session with id"),
        ("get_session", {"session_id": MAIN, "cursor": "garbage"}, "cursor"),
        ("get_session", {"session_id": MAIN, "max_chars": 10}, "max_chars"),
        ("no_such_tool", {}, "no_such_tool"),
    ]
    for tool, arguments, word in bad:
        result = await session.call_tool(tool, arguments)
        assert result.is_error, (tool, arguments)
        assert word in text(result).lower() or word in text(result), (tool, text(result))
        assert "Traceback" not in text(result)
    # A cursor of one session is refused for another.
    page = await call(session, "get_session", session_id=MAIN, max_chars=1_000)
    cursor = re.search(r'cursor="([^"]+)"', page)
    assert cursor is not None
    other = await session.call_tool("get_session", {"session_id": SHORT, "cursor": cursor[1]})
    assert other.is_error and "not given for session" in text(other)
    assert SHORT in await call(session, "list_sessions")


async def test_an_encrypted_database_is_served_with_the_default_key_file(
    home: Path, samples_dir: Path, tmp_path: Path
) -> None:
    key = write_key_file(home / ".config" / "sessiongraph" / "key")
    db = tmp_path / "sealed.db"
    await fill(db, samples_dir, tmp_path, KeyMaterial(key=key))
    async with connected(home, "--db", str(db)) as session:
        found = await call(session, "search", query="bd show spotter-4te")
        assert f"session {MAIN}" in found and "Run bd show spotter-4te" in found
        page = await call(session, "get_session", session_id=GONE)
        assert "rotate the payments webhook secret" in page and "prompt history" in page


async def test_a_title_that_does_not_authenticate_leaves_the_rest_served(
    home: Path, samples_dir: Path, tmp_path: Path
) -> None:
    """One session's sealed title moved onto another's: both tools still answer (that
    title left out), where the first error used to fail the whole call."""
    key = write_key_file(home / ".config" / "sessiongraph" / "key")
    db = tmp_path / "sealed.db"
    await fill(db, samples_dir, tmp_path, KeyMaterial(key=key))
    with sqlite3.connect(db) as conn:
        [(moved,)] = conn.execute("SELECT title FROM sessions WHERE session_id = ?", (SHORT,))
        assert moved is not None
        conn.execute("UPDATE sessions SET title = ? WHERE session_id = ?", (moved, MAIN))
    async with connected(home, "--db", str(db)) as session:
        listed = await call(session, "list_sessions")
        assert f"(untitled) · session {MAIN}" in listed and SHORT in listed
        found = await call(session, "search", query="bd show spotter-4te")
        assert f"(untitled) · session {MAIN}" in found and "Run bd show spotter-4te" in found


async def test_every_output_is_bounded_whatever_a_session_holds(home: Path, tmp_path: Path) -> None:
    """A 240 KB custom title, a 320 KB summary and a 5 KB branch: each tool's answer stays
    near its bound (get_session's max_chars; a listing's lines), where they were served
    whole (get_session at max_chars=1000 answered 565,658 characters)."""
    sid = "b16b16b1-0000-4000-8000-000000000001"
    base = {"sessionId": sid, "cwd": "/w/big", "gitBranch": "b" * 5_000, "version": "2.0.0"}
    write_lines(
        tmp_path / "projects" / "-w-big" / f"{sid}.jsonl",
        [
            {
                **base,
                "type": "user",
                "uuid": "u1",
                "timestamp": "2026-01-01T10:00:00.000Z",
                "message": {"role": "user", "content": "find the elephant"},
            },
            {"type": "custom-title", "customTitle": "elephant " * 26_000, "sessionId": sid},
            {"type": "summary", "summary": "mammoth " * 40_000, "leafUuid": "u1"},
        ],
    )
    db = tmp_path / "big.db"
    store = await Store.open(db)
    try:
        await import_paths(store, [tmp_path / "projects"])
    finally:
        await store.close()
    async with connected(home, "--db", str(db)) as session:
        page = await call(session, "get_session", session_id=sid, max_chars=1_000)
        assert "elephant" in page and len(page) < 1_500
        assert len(await call(session, "list_sessions", limit=5)) < 2_000
        assert len(await call(session, "search", query="elephant")) < 2_000


def test_mcp_install_writes_the_entry_claude_mcp_add_would(
    home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path / "empty-bin"))  # no `claude` here
    config = home / ".claude.json"
    config.write_text(json.dumps({"numStartups": 7, "mcpServers": {"other": {"command": "x"}}}))
    db = tmp_path / "s.db"
    result = runner.invoke(app, ["mcp", "install", "--db", str(db)])
    assert result.exit_code == 0, result.stderr
    assert f"registered `sessiongraph` in {config}" in result.stdout
    assert "claude mcp add --scope user sessiongraph -- " in result.stdout
    saved = json.loads(config.read_text())
    assert saved["numStartups"] == 7 and saved["mcpServers"]["other"] == {"command": "x"}
    assert saved["mcpServers"]["sessiongraph"] == {
        "type": "stdio",
        "command": sys.executable,
        "args": ["-P", "-m", "graph", "mcp", "--db", str(db)],
        "env": {},
    }
    result = runner.invoke(app, ["mcp", "install", "--db", str(db)])
    assert "already registered" in result.stdout

    project = tmp_path / "proj"
    project.mkdir()
    result = runner.invoke(app, ["mcp", "install", "--scope", "project", "--project", str(project)])
    assert result.exit_code == 0, result.stderr
    assert "sessiongraph" in json.loads((project / ".mcp.json").read_text())["mcpServers"]


def test_mcp_install_runs_claude_mcp_add_when_claude_is_there(
    home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    record = tmp_path / "claude-args"
    fake = bin_dir / "claude"
    fake.write_text(f'#!/bin/sh\nprintf "%s\\n" "$@" > {record}\necho "Added stdio MCP server"\n')
    fake.chmod(fake.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("PATH", str(bin_dir))
    result = runner.invoke(app, ["mcp", "install", "--db", str(tmp_path / "s.db")])
    assert result.exit_code == 0, result.stderr
    assert result.stdout.startswith("ran: claude mcp add --scope user sessiongraph -- ")
    assert record.read_text().split("\n")[:6] == [
        "mcp",
        "add",
        "--scope",
        "user",
        "sessiongraph",
        "--",
    ]
    assert not (home / ".claude.json").exists()


async def test_secrets_are_masked_in_every_tool_output(home: Path, tmp_path: Path) -> None:
    """As over GraphQL: a credential in a transcript never comes out of a tool whole."""
    from tests.secret_canaries import AWS, GITHUB, SESSION_ID, write_transcript

    db = tmp_path / "s.db"
    store = await Store.open(db)
    try:
        await import_paths(store, [write_transcript(tmp_path / "projects")])
    finally:
        await store.close()
    async with connected(home, "--db", str(db)) as session:
        page = await call(session, "get_session", session_id=SESSION_ID, max_chars=100_000)
        found = await call(session, "search", query="deploy")
        listed = await call(session, "list_sessions")
    for output in (page, found, listed):
        assert AWS not in output and GITHUB not in output
    assert "[REDACTED:" in page


@on_the_module_loop
async def test_usage_reports_tokens_and_cost_like_the_api(
    served: tuple[Path, ClientSession],
) -> None:
    from graph.schema import Context, build_schema
    from graph.settings import ServerSettings

    db, session = served
    by_model = await call(session, "usage", group_by=["model"], time_zone="UTC")
    refused = await session.call_tool("usage", {"group_by": ["colour"]})
    store = await Store.open(db)
    try:
        result = await build_schema().execute(
            "{ usage(groupBy: [MODEL]) { totalCount totals { tokenUsage { total } } } }",
            context_value=Context(store=store, settings=ServerSettings(), request_id="t"),
        )
    finally:
        await store.close()
    assert result.data is not None
    usage = result.data["usage"]
    assert by_model.startswith(f"{usage['totalCount']} groups by model:")
    assert f"- total: {usage['totals']['tokenUsage']['total']:,} tokens" in by_model
    assert "claude-" in by_model and "$" in by_model
    assert refused.is_error and "cannot group by colour" in text(refused)
