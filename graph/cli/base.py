"""The Typer application, shared options and error handling for every command.

Every command module is imported for every command (typer builds them all to parse a
command line, ``--help`` and ``hook`` included), so the modules of :mod:`graph.cli`
import at their top only what their signatures need; what a command works with (the
store, the GraphQL schema, rich tables, the importers) it imports when it runs.
``tests/test_cli_imports.py`` holds them to it.
"""

from __future__ import annotations

import getpass
import itertools
import sys
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer
from typer.core import TyperCommand, TyperOption

from graph.cli.failures import debugging, describe, usage
from graph.config import DB_ENV, resolve_db_path
from graph.errors import SessiongraphError
from graph.sources import Source

if TYPE_CHECKING:
    from graph.store.keyring import KeyMaterial

__all__ = [
    "AskPassphraseOption",
    "DbOption",
    "IdArgumentCommand",
    "KeyFileOption",
    "PassphraseFileOption",
    "Source",
    "SourceOption",
    "app",
    "checked",
    "compact_count",
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
    # Help paragraphs are wrapped to the terminal, not where the docstrings break them.
    rich_markup_mode="markdown",
)


def _version(value: bool) -> None:
    if value:
        from graph import __version__

        typer.echo(f"sessiongraph {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Print the version."),
    ] = False,
) -> None:
    """Keep the history of your AI coding-assistant sessions in one local SQLite file and
    query it over GraphQL."""


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
        "else $SESSIONGRAPH_KEY_FILE, else the key file of `sessiongraph keygen` for an "
        "encrypted or new database).",
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


SourceOption = Annotated[Source | None, typer.Option(help="Only sessions of this agent.")]


class IdArgumentCommand(TyperCommand):
    """A command whose argument is an id, which may begin with ``-`` (``-rf --help``).

    A word that starts with ``-`` but is none of the command's options is the id, not
    an unknown option. An id that is also an option's name (``--help``) still needs
    ``--`` before it, as usual: ``export --db x.db -- --help``.
    """

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        return super().parse_args(ctx, self._ids_last(ctx, args))

    def _ids_last(self, ctx: Any, args: list[str]) -> list[str]:
        """``args`` with the words that can only be ids moved after a ``--``."""
        takes_value = {
            name: not (param.is_flag or param.count)
            for param in self.get_params(ctx)
            if isinstance(param, TyperOption)
            for name in (*param.opts, *param.secondary_opts)
        }
        kept: list[str] = []
        ids: list[str] = []
        words = iter(args)
        for word in words:
            if word == "--":
                return [*kept, "--", *ids, *words]
            name = word.partition("=")[0] if word.startswith("--") else word[:2]
            if not word.startswith("-") or word == "-" or name in takes_value:
                kept.append(word)
                if takes_value.get(word):
                    kept.extend(itertools.islice(words, 1))  # its value, whatever it is
            else:
                ids.append(word)
        return [*kept, "--", *ids] if ids else kept


def key_material(
    key_file: Path | None,
    passphrase_file: Path | None,
    ask: bool = False,
    *,
    db: Path | None = None,
    sets_key: bool = False,
) -> KeyMaterial | None:
    """What to open the database ``db`` with: the flags, the environment, else the
    default key file (see :func:`graph.keys.resolve_key`).

    A passphrase typed for a new key (``sets_key``: ``encrypt``; or ``db`` is a new
    database, which it will encrypt) is asked twice: a typo would lock the user out.
    """
    from graph.keys import resolve_key  # the crypto and the store behind it

    passphrase = None
    if ask:
        if not sets_key and db is not None:
            from graph.store.keyring import file_state

            sets_key = file_state(db) == "new"
        passphrase = getpass.getpass(
            "sessiongraph new passphrase: " if sets_key else "sessiongraph passphrase: "
        )
        if len(passphrase) < 8:
            fail("the passphrase must be at least 8 characters")
        if sets_key and getpass.getpass("sessiongraph new passphrase, again: ") != passphrase:
            fail("the passphrases do not match: nothing was changed")
    try:
        return resolve_key(key_file, passphrase_file, passphrase, db=db)
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


def compact_count(count: int) -> str:
    """A count in at most six characters for narrow tables: 950, 12.3k, 17.0M (``--json``
    output keeps counts exact)."""
    for limit, suffix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if count >= limit:
            return f"{count / limit:.1f}{suffix}"
    return str(count)


def fail(message: str, code: int = 1) -> None:
    """Print one line to stderr and exit."""
    typer.echo(f"sessiongraph: error: {message}", err=True)
    raise typer.Exit(code)


def run(coro: Coroutine[Any, Any, T]) -> T:
    """Run a command's coroutine; any error it ends with becomes one line and exit 1.

    See :mod:`graph.cli.failures`: expected errors say what is wrong, a full disk or a
    damaged database say so and what to do, a bug says where its trace was written.
    """
    import asyncio  # with ssl and the rest: not for the commands that need no loop

    try:
        return asyncio.run(coro)
    except (typer.Exit, typer.Abort, typer.BadParameter):
        raise
    except Exception as exc:
        if debugging() and not isinstance(exc, SessiongraphError):
            raise
        fail(describe(exc))
        raise AssertionError("unreachable") from exc


def main() -> None:
    """Console-script entry point: whatever a command ends with is one line on stderr.

    A command line that does not parse is one line too, and exit 2 (typer's boxes are
    for help, which stays as it is).
    """
    try:
        # Errors come here rather than to typer's printing.
        code = app(prog_name=_program(), standalone_mode=False)
    except typer.TyperException as exc:  # click's: a usage error, a file that won't open
        if type(exc).__name__ == "NoArgsIsHelpError":  # typer printed the help already
            sys.exit(exc.exit_code)
        ctx = getattr(exc, "ctx", None)  # a usage error's: the command it is about
        command = ctx.command_path if ctx is not None else _program()
        typer.echo(f"sessiongraph: error: {usage(exc.format_message(), command)}", err=True)
        sys.exit(exc.exit_code)
    except typer.Abort:
        typer.echo("sessiongraph: error: aborted", err=True)
        sys.exit(1)
    except KeyboardInterrupt:
        typer.echo("interrupted", err=True)
        sys.exit(130)
    except Exception as exc:  # a step outside `run`/`checked`: still one line
        if debugging() and not isinstance(exc, SessiongraphError):
            raise
        typer.echo(f"sessiongraph: error: {describe(exc)}", err=True)
        sys.exit(1)
    # Without standalone mode, an exit code comes back instead of being exited with.
    if isinstance(code, int) and code:
        sys.exit(code)


def _program() -> str:
    """The command as the user typed it, for help and errors: ``python -m graph``, or the
    script's name (click guesses from ``__main__``, which is another module's under a
    test runner)."""
    spec = getattr(sys.modules.get("__main__"), "__spec__", None)
    if spec is not None and spec.name == "graph.__main__":
        return "python -m graph"
    return Path(sys.argv[0]).name or "sessiongraph"
