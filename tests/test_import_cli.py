"""The import, export and demo commands, and --watch (in a task and as a process)."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner

from graph.cli import app
from graph.demo import ARCHIVE_NAME, archive_bytes, build_archive
from graph.importers.summary import ImportSummary
from graph.importers.watch import watch_paths
from graph.store import Store
from tests.test_import_support import MAIN, copy_samples, query, records, write_lines

runner = CliRunner()
SESSIONGRAPH = Path(sys.executable).with_name("sessiongraph")


def invoke(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


@pytest.mark.parametrize("command", ["import", "export", "demo"])
def test_commands_explain_themselves(command: str) -> None:
    code, out, _ = invoke(command, "--help")
    assert code == 0 and "Usage" in out


def test_import_prints_a_summary_and_json_for_scripts(samples_dir: Path, tmp_path: Path) -> None:
    db = str(tmp_path / "x.db")
    code, out, err = invoke("import", str(samples_dir), "--db", db)
    assert code == 0, err
    assert "messages added" in out and "538" in out and "1,811" in out
    code, out, _ = invoke("import", str(samples_dir), "--db", db, "--json")
    assert code == 0
    summary = json.loads(out)
    assert summary["files"] == summary["filesUnchanged"] == 6
    assert summary["messagesAdded"] == summary["linesRead"] == 0


def test_import_reports_bad_lines_with_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "s.jsonl"
    write_lines(path, [{"type": "system", "sessionId": "s"}, "nope", {"type": "x"}])
    code, out, _ = invoke("import", str(path), "--db", str(tmp_path / "x.db"), "--json")
    summary = json.loads(out)
    assert code == 0 and summary["linesSkipped"] == 1 and summary["eventsAdded"] == 2
    assert summary["problems"][0]["path"] == str(path) and summary["problems"][0]["line"] == 2
    code, out, _ = invoke("import", str(path), "--db", str(tmp_path / "y.db"))
    assert f"{path}:2: not JSON" in out


@pytest.mark.parametrize(
    ("target", "message"),
    [
        ("missing", "missing: no such file or directory"),
        ("empty", "empty: no transcripts (*.jsonl) found"),
    ],
)
def test_import_of_a_path_without_transcripts_is_one_line(
    tmp_path: Path, target: str, message: str
) -> None:
    (tmp_path / "empty").mkdir()
    code, out, err = invoke("import", str(tmp_path / target), "--db", str(tmp_path / "x.db"))
    assert code == 1 and out == ""
    assert err.count("\n") == 1 and err.startswith("sessiongraph: error:") and message in err


def test_import_defaults_to_claude_projects_in_home(samples_dir: Path, tmp_path: Path) -> None:
    home = tmp_path / "home"
    db = str(tmp_path / "x.db")
    result = runner.invoke(app, ["import", "--db", db], env={"HOME": str(home)})
    assert result.exit_code == 1
    assert result.stderr == (
        "sessiongraph: error: no transcripts found where the agents keep them "
        f"({home}/.claude/projects (Claude Code), {home}/.codex/sessions (Codex CLI), "
        f"{home}/.gemini/tmp (Gemini CLI)): pass the folder of yours, or try "
        "`sessiongraph demo` for sample sessions\n"
    )
    copy_samples(samples_dir, home / ".claude" / "projects" / "-some-project")
    result = runner.invoke(app, ["import", "--db", db, "--json"], env={"HOME": str(home)})
    assert result.exit_code == 0 and json.loads(result.stdout)["sessionsAdded"] == 4


def test_an_empty_default_folder_is_said_and_does_not_stop_the_others(
    samples_dir: Path, tmp_path: Path
) -> None:
    home = tmp_path / "home"
    (home / ".claude" / "projects").mkdir(parents=True)  # Claude Code installed, unused
    (home / ".codex" / "archived_sessions").mkdir(parents=True)
    codex = home / ".codex" / "sessions" / "2026" / "01" / "01"
    codex.mkdir(parents=True)
    (codex / "rollout-2026-01-01T10-00-00-s.jsonl").write_text(
        '{"timestamp":"2026-01-01T10:00:00.000Z","type":"session_meta","payload":{"id":"s"}}\n'
    )
    db = str(tmp_path / "x.db")
    result = runner.invoke(app, ["import", "--db", db, "--json"], env={"HOME": str(home)})
    assert result.exit_code == 0 and json.loads(result.stdout)["sessionsAdded"] == 1
    assert f"found no Claude Code transcripts in {home}/.claude/projects\n" in result.stderr
    assert f"found Codex CLI transcripts in {home}/.codex/sessions\n" in result.stderr
    # Named by the user, the same empty folder is still an error.
    code, _, err = invoke("import", str(home / ".claude" / "projects"), "--db", db)
    assert code == 1 and "no transcripts (*.jsonl) found" in err


def test_export_writes_a_file_or_fails_in_one_line(samples_dir: Path, tmp_path: Path) -> None:
    db = str(tmp_path / "x.db")
    assert invoke("import", str(samples_dir / "short.jsonl"), "--db", db)[0] == 0
    session_id = next(
        r["sessionId"] for r in records(samples_dir / "short.jsonl") if "sessionId" in r
    )
    out_file = tmp_path / "out.jsonl"
    code, _, _ = invoke("export", session_id, "--db", db, "--out", str(out_file))
    assert code == 0
    exported = [json.loads(line) for line in out_file.read_text().splitlines()]
    assert exported == records(samples_dir / "short.jsonl")
    code, out, _ = invoke("export", session_id, "--db", db, "--format", "markdown")
    # Titled by its first prompt (Claude Code wrote no title for it).
    assert code == 0 and out.startswith("# mix phx.server doesnt seem to start\n")
    code, _, err = invoke("export", "nope", "--db", db, "--out", str(tmp_path / "no.md"))
    assert code == 1
    assert err == f"sessiongraph: error: no session 'nope' (nor one whose id starts so) in {db}\n"
    assert not list(tmp_path.glob("no.md*"))
    code, _, err = invoke("export", session_id, "--db", str(tmp_path / "none.db"))
    assert code == 1 and "no database at" in err


def test_demo_imports_the_bundled_sessions_once(tmp_path: Path, samples_dir: Path) -> None:
    db = str(tmp_path / "demo.db")
    code, out, _ = invoke("demo", "--db", db, "--json")
    first = json.loads(out)
    assert code == 0 and first["sessionsAdded"] == 4 and first["messagesAdded"] == 538
    code, out, _ = invoke("demo", "--db", db, "--json")
    again = json.loads(out)
    assert (again["filesUnchanged"], again["linesRead"], again["sessionsAdded"]) == (6, 0, 0)
    projects = tmp_path / "demo-demo" / "projects"
    assert (projects / "-home-marco-projects-spotter").is_dir()
    assert (tmp_path / "demo-demo" / "LICENSE-spotter").is_file()


def test_the_demo_archive_is_the_test_samples(samples_dir: Path) -> None:
    # After changing the samples, rebuild it with graph.demo.build_archive (see its docstring).
    assert ARCHIVE_NAME == "claude-code.tar.gz"
    assert archive_bytes() == build_archive(samples_dir)


async def wait_for(check: Callable[[], Awaitable[bool]], seconds: float = 10.0) -> None:
    """Poll ``check`` every 50 ms until it is true, for at most ``seconds``."""
    deadline = time.monotonic() + seconds
    while not await check():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.05)


async def test_watch_imports_appended_lines_within_a_second(
    store: Store, samples_dir: Path, tmp_path: Path
) -> None:
    tree = copy_samples(samples_dir, tmp_path / "projects")
    stop, ready = asyncio.Event(), asyncio.Event()
    runs: list[ImportSummary] = []
    task = asyncio.create_task(
        watch_paths(store, [tree], stop=stop, ready=ready, on_import=runs.append)
    )
    try:
        await asyncio.wait_for(ready.wait(), 10)
        assert await query(store, "SELECT count(*) FROM messages") == [(538,)]
        started = time.monotonic()
        write_lines(
            tree / "short.jsonl",
            [
                {
                    "type": "user",
                    "sessionId": "55604662-cf2a-4331-851a-ec234028f8ca",
                    "uuid": "live-1",
                    "message": {"role": "user", "content": "still there?"},
                },
            ],
            mode="a",
        )

        async def arrived() -> bool:
            return bool(await query(store, "SELECT 1 FROM messages WHERE uuid = 'live-1'"))

        await wait_for(arrived)
        assert time.monotonic() - started < 5  # about a second; generous for slow machines
        # A new session file (and a new subagent folder) is picked up too.
        write_lines(
            tree / "new" / "subagents" / "agent-x.jsonl",
            [
                {"type": "user", "sessionId": "new", "agentId": "x", "uuid": "live-2"},
            ],
        )

        async def new_session() -> bool:
            return bool(await query(store, "SELECT 1 FROM messages WHERE uuid = 'live-2'"))

        await wait_for(new_session)
    finally:
        stop.set()
        total = await asyncio.wait_for(task, 10)
    assert total.messages_added >= 2 and runs


@pytest.mark.parametrize("stop", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
async def test_watch_runs_until_ctrl_c_or_sigterm(
    samples_dir: Path, tmp_path: Path, stop: signal.Signals
) -> None:
    tree = copy_samples(samples_dir, tmp_path / "projects")
    proc = await asyncio.create_subprocess_exec(
        str(SESSIONGRAPH),
        "import",
        str(tree),
        "--watch",
        "--json",
        "--db",
        str(tmp_path / "w.db"),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env={**os.environ, "CI": "1"},
    )
    try:
        assert proc.stdout is not None
        initial = json.loads(await asyncio.wait_for(proc.stdout.readline(), 20))
        assert initial["messagesAdded"] == 538
        # The first import is done; the watcher may need a moment more to start, and
        # lines written meanwhile are caught by its first scan.
        write_lines(
            tree / f"{MAIN}.jsonl",
            [
                {"type": "system", "subtype": "live", "sessionId": MAIN},
            ],
            mode="a",
        )
        change = json.loads(await asyncio.wait_for(proc.stdout.readline(), 20))
        assert change["eventsAdded"] == 1 and change["linesRead"] == 1
        proc.send_signal(stop)
        code = await asyncio.wait_for(proc.wait(), 20)
        stderr = (await proc.stderr.read()).decode() if proc.stderr else ""
        assert code == 0, stderr
        assert "stopped watching" in stderr and "Traceback" not in stderr
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()


# what a watcher says, and one key style for scripts


def test_a_watch_line_says_when_which_session_and_what_changed() -> None:
    from datetime import datetime

    session = "5e551011-0000-4000-8000-000000000000"
    at = datetime(2026, 3, 1, 14, 2, 11).astimezone()
    # An assistant message whose next row arrived: rewritten, not "0 messages".
    rewritten = ImportSummary(lines_read=1, messages_written=1, sessions={session})
    assert rewritten.change_line(at) == (
        "14:02:11 session 5e551011: 1 new line: 0 messages added, 1 updated, 0 events added"
    )
    busy = ImportSummary(
        lines_read=7,
        messages_added=2,
        messages_written=3,
        events_added=1,
        sessions_added=1,
        sessions={f"{n}{session[1:]}" for n in range(5)},
    )
    assert busy.change_line(at) == (
        "14:02:11 sessions 0e551011, 1e551011, 2e551011 and 2 more: 7 new lines: "
        "2 messages added, 1 updated, 1 event added, 1 new session"
    )
    record = rewritten.change_record(at)
    assert record["at"].endswith("Z") and record["sessions"] == [session]
    assert record["messagesRewritten"] == 1 and record["linesRead"] == 1


def test_import_json_and_stats_json_use_one_key_style(samples_dir: Path, tmp_path: Path) -> None:
    db = str(tmp_path / "s.db")
    _, imported, _ = invoke("import", str(samples_dir), "--db", db, "--json")
    _, stats, _ = invoke("stats", "--db", db, "--json")
    keys = [*json.loads(imported), *json.loads(stats)]
    assert "sessionsAdded" in keys and "dbSizeBytes" in keys
    assert not [key for key in keys if "_" in key]


def test_the_progress_bar_shows_the_scan_then_a_true_rate() -> None:
    import io

    from rich.console import Console

    from graph.cli.progress import ImportBar

    now = [100.0]
    out = io.StringIO()
    bar = ImportBar(Console(file=out, force_terminal=True, width=160), clock=lambda: now[0])
    assert [task.description for task in bar.progress.tasks] == ["scanning for transcripts"]
    assert bar.progress.tasks[0].total is None  # a pulse, not a bar stuck at 0
    bar.start(files=3, nbytes=40_000_000)
    assert [task.description for task in bar.progress.tasks] == ["importing"]
    # A burst: 20 MB handed over at once, 4 s after the start, is 5 MB/s, not GB/s.
    now[0] = 104.0
    bar.advance(files=1, lines=1_000, nbytes=20_000_000)
    assert bar.detail() == "1/3 files  1,000 lines  20.0/40.0 MB  5.0 MB/s  0:04 left"
