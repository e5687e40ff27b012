"""The ``search`` field: ranked full-text hits over messages, sessions and events."""

from __future__ import annotations

import asyncio
import hashlib
from datetime import datetime
from enum import Enum
from typing import Annotated, TypeAlias

import strawberry

from graph.errors import UserInputError
from graph.schema.connections import Connection, PageArgs
from graph.schema.context import Info
from graph.schema.lookups import session_pk
from graph.schema.scalars import to_db_time
from graph.schema.types import Event, Message, Session, message_records
from graph.search.documents import (
    FIELD_COLUMNS,
    Fields,
    event_fields,
    message_fields,
    session_fields,
)
from graph.search.fts import Compiled, compile_query
from graph.search.query import parse
from graph.search.snippets import Snippet, make_snippet
from graph.store import HitRow, SearchWhere
from graph.store.searching import RANK_WINDOW

__all__ = ["SearchConnection", "SearchFilter", "SearchScope", "resolve_search", "search_where"]


@strawberry.enum(description="Kinds of object a search can return.")
class SearchScope(Enum):
    MESSAGES = "message"
    SESSIONS = "session"
    EVENTS = strawberry.enum_value(
        "event",
        description="Timeline events, but not progress records: what those report (a "
        "command's output so far, a subagent's messages) is found where it lands.",
    )


@strawberry.enum(description="Field groups of the index; `field:term` in a query picks one.")
class SearchField(Enum):
    TEXT = "text"
    THINKING = "thinking"
    TOOL_INPUT = "tool_input"
    TOOL_OUTPUT = "tool_output"
    TITLE = "title"
    EVENT = "event"


DEFAULT_FIELDS = tuple(f for f in FIELD_COLUMNS if f != "tool_output")
DEFAULT_SCOPES = (SearchScope.MESSAGES, SearchScope.SESSIONS)


@strawberry.input(description="Hits matching every field that is set.")
class SearchFilter:
    project: str | None = None
    session_id: strawberry.ID | None = strawberry.field(
        default=None, description="A Session global ID or a raw Claude sessionId."
    )
    role: str | None = strawberry.field(default=None, description="Messages of this role.")
    model: str | None = None
    fields: list[SearchField] | None = strawberry.field(
        default=None,
        description="Where words without a field: prefix are looked for "
        "(default: all but TOOL_OUTPUT, the bulk of the index).",
    )
    since: datetime | None = None
    until: datetime | None = None


@strawberry.type(description="Where a query term stands in a snippet (code-point offsets).")
class Highlight:
    start: int
    end: int


SearchNode: TypeAlias = Annotated[Message | Event | Session, strawberry.union("SearchNode")]


@strawberry.type(description="One ranked hit.")
class SearchHit:
    row: strawberry.Private[HitRow]
    compiled: strawberry.Private[Compiled]
    cut: strawberry.Private[asyncio.Future[Snippet | None] | None] = None

    @strawberry.field(description="Relevance: bm25, higher is better.")
    def score(self) -> float:
        return -self.row.score

    async def _snippet(self, info: Info) -> Snippet | None:
        if self.cut is None:
            self.cut = asyncio.ensure_future(self._make_snippet(info))
        return await self.cut

    async def _make_snippet(self, info: Info) -> Snippet | None:
        fields = await _document(info, self.row)
        if fields is None:
            return None
        return make_snippet(fields, self.compiled.highlight, self.compiled.highlight_prefixes)

    @strawberry.field(description="The best matching piece of text, on one line.")
    async def snippet(self, info: Info) -> str | None:
        cut = await self._snippet(info)
        return cut.text if cut else None

    @strawberry.field(description="The matched terms in `snippet`.")
    async def highlights(self, info: Info) -> list[Highlight]:
        cut = await self._snippet(info)
        return [Highlight(start=a, end=b) for a, b in cut.highlights] if cut else []

    @strawberry.field(description="The field group the snippet was cut from.")
    async def field(self, info: Info) -> SearchField | None:
        cut = await self._snippet(info)
        return SearchField(cut.field) if cut else None

    @strawberry.field(description="The message, event or session that matched.")
    async def node(self, info: Info) -> SearchNode | None:
        loaders = info.context.loaders
        if self.row.kind == "message":
            message = await loaders.message.load(self.row.pk)
            return Message.of(message) if message else None
        if self.row.kind == "event":
            event = await loaders.event.load(self.row.pk)
            return Event.of(event) if event else None
        session = await loaders.session.load(self.row.session_pk)
        return Session.of(session) if session else None

    @strawberry.field
    async def session(self, info: Info) -> Session | None:
        row = await info.context.loaders.session.load(self.row.session_pk)
        return Session.of(row) if row else None


