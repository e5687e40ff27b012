"""Secrets in JSON written into a string: Codex CLI's ``function_call.arguments`` and
``function_call_output.output``. Escaped (``\\"``, ``\\u0041``), they slipped past the
rules, and the blocks read out of the string served them in clear. They are found,
masked on every surface, redacted, and the lossless export still writes them as read."""

from __future__ import annotations

import io
import json
from collections.abc import AsyncIterator
from pathlib import Path

import orjson
import pytest
from typer.testing import CliRunner

from graph.cli import app
from graph.export import ExportFormat, SecretPass, export_session
from graph.mcp.transcript import transcript_page
from graph.secrets import SecretScanner
from graph.store import Store
from tests.conftest import api_client
from tests.secret_canaries import cli_import, cli_redact, imported_store, stored_bytes
from tests.test_secrets_index import hits

SID = "019fc8be-0000-7000-8000-0000000c0dec"
# Built so that they never sit whole in this file (see tests/secret_canaries.py).
PASSWORD = "Wq7zKp3xLm9v" + "Rt2nBc8dYh"
AWS_SECRET = "Xy7/Kp3xLm9vRt2n" + "Bc8dYhQz4Tw1Ju6Mn0Lp5Rs8"
AWS_KEY = "AKIA" + "Q7W2ERT5YU8IOP3A"
GITHUB = "ghp_" + "Zz9yXx8wVv7uTt6sSr5qQp4oOn3mMl2kKj1i"
DB_PASSWORD = "Kq8vL2xP9m" + "Z4wR7tYq"
SECRETS = (PASSWORD, AWS_SECRET, AWS_KEY, GITHUB, DB_PASSWORD)


def _tail(secret: str) -> str:
    # An escaped key is read back out with its escape (\\u0041KIA...): what must never
    # show is the value past the spelled character.
    return secret[-12:]


def _line(kind: str, payload: dict[str, object], second: int) -> str:
    stamp = f"2026-07-02T10:00:{second:02d}.000Z"
    return json.dumps({"timestamp": stamp, "type": kind, "payload": payload})


def rollout_lines() -> list[str]:
    command = (
        f"echo 'password = \"{PASSWORD}\"' > .env; "
        f"echo 'aws_secret_access_key = \"{AWS_SECRET}\"'; "
        f"export AWS_ACCESS_KEY_ID={AWS_KEY} GH_TOKEN={GITHUB} # wombat"
    )
    # As Codex writes them: JSON in a string, the keys' prefixes spelled as escapes.
    arguments = json.dumps({"command": ["bash", "-lc", command]})
    arguments = arguments.replace("AKIA", "\\u0041KIA").replace("ghp_", "gh\\u0070_")
    output = json.dumps({"output": json.dumps({"db": {"password": DB_PASSWORD}}) + " quokka"})
    return [
        _line("session_meta", {"id": SID, "cwd": "/w", "cli_version": "0.146.0"}, 0),
        _line(
            "response_item",
            {
                "type": "message",
                "role": "user",
                "content": [{"type": "input_text", "text": "set up the env"}],
            },
            1,
        ),
        _line(
            "response_item",
            {
                "type": "function_call",
                "id": "fn-1",
                "call_id": "call-1",
                "name": "shell",
                "arguments": arguments,
            },
            2,
        ),
        _line(
            "response_item",
            {"type": "function_call_output", "call_id": "call-1", "output": output},
            3,
        ),
    ]


def write_rollout(projects: Path) -> Path:
    path = projects / f"rollout-2026-07-02T10-00-00-{SID}.jsonl"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(line + "\n" for line in rollout_lines()))
    return path


def test_the_rollout_hides_them_from_a_plain_reading(tmp_path: Path) -> None:
    raw = write_rollout(tmp_path).read_text()
    assert AWS_KEY not in raw and GITHUB not in raw
    assert '\\\\\\"' + PASSWORD in raw  # password = \"...\" inside the JSON string


@pytest.fixture(params=[False, True], ids=["plain", "encrypted"])
async def imported(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Store]:
    async with imported_store(tmp_path, write_rollout, encrypted=request.param) as store:
        yield store


async def test_served_blocks_records_and_snippets_hold_none(imported: Store) -> None:
    query = """{ sessions { nodes { messages { nodes { text records blocks { __typename
        ... on ToolUseBlock { input } ... on ToolResultBlock { content rawContent } } } } } }
        a: search(query: "wombat") { nodes { snippet } }
        b: search(query: "quokka", filter: {fields: [TOOL_OUTPUT]}) { nodes { snippet } } }"""
    async with api_client(imported) as client:
        body = (await client.post("/graphql", json={"query": query})).text
        assert "errors" not in orjson.loads(body)
        for secret in SECRETS:
            assert _tail(secret) not in body, secret
            assert await hits(client, secret) == 0, secret
        assert await hits(client, "wombat") == 1 and await hits(client, "quokka") == 1
    for kind in ("secret-assignment", "aws-access-key", "github-token"):
        assert f"[REDACTED:{kind}:" in body, kind
    assert body.count("snippet") == 2


async def test_they_are_reported(imported: Store) -> None:
    async with imported.read() as reader:
        report = await reader.secret_report()
    found = {(row.kind, row.fingerprint, row.fields) for row in report}
    fingerprint = SecretScanner().scan(f"password = '{DB_PASSWORD}'")[0].fingerprint
    assert ("secret-assignment", fingerprint, ("tool_output",)) in found
    # AWS: the key id, and the secret key (its own rule, not the keyword one).
    kinds = sorted(row.kind for row in report)
    assert kinds == ["aws-access-key"] * 2 + ["github-token"] + ["secret-assignment"] * 2


async def test_the_mcp_transcript_and_masked_exports_hold_none(imported: Store) -> None:
    text, _ = await transcript_page(imported, SID, None, 100_000)
    assert "wombat" in text and "quokka" in text
    written = [text]
    for fmt in (ExportFormat.JSONL, ExportFormat.JSON, ExportFormat.MARKDOWN):
        out = io.BytesIO()
        await export_session(imported, SID, out, fmt, SecretPass(SecretScanner(), mask=True))
        written.append(out.getvalue().decode())
    for secret in SECRETS:
        assert not any(_tail(secret) in text for text in written), secret


async def test_the_lossless_export_writes_them_as_read(imported: Store, tmp_path: Path) -> None:
    out = io.BytesIO()
    secrets = SecretPass(SecretScanner(), mask=False)
    await export_session(imported, SID, out, ExportFormat.JSONL, secrets)
    exported = [json.loads(line) for line in out.getvalue().decode().splitlines()]
    assert exported == [json.loads(line) for line in rollout_lines()]
    assert secrets.found == len(SECRETS)


def test_secrets_redact_leaves_none(tmp_path: Path) -> None:
    db = cli_import(tmp_path, write_rollout)
    runner = CliRunner()
    done = runner.invoke(app, ["show", SID, "--db", str(db)])
    assert done.exit_code == 0 and "wombat" in done.stdout, done.stderr
    assert not any(_tail(secret) in done.stdout for secret in SECRETS)
    assert "redacted 2 message(s)" in cli_redact(db)
    stored = stored_bytes(db)
    for secret in SECRETS:
        assert _tail(secret).encode() not in stored, secret
    done = runner.invoke(app, ["show", SID, "--db", str(db)])
    assert done.exit_code == 0 and "wombat" in done.stdout, done.stderr
