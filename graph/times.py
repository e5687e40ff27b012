"""The one form timestamps are stored in: ``YYYY-MM-DDTHH:MM:SS.mmmZ``, UTC.

Stored times are compared as text (filters, ordering, cursors), so every writer and every
filter must produce exactly this form. Not ``strftime``: its ``%Y`` writes the year 999 as
``999``, which sorts after ``2026``.
"""

from __future__ import annotations

from datetime import UTC, datetime

__all__ = ["format_timestamp"]


def format_timestamp(moment: datetime) -> str:
    """``moment`` in the stored form; a naive one is taken as UTC.

    Raises:
        OverflowError: the moment has no UTC equivalent (e.g. year 9999 at UTC-1).
    """
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    m = moment.astimezone(UTC)
    return (
        f"{m.year:04d}-{m.month:02d}-{m.day:02d}T{m.hour:02d}:{m.minute:02d}:"
        f"{m.second:02d}.{m.microsecond // 1000:03d}Z"
    )
