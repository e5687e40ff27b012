"""Each command loads only what it uses: ``--help``, ``--version`` and ``hook`` start
without the GraphQL stack, the web server, the MCP SDK, the price data or rich tables.

Every command module is imported for every command line (see :mod:`graph.cli.base`), so
one heavy import at the top of any of them is paid by all. These run the real entry
point in a fresh interpreter and look at ``sys.modules`` afterwards.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from graph.cli.base import Source
from graph.export import ExportFormat
from graph.export_format import ExportFormat as LeafExportFormat
from graph.schema.values import SessionSource
from tests.test_import_support import MAIN

# What no command that does not serve, query or price should load.
SERVING = ("strawberry", "graphql", "starlette", "uvicorn", "mcp", "genai_prices")
# What parsing a command line needs none of (a command that works loads them itself).
WORKING = ("graph.schema", "graph.store", "graph.importers", "graph.export", "aiosqlite")

_PROBE = """
import json, sys
out, args = sys.argv[1], json.loads(sys.argv[2])
sys.argv = ["sessiongraph", *args]
from graph.cli import main
try:
    main()
except SystemExit:
    pass
with open(out, "w") as fh:
    json.dump(sorted(sys.modules), fh)
"""


def loaded(home: Path, *args: str, stdin: bytes = b"") -> tuple[set[str], str]:
    """The modules loaded by ``sessiongraph ARGS`` (run as the console script runs it),
    and what it printed."""
    out = home / "modules.json"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SESSIONGRAPH_", "XDG_"))}
    env["HOME"] = str(home)
    done = subprocess.run(
        [sys.executable, "-c", _PROBE, str(out), json.dumps(args)],
        input=stdin,
        capture_output=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr.decode()
    return set(json.loads(out.read_text())), done.stdout.decode()


def packages(modules: set[str], names: tuple[str, ...]) -> list[str]:
    """Those of ``names`` (packages) that are loaded, in part or whole."""
    return [n for n in names if any(m == n or m.startswith(n + ".") for m in modules)]


def test_help_loads_no_server_schema_store_or_prices(home: Path) -> None:
    modules, out = loaded(home, "--help")
    assert "serve" in out and "hook" in out and "usage" in out
    assert packages(modules, SERVING + WORKING) == []


def test_version_loads_no_server_schema_store_prices_or_rich(home: Path) -> None:
    modules, out = loaded(home, "--version")
    assert out.startswith("sessiongraph ")
    assert packages(modules, (*SERVING, *WORKING, "rich")) == []


def test_a_hook_with_nothing_to_import_loads_no_server_store_or_rich(
    home: Path, tmp_path: Path
) -> None:
    event = b'{"session_id": "s", "hook_event_name": "Stop"}'
    modules, out = loaded(home, "hook", "--db", str(tmp_path / "s.db"), stdin=event)
    assert out == ""
    assert packages(modules, (*SERVING, *WORKING, "rich")) == []


def test_a_hook_that_imports_loads_the_store_and_importers_only(
    home: Path, tmp_path: Path, samples_dir: Path
) -> None:
    transcript = tmp_path / f"{MAIN}.jsonl"
    shutil.copy(samples_dir / f"{MAIN}.jsonl", transcript)
    event = json.dumps(
        {"session_id": MAIN, "transcript_path": str(transcript), "hook_event_name": "Stop"}
    ).encode()
    modules, out = loaded(home, "hook", "--db", str(tmp_path / "s.db"), stdin=event)
    assert out == ""
    assert (tmp_path / "s.db").exists()
    assert packages(modules, ("graph.store", "graph.importers")) == [
        "graph.store",
        "graph.importers",
    ]
    assert packages(modules, (*SERVING, "graph.schema", "rich")) == []


@pytest.mark.parametrize("command", ["serve", "usage", "sessions", "export", "mcp"])
def test_a_command_help_loads_nothing_the_command_runs_with(home: Path, command: str) -> None:
    modules, out = loaded(home, command, "--help")
    assert "Usage: sessiongraph" in out
    assert packages(modules, SERVING + WORKING) == []


def test_serve_help_still_lists_its_options(home: Path) -> None:
    _, out = loaded(home, "serve", "--help")
    for option in ("--host", "--port", "--token-file", "--no-auth", "--watch", "--metrics-port"):
        assert option in out


def test_the_source_choice_is_the_schemas_session_source() -> None:
    # `--source` sends the member's name to the GraphQL filter: names and values match.
    assert [(s.name, s.value) for s in Source] == [(s.name, s.value) for s in SessionSource]


def test_export_format_is_one_enum() -> None:
    assert ExportFormat is LeafExportFormat
