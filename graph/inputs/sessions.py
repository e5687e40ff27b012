"""The small inputs of an import: a session, a thread, token totals, how far a file was read.

Also :class:`EventLookup`, what a format asks the store to find in an event it stored.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final, NamedTuple

__all__ = [
    "FILE_LINES",
    "EventLookup",
    "FileState",
    "NewConversation",
    "NewSession",
    "Record",
    "TokenTotals",
]

Record = dict[str, Any]

# How many line numbers of a thread each of its files has. A thread is mostly one file,
# numbered from 1; a file that joins a thread another file already holds (Gemini CLI
# moves an old chat document to a .jsonl and goes on there) is numbered on from the next
# multiple of this, so the two files' lines never meet and each one can be written back.
FILE_LINES: Final = 1 << 32


class TokenTotals(NamedTuple):
    """Token counts, each API message counted once.

    ``cache_creation_1h`` is the part of ``cache_creation`` written with a 1-hour TTL.
    A named tuple: pages and usage groups build thousands (a frozen dataclass took
    several times as long to make).
    """

    input: int = 0
    output: int = 0
    cache_read: int = 0
    cache_creation: int = 0
    cache_creation_1h: int = 0


@dataclass(slots=True)
class NewSession:
    """A session as the importer sees it; ``None`` keeps what is stored."""

    session_id: str
    source: str = "claude-code"
    project: str | None = None
    cwd: str | None = None
    git_branch: str | None = None
    version: str | None = None
    metadata: Record | None = None


@dataclass(slots=True)
class NewConversation:
    """A thread of a session: ``agent_id`` is empty for the main thread."""

    agent_id: str = ""
    is_sidechain: bool = False
    parent_tool_use_id: str | None = None


@dataclass(slots=True)
class FileState:
    """How far the importer read a transcript file.

    ``resume`` is what its format's parser carries over past ``offset`` (JSON text; see
    migration 0014), ``None`` when nothing does. ``line_base`` is where the file's line
    numbers start in its thread: 0 for the thread's first file, a multiple of
    :data:`FILE_LINES` for a file that joined it later (see migration 0016).
    """

    path: str
    conversation_pk: int | None
    size: int
    mtime_ns: int
    head_hash: str
    offset: int
    line_count: int
    resume: str | None = None
    line_base: int = 0


@dataclass(frozen=True, slots=True)
class EventLookup:
    """Which stored event to look in, and what to read from it (JSON paths like
    ``$.data.agentId``): the first event of ``type``/``subtype`` (``None``: events
    without one) in a session whose ``match_path`` holds the given value, and the
    string at its ``value_path``.

    A transcript format says what it looks for (e.g. which tool call started a subagent);
    the store only knows events and paths.
    """

    type: str
    subtype: str | None
    match_path: str
    value_path: str