async def _document(info: Info, hit: HitRow) -> Fields | None:
    loaders = info.context.loaders
    if hit.kind == "message":
        message = await loaders.message.load(hit.pk)
        return message_fields(message_records(info, message)) if message else None
    if hit.kind == "event":
        event = await loaders.event.load(hit.pk)
        if event is None:
            return None
        return event_fields(info.context.open_json("events", "data", event.row_key, event.data))
    session = await loaders.session.load(hit.session_pk)
    if session is None:
        return None
    context, sid = info.context, session.session_id
    return session_fields(
        context.open_text("sessions", "title", sid, session.title),
        context.open_text("sessions", "summary", sid, session.summary),
    )


@strawberry.type(name="SearchConnection", description="Ranked hits, a page at a time.")
class SearchConnection(Connection[SearchHit]):
    @strawberry.field(
        description="A query matching more documents than this ranks only this many of "
        "the newest (bm25 over every match of a common word would be slow); totalCount "
        "counts them all, and the pages end with the ranked ones."
    )
    def ranked_within(self) -> int:
        return RANK_WINDOW


async def search_where(
    info: Info, scopes: list[SearchScope] | None, filter: SearchFilter | None
) -> SearchWhere:
    """The store's filter for a search's scopes and filter."""
    filter = filter or SearchFilter()
    pk = await session_pk(info, filter.session_id) if filter.session_id is not None else None
    return SearchWhere(
        kinds=tuple(scope.value for scope in (scopes or DEFAULT_SCOPES)),
        project=filter.project,
        session_pk=0 if filter.session_id is not None and pk is None else pk,
        role=filter.role,
        model=filter.model,
        since=to_db_time(filter.since) if filter.since else None,
        until=to_db_time(filter.until) if filter.until else None,
    )


def compile_search(info: Info, query: str, fields: list[SearchField] | None) -> Compiled:
    """Parse and compile a query for this database (raises BAD_SEARCH_QUERY errors)."""
    columns = tuple(f.value for f in fields) if fields else DEFAULT_FIELDS
    return compile_query(parse(query), columns, codec=info.context.store.codec)


async def resolve_search(
    info: Info,
    query: str,
    scopes: list[SearchScope] | None,
    filter: SearchFilter | None,
    args: PageArgs,
) -> SearchConnection:
    """The ``search`` root field."""
    compiled = compile_search(info, query, filter.fields if filter else None)
    where = await search_where(info, scopes, filter)
    # A cursor is only meaningful for the query and filter that produced it.
    digest = hashlib.blake2s(repr((compiled.expression, where)).encode(), digest_size=6)
    kind = "q" + digest.hexdigest()
    settings, loaders = info.context.settings, info.context.loaders
    request = args.request(
        kind, 2, default=settings.default_page_size, maximum=settings.max_page_size
    )
    if request.from_end:
        raise UserInputError("search pages forward only: use `first` and `after`")
    connection = Connection.build(
        lambda: loaders.search(compiled.expression, where, request),
        lambda hit: SearchHit(row=hit, compiled=compiled),
        lambda hit: (hit.score, hit.rowid),
        kind,
        lambda: loaders.count_search(compiled.expression, where),
    )
    return SearchConnection(fetch=connection.fetch, count=connection.count)
