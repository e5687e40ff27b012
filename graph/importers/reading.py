"""Reading transcript files into batches ready to store, here or in a worker process.

A read takes a list of :class:`FileJob` (where to start in each file and what carries
over from earlier runs) and yields :class:`Piece` objects in job order: the batches of
each file, or why it could not be opened. Each batch comes *prepared*: its records
serialized as they will be stored and, when the store keeps a search index, their
search documents built (see :class:`~graph.search.analysis.Analysis`).

A large import reads in a worker process (see :mod:`graph.importers.worker`); this
module is also all that process runs (:func:`work`), so it imports nothing it does not
need there (no asyncio, no store).
"""

from __future__ import annotations

import pickle
import signal
import struct
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from io import FileIO
from typing import TYPE_CHECKING, BinaryIO, Final, Protocol

from graph.importers.batch import UNREADABLE, Batch, Problem
from graph.importers.files import fingerprint, head_of, whole_digest
from graph.importers.formats import LineParser, format_named
from graph.times import format_timestamp

if TYPE_CHECKING:
    from collections.abc import Iterator, Sequence

    from graph.search.analysis import Analysis

__all__ = [
    "BATCH_BYTES",
    "BATCH_LINES",
    "PROTOCOL",
    "FileJob",
    "Limits",
    "Piece",
    "read_file",
    "read_here",
    "receive",
    "send",
    "work",
]

BATCH_LINES: Final = 5_000
BATCH_BYTES: Final = 8 << 20
_RAMP: Final = 16
# Not smaller than this: which session a thread belongs to is settled by its first
# batch (by a record that names it), so that batch must not be a line or two.
_RAMP_MIN_LINES: Final = 200
_RAMP_MIN_BYTES: Final = 256 << 10
PROTOCOL: Final = pickle.HIGHEST_PROTOCOL
_HEADER: Final = struct.Struct("<Q")  # each message: its length, then its pickle


@dataclass(frozen=True, slots=True)
class FileJob:
    """One file to read from ``offset`` on (``line_count`` lines come before it)."""

    path: str
    offset: int
    line_count: int
    # Inherited by leading records without a timestamp: the last one stored, if any.
    previous_timestamp: str | None
    mtime_ns: int
    size: int = 0  # where the file ended when planned (0: unknown)
    source: str = "claude-code"  # its format (see graph.importers.formats)
    whole: bool = False  # one document rewritten whole: read all of it, once
    resume: str | None = None  # what the parser carries over to ``offset`` (see FileState)


@dataclass(frozen=True, slots=True)
class Piece:
    """A batch of the file of ``jobs[job]``, or (``problem`` set) why it was not read.

    ``offset`` and ``line_count`` say where reading got to after the batch; ``head``
    fingerprints the start of the file and the bytes before ``offset`` (see
    :func:`~graph.importers.files.fingerprint`); ``first`` / ``last`` mark its first
    and last batch; ``resume`` is what the parser carries over to ``offset``.
    """

    job: int
    batch: Batch
    head: str = ""
    offset: int = 0
    line_count: int = 0
    first: bool = True
    last: bool = True
    problem: Problem | None = None
    resume: str | None = None


@dataclass(frozen=True, slots=True)
class Limits:
    """When a batch is full: whichever comes first."""

    lines: int = BATCH_LINES
    nbytes: int = BATCH_BYTES


class _Bounds(Protocol):
    @property
    def lines(self) -> int: ...

    @property
    def nbytes(self) -> int: ...


@dataclass(slots=True)
class _Ramp:
    """Group limits that grow from 1/:data:`_RAMP` of ``full`` and shrink near the end.

    The writes cannot start before the worker's first group is ready, and the last
    group's write overlaps nothing: small groups at both ends shorten those waits,
    full ones in between keep the commits few. ``remaining`` is what is left to read.
    """

    full: Limits
    remaining: int
    scale: float = 1 / _RAMP
    lines: int = 0
    nbytes: int = 0
    _lines_read: int = 0
    _bytes_read: int = 0

    def __post_init__(self) -> None:
        self._apply()

    def read(self, lines: int, nbytes: int) -> None:
        """A group of ``lines`` and ``nbytes`` was read: size the next one."""
        self.remaining -= nbytes
        self._lines_read += lines
        self._bytes_read += nbytes
        # What a full group holds, in bytes: the byte limit, or the line limit's worth.
        per_line = self._bytes_read / max(self._lines_read, 1)
        full_bytes = min(self.full.nbytes, self.full.lines * per_line)
        left = self.remaining / (4 * full_bytes) if full_bytes else 1.0
        self.scale = max(min(self.scale * 2, 1.0, left), 1 / _RAMP)
        self._apply()

    def _apply(self) -> None:
        full = self.full
        self.lines = max(int(full.lines * self.scale), min(full.lines, _RAMP_MIN_LINES))
        self.nbytes = max(int(full.nbytes * self.scale), min(full.nbytes, _RAMP_MIN_BYTES))


