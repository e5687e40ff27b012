"""The node types: Session, Conversation, Message, Event (their companions: values.py).

An object is its row, its request's context and its global id; every other field reads
the row when selected (a column as stored is a ``_column``, anything more a method), so a
page builds each object with three values, whatever its type has, and nothing is copied,
parsed, loaded or decoded unless selected. Those resolvers need no resolve info (the
context is the object's), so they take the executor's plain path.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from operator import attrgetter
from typing import Any, TypeVar

import orjson
import strawberry
from strawberry.scalars import JSON

from graph.importers.formats import format_named
from graph.pricing import request_input
from graph.schema.blocks import ContentBlock
from graph.schema.chained import Chained, then
from graph.schema.children import event_connection, event_filter, message_connection
from graph.schema.connections import Connection, PageArgs
from graph.schema.context import Context, Info
from graph.schema.ids import encode_id
from graph.schema.records import blocks_of, built_text, records_of
from graph.schema.scalars import from_db_time
from graph.schema.values import Node, SecretFinding, SessionSource, TitleSource, TokenUsage
from graph.store import ConversationRow, EventRow, MessageRow, SessionRow
from graph.usage import total

__all__ = ["Conversation", "Event", "Message", "Session"]


def _column(
    name: str,
    kind: object,
    description: str | None = None,
    *,
    via: Callable[[Any], Any] | None = None,
) -> Any:
    """A field that serves the object's row's column ``name``: as it is stored, or what
    ``via`` makes of it."""
    get = attrgetter(name)

    def column(self: Any) -> Any:
        return get(self.row)

    resolver = column if via is None else _converted(get, via)
    resolver.__annotations__ = {"return": kind}  # what strawberry types the field by
    return strawberry.field(resolver=resolver, description=description)


def _converted(get: Callable[[Any], Any], via: Callable[[Any], Any]) -> Callable[[Any], Any]:
    def column(self: Any) -> Any:
        return via(get(self.row))

    return column


@strawberry.type(description="One agent session: its main thread and its subagents.")
class Session(Node):
    row: strawberry.Private[SessionRow]
    # The request's: what the title, summary and metadata are opened with.
    context: strawberry.Private[Context]

    session_id = _column("session_id", str, "The agent's own session id.")
    project = _column(
        "project",
        str | None,
        "The project, named as Claude Code names its project folders (the "
        "working directory with `/` as `-`; Codex sessions too); for Gemini CLI, its folder "
        "under ~/.gemini/tmp (a hash of the directory).",
    )
    cwd = _column("cwd", str | None)
    git_branch = _column("git_branch", str | None)
    version = _column(
        "version", str | None, "Version of the agent that wrote it (Claude Code, Codex CLI)."
    )
    message_count = _column("message_count", int)
    event_count = _column("event_count", int)
    conversation_count = _column("conversation_count", int)

    @strawberry.field
    def has_sidechains(self) -> bool:
        return self.row.sidechain_count > 0

    @strawberry.field(
        description="Known only from Claude Code's prompt history (~/.claude/history.jsonl): "
        "its transcript was deleted before it was imported, so its messages are the prompts "
        "typed (in a conversation with agentId `prompt-history`), without answers or tokens."
    )
    def history_only(self) -> bool:
        return bool(self.row.history_only)

    @classmethod
    def of(cls, row: SessionRow, context: Context) -> Session:
        return cls(id=strawberry.ID(encode_id("Session", row.id)), row=row, context=context)

    @strawberry.field(description="The agent that wrote it.")
    def source(self) -> SessionSource:
        return SessionSource(self.row.source)

    @strawberry.field
    def models(self) -> list[str]:
        models: list[str] = orjson.loads(self.row.models)
        return models

    started_at = _column("started_at", datetime | None, via=from_db_time)
    ended_at = _column("ended_at", datetime | None, via=from_db_time)

    last_activity_at = _column(
        "ended_at",
        datetime | None,
        "When the session last had a message or event (its endedAt).",
        via=from_db_time,
    )

    @strawberry.field
    def token_usage(self) -> TokenUsage:
        return TokenUsage.of_row(self.row)

    @strawberry.field(
        description="The session's title: the user's, Claude Code's, or a summary; when "
        "there is none of those, derived from the first prompt or the slug (see titleSource)."
    )
    def title(self) -> str | None:
        return self.context.open_text("sessions", "title", self.row.session_id, self.row.title)

    @strawberry.field(description="Where the title comes from (null when there is none).")
    def title_source(self) -> TitleSource | None:
        source = self.row.title_source
        return TitleSource(source) if source is not None else None

    @strawberry.field(description="The latest summary Claude Code wrote for the session.")
    def summary(self) -> str | None:
        return self.context.open_text("sessions", "summary", self.row.session_id, self.row.summary)

    @strawberry.field(description="Session-level facts from the transcript (slug, mode...).")
    def metadata(self) -> JSON | None:
        raw = self.row.metadata
        if raw is None:
            return None
        return JSON(self.context.open_json("sessions", "metadata", self.row.session_id, raw))

    @strawberry.field(
        description="USD of its API messages, each counted once (a message replayed from "
        "another session counts there); null when none has a price."
    )
    async def cost_usd(self, info: Info) -> float | None:
        cells = await info.context.loaders.session_usage.load(self.row.id)
        cost = total(cells, info.context.settings.prices).cost
        return float(cost) if cost is not None else None

    @strawberry.field(
        description="Secrets found in the session's text, by kind (values are never "
        "served: text shows them as [REDACTED:kind:fingerprint] until `sessiongraph "
        "secrets redact` removes them)."
    )
    async def secret_findings(self, info: Info) -> list[SecretFinding]:
        rows = await info.context.loaders.secret_findings.load(self.row.id)
        return [SecretFinding.of(row) for row in rows]

    @strawberry.field(
        description="A shell command that resumes this session in the agent that wrote it."
    )
    def resume_command(self) -> str:
        return format_named(self.row.source).resume_command(self.row.session_id, self.row.cwd)

    @strawberry.field(
        description="The main thread first, then subagent threads by start.",
        graphql_type=list["Conversation"],
    )
    def conversations(self) -> Awaitable[list[Conversation]]:
        context = self.context

        def made(rows: list[ConversationRow]) -> list[Conversation]:
            context.loaders.remember_conversations(rows)
            return [Conversation.of(row, context) for row in rows]

        return then(context.loaders.conversations_of_session.load(self.row.id), made)

    @strawberry.field(description="Messages of every thread, in time order.")
    def messages(
        self,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
        role: str | None = None,
    ) -> Connection[Message]:
        return message_connection(
            self.context,
            "session",
            self.row.id,
            PageArgs(first, after, last, before),
            role,
            self.row.message_count,
            Message.of,
        )

    @strawberry.field(description="The session's timeline: every record that is not a message.")
    def events(
        self,
        types: list[str] | None = None,
        subtypes: list[str] | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[Event]:
        where = event_filter(types, subtypes, since, until)
        return event_connection(
            self.context,
            "session",
            self.row.id,
            PageArgs(first, after, last, before),
            where,
            self.row.event_count,
            Event.of,
        )


@strawberry.type(description="One thread of a session: the main one, or a subagent's.")
class Conversation(Node):
    row: strawberry.Private[ConversationRow]
    # The request's: what its messages and events are paged with.
    context: strawberry.Private[Context]

    @strawberry.field
    def is_sidechain(self) -> bool:
        return bool(self.row.is_sidechain)

    @strawberry.field(description="The subagent's id; null for main.")
    def agent_id(self) -> str | None:
        return self.row.agent_id or None

    parent_tool_use_id = _column(
        "parent_tool_use_id",
        str | None,
        "The Task tool call that started this subagent, when recorded.",
    )
    message_count = _column("message_count", int)
    event_count = _column("event_count", int)

    started_at = _column("started_at", datetime | None, via=from_db_time)
    ended_at = _column("ended_at", datetime | None, via=from_db_time)

    @classmethod
    def of(cls, row: ConversationRow, context: Context) -> Conversation:
        return cls(id=strawberry.ID(encode_id("Conversation", row.id)), row=row, context=context)

    @strawberry.field(graphql_type=Session)
    def session(self) -> Session | Awaitable[Session]:
        return session_of(self.context, self.row.session_pk)

    @strawberry.field(description="The thread's messages, in transcript order.")
    def messages(
        self,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
        role: str | None = None,
    ) -> Connection[Message]:
        return message_connection(
            self.context,
            "conversation",
            self.row.id,
            PageArgs(first, after, last, before),
            role,
            self.row.message_count,
            Message.of,
        )

    @strawberry.field(description="The thread's events, in transcript order.")
    def events(
        self,
        types: list[str] | None = None,
        subtypes: list[str] | None = None,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[Event]:
        where = event_filter(types, subtypes, None, None)
        return event_connection(
            self.context,
            "conversation",
            self.row.id,
            PageArgs(first, after, last, before),
            where,
            self.row.event_count,
            Event.of,
        )


@strawberry.type(description="One API message, built from one or more transcript records.")
class Message(Node):
    row: strawberry.Private[MessageRow]
    # The request's: what the text is opened with (a plain method then resolves it).
    context: strawberry.Private[Context]

    uuid = _column("uuid", str | None, "The uuid of its first record.")
    role = _column("role", str)
    model = _column("model", str | None)

    @strawberry.field
    def timestamp(self) -> datetime:
        return datetime.fromisoformat(self.row.timestamp)

    @strawberry.field
    def usage(self) -> TokenUsage:
        return TokenUsage.of_row(self.row)

    @classmethod
    def of(cls, row: MessageRow, context: Context) -> Message:
        return cls(id=strawberry.ID(encode_id("Message", row.id)), row=row, context=context)

    @strawberry.field(
        description="False for a copy of an API message replayed from another session "
        "(resumed or forked): totals count it once, in the session that had it first."
    )
    def counted(self) -> bool:
        return bool(self.row.counted)

    @strawberry.field(
        description="USD of this API message at its model's price on its day; "
        "null without a model or a known price."
    )
    def cost_usd(self, info: Info) -> float | None:
        tokens = self.row.tokens
        day = datetime.fromisoformat(self.row.timestamp).date()
        cost = info.context.settings.prices.cost(self.row.model, day, tokens, request_input(tokens))
        return float(cost) if cost is not None else None

    @strawberry.field(
        description="The readable text: its text blocks, joined.", graphql_type=str | None
    )
    def text(self) -> str | Awaitable[str | None] | None:
        # Served as stored, mostly; built from the records (read as its session's
        # format reads them, which takes a load) only when the stored text will not do.
        text = self.context.message_text(self.row)
        return text if text is not None else built_text(self.context, self.row)

    @strawberry.field(
        description="Every content block, in order.", graphql_type=list[ContentBlock] | None
    )
    def blocks(self) -> list[ContentBlock] | Awaitable[list[ContentBlock]]:
        return blocks_of(self.context, self.row)

    @strawberry.field(
        description="The transcript records this message was built from.",
        graphql_type=list[JSON] | None,
    )
    def records(self) -> list[JSON] | Awaitable[list[JSON]]:
        return records_of(self.context, self.row)

    @strawberry.field(graphql_type=Conversation)
    def conversation(self) -> Conversation | Awaitable[Conversation]:
        return conversation_of(self.context, self.row.conversation_pk)

    @strawberry.field(graphql_type=Session)
    def session(self) -> Session | Awaitable[Session]:
        return session_of(self.context, self.row.session_pk)


@strawberry.type(description="A timeline record that is not a message (progress, system...).")
class Event(Node):
    row: strawberry.Private[EventRow]
    # The request's: what its thread and session are loaded with.
    context: strawberry.Private[Context]

    uuid = _column("uuid", str | None)
    type = _column("type", str)
    subtype = _column("subtype", str | None)

    @strawberry.field
    def timestamp(self) -> datetime:
        return datetime.fromisoformat(self.row.timestamp)

    @classmethod
    def of(cls, row: EventRow, context: Context) -> Event:
        return cls(id=strawberry.ID(encode_id("Event", row.id)), row=row, context=context)

    @strawberry.field(description="The whole record, as the agent wrote it.")
    def data(self) -> JSON | None:
        return JSON(self.context.open_json("events", "data", self.row.row_key, self.row.data))

    @strawberry.field(graphql_type=Conversation)
    def conversation(self) -> Conversation | Awaitable[Conversation]:
        return conversation_of(self.context, self.row.conversation_pk)

    @strawberry.field(graphql_type=Session)
    def session(self) -> Session | Awaitable[Session]:
        return session_of(self.context, self.row.session_pk)


# A message's, event's or thread's session and thread: foreign keys, so they exist. Made at
# once from a row the request has read (a page's parents, mostly), else from a load that
# the rest of the page's shares.


def session_of(context: Context, pk: int) -> Session | Chained[Session]:
    """Session ``pk``, as an object of the request."""
    row = context.loaders.remembered_session(pk)
    if row is not None:
        return Session.of(row, context)
    return then(context.loaders.session.load(pk), lambda row: Session.of(_found(row), context))


def conversation_of(context: Context, pk: int) -> Conversation | Chained[Conversation]:
    """Thread ``pk``, as an object of the request."""
    row = context.loaders.remembered_conversation(pk)
    if row is not None:
        return Conversation.of(row, context)
    load = context.loaders.conversation.load(pk)
    return then(load, lambda row: Conversation.of(_found(row), context))


R = TypeVar("R")


def _found(row: R | None) -> R:
    assert row is not None  # a foreign key guarantees it
    return row
