"""Core commands: migrate, stats, export-schema."""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING, Annotated, Any

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
    resolve_db_path,
    run,
)

if TYPE_CHECKING:
    from rich.table import Table

__all__: list[str] = []


class MigrateAction(StrEnum):
    status = "status"
    up = "up"
    down = "down"


@app.command(rich_help_panel="Maintenance")
def migrate(
    action: Annotated[MigrateAction, typer.Argument(help="status, up, or down.")] = (
        MigrateAction.status
    ),
    steps: Annotated[
        int | None, typer.Argument(help="For down: how many migrations to revert.")
    ] = None,
    db: DbOption = None,
) -> None:
    """Show or change the database schema version.

    `status` lists every migration; `up` applies the pending ones (copying a non-empty
    database aside first); `down N` reverts the N most recent ones (after a copy too).
    """
    from rich.console import Console
    from rich.table import Table

    from graph.store import Store

    path = resolve_db_path(db)
    if action is MigrateAction.down and steps is None:
        fail("`migrate down` needs the number of migrations to revert, e.g. `migrate down 1`")
    if action is not MigrateAction.down and steps is not None:
        fail(f"`migrate {action.value}` takes no number")

    async def go() -> None:
        store = Store(path)
        await store.connect()
        try:
            migrator = store.migrator()
            if action is MigrateAction.status:
                table = Table("version", "name", "state", "applied at")
                for state in await migrator.status():
                    table.add_row(
                        f"{state.version:04d}", state.name, state.state, state.applied_at or ""
                    )
                Console().print(table)
            elif action is MigrateAction.up:
                done = await store.migrate()
                for migration in done:
                    typer.echo(f"applied {migration.version:04d}_{migration.name}")
                if not done:
                    typer.echo(f"up to date (version {await migrator.current_version()})")
            else:
                assert steps is not None
                for migration in await store.revert(steps):
                    typer.echo(f"reverted {migration.version:04d}_{migration.name}")
        finally:
            await store.close()

    run(go())


@app.command(rich_help_panel="Reading")
def stats(
    db: DbOption = None,
    key_file: KeyFileOption = None,
    passphrase_file: PassphraseFileOption = None,
    ask_passphrase: AskPassphraseOption = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")] = False,
) -> None:
    """Counts, token totals, database size, schema version and encryption state."""
    from rich.console import Console

    from graph.retention import retention_risk
    from graph.store import Store

    path = existing_db(db)
    key = key_material(key_file, passphrase_file, ask_passphrase, db=path)

    async def go() -> dict[str, object]:
        store = await Store.open(path, key=key)
        try:
            async with store.read() as reader:
                row = await reader.stats()
                sources = await reader.sessions_by_source()
            encrypted = store.codec.encrypted
            risk = await retention_risk(store)
        finally:
            await store.close()
        return {
            "database": str(path),
            "sessions": row.sessions,
            "conversations": row.conversations,
            "messages": row.messages,
            "events": row.events,
            "sources": {
                c.source: {"sessions": c.sessions, "messages": c.messages} for c in sources
            },
            "tokenUsage": {
                "input": row.tokens.input,
                "output": row.tokens.output,
                "cacheRead": row.tokens.cache_read,
                "cacheCreation": row.tokens.cache_creation,
            },
            "dbSizeBytes": row.db_size_bytes,
            "schemaVersion": row.schema_version,
            "sqliteVersion": row.sqlite_version,
            "encrypted": encrypted,
            "retention": risk.to_dict(),
        }

    result = run(go())
    if as_json:
        typer.echo(orjson.dumps(result, option=orjson.OPT_INDENT_2).decode())
        return
    Console(highlight=False).print(_stats_table(result))


def _stats_table(result: dict[str, Any]) -> Table:
    """The terminal's view of ``stats --json``: words, sizes in MB, yes/no."""
    from rich.table import Table

    from graph.retention import risk_line

    tokens = result["tokenUsage"]
    table = Table(show_header=False, box=None, title=result["database"], title_justify="left")
    table.add_column(style="bold")
    table.add_column(justify="right")
    rows = [
        ("sessions", f"{result['sessions']:,}"),
        *(
            (f"  {source}", f"{counts['sessions']:,} sessions, {counts['messages']:,} messages")
            for source, counts in result["sources"].items()
        ),
        ("conversations", f"{result['conversations']:,}"),
        ("messages", f"{result['messages']:,}"),
        ("events", f"{result['events']:,}"),
        ("tokens", f"{sum(tokens.values()):,}"),
        ("  input", f"{tokens['input']:,}"),
        ("  output", f"{tokens['output']:,}"),
        ("  cache read", f"{tokens['cacheRead']:,}"),
        ("  cache creation", f"{tokens['cacheCreation']:,}"),
        ("size", f"{result['dbSizeBytes'] / 1e6:,.1f} MB"),
        ("schema version", str(result["schemaVersion"])),
        ("SQLite", str(result["sqliteVersion"])),
        ("encrypted", "yes" if result["encrypted"] else "no"),
        ("retention", risk_line(result["retention"])),
    ]
    for row in rows:
        table.add_row(*row)
    return table


@app.command("export-schema", rich_help_panel="Maintenance")
def export_schema() -> None:
    """Print the GraphQL schema (SDL); schema.graphql in the repository is this output."""
    from graph.schema import sdl

    typer.echo(sdl(), nl=False)
