"""``import --watch``: keep importing what Claude Code appends, within about a second.

File-system notifications (``watchfiles``) say which transcripts changed; only those are
read, from where the last run stopped. A full rescan runs once the watcher is up (so
nothing written between the first import and the start of watching is missed) and then
every ``rescan_seconds`` as a safety net for missed notifications.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import TYPE_CHECKING, Final

from watchfiles import Change, awatch

from graph.errors import TranscriptError
from graph.importers.formats import accepts
from graph.importers.importer import import_paths
from graph.importers.summary import ImportSummary
from graph.secrets import redact_on_import

if TYPE_CHECKING:
    from collections.abc import Callable

    from graph.store import Store

__all__ = ["watch_paths"]

# Changes are handed over once writing pauses for STEP_MS, or after DEBOUNCE_MS of
# continuous writing at the latest; TIMEOUT_MS is how often the loop wakes up regardless.
DEBOUNCE_MS: Final = 400
STEP_MS: Final = 50
TIMEOUT_MS: Final = 500


def _interesting(change: Change, path: str) -> bool:
    # New folders too: a file created in a folder that is not watched yet (a new
    # session's subagents/) may give no event of its own, so the folder is scanned.
    return change is Change.added or accepts(Path(path))


class _Scope:
    """Which changed files belong to the paths the user asked to watch."""

    def __init__(self, paths: list[Path]) -> None:
        resolved = [p.expanduser().absolute() for p in paths]
        self.files = {p for p in resolved if p.is_file()}
        self.dirs = [p for p in resolved if p not in self.files]
        # A single file is watched through its folder, so that a file replaced by a new
        # one (new inode) is still seen.
        self.roots = sorted({*self.dirs, *(p.parent for p in self.files)})

    def wants(self, path: Path) -> bool:
        return path in self.files or any(path.is_relative_to(d) for d in self.dirs)


async def watch_paths(
    store: Store,
    paths: list[Path],
    *,
    on_import: Callable[[ImportSummary], None] | None = None,
    stop: asyncio.Event | None = None,
    ready: asyncio.Event | None = None,
    rescan_seconds: float = 60.0,
    force_polling: bool | None = None,
    redact: bool | None = None,
) -> ImportSummary:
    """Import new lines under ``paths`` as they are written, until ``stop`` is set.

    Cancelling the task that runs it (Ctrl-C under ``asyncio.run``) stops it too.

    Args:
        store: An open store.
        paths: What to watch: directories or files, as for :func:`import_paths`.
        on_import: Called with the summary of each run that stored something.
        stop: Set it to end the loop.
        ready: Set once the watcher runs and has caught up with the files.
        rescan_seconds: How often to look at every file anyway.
        force_polling: Poll instead of using notifications (``None``: watchfiles decides,
            which honours ``WATCHFILES_FORCE_POLLING``).
        redact: Store secrets redacted (``None``: as ``secrets.toml`` says).

    Returns:
        The counts of every run added up.

    Raises:
        TranscriptError: a path does not exist.
    """
    for path in paths:
        if not path.expanduser().exists():
            raise TranscriptError(f"{path}: no such file or directory")
    scope = _Scope(paths)
    redacting = redact_on_import(redact)  # once: every run does the same
    total = ImportSummary()
    last_scan = -float("inf")
    async for changes in awatch(
        *scope.roots,
        watch_filter=_interesting,
        debounce=DEBOUNCE_MS,
        step=STEP_MS,
        rust_timeout=TIMEOUT_MS,
        yield_on_timeout=True,
        stop_event=stop,
        force_polling=force_polling,
    ):
        if time.monotonic() - last_scan >= rescan_seconds:
            targets = paths
            last_scan = time.monotonic()
        else:
            changed = {Path(name) for change, name in changes if change is not Change.deleted}
            targets = sorted(
                p
                for p in changed
                if scope.wants(p) and (p.is_dir() or (accepts(p) and p.is_file()))
            )
        if targets:
            summary = await _import(store, targets, redacting)
            total.merge(summary)
            if summary.changed and on_import is not None:
                on_import(summary)
        if ready is not None and not ready.is_set():
            ready.set()
    return total


async def _import(store: Store, targets: list[Path], redact: bool) -> ImportSummary:
    try:
        return await import_paths(store, targets, redact=redact)
    except TranscriptError:
        pass
    # A file removed between the notification and the read, or a folder with no
    # transcript yet, must not keep the other paths from being imported.
    total = ImportSummary()
    files = 0
    for target in targets:
        try:
            summary = await import_paths(store, [target], redact=redact)
        except TranscriptError:
            continue
        files += summary.files
        total.merge(summary)
    total.files = files
    return total
