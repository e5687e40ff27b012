"""Operations: ``backup`` and ``restore``."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer

from graph.cli.base import (
    AskPassphraseOption,
    DbOption,
    KeyFileOption,
    PassphraseFileOption,
    app,
    checked,
    existing_db,
    fail,
    key_material,
    resolve_db_path,
    run,
)

__all__ = ["backup_age"]


def _size(n: int) -> str:
    return f"{n / 1e6:,.1f} MB"


def backup_age(db: Path) -> str | None:
    """One line on the backups ``doctor`` knows of (``None``: there are none)."""
    from graph.store import snapshots

    found = snapshots.backups_of(db)
    if not found:
        return None
    newest = found[-1]
    age = datetime.now(UTC).timestamp() - newest.stat().st_mtime
    hours = age / 3600
    when = f"{hours:.1f} h ago" if hours < 48 else f"{hours / 24:.0f} days ago"
    return f"backups: {len(found)} in {newest.parent}; the newest, {newest.name}, {when}"


@app.command(rich_help_panel="Maintenance")
def backup(
    db: DbOption = None,
    to: Annotated[
        Path | None,
        typer.Option(
            "--to",
            help="A file, or a folder for a file named by time (default: backups/ "
            "beside the database).",
            show_default=False,
        ),
    ] = None,
    keep: Annotated[
        int | None, typer.Option("--keep", min=1, help="Keep only the N newest backups there.")
    ] = None,
) -> None:
    """Copy the database, consistent as of one commit, while `serve` or `import --watch` run.

    The copy is checked (integrity, row counts) before it gets its name, mode 0600; an
    encrypted database's copy is as encrypted and opens only with the same key.
    """
    from graph.store import snapshots

    path = existing_db(db)
    directory = snapshots.default_backup_dir(path)
    if to is not None and (to.is_dir() or to.suffix == ""):
        directory, to = to, None
    target = to or directory / snapshots.backup_name(path)
    done = checked(lambda: snapshots.backup(path, target))
    counts = ", ".join(f"{n:,} {table}" for table, n in done.counts.items())
    typer.echo(f"backed up {path} to {done.path} ({_size(done.size)}: {counts})")
    if keep is not None:
        for gone in snapshots.prune(path, keep, done.path.parent):
            typer.echo(f"removed the older backup {gone.name}")


@app.command(rich_help_panel="Maintenance")
def restore(
    backup_file: Annotated[
        Path, typer.Argument(metavar="BACKUP", help="A backup file.", dir_okay=False)
    ],
    db: DbOption = None,
    key_file: KeyFileOption = None,
    passphrase_file: PassphraseFileOption = None,
    ask_passphrase: AskPassphraseOption = False,
) -> None:
    """Put a backup in place of the database: checked first, refused while it is in use.

    The current database is set aside until the restored one has opened (and is migrated
    if it is older); if anything fails, it is put back.
    """
    from graph.store import snapshots

    if not backup_file.is_file():
        fail(f"no backup at {backup_file}")
    key = key_material(key_file, passphrase_file, ask_passphrase, db=backup_file)
    path = resolve_db_path(db)
    done = run(snapshots.restore(backup_file, path, key))
    counts = ", ".join(f"{n:,} {table}" for table, n in done.counts.items())
    typer.echo(f"restored {backup_file} to {path} ({counts})")
