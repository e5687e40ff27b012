"""What text of a message, event or session is searchable, by field group.

The same functions serve indexing and snippets, so a highlight is always cut from the
text that was indexed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Final

from graph.content import Block, Record, tool_result_text

__all__ = [
    "FIELD_COLUMNS",
    "MAX_FIELD",
    "UNSEARCHED_EVENT_TYPES",
    "Fields",
    "event_fields",
    "is_searched_event",
    "message_fields",
    "session_fields",
]

FIELD_COLUMNS: Final = ("text", "thinking", "tool_input", "tool_output", "title", "event")

# Events with no document. Progress records report work under way: a hook starting, a
# command's output so far (``fullOutput`` repeats all of it, so a long build's output is
# there many times over), a subagent's messages mirrored from its own transcript. What
# they say is searchable where it lands (the tool result, the subagent's messages);
# indexed too, they made most hits repeats of one another and most of an import's
# indexing work (70% of the records of a typical transcript).
# Codex logs the visible text of its response items again as UI events (user_message,
# agent_message, agent_reasoning): indexed once, where the message holds it. Its
# token_count events are numbers only. Messages a transcript took back (a Gemini CLI
# rewind: ``rewound``; left out of a document rewritten whole: ``removed``) are kept as
# events for the record, but are not current: not found either. A chat document's own
# fields (``document``: ids and times, a version per rewrite) name the session, which is
# found by its title and summary.
UNSEARCHED_EVENT_TYPES: Final = frozenset(
    {
        "rewound",
        "removed",
        "document",
        "progress",
        "user_message",
        "agent_message",
        "agent_reasoning",
        "agent_reasoning_raw_content",
        "token_count",
    }
)

# Bookkeeping keys of event records: ids, times, paths and flags nobody searches for.
_EVENT_SKIP: Final = frozenset(
    {
        "uuid",
        "parentUuid",
        "logicalParentUuid",
        "leafUuid",
        "sessionId",
        "timestamp",
        "type",
        "userType",
        "isSidechain",
        "version",
        "gitBranch",
        "cwd",
        "requestId",
        "messageId",
        "toolUseID",
        "parentToolUseID",
        "sourceToolAssistantUUID",
        "sourceToolUseID",
        "agentId",
        "slug",
        "level",
        "isMeta",
        "isSnapshotUpdate",
        "permissionMode",
        "hookCount",
        "preventedContinuation",
        "hasOutput",
        "durationMs",
        "trackedFileBackups",
        # Codex's opaque reasoning: ciphertext, never text to search.
        "encrypted_content",
    }
)
MAX_FIELD: Final = 1 << 20  # one document's field is cut at 1 MiB of text


@dataclass(slots=True)
class Fields:
    """The searchable text of one document, one string per field group."""

    text: str = ""
    thinking: str = ""
    tool_input: str = ""
    tool_output: str = ""
    title: str = ""
    event: str = ""

    def get(self, column: str) -> str:
        value: str = getattr(self, column)
        return value

    def values(self) -> tuple[str, str, str, str, str, str]:
        """The fields in :data:`FIELD_COLUMNS` order."""
        return (self.text, self.thinking, self.tool_input, self.tool_output, self.title, self.event)


def _strings(value: Any, skip: frozenset[str] = frozenset()) -> list[str]:
    """Every string leaf of a JSON value, in order."""
    found: list[str] = []
    _collect(value, skip, found)
    return found


def _collect(value: Any, skip: frozenset[str], found: list[str]) -> None:
    # Appending to one list: a generator per level cost a third of indexing an event.
    # Exact classes: records come from orjson, which makes no subclasses.
    if value.__class__ is str:
        found.append(value)
    elif value.__class__ is dict:
        for key, item in value.items():
            if key not in skip and item.__class__ is not bool and item is not None:
                _collect(item, skip, found)
    elif value.__class__ is list:
        for item in value:
            _collect(item, skip, found)


def _join(parts: list[str]) -> str:
    text = "\n".join(part for part in parts if part)
    if len(text) <= MAX_FIELD or text[MAX_FIELD].isspace():
        return text[:MAX_FIELD]
    # Cut where a word ends: the first part of a word cut in two (a credential's) would
    # be indexed, and the secret rules, which read the field as cut, no longer know it.
    return _PARTIAL_WORD.sub("", text[:MAX_FIELD])


_PARTIAL_WORD: Final = re.compile(r"\S+\Z")


def message_fields(blocks: list[Block]) -> Fields:
    """Text, thinking, tool inputs (name and string arguments) and tool outputs of a
    message's content blocks."""
    text: list[str] = []
    thinking: list[str] = []
    tool_input: list[str] = []
    tool_output: list[str] = []
    for block in blocks:
        kind = block.get("type")
        if kind == "text" and isinstance(block.get("text"), str):
            text.append(block["text"])
        elif kind == "thinking" and isinstance(block.get("thinking"), str):
            thinking.append(block["thinking"])
        elif kind == "tool_use":
            name = block.get("name")
            tool_input.append(name if isinstance(name, str) else "")
            tool_input.extend(_strings(block.get("input")))
        elif kind == "tool_result":
            tool_output.append(tool_result_text(block.get("content")))
    return Fields(
        text=_join(text),
        thinking=_join(thinking),
        tool_input=_join(tool_input),
        tool_output=_join(tool_output),
    )


def is_searched_event(event_type: str) -> bool:
    """Whether events of ``event_type`` have a search document."""
    return event_type not in UNSEARCHED_EVENT_TYPES


def event_fields(record: Record) -> Fields:
    """The string values of an event record, less its bookkeeping keys."""
    return Fields(event=_join(_strings(record, _EVENT_SKIP)))


def session_fields(title: str | None, summary: str | None) -> Fields:
    """A session is found by its title and summary."""
    return Fields(title=_join([title or "", summary or ""]))
