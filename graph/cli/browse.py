"""Finding a session from the terminal: ``sessions`` (a list) and ``show`` (a transcript)."""

from __future__ import annotations

import io
import sys
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import orjson
import typer

from graph.cli.base import (
    AskPassphraseOption,
    DbOption,
    KeyFileOption,
    PassphraseFileOption,
    SourceOption,
    app,
    checked,
    compact_count,
    existing_db,
    fail,
    key_material,
    run,
)
from graph.errors import UserInputError

if TYPE_CHECKING:
    from graph.export import SecretPass
    from graph.store import KeyMaterial, Store

__all__ = ["resolve_session_id", "short_id"]

_MATCHES = 10
_SHORT = 8  # id characters the list shows at least
_SESSIONS = """
query Sessions($first: Int!, $filter: SessionFilter) {
  sessions(first: $first, filter: $filter, orderBy: {field: STARTED_AT, direction: DESC}) {
    totalCount
    nodes { sessionId title project startedAt messageCount tokenUsage { total } }
  }
}
"""


async def resolve_session_id(store: Store, given: str) -> str:
    """The stored sessionId ``given`` names: itself, or the one session it begins.

    Raises:
        UserInputError: none, or several (which the message lists).
    """
    async with store.read() as reader:
        matches = await reader.session_ids_starting(given, _MATCHES + 1)
    if given in matches:
        return given
    if len(matches) == 1:
        return matches[0]
    if not matches:
        raise UserInputError(f"no session {given!r} (nor one whose id starts so) in {store.path}")
    listed = ", ".join(matches[:_MATCHES]) + (", ..." if len(matches) > _MATCHES else "")
    raise UserInputError(f"{given!r} begins several sessions' ids: {listed}; give more of it")


def _since(text: str) -> str:
    """``--since`` checked here, where the option can be named (the API's refusal names a
    GraphQL variable)."""
    try:
        datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        fail(f"--since takes a date or time, ISO 8601 (2026-03-01), got {text!r}")
    return text


@app.command("sessions", rich_help_panel="Reading")
def sessions_command(
    db: DbOption = None,
    project: Annotated[str | None, typer.Option(help="Only this project.")] = None,
    source: SourceOption = None,
    since: Annotated[
        str | None, typer.Option(help="Only sessions started since (2026-03-01, ISO 8601).")
    ] = None,
    limit: Annotated[int, typer.Option(help="How many (newest first).", min=1, max=500)] = 20,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")] = False,
    key_file: KeyFileOption = None,
    passphrase_file: PassphraseFileOption = None,
    ask_passphrase: AskPassphraseOption = False,
) -> None:
    """List sessions, newest first: when, project, title, messages, tokens, id."""
    from rich.console import Console
    from rich.table import Table

    path = existing_db(db)
    key = key_material(key_file, passphrase_file, ask_passphrase, db=path)
    filter_: dict[str, Any] = {}
    if project:
        filter_["project"] = project
    if source:
        filter_["source"] = source.name
    if since:
        filter_["startedAfter"] = _since(since)
    variables = {"first": limit, "filter": filter_ or None}
    found, shown = run(_sessions(path, key, variables, short=not as_json))
    if as_json:
        typer.echo(orjson.dumps(found["nodes"], option=orjson.OPT_INDENT_2).decode())
        return
    # Fits 80 columns with the title readable: a compact token count, a short project,
    # no borders; a wider terminal gives the project and title the rest.
    table = Table(
        title=f"{len(found['nodes'])} of {found['totalCount']} sessions",
        box=None,
        title_justify="left",
    )
    console = Console(highlight=False)
    table.add_column("id", no_wrap=True)
    table.add_column("started", no_wrap=True)
    table.add_column("msgs", justify="right", no_wrap=True)
    table.add_column("tokens", justify="right", no_wrap=True)
    table.add_column("project", max_width=14, overflow="ellipsis", no_wrap=True)
    # What the other columns leave (rich would rather drop columns than cut a long one).
    table.add_column(
        "title", max_width=max(16, console.width - 64), overflow="ellipsis", no_wrap=True
    )
    for s, short in zip(found["nodes"], shown, strict=True):
        table.add_row(
            short,
            (s["startedAt"] or "")[:16].replace("T", " "),
            f"{s['messageCount']:,}",
            compact_count(int(s["tokenUsage"]["total"])),
            s["project"] or "",
            s["title"] or "",
        )
    console.print(table)


async def _sessions(
    path: Path, key: KeyMaterial | None, variables: dict[str, Any], *, short: bool
) -> tuple[dict[str, Any], list[str]]:
    """The ``sessions`` field, and each session's id as the list shows it (``short``)."""
    from graph.cli.queries import query_store
    from graph.store import Store

    store = await Store.open(path, key=key)
    try:
        found = await query_store(store, _SESSIONS, variables, "sessions")
        ids = [node["sessionId"] for node in found["nodes"]]
        if not short or not ids:
            return found, ids
        async with store.read() as reader:
            neighbours = await reader.session_id_neighbours(ids)
    finally:
        await store.close()
    return found, [short_id(i, *around) for i, around in zip(ids, neighbours, strict=True)]


def short_id(session_id: str, before: str | None, after: str | None) -> str:
    """The fewest first characters of ``session_id`` (at least ``_SHORT``) that no other
    stored id begins with: what ``show`` takes.

    ``before`` and ``after`` are its neighbours in the order of all stored ids; no other
    id shares more of it. Codex ids are UUIDv7, whose first 8 digits are the same for
    sessions started within about a minute of each other.
    """
    shared = max((_common(session_id, other) for other in (before, after) if other), default=0)
    return session_id[: max(_SHORT, shared + 1)]


def _common(a: str, b: str) -> int:
    """How many first characters ``a`` and ``b`` share."""
    shared = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        shared += 1
    return shared


async def _show(path: Path, key: KeyMaterial | None, given: str, secrets: SecretPass) -> str:
    from graph.export import ExportFormat, export_session
    from graph.store import Store

    store = await Store.open(path, key=key)
    try:
        session_id = await resolve_session_id(store, given)
        out = io.BytesIO()
        await export_session(store, session_id, out, ExportFormat.MARKDOWN, secrets)
        return out.getvalue().decode()
    finally:
        await store.close()


@app.command(rich_help_panel="Reading")
def show(
    session_id: Annotated[str, typer.Argument(help="A sessionId, or its first characters.")],
    db: DbOption = None,
    reveal_secrets: Annotated[
        bool, typer.Option("--reveal-secrets", help="Show secrets (masked by default).")
    ] = False,
    key_file: KeyFileOption = None,
    passphrase_file: PassphraseFileOption = None,
    ask_passphrase: AskPassphraseOption = False,
) -> None:
    """Read one session as a markdown transcript (in a pager on a terminal)."""
    import click

    from graph.export import SecretPass
    from graph.secrets import default_scanner

    path = existing_db(db)
    key = key_material(key_file, passphrase_file, ask_passphrase, db=path)
    secrets = SecretPass(checked(default_scanner), mask=not reveal_secrets)
    text = run(_show(path, key, session_id, secrets))
    if sys.stdout.isatty():
        click.echo_via_pager(text)
    else:
        typer.echo(text, nl=False)
