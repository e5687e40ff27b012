"""What the read queries can be filtered and ordered by, as plain values.

The GraphQL layer turns its input types into these; the store turns them into
parameterized WHERE fragments. Nothing here is user-supplied SQL.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Any

import orjson

__all__ = [
    "EventFilter",
    "MessageFilter",
    "SessionFilter",
    "SessionOrder",
    "Where",
    "json_list",
]

Where = tuple[str, list[Any]]


class SessionOrder(Enum):
    """Orderings of the session list; each value is its sort columns."""

    STARTED_AT = ("started_at", "id")
    LAST_ACTIVITY = ("ended_at", "id")
    MESSAGE_COUNT = ("message_count", "id")


def _join(clauses: list[str], params: list[Any]) -> Where:
    return (" AND ".join(clauses) or "1"), params


@dataclass(frozen=True, slots=True)
class SessionFilter:
    """Sessions matching every field that is set."""

    project: str | None = None
    cwd: str | None = None
    git_branch: str | None = None
    model: str | None = None
    started_after: str | None = None
    started_before: str | None = None
    has_sidechains: bool | None = None
    search: str | None = None  # an FTS5 expression from graph.search.fts
    has_secrets: bool | None = None

    def where(self, alias: str = "sessions") -> Where:
        clauses: list[str] = []
        params: list[Any] = []
        for column, value in (
            ("project", self.project),
            ("cwd", self.cwd),
            ("git_branch", self.git_branch),
        ):
            if value is not None:
                clauses.append(f"{alias}.{column} = ?")
                params.append(value)
        if self.model is not None:
            clauses.append(
                f"EXISTS (SELECT 1 FROM messages WHERE messages.model = ? "
                f"AND messages.session_pk = {alias}.id)"
            )
            params.append(self.model)
        if self.started_after is not None:
            clauses.append(f"{alias}.started_at >= ?")
            params.append(self.started_after)
        if self.started_before is not None:
            clauses.append(f"{alias}.started_at < ?")
            params.append(self.started_before)
        if self.has_sidechains is not None:
            clauses.append(f"{alias}.sidechain_count {'>' if self.has_sidechains else '='} 0")
        if self.has_secrets is not None:
            clauses.append(
                f"{'' if self.has_secrets else 'NOT '}EXISTS (SELECT 1 FROM secret_findings"
                f" AS f WHERE f.session_pk = {alias}.id)"
            )
        if self.search is not None:
            clauses.append(
                f"{alias}.id IN (SELECT d.session_pk FROM search_fts JOIN search_docs AS d"
                " ON d.rowid = search_fts.rowid WHERE search_fts MATCH ?)"
            )
            params.append(self.search)
        return _join(clauses, params)


@dataclass(frozen=True, slots=True)
class MessageFilter:
    """Messages of one role (or all)."""

    role: str | None = None

    def where(self, alias: str = "messages") -> Where:
        if self.role is None:
            return "1", []
        return f"{alias}.role = ?", [self.role]


@dataclass(frozen=True, slots=True)
class EventFilter:
    """Events matching every field that is set; ``types`` and ``subtypes`` match any."""

    session_pk: int | None = None
    types: tuple[str, ...] | None = None
    subtypes: tuple[str, ...] | None = None
    since: str | None = None
    until: str | None = None

    def where(self, alias: str = "events") -> Where:
        clauses: list[str] = []
        params: list[Any] = []
        if self.session_pk is not None:
            clauses.append(f"{alias}.session_pk = ?")
            params.append(self.session_pk)
        for column, values in (("type", self.types), ("subtype", self.subtypes)):
            if values is not None:
                clauses.append(f"{alias}.{column} IN (SELECT value FROM json_each(?))")
                params.append(json_list(values))
        if self.since is not None:
            clauses.append(f"{alias}.timestamp >= ?")
            params.append(self.since)
        if self.until is not None:
            clauses.append(f"{alias}.timestamp < ?")
            params.append(self.until)
        return _join(clauses, params)


def json_list(values: tuple[Any, ...] | list[Any]) -> str:
    """A JSON array for ``json_each(?)``: one parameter, and one statement text, for any size."""
    return orjson.dumps(list(values)).decode()
