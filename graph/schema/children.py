"""A parent's messages or events as a connection.

One page loader batches the pages of every parent of a request; the total count is the
parent row's own count when nothing filters the list, and is counted (batched too) when
something does.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Literal, TypeVar

from strawberry.dataloader import DataLoader

from graph.loaders import ChildCount, ChildPage
from graph.schema.connections import Connection, PageArgs, key_types, page_key
from graph.schema.context import Context
from graph.schema.scalars import to_db_time
from graph.store import EventFilter, EventRow, MessageFilter, MessageRow, Page, Parent

__all__ = ["event_connection", "event_filter", "message_connection"]

R = TypeVar("R")
T = TypeVar("T")

_UNFILTERED: dict[str, MessageFilter | EventFilter] = {
    "messages": MessageFilter(),
    "events": EventFilter(),
}

# A session's timeline interleaves its threads by time; a thread is read in file order.
_SORT = {"session": ("timestamp", "id"), "conversation": ("seq", "id")}


def message_connection(
    context: Context,
    parent: Parent,
    pk: int,
    args: PageArgs,
    role: str | None,
    total: int,
    of: Callable[[MessageRow, Context], T],
) -> Connection[T]:
    """A parent's messages (of one ``role``, or all), a page at a time, each made ``of``
    its row and the request's context."""
    where = MessageFilter(role=role) if role is not None else _UNFILTERED["messages"]
    pages = context.loaders.message_page
    return _children(
        context, "messages", pages, parent, pk, args, where, total, lambda row: of(row, context)
    )


def event_connection(
    context: Context,
    parent: Parent,
    pk: int,
    args: PageArgs,
    where: EventFilter,
    total: int,
    of: Callable[[EventRow, Context], T],
) -> Connection[T]:
    """A parent's events matching ``where``, a page at a time, each made ``of`` its row
    and the request's context."""
    pages = context.loaders.event_page
    return _children(
        context, "events", pages, parent, pk, args, where, total, lambda row: of(row, context)
    )


def _children(
    context: Context,
    table: Literal["messages", "events"],
    pages: DataLoader[ChildPage, Page[R]],
    parent: Parent,
    pk: int,
    args: PageArgs,
    where: MessageFilter | EventFilter,
    total: int,
    wrap: Callable[[R], T],
) -> Connection[T]:
    """A parent's ``table`` rows matching ``where``, a page at a time; ``total``: how many
    the parent has (its row's count), which is the total count when nothing filters."""
    loaders, settings = context.loaders, context.settings
    sort = _SORT[parent]
    kind = f"{parent[0]}{table[0]}"
    request = args.request(
        kind, key_types(sort), default=settings.default_page_size, maximum=settings.max_page_size
    )
    return Connection.build(
        lambda: pages.load(ChildPage(parent, pk, where, request)),
        wrap,
        page_key(sort),
        kind,
        total
        if where == _UNFILTERED[table]
        else lambda: loaders.child_count.load(ChildCount(table, parent, pk, where)),
    )


def event_filter(
    types: list[str] | None,
    subtypes: list[str] | None,
    since: datetime | None,
    until: datetime | None,
) -> EventFilter:
    """The store's filter for the events arguments."""
    return EventFilter(
        types=tuple(types) if types is not None else None,
        subtypes=tuple(subtypes) if subtypes is not None else None,
        since=to_db_time(since) if since else None,
        until=to_db_time(until) if until else None,
    )
