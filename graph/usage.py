"""Usage reports from the store's cells: groups, totals, costs and 5-hour billing blocks.

Pure: the store returns :class:`~graph.store.usage.UsageCell` rows (one statement), and
everything here is arithmetic on them. Shared by the GraphQL schema and the CLI.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any, Final
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from graph.errors import UserInputError
from graph.pricing import PriceBook
from graph.store import Clock, TokenTotals, UsageCell
from graph.times import format_timestamp

__all__ = [
    "BLOCK_HOURS",
    "Block",
    "UsageGroup",
    "blocks",
    "clock_for",
    "combine",
    "group",
    "local_zone",
    "total",
    "week_label",
    "zone_named",
]

BLOCK_HOURS: Final = 5
_BLOCK: Final = timedelta(hours=BLOCK_HOURS)
# Local days are cut exactly between these years; outside, with their nearest offset.
_CLOCK_YEARS: Final = (2000, 2050)
NO_MODEL: Final = "(no model)"
# A zone name longer than this is cut in the error that refuses it (the longest IANA name
# has 32 characters; a client's megabyte need not come back).
_SHOWN_ZONE: Final = 64


@dataclass(slots=True)
class UsageGroup:
    """Sums over the counted messages of one group (or of all, for totals)."""

    keys: tuple[Any, ...] = ()
    tokens: TokenTotals = field(default_factory=TokenTotals)
    cost: Decimal | None = None
    unpriced_models: set[str] = field(default_factory=set)
    messages: int = 0
    session_pks: set[int] = field(default_factory=set)
    models: set[str] = field(default_factory=set)
    first: str | None = None
    last: str | None = None

    @property
    def sessions(self) -> int:
        return len(self.session_pks)

    def add(self, cell: UsageCell, prices: PriceBook) -> None:
        """Add one cell: its sums, and its cost at its model's price on its UTC day."""
        t, c = self.tokens, cell.tokens
        self.tokens = TokenTotals(
            t.input + c.input,
            t.output + c.output,
            t.cache_read + c.cache_read,
            t.cache_creation + c.cache_creation,
            t.cache_creation_1h + c.cache_creation_1h,
        )
        request_input = cell.bucket + 1 if cell.bucket else 0
        cost = prices.cost(cell.model, date.fromisoformat(cell.utc_day), c, request_input)
        if cost is None:
            self.unpriced_models.add(cell.model or NO_MODEL)
        else:
            self.cost = cost if self.cost is None else self.cost + cost
        self.messages += cell.messages
        self.session_pks |= cell.session_pks
        if cell.model:
            self.models.add(cell.model)
        self.first = cell.first if self.first is None else min(self.first, cell.first)
        self.last = cell.last if self.last is None else max(self.last, cell.last)


def group(cells: Iterable[UsageCell], prices: PriceBook) -> list[UsageGroup]:
    """One group per distinct key, sorted by key (``None`` first)."""
    groups: dict[tuple[Any, ...], UsageGroup] = {}
    for cell in cells:
        found = groups.get(cell.keys)
        if found is None:
            found = groups[cell.keys] = UsageGroup(cell.keys)
        found.add(cell, prices)
    return sorted(groups.values(), key=lambda g: tuple(_sort_key(k) for k in g.keys))


def total(cells: Iterable[UsageCell], prices: PriceBook) -> UsageGroup:
    """All cells as one group."""
    result = UsageGroup()
    for cell in cells:
        result.add(cell, prices)
    return result


def combine(groups: Iterable[UsageGroup]) -> UsageGroup:
    """Groups already priced, as one (the totals row of a report)."""
    result = UsageGroup()
    for found in groups:
        _merge(result, found)
    return result


def _sort_key(value: Any) -> tuple[int, Any]:
    return (0, "") if value is None else (1, value)


def week_label(monday: str) -> str:
    """``2026-W07`` for the ISO week that starts on ``monday`` (YYYY-MM-DD)."""
    year, week, _ = date.fromisoformat(monday).isocalendar()
    return f"{year}-W{week:02d}"


# billing blocks


@dataclass(slots=True)
class Block:
    """A 5-hour billing window: from the hour of its first message, for five hours."""

    start: datetime
    usage: UsageGroup = field(default_factory=UsageGroup)
    active: bool = False

    @property
    def end(self) -> datetime:
        return self.start + _BLOCK

    @property
    def total_tokens(self) -> int:
        t = self.usage.tokens
        return t.input + t.output + t.cache_read + t.cache_creation

    def _hours_active(self) -> float | None:
        if self.usage.first is None or self.usage.last is None:
            return None
        span = _moment(self.usage.last) - _moment(self.usage.first)
        return span.total_seconds() / 3600 if span > timedelta(0) else None

    @property
    def tokens_per_hour(self) -> float | None:
        """Tokens per hour between the block's first and last message."""
        hours = self._hours_active()
        return self.total_tokens / hours if hours else None

    @property
    def cost_per_hour(self) -> float | None:
        hours = self._hours_active()
        return float(self.usage.cost) / hours if hours and self.usage.cost is not None else None

    def projected(self, now: datetime) -> tuple[int, float | None] | None:
        """Tokens and cost at the block's end at the current rate (active blocks only)."""
        rate = self.tokens_per_hour
        if not self.active or rate is None:
            return None
        left = max((self.end - now).total_seconds() / 3600, 0.0)
        cost_rate = self.cost_per_hour
        cost = self.usage.cost
        return (
            round(self.total_tokens + rate * left),
            float(cost) + cost_rate * left if cost is not None and cost_rate is not None else None,
        )


