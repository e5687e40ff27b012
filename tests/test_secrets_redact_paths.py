"""Redaction on import is one decision, taken alike by every path that imports: the
prompt history, the hook and `serve --watch` store secrets redacted as `import` does
(``--redact-secrets``, else secrets.toml's ``redact_on_import``)."""

from __future__ import annotations

import asyncio
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from graph.app import create_app
from graph.cli import app
from graph.export import ExportFormat, export_session
from graph.keys import write_key_file
from graph.settings import ServerSettings
from graph.store import Store
from graph.store.keyring import KeyMaterial
from tests.secret_canaries import AWS, GITHUB, PLACED, SESSION_ID, write_transcript

runner = CliRunner()
GONE = "5ec2e75e-0000-4000-8000-00000000a11e"
CANARIES = [AWS, GITHUB]
TRANSCRIPT_CANARIES = [secret for secret, _ in PLACED.values()]


def on_disk(db: Path, canaries: list[str]) -> list[str]:
    """Every 8-character piece of a canary in the database file, its WAL or its SHM."""
    data = b"".join(
        path.read_bytes()
        for path in (db, db.with_name(db.name + "-wal"), db.with_name(db.name + "-shm"))
        if path.exists()
    )
    return [
        secret[i : i + 8]
        for secret in canaries
        for i in range(len(secret) - 7)
        if secret[i : i + 8].encode() in data
    ]


async def stored(db: Path, key: KeyMaterial | None, session_id: str) -> str:
    """The session's records as stored (the lossless export, nothing masked)."""
    store = await Store.open(db, key=key)
    try:
        out = io.BytesIO()
        await export_session(store, session_id, out, ExportFormat.JSONL)
        return out.getvalue().decode()
    finally:
        await store.close()


def ask_redaction(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A secrets.toml that asks for redaction on import, in use."""
    config = tmp_path / "secrets.toml"
    config.write_text("[secrets]\nredact_on_import = true\n")
    monkeypatch.setenv("SESSIONGRAPH_SECRETS_CONFIG", str(config))
    return config


@pytest.fixture
def redacting(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    return ask_redaction(tmp_path, monkeypatch)


def _key_flags(tmp_path: Path, encrypted: bool) -> tuple[list[str], KeyMaterial | None]:
    if not encrypted:
        return [], None
    key_file = tmp_path / "key"
    return ["--key-file", str(key_file)], KeyMaterial(key=write_key_file(key_file))


def _history(folder: Path) -> Path:
    path = folder / "claude" / "history.jsonl"
    path.parent.mkdir(parents=True)
    line = {
        "display": f"deploy with {AWS} and push with {GITHUB} please",
        "pastedContents": {"1": {"id": 1, "type": "text", "content": f"token {GITHUB}"}},
        "timestamp": 1_760_000_000_000,
        "project": "/home/dev/app",
        "sessionId": GONE,
    }
    path.write_text(json.dumps(line) + "\n")
    return path


@pytest.mark.parametrize("encrypted", [False, True], ids=["plain", "encrypted"])
@pytest.mark.parametrize("how", ["--redact-secrets", "secrets.toml"])
def test_the_prompt_history_is_stored_redacted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, encrypted: bool, how: str
) -> None:
    if how == "secrets.toml":
        ask_redaction(tmp_path, monkeypatch)
    flags, key = _key_flags(tmp_path, encrypted)
    db = tmp_path / "s.db"
    extra = [how] if how.startswith("--") else []
    result = runner.invoke(
        app, ["import", str(_history(tmp_path)), "--db", str(db), *flags, *extra]
    )
    assert result.exit_code == 0, result.stderr
    assert on_disk(db, CANARIES) == []
    records = asyncio.run(stored(db, key, GONE))
    assert "[REDACTED:aws-access-key:" in records and "please" in records
    assert not any(secret in records for secret in CANARIES)


def test_the_prompt_history_keeps_its_secrets_when_told(tmp_path: Path, redacting: Path) -> None:
    db = tmp_path / "s.db"
    history = _history(tmp_path)
    result = runner.invoke(app, ["import", str(history), "--db", str(db), "--keep-secrets"])
    assert result.exit_code == 0, result.stderr
    assert on_disk(db, CANARIES)  # what the checks above look for is there to be found


def _hook(transcript: Path, db: Path, config: Path | None, flags: list[str]) -> None:
    """The hook as Claude Code runs it (its own process, the event on stdin), with
    ``config`` as secrets.toml (None: none)."""
    event = {"session_id": SESSION_ID, "transcript_path": str(transcript), "cwd": "/home/dev/app"}
    environment = {k: v for k, v in os.environ.items() if not k.startswith("SESSIONGRAPH_")}
    if config is not None:
        environment["SESSIONGRAPH_SECRETS_CONFIG"] = str(config)
    done = subprocess.run(
        [sys.executable, "-m", "graph", "hook", "--db", str(db), *flags],
        input=json.dumps({**event, "hook_event_name": "SessionEnd"}).encode(),
        capture_output=True,
        env=environment,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0 and done.stdout == done.stderr == b""


@pytest.mark.parametrize("encrypted", [False, True], ids=["plain", "encrypted"])
async def test_the_hook_redacts_as_secrets_toml_says(
    tmp_path: Path, home: Path, monkeypatch: pytest.MonkeyPatch, encrypted: bool
) -> None:
    config = ask_redaction(tmp_path, monkeypatch)
    transcript = write_transcript(home / ".claude" / "projects")
    flags, key = _key_flags(tmp_path, encrypted)
    db = tmp_path / "s.db"
    _hook(transcript, db, config, flags)
    assert on_disk(db, TRANSCRIPT_CANARIES) == []
    records = await stored(db, key, SESSION_ID)
    assert "[REDACTED:aws-access-key:" in records and "wombat" in records
    assert not any(secret in records for secret in TRANSCRIPT_CANARIES)
    # Without the setting, the same hook keeps them (what the checks look for is there).
    kept = tmp_path / "kept.db"
    _hook(transcript, kept, None, [])
    assert on_disk(kept, TRANSCRIPT_CANARIES)


@pytest.mark.parametrize("encrypted", [False, True], ids=["plain", "encrypted"])
async def test_serve_watch_redacts_as_secrets_toml_says(
    tmp_path: Path, redacting: Path, encrypted: bool
) -> None:
    write_transcript(tmp_path / "projects")
    db = tmp_path / "s.db"
    key = KeyMaterial(key=write_key_file(tmp_path / "key")) if encrypted else None
    served = create_app(db, server=ServerSettings(watch=(tmp_path / "projects",)), key=key)
    async with served.router.lifespan_context(served):
        store = served.state.store
        for _ in range(600):  # the watcher's first scan imports what is there
            async with store.read() as reader:
                if (await reader.sessions_by_session_id([SESSION_ID]))[0] is not None:
                    break
            await asyncio.sleep(0.1)
        else:
            raise AssertionError("the watcher did not import the transcript in 60 s")
        await asyncio.sleep(0.5)  # the run that stored the session has committed
        assert on_disk(db, TRANSCRIPT_CANARIES) == []  # the WAL included, while serving
    assert on_disk(db, TRANSCRIPT_CANARIES) == []
    records = await stored(db, key, SESSION_ID)
    assert "[REDACTED:aws-access-key:" in records and "wombat" in records
    assert not any(secret in records for secret in TRANSCRIPT_CANARIES)
