"""Claude Code hooks: installing them into settings.json, and the hook command itself.

Settings files live in a temporary HOME; the hook runs as Claude Code runs it, as a
process with the event's JSON on stdin.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from graph.cli import app
from graph.hooks import EVENTS, hook_command, install, is_ours, uninstall
from graph.keys import write_key_file
from graph.store import Store
from graph.store.keyring import KeyMaterial
from tests.factories import make_sessions
from tests.test_import_support import MAIN

runner = CliRunner()

OTHER_SETTINGS: dict[str, Any] = {
    "$schema": "https://json.schemastore.org/claude-code-settings.json",
    "model": "opus",
    "cleanupPeriodDays": 45,
    "permissions": {"allow": ["Bash(git status:*)"], "deny": []},
    "env": {"FOO": "bär"},
    "hooks": {
        "PreToolUse": [
            {"matcher": "Bash", "hooks": [{"type": "command", "command": "~/check.sh"}]}
        ],
        "Stop": [{"hooks": [{"type": "command", "command": "notify-send done", "timeout": 5}]}],
    },
    "statusLine": {"type": "command", "command": "echo hi", "padding": 0},
}


def invoke(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def write_settings(path: Path, settings: dict[str, Any]) -> bytes:
    path.parent.mkdir(parents=True, exist_ok=True)
    # Formatted unlike our writer, so that "preserved" has to mean "in meaning".
    path.write_text(json.dumps(settings, indent=4, ensure_ascii=True))
    return path.read_bytes()


def backups(path: Path) -> list[Path]:
    return sorted(path.parent.glob(f"{path.name}.sessiongraph-*.bak"))


def ours(settings: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    return {
        event: [h for group in groups for h in group["hooks"] if is_ours(h)]
        for event, groups in settings.get("hooks", {}).items()
    }


# installing into settings.json


def test_install_keeps_every_other_hook_and_key_and_uninstall_removes_only_ours(
    home: Path, tmp_path: Path
) -> None:
    settings = home / ".claude" / "settings.json"
    original = write_settings(settings, OTHER_SETTINGS)
    db = tmp_path / "s.db"

    code, out, err = invoke("hooks", "install", "--db", str(db))
    assert code == 0, err
    assert "installed" in out and str(settings) in out
    after = json.loads(settings.read_text())
    assert {k: v for k, v in after.items() if k != "hooks"} == {
        k: v for k, v in OTHER_SETTINGS.items() if k != "hooks"
    }
    assert after["hooks"]["PreToolUse"] == OTHER_SETTINGS["hooks"]["PreToolUse"]
    assert after["hooks"]["Stop"][0] == OTHER_SETTINGS["hooks"]["Stop"][0]
    for event in EVENTS:
        [entry] = ours(after)[event]
        assert entry == {"type": "command", "command": hook_command(db), "timeout": 30}
    [backup] = backups(settings)
    assert backup.read_bytes() == original

    # Idempotent: a second install writes nothing and makes no second backup.
    written = settings.read_bytes()
    code, out, _ = invoke("hooks", "install", "--db", str(db))
    assert code == 0 and "already installed" in out
    assert settings.read_bytes() == written and len(backups(settings)) == 1

    code, out, err = invoke("hooks", "uninstall")
    assert code == 0, err
    assert json.loads(settings.read_text()) == OTHER_SETTINGS
    code, out, _ = invoke("hooks", "uninstall")
    assert code == 0 and "already uninstalled" in out


def test_install_into_no_settings_and_uninstall_leaves_an_empty_object(home: Path) -> None:
    settings = home / ".claude" / "settings.json"
    code, _, err = invoke("hooks", "install")
    assert code == 0, err
    assert set(ours(json.loads(settings.read_text()))) == set(EVENTS)
    assert backups(settings) == []  # nothing to copy aside
    code, _, _ = invoke("hooks", "uninstall")
    assert code == 0 and json.loads(settings.read_text()) == {}


@pytest.mark.parametrize(
    "content",
    ['{"model": "opus",', "[1, 2]", '{"hooks": []}', '{"hooks": {"Stop": {}}}'],
    ids=["not-json", "not-an-object", "hooks-not-an-object", "event-not-a-list"],
)
@pytest.mark.parametrize("command", ["install", "uninstall"])
def test_a_settings_file_claude_code_could_not_read_is_refused_untouched(
    home: Path, content: str, command: str
) -> None:
    settings = home / ".claude" / "settings.json"
    settings.parent.mkdir()
    settings.write_text(content)
    code, out, err = invoke("hooks", command)
    assert code == 1 and out == ""
    assert err.startswith("sessiongraph: error: ") and err.count("\n") == 1
    assert str(settings) in err and "left untouched" in err
    assert settings.read_text() == content and backups(settings) == []


def test_claude_config_dir_and_project_scope(
    home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "claude-config"
    monkeypatch.setenv("CLAUDE_CONFIG_DIR", str(config))
    code, _, err = invoke("hooks", "install")
    assert code == 0, err
    assert set(ours(json.loads((config / "settings.json").read_text()))) == set(EVENTS)
    assert not (home / ".claude").exists()

    project = tmp_path / "proj"
    project.mkdir()
    code, _, err = invoke("hooks", "install", "--scope", "project", "--project", str(project))
    assert code == 0, err
    assert set(ours(json.loads((project / ".claude" / "settings.json").read_text()))) == set(EVENTS)
    code, out, _ = invoke("hooks", "status", "--project", str(project))
    assert code == 0
    assert f"user: installed in {config / 'settings.json'}" in out
    assert "project: installed in" in out and "log:" in out


def test_dry_run_shows_the_change_and_writes_nothing(home: Path) -> None:
    settings = home / ".claude" / "settings.json"
    original = write_settings(settings, OTHER_SETTINGS)
    code, out, _ = invoke("hooks", "install", "--dry-run")
    assert code == 0
    assert f"would change {settings}" in out and '+    "SessionEnd": [' in out
    assert settings.read_bytes() == original and backups(settings) == []


def test_our_entries_are_found_by_their_command_wherever_they_are() -> None:
    assert is_ours({"type": "command", "command": "sessiongraph hook"})
    assert is_ours({"command": "/opt/venv/bin/sessiongraph hook --db '/a b/x.db'"})
    assert is_ours({"command": hook_command(Path("/x.db"), Path("/k"))})
    assert not is_ours({"command": "sessiongraph hooks status"})
    assert not is_ours({"command": "my-hook sessiongraph"})
    assert not is_ours({"command": "python -m other hook"})
    assert not is_ours({"command": "echo 'unbalanced"})
    assert not is_ours({"type": "prompt", "prompt": "sessiongraph hook"})

    mine = {"type": "command", "command": "sessiongraph hook --db /old.db"}
    theirs = {"type": "command", "command": "notify-send"}
    settings = {
        "hooks": {
            # A matcher the user put on our group stays; our entry in their group moves out.
            "PreCompact": [{"matcher": "auto", "hooks": [mine]}],
            "SessionEnd": [{"hooks": [theirs, mine]}],
        }
    }
    new = install(settings, "sessiongraph hook --db /new.db", "settings.json")
    entry = {**mine, "command": "sessiongraph hook --db /new.db", "timeout": 30}
    assert new["hooks"]["PreCompact"] == [{"matcher": "auto", "hooks": [entry]}]
    assert new["hooks"]["SessionEnd"][0] == {"hooks": [theirs]}
    assert install(new, "sessiongraph hook --db /new.db", "settings.json") == new
    assert uninstall(new, "settings.json") == {"hooks": {"SessionEnd": [{"hooks": [theirs]}]}}


# the hook command


def hook_input(transcript: Path, event: str = "SessionEnd", **extra: Any) -> bytes:
    """What Claude Code writes to a hook's stdin (see the hooks reference)."""
    payload = {
        "session_id": MAIN,
        "transcript_path": str(transcript),
        "cwd": "/home/marco/projects/spotter",
        "permission_mode": "default",
        "hook_event_name": event,
        **extra,
    }
    return json.dumps(payload).encode()


