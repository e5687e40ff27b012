"""Nested queries cost a fixed number of SQL statements, however many rows they touch."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any, NamedTuple
from unittest.mock import patch

import pytest

from graph.schema import Context, build_schema
from graph.schema.execution import CycleFreeExecutionContext
from graph.settings import ServerSettings
from graph.store import Store
from tests.conftest import GraphQL
from tests.factories import make_sessions

NESTED = """
query($n: Int!) {
  sessions(first: $n) {
    totalCount
    edges { node {
      sessionId title tokenUsage { total }
      conversations { agentId isSidechain
        messages(first: 5) { totalCount edges { node {
          role text model blocks { __typename ... on TextBlock { text } }
          session { sessionId } conversation { agentId }
        } } }
      }
      messages(first: 5) { edges { node { text } } }
      events { totalCount }
    } }
  }
}
"""

# sessions page, sessions totalCount, conversations of the sessions, one message page per
# parent kind (conversation, session), and the records of the messages whose blocks are
# asked (pages are read without them). The unfiltered totalCounts of messages and events
# are the counts of their parents' rows, and the session and conversation of each message
# come from rows already loaded, so they cost nothing.
STATEMENT_BOUND = 6


async def _statements_for(tmp_path: Path, sessions: int) -> tuple[int, dict[str, object]]:
    store = await Store.open(tmp_path / f"n{sessions}.db")
    try:
        await make_sessions(store, sessions, messages=8, events=4, sidechain_every=2)
        from httpx import ASGITransport, AsyncClient

        from graph.app import create_app

        # Statements are counted, not time: a loaded machine must not trip the timeout.
        server = ServerSettings(timeout_seconds=600)
        transport = ASGITransport(app=create_app(store=store, server=server))
        async with AsyncClient(transport=transport, base_url="http://127.0.0.1") as client:
            gql = GraphQL(client)
            # Warm the reader pool and plans with a small page: what that leaves out
            # does not grow with the rows, and the counted page pays for anything that does.
            await gql(NESTED, n=5)
            before = store.statements.count
            data = await gql(NESTED, n=sessions)
            return store.statements.count - before, data
    finally:
        await store.close()


@pytest.mark.parametrize("sessions", [5, 500])
async def test_nested_query_statement_count_is_constant(tmp_path: Path, sessions: int) -> None:
    """The same bound for 5 sessions as for 500: the count does not grow with the rows."""
    count, data = await _statements_for(tmp_path, sessions)
    edges = data["sessions"]["edges"]  # type: ignore[index]
    assert len(edges) == sessions
    assert all(len(c["messages"]["edges"]) == 5 for e in edges for c in e["node"]["conversations"])
    assert count == STATEMENT_BOUND


async def test_a_page_is_fetched_once_for_edges_nodes_and_page_info(
    store: Store, gql: GraphQL
) -> None:
    # The three resolve concurrently; each fetching its own page cost three queries.
    await make_sessions(store, 4)
    await gql("{ sessions(first: 2) { edges { cursor } } }")  # warm the reader pool
    before = store.statements.count
    alone = await gql("{ sessions(first: 2) { edges { cursor } } }")
    one = store.statements.count - before
    before = store.statements.count
    data = await gql(
        "{ sessions(first: 2) { edges { cursor node { sessionId } } nodes { sessionId }"
        " pageInfo { endCursor } } }"
    )
    assert store.statements.count - before == one == 1
    page = data["sessions"]
    assert [e["cursor"] for e in page["edges"]] == [e["cursor"] for e in alone["sessions"]["edges"]]
    assert [n["sessionId"] for n in page["nodes"]] == [
        e["node"]["sessionId"] for e in page["edges"]
    ]
    assert page["pageInfo"]["endCursor"] == page["edges"][-1]["cursor"]


COUNTS = """
query($role: String, $types: [String!]) { sessions(first: 50) { nodes {
  all: messages(first: 1) { totalCount } mine: messages(role: $role) { totalCount nodes { id } }
  events(first: 1) { totalCount } some: events(types: $types) { totalCount nodes { id } }
  messageCount eventCount
  conversations { messageCount
    all: messages(first: 1) { totalCount } mine: messages(role: $role) { totalCount nodes { id } }
    events(first: 1) { totalCount } some: events(types: $types) { totalCount nodes { id } }
  }
} } }
"""


@pytest.mark.parametrize(("role", "types"), [(None, None), ("assistant", ["system"])])
async def test_total_counts_are_the_lists_lengths_with_and_without_a_filter(
    store: Store, gql: GraphQL, role: str | None, types: list[str] | None
) -> None:
    # Without a filter the count is read off the parent's row, with one it is counted.
    await make_sessions(store, 4, messages=7, events=5, sidechain_every=2)
    data = await gql(COUNTS, role=role, types=types)
    for session in data["sessions"]["nodes"]:
        for parent in (session, *session["conversations"]):
            assert parent["mine"]["totalCount"] == len(parent["mine"]["nodes"])
            assert parent["some"]["totalCount"] == len(parent["some"]["nodes"])
            assert parent["all"]["totalCount"] == parent["messageCount"]
            if role is None:
                assert parent["mine"]["totalCount"] == parent["messageCount"]
            else:
                assert 0 < parent["mine"]["totalCount"] < parent["messageCount"]
        assert session["events"]["totalCount"] == session["eventCount"]


PAGE = """query($n: Int!) { sessions(first: $n) { totalCount edges { node { id
  messages(first: 5) { totalCount edges { node { id role text } } } } } } }"""

# Each row's way back to its parents, and each object's type name.
RELATED = """query($n: Int!) { sessions(first: $n) { edges { node { __typename sessionId
  conversations { __typename session { sessionId }
    messages(first: 3) { nodes { __typename session { sessionId } conversation { agentId } } } }
  events(first: 3) { nodes { __typename session { sessionId } conversation { agentId } } }
} } } }"""


class _Work(NamedTuple):
    """What one page asks of the event loop."""

    tasks: int
    futures: int
    callbacks: int  # scheduled with call_soon


async def _work_for(tmp_path: Path, sessions: int, query: str = PAGE) -> _Work:
    """The tasks, futures and callbacks of one ``query`` of ``sessions`` sessions with
    their messages."""
    store = await Store.open(tmp_path / f"t{sessions}.db")
    try:
        await make_sessions(store, sessions, messages=8, sidechain_every=0)
        schema, settings = build_schema(), ServerSettings()
        loop = asyncio.get_running_loop()
        counts = {"tasks": 0, "futures": 0, "callbacks": 0}

        def task(loop: asyncio.AbstractEventLoop, coro: Any, **kwargs: Any) -> Any:
            counts["tasks"] += 1
            return asyncio.Task(coro, loop=loop, **kwargs)

        def future() -> asyncio.Future[Any]:
            counts["futures"] += 1
            return asyncio.Future(loop=loop)

        async def page() -> None:
            context = Context(store=store, settings=settings, request_id="t")
            result = await schema.execute(query, {"n": sessions}, context_value=context)
            assert result.errors is None
            assert result.data is not None and len(result.data["sessions"]["edges"]) == sessions
            if query is RELATED:
                _check_related(result.data)

        await page()  # warm: the reader pool, plans
        loop.set_task_factory(task)
        with (
            patch.object(loop, "create_future", future),
            patch.object(loop, "call_soon", _counting(loop.call_soon, counts)),
        ):
            try:
                await page()
            finally:
                loop.set_task_factory(None)
        return _Work(**counts)
    finally:
        await store.close()


def _check_related(data: dict[str, Any]) -> None:
    """Each row's parents are its own, and each type name is right."""
    for edge in data["sessions"]["edges"]:
        session = edge["node"]
        mine = {"sessionId": session["sessionId"]}
        (thread,) = session["conversations"]
        assert (session["__typename"], thread["__typename"]) == ("Session", "Conversation")
        assert thread["session"] == mine
        for kind, rows in (
            ("Message", thread["messages"]["nodes"]),
            ("Event", session["events"]["nodes"]),
        ):
            assert len(rows) == 3
            for row in rows:
                assert row == {
                    "__typename": kind,
                    "session": mine,
                    "conversation": {"agentId": None},
                }


