"""The ``search`` field: ranked full-text hits over messages, sessions and events."""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime
from enum import Enum
from typing import Annotated, Final, TypeAlias

import strawberry
from strawberry.types.nodes import SelectedField, Selection

from graph.crypto import DecryptionFailed
from graph.errors import UserInputError
from graph.schema.connections import Connection, Edge, PageArgs
from graph.schema.context import Context, Info
from graph.schema.lookups import session_pk
from graph.schema.records import message_blocks
from graph.schema.scalars import to_db_time
from graph.schema.types import Event, Message, Session
from graph.schema.values import SessionSource
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
from graph.store import RANK_WINDOW, EventRow, HitRow, MessageRow, SearchWhere, SessionRow

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
    source: SessionSource | None = strawberry.field(
        default=None, description="Hits in sessions of this agent."
    )
    project: str | None = None
    session_id: strawberry.ID | None = strawberry.field(
        default=None, description="A Session global ID or the agent's own sessionId."
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


_SNIPPET_FIELDS: Final = frozenset({"snippet", "highlights", "field"})


@strawberry.type(description="One ranked hit.")
class SearchHit:
    """A hit whose fields resolve from what its page prepared (:func:`_prepare`).

    Every field is synchronous: a page's hits share one load of their rows and one pass
    that cuts their snippets, instead of five awaits per hit.
    """

    row: strawberry.Private[HitRow]
    compiled: strawberry.Private[Compiled]
    # The request's: what the node and session are built with.
    context: strawberry.Private[Context]
    cut: strawberry.Private[Snippet | None] = None
    # Why the snippet could not be cut: a value of its row that does not authenticate.
    # Its error goes to this hit's snippet (and field), not to the whole page.
    failed: strawberry.Private[DecryptionFailed | None] = None
    node_row: strawberry.Private[MessageRow | EventRow | SessionRow | None] = None
    session_row: strawberry.Private[SessionRow | None] = None

    @strawberry.field(description="Relevance: bm25, higher is better.")
    def score(self) -> float:
        return -self.row.score

    @strawberry.field(description="The best matching piece of text, on one line.")
    def snippet(self) -> str | None:
        if self.failed is not None:
            raise self.failed
        return self.cut.text if self.cut else None

    @strawberry.field(description="The matched terms in `snippet` (none when it could not be cut).")
    def highlights(self) -> list[Highlight]:
        return [Highlight(start=a, end=b) for a, b in self.cut.highlights] if self.cut else []

    @strawberry.field(description="The field group the snippet was cut from.")
    def field(self) -> SearchField | None:
        if self.failed is not None:
            raise self.failed
        return SearchField(self.cut.field) if self.cut else None

    @strawberry.field(description="The message, event or session that matched.")
    def node(self) -> SearchNode | None:
        row = self.node_row
        if isinstance(row, MessageRow):
            return Message.of(row, self.context)
        if isinstance(row, EventRow):
            return Event.of(row, self.context)
        return Session.of(row, self.context) if row is not None else None

    @strawberry.field
    def session(self) -> Session | None:
        return Session.of(self.session_row, self.context) if self.session_row else None


def _fields(selections: Iterable[Selection]) -> Iterator[SelectedField]:
    """The fields of one level of a selection, fragments flattened into it."""
    for selection in selections:
        if isinstance(selection, SelectedField):
            yield selection
        else:
            yield from _fields(selection.selections)


def _hit_fields(info: Info, *, edges: bool) -> set[str]:
    """The names of the SearchHit fields selected under ``edges { node }`` or ``nodes``."""
    level = [field for top in info.selected_fields for field in _fields(top.selections)]
    if edges:
        level = [hit for edge in level if edge.name == "node" for hit in _fields(edge.selections)]
    return {field.name for field in level}


async def _prepare(info: Info, hits: Sequence[SearchHit], wanted: set[str], done: set[str]) -> None:
    """Load what the ``wanted`` hit fields show, for the whole page at once.

    Rows come through the request's loaders (one statement per kind, shared with the
    rest of the request); only what ``wanted`` needs and ``done`` lacks is loaded or cut,
    so ``edges`` and ``nodes`` (or two aliases) each get what they select.
    """
    parts = {"snippet" if name in _SNIPPET_FIELDS else name for name in wanted}
    parts &= {"snippet", "node", "session"}
    if "snippet" in parts:
        parts.add("node")  # a snippet is cut from the node's row
    parts -= done
    if not parts or not hits:
        return
    loaders = info.context.loaders
    by_kind: dict[str, list[SearchHit]] = {"message": [], "event": [], "session": []}
    if "node" in parts:
        for hit in hits:
            by_kind[hit.row.kind].append(hit)
    owners = hits if "session" in parts else []
    # A message's snippet is cut from its blocks, which its session's format reads.
    formats = [hit for hit in hits if hit.row.kind == "message"] if "snippet" in parts else []
    # One gather: loads of one loader in the same tick share a statement.
    messages, events, sessions, owning, of_messages = await asyncio.gather(
        loaders.message.load_many([hit.row.pk for hit in by_kind["message"]]),
        loaders.event.load_many([hit.row.pk for hit in by_kind["event"]]),
        loaders.session.load_many([hit.row.session_pk for hit in by_kind["session"]]),
        loaders.session.load_many([hit.row.session_pk for hit in owners]),
        loaders.session.load_many([hit.row.session_pk for hit in formats]),
    )
    for kind, rows in (("message", messages), ("event", events), ("session", sessions)):
        for hit, row in zip(by_kind[kind], rows, strict=True):
            hit.node_row = row
    for hit, session in zip(owners, owning, strict=True):
        hit.session_row = session
    if "snippet" in parts:
        sources = {row.id: row.source for row in of_messages if row is not None}
        for hit in hits:
            if hit.node_row is not None:
                compiled = hit.compiled
                try:
                    fields = _document(info, hit.node_row, sources)
                except DecryptionFailed as exc:
                    hit.failed = exc
                    continue
                hit.cut = make_snippet(fields, compiled.highlight, compiled.highlight_prefixes)
    done |= parts


def _document(
    info: Info, row: MessageRow | EventRow | SessionRow, sources: dict[int, str]
) -> Fields:
    """The searchable text of a hit's row, as it was indexed (``sources``: the source of
    each message's session, by session pk)."""
    if isinstance(row, MessageRow):
        return message_fields(message_blocks(info.context, row, sources[row.session_pk]))
    context = info.context
    if isinstance(row, EventRow):
        return event_fields(context.open_json("events", "data", row.row_key, row.data))
    sid = row.session_id
    return session_fields(
        context.open_text("sessions", "title", sid, row.title),
        context.open_text("sessions", "summary", sid, row.summary),
    )


@strawberry.type(name="SearchConnection", description="Ranked hits, a page at a time.")
class SearchConnection(Connection[SearchHit]):
    prepared: strawberry.Private[set[str]] = dataclasses.field(default_factory=set)
    preparing: strawberry.Private[asyncio.Lock] = dataclasses.field(default_factory=asyncio.Lock)

    async def _hits(self, info: Info, *, edges: bool) -> list[Edge[SearchHit]]:
        page = (await self.page())[0]
        wanted = _hit_fields(info, edges=edges)
        async with self.preparing:  # edges and nodes (or aliases) prepare one at a time
            await _prepare(info, [edge.node for edge in page], wanted, self.prepared)
        return page

    @strawberry.field
    async def edges(self, info: Info) -> list[Edge[SearchHit]]:
        return await self._hits(info, edges=True)

    @strawberry.field(description="The nodes of this page, for clients that need no cursors.")
    async def nodes(self, info: Info) -> list[SearchHit]:
        return [edge.node for edge in await self._hits(info, edges=False)]

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
        source=filter.source.value if filter.source is not None else None,
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
        lambda hit: SearchHit(row=hit, compiled=compiled, context=info.context),
        lambda hit: (hit.score, hit.rowid),
        kind,
        lambda: loaders.count_search(compiled.expression, where),
    )
    return SearchConnection(fetch=connection.fetch, make=connection.make, count=connection.count)
