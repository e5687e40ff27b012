"""Writes, reads, pages, search, deletion, transactions and the change feed, through the
public API only (see conftest)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from graph.content import records_of
from graph.inputs import FILE_LINES
from graph.search.documents import FIELD_COLUMNS
from graph.search.fts import compile_query
from graph.search.query import parse
from graph.store import (
    EventFilter,
    MessageFilter,
    NewConversation,
    NewEvent,
    NewMessage,
    NewSession,
    PageRequest,
    SearchWhere,
    SessionFilter,
    SessionOrder,
    Store,
    TokenTotals,
)


def user(line: int, text: str) -> NewMessage:
    record = {"type": "user", "uuid": f"u{line}", "message": {"role": "user", "content": text}}
    return NewMessage(
        f"u:{line}", "user", f"2026-01-01T00:00:{line:02d}.000Z", [(line, record)], uuid=f"u{line}"
    )


def reply(line: int, msg_id: str, text: str, output: int) -> NewMessage:
    record: dict[str, Any] = {
        "type": "assistant",
        "uuid": f"a{line}",
        "requestId": f"r-{msg_id}",
        "message": {
            "id": msg_id,
            "role": "assistant",
            "model": "claude-x",
            "content": [{"type": "text", "text": text}],
            "usage": {"input_tokens": 1, "output_tokens": output},
        },
    }
    return NewMessage(
        f"m:{msg_id}",
        "assistant",
        f"2026-01-01T00:00:{line:02d}.000Z",
        [(line, record)],
        uuid=f"a{line}",
        model="claude-x",
        usage=TokenTotals(1, output, 0, 0),
    )


def event(seq: int, kind: str = "system") -> NewEvent:
    return NewEvent(
        seq,
        kind,
        f"2026-01-01T00:01:{seq % 60:02d}.000Z",
        {"type": kind, "content": f"note {seq}"},
        uuid=f"e{seq}",
    )


async def seed(store: Store, session_id: str = "s1", project: str = "p") -> tuple[int, int]:
    async with store.write() as writer:
        pk = await writer.upsert_session(NewSession(session_id, project=project, cwd="/w"))
        conversation = await writer.upsert_conversation(pk, NewConversation())
        await writer.add_messages(
            pk, conversation, [user(1, "hello zanzibar"), reply(2, f"{session_id}-a", "first", 3)]
        )
        await writer.add_events(pk, conversation, [event(3), event(4, "progress")])
    return pk, conversation


async def test_a_session_is_written_once_and_read_back_by_either_key(store: Store) -> None:
    pk, _ = await seed(store)
    async with store.write() as writer:
        assert await writer.upsert_session(NewSession("s1", git_branch="main")) == pk
    async with store.read() as reader:
        (by_pk,) = await reader.sessions_by_pk([pk])
        (by_id, missing) = await reader.sessions_by_session_id(["s1", "nope"])
    assert by_pk == by_id and missing is None
    assert by_pk is not None
    assert (by_pk.project, by_pk.cwd, by_pk.git_branch) == ("p", "/w", "main")
    assert (by_pk.message_count, by_pk.event_count, by_pk.conversation_count) == (2, 2, 1)


async def test_session_ids_are_found_by_prefix_and_their_neighbours(store: Store) -> None:
    for session_id in ("ab1", "ab2x", "b"):
        await seed(store, session_id)
    async with store.read() as reader:
        assert await reader.session_ids_starting("ab", 5) == ["ab1", "ab2x"]
        assert await reader.session_id_neighbours(["b", "ab1", "ab2"]) == [
            ("ab2x", None),
            (None, "ab2x"),
            ("ab1", "ab2x"),  # any string, stored or not
        ]


async def test_records_of_one_message_merge_and_its_usage_is_the_last(store: Store) -> None:
    pk, conversation = await seed(store)
    async with store.write() as writer:
        await writer.add_messages(pk, conversation, [reply(5, "s1-a", "second part", 9)])
    async with store.read() as reader:
        (page,) = await reader.message_pages("session", [pk], MessageFilter(), PageRequest(10))
        (session,) = await reader.sessions_by_pk([pk])
    assert [m.role for m in page.rows] == ["user", "assistant"]
    assert session is not None and session.tokens.output == 9  # counted once, last row's


async def test_a_page_read_without_records_gets_them_by_pk(store: Store) -> None:
    pk, _ = await seed(store)
    async with store.read() as reader:
        (whole,) = await reader.message_pages("session", [pk], MessageFilter(), PageRequest(10))
        (bare,) = await reader.message_pages(
            "session", [pk], MessageFilter(), PageRequest(10), content=False
        )
        contents = await reader.message_contents([m.id for m in reversed(bare.rows)] + [0])
    assert [m.content for m in bare.rows] == [None, None]
    assert [m._replace(content=None) for m in whole.rows] == bare.rows
    assert contents == [m.content for m in reversed(whole.rows)] + [None]
    with pytest.raises(ValueError, match="without its records"):
        bare.rows[0].records  # noqa: B018 - the property is what is tested


async def test_events_are_written_once_per_line(store: Store) -> None:
    pk, conversation = await seed(store)
    async with store.write() as writer:
        assert await writer.add_events(pk, conversation, [event(3), event(6)]) == 1
    async with store.read() as reader:
        everything = await reader.events(EventFilter(session_pk=pk), PageRequest(10))
        systems = await reader.count_events(EventFilter(session_pk=pk, types=("system",)))
    assert [e.seq for e in everything.rows] == [3, 4, 6]
    assert systems == 2


@pytest.mark.parametrize("from_end", [False, True])
async def test_pages_walk_both_ways_without_gaps_or_repeats(store: Store, from_end: bool) -> None:
    async with store.write() as writer:
        for n in range(7):
            await writer.upsert_session(NewSession(f"s{n}", project="p"))
    seen: list[str] = []
    async with store.read() as reader:
        key = None
        while True:
            request = (
                PageRequest(3, before=key, from_end=True) if from_end else PageRequest(3, after=key)
            )
            page = await reader.sessions(SessionFilter(), SessionOrder.STARTED_AT, False, request)
            rows = list(reversed(page.rows)) if from_end else page.rows
            seen += [row.session_id for row in rows]
            more = page.has_previous if from_end else page.has_next
            if not more:
                break
            edge = page.rows[0] if from_end else page.rows[-1]
            key = (edge.started_at, edge.id)
        total = await reader.count_sessions(SessionFilter(project="p"))
    assert sorted(seen) == [f"s{n}" for n in range(7)] and len(seen) == total == 7


async def test_search_finds_what_was_written_and_forgets_what_was_deleted(store: Store) -> None:
    pk, _ = await seed(store)
    expression = compile_query(parse("zanzibar"), FIELD_COLUMNS, codec=store.codec).expression
    async with store.read() as reader:
        assert await reader.count_search(expression, SearchWhere()) == 1
        page = await reader.search(expression, SearchWhere(), PageRequest(5))
        assert [hit.session_pk for hit in page.rows] == [pk]
    async with store.write() as writer:
        await writer.delete_session(pk)
    async with store.read() as reader:
        assert await reader.count_search(expression, SearchWhere()) == 0
        assert await reader.sessions_by_pk([pk]) == [None]
        assert (await reader.stats()).messages == 0


async def test_a_failed_transaction_leaves_nothing(store: Store) -> None:
    async def doomed() -> None:
        async with store.write() as writer:
            await writer.upsert_session(NewSession("doomed"))
            raise RuntimeError("abort")

    with pytest.raises(RuntimeError):
        await doomed()
    async with store.read() as reader:
        assert await reader.sessions_by_session_id(["doomed"]) == [None]


async def test_the_change_feed_numbers_every_write_in_order(store: Store) -> None:
    pk, _ = await seed(store)
    async with store.read() as reader:
        changes = await reader.changes_after(0, 100)
        mine = await reader.changes_after(0, 100, pk)
    assert [c.kind for c in changes] == ["message", "message", "event", "event"]
    assert [c.seq for c in changes] == sorted(c.seq for c in changes) and mine == changes


async def test_stats_count_each_api_message_once(store: Store) -> None:
    await seed(store, "s1")
    await seed(store, "s2", project="q")
    async with store.read() as reader:
        stats = await reader.stats()
        projects = await reader.count_sessions(SessionFilter(project="q"))
    assert (stats.sessions, stats.messages, stats.events) == (2, 4, 4)
    assert stats.tokens.output == 6 and projects == 1


async def test_a_retired_message_leaves_counts_usage_and_search_but_not_the_record(
    store: Store,
) -> None:
    pk, conversation = await seed(store)
    async with store.write() as writer:
        assert await writer.retire_messages(pk, conversation, {"u:1": "rewound", "u:9": "x"}) == 1
        assert await writer.retire_events(pk, conversation, [3], "removed") == 1
    expression = compile_query(parse("zanzibar"), FIELD_COLUMNS, codec=store.codec).expression
    async with store.read() as reader:
        (session,) = await reader.sessions_by_pk([pk])
        (page,) = await reader.message_pages("session", [pk], MessageFilter(), PageRequest(10))
        events = await reader.events(EventFilter(session_pk=pk), PageRequest(10))
        assert await reader.count_search(expression, SearchWhere()) == 0
    assert session is not None and session.message_count == 1 and session.tokens.output == 3
    assert [m.role for m in page.rows] == ["assistant"]
    # The records stay, as events at their own lines (a retired event keeps its type as
    # its subtype).
    assert [(e.seq, e.type, e.subtype) for e in events.rows] == [
        (1, "rewound", None),
        (3, "removed", "system"),
        (4, "progress", None),
    ]


async def test_retired_records_carry_the_uuid_named_for_their_message(store: Store) -> None:
    pk, conversation = await seed(store)
    async with store.write() as writer:
        await writer.retire_messages(pk, conversation, {"u:1": "rewound"}, {"u:1": "named"})
    async with store.read() as reader:
        events = await reader.events(EventFilter(session_pk=pk), PageRequest(10))
    assert [(e.seq, e.uuid) for e in events.rows] == [(1, "named"), (3, "e3"), (4, "e4")]


async def test_a_thread_read_from_two_files_gives_each_files_lines(store: Store) -> None:
    pk, conversation = await seed(store)  # one file: lines 1 to 4
    base = FILE_LINES  # a second file's lines (see graph.inputs.FILE_LINES)
    async with store.write() as writer:
        assert await writer.transcripts.free_line_base(conversation, "/second") == base
        await writer.add_events(pk, conversation, [event(base + 1), event(base + 2)])
        await writer.add_messages(pk, conversation, [reply(base + 3, "s1-a", "more", 1)])
    async with store.read() as reader:
        ranges = await reader.thread_line_ranges(conversation)
        assert ranges == [range(0, base), range(base, 2 * base)]
        events = [e.seq async for e in reader.conversation_events(conversation, ranges[1])]
        messages = [m.msg_key async for m in reader.conversation_messages(conversation, ranges[0])]
    assert events == [base + 1, base + 2]
    assert messages == ["u:1", "m:s1-a"]  # every message that starts in the first file

    async with store.write() as writer:  # the second file is read again from its start
        await writer.clear_lines(conversation, ranges[1])
    async with store.read() as reader:
        assert await reader.thread_line_ranges(conversation) == [ranges[0]]
        (page,) = await reader.message_pages("session", [pk], MessageFilter(), PageRequest(10))
        (session,) = await reader.sessions_by_pk([pk])
    contents = [store.codec.open("messages", "content", m.row_key, m.records) for m in page.rows]
    assert [len(records_of(content)) for content in contents] == [1, 1]  # its record went
    assert session is not None and (session.message_count, session.event_count) == (2, 2)


# Page requests, given the sort key of a row in the middle of the parent's list.
_PAGES: dict[str, Callable[[Any], PageRequest]] = {
    "first 3": lambda key: PageRequest(3),
    "last 3": lambda key: PageRequest(3, from_end=True),
    "2 after": lambda key: PageRequest(2, after=key),
    "the last 2 before": lambda key: PageRequest(2, before=key, from_end=True),
    "all": lambda key: PageRequest(10),
    "none": lambda key: PageRequest(0),
}


@pytest.mark.parametrize("page", list(_PAGES))
@pytest.mark.parametrize("role", [None, "user"])
async def test_one_parents_page_is_its_page_among_several(
    store: Store, page: str, role: str | None
) -> None:
    # A single parent's page is read by another statement than several parents' pages
    # (its index directly, without json_each): both give the same rows in the same order.
    first, conversation = await seed(store, "p1")
    other, _ = await seed(store, "p2")
    async with store.write() as writer:
        more = [user(n, f"more {n}") if n % 2 else reply(n, f"x{n}", "x", 1) for n in range(5, 9)]
        await writer.add_messages(first, conversation, more)
        await writer.add_events(first, conversation, [event(n) for n in range(9, 13)])
    where, events = MessageFilter(role), EventFilter()
    async with store.read() as reader:
        (messages,) = await reader.message_pages("session", [first], where, PageRequest(10))
        (timeline,) = await reader.event_pages("session", [first], events, PageRequest(10))
        middle, middle_event = messages.rows[len(messages.rows) // 2], timeline.rows[2]
        request = _PAGES[page]((middle.timestamp, middle.id))
        (alone,) = await reader.message_pages("session", [first], where, request)
        among = await reader.message_pages("session", [other, first, other], where, request)
        assert alone == among[1]
        request = _PAGES[page]((middle_event.timestamp, middle_event.id))
        (alone_events,) = await reader.event_pages("session", [first], events, request)
        among_events = await reader.event_pages("session", [other, first], events, request)
        assert alone_events == among_events[1]
    if page == "first 3":  # six messages, three of them the user's
        assert len(alone.rows) == 3 and alone.has_next is (role is None)
