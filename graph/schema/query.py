"""The Query root: lookups by ID, the session list, the event timeline, stats and health."""

from __future__ import annotations

import time
from datetime import datetime
from enum import Enum

import strawberry

import graph
from graph.crypto import Codec
from graph.schema.connections import Connection, PageArgs, key_types, page_key
from graph.schema.context import STARTED_AT, Info
from graph.schema.ids import decode_id
from graph.schema.lookups import session_pk
from graph.schema.nodes import resolve_node
from graph.schema.scalars import BigInt, to_db_time
from graph.schema.search import SearchConnection, SearchFilter, SearchScope, resolve_search
from graph.schema.types import Conversation, Event, Message, Session
from graph.schema.usage import UsageQuery, stats_cost
from graph.schema.values import Node, SessionSource, TokenUsage
from graph.search.documents import FIELD_COLUMNS
from graph.search.fts import compile_query
from graph.search.query import parse
from graph.store import EventFilter as StoreEventFilter
from graph.store import SessionFilter as StoreSessionFilter
from graph.store import SessionOrder as StoreSessionOrder

__all__ = ["Query"]


@strawberry.enum(description="What to sort sessions by.")
class SessionOrderField(Enum):
    STARTED_AT = "STARTED_AT"
    LAST_ACTIVITY = "LAST_ACTIVITY"
    MESSAGE_COUNT = "MESSAGE_COUNT"


@strawberry.enum
class OrderDirection(Enum):
    ASC = "ASC"
    DESC = "DESC"


@strawberry.input(description="Sort order of the session list (default: newest first).")
class SessionOrder:
    field: SessionOrderField = SessionOrderField.STARTED_AT
    direction: OrderDirection = OrderDirection.DESC


@strawberry.input(description="Sessions matching every field that is set.")
class SessionFilter:
    source: SessionSource | None = strawberry.field(
        default=None, description="Sessions of this agent."
    )
    project: str | None = None
    cwd: str | None = None
    git_branch: str | None = None
    model: str | None = strawberry.field(default=None, description="Used by any message.")
    started_after: datetime | None = None
    started_before: datetime | None = None
    has_sidechains: bool | None = None
    has_secrets: bool | None = strawberry.field(
        default=None, description="Sessions in which secrets were found (or none were)."
    )
    search: str | None = strawberry.field(
        default=None,
        description="Sessions any of whose text (messages, tool calls, events, title) "
        "matches this search query.",
    )

    def to_store(self, codec: Codec | None) -> StoreSessionFilter:
        return StoreSessionFilter(
            source=self.source.value if self.source is not None else None,
            project=self.project,
            cwd=self.cwd,
            git_branch=self.git_branch,
            model=self.model,
            started_after=to_db_time(self.started_after) if self.started_after else None,
            started_before=to_db_time(self.started_before) if self.started_before else None,
            has_sidechains=self.has_sidechains,
            has_secrets=self.has_secrets,
            search=compile_query(parse(self.search), FIELD_COLUMNS, codec=codec).expression
            if self.search is not None
            else None,
        )


@strawberry.input(description="Events matching every field that is set.")
class EventFilter:
    session_id: strawberry.ID | None = strawberry.field(
        default=None, description="A Session global ID or the agent's own sessionId."
    )
    types: list[str] | None = None
    subtypes: list[str] | None = None
    since: datetime | None = None
    until: datetime | None = None


@strawberry.type(description="Totals over the whole database.")
class Stats:
    sessions: int
    conversations: int
    messages: int
    events: int
    token_usage: TokenUsage
    db_size_bytes: BigInt
    schema_version: int
    sqlite_version: str
    encrypted: bool

    @strawberry.field(
        description="USD of every API message (each counted once) whose model "
        "has a price; null when none has."
    )
    async def cost_usd(self, info: Info) -> float | None:
        return await stats_cost(info)

    @strawberry.field(description="Sessions and messages per agent (source) that wrote them.")
    async def sources(self, info: Info) -> list[SourceStats]:
        return [
            SourceStats(source=SessionSource(c.source), sessions=c.sessions, messages=c.messages)
            for c in await info.context.loaders.sessions_by_source()
        ]


@strawberry.type(description="What one agent's sessions hold.")
class SourceStats:
    source: SessionSource
    sessions: int
    messages: int


@strawberry.type(description="Whether the server and its database answer.")
class Health:
    ok: bool
    version: str
    schema_version: int
    uptime_seconds: float


