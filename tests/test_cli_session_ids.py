"""``sessions`` shows each id as far as it takes to tell it apart, so that ``show`` takes
what the list shows: Codex ids are UUIDv7, alike for their first 8 digits (and more) when
sessions start within a minute of each other."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from graph.cli import app
from graph.cli.browse import short_id
from tests.test_import_support import write_lines

runner = CliRunner()

# UUIDv7: 48 bits of milliseconds first. The first two 16 ms apart, the second and third
# in the same millisecond, the last an hour on.
IDS = {
    "019c0000-0000-7000-8000-00000000abcd": "019c0000-000",
    "019c0000-0010-7000-8000-00000000abcd": "019c0000-0010-70",
    "019c0000-0010-7abc-8000-00000000abcd": "019c0000-0010-7a",
    "019c0d7a-4000-7000-8000-000000000001": "019c0d7a",
}


@pytest.fixture
def db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("COLUMNS", "200")  # the whole id column in view
    for n, session_id in enumerate(IDS):
        record = {
            "type": "user",
            "sessionId": session_id,
            "uuid": f"u{n}",
            "timestamp": f"2026-03-01T10:0{n}:00Z",
            "message": {"role": "user", "content": f"session {n}"},
        }
        write_lines(tmp_path / "p" / f"{n}.jsonl", [record])
    db = tmp_path / "s.db"
    assert runner.invoke(app, ["import", str(tmp_path / "p"), "--db", str(db)]).exit_code == 0
    return db


def test_sessions_shows_the_shortest_prefix_show_takes(db: Path) -> None:
    result = runner.invoke(app, ["sessions", "--db", str(db)])
    assert result.exit_code == 0, result.stderr
    shown = re.findall(r"^\s*(019c[0-9a-f-]*)\s", result.stdout, re.MULTILINE)
    assert sorted(shown) == sorted(IDS.values())
    for session_id, short in IDS.items():
        done = runner.invoke(app, ["show", short, "--db", str(db)])
        assert done.exit_code == 0, done.stderr
        assert f"session {list(IDS).index(session_id)}" in done.stdout
    # Filtered to one, the ids are still told apart from all the others stored.
    result = runner.invoke(app, ["sessions", "--db", str(db), "--limit", "1"])
    assert "019c0d7a " in result.stdout


def test_short_id_is_at_least_8_and_the_whole_id_when_another_extends_it() -> None:
    assert short_id("abcdefghij", None, None) == "abcdefgh"
    assert short_id("abcdefghij", "abcdefghaa", "abcdefghiz") == "abcdefghij"
    assert short_id("abcdefghij", "abc", "abcdefghijk") == "abcdefghij"
    assert short_id("abcdefghijk", "abcdefghij", None) == "abcdefghijk"
