"""The one report: every scenario's tables, then the headline figures, on a rich console;
and, with ``--json``, the same as one JSON document."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
from rich.console import Console
from rich.table import Table as RichTable

from bench.core import Cell, Outcome, Table

__all__ = ["console", "print_table", "summary", "write_json"]


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
    table = Table("Figures of this run", ["figure", "value"])
    for outcome in outcomes.values():
        table.rows += [[name, value] for name, value in outcome.figures.items()]
    return table


def write_json(path: Path, outcomes: dict[str, Any], context: dict[str, Any]) -> None:
    document = {
        **context,
        "scenarios": {
            name: {
                "figures": o.figures,
                "tables": [
                    {"title": t.title, "columns": t.columns, "rows": t.rows} for t in o.tables
                ],
            }
            for name, o in outcomes.items()
        },
    }
    path.write_bytes(orjson.dumps(document, option=orjson.OPT_INDENT_2))
