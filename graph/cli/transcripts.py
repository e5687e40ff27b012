"""Commands that move transcripts in and out: import, export, demo."""

from __future__ import annotations

import contextlib
import os
import sys
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, BinaryIO

import orjson
import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)
from rich.table import Table

from graph.cli.base import (
    AskPassphraseOption,
    DbOption,
    KeyFileOption,
    PassphraseFileOption,
    app,
    existing_db,
    key_material,
    resolve_db_path,
    run,
)
from graph.errors import TranscriptError
from graph.export import ExportFormat, export_session
from graph.importers import ImportSummary, import_paths
from graph.importers.history import is_history_file
from graph.importers.kept import KeptReport, default_import_paths, kept_report
from graph.importers.watch import watch_paths
from graph.store import Store
from graph.store.keyring import KeyMaterial

if TYPE_CHECKING:
    from collections.abc import Iterator

__all__ = ["DEFAULT_PROJECTS", "summary_table"]

DEFAULT_PROJECTS = Path("~/.claude/projects")


class _Bar:
    """A rich progress bar (files, lines, MB) on stderr, for :func:`import_paths`."""

    def __init__(self, console: Console) -> None:
        self.files = self.total_files = self.lines = 0
        self.progress = Progress(
            TextColumn("importing"),
            BarColumn(),
            TextColumn("{task.fields[files]}/{task.fields[total_files]} files"),
            TextColumn("{task.fields[lines]:,} lines"),
            DownloadColumn(),
            TransferSpeedColumn(),
            TimeRemainingColumn(),
            console=console,
            transient=True,
        )
        self.task: TaskID | None = None

    def start(self, files: int, nbytes: int) -> None:
        self.total_files = files
        self.task = self.progress.add_task(
            "import", total=nbytes, files=0, total_files=files, lines=0
        )

    def advance(self, *, files: int = 0, lines: int = 0, nbytes: int = 0) -> None:
        if self.task is None:
            return
        self.files += files
        self.lines += lines
        self.progress.update(self.task, advance=nbytes, files=self.files, lines=self.lines)


@contextlib.contextmanager
def _progress(enabled: bool) -> Iterator[_Bar | None]:
    if not enabled:
        yield None
        return
    bar = _Bar(Console(stderr=True))
    with bar.progress:
        yield bar


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


def _report(
    summary: ImportSummary, *, as_json: bool, title: str = "Import", kept: KeptReport | None = None
) -> None:
    if as_json:
        typer.echo(orjson.dumps({**summary.to_dict(), **(kept.to_dict() if kept else {})}).decode())
        return
    Console(soft_wrap=True).print(summary_table(summary, title))
    for line in kept.lines() if kept else []:
        typer.echo(line)


async def _import(
    db: Path,
    paths: list[Path],
    *,
    watch: bool,
    as_json: bool,
    bar: _Bar | None,
    key: KeyMaterial | None,
) -> ImportSummary:
    histories = [p for p in paths if is_history_file(p)]
    paths = [p for p in paths if p not in histories]
    store = await Store.open(db, key=key)
    try:
        try:
            summary = await import_paths(store, paths, progress=bar) if paths else ImportSummary()
        except TranscriptError as exc:
            # Watching a folder that has no transcript yet is fine: they will come.
            if not watch or not all(p.exists() for p in paths):
                raise
            typer.echo(f"sessiongraph: {exc}; watching for new ones", err=True)
            summary = ImportSummary()
        if bar is not None:
            bar.progress.stop()
        kept = await kept_report(store, histories)
        _report(summary, as_json=as_json, kept=kept)
        if not watch or not paths:
            return summary
        if not as_json:
            typer.echo("watching for changes (Ctrl-C to stop)", err=True)
        total = await watch_paths(store, paths, on_import=partial(_report_change, as_json=as_json))
        summary.merge(total)
        return summary
    finally:
        await store.close()


