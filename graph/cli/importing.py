"""The work behind ``import`` and ``demo``: run an import (and a watch), print what it did.

Imported by those commands when they run (see :mod:`graph.cli.base`): it loads the
importers, the store and rich.
"""

from __future__ import annotations

import asyncio
import signal
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from functools import partial
from pathlib import Path

import orjson
import typer
from rich.console import Console
from rich.table import Table

from graph.cli.base import fail
from graph.cli.progress import ImportBar
from graph.errors import SessiongraphError, TranscriptError
from graph.importers.files import has_transcripts
from graph.importers.formats import FORMATS, default_locations
from graph.importers.history import is_history_file
from graph.importers.importer import import_paths
from graph.importers.kept import KeptReport, default_history, kept_report
from graph.importers.summary import ImportSummary
from graph.importers.watch import watch_paths
from graph.store import Store, snapshots
from graph.store.keyring import KeyMaterial

__all__ = ["default_targets", "import_into", "import_once", "report", "summary_table"]


def default_targets() -> list[Path]:
    """Every agent's transcript folder that exists, and Claude Code's prompt history if
    there is one, said on stderr; fails if there is none of them. A folder that holds no
    transcript (yet) is said to, and still imported (or watched): not an error."""
    found = default_locations()
    history = default_history()
    if not found and not history:
        where = ", ".join(f"{root} ({f.label})" for f in FORMATS for root in f.default_roots()[:1])
        fail(
            f"no transcripts found where the agents keep them ({where}): pass the folder of "
            "yours, or try `sessiongraph demo` for sample sessions"
        )
    for f, root in found:
        some = "" if has_transcripts(root, f.accepts) else "no "
        typer.echo(f"found {some}{f.label} transcripts in {root}", err=True)
    for path in history:
        typer.echo(f"found Claude Code's prompt history in {path}", err=True)
    return [root for _, root in found] + history


def summary_table(summary: ImportSummary, title: str = "Import") -> Table:
    """The end-of-import table: what was read, what was added, what was wrong."""
    table = Table(
        title=f"{title}: {summary.seconds:.1f} s", show_header=False, title_justify="left"
    )
    table.add_column(style="bold")
    table.add_column(justify="right")
    rows = [
        ("files", f"{summary.files:,}"),
        ("  read", f"{summary.files_read:,}"),
        ("  unchanged", f"{summary.files_unchanged:,}"),
        ("  re-read (truncated or replaced)", f"{summary.files_reset:,}"),
        ("lines read", f"{summary.lines_read:,} ({summary.bytes_read / 1e6:,.1f} MB)"),
        ("sessions added", f"{summary.sessions_added:,}"),
        ("conversations added", f"{summary.conversations_added:,}"),
        ("messages added", f"{summary.messages_added:,}"),
        ("events added", f"{summary.events_added:,}"),
        ("lines skipped", f"{summary.lines_skipped:,}"),
    ]
    rows += [(f"  {kind}", f"{count:,}") for kind, count in sorted(summary.issues.items())]
    for name, value in rows:
        table.add_row(name, value)
    if summary.problems:
        shown = len(summary.problems)
        total = sum(summary.issues.values())
        table.caption = f"first {shown} of {total} problem lines:\n" + "\n".join(
            str(problem) for problem in summary.problems
        )
        table.caption_justify = "left"
    return table


def report(
    summary: ImportSummary, *, as_json: bool, title: str = "Import", kept: KeptReport | None = None
) -> None:
    """The summary as a table (or one JSON line), and what the prompt history kept."""
    if as_json:
        typer.echo(orjson.dumps({**summary.to_dict(), **(kept.to_dict() if kept else {})}).decode())
        return
    Console(soft_wrap=True).print(summary_table(summary, title))
    for line in kept.lines() if kept else []:
        typer.echo(line)


@asynccontextmanager
async def _nothing_lost() -> AsyncIterator[None]:
    """A fault's error line says that what was stored is kept (a user's error needs no
    such word)."""
    try:
        yield
    except Exception as exc:
        if not isinstance(exc, SessiongraphError):
            exc.add_note("what was imported before it stays, and the next run carries on")
        raise


@_nothing_lost()
async def import_into(
    db: Path,
    paths: list[Path],
    *,
    watch: bool,
    as_json: bool,
    bar: ImportBar | None,
    key: KeyMaterial | None,
    redact: bool | None = None,
    defaults: bool = False,
) -> ImportSummary:
    """Import ``paths`` (and watch them); a fault's error line says that nothing stored
    is lost. ``defaults``: the paths are the agents' folders (see :func:`import_paths`)."""
    histories = [p for p in paths if is_history_file(p)]
    paths = [p for p in paths if p not in histories]
    # Held from the first open to the last write: `restore`, `encrypt` and `rotate-key`
    # refuse while an import (a watch) has the database open, and none starts while they run.
    with snapshots.hold(db):
        store = await Store.open(db, key=key)
        try:
            try:
                summary = (
                    await import_paths(store, paths, progress=bar, redact=redact, defaults=defaults)
                    if paths
                    else ImportSummary()
                )
            except TranscriptError as exc:
                # Watching a folder that has no transcript yet is fine: they will come.
                if not watch or not all(p.exists() for p in paths):
                    raise
                typer.echo(f"sessiongraph: {exc}; watching for new ones", err=True)
                summary = ImportSummary()
            if bar is not None:
                bar.progress.stop()
            kept = await kept_report(store, histories, redact=redact)
            if kept.history is not None:  # its skipped lines, reported as a transcript's are
                summary.add_problems(kept.history.problems)
            report(summary, as_json=as_json, kept=kept)
            if not watch or not paths:
                return summary
            if not as_json:
                typer.echo("watching for changes (Ctrl-C to stop)", err=True)
            with _stop_on_signals() as stop:
                total = await watch_paths(
                    store,
                    paths,
                    on_import=partial(_report_change, as_json=as_json),
                    stop=stop,
                    redact=redact,
                )
            typer.echo("stopped watching", err=True)
            summary.merge(total)
            return summary
        finally:
            await store.close()


@contextmanager
def _stop_on_signals() -> Iterator[asyncio.Event]:
    """An event that Ctrl-C (or SIGTERM) sets, to end a watch between two runs.

    Not the cancellation ``asyncio.run`` makes of Ctrl-C: delivered while watchfiles'
    task group was closing, anyio took it for its own and the watch went on, deaf to
    it. A second signal interrupts at once, for a watch that does not stop.
    """
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()

    def stop_or_interrupt() -> None:
        if stop.is_set():
            raise KeyboardInterrupt  # out of the event loop, as Ctrl-C does
        stop.set()

    signals = (signal.SIGINT, signal.SIGTERM)
    for each in signals:
        loop.add_signal_handler(each, stop_or_interrupt)
    try:
        yield stop
    finally:
        for each in signals:
            loop.remove_signal_handler(each)


def _report_change(summary: ImportSummary, *, as_json: bool) -> None:
    if as_json:
        typer.echo(orjson.dumps(summary.change_record()).decode())
        return
    typer.echo(summary.change_line())
    for problem in summary.problems:
        typer.echo(f"  {problem}", err=True)


async def import_once(db: Path, paths: list[Path], key: KeyMaterial | None) -> ImportSummary:
    """Import ``paths`` into the database at ``db`` (``demo``: no progress bar, no watch)."""
    with snapshots.hold(db):
        store = await Store.open(db, key=key)
        try:
            return await import_paths(store, paths)
        finally:
            await store.close()
