"""Finding transcript files and deciding how much of each one still has to be read.

Claude Code lays its transcripts out as::

    projects/<project>/<sessionId>.jsonl                        the main thread
    projects/<project>/<sessionId>/subagents/agent-<id>.jsonl   a subagent thread
    projects/<project>/agent-<id>.jsonl                         a subagent (older versions)

A path given by the user can be the ``projects`` directory, one project directory, or a
single file; everything is worked out from the path of each file, so any of them works.
"""

from __future__ import annotations

import errno
import hashlib
import os
import re
import stat
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO, Final

from graph.errors import TranscriptError

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable

    from graph.inputs import FileState

__all__ = [
    "HEAD_BYTES",
    "TAIL_BYTES",
    "Action",
    "Found",
    "Plan",
    "Skipped",
    "TranscriptFile",
    "discover",
    "encode_project",
    "files_in",
    "fingerprint",
    "has_transcripts",
    "head_of",
    "plan_file",
    "shown",
    "tail_of",
    "whole_digest",
]

HEAD_BYTES: Final = 4096
TAIL_BYTES: Final = 4096
_NOT_ALNUM = re.compile(r"[^a-zA-Z0-9]")


def encode_project(cwd: str) -> str:
    """The project folder name Claude Code uses for ``cwd`` (``/a/b.c`` -> ``-a-b-c``)."""
    return _NOT_ALNUM.sub("-", cwd)


@dataclass(frozen=True, slots=True)
class TranscriptFile:
    """One transcript file and what its location says about it.

    Attributes:
        path: Absolute path of the file.
        is_subagent: A sidechain thread (``subagents/agent-*.jsonl`` or ``agent-*.jsonl``).
        session_hint: The session id the path suggests (file stem, or the session folder
            of a ``subagents`` directory); records that carry a ``sessionId`` win over it.
        agent_hint: For a subagent, the agent id its file name gives.
        project_dir: The folder that holds the session (a Claude project folder when the
            file lives under ``projects/``).
        source: The agent that wrote it (``sessions.source``; see
            :mod:`graph.importers.formats`).
        project_hint: The project its format names from the location, if any.
        whole_file: One JSON document rewritten whole on every change (not lines that
            are appended): read whole each time it changes (see :attr:`Action.REWRITE`).
    """

    path: Path
    is_subagent: bool
    session_hint: str
    agent_hint: str
    project_dir: Path
    source: str = "claude-code"
    project_hint: str | None = None
    whole_file: bool = False

    @classmethod
    def at(cls, path: Path) -> TranscriptFile:
        """Classify ``path`` by its name and folders."""
        path = path.absolute()
        stem = path.stem
        if path.parent.name == "subagents":
            session_dir = path.parent.parent
            return cls(
                path, True, session_dir.name, stem.removeprefix("agent-"), session_dir.parent
            )
        if stem.startswith("agent-"):
            return cls(path, True, stem, stem.removeprefix("agent-"), path.parent)
        return cls(path, False, stem, "", path.parent)

    def project(self, cwd: str | None) -> str | None:
        """The session's project: its Claude project folder, else the encoded ``cwd``."""
        if self.project_hint is not None:
            return self.project_hint
        folder = self.project_dir.name
        if cwd is not None and folder == encode_project(cwd):
            return folder
        # Newer Claude Code versions shorten long folder names, so a folder directly under
        # ``projects/`` is trusted even when it does not match the encoded cwd.
        if self.project_dir.parent.name == "projects":
            return folder
        return encode_project(cwd) if cwd else None


@dataclass(frozen=True, slots=True)
class Skipped:
    """A path that looks like a transcript (or may hold some) but can not be read."""

    path: Path
    reason: str


@dataclass(slots=True)
class Found:
    """What :func:`discover` found: transcripts, and what it had to pass over."""

    files: list[TranscriptFile]
    skipped: list[Skipped]


def _reason(exc: OSError) -> str:
    return exc.strerror or type(exc).__name__


def shown(path: Path) -> str:
    """``path`` as it can be printed and stored: bytes that are not UTF-8 escaped
    (``\\xff``)."""
    return os.fsencode(path).decode(errors="backslashreplace")


def _storable(path: Path) -> bool:
    """Whether ``path`` is valid UTF-8: what its rows and file state are keyed by is
    text, and a name with other bytes (``os.fsdecode`` gives them as lone surrogates)
    can not be stored as it is."""
    try:
        str(path).encode()
    except UnicodeEncodeError:
        return False
    return True


