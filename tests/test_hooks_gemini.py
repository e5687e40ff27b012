"""Gemini CLI hooks: our entries in its settings.json, and the hook run on its events.

Gemini CLI reads hooks in Claude Code's shape, with its own events (SessionEnd,
PreCompress, AfterAgent), a timeout in milliseconds and a name per hook; it shows a hook's
stderr to the user when its stdout is empty, so the hook prints nothing on either.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from graph.hooks import GEMINI_CLI, hook_command, install, installed, uninstall
from tests.test_hooks import backups, counts, hook_log, invoke, run_hook, write_settings

SID = "9a1b2c3d-0000-4000-8000-00000000ge01"

# Someone's Gemini CLI settings: other hooks (one on an event of ours) and other keys.
OTHER_SETTINGS: dict[str, Any] = {
    "general": {"vimMode": True},
    "hooksConfig": {"enabled": True, "disabled": ["noisy"]},
    "hooks": {
        "BeforeTool": [
            {
                "matcher": "run_shell_command",
                "hooks": [{"name": "guard", "type": "command", "command": "~/guard.sh"}],
            }
        ],
        "AfterAgent": [{"hooks": [{"name": "bell", "type": "command", "command": "tput bel"}]}],
    },
}


def _ours(settings: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    return {
        event: [h for g in groups for h in g["hooks"] if h.get("name") == "sessiongraph"]
        for event, groups in settings["hooks"].items()
    }


def test_install_adds_a_named_entry_with_a_timeout_in_milliseconds_on_each_event() -> None:
    command = "sessiongraph hook --db /s.db"
    after = install(OTHER_SETTINGS, command, "settings.json", GEMINI_CLI)
    entry = {"name": "sessiongraph", "type": "command", "command": command, "timeout": 30_000}
    assert {e: v for e, v in _ours(after).items() if v} == {
        "SessionEnd": [entry],
        "PreCompress": [entry],
        "AfterAgent": [entry],
    }
    assert after["hooks"]["AfterAgent"][0] == OTHER_SETTINGS["hooks"]["AfterAgent"][0]
    assert {k: v for k, v in after.items() if k != "hooks"} == {
        k: v for k, v in OTHER_SETTINGS.items() if k != "hooks"
    }
    assert install(after, command, "settings.json", GEMINI_CLI) == after
    assert set(installed(after)) == set(GEMINI_CLI.events)
    assert uninstall(after, "settings.json", GEMINI_CLI) == OTHER_SETTINGS


def test_the_command_installs_into_gemini_settings_and_status_shows_it(
    home: Path, tmp_path: Path
) -> None:
    settings = home / ".gemini" / "settings.json"
    original = write_settings(settings, OTHER_SETTINGS)
    db = tmp_path / "s.db"
    code, out, err = invoke("hooks", "install", "--agent", "gemini-cli", "--db", str(db))
    assert code == 0, err
    assert f"installed sessiongraph's Gemini CLI hooks in {settings}" in out
    assert "SessionEnd, PreCompress, AfterAgent" in out
    after = json.loads(settings.read_text())
    assert after == install(OTHER_SETTINGS, hook_command(db), str(settings), GEMINI_CLI)
    [backup] = backups(settings)
    assert backup.read_bytes() == original
    assert not (home / ".claude").exists()  # Claude Code's settings are not touched

    code, out, _ = invoke("hooks", "status")
    assert code == 0
    assert f"gemini-cli user: installed in {settings}" in out
    assert "claude-code user: not installed" in out

    code, out, err = invoke("hooks", "uninstall", "--agent", "gemini-cli")
    assert code == 0, err
    assert json.loads(settings.read_text()) == OTHER_SETTINGS


def test_gemini_cli_home_and_project_scope(
    home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    elsewhere = tmp_path / "gemini-home"
    monkeypatch.setenv("GEMINI_CLI_HOME", str(elsewhere))
    code, _, err = invoke("hooks", "install", "--agent", "gemini-cli")
    assert code == 0, err
    assert set(installed(json.loads((elsewhere / ".gemini" / "settings.json").read_text()))) == {
        "SessionEnd",
        "PreCompress",
        "AfterAgent",
    }
    project = tmp_path / "proj"
    project.mkdir()
    code, _, err = invoke(
        "hooks", "install", "--agent", "gemini-cli", "--scope", "project", "--project", str(project)
    )
    assert code == 0, err
    assert installed(json.loads((project / ".gemini" / "settings.json").read_text()))
    code, out, _ = invoke("hooks", "status", "--project", str(project))
    assert "gemini-cli project: installed in" in out
    assert not (home / ".gemini").exists()


def _chat(folder: Path, session_id: str, kind: str, texts: list[str]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"session-2026-01-01T10-00-{session_id[:8]}.jsonl"
    meta = {
        "sessionId": session_id,
        "projectHash": "h1",
        "startTime": "2026-01-01T10:00:00.000Z",
        "lastUpdated": "2026-01-01T10:00:00.000Z",
        "kind": kind,
    }
    messages = [
        {"id": f"m{n}", "timestamp": "2026-01-01T10:00:01.000Z", "type": "user", "content": t}
        for n, t in enumerate(texts)
    ]
    path.write_text("".join(json.dumps(r) + "\n" for r in [meta, *messages]))
    return path


def _gemini_input(transcript: Path, event: str, **extra: Any) -> bytes:
    """What Gemini CLI writes to a hook's stdin (see its hooks reference)."""
    payload = {
        "session_id": SID,
        "transcript_path": str(transcript),
        "cwd": "/home/dev/app",
        "hook_event_name": event,
        "timestamp": "2026-01-01T10:00:05.000Z",
        **extra,
    }
    return json.dumps(payload).encode()


async def test_the_hook_imports_a_gemini_chat_and_its_subagents_and_prints_nothing(
    home: Path, tmp_path: Path
) -> None:
    chats = home / ".gemini" / "tmp" / "h1" / "chats"
    transcript = _chat(chats, SID, "main", ["hello", "look at the logs"])
    _chat(chats / SID, "sub-1", "subagent", ["reading the logs"])
    _chat(chats, "another-session-0000", "main", ["not this one"])
    db = tmp_path / "s.db"

    turn = _gemini_input(transcript, "AfterAgent", prompt="hi", prompt_response="hello")
    done = run_hook(home, turn, "--db", str(db))
    assert (done.returncode, done.stdout, done.stderr) == (0, b"", b"")
    assert await counts(db) == {"sessions": 1, "conversations": 2, "messages": 3, "files": 2}
    assert f"AfterAgent {SID}: 5 new lines" in hook_log(home)

    with transcript.open("a") as fh:
        record = {"id": "m9", "timestamp": "2026-01-01T10:00:09.000Z", "type": "user"}
        fh.write(json.dumps({**record, "content": "bye"}) + "\n")
    done = run_hook(home, _gemini_input(transcript, "SessionEnd", reason="exit"), "--db", str(db))
    assert (done.returncode, done.stdout, done.stderr) == (0, b"", b"")
    assert (await counts(db))["messages"] == 4
    assert f"SessionEnd {SID}: 1 new lines, 1 messages" in hook_log(home)


def test_a_bad_command_line_prints_nothing_either(home: Path) -> None:
    done = run_hook(home, b"{}", "--no-such-option")
    assert (done.returncode, done.stdout, done.stderr) == (0, b"", b"")
    assert "bad command line: --no-such-option (usage:" in hook_log(home)
