"""Per-request DataLoaders: every relationship the schema resolves goes through one.

One :class:`Loaders` is made per request, so caching never leaks between requests or
users. Each loader turns all the keys asked for in one tick of the event loop into one
store call, which is one SQL statement per distinct (parent kind, filter, page) group:
a query over 5 sessions costs the same number of statements as one over 500.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any, Literal, TypeVar

from strawberry.dataloader import DataLoader

from graph.store import (
    Clock,
    ConversationRow,
    Dimension,
    EventFilter,
    EventRow,
    FilterOptions,
    HitRow,
    KindCount,
    MessageFilter,
    MessageRow,
    Page,
    PageRequest,
    Parent,
    ProjectCells,
    Reader,
    SearchWhere,
    SessionFilter,
    SessionOrder,
    SessionRow,
    SourceCount,
    StatsRow,
    Store,
    UsageCell,
    UsageFilter,
)

__all__ = ["ChildCount", "ChildPage", "Loaders"]

K = TypeVar("K", bound=Hashable)
G = TypeVar("G", bound=Hashable)
V = TypeVar("V")


@dataclass(frozen=True, slots=True)
class ChildPage:
    """One page of a parent's messages or events."""

    parent: Parent
    pk: int
    where: MessageFilter | EventFilter
    request: PageRequest


@dataclass(frozen=True, slots=True)
class ChildCount:
    """How many messages or events a parent has (matching ``where``)."""

    table: Literal["messages", "events"]
    parent: Parent
    pk: int
    where: MessageFilter | EventFilter


