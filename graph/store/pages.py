"""Keyset pagination: a page is a LIMIT after (or before) the sort key of a cursor row.

Keyset rather than OFFSET so that a page deep into a large table costs the same as the
first one, and so that rows inserted while a client pages do not shift what it sees.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

__all__ = ["Page", "PageRequest", "SortKey", "keyset"]

R = TypeVar("R")
SortKey = tuple[Any, ...]


@dataclass(frozen=True, slots=True)
class PageRequest:
    """Which slice of an ordered result to return.

    Attributes:
        limit: How many rows at most.
        after: Sort key of the row the page starts after (exclusive).
        before: Sort key of the row the page ends before (exclusive).
        from_end: Take the last ``limit`` rows of the range rather than the first
            (Relay's ``last``).
    """

    limit: int
    after: SortKey | None = None
    before: SortKey | None = None
    from_end: bool = False


@dataclass(frozen=True, slots=True)
class Page(Generic[R]):
    """Rows of one page in display order, and whether there are more either side."""

    rows: list[R]
    has_next: bool
    has_previous: bool

    @classmethod
    def cut(cls, rows: list[R], request: PageRequest) -> Page[R]:
        """Build a page from rows fetched with ``limit + 1`` in fetch order."""
        more = len(rows) > request.limit
        rows = rows[: request.limit]
        if request.from_end:
            rows.reverse()
            return cls(rows, has_next=request.before is not None, has_previous=more)
        return cls(rows, has_next=more, has_previous=request.after is not None)


def keyset(
    sort: Sequence[str], descending: bool, request: PageRequest
) -> tuple[str, list[Any], str]:
    """SQL pieces for one page over ``sort`` columns (the last one must be unique).

    Returns:
        A WHERE fragment (``"1"`` when unbounded), its parameters, and the ORDER BY list
        in fetch order (reversed when taking rows from the end).
    """
    columns = ", ".join(sort)
    placeholders = ", ".join("?" * len(sort))
    later, earlier = (">", "<") if not descending else ("<", ">")
    where: list[str] = []
    params: list[Any] = []
    for key, op in ((request.after, later), (request.before, earlier)):
        if key is not None:
            if len(key) != len(sort):
                raise ValueError("sort key does not match the ordering")
            where.append(f"({columns}) {op} ({placeholders})")
            params.extend(key)
    backwards = descending != request.from_end
    direction = " DESC" if backwards else ""
    order = ", ".join(column + direction for column in sort)
    return " AND ".join(where) or "1", params, order
