"""The import progress bar: a scan phase, then files, lines and MB at a true rate."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator

from rich.console import Console
from rich.progress import BarColumn, Progress, SpinnerColumn, TaskID, TextColumn

__all__ = ["ImportBar", "import_bar"]


class ImportBar:
    """A rich progress display on stderr that follows :func:`import_paths` (ImportProgress).

    Until the import knows what it will read (finding the files and comparing them with
    what was read before), it says it is scanning. Then the rate is the bytes stored
    over the time since, not rich's estimate from the last few updates, which a worker
    handing over batches in bursts turned into figures like 200 GB/s.
    """

    def __init__(self, console: Console, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self.progress = Progress(
            SpinnerColumn(),
            TextColumn("{task.description}"),
            BarColumn(),
            TextColumn("{task.fields[detail]}"),
            console=console,
            transient=True,
        )
        self.scan: TaskID | None = self.progress.add_task(
            "scanning for transcripts", total=None, detail=""
        )
        self.task: TaskID | None = None
        self.files = self.total_files = self.lines = self.done = self.total = 0
        self.started = 0.0

    def start(self, files: int, nbytes: int) -> None:
        if self.scan is not None:
            self.progress.remove_task(self.scan)
            self.scan = None
        self.total_files, self.total = files, nbytes
        self.started = self.clock()
        self.task = self.progress.add_task("importing", total=nbytes, detail=self.detail())

    def advance(self, *, files: int = 0, lines: int = 0, nbytes: int = 0) -> None:
        if self.task is None:
            return
        self.files += files
        self.lines += lines
        self.done += nbytes
        self.progress.update(self.task, completed=self.done, detail=self.detail())

    def detail(self) -> str:
        """Files, lines, MB, the average rate so far and the time left at that rate."""
        text = (
            f"{self.files:,}/{self.total_files:,} files  {self.lines:,} lines  "
            f"{self.done / 1e6:,.1f}/{self.total / 1e6:,.1f} MB"
        )
        elapsed = self.clock() - self.started
        if self.done and elapsed > 0:
            rate = self.done / elapsed
            left = (self.total - self.done) / rate
            text += f"  {rate / 1e6:,.1f} MB/s  {int(left) // 60}:{int(left) % 60:02d} left"
        return text


@contextlib.contextmanager
def import_bar(enabled: bool) -> Iterator[ImportBar | None]:
    """An :class:`ImportBar` on stderr while the block runs, or ``None`` when disabled."""
    if not enabled:
        yield None
        return
    bar = ImportBar(Console(stderr=True))
    with bar.progress:
        yield bar
