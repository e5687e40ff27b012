"""The Typer application, shared options and error handling for every command."""

from __future__ import annotations

import asyncio
import getpass
import sys
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer

from graph.config import DB_ENV, resolve_db_path
from graph.errors import SessiongraphError
from graph.keys import resolve_key
from graph.store.keyring import KeyMaterial

__all__ = [
    "AskPassphraseOption",
    "DbOption",
    "KeyFileOption",
    "PassphraseFileOption",
    "app",
    "checked",
    "existing_db",
    "fail",
    "key_material",
    "main",
    "resolve_db_path",
    "run",
]

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


KeyFileOption = Annotated[
    Path | None,
    typer.Option(
        "--key-file",
        help="Key of an encrypted database, mode 0600 (default: $SESSIONGRAPH_KEY, "
        "else $SESSIONGRAPH_KEY_FILE).",
        show_default=False,
        dir_okay=False,
    ),
]
PassphraseFileOption = Annotated[
    Path | None,
    typer.Option(
        "--passphrase-file",
        help="Passphrase of an encrypted database, mode 0600.",
        show_default=False,
        dir_okay=False,
    ),
]
AskPassphraseOption = Annotated[
    bool,
    typer.Option("--ask-passphrase", help="Prompt for the database's passphrase."),
]


def key_material(
    key_file: Path | None, passphrase_file: Path | None, ask: bool = False
) -> KeyMaterial | None:
    """What to open the database with, from the flags and the environment."""
    passphrase = None
    if ask:
        passphrase = getpass.getpass("sessiongraph passphrase: ")
        if len(passphrase) < 8:
            fail("the passphrase must be at least 8 characters")
    try:
        return resolve_key(key_file, passphrase_file, passphrase)
    except SessiongraphError as exc:
        fail(str(exc))
        raise AssertionError("unreachable") from exc


def checked(call: Callable[[], T]) -> T:
    """Run a synchronous step of a command; expected errors become one line and exit 1."""
    try:
        return call()
    except SessiongraphError as exc:
        fail(str(exc))
        raise AssertionError("unreachable") from exc


def existing_db(db: Path | None) -> Path:
    """The database path of a command that reads one: it must exist."""
    path = resolve_db_path(db)
    if not path.exists():
        fail(f"no database at {path} (import something first, or pass --db)")
    return path


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
    except SessiongraphError as exc:  # a step that forgot `run`/`checked`: still one line
        typer.echo(f"sessiongraph: error: {exc}", err=True)
        sys.exit(1)
    except KeyboardInterrupt:
        typer.echo("interrupted", err=True)
        sys.exit(130)
