"""What a new user meets first (#14): the link that works, `/`, a busy port, the version."""

from __future__ import annotations

import asyncio
import json
import re
import shutil
import socket
from pathlib import Path

import httpx
import pytest
from graphql import ExecutionResult
from typer.testing import CliRunner

from graph import __version__
from graph.app import create_app
from graph.cli import app
from graph.cli.help import COMMAND_ORDER
from graph.schema import Context, build_schema
from graph.settings import ServerSettings

runner = CliRunner()


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / ".config"))
    monkeypatch.delenv("SESSIONGRAPH_TOKEN", raising=False)
    return tmp_path


async def test_the_root_leads_to_graphiql(client: httpx.AsyncClient) -> None:
    response = await client.get("/")
    assert response.status_code in (302, 307)
    assert response.headers["location"] == "/graphql"


def test_token_prints_a_working_link_every_time_and_rotates(home: Path) -> None:
    first = runner.invoke(app, ["token"])
    assert first.exit_code == 0
    stored = (home / ".config" / "sessiongraph" / "token").read_text().strip()
    assert first.stdout.strip() == f"http://127.0.0.1:8000/graphql#token={stored}"
    assert runner.invoke(app, ["token", "--port", "9000"]).stdout.strip().endswith(stored)
    rotated = runner.invoke(app, ["token", "--rotate"])
    assert rotated.exit_code == 0 and "restart `serve`" in rotated.stderr
    new = (home / ".config" / "sessiongraph" / "token").read_text().strip()
    assert new != stored and rotated.stdout.strip().endswith(f"#token={new}")
    assert (home / ".config" / "sessiongraph" / "token").stat().st_mode & 0o777 == 0o600


