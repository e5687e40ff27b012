"""What ``sessiongraph usage`` prints: its rows, as tables or JSON.

Imported by the command when it runs (see :mod:`graph.cli.base`): it loads the store,
the prices and rich.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any, Final, Literal
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
# What a terminal too narrow for every column goes without, first to last (by index
# into the headings above): never the total or the cost.
_HIDDEN_FIRST: Final = (6, 3, 2, 0, 1)
# A name (model, project, session) folds onto more lines rather than being cut, in a
# column at least this wide (or as wide as its widest name, if narrower).
_NAME_WIDTH: Final = 12
_TIMES: Final = frozenset({Dimension.DAY, Dimension.WEEK, Dimension.MONTH})
# The blocks report has no messages column: it goes without the same ones, in that order.
_BLOCK_HIDDEN_FIRST: Final = tuple(index for index in _HIDDEN_FIRST if index != 6)


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
    hidden: tuple[int, ...] = ()
    if _width(console, table).maximum > console.width:
        # Exact counts do not fit: compact ones (--json has them exact), names folded;
        # and if those do not fit either, fewer columns rather than columns rich drops
        # without a word. rich measures a name by its longest word: measured folded to
        # the least.
        hidden = _left_out(
            console,
            lambda left_out: _table(rows, totals, dimensions, compact_count, left_out, _NAME_WIDTH),
            _HIDDEN_FIRST,
        )
        folded = _table(rows, totals, dimensions, compact_count, hidden, _NAME_WIDTH)
        spare = console.width - _width(console, folded).minimum
        # The room left goes to the names (rich would give it to the numbers).
        names = sum(d not in _TIMES for d in dimensions)
        fold = _NAME_WIDTH + max(spare, 0) // max(names, 1)
        table = _table(rows, totals, dimensions, compact_count, hidden, fold)
        while fold > _NAME_WIDTH and _width(console, table).maximum > console.width:
            fold -= 1
            table = _table(rows, totals, dimensions, compact_count, hidden, fold)
    console.print(table)
    _print_left_out(console, hidden)
    _print_unpriced(console, totals)


def _width(console: Console, table: Table) -> Measurement:
    """The table's narrowest and widest renderings, whatever the console's width."""
    return Measurement.get(console, console.options.update_width(1 << 16), table)


def _left_out(
    console: Console, build: Callable[[tuple[int, ...]], Table], order: tuple[int, ...]
) -> tuple[int, ...]:
    """The fewest number columns, left out first to last in ``order``, without which the
    compact table ``build`` makes fits the console (all of ``order`` if none does)."""
    for count in range(len(order) + 1):
        if _width(console, build(order[:count])).minimum <= console.width:
            return order[:count]
    return order


def _print_left_out(console: Console, hidden: tuple[int, ...]) -> None:
    if hidden:
        left_out = ", ".join(_SHORT_HEADINGS[index] for index in sorted(hidden))
        console.print(f"not shown at this width: {left_out} (--json has every figure)")


def _table(
    rows: list[UsageGroup],
    totals: UsageGroup,
    dimensions: list[Dimension],
    shown: Callable[[int], str],
    hidden: tuple[int, ...] | None = None,
    fold: int | None = None,
) -> Table:
    """Every time and number whole (each column at least as wide as its widest value);
    names fold onto more lines where there is no room, and headings wrap.

    ``hidden``: None for the wide form (exact counts, long headings); else the compact
    form, without these number columns (indexes into the headings). ``fold``: the
    width names fold at.
    """
    compact = hidden is not None
    kept = [index for index in range(len(_SHORT_HEADINGS)) if index not in (hidden or ())]
    headings = [_HEADINGS[d] for d in dimensions] + [
        (_SHORT_HEADINGS if compact else (*_NUMBER_HEADINGS, "messages"))[index] for index in kept
    ]

    def numbers(found: UsageGroup) -> list[str]:
        every = [*_numbers(found, shown), shown(found.messages)]
        return [every[index] for index in kept]

    body = [
        [
            *(
                str(_key(d, v)) if v is not None else "-"
                for d, v in zip(dimensions, row.keys, strict=True)
            ),
            *numbers(row),
        ]
        for row in rows
    ]
    total = ["total", *[""] * (len(dimensions) - 1), *numbers(totals)]
    table = Table(show_footer=False, box=box.SIMPLE_HEAD if compact else box.HEAVY_HEAD)
    for index, heading in enumerate(headings):
        widest = max(len(line[index]) for line in [*body, total])
        key = dimensions[index] if index < len(dimensions) else None
        name = key is not None and key not in _TIMES
        table.add_column(
            heading,
            justify="left" if key is not None else "right",
            min_width=min(widest, fold) if name and fold else widest,
            max_width=fold if name else None,
            overflow="fold",
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
    table = _blocks_table(found, totals, zone, now, _exact)
    hidden: tuple[int, ...] = ()
    if _width(console, table).maximum > console.width:
        # As the other reports: compact counts, then fewer columns, never a cut figure.
        hidden = _left_out(
            console,
            lambda left_out: _blocks_table(found, totals, zone, now, compact_count, left_out),
            _BLOCK_HIDDEN_FIRST,
        )
        table = _blocks_table(found, totals, zone, now, compact_count, hidden)
    console.print(table)
    _print_left_out(console, hidden)
    _print_unpriced(console, totals)


def _blocks_table(
    found: list[Block],
    totals: UsageGroup,
    zone: ZoneInfo | None,
    now: datetime,
    shown: Callable[[int], str],
    hidden: tuple[int, ...] | None = None,
) -> Table:
    """The billing blocks, every start time and figure whole (each column as wide as its
    widest value); ``hidden`` as for :func:`_table` (None: the wide form)."""
    compact = hidden is not None
    kept = [index for index in range(len(_NUMBER_HEADINGS)) if index not in (hidden or ())]
    names = _SHORT_HEADINGS if compact else _NUMBER_HEADINGS
    headings = ["block start", "status", *(names[index] for index in kept)]
    headings += ["burn rate", "projected"]

    def numbers(usage: UsageGroup) -> list[str]:
        every = _numbers(usage, shown)
        return [every[index] for index in kept]

    body: list[tuple[list[str], str | None]] = []
    for block in found:
        rate = block.tokens_per_hour
        projected = block.projected(now)
        cells = [
            block.start.astimezone(zone).strftime("%Y-%m-%d %H:%M"),
            "ACTIVE" if block.active else "",
            *numbers(block.usage),
            f"{shown(round(rate))} tok/h" if rate is not None else "-",
            f"{shown(projected[0])} tok"
            + (f" ${projected[1]:,.2f}" if projected[1] is not None else "")
            if projected
            else "",
        ]
        body.append((cells, "bold green" if block.active else None))
    total = ["total", "", *numbers(totals), "", ""]
    table = Table(box=box.SIMPLE_HEAD if compact else box.HEAVY_HEAD)
    for index, heading in enumerate(headings):
        widest = max(len(line[index]) for line in [*(cells for cells, _ in body), total])
        justify: Literal["left", "right"] = "left" if index < 2 else "right"
        table.add_column(heading, justify=justify, min_width=widest, overflow="fold")
    for cells, style in body:
        table.add_row(*cells, style=style)
    table.add_section()
    table.add_row(*total, style="bold")
    return table
