"""Commands that move transcripts in and out: import, export, demo."""

from __future__ import annotations

import os
import sys
from functools import partial
from pathlib import Path
from typing import Annotated, BinaryIO

import orjson
import typer
from rich.console import Console
from rich.table import Table

from graph.cli.base import (
    AskPassphraseOption,
    DbOption,
    IdArgumentCommand,
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
from graph.cli.browse import resolve_session_id
from graph.cli.progress import ImportBar, import_bar
from graph.errors import SessiongraphError, TranscriptError
from graph.export import ExportFormat, SecretPass, export_session
from graph.importers.formats import FORMATS, default_locations
from graph.importers.history import is_history_file
from graph.importers.importer import import_paths
from graph.importers.kept import KeptReport, default_history, kept_report
from graph.importers.summary import ImportSummary
from graph.importers.watch import watch_paths
from graph.secrets import default_scanner
from graph.secrets import load_config as load_secrets_config
from graph.store import Store, snapshots
from graph.store.keyring import KeyMaterial

__all__ = ["default_targets", "summary_table"]


def default_targets() -> list[Path]:
    """Every agent's transcript folder that exists, and Claude Code's prompt history if
    there is one, said on stderr; fails if there is none of them."""
    found = default_locations()
    history = default_history()
    if not found and not history:
        where = ", ".join(f"{root} ({f.label})" for f in FORMATS for root in f.default_roots()[:1])
        fail(
            f"no transcripts found where the agents keep them ({where}): pass the folder of "
            "yours, or try `sessiongraph demo` for sample sessions"
        )
    for f, root in found:
        typer.echo(f"found {f.label} transcripts in {root}", err=True)
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
    bar: ImportBar | None,
    key: KeyMaterial | None,
    redact: bool = False,
) -> ImportSummary:
    """:func:`_import_into`; a fault's error line says that nothing stored is lost."""
    try:
        return await _import_into(
            db, paths, watch=watch, as_json=as_json, bar=bar, key=key, redact=redact
        )
    except Exception as exc:
        if not isinstance(exc, SessiongraphError):  # a fault: say that nothing is lost
            exc.add_note("what was imported before it stays, and the next run carries on")
        raise


