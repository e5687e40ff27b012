"""Credentials named by their JSON key: ``{"password": "..."}`` in a tool's input, an
event's data. The rules read texts, one string at a time, and never saw the key beside
the value: such values were served, exported and searchable in clear, and no finding.
They are found by the keyword rule's own test of a value, and masked everywhere."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path

import orjson
import pytest
from typer.testing import CliRunner

from graph.cli import app
from graph.secrets import fingerprint
from graph.store import Store
from tests.conftest import api_client
from tests.secret_canaries import (
    cli_import,
    cli_redact,
    imported_redacted,
    imported_store,
    lossless_export,
    masked_writings,
    record_base,
    stored_bytes,
)
from tests.test_secrets_index import hits

SESSION_ID = "5ec2e75e-0000-4000-8000-00000000be75"
# Built so that they never sit whole in this file (see tests/secret_canaries.py).
PASSWORD = "Qz8vLm2xPw9r" + "Tk4nBv7cHh"
API_KEY = "Hb4nTk2wQz8v" + "Lm9xPr7cJd"
NESTED = "Vc7dYh2nRt9m" + "Lx3pKz8wQb"
IN_EVENT = "Jd5kWq8zNm3x" + "Rt7vLp2cYh"
SECRETS = (PASSWORD, API_KEY, NESTED, IN_EVENT)
# Named by a credential's key, but no credential: kept as they are.
NOT_SECRETS = ("${DB_PASSWORD}", "changeme", "see the vault")


def _base(n: int, kind: str) -> dict[str, object]:
    return record_base(n, kind, SESSION_ID, uuid_prefix="k")


def transcript_lines() -> list[dict[str, object]]:
    tool_input = {
        "command": "psql -f wombat.sql",
        "password": PASSWORD,
        "api_key": API_KEY,
        "db": {"client_secret": NESTED, "password": NOT_SECRETS[0]},
        "env": [{"DB_PASSWORD": NOT_SECRETS[1]}, {"password_hint": NOT_SECRETS[2]}],
    }
    return [
        {**_base(1, "user"), "message": {"role": "user", "content": "connect quokka"}},
        {
            **_base(2, "assistant"),
            "requestId": "r-1",
            "message": {
                "id": "msg-1",
                "role": "assistant",
                "model": "claude-opus-4-6",
                "usage": {"input_tokens": 1, "output_tokens": 1},
                "content": [{"type": "tool_use", "id": "t-1", "name": "Db", "input": tool_input}],
            },
        },
        {
            **_base(3, "system"),
            "subtype": "note",
            "content": "capybara connected",
            "auth": {"secret": IN_EVENT},
        },
    ]


def write_transcript(projects: Path) -> Path:
    path = projects / "-home-dev-app" / f"{SESSION_ID}.jsonl"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(line) + "\n" for line in transcript_lines()))
    return path


@pytest.fixture(params=[False, True], ids=["plain", "encrypted"])
async def imported(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Store]:
    async with imported_store(tmp_path, write_transcript, encrypted=request.param) as store:
        yield store


async def test_served_blocks_records_event_data_and_snippets_hold_none(imported: Store) -> None:
    query = """{ sessions { nodes { messages { nodes { records blocks {
        ... on ToolUseBlock { input } } } } events { nodes { data } } } }
        a: search(query: "wombat") { nodes { snippet } }
        b: search(query: "capybara", scopes: [EVENTS]) { nodes { snippet } } }"""
    async with api_client(imported) as client:
        body = (await client.post("/graphql", json={"query": query})).text
        assert "errors" not in orjson.loads(body)
        for secret in SECRETS:
            assert secret not in body, secret
            assert await hits(client, secret) == 0, secret
        for word in ("wombat", "quokka", "capybara"):
            assert await hits(client, word) >= 1, word
    for value in (PASSWORD, API_KEY, NESTED, IN_EVENT):
        assert f"[REDACTED:secret-assignment:{fingerprint(value)}]" in body, value
    for kept in NOT_SECRETS:
        assert kept in body, kept
    assert body.count("snippet") == 2


async def test_they_are_reported(imported: Store) -> None:
    async with imported.read() as reader:
        report = await reader.secret_report()
    assert {(row.kind, row.fingerprint, row.fields) for row in report} == {
        ("secret-assignment", fingerprint(PASSWORD), ("tool_input",)),
        ("secret-assignment", fingerprint(API_KEY), ("tool_input",)),
        ("secret-assignment", fingerprint(NESTED), ("tool_input",)),
        ("secret-assignment", fingerprint(IN_EVENT), ("event",)),
    }
    await imported.reindex()  # a rebuild finds the same
    async with imported.read() as reader:
        assert await reader.secret_report() == report


async def test_the_mcp_transcript_and_exports(imported: Store) -> None:
    written = await masked_writings(imported, SESSION_ID)
    assert "wombat" in written[0]
    for secret in SECRETS:
        assert not any(secret in text for text in written), secret
    assert await lossless_export(imported, SESSION_ID) == (transcript_lines(), len(SECRETS))


def test_secrets_redact_leaves_none(tmp_path: Path) -> None:
    db = cli_import(tmp_path, write_transcript)
    runner = CliRunner()
    assert "redacted 1 message(s), 1 event(s)" in cli_redact(db)
    stored = stored_bytes(db)
    for secret in SECRETS:
        assert secret.encode() not in stored, secret
    for kept in NOT_SECRETS:
        assert kept.encode() in stored, kept
    done = runner.invoke(app, ["secrets", "--db", str(db)])
    assert done.stdout.strip() == "no secrets found"


async def test_import_with_redaction_stores_none(tmp_path: Path) -> None:
    stored = await imported_redacted(tmp_path, write_transcript)
    for secret in SECRETS:
        assert secret.encode() not in stored, secret
