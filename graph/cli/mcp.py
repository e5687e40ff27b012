"""``sessiongraph mcp``: serve the store to coding agents over MCP; ``mcp install`` registers it."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from graph.cli.base import (
    DbOption,
    KeyFileOption,
    PassphraseFileOption,
    checked,
    existing_db,
    resolve_db_path,
    run,
)
from graph.cli.base import app as root
from graph.cli.hooks import DryRunOption, ProjectOption, Scope, ScopeOption

if TYPE_CHECKING:
    from graph.store import Store

__all__: list[str] = []

mcp_app = typer.Typer(
    help="Serve the sessions to coding agents over the Model Context Protocol (stdio).",
    invoke_without_command=True,
)
root.add_typer(mcp_app, name="mcp", rich_help_panel="Serving")


@mcp_app.callback()
def serve(
    ctx: typer.Context,
    db: DbOption = None,
    key_file: KeyFileOption = None,
    passphrase_file: PassphraseFileOption = None,
) -> None:
    """Run the MCP server on stdin/stdout (read-only): tools search, list_sessions, get_session.

    An MCP client (Claude Code, Codex, ...) starts it; `sessiongraph mcp install`
    registers it with Claude Code. The key of an encrypted database comes from the
    flags, the environment, or the default key file (`sessiongraph keygen`).
    """
    if ctx.invoked_subcommand is not None:
        return
    path = existing_db(db)

    async def go() -> None:
        from graph.mcp.server import build_server
        from graph.unattended import open_unattended

        store: Store = await open_unattended(
            path, key_file=key_file, passphrase_file=passphrase_file
        )
        try:
            await build_server(store).run_stdio_async()
        finally:
            await store.close()

    run(go())


@mcp_app.command("install")
def install(
    scope: ScopeOption = Scope.user,
    project: ProjectOption = Path(),
    dry_run: DryRunOption = False,
    use_cli: Annotated[
        bool,
        typer.Option(
            "--claude-cli/--no-claude-cli",
            help="Register through `claude mcp add` when it is on the PATH, "
            "else edit the file it would.",
        ),
    ] = True,
    db: DbOption = None,
    key_file: KeyFileOption = None,
) -> None:
    """Register `sessiongraph mcp` with Claude Code (user: every project; project: .mcp.json)."""
    from graph.mcp.install import register, server_entry

    entry = server_entry(
        resolve_db_path(db).absolute(), key_file.expanduser().absolute() if key_file else None
    )
    done = checked(
        lambda: register(
            entry, scope.value, project.expanduser().absolute(), use_cli=use_cli, dry_run=dry_run
        )
    )
    typer.echo(done.done)
