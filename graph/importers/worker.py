"""Reading a large import in a worker process, beside the writes.

Reading is Python work (JSON parsing, serializing, tokenizing); storing is mostly
SQLite's, in C on the store's thread. One process cannot run the two side by side:
sqlite3's ``executemany`` takes the GIL back for every row, and with another thread
busy in Python each row waits out a switch interval. So a large import reads in a
worker process (:class:`WorkerReader`, running :func:`graph.importers.reading.work`)
that stays a group ahead of the writes; a small one (a watch tick, a few short files)
reads in-process (:func:`graph.importers.reading.read_here`), where starting a process
would cost more than it saves.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import os
import pickle
import signal
import site
import subprocess
import sys
from io import FileIO
from pathlib import Path
from typing import TYPE_CHECKING, Final, cast

from graph.errors import WorkerError
from graph.importers.reading import PROTOCOL, FileJob, Limits, Piece, receive, send

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Sequence

    from graph.search.analysis import Analysis

__all__ = ["WORKER_MIN_BYTES", "WorkerError", "WorkerReader", "worker_environment"]

# Below this many bytes to read, a worker process costs more to start (~0.1 s of
# imports) than running it beside the writes saves.
WORKER_MIN_BYTES: Final = 16 << 20
_PACKAGE_ROOT: Final = Path(__file__).resolve().parents[2]
_PIPE_BYTES: Final = 1 << 20  # Linux's default cap for an unprivileged pipe
# Not ``-m`` that module: classes pickled in a ``__main__`` would not unpickle here.
_WORKER: Final = "import sys; from graph.importers.reading import work; work(*sys.argv[1:])"


_AGAIN: Final = "what was stored before stays: run the import again to carry on"


def _ended(code: int) -> str:
    """How the process with exit status ``code`` ended (negative: killed by a signal)."""
    if code < 0:
        try:
            name = signal.Signals(-code).name
        except ValueError:
            name = f"signal {-code}"
        return f"was killed ({name}) before it finished"
    return f"exited unexpectedly (code {code})"


def worker_environment(package_root: Path = _PACKAGE_ROOT) -> dict[str, str]:
    """The worker's environment: this one, and where to find this package if need be.

    A checkout run without installing must lend the worker its path. An installed
    package is found anyway, and its site-packages must not go on ``PYTHONPATH``: that
    comes before the standard library, which a stray backport there would then shadow.
    """
    env = dict(os.environ)
    installed = {Path(p).resolve() for p in (*site.getsitepackages(), site.getusersitepackages())}
    if package_root.resolve() not in installed:
        env["PYTHONPATH"] = os.pathsep.join(
            filter(None, (str(package_root), env.get("PYTHONPATH")))
        )
    return env


class WorkerReader:
    """Reads in a worker process, one group ahead of whoever consumes them.

    The process starts at construction and gets its jobs from :meth:`groups`. Groups
    come back pickled over a pipe, whose buffer is the flow control: while the caller
    stores one group, the worker prepares the next and waits to hand it over, so
    memory stays flat.
    """

    def __init__(self) -> None:
        jobs_read, jobs_write = os.pipe()
        groups_read, groups_write = os.pipe()
        with contextlib.suppress(OSError, AttributeError):  # Linux only; a hint anyway
            fcntl.fcntl(groups_read, fcntl.F_SETPIPE_SZ, _PIPE_BYTES)
        try:
            self._process = subprocess.Popen(  # noqa: S603 - our interpreter, our code
                [sys.executable, "-c", _WORKER, str(jobs_read), str(groups_write)],
                pass_fds=(jobs_read, groups_write),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                env=worker_environment(),
            )
        except BaseException:
            for fd in (jobs_write, groups_read):
                os.close(fd)
            raise
        finally:
            os.close(jobs_read)
            os.close(groups_write)
        self._jobs = FileIO(jobs_write, "wb")
        self._groups = FileIO(groups_read, "rb")

    async def groups(
        self, jobs: Sequence[FileJob], analysis: Analysis | None, limits: Limits
    ) -> AsyncIterator[list[Piece]]:
        """What :func:`~graph.importers.reading.read_here` yields, read in the worker.

        Raises:
            WorkerError: the process failed or died before the last piece.
        """
        with contextlib.suppress(BrokenPipeError):  # it died: the read below says how
            send(self._jobs, pickle.dumps((list(jobs), analysis, limits), PROTOCOL))
        self._jobs.close()
        # One group is taken in (read and unpickled) while the caller stores the one
        # before: that work then overlaps the store's single long statements (COMMIT).
        fetch = asyncio.ensure_future(self._group())
        try:
            while (group := await fetch) is not None:
                fetch = asyncio.ensure_future(self._group())
                yield group
        finally:
            fetch.cancel()

    async def _group(self) -> list[Piece] | None:
        message = pickle.loads(await self._next())  # noqa: S301 - our child, our pipe
        if isinstance(message, str):
            last = message.strip().splitlines()[-1] if message.strip() else "no traceback"
            raise WorkerError(f"the import worker failed ({last}); {_AGAIN}", trace=message)
        return cast("list[Piece] | None", message)

    async def _next(self) -> memoryview:
        loop = asyncio.get_running_loop()
        ready: asyncio.Future[None] = loop.create_future()

        def readable() -> None:
            if not ready.done():
                ready.set_result(None)

        fd = self._groups.fileno()
        loop.add_reader(fd, readable)
        try:
            await ready
        finally:
            loop.remove_reader(fd)
        payload = receive(self._groups)
        if payload is None:
            raise WorkerError(f"the import worker {_ended(self._process.wait())}; {_AGAIN}")
        return payload

    def close(self) -> None:
        """Stop the process (if still running) and release the pipes."""
        for pipe in (self._jobs, self._groups):
            pipe.close()
        if self._process.poll() is None:
            self._process.kill()
        self._process.wait()
