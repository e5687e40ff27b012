"""Helpers shared by the importer and exporter tests (no tests here).

The expectations are computed from the transcript files with the standard ``json``
module and plain loops, independently of the importer's code.
"""

from __future__ import annotations

import asyncio
import json
import re
import shutil
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from graph.importers.importer import import_paths
from graph.store import Store

MAIN = "ae4a77f8-aedd-4bc1-888f-c94edc91af04"
CANONICAL_TS = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z")


def sample_files(samples: Path) -> list[Path]:
    """Every transcript file among the samples."""
    return sorted(samples.glob("*.jsonl")) + sorted(samples.glob("*/subagents/*.jsonl"))


def parsed_lines(path: Path) -> list[tuple[int, Any]]:
    """(line number, parsed value) of every line that is JSON, in file order."""
    lines = []
    with path.open("rb") as fh:
        for number, raw in enumerate(fh, start=1):
            try:
                lines.append((number, json.loads(raw)))
            except ValueError:
                continue
    return lines


def records(path: Path) -> list[dict[str, Any]]:
    """The JSON objects of a file, in order."""
    return [value for _, value in parsed_lines(path) if isinstance(value, dict)]


def message_key(number: int, record: dict[str, Any]) -> tuple[Any, ...]:
    message = record.get("message")
    if record.get("type") == "assistant" and isinstance(message, dict) and message.get("id"):
        return ("api", message["id"], record.get("requestId"))
    return ("row", record.get("uuid") or number)


def expected_counts(path: Path) -> tuple[int, int]:
    """(messages, events) a file should give."""
    keys = set()
    events = 0
    for number, record in parsed_lines(path):
        if not isinstance(record, dict):
            continue
        if record.get("type") in ("user", "assistant"):
            keys.add(message_key(number, record))
        else:
            events += 1
    return len(keys), events


def usage_by_api_message(paths: list[Path]) -> tuple[list[int], list[int]]:
    """(tokens counting each API message once by its last row, naive per-row sum)."""
    last: dict[tuple[Any, ...], list[int]] = {}
    naive = [0, 0, 0, 0]
    for path in paths:
        for number, record in parsed_lines(path):
            if not isinstance(record, dict) or record.get("type") != "assistant":
                continue
            usage = record["message"].get("usage") or {}
            row = [
                usage.get("input_tokens", 0),
                usage.get("output_tokens", 0),
                usage.get("cache_read_input_tokens", 0),
                usage.get("cache_creation_input_tokens", 0),
            ]
            last[(path, *message_key(number, record))] = row
            naive = [a + b for a, b in zip(naive, row, strict=True)]
    once = [sum(row[i] for row in last.values()) for i in range(4)]
    return once, naive


def copy_samples(samples: Path, target: Path) -> Path:
    """A writable copy of the samples under ``target``."""
    shutil.copytree(samples, target, ignore=shutil.ignore_patterns("*.md", "LICENSE*"))
    return target


def write_lines(path: Path, lines: list[Any], *, mode: str = "w") -> None:
    """Write values as JSONL (strings are written as they are)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open(mode + "b") as fh:
        for line in lines:
            if isinstance(line, str):
                line = line.encode()
            fh.write((line if isinstance(line, bytes) else json.dumps(line).encode()) + b"\n")


async def query(store: Store, sql: str, *params: Any) -> list[tuple[Any, ...]]:
    async with store.read() as reader:
        return [tuple(row) for row in await reader.connection.execute_fetchall(sql, params)]


async def snapshot(store: Store) -> dict[str, Any]:
    """Everything the importer stored, keyed by natural keys (not pks)."""
    sessions = await query(
        store,
        "SELECT session_id, project, cwd, git_branch, version, title, summary, started_at,"
        " ended_at, models, conversation_count, sidechain_count, message_count, event_count,"
        " input_tokens, output_tokens, cache_read_tokens, cache_creation_tokens"
        " FROM sessions ORDER BY session_id",
    )
    conversations = await query(
        store,
        "SELECT s.session_id, c.agent_id, c.is_sidechain, c.parent_tool_use_id, c.started_at,"
        " c.ended_at, c.message_count, c.event_count FROM conversations c"
        " JOIN sessions s ON s.id = c.session_pk ORDER BY 1, 2",
    )
    messages = await query(
        store,
        "SELECT s.session_id, c.agent_id, m.msg_key, m.seq, m.uuid, m.role, m.model, m.timestamp,"
        " m.input_tokens, m.output_tokens, m.cache_read_tokens, m.cache_creation_tokens,"
        " m.content FROM messages m JOIN conversations c ON c.id = m.conversation_pk"
        " JOIN sessions s ON s.id = c.session_pk ORDER BY 1, 2, 4",
    )
    events = await query(
        store,
        "SELECT s.session_id, c.agent_id, e.seq, e.uuid, e.type, e.subtype, e.timestamp, e.data"
        " FROM events e JOIN conversations c ON c.id = e.conversation_pk"
        " JOIN sessions s ON s.id = c.session_pk ORDER BY 1, 2, 3",
    )
    return {
        "sessions": sessions,
        "conversations": conversations,
        "messages": [(*row[:-1], json.loads(row[-1])) for row in messages],
        "events": [(*row[:-1], json.loads(row[-1])) for row in events],
    }


SAMPLES = Path(__file__).resolve().parent / "fixtures" / "claude-code"


@pytest.fixture(scope="session", name="samples_db")
def samples_db_fixture(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A database with every sample imported once, for tests that only read it."""
    path = tmp_path_factory.mktemp("samples") / "samples.db"

    async def build() -> None:
        store = await Store.open(path)
        try:
            await import_paths(store, [SAMPLES])
        finally:
            await store.close()

    asyncio.run(build())
    return path


@pytest.fixture(name="imported")
async def imported_fixture(samples_db: Path) -> AsyncIterator[Store]:
    """The samples database, opened (do not write to it)."""
    store = await Store.open(samples_db)
    try:
        yield store
    finally:
        await store.close()
