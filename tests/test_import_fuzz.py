"""Fields of an unexpected JSON type, in every format: each line is kept or reported with
its file and line, and the import of the other files goes on."""

from __future__ import annotations

import copy
import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from graph.export import ExportFormat, export_session
from graph.importers.importer import import_paths
from graph.store import Store
from tests.conftest import FIXTURES
from tests.test_import_support import query, write_lines

# Each value replaces, in turn, every field a record has (two levels down).
WRONG: list[Any] = [None, "x", 7, -5, 1.5, True, [], ["message"], {}, {"type": "x"}]
GOOD = {
    "type": "user",
    "sessionId": "good",
    "uuid": "g1",
    "timestamp": "2026-03-01T10:00:00.000Z",
    "message": {"role": "user", "content": "hello"},
}


def fields(value: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    """The paths to every field of ``value``, two levels down (the first list item)."""
    if len(path) > 2:
        return
    items = value.items() if isinstance(value, dict) else enumerate(value[:1])
    for key, child in items:
        yield (*path, key)
        if isinstance(child, dict | list):
            yield from fields(child, (*path, key))


def mutations(records: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    """Every record, with each of its fields replaced by each of :data:`WRONG`."""
    for record in records:
        for path in fields(record):
            for wrong in WRONG:
                mutated = copy.deepcopy(record)
                holder = mutated
                for key in path[:-1]:
                    holder = holder[key]
                holder[path[-1]] = wrong
                yield mutated


def fuzzed(source: Path, target: Path) -> int:
    """``target``: the first line of ``source``, then every mutation of its lines."""
    records = [json.loads(line) for line in source.read_text().splitlines() if line.strip()]
    lines = [records[0], *mutations(records[:30])]
    write_lines(target, lines)
    return len(lines)


@pytest.mark.parametrize(
    ("sample", "name"),
    [
        ("codex/small.jsonl", "rollout-2026-01-01T00-00-00-fz.jsonl"),
        ("codex/codex_050_legacy.jsonl", "rollout-2026-01-01T00-00-00-fz.jsonl"),
        ("codex/codex_051_usage.jsonl", "rollout-2026-01-01T00-00-00-fz.jsonl"),
        ("claude-code/short.jsonl", "fz.jsonl"),
        ("claude-code/tool_heavy.jsonl", "fz.jsonl"),
        ("gemini/jsonl_v040.jsonl", "chats/session-fz.jsonl"),
    ],
)
async def test_fields_of_any_type_are_kept_or_reported(
    store: Store, tmp_path: Path, sample: str, name: str
) -> None:
    root = tmp_path / "in"
    count = fuzzed(FIXTURES / sample, root / name)
    write_lines(root / "good.jsonl", [GOOD])
    summary = await import_paths(store, [root])
    assert summary.files_read == 2
    ids = [row[0] for row in await query(store, "SELECT session_id FROM sessions")]
    assert "good" in ids  # the other file is imported
    # Every line of the fuzzed file is stored (in one session or another) or reported.
    exported = 0
    for stored in ids:
        if stored == "good":
            continue
        out = io.BytesIO()
        await export_session(store, stored, out, ExportFormat.JSONL)
        exported += len(out.getvalue().splitlines())
    assert exported + summary.lines_skipped == count


async def test_fields_of_any_type_in_a_gemini_document(store: Store, tmp_path: Path) -> None:
    document = json.loads((FIXTURES / "gemini/small.json").read_text())
    items = [item for item in document["messages"][:10] if isinstance(item, dict)]
    document["messages"] = [*items, *mutations(items)]
    root = tmp_path / "in"
    (root / "chats").mkdir(parents=True)
    (root / "chats" / "session-fz.json").write_text(json.dumps(document))
    write_lines(root / "good.jsonl", [GOOD])
    summary = await import_paths(store, [root])
    assert summary.files_read == 2 and summary.lines_skipped == 0
    ids = [row[0] for row in await query(store, "SELECT session_id FROM sessions")]
    assert "good" in ids and len(ids) == 2
