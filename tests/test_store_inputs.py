"""Packed messages and events, prepared search documents, and the writer's bulk paths."""

from __future__ import annotations

import pickle
import sqlite3
from contextlib import closing
from pathlib import Path
from typing import Any

import orjson
import pytest

from graph.crypto import Cipher, MasterKey, TokenHasher
from graph.search.analysis import Analysis
from graph.search.documents import FIELD_COLUMNS, Fields
from graph.store import NewConversation, NewEvent, NewMessage, NewSession, Store, TokenTotals
from graph.store.bulk import from_json, insert_json
from graph.store.indexing import SearchIndexer
from tests.test_import_support import query

KEY = MasterKey(bytes(range(32)))
RECORDS: list[tuple[int, dict[str, Any]]] = [
    (3, {"uuid": "a", "message": {"content": [{"type": "text", "text": "zanzibar one"}]}}),
    (5, {"uuid": "b", "message": {"content": [{"type": "text", "text": "two"}]}}),
    (6, {"message": {"content": "no uuid"}}),
]


def message() -> NewMessage:
    return NewMessage(
        "m:1:r",
        "assistant",
        "2026-01-01T00:00:00.000Z",
        [*RECORDS],
        "a",
        "opus",
        TokenTotals(1, 2, 3, 4),
    )


def test_a_packed_message_travels_as_its_bytes_and_decodes_on_demand() -> None:
    packed = message()
    packed.pack()
    assert packed.packed and packed.encoded == orjson.dumps(RECORDS)
    assert (packed.seq, packed.later_uuids) == (3, ("b",))
    copy = pickle.loads(pickle.dumps(packed))
    assert copy._records is None  # not decoded until someone asks
    assert (copy.seq, copy.later_uuids, copy.encoded) == (3, ("b",), packed.encoded)
    assert (copy.msg_key, copy.role, copy.uuid, copy.model, copy.usage) == (
        "m:1:r",
        "assistant",
        "a",
        "opus",
        TokenTotals(1, 2, 3, 4),
    )
    assert copy.records == RECORDS
    # Unpacked, the same answers come from the records themselves.
    plain = pickle.loads(pickle.dumps(message()))
    assert not plain.packed
    assert (plain.seq, plain.later_uuids, plain.encoded) == (3, ("b",), packed.encoded)


def test_a_packed_event_travels_as_its_bytes() -> None:
    record = {"type": "progress", "data": {"type": "hook_progress", "n": 1}}
    event = NewEvent(7, "progress", "2026-01-01T00:00:00.000Z", record, "u", "hook_progress")
    event.pack()
    copy = pickle.loads(pickle.dumps(event))
    assert copy._record is None
    assert (copy.seq, copy.type, copy.subtype, copy.uuid, copy.record) == (
        7,
        "progress",
        "hook_progress",
        "u",
        record,
    )


def test_packed_bytes_are_held_at_their_own_size() -> None:
    # orjson hands back its output in a buffer of 4 KiB or more; thousands of packed
    # events would hold that much each.
    event = NewEvent(1, "system", "2026-01-01T00:00:00.000Z", {"a": 1})
    event.pack()
    assert event.encoded == b'{"a":1}'
    assert event.encoded is not orjson.dumps({"a": 1})


def test_the_token_hasher_pickles_as_the_search_key_alone() -> None:
    cipher = Cipher(KEY)
    hasher = cipher.hasher
    assert pickle.loads(pickle.dumps(hasher))("token") == cipher.token("token")
    assert hasher.__reduce__() == (TokenHasher, (KEY.search_key(),))
    assert KEY.data_key() not in pickle.dumps(hasher)


def test_an_analysis_names_its_key() -> None:
    plain, keyed = Analysis(), Analysis(Cipher(KEY).hasher)
    other = Analysis(Cipher(MasterKey(bytes(range(1, 33)))).hasher)
    assert len({plain.tag, keyed.tag, other.tag}) == 3
    again = pickle.loads(pickle.dumps(keyed))
    assert again.tag == keyed.tag and again.analyze("Zanzibar") == keyed.analyze("Zanzibar")
    assert keyed.analyze("Zanzibar") != plain.analyze("Zanzibar")


def test_an_analysis_fills_each_column_from_its_own_field() -> None:
    fields = Fields(**{column: f"{column} Word" for column in FIELD_COLUMNS})
    assert Analysis().columns(fields) == tuple(f"{c} word" for c in FIELD_COLUMNS)
    assert Analysis().columns(Fields(event="Only here")) == ("", "", "", "", "", "only here")