def blocks(cells: Iterable[UsageCell], prices: PriceBook, now: datetime) -> list[Block]:
    """Billing blocks from cells grouped by UTC hour (``Dimension.HOUR``), oldest first.

    A block starts at the hour of a message that comes 5 hours or more after the
    current block's start, or more than 5 hours after its last message (as ccusage
    defines them). Hourly cells are exact: blocks start on the hour, so an hour never
    straddles two. A block is active while ``now`` is before its end and within 5 hours
    of its last message.
    """
    hours = group(cells, prices)  # keys: ('2026-02-10T21',), sorted
    result: list[Block] = []
    current: Block | None = None
    for hour in hours:
        start = datetime.fromisoformat(f"{hour.keys[0]}:00:00+00:00")
        assert hour.first is not None  # every cell has messages
        if (
            current is None
            or start >= current.end
            or current.usage.last is None
            or _moment(hour.first) - _moment(current.usage.last) > _BLOCK
        ):
            current = Block(start)
            result.append(current)
        _merge(current.usage, hour)
    for block in result:
        last = block.usage.last
        block.active = last is not None and now < block.end and now - _moment(last) < _BLOCK
    return result


def _merge(into: UsageGroup, other: UsageGroup) -> None:
    t, o = into.tokens, other.tokens
    into.tokens = TokenTotals(
        t.input + o.input,
        t.output + o.output,
        t.cache_read + o.cache_read,
        t.cache_creation + o.cache_creation,
        t.cache_creation_1h + o.cache_creation_1h,
    )
    if other.cost is not None:
        into.cost = other.cost if into.cost is None else into.cost + other.cost
    into.unpriced_models |= other.unpriced_models
    into.messages += other.messages
    into.session_pks |= other.session_pks
    into.models |= other.models
    for value in (other.first, other.last):
        if value is not None:
            into.first = value if into.first is None else min(into.first, value)
            into.last = value if into.last is None else max(into.last, value)


def _moment(stored: str) -> datetime:
    return datetime.fromisoformat(stored)


# time zones


def local_zone() -> ZoneInfo | None:
    """The server's own zone as an IANA zone: ``$TZ``, else what ``/etc/localtime`` links
    to, else ``/etc/timezone``; ``None`` (UTC) when none names one."""
    name = os.environ.get("TZ", "").lstrip(":")
    if not name:
        link = Path("/etc/localtime")
        try:
            target = str(link.resolve()) if link.is_symlink() else ""
        except OSError:
            target = ""
        _, _, name = target.partition("zoneinfo/")
        if not name:
            try:
                name = Path("/etc/timezone").read_text(encoding="utf-8").strip()
            except OSError:
                name = ""
    return _zone(name) if name else None


def _zone(name: str) -> ZoneInfo | None:
    """The zone ``name``, or ``None`` if it is not one. ZoneInfo reads a file named by
    the key: besides ZoneInfoNotFoundError it raises ValueError (a NUL byte, an absolute
    or ``..`` path, a file that is no zone) and OSError (a directory such as ``Europe``,
    a name too long for the file system)."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        return None


def zone_named(name: str | None) -> ZoneInfo | None:
    """The IANA zone ``name`` (``None``: the server's local zone, else UTC).

    Raises:
        UserInputError: not a zone name this system knows.
    """
    if name is None:
        return local_zone()
    zone = _zone(name)
    if zone is None:
        shown = name if len(name) <= _SHOWN_ZONE else f"{name[:_SHOWN_ZONE]}…"
        raise UserInputError(
            f"{shown!r} is not an IANA time zone (e.g. Europe/Paris, America/New_York, UTC)",
            argument="timeZone",
        )
    return zone


def clock_for(zone: ZoneInfo | None) -> Clock:
    """``zone`` as the store needs it to cut local days (``None``: UTC)."""
    return _clock(zone.key if zone is not None else "UTC")


@cache
def _clock(key: str) -> Clock:
    zone = ZoneInfo(key)
    # zoneinfo does not list a zone's transitions: walk the years a day at a time and
    # find each change to the second (a zone changes at most once a day).
    moment = int(datetime(_CLOCK_YEARS[0], 1, 1, tzinfo=UTC).timestamp())
    stop = int(datetime(_CLOCK_YEARS[1], 1, 1, tzinfo=UTC).timestamp())
    offsets = [_offset(zone, moment)]
    changes: list[str] = []
    day = 86_400
    while moment < stop:
        if _offset(zone, moment + day) != offsets[-1]:
            low, high = moment, moment + day  # old offset at low, new one at high
            while high - low > 1:
                middle = (low + high) // 2
                if _offset(zone, middle) == offsets[-1]:
                    low = middle
                else:
                    high = middle
            changes.append(format_timestamp(datetime.fromtimestamp(high, UTC)))
            offsets.append(_offset(zone, high))
        moment += day
    return Clock(tuple(offsets), tuple(changes))


def _offset(zone: ZoneInfo, epoch: int) -> int:
    offset = datetime.fromtimestamp(epoch, zone).utcoffset()
    return int(offset.total_seconds()) if offset is not None else 0
