"""Redaction for good (`secrets redact`, `import --redact-secrets`) and what exports show."""

from __future__ import annotations

import asyncio
import json
import sqlite3
from pathlib import Path

import pytest
from typer.testing import CliRunner

from graph.cli import app
from graph.importers.importer import import_paths
from graph.keys import write_key_file
from graph.store import Store
from graph.store import connection as connection_module
from graph.store.keyring import KeyMaterial
from tests import secret_canaries as canaries
from tests.conftest import api_client
from tests.secret_canaries import IN_PROGRESS, PLACED, SESSION_ID, write_transcript
from tests.test_secrets_index import hits

runner = CliRunner()
SECRETS = [secret for secret, _ in PLACED.values()] + [IN_PROGRESS]


def invoke(*args: str | Path) -> tuple[int, str, str]:
    result = runner.invoke(app, [str(a) for a in args])
    if result.exit_code and not result.stderr and result.exception is not None:
        raise result.exception
    return result.exit_code, result.stdout, result.stderr


def leaks(db: Path) -> list[str]:
    """Every 8-character piece of a canary found in the database, its WAL or its SHM."""
    found = []
    for path in (db, db.with_name(db.name + "-wal"), db.with_name(db.name + "-shm")):
        if path.exists():
            data = path.read_bytes()
            found += [
                f"{path.name}: {secret[i : i + 8]!r}"
                for secret in SECRETS
                for i in range(len(secret) - 7)
                if secret[i : i + 8].encode() in data
            ]
    return found


@pytest.fixture(params=[False, True], ids=["plain", "encrypted"])
def setup(
    request: pytest.FixtureRequest, tmp_path: Path
) -> tuple[Path, list[str], KeyMaterial | None]:
    """A database with the canary session imported, the flags and the key that open it."""
    write_transcript(tmp_path / "projects")
    db = tmp_path / "s.db"
    flags = ["--db", str(db)]
    if request.param:
        key_file = tmp_path / "key"
        key = KeyMaterial(key=write_key_file(key_file))
        flags += ["--key-file", str(key_file)]
    code, _, err = invoke("import", tmp_path / "projects", *flags)
    assert code == 0, err
    return db, flags, key if request.param else None


async def _served(db: Path, key: KeyMaterial | None) -> str:
    """What the API serves of the session, after checking every neighbour is found."""
    store = await Store.open(db, key=key)
    try:
        async with api_client(store) as client:
            for place, (_, neighbour) in PLACED.items():
                assert await hits(client, neighbour) >= 1, place
            query = "{ sessions { nodes { title messages { nodes { text } } } } }"
            return (await client.post("/graphql", json={"query": query})).text
    finally:
        await store.close()


def test_redact_leaves_no_byte_of_a_secret_and_keeps_the_rest_searchable(
    setup: tuple[Path, list[str], KeyMaterial | None],
) -> None:
    db, flags, key = setup
    # Before: in a plain file the values are there to find (or the test proves nothing);
    # an encrypted one holds none, before or after, and what it serves shows the change.
    assert bool(leaks(db)) == (key is None)
    code, out, err = invoke("secrets", *flags)
    assert code == 0 and "aws-access-key" in out, err
    code, out, err = invoke("secrets", "redact", "--all", "--dry-run", *flags)
    assert (code, out.strip()) == (0, "would redact 3 message(s), 3 event(s), 1 session(s)")
    code, out, err = invoke("secrets", "redact", "--all", *flags)
    assert code == 0, err
    assert "redacted 3 message(s), 3 event(s), 1 session(s)" in out
    assert "hold none of the old values" in out
    assert leaks(db) == []
    assert invoke("secrets", *flags)[1].strip() == "no secrets found"
    body = asyncio.run(_served(db, key))
    assert "[REDACTED:aws-access-key:" in body and "okapi rotate [REDACTED:" in body
    # Leak-free for good: nothing left to do, and the file stays clean.
    assert invoke("secrets", "redact", "--all", *flags)[1].strip() == "nothing to redact"
    assert leaks(db) == []


