"""What a new user meets first (#14): the link that works, `/`, a busy port, the version."""

from __future__ import annotations

import socket
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from graph import __version__
from graph.cli import app

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