def read_file(
    index: int, job: FileJob, analysis: Analysis | None, limits: _Bounds = Limits()
) -> Iterator[Piece]:
    """The pieces of one file, each batch prepared (see the module doc)."""
    try:
        fh = open(job.path, "rb")  # noqa: SIM115 - closed by the with below
    except OSError as exc:
        problem = Problem(job.path, 0, UNREADABLE, exc.strerror or type(exc).__name__)
        yield Piece(index, Batch(), problem=problem)
        return
    with fh:
        mtime = format_timestamp(datetime.fromtimestamp(job.mtime_ns / 1e9, UTC))
        transcript_format = format_named(job.source)
        reader = (
            transcript_format.document_reader(job.path, fallback_timestamp=mtime)
            if job.whole
            else None
        )
        if reader is not None:
            raw = fh.read()
            batch = reader.read(raw, job.line_count)
            _prepare(batch, analysis)
            yield Piece(index, batch, whole_digest(raw), len(raw), job.line_count + batch.lines)
            return
        head = head_of(fh)
        parser = transcript_format.parser(
            job.path, previous_timestamp=job.previous_timestamp, fallback_timestamp=mtime
        )
        offset, line_count = job.offset, job.line_count
        if offset:
            parser.resume(fh, offset, job.resume)
        fh.seek(offset)
        first, last = True, False
        while not last:
            last = _fill(fh, parser, line_count, limits)
            batch = parser.take()
            _prepare(batch, analysis)
            offset += batch.nbytes
            line_count += batch.lines
            yield Piece(
                index,
                batch,
                fingerprint(fh, head, offset),
                offset,
                line_count,
                first,
                last,
                resume=parser.state(),
            )
            first = False


def read_here(
    jobs: Sequence[FileJob],
    analysis: Analysis | None,
    limits: Limits = Limits(),
    *,
    ramp: bool = False,
) -> Iterator[list[Piece]]:
    """The pieces of ``jobs``, read in this process, in groups of about a batch.

    Small files share a group (up to a batch's worth of lines or bytes), which the
    importer stores in one transaction: a commit costs a WAL sync and a flush of the
    search index's pending segment, and most transcripts are far smaller than a batch.
    With ``ramp``, the first groups are smaller (see :class:`_Ramp`).
    """
    remaining = sum(max(job.size - job.offset, 0) for job in jobs)
    bounds = _Ramp(limits, remaining) if ramp else limits
    group: list[Piece] = []
    lines = nbytes = 0
    for index, job in enumerate(jobs):
        for piece in read_file(index, job, analysis, bounds):
            group.append(piece)
            lines += piece.batch.lines
            nbytes += piece.batch.nbytes
            if lines >= bounds.lines or nbytes >= bounds.nbytes:
                yield group
                if isinstance(bounds, _Ramp):
                    bounds.read(lines, nbytes)
                group, lines, nbytes = [], 0, 0
    if group:
        yield group


def _prepare(batch: Batch, analysis: Analysis | None) -> None:
    if analysis is not None and analysis.redact and batch.titles:
        mask = analysis.scanner.mask
        batch.titles = [
            replace(t, title=t.title and mask(t.title), summary=t.summary and mask(t.summary))
            for t in batch.titles
        ]
    for message in batch.messages.values():
        if analysis is not None:
            analysis.prepare_message(message)
        message.pack()
    for event in batch.events:
        if analysis is not None:
            analysis.prepare_event(event)
        event.pack()


def _fill(fh: BinaryIO, parser: LineParser, line_count: int, limits: _Bounds) -> bool:
    """Feed the parser complete lines until its batch is full; True at the end of the file.

    ``line_count`` is the number of lines before the batch. A last line without its
    newline is still being written: it is left for the next run.
    """
    feed = parser.feed
    batch = parser.batch
    readline = fh.readline
    line_no = line_count
    max_lines, max_bytes = limits.lines, limits.nbytes
    while True:
        raw = readline()
        if not raw or raw[-1] != 0x0A:
            return True
        line_no += 1
        feed(line_no, raw)
        if batch.lines >= max_lines or batch.nbytes >= max_bytes:
            return False


def send(pipe: FileIO, payload: bytes) -> None:
    """Write one message: its length, then ``payload``."""
    pipe.write(_HEADER.pack(len(payload)))
    view = memoryview(payload)
    while view:
        written = pipe.write(view)
        view = view[written or 0 :]


def receive(pipe: FileIO) -> memoryview | None:
    """The next message written by :func:`send`, or ``None`` if the pipe ends first."""
    header = _exactly(pipe, _HEADER.size)
    if header is None:
        return None
    return _exactly(pipe, _HEADER.unpack(header)[0])


def _exactly(pipe: FileIO, length: int) -> memoryview | None:
    """Exactly ``length`` bytes, or ``None`` if the pipe ends first."""
    buffer = memoryview(bytearray(length))
    got = 0
    while got < length:
        n = pipe.readinto(buffer[got:])
        if not n:
            return None
        got += n
    return buffer


def work(jobs_fd: str, groups_fd: str) -> None:
    """The worker process: read the jobs, send groups, then ``None`` (or a traceback).

    Started by :class:`~graph.importers.worker.WorkerReader` with the two pipes' file
    descriptors.
    """
    import traceback

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent decides when to stop
    with FileIO(int(jobs_fd), "rb") as incoming:
        payload = receive(incoming)
    if payload is None:
        return  # the parent gave up before sending any work
    jobs, analysis, limits = pickle.loads(payload)  # noqa: S301 - from our parent
    with FileIO(int(groups_fd), "wb") as out:
        try:
            for group in read_here(jobs, analysis, limits, ramp=True):
                send(out, pickle.dumps(group, PROTOCOL))
            send(out, pickle.dumps(None))
        except BrokenPipeError:
            return  # the parent has stopped listening
        except Exception:  # reported to the parent, which raises
            send(out, pickle.dumps(traceback.format_exc()))