def test_redact_one_session_leaves_the_others(tmp_path: Path) -> None:
    projects = tmp_path / "projects"
    first = write_transcript(projects)
    other_id = SESSION_ID.replace("c0de", "beef")
    other = first.with_name(f"{other_id}.jsonl")
    other.write_text(first.read_text().replace(SESSION_ID, other_id))
    db = tmp_path / "s.db"
    assert invoke("import", projects, "--db", db)[0] == 0
    code, out, _ = invoke("secrets", "redact", "--session", SESSION_ID, "--db", db)
    assert code == 0 and "redacted 3 message(s)" in out
    report = json.loads(invoke("secrets", "--json", "--db", db)[1])
    assert {tuple(row["sessions"]) for row in report} == {(other_id,)}
    code, _, err = invoke("secrets", "redact", "--db", db)
    assert code != 0 and "--session ID, or --all" in err
    code, _, err = invoke("secrets", "redact", "--session", "nope", "--db", db)
    assert code != 0 and "no session 'nope'" in err


def test_a_process_holding_the_database_open_is_named(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_transcript(tmp_path / "projects")
    db = tmp_path / "s.db"
    assert invoke("import", tmp_path / "projects", "--db", db)[0] == 0
    # The vacuum waits out the busy timeout before it gives up on the reader: 5 s, but
    # what is tested is what comes after.
    monkeypatch.setattr(connection_module, "BUSY_TIMEOUT_MS", 100)
    reader = sqlite3.connect(db)
    try:
        reader.execute("BEGIN")
        reader.execute("SELECT count(*) FROM messages").fetchall()
        code, out, err = invoke("secrets", "redact", "--all", "--db", db)
        assert code == 0
        assert "redacted 3 message(s)" in out
        assert "another process" in err
        assert "hold none of the old values" not in out
    finally:
        reader.close()
    code, out, err = invoke("secrets", "redact", "--all", "--db", db)  # finishes the clean-up
    assert code == 0 and "another process" not in err
    assert leaks(db) == []


@pytest.mark.parametrize("worker", [False, True], ids=["read here", "worker process"])
async def test_import_redact_secrets_stores_none(tmp_path: Path, worker: bool) -> None:
    write_transcript(tmp_path / "projects")
    db = tmp_path / "s.db"
    store = await Store.open(db)
    try:
        summary = await import_paths(store, [tmp_path / "projects"], worker=worker, redact=True)
        assert summary.messages_added == 3
        await store.checkpoint()
        assert leaks(db) == []
        async with api_client(store) as client:
            for place, (_, neighbour) in PLACED.items():
                assert await hits(client, neighbour) >= 1, place
    finally:
        await store.close()


def test_redact_on_import_is_a_config_default(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "secrets.toml"
    config.write_text("[secrets]\nredact_on_import = true\n")
    monkeypatch.setenv("SESSIONGRAPH_SECRETS_CONFIG", str(config))
    write_transcript(tmp_path / "projects")
    kept, redacted = tmp_path / "kept.db", tmp_path / "redacted.db"
    assert invoke("import", tmp_path / "projects", "--db", redacted)[0] == 0
    assert invoke("import", tmp_path / "projects", "--db", kept, "--keep-secrets")[0] == 0
    assert leaks(redacted) == [] and leaks(kept)


def test_exports_mask_what_people_read_and_keep_the_archive_whole(tmp_path: Path) -> None:
    write_transcript(tmp_path / "projects")
    db = tmp_path / "s.db"
    assert invoke("import", tmp_path / "projects", "--db", db)[0] == 0
    _, jsonl, err = invoke("export", SESSION_ID, "--db", db)
    assert all(secret in jsonl for secret in SECRETS)
    assert "holds 8 secret(s), written as they are, the lossless archive" in err
    _, masked, err = invoke("export", SESSION_ID, "--mask-secrets", "--db", db)
    assert not any(secret in masked for secret in SECRETS)
    assert len(masked.splitlines()) == len(jsonl.splitlines())
    for fmt in ("json", "markdown"):
        _, out, err = invoke("export", SESSION_ID, "-f", fmt, "--db", db)
        assert not any(secret in out for secret in SECRETS), fmt
        assert "[REDACTED:aws-access-key:" in out and "--reveal-secrets shows them" in err
        _, out, _ = invoke("export", SESSION_ID, "-f", fmt, "--reveal-secrets", "--db", db)
        assert canaries.AWS in out, fmt


async def test_the_api_never_reveals(tmp_path: Path) -> None:
    # There is no way to ask: no argument, header or setting turns masking off over HTTP.
    write_transcript(tmp_path / "projects")
    store = await Store.open(tmp_path / "s.db")
    try:
        await import_paths(store, [tmp_path / "projects"])
        async with api_client(store) as client:
            schema = (
                await client.get(
                    "/graphql",
                    params={
                        "query": "{ __schema { types { name fields { name args { name } } } } }"
                    },
                )
            ).text
        assert "reveal" not in schema.lower()
    finally:
        await store.close()