def _counting(call_soon: Callable[..., asyncio.Handle], counts: dict[str, int]) -> Any:
    def counted(*args: Any, **kwargs: Any) -> asyncio.Handle:
        counts["callbacks"] += 1
        return call_soon(*args, **kwargs)

    return counted


async def test_a_page_of_connections_asks_the_loop_for_no_work_per_parent(
    tmp_path: Path,
) -> None:
    # The parents' pages are one loader future each (with the done callback strawberry's
    # DataLoader adds to it), awaited together; each page is then read without a future,
    # a task or a callback of its own. A wait for a busy reader connection is a future
    # that timing alone decides (see below); the old chain of futures per page was 4 more
    # futures and 5 more callbacks per parent.
    few, many = await _work_for(tmp_path, 5), await _work_for(tmp_path, 60)
    assert many.tasks == few.tasks
    assert abs(many.futures - few.futures - 55) <= 4
    assert abs(many.callbacks - few.callbacks - 55) <= 4


async def test_parents_and_type_names_ask_the_loop_for_no_work_per_row(tmp_path: Path) -> None:
    # A row's session and thread are objects the page has read already (no load, no
    # await), and __typename is the type's name: per parent, only its loads (its
    # threads, their message page, its event page) are a future and a callback each.
    # Loads of one level can find both reader connections busy, in either run: a wait
    # for one is a future (and its wake-up a callback) that timing alone decides, hence
    # the few either way. A row's own work would be over 300 more (55 parents x 6 rows).
    few, many = await _work_for(tmp_path, 5, RELATED), await _work_for(tmp_path, 60, RELATED)
    assert many.tasks == few.tasks
    assert abs(many.futures - few.futures - 3 * 55) <= 4
    assert abs(many.callbacks - few.callbacks - 3 * 55) <= 4


