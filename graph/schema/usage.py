"""Usage and cost: ``usage``, ``usageBlocks``, ``projects`` and the filter menus' values.

Each root field is one SQL statement (see :mod:`graph.store.usage`); grouping, pricing
and paging the groups happen here, on the few cells that statement returns.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from decimal import Decimal
from enum import Enum
from typing import Any

import strawberry

from graph.errors import BadIdError, UserInputError
from graph.schema.connections import Edge, PageInfo
from graph.schema.context import Info
from graph.schema.ids import decode_cursor, try_decode_id
from graph.schema.scalars import BigInt, from_db_time, to_db_time
from graph.schema.types import Session
from graph.schema.values import TokenUsage
from graph.store import Dimension
from graph.store import UsageFilter as StoreUsageFilter
from graph.usage import (
    Block,
    UsageGroup,
    blocks,
    clock_for,
    combine,
    group,
    total,
    week_label,
    zone_named,
)

__all__ = ["UsageQuery", "stats_cost"]


@strawberry.enum(description="What usage can be grouped by; any combination.")
class UsageDimension(Enum):
    DAY = "day"
    WEEK = "week"
    MONTH = "month"
    PROJECT = "project"
    MODEL = "model"
    SESSION = "session"
    SOURCE = "source"
    GIT_BRANCH = "git_branch"


@strawberry.input(
    description="Counted API messages matching every field that is set; a "
    "list matches any of its values."
)
class UsageFilter:
    since: datetime | None = strawberry.field(default=None, description="At or after.")
    until: datetime | None = strawberry.field(default=None, description="Before.")
    projects: list[str] | None = None
    models: list[str] | None = None
    sessions: list[strawberry.ID] | None = strawberry.field(
        default=None, description="Session global IDs or the agents' own sessionIds."
    )
    git_branches: list[str] | None = None
    sources: list[str] | None = strawberry.field(
        default=None, description="Agents that wrote the sessions (`claude-code`)."
    )

    def to_store(self) -> StoreUsageFilter:
        """The store's filter; no SQL is needed to read the session IDs.

        Raises:
            BadIdError: a global ID of another type.
        """
        pks: list[int] = []
        raw: list[str] = []
        for given in self.sessions or ():
            decoded = try_decode_id(given)
            if decoded is None:
                raw.append(given)
            elif decoded[0] != "Session":
                raise BadIdError(f"{given!r} is a {decoded[0]} ID, expected a Session ID")
            else:
                pks.append(decoded[1])
        return StoreUsageFilter(
            since=to_db_time(self.since) if self.since else None,
            until=to_db_time(self.until) if self.until else None,
            projects=_tuple(self.projects),
            models=_tuple(self.models),
            session_pks=tuple(pks) if self.sessions is not None else None,
            session_ids=tuple(raw) if self.sessions is not None else None,
            git_branches=_tuple(self.git_branches),
            sources=_tuple(self.sources),
        )


def _tuple(values: list[str] | None) -> tuple[str, ...] | None:
    return tuple(values) if values is not None else None


def _usd(cost: Decimal | None) -> float | None:
    return float(cost) if cost is not None else None


@strawberry.type(
    description="Usage of one group: its keys (null for dimensions not grouped "
    "by), tokens and cost. Each API message counts once."
)
class UsageRow:
    day: str | None = strawberry.field(description="YYYY-MM-DD, in the query's time zone.")
    week: str | None = strawberry.field(description="ISO week, YYYY-Www, in the time zone.")
    month: str | None = strawberry.field(description="YYYY-MM, in the time zone.")
    project: str | None
    model: str | None
    session_id: str | None = strawberry.field(description="The agent's own sessionId.")
    source: str | None = strawberry.field(
        description="The agent: `claude-code`, `codex` or `gemini-cli`."
    )
    git_branch: str | None
    token_usage: TokenUsage
    cost_usd: float | None = strawberry.field(
        description="USD of the messages whose model has a price; null when none has one "
        "(never 0 for an unknown model): see unpricedModels."
    )
    unpriced_models: list[str] = strawberry.field(
        description="Models of this group without a price (their tokens are not in costUsd)."
    )
    message_count: int = strawberry.field(description="API messages, each counted once.")
    session_count: int
    models: list[str]
    first_activity_at: datetime | None
    last_activity_at: datetime | None

    @strawberry.field(description="The session, when grouped by SESSION.")
    async def session(self, info: Info) -> Session | None:
        if self.session_id is None:
            return None
        row = await info.context.loaders.session_by_sid.load(self.session_id)
        return Session.of(row, info.context) if row else None

    @classmethod
    def of(cls, found: UsageGroup, dimensions: Sequence[Dimension] = ()) -> UsageRow:
        keys = dict(zip(dimensions, found.keys, strict=True))
        week = keys.get(Dimension.WEEK)
        return cls(
            day=keys.get(Dimension.DAY),
            week=week_label(week) if week is not None else None,
            month=keys.get(Dimension.MONTH),
            project=keys.get(Dimension.PROJECT),
            model=keys.get(Dimension.MODEL),
            session_id=keys.get(Dimension.SESSION),
            source=keys.get(Dimension.SOURCE),
            git_branch=keys.get(Dimension.GIT_BRANCH),
            token_usage=TokenUsage.of(found.tokens),
            cost_usd=_usd(found.cost),
            unpriced_models=sorted(found.unpriced_models),
            message_count=found.messages,
            session_count=found.sessions,
            models=sorted(found.models),
            first_activity_at=from_db_time(found.first),
            last_activity_at=from_db_time(found.last),
        )


@strawberry.type(description="Usage groups, a page at a time, with the totals of all.")
class UsageConnection:
    edges: list[Edge[UsageRow]]
    page_info: PageInfo
    total_count: int = strawberry.field(description="How many groups there are.")
    totals: UsageRow = strawberry.field(description="Every group together (keys null).")

    @strawberry.field(description="The rows of this page, for clients that need no cursors.")
    def nodes(self) -> list[UsageRow]:
        return [edge.node for edge in self.edges]


@strawberry.type(
    description="A 5-hour billing window, as Claude's subscription limits count "
    "them: from the hour of its first message for five hours; a message more "
    "than five hours after the last one starts a new window."
)
class UsageBlock:
    start: datetime
    end: datetime
    active: bool = strawberry.field(description="Now is inside it, within 5 h of its last message.")
    first_activity_at: datetime | None
    last_activity_at: datetime | None
    token_usage: TokenUsage
    cost_usd: float | None
    unpriced_models: list[str]
    message_count: int
    session_count: int
    models: list[str]
    tokens_per_hour: float | None = strawberry.field(
        description="Burn rate: all tokens per hour between its first and last message."
    )
    cost_per_hour: float | None
    projected_tokens: BigInt | None = strawberry.field(
        description="Active block: its tokens at its end at the current burn rate."
    )
    projected_cost_usd: float | None

    @classmethod
    def of(cls, block: Block, now: datetime) -> UsageBlock:
        usage = block.usage
        projected = block.projected(now)
        return cls(
            start=block.start,
            end=block.end,
            active=block.active,
            first_activity_at=from_db_time(usage.first),
            last_activity_at=from_db_time(usage.last),
            token_usage=TokenUsage.of(usage.tokens),
            cost_usd=_usd(usage.cost),
            unpriced_models=sorted(usage.unpriced_models),
            message_count=usage.messages,
            session_count=usage.sessions,
            models=sorted(usage.models),
            tokens_per_hour=block.tokens_per_hour,
            cost_per_hour=block.cost_per_hour,
            projected_tokens=BigInt(projected[0]) if projected else None,
            projected_cost_usd=projected[1] if projected else None,
        )


@strawberry.type(description="A project (see Session.project) for a session browser.")
class Project:
    project: str | None
    cwd: str | None = strawberry.field(description="Of its most recently active session.")
    session_count: int
    message_count: int = strawberry.field(description="Transcript messages of its sessions.")
    token_usage: TokenUsage
    cost_usd: float | None
    unpriced_models: list[str]
    first_activity_at: datetime | None
    last_activity_at: datetime | None


@strawberry.type(description="Projects, most recently active first.")
class ProjectConnection:
    edges: list[Edge[Project]]
    page_info: PageInfo
    total_count: int

    @strawberry.field
    def nodes(self) -> list[Project]:
        return [edge.node for edge in self.edges]


@strawberry.type(description="The values usage can be filtered by, for filter menus.")
class UsageFilterOptions:
    projects: list[str]
    models: list[str]
    git_branches: list[str]
    sources: list[str]


def _page(info: Info, kind: str, first: int | None, after: str | None) -> tuple[int, int]:
    """(start, limit) of a page of groups; checked before anything is read.

    Raises:
        UserInputError: ``first`` out of bounds, or a cursor of another grouping.
    """
    settings = info.context.settings
    if first is not None and not 0 <= first <= settings.max_page_size:
        raise UserInputError(
            f"`first` must be between 0 and {settings.max_page_size}, got {first}",
            argument="first",
            maximum=settings.max_page_size,
        )
    start = int(decode_cursor(after, kind, (int,))[0]) + 1 if after is not None else 0
    return max(start, 0), settings.default_page_size if first is None else first


def _window(page: tuple[int, int], size: int) -> range:
    start, limit = page
    return range(min(start, size), min(start + limit, size))


def _page_info(window: range, size: int, edges: Sequence[Edge[Any]]) -> PageInfo:
    return PageInfo(
        has_next_page=window.stop < size, has_previous_page=window.start > 0, edges=edges
    )


@strawberry.type
class UsageQuery:
    """The usage fields of the Query root."""

    @strawberry.field(
        description="Tokens and USD of API messages (each counted once), grouped by any "
        "dimensions, in one SQL statement. Days, weeks (ISO) and months are cut in "
        "`timeZone` (an IANA name; default: the server's zone). Groups are sorted by their "
        "keys; cursors are positions in this grouping."
    )
    async def usage(
        self,
        info: Info,
        group_by: list[UsageDimension],
        filter: UsageFilter | None = None,
        time_zone: str | None = None,
        first: int | None = None,
        after: str | None = None,
    ) -> UsageConnection:
        dimensions = [Dimension(d.value) for d in dict.fromkeys(group_by)]
        where = (filter or UsageFilter()).to_store()
        clock = clock_for(zone_named(time_zone))
        kind = "u:" + ",".join(d.value for d in dimensions)
        page = _page(info, kind, first, after)
        cells = await info.context.loaders.usage(dimensions, where, clock)
        prices = info.context.settings.prices
        groups = group(cells, prices)
        window = _window(page, len(groups))
        edges = [
            Edge(node=UsageRow.of(groups[n], dimensions), kind=kind, source=(n,)) for n in window
        ]
        return UsageConnection(
            edges=edges,
            page_info=_page_info(window, len(groups), edges),
            total_count=len(groups),
            totals=UsageRow.of(combine(groups)),
        )

    @strawberry.field(description="5-hour billing windows, the most recent first.")
    async def usage_blocks(
        self, info: Info, filter: UsageFilter | None = None, first: int | None = None
    ) -> list[UsageBlock]:
        settings = info.context.settings
        limit = settings.default_page_size if first is None else first
        if not 0 <= limit <= settings.max_page_size:
            raise UserInputError(
                f"`first` must be between 0 and {settings.max_page_size}, got {limit}",
                argument="first",
            )
        where = (filter or UsageFilter()).to_store()
        cells = await info.context.loaders.usage([Dimension.HOUR], where, clock_for(None))
        now = datetime.now(UTC)
        found = blocks(cells, settings.prices, now)
        return [UsageBlock.of(block, now) for block in reversed(found[-limit:] if limit else [])]

    @strawberry.field(
        description="Projects with their sessions, messages, tokens and cost, "
        "most recently active first."
    )
    async def projects(
        self, info: Info, first: int | None = None, after: str | None = None
    ) -> ProjectConnection:
        prices = info.context.settings.prices
        page = _page(info, "pj", first, after)
        found = await info.context.loaders.projects()
        found.sort(key=lambda p: (p.last_activity or "", p.project or ""), reverse=True)
        window = _window(page, len(found))
        edges = []
        for n in window:
            project = found[n]
            usage = total(project.cells, prices)
            edges.append(
                Edge(
                    kind="pj",
                    source=(n,),
                    node=Project(
                        project=project.project,
                        cwd=project.cwd,
                        session_count=project.sessions,
                        message_count=project.messages,
                        token_usage=TokenUsage.of(usage.tokens),
                        cost_usd=_usd(usage.cost),
                        unpriced_models=sorted(usage.unpriced_models),
                        first_activity_at=from_db_time(project.first_activity),
                        last_activity_at=from_db_time(project.last_activity),
                    ),
                )
            )
        return ProjectConnection(
            edges=edges, page_info=_page_info(window, len(found), edges), total_count=len(found)
        )

    @strawberry.field(description="Distinct projects, models, git branches and sources.")
    async def usage_filter_options(self, info: Info) -> UsageFilterOptions:
        found = await info.context.loaders.filter_options()
        return UsageFilterOptions(
            projects=found.projects,
            models=found.models,
            git_branches=found.git_branches,
            sources=found.sources,
        )


async def stats_cost(info: Info) -> float | None:
    """USD of every counted message in the database."""
    cells = await info.context.loaders.usage([], StoreUsageFilter(), clock_for(None))
    return _usd(total(cells, info.context.settings.prices).cost)
