"""The commands the agents run sit in the project's folder: a project with a ``graph``
package of its own must not have it run in sessiongraph's place.

Claude Code runs hooks and MCP servers with the project as the current directory, and
``python -m`` puts the current directory first on ``sys.path``.
"""

from __future__ import annotations

import json
import os
import shlex
import subprocess
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

import graph
from graph.cli import app
from graph.hooks import EVENTS, hook_command, imports_from_cwd, installed

runner = CliRunner()

# Where this checkout's `graph` is (the installed one may be another checkout's).
CHECKOUT = str(Path(graph.__file__).resolve().parent.parent)


@pytest.fixture
def decoy(tmp_path: Path) -> Path:
    """A project whose own ``graph`` package says so and fails when it is run."""
    project = tmp_path / "project"
    package = project / "graph"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "__main__.py").write_text(
        "import sys\nprint('PROJECT graph ran')\nsys.exit(3)\n", encoding="utf-8"
    )
    return project


def run_in(project: Path, home: Path, argv: list[str], stdin: bytes = b"") -> Any:
    """``argv`` as an agent runs it: in the project's folder."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SESSIONGRAPH_")}
    env.update(HOME=str(home), PYTHONPATH=CHECKOUT)
    return subprocess.run(
        argv, cwd=project, input=stdin, capture_output=True, env=env, timeout=120, check=False
    )


def test_the_installed_hook_runs_sessiongraph_in_a_project_with_a_graph_package(
    home: Path, tmp_path: Path, decoy: Path
) -> None:
    result = runner.invoke(app, ["hooks", "install", "--db", str(tmp_path / "s.db")])
    assert result.exit_code == 0, result.stderr
    settings = json.loads((home / ".claude" / "settings.json").read_text())
    [command] = {c for commands in installed(settings).values() for c in commands}

    done = run_in(decoy, home, shlex.split(command), stdin=b"{}")
    assert b"PROJECT" not in done.stdout + done.stderr
    assert (done.returncode, done.stdout, done.stderr) == (0, b"", b"")
    log = home / ".local" / "state" / "sessiongraph" / "log" / "hook.log"
    assert log.exists()  # sessiongraph's hook ran, and said why the input was unusable


def test_the_registered_mcp_server_runs_sessiongraph_in_a_project_with_a_graph_package(
    home: Path, tmp_path: Path, decoy: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path / "empty-bin"))  # no `claude`: the file is written
    result = runner.invoke(app, ["mcp", "install", "--db", str(tmp_path / "s.db")])
    assert result.exit_code == 0, result.stderr
    entry = json.loads((home / ".claude.json").read_text())["mcpServers"]["sessiongraph"]

    done = run_in(decoy, home, [entry["command"], *entry["args"], "--help"])
    assert b"PROJECT" not in done.stdout + done.stderr
    assert done.returncode == 0 and b"Model Context Protocol" in done.stdout


def test_hooks_of_the_older_form_are_flagged_and_rewritten_by_install(
    home: Path, tmp_path: Path
) -> None:
    settings = home / ".claude" / "settings.json"
    settings.parent.mkdir()
    old = hook_command(tmp_path / "s.db").replace(" -P ", " ")
    assert imports_from_cwd(old) and not imports_from_cwd(hook_command(tmp_path / "s.db"))
    entry = {"type": "command", "command": old, "timeout": 30}
    settings.write_text(json.dumps({"hooks": {e: [{"hooks": [entry]}] for e in EVENTS}}))

    result = runner.invoke(app, ["hooks", "status"])
    assert "older form" in result.stdout and "reinstall the hooks" in result.stdout

    result = runner.invoke(app, ["hooks", "install", "--db", str(tmp_path / "s.db")])
    assert result.exit_code == 0, result.stderr
    found = installed(json.loads(settings.read_text()))
    assert found == {e: [hook_command(tmp_path / "s.db")] for e in EVENTS}
    assert "older form" not in runner.invoke(app, ["hooks", "status"]).stdout
