"""Usage reads: token sums of counted API messages, grouped, in one statement per call.

The store knows no prices. It groups finely enough for prices to be applied to its
cells afterwards, exactly: every cell is one model, one UTC day (prices change by date)
and one request-size bucket (long-context tiers are decided per request; see
:func:`graph.pricing.bucket_of`), inside the groups asked for. A report then has a few
cells per group, so pricing costs little, and the SQL is the same whatever the prices.

Local days, ISO weeks and months are cut in SQL: :class:`Clock` carries a time zone's
UTC offsets and the moments they change, and the statement picks each message's offset
with a binary search over those moments written as nested CASEs (a zone with one offset
needs none).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from graph.store.filters import json_list
from graph.store.rows import TokenTotals

__all__ = [
    "SOURCE_SQL",
    "Clock",
    "Dimension",
    "FilterOptions",
    "ProjectCells",
    "UsageCell",
    "UsageFilter",
    "filter_options_sql",
    "projects_sql",
    "usage_sql",
]

# The agent that wrote a session (migration 0010), as the usage queries alias sessions.
SOURCE_SQL = "s.source"


class Dimension(Enum):
    """What usage can be grouped by. ``HOUR`` (UTC) is for billing blocks."""

    DAY = "day"
    WEEK = "week"
    MONTH = "month"
    PROJECT = "project"
    MODEL = "model"
    SESSION = "session"
    SOURCE = "source"
    GIT_BRANCH = "git_branch"
    HOUR = "hour"


@dataclass(frozen=True, slots=True)
class Clock:
    """A time zone as SQL needs it: ``offsets[i]`` (seconds east of UTC) holds from
    ``changes[i - 1]`` (a stored timestamp) until ``changes[i]``."""

    offsets: tuple[int, ...] = (0,)
    changes: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class UsageFilter:
    """Counted messages matching every field that is set (a tuple matches any value)."""

    since: str | None = None
    until: str | None = None
    projects: tuple[str, ...] | None = None
    models: tuple[str, ...] | None = None
    session_pks: tuple[int, ...] | None = None
    session_ids: tuple[str, ...] | None = None  # the agents' own sessionIds
    git_branches: tuple[str, ...] | None = None
    sources: tuple[str, ...] | None = None

    @property
    def needs_sessions(self) -> bool:
        return any(
            v is not None
            for v in (self.projects, self.git_branches, self.session_ids, self.sources)
        )


@dataclass(frozen=True, slots=True)
class UsageCell:
    """The sums of one group's messages of one model, UTC day and request-size bucket."""

    keys: tuple[Any, ...]  # one per dimension asked for, in that order
    model: str | None
    utc_day: str  # YYYY-MM-DD
    bucket: int  # see graph.pricing.bucket_of
    tokens: TokenTotals
    messages: int
    session_pks: frozenset[int]
    first: str
    last: str

    @classmethod
    def of(cls, row: Sequence[Any], width: int) -> UsageCell:
        rest = row[width:]
        return cls(
            keys=tuple(row[:width]),
            model=rest[0],
            utc_day=rest[1],
            bucket=int(rest[2]),
            tokens=TokenTotals(*(int(value) for value in rest[3:8])),
            messages=int(rest[8]),
            session_pks=frozenset(int(pk) for pk in str(rest[9]).split(",")),
            first=rest[10],
            last=rest[11],
        )


@dataclass(frozen=True, slots=True)
class ProjectCells:
    """A project's sessions at a glance, and the usage cells of its counted messages."""

    project: str | None
    cwd: str | None
    sessions: int
    messages: int
    first_activity: str | None
    last_activity: str | None
    cells: list[UsageCell] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class FilterOptions:
    """The distinct values usage can be filtered by."""

    projects: list[str]
    models: list[str]
    git_branches: list[str]
    sources: list[str]


# total() cast back, as the session totals: saturates where sum() would fail the whole
# report with "integer overflow".
_TOKENS = (
    "CAST(total(m.input_tokens) AS INTEGER), CAST(total(m.output_tokens) AS INTEGER),"
    " CAST(total(m.cache_read_tokens) AS INTEGER),"
    " CAST(total(m.cache_creation_tokens) AS INTEGER),"
    " CAST(total(m.cache_creation_1h_tokens) AS INTEGER), count(*),"
    " group_concat(DISTINCT m.session_pk), min(m.timestamp), max(m.timestamp)"
)
_REQUEST_INPUT = "(m.input_tokens + m.cache_read_tokens + m.cache_creation_tokens)"


def _local_day(clock: Clock, params: list[Any]) -> str:
    if not clock.changes and clock.offsets == (0,):
        return "substr(m.timestamp, 1, 10)"

    def pick(lo: int, hi: int) -> str:
        # Offsets lo..hi; the moments between them are changes[lo..hi-1].
        if lo == hi:
            params.append(f"{clock.offsets[lo]:+d} seconds")
            return "?"
        mid = (lo + hi + 1) // 2
        params.append(clock.changes[mid - 1])
        before = pick(lo, mid - 1)
        after = pick(mid, hi)
        return f"CASE WHEN m.timestamp < ? THEN {before} ELSE {after} END"

    return f"date(m.timestamp, {pick(0, len(clock.offsets) - 1)})"


