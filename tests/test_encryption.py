"""Encryption at rest: envelopes, keys, the resolver pipeline, search, rotation, canaries."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from graph.cli import app as cli
from graph.crypto import Cipher, DecryptionFailed, MasterKey, is_envelope
from graph.errors import ConfigError
from graph.importers.importer import import_paths
from graph.keys import write_key_file
from graph.store import Store
from graph.store.keyring import KeyMaterial
from graph.store.rekey import encrypt_database, rotate_key
from tests.conftest import api_client
from tests.factories import make_sessions, move_sealed
from tests.search_corpus import build_corpus, generated_queries

KEY = MasterKey(bytes(range(32)))
OTHER = MasterKey(bytes(range(1, 33)))
SID2 = "00000000-0000-4000-8000-000000000001"  # make_sessions' second session


def material(key: MasterKey = KEY) -> KeyMaterial:
    return KeyMaterial(key=key)


@pytest.fixture
async def sealed(tmp_path: Path) -> AsyncIterator[Store]:
    store = await Store.open(tmp_path / "sealed.db", key=material())
    try:
        yield store
    finally:
        await store.close()


# the envelope


def test_envelope_round_trip_and_binding() -> None:
    cipher = Cipher(KEY)
    sealed = cipher.seal("messages", "content", "1:u:1", b"secret")
    assert is_envelope(sealed) and b"secret" not in sealed
    assert sealed[1:9] == KEY.key_id and len(sealed) == 1 + 8 + 12 + 6 + 16
    assert cipher.open("messages", "content", "1:u:1", sealed) == b"secret"
    assert cipher.seal("messages", "content", "1:u:1", b"secret") != sealed  # fresh nonce
    for place in (
        ("messages", "content", "1:u:2"),
        ("events", "data", "1:u:1"),
        ("messages", "records", "1:u:1"),
    ):
        with pytest.raises(DecryptionFailed):
            cipher.open(*place, sealed)
    with pytest.raises(DecryptionFailed):
        Cipher(OTHER).open("messages", "content", "1:u:1", sealed)
    tampered = sealed[:-1] + bytes([sealed[-1] ^ 1])
    with pytest.raises(DecryptionFailed):
        cipher.open("messages", "content", "1:u:1", tampered)


def test_subkeys_are_separate_and_tokens_keyed() -> None:
    assert len({KEY.data_key(), KEY.search_key(), KEY.secret}) == 3
    assert Cipher(KEY).token("migration") == Cipher(KEY).token("migration")
    assert Cipher(KEY).token("migration") != Cipher(OTHER).token("migration")
    assert Cipher(KEY).token("migration").isalnum()


# keys and opening


async def test_keys_are_checked_before_anything_is_written(tmp_path: Path) -> None:
    db = tmp_path / "x.db"
    store = await Store.open(db, key=material())
    await make_sessions(store, 2)
    await store.close()
    before = db.read_bytes()
    with pytest.raises(ConfigError, match="does not open"):
        await Store.open(db, key=material(OTHER))
    with pytest.raises(ConfigError, match="is encrypted: give its key"):
        await Store.open(db)
    assert db.read_bytes() == before
    plain = tmp_path / "plain.db"
    await make_sessions(store := await Store.open(plain), 1)
    await store.close()
    with pytest.raises(ConfigError, match="is not encrypted, but a key was given"):
        await Store.open(plain, key=material())


async def test_passphrase_databases(tmp_path: Path) -> None:
    db = tmp_path / "p.db"
    store = await Store.open(db, key=KeyMaterial(passphrase="correct horse battery"))
    await make_sessions(store, 1)
    await store.close()
    with sqlite3.connect(db) as conn:
        state = dict(conn.execute("SELECT key, value FROM meta WHERE key LIKE 'crypto.%'"))
    assert state["crypto.mode"] == "passphrase" and len(bytes.fromhex(state["crypto.salt"])) == 16
    with pytest.raises(ConfigError, match="does not open"):
        await Store.open(db, key=KeyMaterial(passphrase="wrong horse battery"))
    store = await Store.open(db, key=KeyMaterial(passphrase="correct horse battery"))
    assert store.codec.encrypted
    await store.close()


# the resolver pipeline


async def test_api_reads_decrypt_only_what_is_selected(sealed: Store) -> None:
    await make_sessions(sealed, 3, messages=6)
    async with sealed.write() as writer:
        await writer.set_session_text(1, title="a secret title")
    cipher = sealed.codec
    assert isinstance(cipher, Cipher)
    async with api_client(sealed) as http:
        cipher.decryptions = 0
        plain_fields = (
            "{ sessions { edges { node { sessionId"
            " messages { edges { node { role timestamp } } } } } } }"
        )
        ids = await http.post("/graphql", json={"query": plain_fields})
        assert "errors" not in ids.json()
        assert cipher.decryptions == 0  # nothing encrypted was selected
        texts = await http.post(
            "/graphql",
            json={
                "query": "{ sessions { edges { node {"
                " title messages { edges { node { text blocks { __typename }"
                " records } } } } } } }"
            },
        )
        body = texts.json()
        assert "errors" not in body
        messages = sum(
            len(e["node"]["messages"]["edges"]) for e in body["data"]["sessions"]["edges"]
        )
        # per message: its text envelope, and its content (blocks and records share
        # it); one per title
        assert cipher.decryptions == 2 * messages + 1
        cipher.decryptions = 0
        only_text = await http.post(
            "/graphql",
            json={
                "query": "{ sessions { edges { node { messages { edges { node { text } } } } } } }"
            },
        )
        assert "errors" not in only_text.json()
        assert cipher.decryptions == messages  # the text envelopes only, not the content
        titles = [e["node"]["title"] for e in body["data"]["sessions"]["edges"]]
        assert "a secret title" in titles


async def test_a_value_that_does_not_authenticate_fails_only_its_field(sealed: Store) -> None:
    [sid] = await make_sessions(sealed, 1, messages=4)
    conn = sealed.writer_connection
    # Move one message's ciphertext onto another row: the AAD no longer matches.
    [(first, first_text), (second, _)] = await conn.execute_fetchall(
        "SELECT content, text FROM messages ORDER BY id LIMIT 2"
    )
    await conn.execute(
        "UPDATE messages SET content = ?, text = ? WHERE id = 2", (first, first_text)
    )
    async with api_client(sealed) as http:
        query = (
            f'{{ session(id: "{sid}") {{ sessionId'
            " messages(first: 3) { edges { node { role text } } } } }"
        )
        body = (await http.post("/graphql", json={"query": query})).json()
    edges = body["data"]["session"]["messages"]["edges"]
    assert body["data"]["session"]["sessionId"] == sid
    assert [e["node"]["text"] is None for e in edges].count(True) == 1
    [error] = body["errors"]
    assert error["extensions"]["code"] == "DECRYPTION_FAILED"
    assert error["path"][-1] == "text" and error["path"][:3] == ["session", "messages", "edges"]
    assert second != first


async def test_a_search_hit_that_does_not_authenticate_fails_only_its_snippet(
    sealed: Store,
) -> None:
    """Its snippet and field are null with DECRYPTION_FAILED at their paths; the other
    hits and the rest of the response stand (the page's snippets are cut in one pass)."""
    await make_sessions(sealed, 1, messages=4)
    await move_sealed(sealed.writer_connection, "messages", "content, text")
    query = (
        '{ stats { sessions } search(query: "answer", first: 10) { edges { node {'
        " snippet field highlights { start } node { ... on Message { id } } } } } }"
    )
    async with api_client(sealed) as http:
        body = (await http.post("/graphql", json={"query": query})).json()
    assert body["data"]["stats"] == {"sessions": 1}
    hits = [edge["node"] for edge in body["data"]["search"]["edges"]]
    assert len(hits) >= 3
    failed = [hit for hit in hits if hit["snippet"] is None]
    assert len(failed) == 1 and failed[0]["field"] is None and failed[0]["highlights"] == []
    assert all("answer" in hit["snippet"] for hit in hits if hit is not failed[0])
    assert {tuple(e["path"][-1:]) for e in body["errors"]} == {("snippet",), ("field",)}
    assert {e["extensions"]["code"] for e in body["errors"]} == {"DECRYPTION_FAILED"}
    index = hits.index(failed[0])
    assert all(e["path"][:4] == ["search", "edges", index, "node"] for e in body["errors"])


def test_the_cli_shows_what_authenticates_and_counts_what_does_not(tmp_path: Path) -> None:
    """``sessions`` and ``search`` over a database with one bad value: the rest is shown,
    and one line on stderr says how many values were left out (no longer a failed run)."""
    key, db = write_key_file(tmp_path / "key"), tmp_path / "sealed.db"

    async def fill() -> None:
        store = await Store.open(db, key=material(key))
        try:
            await make_sessions(store, 2, messages=4)
            async with store.write() as writer:
                await writer.set_session_text(1, title="first", title_source="user")
            await move_sealed(store.writer_connection, "sessions", "title")
        finally:
            await store.close()

    asyncio.run(fill())
    keyed = ["--db", str(db), "--key-file", str(tmp_path / "key")]
    for command in (["sessions", "--json"], ["search", "answer", "--json"]):
        result = runner.invoke(cli, [*command, *keyed])
        assert result.exit_code == 0, result.stderr
        assert result.stderr.startswith("sessiongraph: warning: ")
        assert "do not authenticate" in result.stderr and result.stderr.count("\n") == 1
        assert json.loads(result.stdout)
    # A message's records moved onto another: `show` reads on past it, the lossless
    # export (a copy of the records) stops there, in one line.
    sid = "00000000-0000-4000-8000-000000000000"
    with sqlite3.connect(db) as conn:
        [(content,)] = conn.execute("SELECT content FROM messages WHERE id = 1")
        conn.execute("UPDATE messages SET content = ? WHERE id = 2", (content,))
    shown = runner.invoke(cli, ["export", sid, "--format", "markdown", *keyed])
    assert shown.exit_code == 0, shown.stderr
    assert shown.stdout.count("*A message here does not authenticate") == 1
    assert shown.stdout.count("## Main conversation") == 1 and "answer 0.3" in shown.stdout
    copied = runner.invoke(cli, ["export", sid, "--format", "jsonl", *keyed])
    assert copied.exit_code == 1 and "does not authenticate" in copied.stderr


async def test_a_value_that_does_not_authenticate_stops_no_rebuild_and_no_import(
    sealed: Store,
) -> None:
    """The index is rebuilt without that value's document (it stopped every rebuild, and
    so every command that rebuilds); a session's unreadable title is kept when only its
    summary changes and replaced when a title is given (an import stopped there)."""
    await make_sessions(sealed, 2, messages=4)
    async with sealed.write() as writer:
        await writer.set_session_text(1, title="first", title_source="user")
    conn = sealed.writer_connection
    await move_sealed(conn, "messages", "content, text")
    (title,) = await move_sealed(conn, "sessions", "title")
    await conn.commit()
    indexed = await sealed.reindex()
    [(docs,)] = await conn.execute_fetchall("SELECT count(*) FROM search_docs")
    [(messages,)] = await conn.execute_fetchall("SELECT count(*) FROM messages")
    assert indexed > 0 and docs == messages - 1 + 1  # all but one message, one session
    async with api_client(sealed) as http:
        body = (
            await http.post(
                "/graphql", json={"query": '{ search(query: "answer") { totalCount } }'}
            )
        ).json()
    assert "errors" not in body and body["data"]["search"]["totalCount"] > 0
    async with sealed.write() as writer:
        await writer.set_session_text(2, summary="a summary")
    [(kept, summary)] = await conn.execute_fetchall(
        "SELECT title, summary FROM sessions WHERE id = 2"
    )
    assert kept == title and sealed.codec.open("sessions", "summary", SID2, summary) == b"a summary"
    async with sealed.write() as writer:
        await writer.set_session_text(2, title="second", title_source="user")
    [(replaced,)] = await conn.execute_fetchall("SELECT title FROM sessions WHERE id = 2")
    assert sealed.codec.open("sessions", "title", SID2, replaced) == b"second"


# search


async def test_same_query_set_same_hits_same_order(tmp_path: Path) -> None:
    plain = await Store.open(tmp_path / "plain.db")
    sealed = await Store.open(tmp_path / "sealed.db", key=material())
    try:
        await build_corpus(plain, sessions=10)
        await build_corpus(sealed, sessions=10)
        query = (
            "query($q: String!) { search(query: $q, first: 500, scopes: [MESSAGES,"
            " SESSIONS, EVENTS]) { totalCount edges { node { score snippet"
            " highlights { start end } node { ... on Message { id } ... on Event { id }"
            " ... on Session { id } } } } } }"
        )
        async with api_client(plain) as p, api_client(sealed) as s:
            compared = 0
            for q in generated_queries():
                if "*" in q:
                    continue
                a = (await p.post("/graphql", json={"query": query, "variables": {"q": q}})).json()
                b = (await s.post("/graphql", json={"query": query, "variables": {"q": q}})).json()
                assert a == b, q
                compared += bool(a["data"]["search"]["totalCount"])
            assert compared > 15
            asked = {"query": query, "variables": {"q": "migra*"}}
            prefix = (await s.post("/graphql", json=asked)).json()
            assert prefix["errors"][0]["extensions"]["code"] == "BAD_SEARCH_QUERY"
            assert "encrypted" in prefix["errors"][0]["message"]
    finally:
        await plain.close()
        await sealed.close()


# the canary proof

CANARIES = {
    "prompt": "zebracanaryprompt",
    "output": "quokkacanaryoutput",
    "title": "narwhalcanarytitle",
    "event": "axolotlcanaryevent",
}


def _leaks(paths: list[Path], canary: str) -> list[str]:
    found = []
    for path in paths:
        if path.exists():
            data = path.read_bytes()
            for start in range(len(canary) - 7):
                if canary[start : start + 8].encode() in data:
                    found.append(f"{path.name}: {canary[start : start + 8]!r}")
    return found


@pytest.mark.parametrize("worker", [False, True], ids=["read here", "worker process"])
async def test_no_plaintext_reaches_the_files(
    tmp_path: Path, samples_dir: Path, worker: bool
) -> None:
    # Through the worker too: it hashes search tokens with the search key it was sent,
    # and the hits below prove those hashes are the ones a query looks for.
    projects = tmp_path / "projects" / "-home-dev-canary"
    shutil.copytree(samples_dir, projects, ignore=shutil.ignore_patterns("*.md", "LICENSE*"))
    session_id = "ae4a77f8-aedd-4bc1-888f-c94edc91af04"
    lines = [
        {
            "type": "user",
            "sessionId": session_id,
            "uuid": "c-1",
            "timestamp": "2026-02-11T00:00:00.000Z",
            "message": {"role": "user", "content": f"remember {CANARIES['prompt']} please"},
        },
        {
            "type": "user",
            "sessionId": session_id,
            "uuid": "c-2",
            "timestamp": "2026-02-11T00:00:01.000Z",
            "message": {
                "role": "user",
                "content": [
                    {
                        "type": "tool_result",
                        "tool_use_id": "t",
                        "content": f"cat .env\nTOKEN={CANARIES['output']}",
                    }
                ],
            },
        },
        {"type": "custom-title", "sessionId": session_id, "customTitle": CANARIES["title"]},
        {
            "type": "system",
            "sessionId": session_id,
            "subtype": "note",
            "timestamp": "2026-02-11T00:00:02.000Z",
            "content": f"saw {CANARIES['event']}",
        },
    ]
    with (projects / f"{session_id}.jsonl").open("a") as handle:
        for line in lines:
            handle.write(json.dumps(line) + "\n")
    db = tmp_path / "canary.db"
    store = await Store.open(db, key=material())
    try:
        await import_paths(store, [tmp_path / "projects"], worker=worker)
        files = [db, db.with_name(db.name + "-wal"), db.with_name(db.name + "-shm")]
        for canary in CANARIES.values():  # in the WAL, before any checkpoint
            assert not _leaks(files, canary), canary
        await store.checkpoint()
        for canary in CANARIES.values():
            assert not _leaks(files, canary), canary
        async with api_client(store) as http:
            for name, canary in CANARIES.items():
                body = (
                    await http.post(
                        "/graphql",
                        json={
                            "query": "query($q: String!) {"
                            " search(query: $q, scopes: [MESSAGES, SESSIONS, EVENTS],"
                            " filter: {fields: [TEXT, TOOL_OUTPUT, TITLE, EVENT]}) {"
                            " totalCount edges { node { snippet } } } }",
                            "variables": {"q": canary},
                        },
                    )
                ).json()
                hits = body["data"]["search"]
                assert hits["totalCount"] >= 1, name
                assert canary in hits["edges"][0]["node"]["snippet"], name
    finally:
        await store.close()


# converting and rotating


async def test_encrypt_then_rotate_resuming_after_interruptions(tmp_path: Path) -> None:
    db = tmp_path / "x.db"
    store = await Store.open(db)
    await build_corpus(store, sessions=6)
    async with store.read() as reader:
        before = await reader.stats()
    await store.close()

    store = Store(db)
    await store.connect()
    assert not await encrypt_database(store, material(), max_batches=1)  # "killed"
    await store.close()
    with pytest.raises(ConfigError, match="was interrupted"):
        await Store.open(db, key=material())
    assert list(tmp_path.glob("x.db.pre-encrypt.*.bak"))  # kept until it succeeds
    store = Store(db)
    await store.connect()
    assert await encrypt_database(store, material())
    await store.close()
    assert not list(tmp_path.glob("x.db.pre-encrypt.*.bak"))
    content = db.read_bytes()  # vacuumed: no page keeps the plaintext
    assert b"deadlock" not in content and b"vector" not in content

    store = Store(db)
    await store.connect()
    assert not await rotate_key(store, material(), OTHER, max_batches=2)
    await store.close()
    store = Store(db)
    await store.connect()
    assert await rotate_key(store, material(), OTHER)
    await store.close()

    with pytest.raises(ConfigError, match="does not open"):
        await Store.open(db, key=material())
    store = await Store.open(db, key=material(OTHER))
    try:
        async with store.read() as reader:
            assert (await reader.stats()).messages == before.messages
        assert await store.check() == []
        kid = OTHER.key_id
        for table, column in (("messages", "content"), ("events", "data"), ("sessions", "title")):
            rows = await store.writer_connection.execute_fetchall(
                f"SELECT {column} FROM {table} WHERE {column} IS NOT NULL"
            )
            assert rows and all(is_envelope(r[0]) and r[0][1:9] == kid for r in rows)
        async with api_client(store) as http:
            body = (
                await http.post(
                    "/graphql", json={"query": '{ search(query: "migration") { totalCount } }'}
                )
            ).json()
        assert body["data"]["search"]["totalCount"] > 0
    finally:
        await store.close()


runner = CliRunner()


def test_keygen_encrypt_and_rotate_from_the_command_line(tmp_path: Path) -> None:
    key, new = tmp_path / "k1", tmp_path / "k2"
    assert runner.invoke(cli, ["keygen", "--out", str(key)]).exit_code == 0
    assert key.stat().st_mode & 0o777 == 0o600
    again = runner.invoke(cli, ["keygen", "--out", str(key)])
    assert again.exit_code == 1 and "never overwrites" in again.stderr
    assert runner.invoke(cli, ["keygen", "--out", str(new)]).exit_code == 0
    db = str(tmp_path / "x.db")
    assert runner.invoke(cli, ["demo", "--db", db]).exit_code == 0
    result = runner.invoke(cli, ["encrypt", "--db", db, "--key-file", str(key)])
    assert result.exit_code == 0, result.stderr
    stats = runner.invoke(cli, ["stats", "--json", "--db", db, "--key-file", str(key)])
    assert json.loads(stats.stdout)["encrypted"] is True
    refused = runner.invoke(cli, ["stats", "--db", db])
    assert refused.exit_code == 1 and "is encrypted" in refused.stderr
    rotated = runner.invoke(
        cli, ["rotate-key", "--db", db, "--key-file", str(key), "--new-key-file", str(new)]
    )
    assert rotated.exit_code == 0, rotated.stderr
    old = runner.invoke(cli, ["search", "phoenix", "--db", db, "--key-file", str(key)])
    assert old.exit_code == 1 and "does not open" in old.stderr
    found = runner.invoke(
        cli,
        ["search", "phoenix", "--db", db, "--json"],
        env={"SESSIONGRAPH_KEY_FILE": str(new)},
    )
    assert found.exit_code == 0 and json.loads(found.stdout)["totalCount"] > 0
    os.chmod(new, 0o644)
    lax = runner.invoke(cli, ["stats", "--db", db, "--key-file", str(new)])
    assert lax.exit_code == 1 and "readable by other users" in lax.stderr


def test_the_default_key_file_opens_encrypted_and_new_databases_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, samples_dir: Path
) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    for name in ("SESSIONGRAPH_KEY", "SESSIONGRAPH_KEY_FILE"):
        monkeypatch.delenv(name, raising=False)
    plain = str(tmp_path / "plain.db")
    assert runner.invoke(cli, ["demo", "--db", plain]).exit_code == 0
    assert runner.invoke(cli, ["keygen"]).exit_code == 0  # the default key file
    for command in (["demo"], ["import", str(samples_dir / "short.jsonl")]):
        db = str(tmp_path / f"{command[0]}.db")
        assert runner.invoke(cli, [*command, "--db", db]).exit_code == 0
        stats = runner.invoke(cli, ["stats", "--json", "--db", db])
        assert json.loads(stats.stdout)["encrypted"] is True, command
    stats = runner.invoke(cli, ["stats", "--json", "--db", plain])  # stays plaintext
    assert stats.exit_code == 0 and json.loads(stats.stdout)["encrypted"] is False
    refused = runner.invoke(cli, ["encrypt", "--db", plain])  # which key: said, not guessed
    assert refused.exit_code == 1 and "encrypt needs a key" in refused.stderr
    (tmp_path / "config" / "sessiongraph" / "key").unlink()
    refused = runner.invoke(cli, ["stats", "--db", str(tmp_path / "demo.db")])
    assert refused.exit_code == 1 and "is encrypted" in refused.stderr


