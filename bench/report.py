"""The one report: each scenario's table and headline figures, printed on a rich console,
and with ``--json`` written as one JSON document."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
from rich.console import Console
from rich.table import Table

Cell = str | int | float | None


@dataclass(slots=True)
class Outcome:
    """What a scenario returns: a table (title, columns, rows of cells, caption) and its
    headline figures by dotted name (``import.10k.mb_per_s``), which the summary, ``--json``
    and the smoke test read."""

    title: str
    columns: list[str]
    caption: str = ""
    rows: list[list[Cell]] = field(default_factory=list)
    figures: dict[str, float] = field(default_factory=dict)

    def add(self, prefix: str, **figures: float) -> None:
        """Add ``figures`` under ``prefix``: ``add("query.nested", x_raw=2.1)``."""
        self.figures |= {f"{prefix}.{name}": float(value) for name, value in figures.items()}


def _cell(value: Cell) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:,.2f}" if abs(value) < 100 else f"{value:,.0f}"
    if isinstance(value, int):
        return f"{value:,}"
    return f"[red]{value}[/red]" if value.startswith("NO") else value


def print_table(out: Console, outcome: Outcome) -> None:
    table = Table(title=outcome.title, caption=outcome.caption or None)
    for index, name in enumerate(outcome.columns):
        table.add_column(name, justify="left" if index == 0 else "right")
    for row in outcome.rows:
        table.add_row(*map(_cell, row))
    out.print(table)


def summary(outcomes: dict[str, Outcome]) -> Outcome:
    """Every headline figure of the run, by name."""
    rows: list[list[Cell]] = [[k, v] for o in outcomes.values() for k, v in o.figures.items()]
    return Outcome("Figures of this run", ["figure", "value"], rows=rows)


def write_json(path: Path, outcomes: dict[str, Outcome], context: dict[str, Any]) -> None:
    path.write_bytes(orjson.dumps({**context, "scenarios": outcomes}, option=orjson.OPT_INDENT_2))
