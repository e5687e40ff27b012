"""Reading what the secret scan found: per session by kind, and a report by value.

The rows are written by the search indexer (``graph.store.indexing``), which finds
secrets while it builds a document. Only fingerprints are stored, never a value.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

__all__ = [
    "FINDINGS_BY_SESSION",
    "REPORT",
    "KindCount",
    "ReportRow",
]


@dataclass(frozen=True, slots=True)
class KindCount:
    """How many secrets of one kind a session holds."""

    kind: str
    count: int
    values: int  # distinct fingerprints
    first_seen: str | None


@dataclass(frozen=True, slots=True)
class ReportRow:
    """One secret value (by fingerprint) of one kind, wherever it was found."""

    kind: str
    fingerprint: str
    count: int
    sessions: tuple[str, ...]  # sessionIds
    fields: tuple[str, ...]
    first_seen: str | None


# Per session (the keys: a JSON array of session pks), by kind.
FINDINGS_BY_SESSION: Final = (
    "SELECT f.session_pk, f.kind, SUM(f.count), COUNT(DISTINCT f.fingerprint),"
    " MIN(f.timestamp) FROM secret_findings AS f"
    " WHERE f.session_pk IN (SELECT value FROM json_each(?))"
    " GROUP BY f.session_pk, f.kind ORDER BY f.session_pk, SUM(f.count) DESC, f.kind"
)

# One row per (kind, fingerprint); ``?`` is a session pk or NULL for all sessions.
REPORT: Final = (
    "SELECT f.kind, f.fingerprint, SUM(f.count),"
    " json_group_array(DISTINCT s.session_id), json_group_array(DISTINCT f.field),"
    " MIN(f.timestamp) FROM secret_findings AS f JOIN sessions AS s ON s.id = f.session_pk"
    " WHERE ?1 IS NULL OR f.session_pk = ?1"
    " GROUP BY f.kind, f.fingerprint ORDER BY SUM(f.count) DESC, f.kind, f.fingerprint"
)
