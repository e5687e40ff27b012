"""Rows as the store returns them: one named tuple per table (the small figures are
frozen dataclasses).

Field names are the column names, so ``columns(SessionRow)`` is the SELECT list and
``SessionRow(*row)`` builds the object without a mapping step. The tables' rows are
named tuples because a page builds hundreds of them: a frozen dataclass of 18 fields
takes about ten times as long to make.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any, NamedTuple

from graph.inputs import TokenTotals

__all__ = [
    "ConversationRow",
    "EventRow",
    "MessageRow",
    "SessionRow",
    "StatsRow",
    "TokenTotals",
    "columns",
    "event_row_key",
    "message_row_key",
]


_COLUMNS: dict[tuple[type[Any], str, frozenset[str]], str] = {}


def columns(row_type: type[Any], alias: str = "", *, unread: frozenset[str] = frozenset()) -> str:
    """The comma-separated column list of ``row_type``, optionally table-qualified;
    the ``unread`` columns are selected as NULL (their fields are None)."""
    key = (row_type, alias, unread)
    if key not in _COLUMNS:
        prefix = f"{alias}." if alias else ""
        names = getattr(row_type, "_fields", None) or [field.name for field in fields(row_type)]
        _COLUMNS[key] = ", ".join(
            f"NULL AS {name}" if name in unread else prefix + name for name in names
        )
    return _COLUMNS[key]


def message_row_key(conversation_pk: int, msg_key: str) -> str:
    """A message's natural key: what its sealed content is bound to (the AAD)."""
    return f"{conversation_pk}:{msg_key}"


def event_row_key(conversation_pk: int, seq: int) -> str:
    """An event's natural key: what its sealed data is bound to (the AAD)."""
    return f"{conversation_pk}:{seq}"


class SessionRow(NamedTuple):
    id: int
    session_id: str
    project: str | None
    cwd: str | None
    git_branch: str | None
    version: str | None
    title: str | bytes | None
    summary: str | bytes | None
    metadata: str | bytes | None
    started_at: str | None
    ended_at: str | None
    models: str
    conversation_count: int
    sidechain_count: int
    message_count: int
    event_count: int
    input_tokens: int
    output_tokens: int
    cache_read_tokens: int
    cache_creation_tokens: int
    title_source: str | None
    cache_creation_1h_tokens: int
    history_only: int  # known only from Claude Code's prompt history (migration 0009)
    source: str

    @property
    def tokens(self) -> TokenTotals:
        return TokenTotals(
            self.input_tokens,
            self.output_tokens,
            self.cache_read_tokens,
            self.cache_creation_tokens,
            self.cache_creation_1h_tokens,
        )


class ConversationRow(NamedTuple):
    id: int
    session_pk: int
    agent_id: str
    is_sidechain: int
    parent_tool_use_id: str | None
    started_at: str | None
    ended_at: str | None
    message_count: int
    event_count: int


class MessageRow(NamedTuple):
    id: int
    session_pk: int
    conversation_pk: int
    seq: int
    msg_key: str
    uuid: str | None
    role: str
    model: str | None
    timestamp: str
    input_tokens: int
    output_tokens: int
    cache_read_tokens: int
    cache_creation_tokens: int
    content: bytes | None  # None when read without it (pages of the API: ``text`` serves)
    cache_creation_1h_tokens: int
    counted: int  # 1 for the one copy of an API message that totals count
    text: bytes | str | None  # sealed when encrypted; None until filled (migration 0011)
    text_masked_by: str | None  # the digest of the secret rules that masked it (0013)

    @property
    def row_key(self) -> str:
        return message_row_key(self.conversation_pk, self.msg_key)

    @property
    def records(self) -> bytes:
        """``content``, for a row read with it (every read but the API's pages).

        Raises:
            ValueError: the row was read without its records.
        """
        if self.content is None:
            raise ValueError(f"message {self.id} was read without its records")
        return self.content

    @property
    def tokens(self) -> TokenTotals:
        return TokenTotals(
            self.input_tokens,
            self.output_tokens,
            self.cache_read_tokens,
            self.cache_creation_tokens,
            self.cache_creation_1h_tokens,
        )


class EventRow(NamedTuple):
    id: int
    session_pk: int
    conversation_pk: int
    seq: int
    uuid: str | None
    type: str
    subtype: str | None
    timestamp: str
    data: bytes

    @property
    def row_key(self) -> str:
        return event_row_key(self.conversation_pk, self.seq)


@dataclass(frozen=True, slots=True)
class SourceCount:
    """Sessions and messages stored from one agent (``claude-code``, ``codex``, ...)."""

    source: str
    sessions: int
    messages: int


@dataclass(frozen=True, slots=True)
class ImportFigures:
    """What importers (of any process) have stored, and the change feed's newest change."""

    lines: int
    last_imported_at: str | None
    change_head: int


@dataclass(frozen=True, slots=True)
class StatsRow:
    sessions: int
    conversations: int
    messages: int
    events: int
    tokens: TokenTotals
    db_size_bytes: int
    schema_version: int
    sqlite_version: str