def _bucket(thresholds: Sequence[int], params: list[Any]) -> str:
    if not thresholds:
        return "0"

    def pick(lo: int, hi: int) -> str:
        # Buckets lo..hi of thresholds[lo - 1 .. hi - 1]: a binary search.
        if lo == hi:
            params.append(thresholds[lo - 1])
            return "?"
        mid = (lo + hi + 1) // 2
        params.append(thresholds[mid - 1])
        below = pick(lo, mid - 1)
        return f"CASE WHEN {_REQUEST_INPUT} <= ? THEN {below} ELSE {pick(mid, hi)} END"

    # Most requests are below every threshold: one comparison for them.
    params.append(thresholds[0])
    return f"CASE WHEN {_REQUEST_INPUT} <= ? THEN 0 ELSE {pick(1, len(thresholds))} END"


def _dimension(dimension: Dimension, clock: Clock, params: list[Any]) -> str:
    if dimension is Dimension.DAY:
        return _local_day(clock, params)
    if dimension is Dimension.WEEK:  # the Monday of the ISO week
        return f"date({_local_day(clock, params)}, 'weekday 0', '-6 days')"
    if dimension is Dimension.MONTH:
        return f"substr({_local_day(clock, params)}, 1, 7)"
    return {
        Dimension.PROJECT: "s.project",
        Dimension.MODEL: "m.model",
        Dimension.SESSION: "s.session_id",
        Dimension.SOURCE: SOURCE_SQL,
        Dimension.GIT_BRANCH: "s.git_branch",
        Dimension.HOUR: "substr(m.timestamp, 1, 13)",
    }[dimension]


def _where(where: UsageFilter, params: list[Any]) -> str:
    clauses = ["m.counted = 1"]
    if where.since is not None:
        clauses.append("m.timestamp >= ?")
        params.append(where.since)
    if where.until is not None:
        clauses.append("m.timestamp < ?")
        params.append(where.until)
    for column, values in (
        ("s.project", where.projects),
        ("m.model", where.models),
        ("s.git_branch", where.git_branches),
        (SOURCE_SQL, where.sources),
    ):
        if values is not None:
            clauses.append(f"{column} IN (SELECT value FROM json_each(?))")
            params.append(json_list(values))
    # Sessions given by pk or by sessionId: either matches.
    either = []
    sessions: tuple[tuple[str, tuple[Any, ...] | None], ...] = (
        ("m.session_pk", where.session_pks),
        ("s.session_id", where.session_ids),
    )
    for column, given in sessions:
        if given is not None:
            either.append(f"{column} IN (SELECT value FROM json_each(?))")
            params.append(json_list(given))
    if either:
        clauses.append(f"({' OR '.join(either)})")
    return " AND ".join(clauses)


def _cells_sql(
    head: Sequence[str],
    where: UsageFilter,
    thresholds: Sequence[int],
    params: list[Any],
    join_sessions: bool,
) -> str:
    # Parameters are appended in the order their marks appear in the text.
    bucket = _bucket(thresholds, params)
    width = len(head)
    select = ", ".join([*head, "m.model", "substr(m.timestamp, 1, 10)", bucket])
    join = " JOIN sessions AS s ON s.id = m.session_pk" if join_sessions else ""
    condition = _where(where, params)
    # A key already grouped by (MODEL, or DAY in UTC) is not compared twice.
    group = (
        ", ".join(
            str(n + 1)
            for n, expression in enumerate([*head, "m.model", "substr(m.timestamp, 1, 10)"])
            if n < width or expression not in head
        )
        + f", {width + 3}"
    )
    return f"SELECT {select}, {_TOKENS} FROM messages AS m{join} WHERE {condition} GROUP BY {group}"


def usage_sql(
    dimensions: Sequence[Dimension], where: UsageFilter, clock: Clock, thresholds: Sequence[int]
) -> tuple[str, list[Any]]:
    """The statement of :meth:`graph.store.figures.Figures.usage` and its parameters."""
    params: list[Any] = []
    head = [_dimension(d, clock, params) for d in dimensions]
    join = where.needs_sessions or bool(
        {Dimension.PROJECT, Dimension.GIT_BRANCH, Dimension.SESSION, Dimension.SOURCE}
        & set(dimensions)
    )
    return _cells_sql(head, where, thresholds, params, join), params


def projects_sql(thresholds: Sequence[int]) -> tuple[str, list[Any]]:
    """One row per (project, usage cell), projects without usage once, cells empty."""
    params: list[Any] = []
    cells = _cells_sql(["s.project"], UsageFilter(), thresholds, params, True)
    sql = (
        "WITH p AS (SELECT s.project AS project, count(*) AS sessions,"
        " sum(s.message_count) AS messages, min(nullif(s.started_at, '')) AS first_at,"
        " max(nullif(s.ended_at, '')) AS last_at FROM sessions AS s GROUP BY s.project),"
        f" u AS ({cells})"
        " SELECT p.project, (SELECT x.cwd FROM sessions AS x WHERE x.project IS p.project"
        " ORDER BY x.ended_at DESC, x.id DESC LIMIT 1), p.sessions, p.messages, p.first_at,"
        " p.last_at, u.* FROM p LEFT JOIN u ON u.project IS p.project"
    )
    return sql, params


def filter_options_sql() -> str:
    """The distinct projects, models (of any session), branches and sources, tagged."""
    return (
        "SELECT 'project', value FROM (SELECT DISTINCT project AS value FROM sessions"
        " WHERE project IS NOT NULL)"
        " UNION ALL SELECT 'model', value FROM (SELECT DISTINCT j.value AS value"
        " FROM sessions, json_each(sessions.models) AS j)"
        " UNION ALL SELECT 'git_branch', value FROM (SELECT DISTINCT git_branch AS value"
        " FROM sessions WHERE git_branch IS NOT NULL)"
        " UNION ALL SELECT 'source', value FROM (SELECT DISTINCT source AS value"
        " FROM sessions)"
    )
