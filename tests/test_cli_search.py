"""`sessiongraph search` and `sessiongraph doctor`."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from typer.testing import CliRunner

from graph.cli import app
from graph.store import Store
from tests.factories import make_sessions

runner = CliRunner()


@pytest.fixture
async def filled(db_path: Path) -> Path:
    store = await Store.open(db_path)
    try:
        await make_sessions(store, 4)
    finally:
        await store.close()
    return db_path


def test_search_json_matches_the_api(filled: Path) -> None:
    result = runner.invoke(app, ["search", "answer 2", "--db", str(filled), "--json"])
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["totalCount"] > 0
    hit = data["edges"][0]["node"]
    assert "answer" in hit["snippet"]
    assert hit["session"]["resumeCommand"].startswith("cd /home/dev/app")
    limited = runner.invoke(
        app, ["search", "answer", "--db", str(filled), "--json", "--limit", "2"]
    )
    assert len(json.loads(limited.stdout)["edges"]) == 2


def test_search_filters_and_table(filled: Path) -> None:
    sid = "00000000-0000-4000-8000-000000000001"
    result = runner.invoke(
        app, ["search", "answer", "--db", str(filled), "--session", sid, "--json"]
    )
    sessions = {e["node"]["session"]["sessionId"] for e in json.loads(result.stdout)["edges"]}
    assert sessions == {sid}
    table = runner.invoke(app, ["search", "prompt", "--db", str(filled)], env={"COLUMNS": "160"})
    assert table.exit_code == 0
    assert "claude --resume" in table.stdout and "hits" in table.stdout
    none = runner.invoke(app, ["search", "zzzz", "--db", str(filled)])
    assert none.exit_code == 0 and "no hits" in none.stdout


def test_a_narrow_table_folds_the_resume_command_whole(filled: Path) -> None:
    """A terminal narrower than the command to resume a hit's session: it wraps onto more
    lines, never cut short with "…" (its session id is what the user copies)."""
    args = ["search", "answer", "--db", str(filled), "--limit", "1"]
    [hit] = json.loads(runner.invoke(app, [*args, "--json"]).stdout)["edges"]
    command = hit["node"]["session"]["resumeCommand"]
    table = runner.invoke(app, args, env={"COLUMNS": "44", "NO_COLOR": "1"}).stdout
    where = [line.split("│")[2] for line in table.splitlines() if line.count("│") == 4]
    assert all(len(line) <= 44 for line in table.splitlines())
    assert "".join(command.split()) in "".join("".join(where).split())


@pytest.mark.parametrize("query", ['"open', "a OR", "()"])
def test_search_syntax_errors_are_one_line(filled: Path, query: str) -> None:
    result = runner.invoke(app, ["search", query, "--db", str(filled)])
    assert result.exit_code == 1
    assert result.stderr.startswith("sessiongraph: error:") and result.stderr.count("\n") == 1
    assert "position" in result.stderr


def test_doctor_finds_a_broken_index_and_repair_mends_it(filled: Path) -> None:
    ok = runner.invoke(app, ["doctor", "--db", str(filled)])
    assert ok.exit_code == 0 and "no problems" in ok.stdout
    with sqlite3.connect(filled) as conn:  # rows deleted behind the index's back
        conn.execute("DELETE FROM messages WHERE id % 3 = 0")
    broken = runner.invoke(app, ["doctor", "--db", str(filled)])
    assert broken.exit_code == 1
    assert "search index" in broken.stdout
    assert "problem(s) found" in broken.stderr
    repaired = runner.invoke(app, ["doctor", "--db", str(filled), "--repair"])
    assert repaired.exit_code == 0, repaired.stdout + repaired.stderr
    assert "reindexed" in repaired.stdout and "no problems" in repaired.stdout
    again = runner.invoke(app, ["search", "answer", "--db", str(filled), "--json"])
    with sqlite3.connect(filled) as conn:
        [(answers,)] = conn.execute("SELECT count(*) FROM messages WHERE role = 'assistant'")
    assert json.loads(again.stdout)["totalCount"] == answers