def run_hook(
    home: Path, stdin: bytes, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[bytes]:
    """The hook as Claude Code runs it: its own process, the event on stdin."""
    environment = {k: v for k, v in os.environ.items() if not k.startswith("SESSIONGRAPH_")}
    environment.update(HOME=str(home), **(env or {}))
    return subprocess.run(
        [sys.executable, "-m", "graph", "hook", *args],
        input=stdin,
        capture_output=True,
        env=environment,
        timeout=120,
        check=False,
    )


def hook_log(home: Path) -> str:
    return (home / ".local" / "state" / "sessiongraph" / "log" / "hook.log").read_text()


@pytest.fixture
def project(samples_dir: Path, home: Path) -> Path:
    """A Claude project folder holding the sample session, its subagents, and another one."""
    folder = home / ".claude" / "projects" / "-home-marco-projects-spotter"
    folder.mkdir(parents=True)
    shutil.copy(samples_dir / f"{MAIN}.jsonl", folder)
    shutil.copytree(samples_dir / MAIN, folder / MAIN)
    shutil.copy(samples_dir / "short.jsonl", folder / "other-session.jsonl")
    return folder


async def counts(db: Path, key: KeyMaterial | None = None) -> dict[str, int]:
    store = await Store.open(db, key=key)
    try:
        async with store.read() as reader:
            row = await reader.stats()
            files = await reader.connection.execute_fetchall("SELECT path FROM import_files")
    finally:
        await store.close()
    return {
        "sessions": row.sessions,
        "conversations": row.conversations,
        "messages": row.messages,
        "files": len(list(files)),
    }


async def test_hook_imports_its_transcript_and_subagents_only_and_prints_nothing(
    home: Path, project: Path, tmp_path: Path
) -> None:
    db = tmp_path / "s.db"
    transcript = project / f"{MAIN}.jsonl"
    done = run_hook(home, hook_input(transcript, reason="prompt_input_exit"), "--db", str(db))
    assert done.returncode == 0 and done.stdout == b""
    # The session and its two subagent threads; the other session in the folder is not read.
    assert await counts(db) == {"sessions": 1, "conversations": 3, "messages": 484, "files": 3}
    assert f"SessionEnd {MAIN}: 2427 new lines" in hook_log(home)
    # Private, as the database is: the log names sessions, paths and errors.
    log = home / ".local" / "state" / "sessiongraph" / "log" / "hook.log"
    assert log.stat().st_mode & 0o777 == 0o600 and log.parent.stat().st_mode & 0o777 == 0o700

    # A Stop after a turn reads only what the turn appended.
    user = {
        "type": "user",
        "sessionId": MAIN,
        "uuid": "u-new",
        "timestamp": "2026-03-01T10:00:00Z",
        "message": {"role": "user", "content": "one more thing"},
    }
    with transcript.open("a") as fh:
        fh.write(json.dumps(user) + "\n")
    done = run_hook(home, hook_input(transcript, "Stop", stop_hook_active=False), "--db", str(db))
    assert done.returncode == 0 and done.stdout == b""
    assert (await counts(db))["messages"] == 485
    assert f"Stop {MAIN}: 1 new lines, 1 messages" in hook_log(home)


def test_hook_input_that_is_not_usable_is_logged_and_exits_0(home: Path, tmp_path: Path) -> None:
    db = tmp_path / "s.db"
    for stdin in (b"", b"not json", b'{"hook_event_name": "Stop"}'):
        done = run_hook(home, stdin, "--db", str(db))
        assert done.returncode == 0 and done.stdout == b""
    done = run_hook(home, hook_input(tmp_path / "gone.jsonl"), "--db", str(db))
    assert done.returncode == 0 and done.stdout == b""
    done = run_hook(home, b"{}", "--no-such-option")
    assert done.returncode == 0 and done.stdout == b""
    log = hook_log(home)
    assert log.count("ERROR failed: ValueError") == 3
    assert "no transcript at" in log and "bad command line" in log
    assert not db.exists()


async def test_a_busy_database_is_logged_and_the_hook_exits_0_within_its_budget(
    home: Path, project: Path, tmp_path: Path
) -> None:
    db = tmp_path / "s.db"
    store = await Store.open(db)
    await store.close()
    holder = sqlite3.connect(db, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # another writer holds the lock
    try:
        done = run_hook(
            home, hook_input(project / f"{MAIN}.jsonl"), "--db", str(db), "--budget", "1"
        )
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert done.returncode == 0 and done.stdout == b""
    assert "gave up after 1 s" in hook_log(home)
    assert (await counts(db))["messages"] == 0

    # Nothing half-done is left: the next event imports the whole session.
    done = run_hook(home, hook_input(project / f"{MAIN}.jsonl"), "--db", str(db))
    assert done.returncode == 0
    assert (await counts(db))["messages"] == 484


async def test_hook_opens_an_encrypted_database_with_the_default_key_file(
    home: Path, project: Path, tmp_path: Path
) -> None:
    key = write_key_file(home / ".config" / "sessiongraph" / "key")
    db = tmp_path / "sealed.db"
    store = await Store.open(db, key=KeyMaterial(key=key))
    await store.close()
    done = run_hook(home, hook_input(project / f"{MAIN}.jsonl"), "--db", str(db))
    assert done.returncode == 0 and done.stdout == b""
    assert (await counts(db, KeyMaterial(key=key)))["messages"] == 484
    assert b"Run bd show spotter-4te" not in db.read_bytes()

    # With no key at all, the hook says so in its log (and still exits 0).
    (home / ".config" / "sessiongraph" / "key").unlink()
    done = run_hook(home, hook_input(project / f"{MAIN}.jsonl"), "--db", str(db))
    assert done.returncode == 0 and "is encrypted: give its key" in hook_log(home)


async def test_hook_creates_a_new_database_encrypted_with_the_default_key_file(
    home: Path, project: Path, tmp_path: Path
) -> None:
    key = write_key_file(home / ".config" / "sessiongraph" / "key")  # `sessiongraph keygen`
    db = tmp_path / "new.db"
    done = run_hook(home, hook_input(project / f"{MAIN}.jsonl"), "--db", str(db))
    assert done.returncode == 0 and done.stdout == b""
    assert (await counts(db, KeyMaterial(key=key)))["messages"] == 484
    assert b"Run bd show spotter-4te" not in db.read_bytes()

    # A plaintext database that holds sessions stays one: it opens without the key.
    plain = tmp_path / "plain.db"
    store = await Store.open(plain)
    await make_sessions(store, 1)
    await store.close()
    before = (await counts(plain))["messages"]
    done = run_hook(home, hook_input(project / f"{MAIN}.jsonl"), "--db", str(plain))
    assert done.returncode == 0
    assert (await counts(plain))["messages"] == before + 484
