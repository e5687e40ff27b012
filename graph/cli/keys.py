"""Key management: keygen, encrypt, rotate-key."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

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
    run,
)
from graph.errors import SessiongraphError

if TYPE_CHECKING:
    from rich.progress import Progress

    from graph.store import Store

__all__: list[str] = []


@app.command(rich_help_panel="Keys")
def keygen(
    out: Annotated[
        Path | None,
        typer.Option(
            "--out", help="Where to write it (default: key in the config dir).", dir_okay=False
        ),
    ] = None,
) -> None:
    """Write a new random 256-bit key (base64) to a file only you can read (mode 0600)."""
    from graph.keys import default_key_path, write_key_file

    path = (out or default_key_path()).expanduser()
    try:
        write_key_file(path)
    except SessiongraphError as exc:
        fail(str(exc))
    typer.echo(f"wrote a new key to {path}")
    typer.echo(
        f"use it with --key-file {path} or SESSIONGRAPH_KEY_FILE={path}; keep a copy "
        "somewhere safe: without it the database can not be read"
    )


async def _open_unlocked(path: Path) -> Store:
    """The store, connected but neither migrated nor unlocked: the commands check the
    keys themselves, before anything is written (migrations included)."""
    from graph.store import Store

    store = Store(path)
    await store.connect()
    return store


def _bar() -> Progress:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    return Progress(
        TextColumn("[bold]sealing"),
        BarColumn(),
        MofNCompleteColumn(),
        transient=True,
        disable=not typer.get_text_stream("stderr").isatty(),
    )


@app.command(rich_help_panel="Keys")
def encrypt(
    db: DbOption = None,
    key_file: KeyFileOption = None,
    passphrase_file: PassphraseFileOption = None,
    ask_passphrase: AskPassphraseOption = False,
) -> None:
    """Encrypt a plaintext database in place with a key (or passphrase).

    A copy of the plaintext file (mode 0600) is kept until it succeeds, then overwritten
    and removed, and the file vacuumed; if interrupted, run it again with the same key and
    it resumes (or finishes that clean-up).
    """
    from graph.store.rekey import encrypt_database

    path = existing_db(db)
    # Not the default key file: which key a database gets is said, not guessed.
    material = key_material(key_file, passphrase_file, ask_passphrase, sets_key=True)
    if material is None:
        fail("encrypt needs a key: --key-file, SESSIONGRAPH_KEY(_FILE) or a passphrase")
    assert material is not None

    async def go() -> None:
        store = await _open_unlocked(path)
        try:
            with _bar() as bar:
                task = bar.add_task("sealing", total=None)
                await encrypt_database(
                    store,
                    material,
                    started=lambda n: bar.update(task, total=n),
                    progress=lambda n: bar.advance(task, n),
                )
        finally:
            await store.close()

    run(go())
    typer.echo(f"{path} is encrypted")


@app.command("rotate-key", rich_help_panel="Keys")
def rotate_key_command(
    new_key_file: Annotated[
        Path, typer.Option("--new-key-file", help="The new key (see keygen).", dir_okay=False)
    ],
    db: DbOption = None,
    key_file: KeyFileOption = None,
    passphrase_file: PassphraseFileOption = None,
    ask_passphrase: AskPassphraseOption = False,
) -> None:
    """Seal every value with a new key and rebuild the index; the old key is retired.

    Safe to interrupt: run it again with the same keys and it resumes.
    """
    from graph.keys import read_key_file
    from graph.store.rekey import rotate_key

    path = existing_db(db)
    current = key_material(key_file, passphrase_file, ask_passphrase, db=path)
    if current is None:
        fail(
            "rotate-key needs the current key: --key-file, SESSIONGRAPH_KEY(_FILE) or a passphrase"
        )
    assert current is not None
    new_key = checked(lambda: read_key_file(new_key_file.expanduser()))

    unreadable: list[str] = []

    async def go() -> None:
        store = await _open_unlocked(path)
        try:
            with _bar() as bar:
                task = bar.add_task("sealing", total=None)
                await rotate_key(
                    store,
                    current,
                    new_key,
                    started=lambda n: bar.update(task, total=n),
                    progress=lambda n: bar.advance(task, n),
                    unreadable=unreadable.append,
                )
        finally:
            await store.close()

    run(go())
    typer.echo(f"{path} is sealed with the new key; the old one no longer opens it")
    if unreadable:
        typer.echo(
            f"sessiongraph: warning: {len(unreadable)} value(s) did not authenticate and were "
            f"left as they were (the first: {unreadable[0]}); `sessiongraph doctor` lists them",
            err=True,
        )
