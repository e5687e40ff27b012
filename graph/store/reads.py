"""Read queries. Every method is one SQL statement, whatever the number of keys.

Batch methods take a list of keys and return one result per key, in key order, which
is the contract DataLoaders need. Keys travel as one JSON array parameter
(``json_each(?)``) so the statement text, and SQLite's prepared-statement cache entry,
is the same for 5 keys as for 500.
"""

from __future__ import annotations

from collections import defaultdict
from typing import TYPE_CHECKING, Any, Literal, TypeVar

from graph.store.changes import ChangeRow, changes_after
from graph.store.figures import Figures
from graph.store.filters import (
    EventFilter,
    MessageFilter,
    SessionFilter,
    SessionOrder,
    json_list,
)
from graph.store.pages import Page, PageRequest, keyset
from graph.store.rows import (
    ConversationRow,
    EventRow,
    MessageRow,
    SessionRow,
    columns,
)
from graph.store.searching import RANK_WINDOW, HitRow, SearchWhere, count_sql, search_sql
from graph.store.transcripts import (
    conversation_events,
    conversation_messages,
    thread_line_ranges,
)

if TYPE_CHECKING:
    from collections.abc import AsyncGenerator, Sequence


__all__ = ["Parent", "Reader"]

R = TypeVar("R", bound=tuple[Any, ...])  # a named tuple of rows.py

# A message's stored records: the largest column, which a page of the API does not need.
_CONTENT = frozenset({"content"})
Parent = Literal["session", "conversation"]

# Sort columns per parent: a session's timeline interleaves its threads by time, a
# conversation is read in file order.
_MESSAGE_SORT: dict[Parent, tuple[str, ...]] = {
    "session": ("timestamp", "id"),
    "conversation": ("seq", "id"),
}
_EVENT_SORT = _MESSAGE_SORT
_PARENT_COLUMN: dict[Parent, str] = {"session": "session_pk", "conversation": "conversation_pk"}


