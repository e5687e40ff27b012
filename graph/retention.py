"""Retention: what Claude Code is about to delete that sessiongraph does not have yet.

Claude Code deletes every transcript not modified for ``cleanupPeriodDays`` (30 by
default) when it starts. A transcript is at risk when that day falls within the next
:data:`WINDOW_DAYS` days and the database lacks some of it: never imported, or lines
appended since. ``doctor`` and ``stats`` show it; ``import`` says how many sessions
are kept here although their files are gone.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from graph.claude_settings import CleanupPeriod, cleanup_period, projects_dir
from graph.errors import TranscriptError
from graph.importers.files import Action, discover, plan_file

if TYPE_CHECKING:
    from graph.store import Store

__all__ = [
    "WINDOW_DAYS",
    "RetentionRisk",
    "retention_risk",
    "risk_line",
    "sessions_without_files",
]

WINDOW_DAYS: Final = 7
_DAY: Final = 86_400


@dataclass(slots=True)
class RetentionRisk:
    """Transcripts Claude Code will delete within the window that are not all here."""

    period: CleanupPeriod
    projects: Path
    window_days: int = WINDOW_DAYS
    files: list[Path] = field(default_factory=list)
    sessions: set[str] = field(default_factory=set)
    nbytes: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "cleanupPeriodDays": self.period.days,
            "cleanupPeriodSource": self.period.source,
            "projects": str(self.projects),
            "windowDays": self.window_days,
            "filesAtRisk": len(self.files),
            "sessionsAtRisk": len(self.sessions),
            "bytesAtRisk": self.nbytes,
        }

    def summary(self) -> str:
        """One line: the period, and what is at risk."""
        where = "default" if self.period.source == "default" else f"from {self.period.source}"
        head = f"Claude Code deletes transcripts after {self.period.days} days ({where})"
        if not self.files:
            return f"{head}; none of those due within {self.window_days} days is missing here"
        return (
            f"{head}: {len(self.files)} transcript files of {len(self.sessions)} sessions "
            f"({self.nbytes / 1e6:,.1f} MB) are due within {self.window_days} days and not "
            "fully imported; run `sessiongraph import` (or `sessiongraph hooks install` "
            "to import each session as it ends)"
        )


async def retention_risk(
    store: Store, projects: Path | None = None, *, now: float | None = None
) -> RetentionRisk:
    """What under ``projects`` (Claude Code's) is due for deletion and not all imported."""
    risk = RetentionRisk(cleanup_period(), projects or projects_dir())
    try:
        files = discover([risk.projects]).files
    except TranscriptError:
        return risk  # no transcripts at all: nothing to lose
    # A period of 0 is read as "delete at the next start": everything is due.
    due_before = (now if now is not None else time.time()) + (
        risk.window_days - risk.period.days
    ) * _DAY
    old = []
    for file in files:
        try:
            if file.path.stat().st_mtime <= due_before:
                old.append(file)
        except OSError:
            continue  # deleted while we looked
    async with store.read() as reader:
        states = await reader.transcripts.file_states([str(f.path) for f in old])
    for file in old:
        try:
            plan = plan_file(file, states.get(str(file.path)))
        except OSError:
            continue
        # Touched but not grown (an APPEND with nothing after the offset) loses nothing.
        if plan.action is not Action.SKIP and plan.size > plan.offset:
            risk.files.append(file.path)
            risk.sessions.add(file.session_hint)
            risk.nbytes += plan.size - plan.offset
    return risk


def risk_line(risk: dict[str, Any]) -> str:
    """:meth:`RetentionRisk.to_dict`, short, for the ``stats`` table."""
    source = risk["cleanupPeriodSource"]
    head = f"cleanupPeriodDays {risk['cleanupPeriodDays']} ({source})"
    if not risk["filesAtRisk"]:
        return f"{head}; nothing due within {risk['windowDays']} days is missing here"
    return (
        f"{head}; {risk['filesAtRisk']:,} files of {risk['sessionsAtRisk']:,} sessions "
        f"({risk['bytesAtRisk'] / 1e6:,.1f} MB) due within {risk['windowDays']} days "
        "are not fully imported"
    )


async def sessions_without_files(store: Store) -> list[str]:
    """Sessions imported from transcript files none of which exists any more."""
    async with store.read() as reader:
        sessions = await reader.transcripts.session_files()
    return [sid for sid, paths in sessions if _all_gone(paths)]


def _all_gone(paths: list[str]) -> bool:
    return not any(Path(p).exists() for p in paths)
