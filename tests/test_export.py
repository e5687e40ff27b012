"""Exporting sessions: jsonl gives back every imported record; json and markdown read well."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from graph.errors import UserInputError
from graph.export import ExportFormat, export_session
from graph.importers.importer import import_paths
from graph.store import Store
from tests.test_import_support import (  # noqa: F401  (fixtures by name)
    MAIN,
    imported_fixture,
    parsed_lines,
    records,
    sample_files,
    samples_db_fixture,
    write_lines,
)


def session_files(samples: Path) -> dict[str, list[Path]]:
    """Each session's files in export order: main thread, then subagents by start time."""
    sessions: dict[str, list[Path]] = {}
    for path in sample_files(samples):
        session_id = next(r["sessionId"] for r in records(path) if "sessionId" in r)
        sessions.setdefault(session_id, []).append(path)
    for paths in sessions.values():
        paths.sort(
            key=lambda p: (
                p.parent.name == "subagents",
                min(r["timestamp"] for r in records(p) if "timestamp" in r),
            )
        )
    return sessions


async def export(store: Store, session_id: str, fmt: ExportFormat) -> bytes:
    out = io.BytesIO()
    await export_session(store, session_id, out, fmt)
    return out.getvalue()


async def test_jsonl_round_trips_every_sample_file(imported: Store, samples_dir: Path) -> None:
    sessions = session_files(samples_dir)
    assert sum(len(paths) for paths in sessions.values()) == len(sample_files(samples_dir)) == 6
    for session_id, paths in sessions.items():
        exported = (await export(imported, session_id, ExportFormat.JSONL)).splitlines()
        expected = [record for path in paths for record in records(path)]
        assert len(exported) == len(expected)
        for line, original in zip(exported, expected, strict=True):
            assert json.loads(line) == original


async def test_jsonl_of_a_file_with_bad_lines_is_the_good_lines(
    store: Store, tmp_path: Path
) -> None:
    path = tmp_path / "s.jsonl"
    good = [
        {"type": "summary", "summary": "x", "leafUuid": "none"},
        {"type": "user", "sessionId": "s", "uuid": "u1", "message": {"content": "é ✓ \u2028"}},
        {"type": "assistant", "sessionId": "s", "message": {"id": "m", "content": [{"a": 1.5}]}},
        {"type": "progress", "sessionId": "s", "data": {"type": "x", "big": 2**62, "n": None}},
        {"type": "assistant", "sessionId": "s", "message": {"id": "m", "content": []}},
    ]
    write_lines(path, [good[0], good[1], "{oops", good[2], good[3], "[]", good[4]])
    await import_paths(store, [path])
    exported = (await export(store, "s", ExportFormat.JSONL)).splitlines()
    assert [json.loads(line) for line in exported] == good


async def test_json_is_one_document_with_session_and_threads(imported: Store) -> None:
    document = json.loads(await export(imported, MAIN, ExportFormat.JSON))
    session = document["session"]
    assert session["sessionId"] == MAIN and session["cwd"].endswith("spotter-4te")
    assert session["messageCount"] == 466 + 16 + 2 and session["eventCount"] == 1728 + 12
    threads = document["conversations"]
    assert [(t["agentId"], t["isSidechain"]) for t in threads] == [
        ("", False),
        ("aac57f5", True),
        ("acompact-946d2b", True),
    ]
    assert threads[1]["parentToolUseId"] == "toolu_01Hf8v1Za7y4af8VUwSR4CXU"
    assert [len(t["records"]) for t in threads] == [2385, 40, 2]
    assert threads[0]["records"][0]["line"] == 1
    assert [r["line"] for r in threads[0]["records"]] == list(range(1, 2386))


async def test_markdown_is_a_readable_transcript(imported: Store, samples_dir: Path) -> None:
    text = (await export(imported, MAIN, ExportFormat.MARKDOWN)).decode()
    # Titled by its first prompt, cut at a word (Claude Code wrote no title for it).
    assert text.startswith(
        "# Work on bead spotter-4te. Run bd show spotter-4te to see the issue details and…\n"
    )
    assert "## Main conversation" in text
    assert "## Subagent `aac57f5` (started by tool call `toolu_01Hf8v1Za7y4af8VUwSR4CXU`)" in text
    first_prompt = next(
        r["message"]["content"]
        for r in records(samples_dir / f"{MAIN}.jsonl")
        if r["type"] == "user" and isinstance(r["message"]["content"], str)
    )
    assert first_prompt.strip() in text
    assert "**Tool call** `Bash` command: `bd show spotter-4te`" in text
    assert "<details><summary>Thinking</summary>" in text
    assert "more lines)" in text  # long tool results are cut
    assert "*2026-02-12 14:48:36 · Conversation compacted*" in text
    assert '"type":"progress"' not in text and "hook_progress" not in text
    assert len(text) < len((samples_dir / f"{MAIN}.jsonl").read_text()) / 5


async def test_an_unknown_session_is_a_clear_error(imported: Store) -> None:
    with pytest.raises(UserInputError, match="no session with id 'nope'"):
        await export(imported, "nope", ExportFormat.JSONL)


def test_every_sample_line_is_json(samples_dir: Path) -> None:
    # The round trip above covers every line only if no sample line is skipped.
    for path in sample_files(samples_dir):
        assert len(parsed_lines(path)) == len(path.read_bytes().splitlines())
