"""The object types: Session, Conversation, Message, Event and their small companions.

Plain columns are copied onto the objects when they are built; relationships and
content are resolvers, so nothing is loaded or decoded unless a query selects it.
"""

from __future__ import annotations

import shlex
from datetime import datetime

import orjson
import strawberry
from strawberry.scalars import JSON

from graph.content import Record, blocks_of, readable_text
from graph.loaders import ChildCount, ChildPage, prime_conversations
from graph.schema.blocks import ContentBlock, to_block
from graph.schema.connections import Connection, PageArgs, page_key
from graph.schema.context import Info
from graph.schema.ids import encode_id
from graph.schema.scalars import BigInt, from_db_time, to_db_time
from graph.store import (
    ConversationRow,
    EventFilter,
    EventRow,
    MessageFilter,
    MessageRow,
    SessionRow,
    TokenTotals,
)
from graph.store.reads import Parent

__all__ = ["Conversation", "Event", "Message", "Node", "Session", "TokenUsage"]

_MESSAGE_SORT = {"session": ("timestamp", "id"), "conversation": ("seq", "id")}


@strawberry.interface(description="An object with a global ID, fetchable with `node(id:)`.")
class Node:
    id: strawberry.ID


@strawberry.type(description="Token counts; each API message is counted once.")
class TokenUsage:
    input: BigInt
    output: BigInt
    cache_read: BigInt
    cache_creation: BigInt

    @strawberry.field(description="input + output + cacheRead + cacheCreation.")
    def total(self) -> BigInt:
        return BigInt(self.input + self.output + self.cache_read + self.cache_creation)

    @classmethod
    def of(cls, totals: TokenTotals) -> TokenUsage:
        return cls(
            input=BigInt(totals.input),
            output=BigInt(totals.output),
            cache_read=BigInt(totals.cache_read),
            cache_creation=BigInt(totals.cache_creation),
        )


def message_records(info: Info, row: MessageRow) -> list[tuple[int, Record]]:
    """A message's (line, record) pairs, decrypted once per request."""
    pairs = info.context.open_json("messages", "content", row.row_key, row.content)
    return [(int(line), record) for line, record in pairs]


async def _messages(
    info: Info, parent: Parent, pk: int, args: PageArgs, role: str | None
) -> Connection[Message]:
    loaders, settings = info.context.loaders, info.context.settings
    sort = _MESSAGE_SORT[parent]
    kind = f"{parent[0]}m"
    request = args.request(
        kind, len(sort), default=settings.default_page_size, maximum=settings.max_page_size
    )
    where = MessageFilter(role=role)
    return Connection.build(
        lambda: loaders.message_page.load(ChildPage(parent, pk, where, request)),
        Message.of,
        page_key(sort),
        kind,
        lambda: loaders.child_count.load(ChildCount("messages", parent, pk, where)),
    )


async def _events(
    info: Info, parent: Parent, pk: int, args: PageArgs, where: EventFilter
) -> Connection[Event]:
    loaders, settings = info.context.loaders, info.context.settings
    sort = _MESSAGE_SORT[parent]
    kind = f"{parent[0]}e"
    request = args.request(
        kind, len(sort), default=settings.default_page_size, maximum=settings.max_page_size
    )
    return Connection.build(
        lambda: loaders.event_page.load(ChildPage(parent, pk, where, request)),
        Event.of,
        page_key(sort),
        kind,
        lambda: loaders.child_count.load(ChildCount("events", parent, pk, where)),
    )


def _event_filter(
    types: list[str] | None, subtypes: list[str] | None, since: datetime | None,
    until: datetime | None,
) -> EventFilter:  # fmt: skip
    return EventFilter(
        types=tuple(types) if types is not None else None,
        subtypes=tuple(subtypes) if subtypes is not None else None,
        since=to_db_time(since) if since else None,
        until=to_db_time(until) if until else None,
    )