def typed(monkeypatch: pytest.MonkeyPatch, *answers: str) -> list[str]:
    """The terminal answers ``answers`` to the passphrase prompts; the prompts asked."""
    prompts: list[str] = []
    given = iter(answers)

    def getpass(prompt: str = "") -> str:
        prompts.append(prompt)
        return next(given)

    monkeypatch.setattr("getpass.getpass", getpass)
    return prompts


def test_a_passphrase_that_sets_a_key_is_asked_twice(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = tmp_path / "x.db"
    assert runner.invoke(cli, ["demo", "--db", str(db)]).exit_code == 0
    before = db.read_bytes()
    typed(monkeypatch, "correct horse", "correct hrose")
    typo = runner.invoke(cli, ["encrypt", "--db", str(db), "--ask-passphrase"])
    assert typo.exit_code == 1 and typo.stderr == (
        "sessiongraph: error: the passphrases do not match: nothing was changed\n"
    )
    assert db.read_bytes() == before and not list(tmp_path.glob("x.db.*.bak"))
    prompts = typed(monkeypatch, "correct horse", "correct horse")
    done = runner.invoke(cli, ["encrypt", "--db", str(db), "--ask-passphrase"])
    assert done.exit_code == 0, done.stderr
    assert len(prompts) == 2
    prompts = typed(monkeypatch, "correct horse")  # opening it: asked once
    stats = runner.invoke(cli, ["stats", "--json", "--db", str(db), "--ask-passphrase"])
    assert json.loads(stats.stdout)["encrypted"] is True and len(prompts) == 1

    new = tmp_path / "new.db"  # a new database the passphrase would encrypt
    typed(monkeypatch, "correct horse", "correct hrose")
    typo = runner.invoke(cli, ["demo", "--db", str(new), "--ask-passphrase"])
    assert typo.exit_code == 1 and "do not match" in typo.stderr and not new.exists()
    prompts = typed(monkeypatch, "correct horse", "correct horse")
    assert runner.invoke(cli, ["demo", "--db", str(new), "--ask-passphrase"]).exit_code == 0
    assert len(prompts) == 2


def test_write_key_file_never_overwrites(tmp_path: Path) -> None:
    path = tmp_path / "key"
    key = write_key_file(path)
    assert MasterKey.from_base64(path.read_text()) == key
    with pytest.raises(ConfigError):
        write_key_file(path)


async def test_rotation_killed_while_reindexing_resumes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from graph.store.indexing import SearchIndexer

    db = tmp_path / "x.db"
    store = await Store.open(db, key=material())
    await build_corpus(store, sessions=8)
    await store.close()
    real = SearchIndexer.index_page
    calls = 0

    async def crashing(self: SearchIndexer, conn: object, table: str, after: int) -> object:
        nonlocal calls
        calls += 1
        if calls == 2:
            raise KeyboardInterrupt  # as good as kill -9 for what was committed
        return await real(self, conn, table, after)  # type: ignore[arg-type]

    monkeypatch.setattr(SearchIndexer, "index_page", crashing)
    store = Store(db)
    await store.connect()
    with pytest.raises(KeyboardInterrupt):
        await rotate_key(store, material(), OTHER)
    await store.close()
    monkeypatch.setattr(SearchIndexer, "index_page", real)
    with pytest.raises(ConfigError, match="was interrupted"):
        await Store.open(db, key=material(OTHER))
    store = Store(db)
    await store.connect()
    assert await rotate_key(store, material(), OTHER)
    await store.close()
    store = await Store.open(db, key=material(OTHER))
    try:
        assert await store.check() == []
        async with api_client(store) as http:
            body = (
                await http.post(
                    "/graphql", json={"query": '{ search(query: "deadlock") { totalCount } }'}
                )
            ).json()
        assert body["data"]["search"]["totalCount"] > 0
    finally:
        await store.close()
