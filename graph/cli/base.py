"""The Typer application, shared options and error handling for every command."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Coroutine
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer

from graph.config import DB_ENV, resolve_db_path
from graph.errors import SessiongraphError

__all__ = ["DbOption", "app", "fail", "main", "resolve_db_path", "run"]

T = TypeVar("T")

app = typer.Typer(
    name="sessiongraph",
    help="Keep the history of your AI coding-assistant sessions in one local SQLite file "
    "and query it over GraphQL.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

DbOption = Annotated[
    Path | None,
    typer.Option(
        "--db",
        help=f"Database file (default: ${DB_ENV}, else sessiongraph.db in the platform data dir).",
        show_default=False,
        dir_okay=False,
    ),
]


def fail(message: str, code: int = 1) -> None:
    """Print one line to stderr and exit."""
    typer.echo(f"sessiongraph: error: {message}", err=True)
    raise typer.Exit(code)


def run(coro: Coroutine[Any, Any, T]) -> T:
    """Run a command's coroutine; expected errors become one line and exit 1."""
    try:
        return asyncio.run(coro)
    except SessiongraphError as exc:
        fail(str(exc))
        raise AssertionError("unreachable") from exc


def main() -> None:
    """Console-script entry point."""
    try:
        app()
    except KeyboardInterrupt:
        typer.echo("interrupted", err=True)
        sys.exit(130)