class Loaders:
    """The loaders of one request, and the root queries, over one :class:`Store`."""

    def __init__(self, store: Store, *, thresholds: Sequence[int] = ()) -> None:
        self._store = store
        self._thresholds = tuple(thresholds)  # request-size buckets for pricing usage
        # Rows a request has already read (a page of sessions, a session's threads): what
        # loading them by pk answers without a statement. A dict, not the loaders'
        # prime(): that makes a future per row, for rows mostly never asked for again.
        self._sessions: dict[int, SessionRow] = {}
        self._conversations: dict[int, ConversationRow] = {}

    # Each loader is made when the request first asks for it: a request uses two or
    # three of them.

    @cached_property
    def session(self) -> DataLoader[int, SessionRow | None]:
        return self._keyed(Reader.sessions_by_pk, self._sessions)

    @cached_property
    def session_by_sid(self) -> DataLoader[str, SessionRow | None]:
        return self._keyed(Reader.sessions_by_session_id)

    @cached_property
    def conversation(self) -> DataLoader[int, ConversationRow | None]:
        return self._keyed(Reader.conversations_by_pk, self._conversations)

    @cached_property
    def message(self) -> DataLoader[int, MessageRow | None]:
        return self._keyed(Reader.messages_by_pk)

    @cached_property
    def message_content(self) -> DataLoader[int, bytes | None]:
        return self._keyed(Reader.message_contents)

    @cached_property
    def event(self) -> DataLoader[int, EventRow | None]:
        return self._keyed(Reader.events_by_pk)

    @cached_property
    def conversations_of_session(self) -> DataLoader[int, list[ConversationRow]]:
        return self._keyed(Reader.conversations_of_sessions)

    @cached_property
    def message_page(self) -> DataLoader[ChildPage, Page[MessageRow]]:
        return self._grouped(
            lambda k: (k.parent, k.where, k.request),
            # Without their records: the API serves a message's stored text, and reads
            # the records (message_content) only for its blocks or records.
            lambda r, g, pks: r.message_pages(g[0], pks, g[1], g[2], content=False),
        )

    @cached_property
    def event_page(self) -> DataLoader[ChildPage, Page[EventRow]]:
        return self._grouped(
            lambda k: (k.parent, k.where, k.request),
            lambda r, g, pks: r.event_pages(g[0], pks, g[1], g[2]),
        )

    @cached_property
    def secret_findings(self) -> DataLoader[int, list[KindCount]]:
        return self._keyed(Reader.secret_findings_of_sessions)

    @cached_property
    def child_count(self) -> DataLoader[ChildCount, int]:
        return self._grouped(
            lambda k: (k.table, k.parent, k.where),
            lambda r, g, pks: r.count_children(g[0], g[1], pks, g[2]),
        )

    @cached_property
    def session_usage(self) -> DataLoader[int, list[UsageCell]]:
        thresholds = self._thresholds  # not self: the loader holds this function (no cycle)
        return self._keyed(lambda reader, pks: _usage_of_sessions(reader, pks, thresholds))

    def _keyed(
        self,
        fetch: Callable[[Reader, list[K]], Awaitable[Sequence[V]]],
        known: Mapping[K, V] | None = None,
    ) -> DataLoader[K, V]:
        store = self._store  # not self: the loaders hold this function (no cycle)
        seen: Mapping[K, V] = known if known is not None else {}

        async def load(keys: list[K]) -> Sequence[V]:
            missing = [key for key in keys if key not in seen]
            found: dict[K, V] = {}
            if missing:
                async with store.read() as reader:
                    found = dict(zip(missing, await fetch(reader, missing), strict=True))
            return [found[key] if key in found else seen[key] for key in keys]

        return DataLoader(load_fn=load)

    def remembered_session(self, pk: int) -> SessionRow | None:
        """The session row this request has read already, if it has (no load)."""
        return self._sessions.get(pk)

    def remembered_conversation(self, pk: int) -> ConversationRow | None:
        """The thread row this request has read already, if it has (no load)."""
        return self._conversations.get(pk)

    def remember_sessions(self, rows: Iterable[SessionRow]) -> None:
        """Let loading these sessions by pk reuse the rows."""
        self._sessions.update((row.id, row) for row in rows)

    def remember_conversations(self, rows: Iterable[ConversationRow]) -> None:
        """Let loading these threads by pk reuse the rows."""
        self._conversations.update((row.id, row) for row in rows)

    def _grouped(
        self,
        group_of: Callable[[Any], G],
        fetch: Callable[[Reader, G, list[int]], Awaitable[Sequence[V]]],
    ) -> DataLoader[Any, V]:
        store = self._store  # not self: the loaders hold this function (no cycle)

        # Keys that differ only in their parent pk share one statement.
        async def load(keys: list[Any]) -> list[V]:
            groups: dict[G, list[int]] = {}
            for key in keys:
                groups.setdefault(group_of(key), []).append(key.pk)
            found: dict[Any, V] = {}
            async with store.read() as reader:
                for group, pks in groups.items():
                    unique = list(dict.fromkeys(pks))
                    for pk, value in zip(unique, await fetch(reader, group, unique), strict=True):
                        found[group, pk] = value
            return [found[group_of(key), key.pk] for key in keys]

        return DataLoader(load_fn=load)

    # Root queries: not relationships, so not batched, but they go through here so the
    # schema has one door to the store.

    async def sessions(
        self, where: SessionFilter, order: SessionOrder, descending: bool, request: PageRequest
    ) -> Page[SessionRow]:
        async with self._store.read() as reader:
            page = await reader.sessions(where, order, descending, request)
        self.remember_sessions(page.rows)
        return page

    async def count_sessions(self, where: SessionFilter) -> int:
        async with self._store.read() as reader:
            return await reader.count_sessions(where)

    async def events(self, where: EventFilter, request: PageRequest) -> Page[EventRow]:
        async with self._store.read() as reader:
            return await reader.events(where, request)

    async def count_events(self, where: EventFilter) -> int:
        async with self._store.read() as reader:
            return await reader.count_events(where)

    async def search(
        self, expression: str, where: SearchWhere, request: PageRequest
    ) -> Page[HitRow]:
        async with self._store.read() as reader:
            page = await reader.search(expression, where, request)
        return page

    async def count_search(self, expression: str, where: SearchWhere) -> int:
        async with self._store.read() as reader:
            return await reader.count_search(expression, where)

    async def stats(self) -> StatsRow:
        async with self._store.read() as reader:
            return await reader.stats()

    async def sessions_by_source(self) -> list[SourceCount]:
        async with self._store.read() as reader:
            return await reader.sessions_by_source()

    async def usage(
        self, dimensions: Sequence[Dimension], where: UsageFilter, clock: Clock
    ) -> list[UsageCell]:
        async with self._store.read() as reader:
            return await reader.usage(dimensions, where, clock, self._thresholds)

    async def projects(self) -> list[ProjectCells]:
        async with self._store.read() as reader:
            return await reader.projects(self._thresholds)

    async def filter_options(self) -> FilterOptions:
        async with self._store.read() as reader:
            return await reader.filter_options()

    async def schema_version(self) -> int:
        async with self._store.read() as reader:
            return await reader.schema_version()


async def _usage_of_sessions(
    reader: Reader, pks: list[int], thresholds: Sequence[int]
) -> list[list[UsageCell]]:
    """Each session's usage cells, in one statement for every session asked for
    (``Session.costUsd`` on a page)."""
    where = UsageFilter(session_pks=tuple(pks))
    cells = await reader.usage([Dimension.SESSION], where, Clock(), thresholds)
    by_pk: dict[int, list[UsageCell]] = {}
    for cell in cells:
        for pk in cell.session_pks:  # one: the cell is one session's
            by_pk.setdefault(pk, []).append(cell)
    return [by_pk.get(pk, []) for pk in pks]