_NOT_UTF8: Final = "path is not valid UTF-8 (not imported: rename it)"


def _jsonl(path: Path) -> bool:
    return path.suffix == ".jsonl"


def files_in(folder: Path, accepts: Callable[[Path], bool]) -> list[Path]:
    """The files directly in ``folder`` that ``accepts`` takes, sorted (none if there is
    no such folder)."""
    if not folder.is_dir():
        return []
    return sorted(path for path in folder.iterdir() if accepts(path) and path.is_file())


def _walk(
    directory: Path, skipped: list[Skipped], accepts: Callable[[Path], bool] = _jsonl
) -> Iterable[Path]:
    """The files under ``directory`` that ``accepts`` takes, outside hidden folders.

    What can not be read is added to ``skipped``: a folder that can not be listed, a
    symlink that loops or leads nowhere, a folder named ``*.jsonl``. Symlinked folders
    are not followed (as before: no loops, no file found twice).
    """

    def unlistable(exc: OSError) -> None:
        where = Path(exc.filename) if exc.filename else directory
        skipped.append(Skipped(where, f"folder not readable: {_reason(exc)}"))

    for root, folders, names in os.walk(directory, onerror=unlistable):
        here = Path(root)
        for name in folders:
            if name.endswith(".jsonl") and not name.startswith("."):
                skipped.append(Skipped(here / name, os.strerror(errno.EISDIR)))
        folders[:] = [name for name in folders if not name.startswith(".")]
        for name in names:
            path = here / name
            if name.startswith(".") or not accepts(path):
                continue
            try:
                regular = stat.S_ISREG(path.stat().st_mode)
            except OSError as exc:  # a symlink that loops (ELOOP) or is dangling (ENOENT)
                skipped.append(Skipped(path, _reason(exc)))
                continue
            if not regular:
                skipped.append(Skipped(path, "not a regular file"))
            elif _storable(path):
                yield path
            else:
                skipped.append(Skipped(path, _NOT_UTF8))


def has_transcripts(directory: Path, accepts: Callable[[Path], bool] = _jsonl) -> bool:
    """Whether ``directory`` holds a file ``accepts`` takes (outside hidden folders)."""
    return any(_walk(directory, [], accepts))


def discover(
    paths: Iterable[Path],
    classify: Callable[[Path], TranscriptFile] = TranscriptFile.at,
    accepts: Callable[[Path], bool] = _jsonl,
    *,
    empty_ok: bool = False,
) -> Found:
    """Every transcript under ``paths``: main threads first, then subagents, each sorted.

    ``classify`` tells what each file is, ``accepts`` which files in a folder may be
    transcripts (its format's rules: see :func:`graph.importers.formats.classify` and
    :func:`~graph.importers.formats.accepts`). Main threads go first so that, within one
    run, the links they record (which Task call started which agent) are known when the
    subagent files are read.

    With ``empty_ok`` (the agents' own folders, not paths a user named), a folder that
    holds no transcript yet is no error: it has none to import.

    Raises:
        TranscriptError: a path does not exist, or (unless ``empty_ok``) a folder holds
            no ``.jsonl`` transcript.
    """
    found: dict[Path, TranscriptFile] = {}
    skipped: list[Skipped] = []
    for given in paths:
        path = given.expanduser()
        if path.is_file():
            if _storable(path.absolute()):
                found.setdefault(path.absolute(), classify(path.absolute()))
            else:
                skipped.append(Skipped(path, _NOT_UTF8))
            continue
        if not path.exists():
            raise TranscriptError(f"{given}: no such file or directory")
        if not path.is_dir():
            raise TranscriptError(f"{given}: not a transcript file or directory")
        before, passed_over = len(found), len(skipped)
        for file in _walk(path, skipped, accepts):
            found.setdefault(file.absolute(), classify(file.absolute()))
        if (
            not empty_ok
            and len(found) == before
            and len(skipped) == passed_over
            and not has_transcripts(path, accepts)
        ):
            raise TranscriptError(f"{given}: no transcripts (*.jsonl) found in this directory")
    files = sorted(found.values(), key=lambda f: (f.is_subagent, str(f.path)))
    return Found(files, skipped)


def head_of(fh: BinaryIO, length: int = HEAD_BYTES) -> str:
    """A fingerprint of the first ``length`` bytes of an open file (fewer if shorter).

    The number of bytes hashed is part of the value, so a later check hashes the same
    span even after the file has grown.
    """
    fh.seek(0)
    head = fh.read(length)
    return f"{len(head)}:{_digest(head)}"