def test_a_busy_port_is_one_line_before_anything_is_printed(home: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = runner.invoke(app, ["serve", "--port", str(port), "--db", str(home / "x.db")])
    assert result.exit_code != 0
    errors = [line for line in result.stderr.splitlines() if "error" in line]
    assert len(errors) == 1 and "another program has it" in errors[0]
    assert "open http" not in result.stderr


def test_version(home: Path) -> None:
    result = runner.invoke(app, ["--version"])
    assert (result.exit_code, result.stdout.strip()) == (0, f"sessiongraph {__version__}")


def test_import_without_claude_projects_points_to_the_demo(home: Path) -> None:
    result = runner.invoke(app, ["import", "--db", str(home / "x.db")])
    assert result.exit_code != 0
    assert "sessiongraph demo" in result.stderr and result.stderr.count("\n") == 1


def test_serve_watch_leaves_the_prompt_history_to_import(home: Path) -> None:
    """With no paths, `serve --watch` watches each agent's folder but not Claude Code's
    prompt history, which the watcher read as a transcript: one bogus session."""
    from graph.cli.serve import _watched

    projects, history = home / ".claude" / "projects", home / ".claude" / "history.jsonl"
    projects.mkdir(parents=True)
    history.write_text('{"display": "hi", "timestamp": 1, "sessionId": "s"}\n')
    assert _watched(True, None) == (projects,)


async def test_serve_watch_shows_an_appended_line_to_a_subscriber(
    tmp_path: Path, samples_dir: Path
) -> None:
    projects = tmp_path / "projects" / "-home-dev-app"
    projects.mkdir(parents=True)
    transcript = projects / "5e55-0000.jsonl"
    shutil.copy(samples_dir / "short.jsonl", transcript)
    session_id = next(
        json.loads(line)["sessionId"]
        for line in transcript.read_text().splitlines()
        if "sessionId" in json.loads(line)
    )
    app = create_app(tmp_path / "s.db", server=ServerSettings(watch=(tmp_path / "projects",)))
    async with app.router.lifespan_context(app):
        store = app.state.store
        for _ in range(600):  # the watcher's first scan imports what is there
            async with store.read() as reader:
                if (await reader.sessions_by_session_id([session_id]))[0] is not None:
                    break
            await asyncio.sleep(0.1)
        else:
            raise AssertionError("the watcher did not import the transcript in 60 s")
        # The watcher has finished its first scan and follows the file from here on.
        await asyncio.sleep(1.0)
        context = Context(
            store=store, settings=ServerSettings(), request_id="t", feed=app.state.feed
        )
        subscription = await build_schema().subscribe(
            "subscription($s: ID!) { sessionActivity(sessionId: $s) { node {"
            " ... on Event { type data } } } }",
            variable_values={"s": session_id},
            context_value=context,
        )
        assert not isinstance(subscription, ExecutionResult)
        pending = asyncio.ensure_future(anext(subscription))
        for _ in range(300):  # subscribed before the line is written
            if app.state.feed.subscribers():
                break
            await asyncio.sleep(0.1)
        line = {
            "type": "system",
            "subtype": "note",
            "sessionId": session_id,
            "uuid": "live-1",
            "timestamp": "2026-03-01T00:00:00.000Z",
            "content": "live!",
        }
        with transcript.open("a") as handle:
            handle.write(json.dumps(line) + "\n")
        result = await asyncio.wait_for(pending, timeout=30)
        assert result.data is not None
        assert result.data["sessionActivity"]["node"]["data"]["content"] == "live!"
        await subscription.aclose()


@pytest.fixture
def demo_db(tmp_path: Path) -> Path:
    db = tmp_path / "demo.db"
    assert runner.invoke(app, ["demo", "--db", str(db)]).exit_code == 0
    return db


@pytest.mark.parametrize("since", ["yesterday", "2026-13-01"])
def test_a_since_that_is_no_date_is_one_line_naming_the_option(demo_db: Path, since: str) -> None:
    """Not the API's refusal, which named a GraphQL variable ($filter.startedAfter)."""
    result = runner.invoke(app, ["sessions", "--db", str(demo_db), "--since", since])
    assert result.exit_code == 1
    assert result.stderr == (
        f"sessiongraph: error: --since takes a date or time, ISO 8601 (2026-03-01), got {since!r}\n"
    )


def test_sessions_lists_newest_first_and_as_json(demo_db: Path) -> None:
    listed = json.loads(runner.invoke(app, ["sessions", "--db", str(demo_db), "--json"]).stdout)
    started = [s["startedAt"] for s in listed]
    assert len(listed) == 4 and started == sorted(started, reverse=True)
    table = runner.invoke(app, ["sessions", "--db", str(demo_db), "--limit", "2"]).stdout
    assert "2 of 4 sessions" in table and listed[0]["sessionId"][:6] in table
    since = runner.invoke(
        app, ["sessions", "--db", str(demo_db), "--json", "--since", "2026-02-11"]
    ).stdout
    assert [s["sessionId"] for s in json.loads(since)] == [listed[0]["sessionId"]]


def test_the_sessions_table_keeps_every_column_in_80_columns(demo_db: Path) -> None:
    """rich drops whole columns rather than cut a long title: the title is the one cut."""
    env = {"COLUMNS": "80", "NO_COLOR": "1"}
    table = runner.invoke(app, ["sessions", "--db", str(demo_db)], env=env).stdout
    header = table.splitlines()[1].split()
    assert header == ["id", "started", "msgs", "tokens", "project", "title"]
    assert all(len(line) <= 80 for line in table.splitlines())
    assert "17.0M" in table  # token counts compact; --json has them exact


def test_a_unique_prefix_names_a_session_and_an_ambiguous_one_lists_them(
    demo_db: Path, tmp_path: Path
) -> None:
    listed = json.loads(runner.invoke(app, ["sessions", "--db", str(demo_db), "--json"]).stdout)
    full = listed[0]["sessionId"]
    shown = runner.invoke(app, ["show", full[:5], "--db", str(demo_db)])
    assert shown.exit_code == 0 and f"- **Session:** `{full}`" in shown.stdout
    exported = runner.invoke(app, ["export", full[:6], "--db", str(demo_db)])
    assert exported.exit_code == 0 and full in exported.stdout
    missing = runner.invoke(app, ["show", "zzz", "--db", str(demo_db)])
    assert missing.exit_code != 0 and "no session 'zzz'" in missing.stderr
    # Two sessions whose ids start alike: the prefix is refused, and both are named.
    twins = tmp_path / "twins"
    twins.mkdir()
    for n in (1, 2):
        (twins / f"abc{n}.jsonl").write_text(
            json.dumps(
                {
                    "type": "user",
                    "sessionId": f"abc-{n}",
                    "uuid": f"u{n}",
                    "timestamp": "2026-01-01T00:00:00.000Z",
                    "message": {"role": "user", "content": "hi"},
                }
            )
            + "\n"
        )
    assert runner.invoke(app, ["import", str(twins), "--db", str(demo_db)]).exit_code == 0
    both = runner.invoke(app, ["show", "abc", "--db", str(demo_db)])
    assert both.exit_code != 0 and "abc-1" in both.stderr and "abc-2" in both.stderr


# --help


def test_help_groups_commands_in_the_order_a_new_user_needs_them() -> None:
    result = runner.invoke(app, ["--help"], env={"COLUMNS": "80", "NO_COLOR": "1"})
    assert result.exit_code == 0
    panels = [line.split()[1] for line in result.stdout.splitlines() if line.startswith("╭─")]
    assert panels == ["Options", "Serving", "Importing", "Reading", "Keys", "Maintenance"]
    commands = [
        line.split()[1]
        for line in result.stdout.splitlines()
        if line.startswith("│ ") and len(line) > 2 and line[2] != " " and line[2:4] != "--"
    ]
    # In COMMAND_ORDER: what a new user needs first (serving, importing, reading) leads.
    assert commands == [name for name in COMMAND_ORDER if name in commands]
    assert commands[:5] == ["serve", "token", "mcp", "import", "demo"]


@pytest.mark.parametrize(
    "command", ["import", "export", "serve", "token", "sessions", "search", "backup", "usage"]
)
def test_help_text_has_no_markup_eaten(command: str) -> None:
    """A bracketed "[default: ...]" in help text is rich markup: it vanished, leaving " ."."""
    result = runner.invoke(app, [command, "--help"], env={"COLUMNS": "80", "NO_COLOR": "1"})
    assert result.exit_code == 0
    assert not re.search(r"\w \.(\s|$)", result.stdout, re.MULTILINE), result.stdout
    assert all(len(line) <= 80 for line in result.stdout.splitlines())
