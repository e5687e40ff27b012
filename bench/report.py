"""The one report: what scenarios return (tables, headline figures), printed on a rich
console, and with ``--json`` written as one JSON document."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
from rich.console import Console
from rich.table import Table as RichTable

Cell = str | int | float | None


@dataclass(slots=True)
class Table:
    """Rows of figures under a title; the report prints it, ``--json`` writes it."""

    title: str
    columns: list[str]
    rows: list[list[Cell]] = field(default_factory=list)
    caption: str = ""


@dataclass(slots=True)
class Outcome:
    """What a scenario returns: its tables, and its headline figures by dotted name
    (``import.10k.mb_per_s``), which the summary, ``--json`` and the smoke test read."""

    tables: list[Table] = field(default_factory=list)
    figures: dict[str, float] = field(default_factory=dict)

    def add(self, prefix: str, **figures: float) -> None:
        """Add ``figures`` under ``prefix``: ``add("query.nested", x_raw=2.1)``."""
        self.figures |= {f"{prefix}.{name}": float(value) for name, value in figures.items()}


def console() -> Console:
    """A console that does not squeeze the tables to 80 columns when piped."""
    out = Console()
    return out if out.is_terminal else Console(width=160)


def _cell(value: Cell) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:,.2f}" if abs(value) < 100 else f"{value:,.0f}"
    if isinstance(value, int):
        return f"{value:,}"
    return "[red]NO[/red]" if value.startswith("NO") else value


def print_table(out: Console, table: Table) -> None:
    rich = RichTable(title=table.title, caption=table.caption or None)
    for index, name in enumerate(table.columns):
        rich.add_column(name, justify="left" if index == 0 else "right")
    for row in table.rows:
        rich.add_row(*map(_cell, row))
    out.print(rich)


def summary(outcomes: dict[str, Outcome]) -> Table:
    """Every headline figure of the run, by name."""
    rows: list[list[Cell]] = [[k, v] for o in outcomes.values() for k, v in o.figures.items()]
    return Table("Figures of this run", ["figure", "value"], rows)


def write_json(path: Path, outcomes: dict[str, Outcome], context: dict[str, Any]) -> None:
    scenarios = {
        name: {
            "figures": o.figures,
            "tables": [dict(title=t.title, columns=t.columns, rows=t.rows) for t in o.tables],
        }
        for name, o in outcomes.items()
    }
    path.write_bytes(orjson.dumps({**context, "scenarios": scenarios}, option=orjson.OPT_INDENT_2))
