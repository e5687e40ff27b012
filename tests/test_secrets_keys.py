"""Credentials used as JSON object keys (``{"AKIA...": "keyed"}``): masking and redaction
changed values only, so keys were served, exported and stored in clear. They are masked
and redacted like values and reported, and two keys that mask alike keep both values."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path

import orjson
import pytest
from typer.testing import CliRunner

from graph.cli import app
from graph.secrets import SecretScanner, fingerprint, placeholder
from graph.store import Store
from tests.conftest import api_client
from tests.secret_canaries import (
    AWS,
    GITHUB,
    cli_import,
    cli_redact,
    imported_redacted,
    imported_store,
    lossless_export,
    masked_writings,
    record_base,
    stored_bytes,
)

SESSION_ID = "5ec2e75e-0000-4000-8000-0000000c0475"
SECRETS = (AWS, GITHUB)
MASKED_AWS = placeholder("aws-access-key", AWS)


def _base(n: int, kind: str) -> dict[str, object]:
    return record_base(n, kind, SESSION_ID, uuid_prefix="y")


def transcript_lines() -> list[dict[str, object]]:
    tool_input = {
        "command": "deploy wombat",
        "env": {AWS: "keyed", f"token {GITHUB}": "x"},
        # A key already masked beside the key it masks: both values must stay.
        "seen": {AWS: "first", MASKED_AWS: "second"},
    }
    return [
        {
            **_base(1, "user"),
            "message": {"role": "user", "content": "deploy it"},
            "extraField": {GITHUB: "json key holds the token"},
        },
        {
            **_base(2, "assistant"),
            "requestId": "r-1",
            "message": {
                "id": "msg-1",
                "role": "assistant",
                "model": "claude-opus-4-6",
                "usage": {"input_tokens": 1, "output_tokens": 1},
                "content": [{"type": "tool_use", "id": "t-1", "name": "Bash", "input": tool_input}],
            },
        },
        {**_base(3, "system"), "subtype": "note", "content": "capybara", "meta": {AWS: 1}},
    ]


def write_transcript(projects: Path) -> Path:
    path = projects / "-home-dev-app" / f"{SESSION_ID}.jsonl"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(line) + "\n" for line in transcript_lines()))
    return path


def test_two_keys_masked_alike_keep_both_values() -> None:
    masked = SecretScanner().mask_json({AWS: "first", MASKED_AWS: "second", "n": 1})
    assert masked == {f"{MASKED_AWS} (2)": "first", MASKED_AWS: "second", "n": 1}


@pytest.fixture(params=[False, True], ids=["plain", "encrypted"])
async def imported(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Store]:
    async with imported_store(tmp_path, write_transcript, encrypted=request.param) as store:
        yield store


async def test_served_records_blocks_and_event_data_hold_none(imported: Store) -> None:
    query = """{ sessions { nodes { messages { nodes { records blocks {
        ... on ToolUseBlock { input } } } } events { nodes { data } } } } }"""
    async with api_client(imported) as client:
        body = (await client.post("/graphql", json={"query": query})).text
    data = orjson.loads(body)
    assert "errors" not in data
    for secret in SECRETS:
        assert secret not in body, secret
    (session,) = data["data"]["sessions"]["nodes"]
    block = session["messages"]["nodes"][1]["blocks"][0]["input"]
    assert block["seen"] == {f"{MASKED_AWS} (2)": "first", MASKED_AWS: "second"}
    assert block["env"] == {
        MASKED_AWS: "keyed",
        f"token {placeholder('github-token', GITHUB)}": "x",
    }
    assert session["events"]["nodes"][0]["data"]["meta"] == {MASKED_AWS: 1}


async def test_they_are_reported(imported: Store) -> None:
    async with imported.read() as reader:
        report = await reader.secret_report()
    assert {(row.kind, row.fingerprint, row.fields) for row in report} == {
        ("aws-access-key", fingerprint(AWS), ("event", "tool_input")),
        ("github-token", fingerprint(GITHUB), ("tool_input",)),
    }


async def test_the_mcp_transcript_and_exports(imported: Store) -> None:
    written = await masked_writings(imported, SESSION_ID)
    assert "wombat" in written[0]
    for secret in SECRETS:
        assert not any(secret in text for text in written), secret
    assert await lossless_export(imported, SESSION_ID) == (transcript_lines(), 5)


def test_secrets_redact_leaves_none_and_loses_no_value(tmp_path: Path) -> None:
    db = cli_import(tmp_path, write_transcript)
    runner = CliRunner()
    assert "redacted 2 message(s), 1 event(s)" in cli_redact(db)
    stored = stored_bytes(db)
    for secret in SECRETS:
        assert secret.encode() not in stored, secret
    assert b'(2)":"first"' in stored and b'"second"' in stored
    done = runner.invoke(app, ["secrets", "--db", str(db)])
    assert done.stdout.strip() == "no secrets found"
    done = runner.invoke(app, ["secrets", "redact", "--all", "--db", str(db)])
    assert done.stdout.strip() == "nothing to redact"  # numbered once, for good


async def test_import_with_redaction_stores_none(tmp_path: Path) -> None:
    stored = await imported_redacted(tmp_path, write_transcript)
    for secret in SECRETS:
        assert secret.encode() not in stored, secret
