"""What an import did, and the progress callbacks a front end can follow it with."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Final, Protocol

if TYPE_CHECKING:
    from collections.abc import Iterable

    from graph.importers.batch import Problem

__all__ = ["MAX_PROBLEMS", "ImportProgress", "ImportSummary"]

# Enough to point at what is wrong without flooding a terminal; the counts stay exact.
MAX_PROBLEMS: Final = 20
# Sessions named in a watcher's line; more are counted.
_SHOWN_SESSIONS: Final = 3


class ImportProgress(Protocol):
    """Told how far an import has got (a progress bar, a log, a benchmark)."""

    def start(self, files: int, nbytes: int) -> None:
        """The run will read ``files`` files, ``nbytes`` bytes in all (about)."""

    def advance(self, *, files: int = 0, lines: int = 0, nbytes: int = 0) -> None:
        """So much more has been read and stored."""


@dataclass(slots=True)
class ImportSummary:
    """Counts of one import run (or of every run of a ``--watch`` session).

    Attributes:
        files: Transcript files found under the paths.
        files_read: Files that had new lines to read.
        files_unchanged: Files skipped because nothing changed since the last run.
        files_reset: Files that were truncated or replaced and were read again from the start.
        sessions_added / conversations_added / messages_added / events_added: New rows
            (records merged into an already stored message add no message).
        lines_read / bytes_read: What was read, bad lines included.
        lines_skipped: Lines that were not imported (bad JSON, not an object).
        issues: Number of problem lines by kind (skipped and repaired).
        problems: The first few problem lines, with file and line number.
        seconds: Wall time.
        messages_written: Messages stored, new or rewritten (an assistant message whose
            later rows arrive in a later run is rewritten).
        sessions: The ``sessionId`` of every session that had new lines.
    """

    files: int = 0
    files_read: int = 0
    files_unchanged: int = 0
    files_reset: int = 0
    sessions_added: int = 0
    conversations_added: int = 0
    messages_added: int = 0
    events_added: int = 0
    lines_read: int = 0
    bytes_read: int = 0
    lines_skipped: int = 0
    issues: Counter[str] = field(default_factory=Counter)
    problems: list[Problem] = field(default_factory=list)
    seconds: float = 0.0
    messages_written: int = 0
    sessions: set[str] = field(default_factory=set)

    def add_problems(self, problems: Iterable[Problem]) -> None:
        """Count problem lines, keeping the first few."""
        for problem in problems:
            self.issues[problem.kind] += 1
            if problem.skipped:
                self.lines_skipped += 1
            if len(self.problems) < MAX_PROBLEMS:
                self.problems.append(problem)

    def merge(self, other: ImportSummary) -> None:
        """Add ``other``'s counts (a later run) to these; ``files`` is the latest count."""
        self.files = other.files
        for name in (
            "files_read",
            "files_unchanged",
            "files_reset",
            "sessions_added",
            "conversations_added",
            "messages_added",
            "events_added",
            "lines_read",
            "bytes_read",
            "lines_skipped",
            "seconds",
            "messages_written",
        ):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.sessions |= other.sessions
        self.issues.update(other.issues)
        room = MAX_PROBLEMS - len(self.problems)
        self.problems.extend(other.problems[: max(room, 0)])

    @property
    def changed(self) -> bool:
        """Whether the run stored anything new."""
        return bool(self.files_read or self.files_reset)

    @property
    def messages_rewritten(self) -> int:
        """Stored messages that were written again (more rows of the same message)."""
        return max(self.messages_written - self.messages_added, 0)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready view (what ``import --json`` prints), keyed like ``stats --json``."""
        return {
            "files": self.files,
            "filesRead": self.files_read,
            "filesUnchanged": self.files_unchanged,
            "filesReset": self.files_reset,
            "sessionsAdded": self.sessions_added,
            "conversationsAdded": self.conversations_added,
            "messagesAdded": self.messages_added,
            "eventsAdded": self.events_added,
            "linesRead": self.lines_read,
            "bytesRead": self.bytes_read,
            "linesSkipped": self.lines_skipped,
            "issues": dict(self.issues),
            "problems": [
                {"path": p.path, "line": p.line, "kind": p.kind, "detail": p.detail}
                for p in self.problems
            ],
            "seconds": round(self.seconds, 3),
        }

    def change_record(self, at: datetime | None = None) -> dict[str, Any]:
        """What one run of a watcher did, as JSON (``import --watch --json``)."""
        moment = (at or datetime.now(UTC)).astimezone(UTC)
        return {
            "at": moment.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "sessions": sorted(self.sessions),
            "messagesRewritten": self.messages_rewritten,
            **self.to_dict(),
        }

    def change_line(self, at: datetime | None = None) -> str:
        """One line for one run of a watcher: when, which sessions, what changed.

        For example ``14:02:11 session 55604662: 3 new lines: 1 message added, 1 updated,
        1 event added``: the local time, and the sessions by their first 8 characters.
        """
        when = (at or datetime.now(UTC)).astimezone().strftime("%H:%M:%S")
        ids = sorted(self.sessions)
        who = ", ".join(session_id[:8] for session_id in ids[:_SHOWN_SESSIONS])
        if len(ids) > _SHOWN_SESSIONS:
            who += f" and {len(ids) - _SHOWN_SESSIONS} more"
        what = [f"{_count(self.messages_added, 'message')} added"]
        if self.messages_rewritten:
            what.append(f"{self.messages_rewritten:,} updated")
        what.append(f"{_count(self.events_added, 'event')} added")
        if self.sessions_added:
            what.append(_count(self.sessions_added, "new session"))
        if self.lines_skipped:
            what.append(f"{self.lines_skipped:,} skipped")
        label = "session" if len(ids) == 1 else "sessions"
        return f"{when} {label} {who or '(none)'}: {_count(self.lines_read, 'new line')}: " + (
            ", ".join(what)
        )


def _count(n: int, what: str) -> str:
    return f"{n:,} {what}{'' if n == 1 else 's'}"
