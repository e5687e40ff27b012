"""Shared fixtures: databases are real SQLite files built through the real migrations."""

from __future__ import annotations

import asyncio
import os
import shutil
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from graph.app import create_app
from graph.settings import ServerSettings
from graph.store import Store, load_migrations

FIXTURES = Path(__file__).resolve().parent / "fixtures"
# A user's own secrets.toml (extra patterns, allowed values) must not change what the
# tests see: the built-in rules only, unless a test says otherwise.
os.environ["SESSIONGRAPH_SECRETS_CONFIG"] = str(FIXTURES / "no-secrets-config.toml")
LATEST = load_migrations()[-1].version


# The files that take longest, in that order, ahead of the rest (which keep theirs): a file
# stays on one worker (`--dist loadfile`), so one of these handed out last would keep the
# other workers waiting for it at the end of the run.
_LONGEST_FIRST = (
    "test_fuzz_graphql.py",
    "test_browser.py",
    "test_mcp.py",
    "test_subscriptions.py",
    "test_bench_smoke.py",
    "test_import_cli.py",
    "test_encryption.py",
    "test_usage_api.py",
    "test_import_worker.py",
    "test_cli_failures.py",
    "test_cli_core.py",
    "test_secrets_redact.py",
    "test_hooks.py",
    "test_first_hour.py",
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    rank = {name: n for n, name in enumerate(_LONGEST_FIRST)}
    items.sort(key=lambda item: rank.get(item.path.name, len(rank)))


@pytest.fixture
def samples_dir() -> Path:
    """The real, sanitized Claude Code transcripts (a copy lives in tests/fixtures)."""
    return FIXTURES / "claude-code"


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "sessiongraph.db"


@pytest.fixture(scope="session")
def migrated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An empty database built by the real migrations, once per test process."""
    path = tmp_path_factory.mktemp("migrated") / "empty.db"

    async def build() -> None:
        await (await Store.open(path)).close()

    asyncio.run(build())
    # Closed cleanly, everything is in the one file: a copy of it is the whole database.
    assert not path.with_name(f"{path.name}-wal").exists()
    return path


@pytest.fixture
async def store(db_path: Path, migrated: Path) -> AsyncIterator[Store]:
    """A migrated, empty store on a temp file (a copy of ``migrated``: running the
    migrations for each of some 340 tests cost more than the tests themselves)."""
    shutil.copyfile(migrated, db_path)
    store = await Store.open(db_path)
    try:
        yield store
    finally:
        await store.close()


TOKEN = "test-token-0123456789abcdef"


def api_client(store: Store) -> httpx.AsyncClient:
    """An HTTP client talking to the app in-process, over ``store``, with the token."""
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=create_app(store=store, server=ServerSettings(TOKEN))),
        base_url="http://127.0.0.1",
        headers={"authorization": f"Bearer {TOKEN}"},
    )


@pytest.fixture
async def client(store: Store) -> AsyncIterator[httpx.AsyncClient]:
    async with api_client(store) as client:
        yield client


class GraphQL:
    """Posts queries and returns ``data``, failing the test on unexpected errors."""

    def __init__(self, client: httpx.AsyncClient) -> None:
        self.client = client

    async def raw(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        response = await self.client.post(
            "/graphql", json={"query": query, "variables": variables or {}}
        )
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    async def __call__(self, query: str, **variables: Any) -> dict[str, Any]:
        body = await self.raw(query, variables)
        assert "errors" not in body, body["errors"]
        data: dict[str, Any] = body["data"]
        return data


@pytest.fixture
def gql(client: httpx.AsyncClient) -> GraphQL:
    return GraphQL(client)


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A temporary HOME with nothing of the agents' or sessiongraph's in the environment."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    for name in list(os.environ):
        if name.startswith(("SESSIONGRAPH_", "CLAUDE_", "GEMINI_", "XDG_")):
            monkeypatch.delenv(name)
    return home
