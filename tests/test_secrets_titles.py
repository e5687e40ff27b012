"""A title derived from a prompt never holds part of a credential: the prompt is masked
whole before it is cut to a title (a cut secret is no longer recognised, and its first
part would be stored, served, searchable and left by `secrets redact`)."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from graph.cli import app
from graph.importers.history import import_history
from graph.importers.importer import import_paths
from graph.importers.prompts import TITLE_CHARS, shorten, title_of
from graph.keys import write_key_file
from graph.secrets import PLACEHOLDER, SecretScanner
from graph.store import Store
from graph.store.keyring import KeyMaterial
from tests.conftest import api_client
from tests.secret_canaries import KEY, record_base
from tests.test_secrets_index import hits

# A password in a URL whose end falls past the title's 80 characters.
PASSWORD = "Zx9vQ2mLp8rT4kW7" + "xQ9zLmN0pQ"
PROMPT = (
    f"Deploy to prod with postgres://svc_reporting_readonly_user:{PASSWORD}"
    "@db.internal.example.com/prod"
)
SESSION = "5ec2e75e-0000-4000-8000-0000000071e1"
GONE = "5ec2e75e-0000-4000-8000-0000000071e2"
QUERY = "{ sessions(first: 10) { nodes { sessionId title } } }"
runner = CliRunner()


def pieces(secret: str) -> list[str]:
    """Every 6-character piece of ``secret``: what a title must hold none of."""
    return [secret[i : i + 6] for i in range(len(secret) - 5)]


def test_the_whole_prompt_is_masked_before_it_is_cut() -> None:
    assert PASSWORD[:20] in shorten(PROMPT)  # cut first, the password is half there
    title = title_of(PROMPT, SecretScanner().mask)
    assert len(title) <= TITLE_CHARS
    assert not any(piece in title for piece in pieces(PASSWORD)), title
    assert title.startswith("Deploy to prod with postgres://svc_reporting_readonly_user")


def test_a_placeholder_is_cut_before_never_through() -> None:
    mask = SecretScanner().mask
    shown = set()
    for lead in range(0, 40, 3):  # the placeholder ends inside the title, then past it
        title = title_of("x " * (lead // 2) + PROMPT[20:], mask)
        shown.add("[REDACTED" in title)
        assert "[REDACTED" not in title or PLACEHOLDER.search(title), title
        assert not any(piece in title for piece in pieces(PASSWORD)), title
    assert shown == {True, False}


def _transcript(folder: Path) -> Path:
    path = folder / "-home-dev-app" / f"{SESSION}.jsonl"
    path.parent.mkdir(parents=True)
    record = {**record_base(1, "user", SESSION), "message": {"role": "user", "content": PROMPT}}
    path.write_text(json.dumps(record) + "\n")
    return path


def _history(folder: Path) -> Path:
    path = folder / "history.jsonl"
    line = {"display": PROMPT, "pastedContents": {}, "timestamp": 1_760_000_000_000}
    path.write_text(json.dumps({**line, "project": "/home/dev/app", "sessionId": GONE}) + "\n")
    return path


@pytest.mark.parametrize("encrypted", [False, True], ids=["plain", "encrypted"])
async def test_no_title_holds_part_of_a_secret_in_the_store_the_api_or_the_index(
    tmp_path: Path, encrypted: bool
) -> None:
    db = tmp_path / "s.db"
    store = await Store.open(db, key=KeyMaterial(key=KEY) if encrypted else None)
    try:
        await import_paths(store, [_transcript(tmp_path / "projects")])
        await import_history(store, _history(tmp_path))
        async with api_client(store) as client:
            body = (await client.post("/graphql", json={"query": QUERY})).json()
            nodes = body["data"]["sessions"]["nodes"]
            titles = {node["sessionId"]: node["title"] for node in nodes}
            assert set(titles) == {SESSION, GONE}
            for title in titles.values():
                assert title.startswith("Deploy to prod with postgres://svc_reporting")
                assert not any(piece in title for piece in pieces(PASSWORD)), title
            # Only the prompts themselves held it, and they leave it out of the index.
            assert await hits(client, "svc_reporting_readonly_user") == 4
            assert await hits(client, PASSWORD[:20]) == 0
        async with store.read() as reader:
            report = await reader.secret_report()
        assert [(row.kind, row.fields, row.count) for row in report] == [
            ("basic-auth", ("text",), 2)
        ]
        await store.checkpoint()
    finally:
        await store.close()
    if not encrypted:  # the records keep the value; no title holds a cut piece of it
        assert (PASSWORD[:20] + "…").encode() not in db.read_bytes()


async def _cut_before_masking(db: Path, key: KeyMaterial | None) -> None:
    """Give both sessions the title an earlier version derived: cut from the raw prompt."""
    store = await Store.open(db, key=key)
    try:
        async with store.write() as writer:
            for session_id in (SESSION, GONE):
                pk = await writer.transcripts.session_pk_of_session_id(session_id)
                assert pk is not None
                await writer.set_session_text(pk, title=shorten(PROMPT), title_source="prompt")
        async with api_client(store) as client:
            assert await hits(client, PASSWORD[:20]) == 2  # what the bug left searchable
    finally:
        await store.close()


async def _served_titles(db: Path, key: KeyMaterial | None) -> tuple[list[str], int]:
    store = await Store.open(db, key=key)
    try:
        async with api_client(store) as client:
            body = (await client.post("/graphql", json={"query": QUERY})).json()
            return [n["title"] for n in body["data"]["sessions"]["nodes"]], await hits(
                client, PASSWORD[:20]
            )
    finally:
        await store.close()


@pytest.mark.parametrize("encrypted", [False, True], ids=["plain", "encrypted"])
def test_secrets_redact_derives_a_title_cut_by_an_earlier_version_again(
    tmp_path: Path, encrypted: bool
) -> None:
    db = tmp_path / "s.db"
    flags = ["--db", str(db)]
    key = None
    if encrypted:
        key = KeyMaterial(key=write_key_file(tmp_path / "key"))
        flags += ["--key-file", str(tmp_path / "key")]
    _transcript(tmp_path / "projects")
    history = _history(tmp_path)
    result = runner.invoke(app, ["import", str(tmp_path / "projects"), str(history), *flags])
    assert result.exit_code == 0, result.stderr
    asyncio.run(_cut_before_masking(db, key))
    result = runner.invoke(app, ["secrets", "redact", "--all", "--dry-run", *flags])
    assert result.stdout.strip() == "would redact 2 message(s), 0 event(s), 2 session(s)"
    result = runner.invoke(app, ["secrets", "redact", "--all", *flags])
    assert result.exit_code == 0, result.stderr
    assert "hold none of the old values" in result.stdout
    titles, found = asyncio.run(_served_titles(db, key))
    assert len(titles) == 2 and found == 0
    for title in titles:
        assert title.startswith("Deploy to prod with postgres://svc_reporting")
        assert not any(piece in title for piece in pieces(PASSWORD)), title
    files = [db, db.with_name(db.name + "-wal")]
    data = b"".join(path.read_bytes() for path in files if path.exists())
    assert not any(piece.encode() in data for piece in pieces(PASSWORD))
