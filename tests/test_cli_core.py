"""The core commands: serve's startup path, migrate, stats, export-schema, --help."""

from __future__ import annotations

import json
import os
import re
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
import typer.main
from typer.core import TyperGroup
from typer.testing import CliRunner

from graph.cli import app
from graph.schema import sdl
from graph.store import load_migrations
from tests.conftest import LATEST

runner = CliRunner()


def invoke(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


@pytest.mark.parametrize("command", ["serve", "migrate", "stats", "export-schema"])
def test_every_command_explains_itself(command: str) -> None:
    code, out, _ = invoke(command, "--help")
    assert code == 0
    assert "Usage" in out and len(out.splitlines()) > 3


def _commands(group: TyperGroup | None = None) -> list[str]:
    """Every command and subcommand, as the words that name it."""
    found: list[str] = []
    for name, command in sorted((group or typer.main.get_group(app)).commands.items()):
        found.append(name)
        if isinstance(command, TyperGroup):
            found += [f"{name} {sub}" for sub in _commands(command)]
    return found


@pytest.mark.parametrize("command", _commands())
def test_help_paragraphs_fill_the_terminal_rather_than_keep_the_docstrings_breaks(
    command: str,
) -> None:
    # A docstring breaks its lines near 88 columns: kept as they are, an 80-column
    # terminal wrapped each again and left a word or two alone on a line.
    args = [*command.split(), "--help"]
    result = CliRunner().invoke(app, args, env={"COLUMNS": "80"})
    assert result.exit_code == 0
    head = result.stdout.split("╭")[0]  # the description, above the panels
    paragraphs: list[list[str]] = [[]]
    for line in head.splitlines():
        if line.strip():
            paragraphs[-1].append(line.strip())
        elif paragraphs[-1]:
            paragraphs.append([])
    for lines in paragraphs[1:]:  # after the usage line
        assert all(len(line) > 50 for line in lines[:-1]), (command, lines)


def test_migrate_status_up_down(tmp_path: Path) -> None:
    db = str(tmp_path / "x.db")
    code, out, _ = invoke("migrate", "status", "--db", db)
    assert code == 0 and "pending" in out
    names = [f"{m.version:04d}_{m.name}" for m in load_migrations()]
    assert invoke("migrate", "up", "--db", db)[:2] == (0, "".join(f"applied {n}\n" for n in names))
    assert invoke("migrate", "up", "--db", db)[:2] == (0, f"up to date (version {LATEST})\n")
    assert "applied" in invoke("migrate", "--db", db)[1]
    assert invoke("migrate", "down", "1", "--db", db)[:2] == (0, f"reverted {names[-1]}\n")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["migrate", "down"], "needs the number of migrations to revert"),
        (["migrate", "up", "2"], "takes no number"),
        (["stats", "--db", "/nonexistent/dir/x.db"], "no database at /nonexistent/dir/x.db"),
    ],
)
def test_cli_errors_are_one_line_and_nonzero(args: list[str], message: str) -> None:
    code, _, err = invoke(*args)
    assert code == 1
    assert err.count("\n") == 1 and message in err and err.startswith("sessiongraph: error:")


def test_a_broken_migration_state_is_one_line(tmp_path: Path) -> None:
    db = tmp_path / "x.db"
    assert invoke("migrate", "up", "--db", str(db))[0] == 0
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE schema_migrations SET checksum = 'x'")
    code, _, err = invoke("stats", "--db", str(db))
    assert code == 1
    assert "0001_initial was changed after it was applied" in err and err.count("\n") == 1


def test_stats_json(tmp_path: Path) -> None:
    db = tmp_path / "x.db"
    code, out, _ = invoke("migrate", "up", "--db", str(db))
    code, out, _ = invoke("stats", "--json", "--db", str(db))
    assert code == 0
    stats = json.loads(out)
    assert stats["sessions"] == 0 and stats["schemaVersion"] == LATEST
    assert stats["tokenUsage"] == {"input": 0, "output": 0, "cacheRead": 0, "cacheCreation": 0}
    assert stats["encrypted"] is False
    # In a terminal: words, MB, yes/no; the JSON keys and Python's False stay out.
    code, out, _ = invoke("stats", "--db", str(db))
    assert "schema version" in out and " MB" in out
    assert re.search(r"encrypted +no\b", out), out
    assert "schemaVersion" not in out and "False" not in out and "dbSizeBytes" not in out


def test_db_comes_from_the_environment_unless_the_flag_says_otherwise(tmp_path: Path) -> None:
    env_db, flag_db = tmp_path / "env.db", tmp_path / "flag.db"
    result = runner.invoke(app, ["migrate", "up"], env={"SESSIONGRAPH_DB": str(env_db)})
    assert result.exit_code == 0 and env_db.exists()
    result = runner.invoke(
        app, ["migrate", "up", "--db", str(flag_db)], env={"SESSIONGRAPH_DB": str(env_db)}
    )
    assert result.exit_code == 0 and flag_db.exists()


def test_export_schema_prints_the_sdl() -> None:
    code, out, _ = invoke("export-schema")
    assert code == 0 and out == sdl()


def test_python_dash_m_graph_and_serve_refuses_a_bad_database(tmp_path: Path) -> None:
    bad = tmp_path / "not-a-db.db"
    bad.write_bytes(b"this is not sqlite" * 100)
    result = subprocess.run(
        [sys.executable, "-m", "graph", "serve", "--db", str(bad), "--port", "0"],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "NO_COLOR": "1"},
    )
    assert result.returncode == 1
    assert result.stderr.startswith("sessiongraph: error:")
    assert "Traceback" not in result.stderr


def test_serve_migrates_and_answers_on_loopback_with_a_token(tmp_path: Path) -> None:
    import socket
    import time

    import httpx

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    db = tmp_path / "served.db"
    env = {**os.environ, "XDG_CONFIG_HOME": str(tmp_path / "config"), "NO_COLOR": "1"}
    env.pop("SESSIONGRAPH_TOKEN", None)
    server = subprocess.Popen(
        [sys.executable, "-m", "graph", "serve", "--db", str(db), "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env=env,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                health = httpx.get(f"{base}/healthz", timeout=1)
                break
            except httpx.TransportError:
                assert server.poll() is None, server.stderr.read() if server.stderr else ""
                assert time.monotonic() < deadline, "server did not start"
                time.sleep(0.1)
        assert health.json() == {"status": "ok", "schemaVersion": LATEST}
        token_file = tmp_path / "config" / "sessiongraph" / "token"
        assert token_file.stat().st_mode & 0o777 == 0o600
        token = token_file.read_text().strip()
        query = {"query": "{ stats { schemaVersion } }"}
        refused = httpx.post(f"{base}/graphql", json=query)
        assert refused.status_code == 401
        answer = httpx.post(
            f"{base}/graphql", json=query, headers={"authorization": f"Bearer {token}"}
        )
        assert answer.json() == {"data": {"stats": {"schemaVersion": LATEST}}}
    finally:
        server.terminate()
        _, stderr = server.communicate(timeout=10)
    # The new token is shown once, as a link whose fragment never reaches the server.
    assert f"/graphql#token={token}" in stderr
    assert stderr.count(token) == 1