@pytest.mark.parametrize("prepared_by", ["none", "same", "other key"])
async def test_the_index_uses_a_prepared_document_only_from_its_own_analysis(
    store: Store, prepared_by: str
) -> None:
    new = message()
    if prepared_by == "same":
        Analysis().prepare_message(new)
        assert new.document is not None
        # Proof that the prepared columns are what gets indexed: a word only they hold.
        new.document = (new.document[0], ("prepared", *new.document[1][1:]), ())
    elif prepared_by == "other key":
        Analysis(Cipher(KEY).hasher).prepare_message(new)
    new.pack()
    async with store.write() as writer:
        pk = await writer.upsert_session(NewSession("s"))
        conversation = await writer.upsert_conversation(pk, NewConversation())
        await writer.add_messages(pk, conversation, [new])
    hits = {
        word: await query(store, "SELECT rowid FROM search_fts WHERE search_fts MATCH ?", word)
        for word in ("zanzibar", "prepared")
    }
    if prepared_by == "same":
        assert (len(hits["zanzibar"]), len(hits["prepared"])) == (0, 1)
    else:  # built from the records, as a document from another key must be
        assert (len(hits["zanzibar"]), len(hits["prepared"])) == (1, 0)
    indexer = next(h for h in store.hooks if isinstance(h, SearchIndexer))
    assert indexer.analysis.tag == Analysis().tag


async def test_rows_as_json_keep_their_types(store: Store) -> None:
    rows = [(1, "a", None, 2**40), (2, "é \x01 \"'", 1.5, -1)]
    async with store.write() as writer:
        conn = writer.connection
        await conn.execute("CREATE TEMP TABLE t (a, b, c, d)")
        await insert_json(conn, f"INSERT INTO t {from_json(4)}", rows)
        await insert_json(conn, f"INSERT INTO t {from_json(4)}", [])
        stored = [tuple(r) for r in await conn.execute_fetchall("SELECT * FROM t ORDER BY a")]
        types = list(await conn.execute_fetchall("SELECT typeof(a), typeof(c) FROM t ORDER BY a"))
    assert stored == rows
    assert [tuple(t) for t in types] == [("integer", "null"), ("integer", "real")]


async def test_a_thread_not_written_to_keeps_its_counts(store: Store) -> None:
    ts = "2026-01-01T00:00:0{}.000Z".format
    async with store.write() as writer:
        pk = await writer.upsert_session(NewSession("s"))
        main = await writer.upsert_conversation(pk, NewConversation())
        side = await writer.upsert_conversation(pk, NewConversation("agent", is_sidechain=True))
        await writer.add_events(pk, main, [NewEvent(1, "system", ts(1), {"n": 1})])
        await writer.add_events(pk, side, [NewEvent(1, "system", ts(2), {"n": 2})])
    async with store.write() as writer:
        await writer.add_events(pk, side, [NewEvent(2, "system", ts(3), {"n": 3})])
    counts = await query(
        store, "SELECT agent_id, event_count, started_at, ended_at FROM conversations ORDER BY 1"
    )
    assert counts == [("", 1, ts(1), ts(1)), ("agent", 2, ts(2), ts(3))]
    assert await query(store, "SELECT event_count, started_at, ended_at FROM sessions") == [
        (3, ts(1), ts(3))
    ]
    async with store.write() as writer:
        await writer.clear_conversation(side)
    assert await query(store, "SELECT agent_id, event_count FROM conversations ORDER BY 1") == [
        ("", 1),
        ("agent", 0),
    ]


@pytest.mark.parametrize("bulk", [False, True])
async def test_bulk_writes_fold_the_wal_back_beside_them(store: Store, bulk: bool) -> None:
    db = store.path
    before = db.stat().st_size
    events = [
        NewEvent(n, "system", "2026-01-01T00:00:00.000Z", {"n": n, "pad": "x" * 2000})
        for n in range(200)
    ]

    async def write() -> None:
        for chunk in (events[:100], events[100:]):
            async with store.write() as writer:
                pk = await writer.upsert_session(NewSession("s"))
                conversation = await writer.upsert_conversation(pk, NewConversation())
                await writer.add_events(pk, conversation, chunk)

    if bulk:
        async with store.bulk(), store.bulk():  # nested: one checkpointer
            await write()
    else:
        await write()
    # The writer's own checkpoint waits for ~32 MB of WAL; these writes are far less, so
    # the database file grows only if something else folded the WAL back.
    grew = db.stat().st_size > before + 200 * 2000
    assert grew is bulk
    assert await query(store, "SELECT count(*) FROM events") == [(200,)]


