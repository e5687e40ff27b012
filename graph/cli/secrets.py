"""``sessiongraph secrets``: what credentials the stored transcripts hold, and removing them."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import orjson
import typer

from graph.cli.base import (
    AskPassphraseOption,
    DbOption,
    KeyFileOption,
    PassphraseFileOption,
    app,
    existing_db,
    fail,
    key_material,
    run,
)
from graph.cli.browse import resolve_session_id
from graph.errors import UserInputError

if TYPE_CHECKING:
    from graph.store import ReportRow, Store
    from graph.store.keyring import KeyMaterial
    from graph.store.redact import Redaction

__all__: list[str] = []

secrets_app = typer.Typer(
    help="Credentials found in stored transcripts: list them (fingerprints, never values), "
    "or redact them for good.",
    no_args_is_help=False,
)
app.add_typer(secrets_app, name="secrets", rich_help_panel="Keys")

SessionOption = Annotated[
    str | None, typer.Option("--session", help="Only this session (its sessionId).")
]


async def _session_pk(store: Store, given: str) -> int:
    session_id = await resolve_session_id(store, given)
    async with store.read() as reader:
        (row,) = await reader.sessions_by_session_id([session_id])
    if row is None:
        raise UserInputError(f"no session {session_id!r} in {store.path}")
    return row.id


async def _report(path: Path, key: KeyMaterial | None, session: str | None) -> list[ReportRow]:
    from graph.store import Store

    store = await Store.open(path, key=key)
    try:
        pk = None if session is None else await _session_pk(store, session)
        async with store.read() as reader:
            return await reader.secret_report(pk)
    finally:
        await store.close()


@secrets_app.callback(invoke_without_command=True)
def secrets(
    ctx: typer.Context,
    db: DbOption = None,
    session: SessionOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")] = False,
    key_file: KeyFileOption = None,
    passphrase_file: PassphraseFileOption = None,
    ask_passphrase: AskPassphraseOption = False,
) -> None:
    """List the secrets found: kind, fingerprint, how often, where, first seen."""
    if ctx.invoked_subcommand is not None:
        return
    from rich.console import Console
    from rich.table import Table

    path = existing_db(db)
    key = key_material(key_file, passphrase_file, ask_passphrase, db=path)
    rows = run(_report(path, key, session))
    if as_json:
        typer.echo(
            orjson.dumps(
                [
                    {
                        "kind": r.kind,
                        "fingerprint": r.fingerprint,
                        "count": r.count,
                        "sessions": list(r.sessions),
                        "fields": list(r.fields),
                        "firstSeen": r.first_seen,
                    }
                    for r in rows
                ],
                option=orjson.OPT_INDENT_2,
            ).decode()
        )
        return
    console = Console(highlight=False)
    if not rows:
        console.print("no secrets found")
        return
    sessions_with = len({s for r in rows for s in r.sessions})
    table = Table(title=f"{len(rows)} secret value(s) in {sessions_with} session(s)")
    for column in ("kind", "fingerprint", "count", "where", "first seen", "sessions"):
        table.add_column(
            column, justify="right" if column == "count" else "left", no_wrap=column != "where"
        )
    for r in rows:
        sessions = ", ".join(s[:8] for s in r.sessions[:3]) + ("…" if len(r.sessions) > 3 else "")
        table.add_row(
            r.kind,
            r.fingerprint,
            str(r.count),
            ", ".join(r.fields),
            (r.first_seen or "")[:16].replace("T", " "),
            sessions,
        )
    console.print(table)
    console.print(
        "Values are shown as [REDACTED:kind:fingerprint]; `sessiongraph secrets redact --all` "
        "removes them from the database for good.",
        style="dim",
    )


async def _redact(
    path: Path, key: KeyMaterial | None, session: str | None, dry_run: bool
) -> Redaction:
    from graph.importers.titles import derived_title
    from graph.secrets import default_scanner
    from graph.store import Store
    from graph.store.redact import redact

    scanner = default_scanner()
    store = await Store.open(path, key=key)
    try:
        pk = None if session is None else await _session_pk(store, session)
        return await redact(
            store,
            scanner.mask_json,
            scanner.could_contain_json,
            session_pk=pk,
            dry_run=dry_run,
            retitle=derived_title,
        )
    finally:
        await store.close()


@secrets_app.command("redact")
def redact_command(
    db: DbOption = None,
    session: SessionOption = None,
    all_sessions: Annotated[bool, typer.Option("--all", help="Every session.")] = False,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Count, change nothing.")] = False,
    key_file: KeyFileOption = None,
    passphrase_file: PassphraseFileOption = None,
    ask_passphrase: AskPassphraseOption = False,
) -> None:
    """Replace every secret in the stored records with [REDACTED:kind:fingerprint], then
    vacuum, so the values are gone from the database, its WAL and its free pages.
    The original transcript files are not touched."""
    if (session is None) == (not all_sessions):
        fail("say which: --session ID, or --all")
    path = existing_db(db)
    key = key_material(key_file, passphrase_file, ask_passphrase, db=path)
    done = run(_redact(path, key, session, dry_run))
    what = f"{done.messages:,} message(s), {done.events:,} event(s), {done.sessions:,} session(s)"
    if dry_run:
        typer.echo(f"would redact {what}")
        return
    typer.echo(f"redacted {what}" if done.rows else "nothing to redact")
    if not done.vacuumed:
        typer.echo(
            "the database could not be vacuumed (another process has it open): freed "
            "pages may still hold old values; stop it and run `sessiongraph secrets "
            "redact` again",
            err=True,
        )
    if done.wal_bytes:
        typer.echo(
            f"the WAL still holds {done.wal_bytes:,} bytes: another process (a running "
            "`serve` or `import --watch`?) has the database open; stop it and run "
            "`sessiongraph secrets redact` again to empty it",
            err=True,
        )
    for holder in done.holders:
        typer.echo(f"{holder} is a backup that may still hold the original values", err=True)
    if done.rows and done.vacuumed and not done.wal_bytes:
        typer.echo("the database, its WAL and its free pages hold none of the old values")
