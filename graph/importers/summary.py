"""What an import did, and the progress callbacks a front end can follow it with."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final, Protocol

if TYPE_CHECKING:
    from collections.abc import Iterable

    from graph.importers.claude_code import Problem

__all__ = ["MAX_PROBLEMS", "ImportProgress", "ImportSummary"]

# Enough to point at what is wrong without flooding a terminal; the counts stay exact.
MAX_PROBLEMS: Final = 20


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
        ):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.issues.update(other.issues)
        room = MAX_PROBLEMS - len(self.problems)
        self.problems.extend(other.problems[: max(room, 0)])

    @property
    def changed(self) -> bool:
        """Whether the run stored anything new."""
        return bool(self.files_read or self.files_reset)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready view (what ``import --json`` prints)."""
        return {
            "files": self.files,
            "files_read": self.files_read,
            "files_unchanged": self.files_unchanged,
            "files_reset": self.files_reset,
            "sessions_added": self.sessions_added,
            "conversations_added": self.conversations_added,
            "messages_added": self.messages_added,
            "events_added": self.events_added,
            "lines_read": self.lines_read,
            "bytes_read": self.bytes_read,
            "lines_skipped": self.lines_skipped,
            "issues": dict(self.issues),
            "problems": [
                {"path": p.path, "line": p.line, "kind": p.kind, "detail": p.detail}
                for p in self.problems
            ],
            "seconds": round(self.seconds, 3),
        }
