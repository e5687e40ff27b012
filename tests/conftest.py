"""Shared fixtures: databases are real SQLite files built through the real migrations."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from graph.store import Store

FIXTURES = Path(__file__).resolve().parent / "fixtures"


@pytest.fixture
def samples_dir() -> Path:
    """The real, sanitized Claude Code transcripts (a copy lives in tests/fixtures)."""
    return FIXTURES / "claude-code"


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "sessiongraph.db"


@pytest.fixture
async def store(db_path: Path) -> AsyncIterator[Store]:
    """A migrated, empty store on a temp file."""
    store = await Store.open(db_path)
    try:
        yield store
    finally:
        await store.close()