class Reader(Figures):
    """Read queries on one (read-only) connection: pages, rows by key, search, exports,
    and (from :class:`~graph.store.figures.Figures`) the whole database's figures."""

    # sessions

    async def sessions_by_pk(self, pks: Sequence[int]) -> list[SessionRow | None]:
        return await self._by_keys(SessionRow, "sessions", "id", pks, small=True)

    async def sessions_by_session_id(self, ids: Sequence[str]) -> list[SessionRow | None]:
        return await self._by_keys(SessionRow, "sessions", "session_id", ids, small=True)

    async def sessions(
        self,
        where: SessionFilter,
        order: SessionOrder,
        descending: bool,
        request: PageRequest,
    ) -> Page[SessionRow]:
        filter_sql, filter_params = where.where("s")
        page_sql, page_params, order_sql = keyset(
            [f"s.{c}" for c in order.value], descending, request
        )
        rows = await self._all(
            f"SELECT {columns(SessionRow, 's')} FROM sessions AS s "
            f"WHERE {filter_sql} AND {page_sql} ORDER BY {order_sql} LIMIT ?",
            [*filter_params, *page_params, request.limit + 1],
            small=self._small_page(filter_params, request),
        )
        return Page.cut([SessionRow._make(row) for row in rows], request)

    async def sessions_matching(self, where: SessionFilter, pks: Sequence[int]) -> set[int]:
        """Which of these sessions ``where`` matches (for the live session list)."""
        clause, params = where.where("sessions")
        rows = await self._all(
            f"SELECT id FROM sessions WHERE id IN (SELECT value FROM json_each(?)) AND {clause}",
            (json_list(list(pks)), *params),
        )
        return {int(row[0]) for row in rows}

    async def session_ids_starting(self, prefix: str, limit: int) -> list[str]:
        """The sessionIds that begin with ``prefix`` (a range on the unique index)."""
        rows = await self._all(
            "SELECT session_id FROM sessions WHERE session_id >= ?1"
            " AND substr(session_id, 1, length(?1)) = ?1 ORDER BY session_id LIMIT ?2",
            (prefix, limit),
        )
        return [str(row[0]) for row in rows]

    async def session_id_neighbours(
        self, session_ids: Sequence[str]
    ) -> list[tuple[str | None, str | None]]:
        """Each sessionId's neighbours among all stored ids, in their order (the one just
        before, the one just after): how much of an id tells it apart from every other."""
        rows = await self._all(
            "SELECT (SELECT max(session_id) FROM sessions WHERE session_id < k.value),"
            " (SELECT min(session_id) FROM sessions WHERE session_id > k.value)"
            " FROM json_each(?) AS k ORDER BY k.key",
            [json_list(list(session_ids))],
        )
        return [(row[0], row[1]) for row in rows]

    async def count_sessions(self, where: SessionFilter) -> int:
        filter_sql, params = where.where("s")
        rows = await self._all(f"SELECT count(*) FROM sessions AS s WHERE {filter_sql}", params)
        return int(rows[0][0])

    # conversations

    async def conversations_by_pk(self, pks: Sequence[int]) -> list[ConversationRow | None]:
        return await self._by_keys(ConversationRow, "conversations", "id", pks, small=True)

    async def conversations_of_sessions(
        self, session_pks: Sequence[int]
    ) -> list[list[ConversationRow]]:
        rows = await self._all(
            f"SELECT {columns(ConversationRow, 'c')} FROM json_each(?) AS k "
            "JOIN conversations AS c ON c.session_pk = k.value "
            "ORDER BY c.session_pk, c.is_sidechain, c.started_at, c.id",
            [json_list(list(session_pks))],
        )
        grouped: dict[int, list[ConversationRow]] = defaultdict(list)
        for row in rows:
            grouped[row[1]].append(ConversationRow(*row))
        return [grouped.get(pk, []) for pk in session_pks]

    # messages and events

    async def messages_by_pk(self, pks: Sequence[int]) -> list[MessageRow | None]:
        return await self._by_keys(MessageRow, "messages", "id", pks)

    async def events_by_pk(self, pks: Sequence[int]) -> list[EventRow | None]:
        return await self._by_keys(EventRow, "events", "id", pks)

    async def message_pages(
        self,
        parent: Parent,
        parent_pks: Sequence[int],
        where: MessageFilter,
        request: PageRequest,
        *,
        content: bool = True,
    ) -> list[Page[MessageRow]]:
        """A page of each parent's messages; without ``content``, their rows' ``content``
        is None (:meth:`message_contents` reads it)."""
        filter_sql, filter_params = where.where("x")
        return await self._child_pages(
            MessageRow,
            "messages",
            parent,
            _MESSAGE_SORT[parent],
            parent_pks,
            filter_sql,
            filter_params,
            request,
            frozenset() if content else _CONTENT,
            small=not content,
        )

    async def message_contents(self, pks: Sequence[int]) -> list[bytes | None]:
        """The stored records (``content``) of these messages, by pk."""
        rows = await self._all(
            "SELECT k.value, m.content FROM json_each(?) AS k JOIN messages AS m ON m.id = k.value",
            (json_list(list(pks)),),
        )
        found = {int(pk): content for pk, content in rows}
        return [found.get(pk) for pk in pks]

    async def event_pages(
        self,
        parent: Parent,
        parent_pks: Sequence[int],
        where: EventFilter,
        request: PageRequest,
    ) -> list[Page[EventRow]]:
        filter_sql, filter_params = where.where("x")
        return await self._child_pages(
            EventRow,
            "events",
            parent,
            _EVENT_SORT[parent],
            parent_pks,
            filter_sql,
            filter_params,
            request,
        )

    async def _child_pages(
        self,
        row_type: type[R],
        table: str,
        parent: Parent,
        sort: tuple[str, ...],
        parent_pks: Sequence[int],
        filter_sql: str,
        filter_params: list[Any],
        request: PageRequest,
        unread: frozenset[str] = frozenset(),
        *,
        small: bool = False,
    ) -> list[Page[R]]:
        """A page of each parent's rows; ``small``: rows without records, so one parent's
        unfiltered short page is a small read."""
        # One page per parent in one statement: the correlated subquery walks each
        # parent's index for limit + 1 rows, so the cost is parents x limit, not the
        # size of the parents' histories (a window function would number them all).
        parent_column = _PARENT_COLUMN[parent]
        page_sql, page_params, inner_order = keyset([f"x.{c}" for c in sort], False, request)
        if len(parent_pks) == 1:
            # One parent (a session's own page, the commonest): its index is walked as is,
            # in the page's order, without json_each and a sort of the joined rows.
            rows = await self._all(
                f"SELECT {columns(row_type, 'x', unread=unread)} FROM {table} AS x"
                f" WHERE x.{parent_column} = ? AND {filter_sql} AND {page_sql}"
                f" ORDER BY {inner_order} LIMIT ?",
                [parent_pks[0], *filter_params, *page_params, request.limit + 1],
                small=small and self._small_page(filter_params, request),
            )
            return [Page.cut([tuple.__new__(row_type, row) for row in rows], request)]
        direction = " DESC" if request.from_end else ""
        outer_order = ", ".join(f"t.{c}{direction}" for c in sort)
        rows = await self._all(
            f"SELECT k.key, {columns(row_type, 't', unread=unread)} FROM json_each(?) AS k "
            f"JOIN {table} AS t ON t.id IN ("
            f"  SELECT x.id FROM {table} AS x WHERE x.{parent_column} = k.value"
            f"  AND {filter_sql} AND {page_sql} ORDER BY {inner_order} LIMIT ?"
            f") ORDER BY k.key, {outer_order}",
            [json_list(list(parent_pks)), *filter_params, *page_params, request.limit + 1],
        )
        grouped: dict[int, list[R]] = defaultdict(list)
        for row in rows:
            grouped[row[0]].append(tuple.__new__(row_type, row[1:]))
        return [Page.cut(grouped.get(index, []), request) for index in range(len(parent_pks))]

    async def count_children(
        self,
        table: Literal["messages", "events"],
        parent: Parent,
        parent_pks: Sequence[int],
        where: MessageFilter | EventFilter,
    ) -> list[int]:
        filter_sql, params = where.where("x")
        rows = await self._all(
            f"SELECT k.key, (SELECT count(*) FROM {table} AS x "
            f"WHERE x.{_PARENT_COLUMN[parent]} = k.value AND {filter_sql}) "
            "FROM json_each(?) AS k ORDER BY k.key",
            [*params, json_list(list(parent_pks))],
        )
        return [int(row[1]) for row in rows]

    async def events(self, where: EventFilter, request: PageRequest) -> Page[EventRow]:
        filter_sql, filter_params = where.where("e")
        page_sql, page_params, order_sql = keyset(["e.timestamp", "e.id"], False, request)
        rows = await self._all(
            f"SELECT {columns(EventRow, 'e')} FROM events AS e "
            f"WHERE {filter_sql} AND {page_sql} ORDER BY {order_sql} LIMIT ?",
            [*filter_params, *page_params, request.limit + 1],
        )
        return Page.cut([EventRow._make(row) for row in rows], request)

    async def count_events(self, where: EventFilter) -> int:
        filter_sql, params = where.where("e")
        rows = await self._all(f"SELECT count(*) FROM events AS e WHERE {filter_sql}", params)
        return int(rows[0][0])

    # full-text search

    async def search(
        self,
        expression: str,
        where: SearchWhere,
        request: PageRequest,
        window: int = RANK_WINDOW,
    ) -> Page[HitRow]:
        sql, params = search_sql(expression, where, request, window)
        return Page.cut([HitRow(*row) for row in await self._all(sql, params)], request)

    async def count_search(self, expression: str, where: SearchWhere) -> int:
        sql, params = count_sql(expression, where)
        return int((await self._all(sql, params))[0][0])

    def conversation_messages(
        self, conversation_pk: int, lines: range | None = None
    ) -> AsyncGenerator[MessageRow, None]:
        """A thread's messages in file order, fetched a page at a time (for exports).

        With ``lines`` (one of :meth:`thread_line_ranges`), those that may have records
        in it: every message that starts before its end.
        """
        self.statements += 1
        return conversation_messages(self._conn, conversation_pk, lines)

    def conversation_events(
        self, conversation_pk: int, lines: range | None = None
    ) -> AsyncGenerator[EventRow, None]:
        """A thread's events in file order (in ``lines`` only, if given), fetched a page at
        a time (for exports)."""
        self.statements += 1
        return conversation_events(self._conn, conversation_pk, lines)

    async def thread_line_ranges(self, conversation_pk: int) -> list[range]:
        """The line numbers of each file a thread was read from, in order (one range
        unless a file joined a thread another one holds: see
        :data:`~graph.inputs.FILE_LINES`)."""
        self._count()
        return await thread_line_ranges(self._conn, conversation_pk)

    async def changes_after(
        self, seq: int, limit: int, session_pk: int | None = None
    ) -> list[ChangeRow]:
        """Up to ``limit`` changes of the feed after ``seq`` (of one session, if given)."""
        self._count()
        return await changes_after(self._conn, seq, limit, session_pk)
