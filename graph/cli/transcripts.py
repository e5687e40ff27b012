"""Commands that move transcripts in and out: import, export, demo."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, BinaryIO

import typer

from graph.cli.base import (
    AskPassphraseOption,
    DbOption,
    IdArgumentCommand,
    KeyFileOption,
    PassphraseFileOption,
    app,
    checked,
    existing_db,
    key_material,
    resolve_db_path,
    run,
)
from graph.cli.browse import resolve_session_id
from graph.export_format import ExportFormat

if TYPE_CHECKING:
    from graph.export import SecretPass
    from graph.store.keyring import KeyMaterial

__all__: list[str] = []


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
    from graph.cli.importing import default_targets, import_into
    from graph.cli.progress import import_bar
    from graph.secrets import redact_on_import

    key = key_material(key_file, passphrase_file, ask_passphrase, db=resolve_db_path(db))
    redact = checked(lambda: redact_on_import(redact_secrets))
    targets = [p.expanduser() for p in paths] if paths else default_targets()
    interactive = sys.stderr.isatty() and not os.environ.get("CI")
    with import_bar(interactive) as bar:
        try:
            run(
                import_into(
                    resolve_db_path(db),
                    targets,
                    watch=watch,
                    as_json=as_json,
                    bar=bar,
                    key=key,
                    redact=redact,
                    defaults=not paths,
                )
            )
        except KeyboardInterrupt:
            if not watch:
                raise
            typer.echo("stopped watching", err=True)  # a second Ctrl-C


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
    from graph.export import SecretPass
    from graph.secrets import default_scanner

    path = existing_db(db)
    key = key_material(key_file, passphrase_file, ask_passphrase, db=path)
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
    from graph.export import export_session
    from graph.store import Store

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

    They are unpacked next to the database (in `<db name>-demo/`) and imported like any
    other transcripts, so running it again changes nothing.
    """
    from graph.cli.importing import import_once, report
    from graph.demo import extract_demo

    path = resolve_db_path(db)
    key = key_material(key_file, passphrase_file, ask_passphrase, db=path)
    projects = extract_demo(path.with_name(f"{path.stem}-demo"))
    report(run(import_once(path, [projects], key)), as_json=as_json, title="Demo import")