@strawberry.type(description="One Claude Code session: its main thread and its subagents.")
class Session(Node):
    row: strawberry.Private[SessionRow]
    session_id: str = strawberry.field(description="Claude Code's own sessionId.")
    project: str | None = strawberry.field(description="The Claude project folder name.")
    cwd: str | None
    git_branch: str | None
    version: str | None = strawberry.field(description="Claude Code version that wrote it.")
    models: list[str]
    started_at: datetime | None
    ended_at: datetime | None
    last_activity_at: datetime | None = strawberry.field(
        description="When the session last had a message or event (its endedAt)."
    )
    message_count: int
    event_count: int
    conversation_count: int
    has_sidechains: bool
    token_usage: TokenUsage
    history_only: bool = strawberry.field(
        description="Known only from Claude Code's prompt history (~/.claude/history.jsonl): "
        "its transcript was deleted before it was imported, so its messages are the prompts "
        "typed (in a conversation with agentId `prompt-history`), without answers or tokens."
    )

    @classmethod
    def of(cls, row: SessionRow) -> Session:
        return cls(
            id=strawberry.ID(encode_id("Session", row.id)),
            row=row,
            session_id=row.session_id,
            project=row.project,
            cwd=row.cwd,
            git_branch=row.git_branch,
            version=row.version,
            models=orjson.loads(row.models),
            started_at=from_db_time(row.started_at),
            ended_at=from_db_time(row.ended_at),
            last_activity_at=from_db_time(row.ended_at),
            message_count=row.message_count,
            event_count=row.event_count,
            conversation_count=row.conversation_count,
            has_sidechains=row.sidechain_count > 0,
            token_usage=TokenUsage.of(row.tokens),
            history_only=bool(row.history_only),
        )

    @strawberry.field(description="The session's title (custom, AI-written, or summary).")
    def title(self, info: Info) -> str | None:
        return info.context.open_text("sessions", "title", self.session_id, self.row.title)

    @strawberry.field(description="The latest summary Claude Code wrote for the session.")
    def summary(self, info: Info) -> str | None:
        return info.context.open_text("sessions", "summary", self.session_id, self.row.summary)

    @strawberry.field(description="Session-level facts from the transcript (slug, mode...).")
    def metadata(self, info: Info) -> JSON | None:
        raw = self.row.metadata
        if raw is None:
            return None
        return JSON(info.context.open_json("sessions", "metadata", self.session_id, raw))

    @strawberry.field(description="A shell command that resumes this session in Claude Code.")
    def resume_command(self) -> str:
        resume = f"claude --resume {shlex.quote(self.session_id)}"
        return f"cd {shlex.quote(self.cwd)} && {resume}" if self.cwd else resume

    @strawberry.field(description="The main thread first, then subagent threads by start.")
    async def conversations(self, info: Info) -> list[Conversation]:
        rows = await info.context.loaders.conversations_of_session.load(self.row.id)
        prime_conversations(info.context.loaders, rows)
        return [Conversation.of(row) for row in rows]

    @strawberry.field(description="Messages of every thread, in time order.")
    async def messages(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
        role: str | None = None,
    ) -> Connection[Message]:
        return await _messages(
            info, "session", self.row.id, PageArgs(first, after, last, before), role
        )

    @strawberry.field(description="The session's timeline: every record that is not a message.")
    async def events(
        self,
        info: Info,
        types: list[str] | None = None,
        subtypes: list[str] | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[Event]:
        where = _event_filter(types, subtypes, since, until)
        return await _events(
            info, "session", self.row.id, PageArgs(first, after, last, before), where
        )


@strawberry.type(description="One thread of a session: the main one, or a subagent's.")
class Conversation(Node):
    row: strawberry.Private[ConversationRow]
    is_sidechain: bool
    agent_id: str | None = strawberry.field(description="The subagent's id; null for main.")
    parent_tool_use_id: str | None = strawberry.field(
        description="The Task tool call that started this subagent, when recorded."
    )
    message_count: int
    event_count: int
    started_at: datetime | None
    ended_at: datetime | None

    @classmethod
    def of(cls, row: ConversationRow) -> Conversation:
        return cls(
            id=strawberry.ID(encode_id("Conversation", row.id)),
            row=row,
            is_sidechain=bool(row.is_sidechain),
            agent_id=row.agent_id or None,
            parent_tool_use_id=row.parent_tool_use_id,
            message_count=row.message_count,
            event_count=row.event_count,
            started_at=from_db_time(row.started_at),
            ended_at=from_db_time(row.ended_at),
        )

    @strawberry.field
    async def session(self, info: Info) -> Session:
        row = await info.context.loaders.session.load(self.row.session_pk)
        assert row is not None  # a foreign key guarantees it
        return Session.of(row)

    @strawberry.field(description="The thread's messages, in transcript order.")
    async def messages(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
        role: str | None = None,
    ) -> Connection[Message]:
        return await _messages(
            info, "conversation", self.row.id, PageArgs(first, after, last, before), role
        )

    @strawberry.field(description="The thread's events, in transcript order.")
    async def events(
        self,
        info: Info,
        types: list[str] | None = None,
        subtypes: list[str] | None = None,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[Event]:
        where = _event_filter(types, subtypes, None, None)
        return await _events(
            info, "conversation", self.row.id, PageArgs(first, after, last, before), where
        )


@strawberry.type(description="One API message, built from one or more transcript records.")
class Message(Node):
    row: strawberry.Private[MessageRow]
    uuid: str | None = strawberry.field(description="The uuid of its first record.")
    role: str
    model: str | None
    timestamp: datetime
    usage: TokenUsage

    @classmethod
    def of(cls, row: MessageRow) -> Message:
        return cls(
            id=strawberry.ID(encode_id("Message", row.id)),
            row=row,
            uuid=row.uuid,
            role=row.role,
            model=row.model,
            timestamp=datetime.fromisoformat(row.timestamp),
            usage=TokenUsage.of(row.tokens),
        )

    def _records(self, info: Info) -> list[tuple[int, Record]]:
        return message_records(info, self.row)

    @strawberry.field(description="The readable text: its text blocks, joined.")
    def text(self, info: Info) -> str | None:
        return readable_text(blocks_of(self._records(info)))

    @strawberry.field(description="Every content block, in order.")
    def blocks(self, info: Info) -> list[ContentBlock] | None:
        return [to_block(block) for block in blocks_of(self._records(info))]

    @strawberry.field(description="The transcript records this message was built from.")
    def records(self, info: Info) -> list[JSON] | None:
        return [JSON(record) for _, record in self._records(info)]

    @strawberry.field
    async def conversation(self, info: Info) -> Conversation:
        row = await info.context.loaders.conversation.load(self.row.conversation_pk)
        assert row is not None
        return Conversation.of(row)

    @strawberry.field
    async def session(self, info: Info) -> Session:
        row = await info.context.loaders.session.load(self.row.session_pk)
        assert row is not None
        return Session.of(row)


@strawberry.type(description="A timeline record that is not a message (progress, system...).")
class Event(Node):
    row: strawberry.Private[EventRow]
    uuid: str | None
    type: str
    subtype: str | None
    timestamp: datetime

    @classmethod
    def of(cls, row: EventRow) -> Event:
        return cls(
            id=strawberry.ID(encode_id("Event", row.id)),
            row=row,
            uuid=row.uuid,
            type=row.type,
            subtype=row.subtype,
            timestamp=datetime.fromisoformat(row.timestamp),
        )

    @strawberry.field(description="The whole record, as Claude Code wrote it.")
    def data(self, info: Info) -> JSON | None:
        return JSON(info.context.open_json("events", "data", self.row.row_key, self.row.data))

    @strawberry.field
    async def conversation(self, info: Info) -> Conversation:
        row = await info.context.loaders.conversation.load(self.row.conversation_pk)
        assert row is not None
        return Conversation.of(row)

    @strawberry.field
    async def session(self, info: Info) -> Session:
        row = await info.context.loaders.session.load(self.row.session_pk)
        assert row is not None
        return Session.of(row)
