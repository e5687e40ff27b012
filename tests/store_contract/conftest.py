"""The store's contract: what any backend behind ``graph.store``'s public API must do.

The tests here use only the names ``graph.store`` exports (and the pure ``graph.search``
to build a search expression), never SQL or a module of the store: a second backend
(PostgreSQL, for teams) is added to ``BACKENDS`` and must pass the same suite.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest

from graph.crypto import MasterKey
from graph.store import KeyMaterial, Store

Opener = Callable[[Path], Awaitable[Store]]


async def _sqlite(path: Path) -> Store:
    return await Store.open(path / "contract.db")


async def _sqlite_encrypted(path: Path) -> Store:
    return await Store.open(path / "contract.db", key=KeyMaterial(key=MasterKey(bytes(32))))


BACKENDS: dict[str, Opener] = {"sqlite": _sqlite, "sqlite-encrypted": _sqlite_encrypted}


@pytest.fixture(params=sorted(BACKENDS))
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Store]:
    opened = await BACKENDS[request.param](tmp_path)
    try:
        yield opened
    finally:
        await opened.close()
