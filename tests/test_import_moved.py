"""One transcript reached by another path (moved, renamed, copied, symlinked) is stored
once: nothing is added, and the export is still the original file."""

from __future__ import annotations

import io
import os
import shutil
from pathlib import Path

import pytest

from graph.export import ExportFormat, export_session
from graph.importers.importer import import_paths
from graph.importers.summary import ImportSummary
from graph.store import Store
from tests.conftest import FIXTURES
from tests.test_import_incremental import fresh_snapshot
from tests.test_import_support import query, snapshot

ROLLOUT = FIXTURES / "codex" / "large.jsonl"
LONG = FIXTURES / "codex" / "small.jsonl"  # 145 KB; its first 4 KiB in one line
ROLLOUT_ID = "019b2ea4-aaaa-bbbb-cccc-58208e1f0000"
NAME = f"rollout-2026-01-01T00-00-00-{ROLLOUT_ID}.jsonl"
CLAUDE = FIXTURES / "claude-code" / "short.jsonl"


async def exported(store: Store) -> bytes:
    (session_id,) = [row[0] for row in await query(store, "SELECT session_id FROM sessions")]
    out = io.BytesIO()
    await export_session(store, session_id, out, ExportFormat.JSONL)
    return out.getvalue()


def added(summary: ImportSummary) -> tuple[int, int, int]:
    return (summary.sessions_added, summary.messages_added, summary.events_added)


def lines_of(path: Path, count: int | None = None) -> bytes:
    return b"".join(path.read_bytes().splitlines(keepends=True)[:count])


@pytest.mark.parametrize("cut", [None, 8], ids=["whole", "grown-after-the-move"])
async def test_a_rollout_archived_by_codex_is_not_imported_again(
    store: Store, tmp_path: Path, cut: int | None
) -> None:
    """Codex moves a rollout from sessions/YYYY/MM/DD to archived_sessions: its state
    moves with it, and what it holds beyond is read from there."""
    home = tmp_path / "codex"
    live = home / "sessions" / "2026" / "01" / "01" / NAME
    live.parent.mkdir(parents=True)
    live.write_bytes(lines_of(ROLLOUT, cut))
    await import_paths(store, [home])
    archived = home / "archived_sessions" / NAME
    archived.parent.mkdir()
    os.rename(live, archived)
    archived.write_bytes(ROLLOUT.read_bytes())
    summary = await import_paths(store, [home])
    assert summary.events_added == 0 and summary.files_reset == 0
    assert await snapshot(store) == await fresh_snapshot(tmp_path, ROLLOUT, "whole")
    assert await exported(store) == ROLLOUT.read_bytes()
    assert await query(store, "SELECT path FROM import_files") == [(str(archived),)]
    again = await import_paths(store, [home])
    assert again.files_unchanged == 1 and added(again) == (0, 0, 0)


@pytest.mark.parametrize("sample", [ROLLOUT, CLAUDE], ids=["codex", "claude-code"])
async def test_a_renamed_copied_or_symlinked_transcript_adds_nothing(
    store: Store, tmp_path: Path, sample: Path
) -> None:
    name = NAME if sample == ROLLOUT else sample.name
    real = tmp_path / "real"
    real.mkdir()
    shutil.copy2(sample, real / name)
    (tmp_path / "link").symlink_to(real)
    first = await import_paths(store, [real, tmp_path / "link"])  # one file, two paths
    assert first.files == 1
    whole = await snapshot(store)
    assert whole == await fresh_snapshot(tmp_path, sample, "whole")
    later = await import_paths(store, [tmp_path / "link"])  # through the link, later
    assert added(later) == (0, 0, 0) and later.files_unchanged == 1
    shutil.copytree(real, tmp_path / "copy")  # a copied folder
    os.rename(real / name, real / f"renamed-{name}")  # a renamed file
    summary = await import_paths(store, [real, tmp_path / "copy"])
    assert added(summary) == (0, 0, 0) and summary.files_reset == 0
    assert await snapshot(store) == whole
    assert await exported(store) == sample.read_bytes()


async def test_copies_met_in_one_run_and_grown_alike_are_stored_once(
    store: Store, tmp_path: Path
) -> None:
    """A backup beside its original: read in the same first run, then both grown."""
    paths = [tmp_path / folder / NAME for folder in ("a", "b")]
    for path in paths:
        path.parent.mkdir()
        path.write_bytes(lines_of(ROLLOUT, 8))
    await import_paths(store, [path.parent for path in paths])
    for path in paths:
        path.write_bytes(ROLLOUT.read_bytes())
    await import_paths(store, [path.parent for path in paths])
    assert await snapshot(store) == await fresh_snapshot(tmp_path, ROLLOUT, "whole")
    assert await exported(store) == ROLLOUT.read_bytes()


async def test_an_older_copy_of_a_transcript_read_further_adds_nothing(
    store: Store, tmp_path: Path
) -> None:
    """A copy made before its original was read this far (a backup of yesterday): its
    lines are the first ones already stored; once it catches up, nothing is added."""
    original, backup = tmp_path / "live" / NAME, tmp_path / "backup" / NAME
    for path in (original, backup):
        path.parent.mkdir()
    backup.write_bytes(lines_of(LONG, 60) + b'{"timestamp":"2026-')  # a line being written
    original.write_bytes(LONG.read_bytes())
    await import_paths(store, [original.parent])
    whole = await snapshot(store)
    summary = await import_paths(store, [backup.parent])
    assert added(summary) == (0, 0, 0) and summary.lines_read == 0
    shutil.copy2(original, backup)
    summary = await import_paths(store, [backup.parent])
    assert added(summary) == (0, 0, 0)
    assert await snapshot(store) == whole
    assert await exported(store) == LONG.read_bytes()