async def test_a_session_found_by_its_session_id_is_not_loaded_again(tmp_path: Path) -> None:
    # Found by sessionId, the row is in hand: the lookup by pk (a loader batch, so a task
    # and a turn of the loop) is never made. By global ID, it is the one load.
    store = await Store.open(tmp_path / "s.db")
    try:
        await make_sessions(store, 2)
        async with store.read() as reader:
            (row,) = await reader.connection.execute_fetchall(
                "SELECT session_id FROM sessions LIMIT 1"
            )
        schema, settings = build_schema(), ServerSettings()
        query = "query($id: ID!) { session(id: $id) { id sessionId } }"
        context = Context(store=store, settings=settings, request_id="t")
        by_sid = await schema.execute(query, {"id": row[0]}, context_value=context)
        assert by_sid.errors is None and by_sid.data is not None
        assert by_sid.data["session"]["sessionId"] == row[0]
        assert "session_by_sid" in vars(context.loaders) and "session" not in vars(context.loaders)
        context = Context(store=store, settings=settings, request_id="t")
        by_id = await schema.execute(
            query, {"id": by_sid.data["session"]["id"]}, context_value=context
        )
        assert by_id.data == by_sid.data
        assert "session" in vars(context.loaders) and "session_by_sid" not in vars(context.loaders)
    finally:
        await store.close()


_COLUMNS = """query($n: Int!) { sessions(first: $n) { edges { node {
  id sessionId project cwd gitBranch version messageCount eventCount conversationCount
  startedAt endedAt lastActivityAt hasSidechains historyOnly
  conversations { isSidechain agentId parentToolUseId messageCount eventCount startedAt
    endedAt messages(first: 3) { nodes { uuid role model timestamp } } }
  events(first: 3) { nodes { uuid type subtype timestamp } } } } } }"""


async def test_the_fields_read_off_a_row_build_no_resolve_info_per_row(tmp_path: Path) -> None:
    # Every field that reads its row (a _column or a small method) is completed by its
    # plan: the resolve infos built are the root's and each level's loads, whatever the
    # number of rows.
    built = []
    original = CycleFreeExecutionContext.build_resolve_info
    for sessions in (3, 30):
        store = await Store.open(tmp_path / f"c{sessions}.db")
        try:
            await make_sessions(store, sessions, messages=4, events=4, sidechain_every=0)
            schema, settings = build_schema(), ServerSettings()
            context = Context(store=store, settings=settings, request_id="t")
            count = 0

            def counted(self: Any, *args: Any, **kwargs: Any) -> Any:
                nonlocal count
                count += 1
                return original(self, *args, **kwargs)

            with patch.object(CycleFreeExecutionContext, "build_resolve_info", counted):
                result = await schema.execute(_COLUMNS, {"n": sessions}, context_value=context)
            assert result.errors is None and result.data is not None
            assert len(result.data["sessions"]["edges"]) == sessions
            built.append(count)
        finally:
            await store.close()
    assert built[0] == built[1] < 12, built