def tail_of(fh: BinaryIO, end: int, length: int = TAIL_BYTES) -> str:
    """A fingerprint of the ``length`` bytes before ``end``; the file position is kept."""
    position = fh.tell()
    start = max(end - length, 0)
    fh.seek(start)
    tail = fh.read(end - start)
    fh.seek(position)
    return f"{len(tail)}:{_digest(tail)}"


def fingerprint(fh: BinaryIO, head: str, end: int) -> str:
    """What is saved of a file read up to ``end``: its head's and that end's fingerprints.

    Stored in the ``head_hash`` column as ``"<head> <tail>"`` (states saved by earlier
    versions have the head only).
    """
    return f"{head} {tail_of(fh, end)}"


def _digest(data: bytes) -> str:
    return hashlib.blake2b(data, digest_size=16).hexdigest()


def whole_digest(data: bytes) -> str:
    """What is saved of a file read whole (``head_hash``): a digest of all of it."""
    return f"whole:{len(data)}:{_digest(data)}"


def _unchanged(path: Path, saved: str, end: int) -> bool:
    """Whether the file still has the head, and the bytes before ``end``, of ``saved``."""
    head, _, tail = saved.partition(" ")
    spans = []
    for part in (head, tail):
        length, colon, _ = part.partition(":")
        if part and not (colon and length.isdigit()):
            return False
        spans.append(int(length) if part else None)
    head_length, tail_length = spans
    if head_length is None:
        return False
    # os-level reads: this runs for every file on every run, unchanged ones included.
    fd = os.open(path, os.O_RDONLY)
    try:
        if f"{head_length}:{_digest(os.pread(fd, head_length, 0))}" != head:
            return False
        if tail_length is None:
            return True
        start = max(end - tail_length, 0)
        return f"{end - start}:{_digest(os.pread(fd, end - start, start))}" == tail
    finally:
        os.close(fd)


class Action(Enum):
    """What a run does with one file."""

    SKIP = "skip"  # unchanged since the last run
    APPEND = "append"  # read from the saved offset on
    RESET = "reset"  # truncated or replaced: forget its rows, read from the start
    # A file rewritten whole (a JSON document): read it all again, beside what is stored.
    REWRITE = "rewrite"
    NEW = "new"  # never seen: read from the start


@dataclass(frozen=True, slots=True)
class Plan:
    """A file, what is known about it, and what this run does with it."""

    file: TranscriptFile
    action: Action
    size: int
    mtime_ns: int
    state: FileState | None

    @property
    def offset(self) -> int:
        """Where reading starts."""
        return self.state.offset if self.action is Action.APPEND and self.state else 0

    @property
    def line_count(self) -> int:
        """Lines before ``offset`` (line numbers go on from here). A file rewritten
        whole numbers its records on after those of its earlier versions."""
        if self.action in (Action.APPEND, Action.REWRITE) and self.state:
            return self.state.line_count
        return 0


def plan_file(file: TranscriptFile, state: FileState | None) -> Plan:
    """Compare the file with its saved state: its size and mtime, then its content.

    The content check (the first 4 KiB, and the 4 KiB before where reading stopped)
    also runs when size and mtime are unchanged: an edit in place can keep both (the
    mtime's granularity is coarse, and tools can set it back), and would never be read.
    A file rewritten whole (:attr:`TranscriptFile.whole_file`) is compared by a digest
    of all of it when size and mtime are unchanged, and read again whole if it differs.
    """
    stat_ = file.path.stat()
    size, mtime_ns = stat_.st_size, stat_.st_mtime_ns
    if state is None:
        return Plan(file, Action.NEW, size, mtime_ns, None)
    if file.whole_file:
        same = size == state.size and mtime_ns == state.mtime_ns
        if same and whole_digest(file.path.read_bytes()) == state.head_hash:
            return Plan(file, Action.SKIP, size, mtime_ns, state)
        return Plan(file, Action.REWRITE, size, mtime_ns, state)
    if size < state.size or not _unchanged(file.path, state.head_hash, state.offset):
        return Plan(file, Action.RESET, size, mtime_ns, state)
    if size == state.size and mtime_ns == state.mtime_ns:
        return Plan(file, Action.SKIP, size, mtime_ns, state)
    return Plan(file, Action.APPEND, size, mtime_ns, state)
