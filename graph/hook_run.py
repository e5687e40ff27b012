"""``sessiongraph hook``: import one transcript when its agent ends, compacts or finishes a
turn of it (Claude Code, Gemini CLI).

The agent runs the command with the event as JSON on stdin (``session_id``,
``transcript_path``, ``cwd``, ``hook_event_name``: both agents send these). The import
reads only that transcript and its subagents' files, and of each only the bytes appended
since the last import, so it costs about as much as what the turn wrote.

A hook must never get in the agent's way, so this command:

- writes nothing to stdout or stderr (Claude Code reads a hook's stdout, and a Stop
  hook's JSON there can keep the agent going; Gemini CLI shows a hook's stderr to the
  user when its stdout is empty): anything printed goes to the log;
- always exits 0 (exit 2 would block, and feed our stderr to the model);
- keeps within a time budget: past it, the process ends at once, keeping what was
  committed (each batch commits with its file offsets, so the next run resumes);
- logs one line per run, success or failure (a busy database, a missing key, a bug),
  to ``hook.log`` in the platform log dir, which ``sessiongraph hooks status`` shows.

It is started as ``python -P -m graph hook`` (see :mod:`graph.__main__`) and imports only
the store and the importer: loading the GraphQL stack would triple its start-up time.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import logging
import os
import select
import sys
import threading
import time
from dataclasses import dataclass
from logging.handlers import RotatingFileHandler
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

import orjson
import platformdirs

from graph.config import APP_NAME, resolve_db_path

if TYPE_CHECKING:
    from graph.importers.summary import ImportSummary

__all__ = [
    "DEFAULT_BUDGET_S",
    "HookEvent",
    "hook_log_path",
    "main",
    "parse_event",
    "run_hook",
    "transcript_files",
]

DEFAULT_BUDGET_S: Final = 20.0
# Claude Code writes the event and closes stdin at once; some versions leave it open.
_STDIN_WAIT_S: Final = 2.0
_STDIN_MAX: Final = 1 << 20
_LOG_BYTES: Final = 1 << 20
_PRINTED_KEPT: Final = 2000  # characters of what something printed, kept in the log

log = logging.getLogger("sessiongraph.hook")


def hook_log_path() -> Path:
    """Where the hook logs (e.g. ``~/.local/state/sessiongraph/log/hook.log``)."""
    return platformdirs.user_log_path(APP_NAME) / "hook.log"


@dataclass(frozen=True, slots=True)
class HookEvent:
    """What the agent said about the event."""

    event: str
    session_id: str
    transcript_path: Path | None
    cwd: str | None


def parse_event(raw: bytes) -> HookEvent:
    """The hook input the agent sends.

    Raises:
        ValueError: not a JSON object with a ``session_id``.
    """
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise ValueError(f"the hook input is not JSON ({exc})") from None
    if not isinstance(data, dict) or not isinstance(data.get("session_id"), str):
        raise ValueError("the hook input is not a JSON object with a session_id")
    transcript = data.get("transcript_path")
    cwd = data.get("cwd")
    event = data.get("hook_event_name")
    return HookEvent(
        event=event if isinstance(event, str) else "?",
        session_id=data["session_id"],
        transcript_path=Path(transcript).expanduser() if isinstance(transcript, str) else None,
        cwd=cwd if isinstance(cwd, str) else None,
    )


def read_input(fd: int, wait: float = _STDIN_WAIT_S) -> bytes:
    """Everything on ``fd`` until it closes, or until a whole JSON value has arrived.

    Never waits more than ``wait`` seconds for the next bytes.
    """
    chunks: list[bytes] = []
    size = 0
    while size < _STDIN_MAX:
        ready, _, _ = select.select([fd], [], [], wait)
        if not ready:
            break
        chunk = os.read(fd, 65536)
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
        with contextlib.suppress(orjson.JSONDecodeError):
            orjson.loads(b"".join(chunks))
            break
    return b"".join(chunks)


def transcript_files(transcript: Path, session_id: str) -> list[Path]:
    """The session's main transcript and its subagents' files, where its format keeps
    them (none when there is no transcript)."""
    if not transcript.is_file():
        return []
    from graph.importers.formats import format_for  # here: the hook starts without it

    return [transcript, *format_for(transcript).subagent_files(transcript, session_id)]


async def _import(
    db: Path,
    files: list[Path],
    key_file: Path | None,
    passphrase_file: Path | None,
    *,
    migrate: bool,
) -> ImportSummary:
    from graph.importers.history import settle
    from graph.importers.importer import import_paths
    from graph.secrets import redact_on_import
    from graph.store import snapshots
    from graph.unattended import open_unattended

    # A new database is created (nothing to copy aside); an existing one with pending
    # migrations is not migrated here: that copies the file first, which takes long.
    # Held as an import holds it: refused (in the log) while encrypt, rotate-key or restore
    # run; the next event imports what this one would have.
    with snapshots.hold(db):
        store = await open_unattended(
            db, key_file=key_file, passphrase_file=passphrase_file, migrate=migrate
        )
        try:
            # Secrets redacted or kept as `sessiongraph import` without a flag does.
            summary = await import_paths(store, files, worker=False, redact=redact_on_import())
            await settle(store)  # in case the session was known only from the prompt history
            return summary
        finally:
            await store.close()


class _PrivateLog(RotatingFileHandler):
    """The hook's log, created mode 0600 (a rotation's new file too): it names sessions,
    transcript paths and errors, and the database beside it is private."""

    def _open(self) -> Any:
        fd = os.open(self.baseFilename, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        return open(fd, self.mode, encoding=self.encoding, errors=self.errors)


def _setup_logging(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    handler = _PrivateLog(path, maxBytes=_LOG_BYTES, backupCount=1, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]  # nothing to the terminal: the agent is reading it
    root.setLevel(logging.INFO)
    logging.captureWarnings(True)


def _give_up(budget: float) -> None:
    log.error("gave up after %.0f s (budget); what was committed is kept", budget)
    logging.shutdown()
    os._exit(0)  # the SQLite thread may be waiting on a lock: do not wait for it


def run_hook(
    *,
    db: Path | None = None,
    key_file: Path | None = None,
    passphrase_file: Path | None = None,
    budget: float = DEFAULT_BUDGET_S,
    stdin_fd: int = 0,
) -> int:
    """Read the event from ``stdin_fd`` and import its transcript; always returns 0."""
    try:
        _setup_logging(hook_log_path())
    except OSError:
        logging.getLogger().handlers[:] = [logging.NullHandler()]
    timer = threading.Timer(budget, _give_up, args=(budget,))
    timer.daemon = True
    timer.start()
    started = time.perf_counter()
    printed = io.StringIO()
    try:
        with contextlib.redirect_stdout(printed), contextlib.redirect_stderr(printed):
            _run(db, key_file, passphrase_file, stdin_fd, started)
    except Exception as exc:
        # Anything at all: the agent must carry on, and the log says what happened.
        log.error("failed: %s: %s", type(exc).__name__, exc, exc_info=not _expected(exc))
    finally:
        timer.cancel()
        if printed.getvalue():
            log.warning("printed: %s", printed.getvalue()[:_PRINTED_KEPT])
    return 0


def _run(
    db: Path | None, key_file: Path | None, passphrase_file: Path | None, fd: int, started: float
) -> None:
    event = parse_event(read_input(fd))
    where = f"{event.event} {event.session_id}"
    if event.transcript_path is None:
        log.warning("%s: no transcript_path in the hook input; nothing to import", where)
        return
    files = transcript_files(event.transcript_path, event.session_id)
    if not files:
        log.warning("%s: no transcript at %s; nothing to import", where, event.transcript_path)
        return
    import asyncio  # here: `sessiongraph --help` loads this module too, and needs no loop

    path = resolve_db_path(db)
    summary = asyncio.run(
        _import(path, files, key_file, passphrase_file, migrate=not path.exists())
    )
    skipped = f", {summary.lines_skipped} lines skipped" if summary.lines_skipped else ""
    log.info(
        "%s: %d new lines, %d messages and %d events added from %d files in %.2f s%s",
        where,
        summary.lines_read,
        summary.messages_added,
        summary.events_added,
        len(files),
        time.perf_counter() - started,
        skipped,
    )


def _expected(exc: Exception) -> bool:
    """Failures worth one line in the log, not a traceback."""
    from graph.errors import SessiongraphError
    from graph.store.faults import is_operational_error

    return isinstance(exc, SessiongraphError | OSError | ValueError) or is_operational_error(exc)


def main(argv: list[str]) -> None:
    """``python -m graph hook [--db PATH] [--key-file F] [--budget S]``."""
    parser = argparse.ArgumentParser(
        prog="sessiongraph hook",
        description="Import the transcript named by a hook event (Claude Code, Gemini CLI) on "
        "stdin.",
    )
    parser.add_argument("--db", type=Path, default=None)
    parser.add_argument("--key-file", type=Path, default=None)
    parser.add_argument("--passphrase-file", type=Path, default=None)
    parser.add_argument("--budget", type=float, default=DEFAULT_BUDGET_S)
    said = io.StringIO()
    try:
        with contextlib.redirect_stderr(said):
            args = parser.parse_args(argv)
    except SystemExit as exc:
        # Exit 2 (argparse's) would make the agent block the stop and show the model our
        # usage text: a bad command line in the settings is an error in the log.
        if exc.code:
            with contextlib.suppress(OSError):
                _setup_logging(hook_log_path())
                log.error("bad command line: %s (%s)", " ".join(argv), said.getvalue().strip())
        sys.exit(0)
    code = run_hook(
        db=args.db,
        key_file=args.key_file,
        passphrase_file=args.passphrase_file,
        budget=args.budget,
    )
    sys.exit(code)