async def test_new_rows_get_the_pks_the_writer_hands_on(store: Store) -> None:
    ts = "2026-01-01T00:00:00.000Z"

    def user(n: int) -> NewMessage:
        return NewMessage(f"u:{n}", "user", ts, [(n, {"uuid": f"r{n}"})], f"r{n}")

    async with store.write() as writer:
        pk = await writer.upsert_session(NewSession("s"))
        conversation = await writer.upsert_conversation(pk, NewConversation())
        first = await writer.add_messages(pk, conversation, [user(1), user(2)])
        second = await writer.add_messages(pk, conversation, [user(3), user(2)])  # 2: merged
        await writer.add_events(pk, conversation, [NewEvent(10, "system", ts, {"n": 10})])
    async with store.write() as writer:
        await writer.clear_conversation(conversation)  # the largest pks are free again
        third = await writer.add_messages(pk, conversation, [user(4)])
        await writer.add_events(pk, conversation, [NewEvent(11, "system", ts, {"n": 11})])
    by_pk = dict(await query(store, "SELECT id, msg_key FROM messages"))
    assert by_pk == {third[0]: "u:4"}
    assert len({*first, *second}) == 3 and set(first) & set(second) == {first[1]}  # merged
    # What the writer told the change feed and the index is what the table holds.
    feed = await query(store, "SELECT kind, target_pk FROM changes ORDER BY seq")
    assert ("message", third[0]) in feed
    events = await query(store, "SELECT id, seq FROM events")
    assert [("event", pk) for pk, _ in events] == [e for e in feed if e[0] == "event"][-1:]
    docs = await query(store, "SELECT rowid FROM search_docs WHERE kind = 'message'")
    assert docs == [(third[0] * 4,)]


@pytest.mark.parametrize(("existing", "expected"), [(None, 16384), (4096, 4096)])
async def test_new_databases_get_16k_pages_and_old_ones_keep_theirs(
    tmp_path: Path, existing: int | None, expected: int
) -> None:
    db = tmp_path / "pages.db"
    if existing is not None:  # a file whose page size was set before the change
        with closing(sqlite3.connect(db)) as conn:
            conn.execute(f"PRAGMA page_size = {existing}")
            # The first table fixes the page size; dropped, the file holds no other
            # program's table (which the store refuses to migrate).
            conn.execute("CREATE TABLE t (x)")
            conn.execute("DROP TABLE t")
    store = await Store.open(db)
    try:
        async with store.write() as writer:
            writes = writer.connection
            [(page_size,)] = await writes.execute_fetchall("PRAGMA page_size")
            [(pages,)] = await writes.execute_fetchall("PRAGMA wal_autocheckpoint")
    finally:
        await store.close()
    assert page_size == expected
    assert pages * page_size == 32 << 20  # the same WAL size between checkpoints


def test_a_message_is_stored_as_the_text_it_was_read_from() -> None:
    first, second = b'{"uuid": "a",  "n": 1}', b'{"uuid":"b","n":2.50}'  # not orjson's spelling
    read = NewMessage("m:1", "assistant", "t", [(1, orjson.loads(first))], texts=[first])
    read.add(2, orjson.loads(second), second)
    read.pack()
    assert read.encoded == b'[[1,{"uuid": "a",  "n": 1}],[2,{"uuid":"b","n":2.50}]]'
    assert orjson.loads(read.encoded) == [[1, {"uuid": "a", "n": 1}], [2, {"uuid": "b", "n": 2.5}]]
    # One record without its text (a repaired line): the whole message is serialized.
    mixed = NewMessage("m:1", "assistant", "t", [(1, orjson.loads(first))], texts=[first])
    mixed.add(2, {"uuid": "b"})
    mixed.records.append((3, {"uuid": "c"}))
    mixed.pack()
    assert mixed.encoded == orjson.dumps(
        [[1, {"uuid": "a", "n": 1}], [2, {"uuid": "b"}], [3, {"uuid": "c"}]]
    )
    event = NewEvent(4, "system", "t", orjson.loads(second), text=second)
    event.pack()
    assert event.encoded is second
