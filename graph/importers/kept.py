"""What ``import`` reports beyond its counts: the prompt history, and what only we still have."""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import TYPE_CHECKING, Any

from graph.claude_settings import history_path
from graph.importers.history import HistorySummary, import_history, settle
from graph.retention import sessions_without_files

if TYPE_CHECKING:
    from pathlib import Path

    from graph.store import Store

__all__ = ["KeptReport", "default_history", "kept_report"]


def default_history() -> list[Path]:
    """Claude Code's prompt history, when there is one (the transcript folders come from
    the format registry)."""
    history = history_path()
    return [history] if history.is_file() else []


@dataclass(slots=True)
class KeptReport:
    """The prompt history's import (if one was given) and the sessions kept without files."""

    history: HistorySummary | None = None
    without_files: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "history": self.history.to_dict() if self.history else None,
            "sessionsKeptWithoutFiles": len(self.without_files),
        }

    def lines(self) -> list[str]:
        """What to tell a person, one line each."""
        lines = []
        h = self.history
        if h is not None:
            lines.append(
                f"prompt history: {h.lines_read:,} lines read, {h.prompts_added:,} prompts "
                f"added, {h.sessions_added:,} sessions known only from history added"
                + (
                    f", {h.without_session:,} prompts without a session"
                    if h.without_session
                    else ""
                )
            )
        if self.without_files:
            lines.append(
                f"{len(self.without_files):,} sessions are kept here whose transcript files "
                "are gone (Claude Code deletes them after cleanupPeriodDays)"
            )
        return lines


async def kept_report(
    store: Store, histories: list[Path], *, redact: bool | None = None
) -> KeptReport:
    """Import the prompt histories given (secrets redacted if ``redact``; ``None``: as
    ``secrets.toml`` says), then count the sessions kept without files."""
    report = KeptReport()
    for path in histories:
        summary = await import_history(store, path, redact=redact)
        if report.history is None:
            report.history = summary
        else:
            # By attribute: to_dict's keys are camelCase (they raised AttributeError).
            for each in fields(summary):
                total = getattr(report.history, each.name) + getattr(summary, each.name)
                setattr(report.history, each.name, total)
    if not histories:
        await settle(store)  # a transcript just imported may be of a history-only session
    report.without_files = await sessions_without_files(store)
    return report
