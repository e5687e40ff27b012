"""What a parser hands the importer for a run of lines of one file: the messages and
events they amount to, the session facts and titles they tell, and the problems met."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Final

from graph.inputs import NewEvent, NewMessage

__all__ = [
    "REPAIRED_JSON",
    "REPAIRED_UTF8",
    "SKIPPED_NOT_JSON",
    "SKIPPED_NOT_OBJECT",
    "SKIPPED_NOT_PROMPT",
    "SKIPPED_TOO_DEEP",
    "SKIP_KINDS",
    "SOURCE_CONFLICT",
    "TOKENS_OUT_OF_RANGE",
    "UNREADABLE",
    "Batch",
    "Problem",
    "TitleRecord",
]

SKIPPED_NOT_JSON: Final = "not JSON"
SKIPPED_NOT_OBJECT: Final = "not a JSON object"
SKIPPED_TOO_DEEP: Final = "nested too deeply"
# A prompt-history line that is an object but no prompt (no display text, no time).
SKIPPED_NOT_PROMPT: Final = "not a prompt"
REPAIRED_UTF8: Final = "invalid UTF-8 (replaced)"
# Valid JSON that can not be stored as written (a lone surrogate, a number beyond a
# double): kept, those values replaced (the detail says how).
REPAIRED_JSON: Final = "JSON value replaced"
TOKENS_OUT_OF_RANGE: Final = "token count out of range (left out)"
UNREADABLE: Final = "file not readable"
# A file whose session id another agent's session already has: not imported.
SOURCE_CONFLICT: Final = "session of another agent"
SKIP_KINDS: Final = frozenset(
    {SKIPPED_NOT_JSON, SKIPPED_NOT_OBJECT, SKIPPED_TOO_DEEP, SKIPPED_NOT_PROMPT}
)


@dataclass(frozen=True, slots=True)
class Problem:
    """A line that was skipped or repaired."""

    path: str
    line: int
    kind: str
    detail: str = ""

    @property
    def skipped(self) -> bool:
        return self.kind in SKIP_KINDS

    def __str__(self) -> str:
        detail = f": {self.detail}" if self.detail else ""
        return f"{self.path}:{self.line}: {self.kind}{detail}"


@dataclass(frozen=True, slots=True)
class TitleRecord:
    """A record that names or summarizes a session (summary, custom-title, ai-title)."""

    rank: int
    title: str | None
    summary: str | None
    session_id: str | None
    leaf_uuid: str | None


@dataclass(slots=True)
class Batch:
    """What a run of consecutive lines of one file amounts to."""

    messages: dict[str, NewMessage] = field(default_factory=dict)
    events: list[NewEvent] = field(default_factory=list)
    titles: list[TitleRecord] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    # agentId -> id of the Task tool_use that started it, as the main thread tells it.
    agent_links: dict[str, str] = field(default_factory=dict)
    # Messages stored by an earlier batch that are no longer current: msg_key -> the
    # event type their records become (see ``Writer.retire_messages``).
    retired: dict[str, str] = field(default_factory=dict)
    # The uuid their events carry, where the format names all of a message's records by
    # one (see ``Writer.retire_messages``).
    retired_uuids: dict[str, str] = field(default_factory=dict)
    session_id: str | None = None
    agent_id: str | None = None
    # The session this file is a thread of, when the file names it (a Codex sub-agent's
    # rollout names its parent's): the file is then a sidechain with ``agent_id``.
    parent_session_id: str | None = None
    # The session this one was forked from, when the file names it.
    forked_from: str | None = None
    cwd: str | None = None
    git_branch: str | None = None
    version: str | None = None
    slug: str | None = None
    permission_mode: str | None = None
    lines: int = 0
    nbytes: int = 0

    def move_lines(self, by: int) -> None:
        """Number its messages' records and its events ``by`` lines on: where its file's
        lines sit in a thread (see :data:`~graph.inputs.FILE_LINES`). Problems keep the
        file's own line numbers (they are told to the user)."""
        if not by:
            return
        for message in self.messages.values():
            message.move_lines(by)
        for event in self.events:
            event.seq += by

    def metadata(self) -> dict[str, str] | None:
        """Session-level facts worth keeping beyond the columns."""
        facts = {
            "slug": self.slug,
            "permissionMode": self.permission_mode,
            "forkedFrom": self.forked_from,
        }
        kept = {key: value for key, value in facts.items() if value is not None}
        return kept or None
