"""Scalars, and conversions between stored timestamp strings and GraphQL DateTime values."""

from __future__ import annotations

from datetime import datetime
from typing import Final, NewType

import strawberry
from strawberry.schema.types.base_scalars import DateTimeDefinition
from strawberry.types.scalar import ScalarDefinition

from graph.errors import UserInputError
from graph.times import format_timestamp

__all__ = ["SCALARS", "BigInt", "from_db_time", "to_db_time"]


def from_db_time(value: str | None) -> datetime | None:
    """A stored ``2026-02-10T21:11:56.846Z`` as an aware datetime (``None`` when unset)."""
    if not value:
        return None
    return datetime.fromisoformat(value)


def to_db_time(value: datetime) -> str:
    """A datetime in the stored form; naive values are taken as UTC.

    Raises:
        UserInputError: a datetime that has no UTC equivalent (e.g. year 9999 at UTC-1).
    """
    try:
        return format_timestamp(value)
    except OverflowError as exc:
        raise UserInputError(f"{value.isoformat()} is out of range") from exc


BigInt = NewType("BigInt", int)

SCALARS: Final[dict[object, ScalarDefinition]] = {
    BigInt: strawberry.scalar(
        name="BigInt",
        serialize=int,
        parse_value=int,
        description="An integer that may exceed 32 bits (token totals, byte sizes); a JSON number.",
    ),
    # Served as stored (what Claude Code writes and `Date.toISOString()` gives) rather
    # than strawberry's isoformat, whose "+00:00" and microseconds say nothing more.
    datetime: strawberry.scalar(
        name="DateTime",
        serialize=format_timestamp,
        parse_value=DateTimeDefinition.parse_value,
        description="A moment: ISO 8601 in UTC to the millisecond, `2026-02-10T21:11:56.846Z`. "
        "Arguments accept any ISO 8601 form; one without an offset is taken as UTC.",
    ),
}
