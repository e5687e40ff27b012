"""Secrets in records whose JSON spells them differently from their text: a keyword
beyond ASCII (``contraseña``), written as it is or as an escape (``\\u00f1``, what
Python's ``json.dumps`` writes), and a URL with escaped slashes. The quick test of a
record's JSON text must not pass them by: served, exported, redacted on import and by
``secrets redact``, they are masked like any other."""

from __future__ import annotations

import io
import json
from collections.abc import AsyncIterator
from pathlib import Path

import orjson
import pytest

from graph.export import ExportFormat, SecretPass, export_session
from graph.mcp.transcript import transcript_page
from graph.secrets import SecretScanner
from graph.store import Store
from tests.conftest import api_client
from tests.secret_canaries import (
    cli_import,
    cli_redact,
    imported_redacted,
    imported_store,
    record_base,
    stored_bytes,
)

SESSION_ID = "5ec2e75e-0000-4000-8000-0000000e5c4e"
# Built so that they never sit whole in this file (see tests/secret_canaries.py).
ESCAPED = "7c1d9e4f2a8b" + "6053c7d1e9f4a2b8"
AS_WRITTEN = "e4a2b86053c7" + "d1e97c1d9e4f2a8b"
IN_EVENT = "a8b6053c7d1e" + "9f47c1d9e4f2e4a2"
IN_URL = "Tr0ub4dor" + "AndH0rse"
SECRETS = (ESCAPED, AS_WRITTEN, IN_EVENT, IN_URL)


def _base(n: int, kind: str) -> dict[str, object]:
    return record_base(n, kind, SESSION_ID, uuid_prefix="s")


def _said(n: int, text: str) -> dict[str, object]:
    return {**_base(n, "user"), "message": {"role": "user", "content": text}}


def write_transcript(projects: Path) -> Path:
    """Four records, each written as the test needs its JSON spelled."""
    lines = [
        # json.dumps escapes what is beyond ASCII: the text reads contrase\u00f1a.
        json.dumps(_said(1, f"tapir: contraseña = '{ESCAPED}'")),
        json.dumps(_said(2, f"ibex: contraseña = '{AS_WRITTEN}'"), ensure_ascii=False),
        json.dumps({**_base(3, "system"), "subtype": "note", "content": f"contraseña={IN_EVENT}"}),
        # Slashes escaped, as some JSON writers do: the text never holds "://".
        json.dumps(_said(4, f"psql postgres://admin:{IN_URL}@db.example.com/app")).replace(
            "/", "\\/"
        ),
    ]
    path = projects / "-home-dev-app" / f"{SESSION_ID}.jsonl"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return path


def test_the_transcript_spells_them_as_meant(tmp_path: Path) -> None:
    raw = write_transcript(tmp_path).read_text(encoding="utf-8")
    assert "contrase\\u00f1a" in raw and "contraseña" in raw
    assert "://" not in raw and ":\\/\\/" in raw


@pytest.fixture(params=[False, True], ids=["plain", "encrypted"])
async def imported(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Store]:
    async with imported_store(tmp_path, write_transcript, encrypted=request.param) as store:
        yield store


async def test_served_records_blocks_and_event_data_are_masked(imported: Store) -> None:
    query = """{ sessions { nodes { messages { nodes { text records
        blocks { __typename ... on TextBlock { text } } } }
        events { nodes { data } } } } }"""
    async with api_client(imported) as client:
        body = (await client.post("/graphql", json={"query": query})).text
    assert "errors" not in orjson.loads(body)
    for secret in SECRETS:
        assert secret not in body, secret
    assert body.count("[REDACTED:secret-assignment:") >= 3 * 2  # records and blocks
    assert "[REDACTED:basic-auth:" in body
    assert "tapir" in body and "ibex" in body


async def test_masked_exports_hold_none(imported: Store) -> None:
    for fmt in (ExportFormat.JSON, ExportFormat.MARKDOWN):
        out = io.BytesIO()
        await export_session(imported, SESSION_ID, out, fmt, SecretPass(SecretScanner(), mask=True))
        written = out.getvalue().decode()
        for secret in SECRETS:
            assert secret not in written, (fmt, secret)


async def test_import_with_redaction_stores_none(tmp_path: Path) -> None:
    stored = await imported_redacted(tmp_path, write_transcript)
    for secret in SECRETS:
        assert secret.encode() not in stored, secret


def test_secrets_redact_leaves_none(tmp_path: Path) -> None:
    db = cli_import(tmp_path, write_transcript)
    assert any(secret.encode() in stored_bytes(db) for secret in SECRETS)
    cli_redact(db)
    stored = stored_bytes(db)
    for secret in SECRETS:
        assert secret.encode() not in stored, secret


async def test_the_mcp_transcript_holds_none(imported: Store) -> None:
    text, _ = await transcript_page(imported, SESSION_ID, None, 100_000)
    for secret in (ESCAPED, AS_WRITTEN, IN_URL):
        assert secret not in text, secret
    assert "tapir" in text and "ibex" in text
