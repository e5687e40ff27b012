"""The change feed as the store writes it: one change per row written, in transcript order,
and nothing for writes that do not change what a subscriber sees."""

from __future__ import annotations

import aiosqlite

from graph.crypto import MasterKey
from graph.store import NewConversation, NewEvent, NewMessage, NewSession, Store
from graph.store.keyring import KeyMaterial
from graph.store.rekey import encrypt_database
from tests.factories import make_sessions, ts, user_record


async def _feed(store: Store) -> list[tuple[str, int]]:
    async with aiosqlite.connect(store.path) as conn:
        rows = await conn.execute_fetchall("SELECT kind, target_pk FROM changes ORDER BY seq")
    return [(str(kind), int(pk)) for kind, pk in rows]


async def _line_of(store: Store, kind: str, pk: int) -> int:
    table = "messages" if kind == "message" else "events"
    async with aiosqlite.connect(store.path) as conn:
        [(seq,)] = await conn.execute_fetchall(f"SELECT seq FROM {table} WHERE id = ?", (pk,))
    return int(seq)


async def test_a_transaction_s_changes_follow_the_transcript_lines(store: Store) -> None:
    """Messages are stored before events, yet the feed interleaves them by line."""
    async with store.write() as writer:
        pk = await writer.upsert_session(NewSession("s-feed", project="p"))
        conv = await writer.upsert_conversation(pk, NewConversation())
        await writer.add_messages(
            pk,
            conv,
            [
                NewMessage(f"u:{line}", "user", ts(line), [(line, user_record(line, "hi"))])
                for line in (1, 4, 5)
            ],
        )
        await writer.add_events(
            pk, conv, [NewEvent(line, "system", ts(line), {"type": "system"}) for line in (2, 3, 6)]
        )
    feed = await _feed(store)
    assert [await _line_of(store, kind, pk) for kind, pk in feed] == [1, 2, 3, 4, 5, 6]
    assert [kind for kind, _ in feed] == [
        "message",
        "event",
        "event",
        "message",
        "message",
        "event",
    ]


async def test_a_message_merged_twice_in_one_transaction_is_one_change(store: Store) -> None:
    async with store.write() as writer:
        pk = await writer.upsert_session(NewSession("s-merge", project="p"))
        conv = await writer.upsert_conversation(pk, NewConversation())
        for line in (1, 2):
            await writer.add_messages(
                pk,
                conv,
                [NewMessage("m:x", "assistant", ts(line), [(line, {"type": "assistant"})])],
            )
    assert len(await _feed(store)) == 1
    async with store.write() as writer:  # a later batch adds a row: a new change
        await writer.add_messages(
            pk, conv, [NewMessage("m:x", "assistant", ts(3), [(3, {"type": "assistant"})])]
        )
    assert len(await _feed(store)) == 2


async def test_encrypting_the_database_adds_no_changes(store: Store) -> None:
    await make_sessions(store, 3)
    before = await _feed(store)
    assert before
    assert await encrypt_database(store, KeyMaterial(key=MasterKey(bytes(range(32)))))
    assert await _feed(store) == before
