"""Retention: what Claude Code will delete soon that is not imported, and what only we keep."""

from __future__ import annotations

import json
import os
import shutil
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from graph.claude_settings import cleanup_period
from graph.cli import app
from graph.importers.importer import import_paths
from graph.retention import retention_risk
from graph.store import Store
from tests.test_import_support import MAIN, write_lines

runner = CliRunner()
DAY = 86_400


@pytest.fixture
def claude(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A Claude config dir (via $CLAUDE_CONFIG_DIR) whose settings keep transcripts 3 days."""
    config = tmp_path / "claude"
    config.mkdir()
    (config / "settings.json").write_text(json.dumps({"cleanupPeriodDays": 3, "model": "x"}))
    monkeypatch.setenv("CLAUDE_CONFIG_DIR", str(config))
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    return config


def age(path: Path, days: float) -> None:
    moment = time.time() - days * DAY
    os.utime(path, (moment, moment))


@pytest.fixture
def projects(claude: Path, samples_dir: Path) -> Path:
    """Old transcripts: one to import whole, one to import and then append to, one never."""
    folder = claude / "projects" / "-home-marco-projects-spotter"
    folder.mkdir(parents=True)
    for name in ("short", "tool_heavy", "subagent"):
        shutil.copy(samples_dir / f"{name}.jsonl", folder / f"{name}.jsonl")
    return folder


def invoke(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_the_effective_cleanup_period(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, claude: Path
) -> None:
    period = cleanup_period()
    assert (period.days, period.source) == (3, str(claude / "settings.json"))
    (claude / "settings.json").write_text('{"model": "x"}')
    assert (cleanup_period().days, cleanup_period().source) == (30, "default")
    (claude / "settings.json").write_text("{broken")
    assert cleanup_period().days == 30  # Claude Code could not read it either
    monkeypatch.delenv("CLAUDE_CONFIG_DIR")
    home = tmp_path / "home" / ".claude"
    home.mkdir(parents=True)
    (home / "settings.json").write_text('{"cleanupPeriodDays": 90}')
    assert cleanup_period().days == 90


async def test_transcripts_due_for_deletion_and_not_all_imported_are_at_risk(
    projects: Path, tmp_path: Path
) -> None:
    store = await Store.open(tmp_path / "s.db")
    await import_paths(store, [projects / "short.jsonl", projects / "tool_heavy.jsonl"])
    write_lines(projects / "tool_heavy.jsonl", [{"type": "system", "content": "later"}], mode="a")
    for name in ("short", "tool_heavy", "subagent"):
        age(projects / f"{name}.jsonl", 2)  # deleted in a day: within the week

    try:
        risk = await retention_risk(store)
        assert sorted(p.name for p in risk.files) == ["subagent.jsonl", "tool_heavy.jsonl"]
        assert risk.nbytes == (projects / "subagent.jsonl").stat().st_size + len(
            json.dumps({"type": "system", "content": "later"}) + "\n"
        )
        # With the default 30 days, files 2 days old are due in 28: nothing at risk yet.
        (projects.parent.parent / "settings.json").write_text("{}")
        assert (await retention_risk(store)).files == []
        age(projects / "subagent.jsonl", 25)
        assert [p.name for p in (await retention_risk(store)).files] == ["subagent.jsonl"]
    finally:
        await store.close()


def test_doctor_and_stats_show_the_risk(projects: Path, claude: Path, tmp_path: Path) -> None:
    db = tmp_path / "s.db"
    code, _, err = invoke("import", str(projects / "short.jsonl"), "--db", str(db))
    assert code == 0, err
    for name in ("short", "tool_heavy", "subagent"):
        age(projects / f"{name}.jsonl", 10)

    code, out, _ = invoke("doctor", "--db", str(db))
    assert code == 0, out  # a risk is reported, it is not a fault of the database
    settings = claude / "settings.json"
    assert f"Claude Code deletes transcripts after 3 days (from {settings})" in out
    assert "2 transcript files of 2 sessions" in out and str(projects / "subagent.jsonl") in out

    code, out, _ = invoke("stats", "--db", str(db), "--json")
    assert code == 0
    retention = json.loads(out)["retention"]
    assert retention["cleanupPeriodDays"] == 3 and retention["cleanupPeriodSource"] == str(settings)
    assert (retention["filesAtRisk"], retention["sessionsAtRisk"]) == (2, 2)
    code, out, _ = invoke("stats", "--db", str(db))
    assert "cleanupPeriodDays 3" in out and "2 files of 2 sessions" in out

    code, out, _ = invoke("import", str(projects), "--db", str(db))
    code, out, _ = invoke("doctor", "--db", str(db))
    assert "none of those due within 7 days is missing here" in out


def test_import_reports_sessions_kept_after_their_files_are_gone(
    projects: Path, samples_dir: Path, tmp_path: Path
) -> None:
    db = tmp_path / "s.db"
    shutil.copy(samples_dir / f"{MAIN}.jsonl", projects)
    shutil.copytree(samples_dir / MAIN, projects / MAIN)
    code, out, _ = invoke("import", str(projects), "--db", str(db))
    assert code == 0 and "kept here" not in out
    # Claude Code's sweep: the main transcript and its subagents, and one other session.
    (projects / f"{MAIN}.jsonl").unlink()
    shutil.rmtree(projects / MAIN)
    (projects / "short.jsonl").unlink()
    code, out, _ = invoke("import", str(projects), "--db", str(db))
    assert code == 0
    assert "2 sessions are kept here whose transcript files are gone" in out
    code, out, _ = invoke("import", str(projects), "--db", str(db), "--json")
    assert json.loads(out)["sessionsKeptWithoutFiles"] == 2