def _report_change(summary: ImportSummary, *, as_json: bool) -> None:
    if as_json:
        typer.echo(orjson.dumps(summary.to_dict()).decode())
        return
    skipped = f", {summary.lines_skipped:,} skipped" if summary.lines_skipped else ""
    typer.echo(
        f"{summary.lines_read:,} new lines: {summary.messages_added:,} messages, "
        f"{summary.events_added:,} events added{skipped}"
    )
    for problem in summary.problems:
        typer.echo(f"  {problem}", err=True)


@app.command("import")
def import_command(
    paths: Annotated[
        list[Path] | None,
        typer.Argument(
            help="Projects directories, project directories, .jsonl files or a prompt "
            "history.jsonl [default: ~/.claude/projects and ~/.claude/history.jsonl].",
            show_default=False,
        ),
    ] = None,
    watch: Annotated[
        bool, typer.Option("--watch", help="Keep running and import new lines as they are written.")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the summary as JSON.")] = False,
    db: DbOption = None,
    key_file: KeyFileOption = None,
    passphrase_file: PassphraseFileOption = None,
    ask_passphrase: AskPassphraseOption = False,
) -> None:
    """Import Claude Code transcripts; re-runs read only what was appended since.

    The prompt history (history.jsonl) recovers the prompts of sessions whose
    transcripts Claude Code deleted before they were imported.
    """
    key = key_material(key_file, passphrase_file, ask_passphrase)
    targets = [p.expanduser() for p in paths] if paths else default_import_paths()
    interactive = sys.stderr.isatty() and not os.environ.get("CI")
    with _progress(interactive) as bar:
        try:
            run(_import(resolve_db_path(db), targets, watch=watch, as_json=as_json, bar=bar,
                        key=key))  # fmt: skip
        except KeyboardInterrupt:
            if not watch:
                raise
            typer.echo("stopped watching", err=True)


@app.command("export")
def export_command(
    session_id: Annotated[str, typer.Argument(help="The Claude Code sessionId.")],
    fmt: Annotated[
        ExportFormat,
        typer.Option("--format", "-f", help="jsonl (the original records), json or markdown."),
    ] = ExportFormat.JSONL,
    out: Annotated[
        Path | None,
        typer.Option("--out", "-o", help="Write to this file [default: stdout].", dir_okay=False),
    ] = None,
    db: DbOption = None,
    key_file: KeyFileOption = None,
    passphrase_file: PassphraseFileOption = None,
    ask_passphrase: AskPassphraseOption = False,
) -> None:
    """Write one session out: jsonl reproduces the imported records, main thread first."""
    key = key_material(key_file, passphrase_file, ask_passphrase)
    path = existing_db(db)
    if out is None:
        try:
            run(_export(path, session_id, fmt, sys.stdout.buffer, key))
            sys.stdout.buffer.flush()
        except BrokenPipeError:
            # The reader went away (`| head`): not an error, and nothing more to say.
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return
    partial = out.with_name(out.name + ".part")
    try:
        with partial.open("wb") as fh:
            run(_export(path, session_id, fmt, fh, key))
        partial.replace(out)
    finally:
        partial.unlink(missing_ok=True)


async def _export(
    db: Path, session_id: str, fmt: ExportFormat, out: BinaryIO, key: KeyMaterial | None
) -> int:
    store = await Store.open(db, key=key)
    try:
        return await export_session(store, session_id, out, fmt)
    finally:
        await store.close()


@app.command()
def demo(
    db: DbOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the summary as JSON.")] = False,
    key_file: KeyFileOption = None,
    passphrase_file: PassphraseFileOption = None,
    ask_passphrase: AskPassphraseOption = False,
) -> None:
    """Import the bundled demo sessions (real, sanitized Claude Code transcripts).

    They are unpacked next to the database (in <db name>-demo/) and imported like any
    other transcripts, so running it again changes nothing.
    """
    from graph.demo import extract_demo

    key = key_material(key_file, passphrase_file, ask_passphrase)
    path = resolve_db_path(db)
    projects = extract_demo(path.with_name(f"{path.stem}-demo"))

    async def go() -> ImportSummary:
        store = await Store.open(path, key=key)
        try:
            return await import_paths(store, [projects])
        finally:
            await store.close()

    _report(run(go()), as_json=as_json, title="Demo import")