async def _import_into(
    db: Path,
    paths: list[Path],
    *,
    watch: bool,
    as_json: bool,
    bar: ImportBar | None,
    key: KeyMaterial | None,
    redact: bool,
) -> ImportSummary:
    histories = [p for p in paths if is_history_file(p)]
    paths = [p for p in paths if p not in histories]
    store = await Store.open(db, key=key)
    try:
        try:
            summary = (
                await import_paths(store, paths, progress=bar, redact=redact)
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
        kept = await kept_report(store, histories)
        _report(summary, as_json=as_json, kept=kept)
        if not watch or not paths:
            return summary
        if not as_json:
            typer.echo("watching for changes (Ctrl-C to stop)", err=True)
        with snapshots.hold(db):  # `restore` refuses while a watcher has the database
            total = await watch_paths(
                store, paths, on_import=partial(_report_change, as_json=as_json), redact=redact
            )
        summary.merge(total)
        return summary
    finally:
        await store.close()


def _report_change(summary: ImportSummary, *, as_json: bool) -> None:
    if as_json:
        typer.echo(orjson.dumps(summary.change_record()).decode())
        return
    typer.echo(summary.change_line())
    for problem in summary.problems:
        typer.echo(f"  {problem}", err=True)


@app.command("import", rich_help_panel="Importing")
def import_command(
    paths: Annotated[
        list[Path] | None,
        typer.Argument(
            help="Transcript folders or files of any agent, or Claude Code's prompt "
            "history.jsonl (default: every agent's own folder that exists: "
            "~/.claude/projects, ~/.codex/sessions, ~/.gemini/tmp; and "
            "~/.claude/history.jsonl).",
            show_default=False,
        ),
    ] = None,
    watch: Annotated[
        bool, typer.Option("--watch", help="Keep running and import new lines as they are written.")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the summary as JSON.")] = False,
    redact_secrets: Annotated[
        bool | None,
        typer.Option(
            "--redact-secrets/--keep-secrets",
            help="Store secrets as [REDACTED:kind:fingerprint] (default: secrets.toml's "
            "redact_on_import, else keep).",
            show_default=False,
        ),
    ] = None,
    db: DbOption = None,
    key_file: KeyFileOption = None,
    passphrase_file: PassphraseFileOption = None,
    ask_passphrase: AskPassphraseOption = False,
) -> None:
    """Import Claude Code, Codex CLI and Gemini CLI transcripts; re-runs read only what was
    appended since.

    The prompt history (history.jsonl) recovers the prompts of sessions whose
    transcripts Claude Code deleted before they were imported.
    """
    key = key_material(key_file, passphrase_file, ask_passphrase)
    redact = (
        redact_secrets
        if redact_secrets is not None
        else checked(load_secrets_config).redact_on_import
    )
    targets = [p.expanduser() for p in paths] if paths else default_targets()
    interactive = sys.stderr.isatty() and not os.environ.get("CI")
    with import_bar(interactive) as bar:
        try:
            run(
                _import(
                    resolve_db_path(db),
                    targets,
                    watch=watch,
                    as_json=as_json,
                    bar=bar,
                    key=key,
                    redact=redact,
                )
            )
        except KeyboardInterrupt:
            if not watch:
                raise
            typer.echo("stopped watching", err=True)


@app.command("export", cls=IdArgumentCommand, rich_help_panel="Reading")
def export_command(
    session_id: Annotated[str, typer.Argument(help="The Claude Code sessionId.")],
    fmt: Annotated[
        ExportFormat,
        typer.Option("--format", "-f", help="jsonl (the original records), json or markdown."),
    ] = ExportFormat.JSONL,
    out: Annotated[
        Path | None,
        typer.Option("--out", "-o", help="Write to this file (default: stdout).", dir_okay=False),
    ] = None,
    reveal_secrets: Annotated[
        bool,
        typer.Option("--reveal-secrets", help="json/markdown: show secrets (masked by default)."),
    ] = False,
    mask_secrets: Annotated[
        bool,
        typer.Option("--mask-secrets", help="jsonl: mask secrets (kept by default: lossless)."),
    ] = False,
    db: DbOption = None,
    key_file: KeyFileOption = None,
    passphrase_file: PassphraseFileOption = None,
    ask_passphrase: AskPassphraseOption = False,
) -> None:
    """Write one session out: jsonl reproduces the imported records, main thread first.

    An id that starts with "-" works as it is (`export -rf`); one that is also an option
    (`--help`) goes after `--`: `export --db x.db -- --help`.
    """
    key = key_material(key_file, passphrase_file, ask_passphrase)
    path = existing_db(db)
    # jsonl is the lossless archive: original values unless asked; what people read
    # (json, markdown) shows secrets masked unless asked.
    lossless = fmt is ExportFormat.JSONL
    secrets = SecretPass(
        checked(default_scanner), mask=mask_secrets if lossless else not reveal_secrets
    )
    if out is None:
        stdout = _Counting(sys.stdout.buffer, "{:,} bytes were written to stdout before that")
        try:
            run(_export(path, session_id, fmt, stdout, key, secrets))
            sys.stdout.buffer.flush()
        except BrokenPipeError:
            # The reader went away (`| head`): not an error, and nothing more to say.
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            return
    else:
        # Written beside it and renamed when complete: a failure leaves no half file.
        part = out.with_name(out.name + ".part")
        try:
            with part.open("wb") as fh:
                partial = f"{out} was not written (the {{:,}} bytes exported before that are gone)"
                run(_export(path, session_id, fmt, _Counting(fh, partial), key, secrets))
            part.replace(out)
        finally:
            part.unlink(missing_ok=True)
    if secrets.found:
        how = {
            (True, True): "masked",
            (True, False): "as they are, the lossless archive (--mask-secrets masks them)",
            (False, True): "masked (--reveal-secrets shows them)",
            (False, False): "as they are",
        }[lossless, secrets.mask]
        typer.echo(f"the export holds {secrets.found:,} secret(s), written {how}", err=True)


class _Counting:
    """A binary stream that counts what goes through it, to say so if the export fails.

    ``partial`` is the note for a failure after some output, ``{}`` the byte count.
    """

    def __init__(self, stream: BinaryIO, partial: str) -> None:
        self.stream = stream
        self.nbytes = 0
        self._partial = partial

    def write(self, data: bytes, /) -> int:
        self.nbytes += len(data)
        return self.stream.write(data)

    def note(self, exc: Exception) -> None:
        """Add to ``exc`` how much was written before it, if anything was."""
        if self.nbytes:
            exc.add_note(self._partial.format(self.nbytes))


async def _export(
    db: Path,
    session_id: str,
    fmt: ExportFormat,
    out: _Counting,
    key: KeyMaterial | None,
    secrets: SecretPass,
) -> int:
    try:
        store = await Store.open(db, key=key)
        try:
            session_id = await resolve_session_id(store, session_id)
            return await export_session(store, session_id, out, fmt, secrets)
        finally:
            await store.close()
    except Exception as exc:
        out.note(exc)  # ends up in the one error line
        raise


@app.command(rich_help_panel="Importing")
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
