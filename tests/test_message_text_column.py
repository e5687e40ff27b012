"""A message's readable text is stored beside its records (migration 0011), sealed like
them, filled for older rows when the store opens, and served the same as before."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from graph.crypto import MasterKey, is_envelope
from graph.importers.importer import import_paths
from graph.store import Store
from graph.store.keyring import KeyMaterial
from tests.conftest import api_client

KEY = KeyMaterial(key=MasterKey(bytes(range(32))))
QUERY = (
    "query($f: Boolean!) { sessions(first: 50) { edges { node { sessionId"
    " messages(first: 500) { edges { node { id text records @include(if: $f) } } } } } } }"
)


async def _texts(store: Store, *, records: bool = False) -> dict[str, Any]:
    """Every message's served text (and records), by message id."""
    async with api_client(store) as http:
        body = await http.post("/graphql", json={"query": QUERY, "variables": {"f": records}})
        data = body.json()
    assert "errors" not in data, data["errors"]
    return {
        m["node"]["id"]: (m["node"]["text"], m["node"].get("records"))
        for s in data["data"]["sessions"]["edges"]
        for m in s["node"]["messages"]["edges"]
    }


async def _forget_texts(store: Store) -> None:
    """Make the database look like one from before migration 8: no text stored yet."""
    async with store.write() as writer:
        await writer.connection.execute("UPDATE messages SET text = NULL")
        await writer.connection.execute(
            "INSERT INTO meta (key, value) VALUES ('message_text.after', '0')"
        )


@pytest.mark.parametrize("encrypted", [False, True], ids=["plain", "sealed"])
async def test_stored_text_is_the_text_served_before_and_is_backfilled(
    tmp_path: Path, samples_dir: Path, encrypted: bool
) -> None:
    db = tmp_path / "text.db"
    key = KEY if encrypted else None
    store = await Store.open(db, key=key)
    try:
        await import_paths(store, [samples_dir], worker=False)
        stored = await store.writer_connection.execute_fetchall("SELECT text FROM messages")
        assert stored and all(row[0] is not None for row in stored)
        # Sealed: one envelope per value; plain: the text as TEXT.
        assert all(is_envelope(row[0]) == encrypted for row in stored)
        served = await _texts(store)
        with_records = await _texts(store, records=True)
        assert {k: v[0] for k, v in with_records.items()} == {k: v[0] for k, v in served.items()}
        # The same as the text built from the records, as before the column.
        await _forget_texts(store)
        assert await _texts(store) == served
    finally:
        await store.close()

    store = await Store.open(db, key=key)  # the backfill runs on open
    try:
        conn = store.writer_connection
        assert list(await conn.execute_fetchall("SELECT 1 FROM messages WHERE text IS NULL")) == []
        assert (
            list(await conn.execute_fetchall("SELECT 1 FROM meta WHERE key = 'message_text.after'"))
            == []
        )
        stored = await conn.execute_fetchall("SELECT text FROM messages")
        assert all(is_envelope(row[0]) == encrypted for row in stored)
        assert await _texts(store) == served
        assert await store.check() == []  # every envelope authenticates (doctor)
    finally:
        await store.close()
