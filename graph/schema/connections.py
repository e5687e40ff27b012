"""Relay connections: ``edges { cursor node }``, ``pageInfo`` and a lazy ``totalCount``."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Final, Generic, TypeVar

import strawberry

from graph.errors import UserInputError
from graph.schema.chained import Chained, then
from graph.schema.ids import decode_cursor, encode_cursor
from graph.store import Page, PageRequest, SortKey

__all__ = ["Connection", "Edge", "PageArgs", "PageInfo"]

T = TypeVar("T")
R = TypeVar("R")


@strawberry.type(description="A node and the cursor to page from it.")
class Edge(Generic[T]):
    node: T
    # The cursor is made only when selected (most pages are read without): the kind of
    # list, and the node's place in it (the sort key of ``source``).
    kind: strawberry.Private[str]
    source: strawberry.Private[Any]
    sort_key: strawberry.Private[Callable[[Any], SortKey]] = tuple

    @strawberry.field
    def cursor(self) -> str:
        return _cursor(self)


def _cursor(edge: Edge[Any]) -> str:
    return encode_cursor(edge.kind, edge.sort_key(edge.source))


@strawberry.type(description="Where a page sits in the whole list.")
class PageInfo:
    has_next_page: bool
    has_previous_page: bool
    edges: strawberry.Private[Sequence[Edge[Any]]]

    @strawberry.field
    def start_cursor(self) -> str | None:
        return _cursor(self.edges[0]) if self.edges else None

    @strawberry.field
    def end_cursor(self) -> str | None:
        return _cursor(self.edges[-1]) if self.edges else None


Parts = tuple[list[Edge[Any]], PageInfo]


@strawberry.type(description="A page of a list, Relay style.")
class Connection(Generic[T]):
    """A page that is fetched only if edges, nodes or pageInfo are selected.

    ``totalCount`` alone costs one count; the page alone costs one page query. Each field
    answers at once when what it needs is known, and otherwise hands graphql-core a
    :class:`Chained` of the loader's future (no coroutine, so no task when a list's pages
    are awaited together).
    """

    fetch: strawberry.Private[Callable[[], Awaitable[Any]]]
    # The edges and page info of what ``fetch`` gives.
    make: strawberry.Private[Callable[[Any], Parts]]
    # The count, or how to count (when the parent's row does not say).
    count: strawberry.Private[int | Callable[[], Awaitable[int]]]
    # edges, nodes and pageInfo may all be asked before the page is in: the first
    # fetches, the rest share its page (fetching their own would cost a query each and
    # give other objects).
    loading: strawberry.Private[Chained[Parts] | None] = None

    def _page(self) -> Chained[Parts]:
        if self.loading is None:
            self.loading = then(self.fetch(), self.make)
        return self.loading

    async def page(self) -> Parts:
        """The page's edges and page info, fetched if they are not yet."""
        return await self._page()

    def _part(self, part: Callable[[Parts], R]) -> R | Chained[R]:
        page = self._page()
        return part(page.result()) if page.done() else page.then(part)

    @strawberry.field(graphql_type=list[Edge[T]])
    def edges(self) -> list[Edge[T]] | Awaitable[list[Edge[T]]]:
        return self._part(_edges)

    @strawberry.field(graphql_type=PageInfo)
    def page_info(self) -> PageInfo | Awaitable[PageInfo]:
        return self._part(_page_info)

    @strawberry.field(
        description="How many items the whole list has (counted only if asked).",
        graphql_type=int,
    )
    def total_count(self) -> int | Awaitable[int]:
        # Synchronous when the count is known: no coroutine for graphql-core to await.
        count = self.count
        return count if isinstance(count, int) else count()

    @strawberry.field(
        description="The nodes of this page, for clients that need no cursors.",
        graphql_type=list[T],
    )
    def nodes(self) -> list[T] | Awaitable[list[T]]:
        return self._part(_nodes)

    @classmethod
    def build(
        cls,
        load: Callable[[], Awaitable[Page[R]]],
        wrap: Callable[[R], T],
        sort_key: Callable[[R], SortKey],
        kind: str,
        count: int | Callable[[], Awaitable[int]],
    ) -> Connection[T]:
        """A connection over a store page loader, giving each row its cursor."""

        def parts(page: Page[R]) -> Parts:
            edges = [
                Edge(node=wrap(row), kind=kind, source=row, sort_key=sort_key) for row in page.rows
            ]
            info = PageInfo(
                has_next_page=page.has_next, has_previous_page=page.has_previous, edges=edges
            )
            return edges, info

        return cls(fetch=load, make=parts, count=count)


def _edges(parts: Parts) -> list[Edge[Any]]:
    return parts[0]


def _page_info(parts: Parts) -> PageInfo:
    return parts[1]


def _nodes(parts: Parts) -> list[Any]:
    return [edge.node for edge in parts[0]]


@dataclass(frozen=True, slots=True)
class PageArgs:
    """The four Relay arguments, checked against the server's page-size limit."""

    first: int | None = None
    after: str | None = None
    last: int | None = None
    before: str | None = None

    def request(
        self, kind: str, shape: int | tuple[type, ...], *, default: int, maximum: int
    ) -> PageRequest:
        """The store request for these arguments (the same object for the same arguments:
        a page of 50 sessions asks 50 times for each session's first messages); ``shape``:
        the types of the sort key's values (see :func:`key_types`), or how many.

        Raises:
            UserInputError: negative or too large sizes, or ``first`` with ``last``.
            BadCursorError: a cursor from another field or ordering.
        """
        return _request(self, kind, shape, default, maximum)


@lru_cache(maxsize=512)
def _request(
    args: PageArgs, kind: str, shape: int | tuple[type, ...], default: int, maximum: int
) -> PageRequest:
    if args.first is not None and args.last is not None:
        raise UserInputError("pass `first` or `last`, not both")
    for name, size in (("first", args.first), ("last", args.last)):
        if size is not None and not 0 <= size <= maximum:
            raise UserInputError(
                f"`{name}` must be between 0 and {maximum}, got {size}",
                argument=name,
                maximum=maximum,
            )
    after = decode_cursor(args.after, kind, shape) if args.after is not None else None
    before = decode_cursor(args.before, kind, shape) if args.before is not None else None
    from_end = args.last is not None or (args.before is not None and args.first is None)
    limit = args.last if args.last is not None else args.first
    return PageRequest(
        limit=min(default, maximum) if limit is None else limit,
        after=after,
        before=before,
        from_end=from_end,
    )


# The type of each column a page is sorted by: a cursor whose values are of other types
# (a number where a time goes, say) was not issued here, and is refused.
_COLUMN_TYPES: Final[dict[str, type]] = {
    "id": int,
    "seq": int,
    "message_count": int,
    "timestamp": str,
    "started_at": str,
    "ended_at": str,
}


def key_types(fields: Sequence[str]) -> tuple[type, ...]:
    """The types of the values of a sort key on ``fields`` (columns)."""
    return tuple(_COLUMN_TYPES[field] for field in fields)


def page_key(fields: Sequence[str]) -> Callable[[object], SortKey]:
    """A function reading the sort key ``fields`` off a row."""
    return lambda row: tuple(getattr(row, field) for field in fields)
