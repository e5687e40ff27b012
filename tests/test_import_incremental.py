"""Re-runs: idempotent, incremental (appended bytes only), truncation, replacement, crashes."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

import pytest

import graph.importers.importer as importer_module
from graph.importers.importer import import_paths
from graph.store import Store
from tests.test_import_support import (
    copy_samples,
    expected_counts,
    parsed_lines,
    query,
    snapshot,
)


async def fresh_snapshot(tmp_path: Path, path: Path, name: str) -> dict[str, Any]:
    """What importing ``path`` whole into an empty database gives."""
    other = await Store.open(tmp_path / f"{name}.db")
    try:
        await import_paths(other, [path])
        return await snapshot(other)
    finally:
        await other.close()


async def test_importing_twice_changes_nothing(
    store: Store, samples_dir: Path, tmp_path: Path
) -> None:
    tree = copy_samples(samples_dir, tmp_path / "projects")
    first = await import_paths(store, [tree])
    before = await snapshot(store)
    statements = store.statements.count
    again = await import_paths(store, [tree])
    # Nothing is read: a stat per file, and three statements whatever the number of files.
    assert store.statements.count - statements <= 3
    assert (again.files, again.files_unchanged, again.files_read) == (6, 6, 0)
    assert (again.lines_read, again.bytes_read) == (0, 0)
    assert (again.messages_added, again.events_added, again.sessions_added) == (0, 0, 0)
    assert await snapshot(store) == before
    assert first.messages_added == len(before["messages"])


def split_inside_a_message(lines: list[bytes]) -> int:
    """An index between two rows of one API message, with an event row before them."""
    parsed = [line for _, line in parsed_lines_of(lines)]
    for index in range(1, len(parsed) - 1):
        a, b = parsed[index], parsed[index + 1]
        if (
            a.get("type") == b.get("type") == "assistant"
            and a["message"]["id"] == b["message"]["id"]
            and index > len(parsed) // 2
        ):
            return index + 1
    raise AssertionError("no split assistant message in the sample")


def parsed_lines_of(lines: list[bytes]) -> list[tuple[int, Any]]:
    return [(i, json.loads(line)) for i, line in enumerate(lines, start=1)]


async def test_half_then_the_rest_equals_the_whole(
    store: Store, samples_dir: Path, tmp_path: Path
) -> None:
    source = samples_dir / "subagent.jsonl"
    data = source.read_bytes()
    lines = data.splitlines(keepends=True)
    cut = split_inside_a_message(lines)
    head = b"".join(lines[:cut])
    partial = lines[cut][: len(lines[cut]) // 2]  # a line still being written
    path = tmp_path / "live" / source.name
    path.parent.mkdir()
    path.write_bytes(head + partial)

    first = await import_paths(store, [path])
    assert first.lines_read == cut and first.bytes_read == len(head)
    state = await query(store, "SELECT offset, line_count, size FROM import_files")
    assert state == [(len(head), cut, len(head) + len(partial))]
    stored = await query(store, "SELECT max(seq) FROM events")
    assert stored[0][0] <= cut

    with path.open("ab") as fh:
        fh.write(data[len(head) + len(partial) :])
    second = await import_paths(store, [path])
    assert second.lines_read == len(lines) - cut
    assert second.bytes_read == len(data) - len(head)
    assert await snapshot(store) == await fresh_snapshot(tmp_path, source, "whole")


async def test_batches_split_anywhere_give_the_same_rows(
    store: Store, samples_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = samples_dir / "subagent.jsonl"
    whole = await fresh_snapshot(tmp_path, source, "whole")
    monkeypatch.setattr(importer_module, "BATCH_LINES", 7)
    summary = await import_paths(store, [source])
    assert summary.lines_read == 96
    assert await snapshot(store) == whole


async def test_a_partial_last_line_waits_for_its_newline(store: Store, tmp_path: Path) -> None:
    path = tmp_path / "s.jsonl"
    path.write_bytes(b'{"type":"system","sessionId":"s"}\n{"type":"user","sessionId":"s","uu')
    await import_paths(store, [path])
    assert await query(store, "SELECT count(*) FROM events") == [(1,)]
    assert await query(store, "SELECT count(*) FROM messages") == [(0,)]
    unchanged = await import_paths(store, [path])
    assert unchanged.files_unchanged == 1
    with path.open("ab") as fh:
        fh.write(b'id":"u1","message":{"content":"hi"}}\n')
    await import_paths(store, [path])
    assert await query(store, "SELECT msg_key, seq FROM messages") == [("u:u1", 2)]


async def test_a_truncated_file_is_read_again_without_duplicates(
    store: Store, samples_dir: Path, tmp_path: Path
) -> None:
    source = samples_dir / "subagent.jsonl"
    path = tmp_path / "subagent.jsonl"
    shutil.copy(source, path)
    await import_paths(store, [path])
    lines = source.read_bytes().splitlines(keepends=True)
    path.write_bytes(b"".join(lines[:40]))  # shorter than before: truncated
    summary = await import_paths(store, [path])
    assert (summary.files_reset, summary.lines_read) == (1, 40)
    messages, events = expected_counts(path)
    assert await query(store, "SELECT message_count, event_count FROM sessions") == [
        (messages, events)
    ]
    shutil.copy(source, path)  # grows back: the rest is appended
    again = await import_paths(store, [path])
    assert (again.files_reset, again.lines_read) == (0, len(lines) - 40)
    assert await snapshot(store) == await fresh_snapshot(tmp_path, source, "whole")


async def test_a_replaced_file_is_read_again_from_the_start(
    store: Store, samples_dir: Path, tmp_path: Path
) -> None:
    path = tmp_path / "s.jsonl"
    shutil.copy(samples_dir / "short.jsonl", path)
    await import_paths(store, [path])
    # Same session, same size or larger, different first bytes: another file now.
    records = [r for _, r in parsed_lines(samples_dir / "short.jsonl")]
    records[0] = {**records[0], "isSnapshotUpdate": True}
    path.write_text("".join(f"{json.dumps(r)}\n" for r in records))
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000))
    summary = await import_paths(store, [path])
    assert summary.files_reset == 1 and summary.lines_read == len(records)
    rows = await query(
        store,
        "SELECT count(*), sum(json_extract(data, '$.isSnapshotUpdate'))"
        " FROM events WHERE type = 'file-history-snapshot'",
    )
    assert rows == [(1, 1)]
    assert await query(store, "SELECT message_count, event_count FROM sessions") == [(5, 6)]


async def test_an_interrupted_import_resumes_where_its_last_batch_committed(
    store: Store, samples_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = samples_dir / "subagent.jsonl"
    monkeypatch.setattr(importer_module, "BATCH_LINES", 20)
    original = importer_module._Importer._store_batch
    calls = 0

    async def failing(self: Any, *args: Any) -> Any:
        nonlocal calls
        calls += 1
        if calls == 3:
            raise RuntimeError("power cut")
        return await original(self, *args)

    monkeypatch.setattr(importer_module._Importer, "_store_batch", failing)
    with pytest.raises(RuntimeError, match="power cut"):
        await import_paths(store, [source])
    # Two batches committed, each with its file state; the third left nothing behind.
    assert await query(store, "SELECT line_count FROM import_files") == [(40,)]
    rows = await query(
        store, "SELECT max(seq) FROM (SELECT seq FROM events UNION ALL SELECT seq FROM messages)"
    )
    assert rows[0][0] <= 40

    monkeypatch.setattr(importer_module._Importer, "_store_batch", original)
    summary = await import_paths(store, [source])
    assert summary.lines_read == 96 - 40
    assert await snapshot(store) == await fresh_snapshot(tmp_path, source, "whole")
