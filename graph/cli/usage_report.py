"""What ``sessiongraph usage`` prints: its rows, as tables or JSON.

Imported by the command when it runs (see :mod:`graph.cli.base`): it loads the store,
the prices and rich.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any, Final
from zoneinfo import ZoneInfo

import orjson
import typer
from rich import box
from rich.console import Console
from rich.measure import Measurement
from rich.table import Table

from graph.cli.base import compact_count, run
from graph.cli.usage import By, Report
from graph.pricing import PriceBook
from graph.store import Dimension, Store, UsageCell, UsageFilter
from graph.store.keyring import KeyMaterial
from graph.times import format_timestamp
from graph.usage import (
    Block,
    UsageGroup,
    blocks,
    clock_for,
    combine,
    group,
    total,
    week_label,
)

__all__ = ["print_usage"]

_REPORT_DIMENSIONS = {
    Report.daily: [Dimension.DAY],
    Report.weekly: [Dimension.WEEK],
    Report.monthly: [Dimension.MONTH],
    Report.session: [Dimension.SESSION, Dimension.PROJECT],
    Report.blocks: [Dimension.HOUR],
}
_BY = {
    By.model: Dimension.MODEL,
    By.project: Dimension.PROJECT,
    By.branch: Dimension.GIT_BRANCH,
    By.source: Dimension.SOURCE,
}
_HEADINGS = {
    Dimension.DAY: "day",
    Dimension.WEEK: "week",
    Dimension.MONTH: "month",
    Dimension.SESSION: "session",
    Dimension.PROJECT: "project",
    Dimension.MODEL: "model",
    Dimension.GIT_BRANCH: "branch",
    Dimension.SOURCE: "source",
}


def print_usage(
    path: Path,
    key: KeyMaterial | None,
    report: Report,
    by: list[By],
    where: UsageFilter,
    zone: ZoneInfo | None,
    book: PriceBook,
    *,
    as_json: bool,
) -> None:
    """Read the usage ``report`` (broken down ``by``) asks for and print it."""
    dimensions = list(_REPORT_DIMENSIONS[report])
    if report is not Report.blocks:
        dimensions += [_BY[b] for b in dict.fromkeys(by) if _BY[b] not in dimensions]
    cells = run(_cells(path, key, dimensions, where, zone, book))
    if report is Report.blocks:
        _print_blocks(blocks(cells, book, datetime.now(zone)), total(cells, book), zone, as_json)
        return
    rows = group(cells, book)
    totals = combine(rows)
    if as_json:
        payload = {
            "report": report.value,
            "timeZone": zone.key if zone else "UTC",
            "rows": [_json_row(row, dimensions) for row in rows],
            "totals": _json_row(totals, []),
            "unpricedModels": sorted(totals.unpriced_models),
        }
        typer.echo(orjson.dumps(payload, option=orjson.OPT_INDENT_2).decode())
        return
    _print_table(rows, totals, dimensions)


async def _cells(
    path: Path,
    key: KeyMaterial | None,
    dimensions: list[Dimension],
    where: UsageFilter,
    zone: ZoneInfo | None,
    book: PriceBook,
) -> list[UsageCell]:
    store = await Store.open(path, key=key)
    try:
        async with store.read() as reader:
            return await reader.usage(dimensions, where, clock_for(zone), book.thresholds)
    finally:
        await store.close()


def _key(dimension: Dimension, value: Any) -> Any:
    if dimension is Dimension.WEEK and value is not None:
        return week_label(value)
    return value


def _tokens(found: UsageGroup) -> dict[str, int]:
    t = found.tokens
    return {
        "input": t.input,
        "output": t.output,
        "cacheRead": t.cache_read,
        "cacheCreation": t.cache_creation,
        "cacheCreation1h": t.cache_creation_1h,
        "total": t.input + t.output + t.cache_read + t.cache_creation,
    }


def _json_row(found: UsageGroup, dimensions: list[Dimension]) -> dict[str, Any]:
    keys = {_HEADINGS[d]: _key(d, value) for d, value in zip(dimensions, found.keys, strict=True)}
    return {
        **keys,
        "tokens": _tokens(found),
        "costUsd": float(found.cost) if found.cost is not None else None,
        "unpricedModels": sorted(found.unpriced_models),
        "messages": found.messages,
        "sessions": found.sessions,
        "models": sorted(found.models),
        "firstActivityAt": found.first,
        "lastActivityAt": found.last,
    }


def _cost(found: UsageGroup) -> str:
    if found.cost is None:
        return "-"
    mark = "*" if found.unpriced_models else ""
    return f"${found.cost:,.2f}{mark}"


_NUMBER_HEADINGS: Final = (
    "input",
    "output",
    "cache read",
    "cache write",
    "total tokens",
    "cost (USD)",
)
# Narrow terminals: compact counts under short headings, no vertical rules.
_SHORT_HEADINGS: Final = ("in", "out", "cache read", "cache write", "total", "USD", "msgs")


def _number_columns(table: Table) -> None:
    for name in _NUMBER_HEADINGS:
        table.add_column(name, justify="right")


def _exact(count: int) -> str:
    return f"{count:,}"


def _numbers(found: UsageGroup, shown: Callable[[int], str] = _exact) -> list[str]:
    t = _tokens(found)
    return [
        shown(t["input"]),
        shown(t["output"]),
        shown(t["cacheRead"]),
        shown(t["cacheCreation"]),
        shown(t["total"]),
        _cost(found),
    ]


def _print_table(rows: list[UsageGroup], totals: UsageGroup, dimensions: list[Dimension]) -> None:
    console = Console(highlight=False)
    if not rows:
        console.print("no usage recorded")
        return
    table = _table(rows, totals, dimensions, _exact)
    unbounded = console.options.update_width(1 << 16)
    if Measurement.get(console, unbounded, table).maximum > console.width:
        # Exact counts do not fit: compact ones (--json has them exact), and the group
        # keys (days, models) whole rather than cut.
        table = _table(rows, totals, dimensions, compact_count, console.width)
    console.print(table)
    _print_unpriced(console, totals)


def _table(
    rows: list[UsageGroup],
    totals: UsageGroup,
    dimensions: list[Dimension],
    shown: Callable[[int], str],
    width: int = 1 << 16,
) -> Table:
    """Every value whole (each column at least as wide as its widest value); the headings
    wrap instead."""
    body = [
        [
            *(
                str(_key(d, v)) if v is not None else "-"
                for d, v in zip(dimensions, row.keys, strict=True)
            ),
            *_numbers(row, shown),
            shown(row.messages),
        ]
        for row in rows
    ]
    blank = [""] * (len(dimensions) - 1)
    total = ["total", *blank, *_numbers(totals, shown), shown(totals.messages)]
    compact = shown is compact_count
    numbers = _SHORT_HEADINGS if compact else (*_NUMBER_HEADINGS, "messages")
    headings = [_HEADINGS[d] for d in dimensions] + list(numbers)
    table = Table(show_footer=False, box=box.SIMPLE_HEAD if compact else box.HEAVY_HEAD)
    widths = [max(len(line[index]) for line in [*body, total]) for index in range(len(headings))]
    names = [
        index
        for index, d in enumerate(dimensions)
        if d not in (Dimension.DAY, Dimension.WEEK, Dimension.MONTH)
    ]
    fixed = sum(w for index, w in enumerate(widths) if index not in names) + 3 * len(widths) + 5
    room = max(10, (width - fixed - 2 * len(names)) // max(len(names), 1))
    for index, heading in enumerate(headings):
        widest = widths[index]
        key = dimensions[index] if index < len(dimensions) else None
        # Names (models, projects, sessions) may be cut where there is no room; times
        # and numbers never are.
        cut = key is not None and key not in (Dimension.DAY, Dimension.WEEK, Dimension.MONTH)
        table.add_column(
            heading,
            justify="left" if key is not None else "right",
            min_width=None if cut else widest,
            max_width=room if cut else None,
            overflow="ellipsis",
            no_wrap=cut,
        )
    for line in body:
        table.add_row(*line)
    table.add_section()
    table.add_row(*total, style="bold")
    return table


def _print_unpriced(console: Console, totals: UsageGroup) -> None:
    if totals.unpriced_models:
        console.print(
            "unpriced (no cost counted; add them to a price file): "
            + ", ".join(sorted(totals.unpriced_models)),
            style="yellow",
        )


def _print_blocks(
    found: list[Block], totals: UsageGroup, zone: ZoneInfo | None, as_json: bool
) -> None:
    now = datetime.now(zone)
    if as_json:
        payload = []
        for block in found:
            projected = block.projected(now)
            payload.append(
                {
                    "start": format_timestamp(block.start),
                    "end": format_timestamp(block.end),
                    "active": block.active,
                    **_json_row(block.usage, []),
                    "tokensPerHour": block.tokens_per_hour,
                    "costPerHour": block.cost_per_hour,
                    "projectedTokens": projected[0] if projected else None,
                    "projectedCostUsd": projected[1] if projected else None,
                }
            )
        typer.echo(orjson.dumps({"blocks": payload}, option=orjson.OPT_INDENT_2).decode())
        return
    console = Console(highlight=False)
    if not found:
        console.print("no usage recorded")
        return
    table = Table()
    table.add_column("block start")
    table.add_column("status")
    _number_columns(table)
    table.add_column("burn rate", justify="right")
    table.add_column("projected", justify="right")
    for block in found:
        start = block.start.astimezone(zone).strftime("%Y-%m-%d %H:%M")
        rate = block.tokens_per_hour
        projected = block.projected(now)
        table.add_row(
            start,
            "ACTIVE" if block.active else "",
            *_numbers(block.usage),
            f"{rate:,.0f} tok/h" if rate is not None else "-",
            f"{projected[0]:,} tok" + (f" ${projected[1]:,.2f}" if projected[1] is not None else "")
            if projected
            else "",
            style="bold green" if block.active else None,
        )
    table.add_section()
    table.add_row("total", "", *_numbers(totals), "", "", style="bold")
    console.print(table)
    _print_unpriced(console, totals)