@strawberry.type
class Query(UsageQuery):
    @strawberry.field(description="Any object by its global ID.")
    async def node(self, info: Info, id: strawberry.ID) -> Node | None:
        return await resolve_node(info, id)

    @strawberry.field(description="A session by global ID or by the agent's own sessionId.")
    async def session(self, info: Info, id: strawberry.ID) -> Session | None:
        pk = await session_pk(info, id)
        if pk is None:
            return None
        loaders = info.context.loaders
        # Found by sessionId, the row is in hand: no batch to wait for.
        row = loaders.remembered_session(pk) or await loaders.session.load(pk)
        return Session.of(row, info.context) if row else None

    @strawberry.field
    async def conversation(self, info: Info, id: strawberry.ID) -> Conversation | None:
        row = await info.context.loaders.conversation.load(decode_id(id, "Conversation")[1])
        return Conversation.of(row, info.context) if row else None

    @strawberry.field
    async def message(self, info: Info, id: strawberry.ID) -> Message | None:
        row = await info.context.loaders.message.load(decode_id(id, "Message")[1])
        return Message.of(row, info.context) if row else None

    @strawberry.field(description="Sessions, filtered and ordered, a page at a time.")
    async def sessions(
        self,
        info: Info,
        filter: SessionFilter | None = None,
        order_by: SessionOrder | None = None,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[Session]:
        context = info.context
        loaders, settings = context.loaders, context.settings
        order_by = order_by or SessionOrder()
        order = StoreSessionOrder[order_by.field.value]
        descending = order_by.direction is OrderDirection.DESC
        kind = f"s{order.name[0]}{'d' if descending else 'a'}"
        request = PageArgs(first, after, last, before).request(
            kind,
            key_types(order.value),
            default=settings.default_page_size,
            maximum=settings.max_page_size,
        )
        where = (filter or SessionFilter()).to_store(info.context.store.codec)
        return Connection.build(
            lambda: loaders.sessions(where, order, descending, request),
            lambda row: Session.of(row, context),
            page_key(order.value),
            kind,
            lambda: loaders.count_sessions(where),
        )

    @strawberry.field(description="Events of every session (or one), in time order.")
    async def events(
        self,
        info: Info,
        filter: EventFilter | None = None,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[Event]:
        loaders, settings = info.context.loaders, info.context.settings
        request = PageArgs(first, after, last, before).request(
            "e", (str, int), default=settings.default_page_size, maximum=settings.max_page_size
        )
        filter = filter or EventFilter()
        pk = None
        if filter.session_id is not None:
            # An unknown session has no events: pk 0 matches nothing.
            pk = await session_pk(info, filter.session_id) or 0
        where = StoreEventFilter(
            session_pk=pk,
            types=tuple(filter.types) if filter.types is not None else None,
            subtypes=tuple(filter.subtypes) if filter.subtypes is not None else None,
            since=to_db_time(filter.since) if filter.since else None,
            until=to_db_time(filter.until) if filter.until else None,
        )
        return Connection.build(
            lambda: loaders.events(where, request),
            lambda row: Event.of(row, info.context),
            page_key(("timestamp", "id")),
            "e",
            lambda: loaders.count_events(where),
        )

    @strawberry.field(
        description='Full-text search, best hits first. Words, "phrases", prefix*, AND, '
        "OR, NOT, (groups), NEAR(a b, 10) and field:term (text, thinking, input, output, "
        "title, event)."
    )
    async def search(
        self,
        info: Info,
        query: str,
        scopes: list[SearchScope] | None = None,
        filter: SearchFilter | None = None,
        first: int | None = None,
        after: str | None = None,
    ) -> SearchConnection:
        return await resolve_search(info, query, scopes, filter, PageArgs(first, after))

    @strawberry.field(description="Counts, token totals and sizes over the whole database.")
    async def stats(self, info: Info) -> Stats:
        row = await info.context.loaders.stats()
        return Stats(
            sessions=row.sessions,
            conversations=row.conversations,
            messages=row.messages,
            events=row.events,
            token_usage=TokenUsage.of(row.tokens),
            db_size_bytes=BigInt(row.db_size_bytes),
            schema_version=row.schema_version,
            sqlite_version=row.sqlite_version,
            encrypted=info.context.store.codec.encrypted,
        )

    @strawberry.field(description="Liveness and readiness in one object.")
    async def health(self, info: Info) -> Health:
        return Health(
            ok=True,
            version=graph.__version__,
            schema_version=await info.context.loaders.schema_version(),
            uptime_seconds=round(time.monotonic() - STARTED_AT, 3),
        )
