"""Finding transcript files and deciding how much of each one still has to be read.

Claude Code lays its transcripts out as::

    projects/<project>/<sessionId>.jsonl                        the main thread
    projects/<project>/<sessionId>/subagents/agent-<id>.jsonl   a subagent thread
    projects/<project>/agent-<id>.jsonl                         a subagent (older versions)

A path given by the user can be the ``projects`` directory, one project directory, or a
single file; everything is worked out from the path of each file, so any of them works.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO, Final

from graph.errors import TranscriptError

if TYPE_CHECKING:
    from collections.abc import Iterable

    from graph.store import FileState

__all__ = [
    "HEAD_BYTES",
    "Action",
    "Plan",
    "TranscriptFile",
    "discover",
    "encode_project",
    "head_hash",
    "head_of",
    "plan_file",
]

HEAD_BYTES: Final = 4096
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
    """

    path: Path
    is_subagent: bool
    session_hint: str
    agent_hint: str
    project_dir: Path

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
        folder = self.project_dir.name
        if cwd is not None and folder == encode_project(cwd):
            return folder
        # Newer Claude Code versions shorten long folder names, so a folder directly under
        # ``projects/`` is trusted even when it does not match the encoded cwd.
        if self.project_dir.parent.name == "projects":
            return folder
        return encode_project(cwd) if cwd else None


def _walk(directory: Path) -> Iterable[Path]:
    for path in directory.rglob("*.jsonl"):
        relative = path.relative_to(directory).parts
        if not any(part.startswith(".") for part in relative) and path.is_file():
            yield path


def discover(paths: Iterable[Path]) -> list[TranscriptFile]:
    """Every transcript under ``paths``: main threads first, then subagents, each sorted.

    Main threads go first so that, within one run, the links they record (which Task
    call started which agent) are known when the subagent files are read.

    Raises:
        TranscriptError: a path does not exist, or holds no ``.jsonl`` transcript.
    """
    found: dict[Path, TranscriptFile] = {}
    for given in paths:
        path = given.expanduser()
        if path.is_file():
            found.setdefault(path.absolute(), TranscriptFile.at(path))
            continue
        if not path.exists():
            raise TranscriptError(f"{given}: no such file or directory")
        if not path.is_dir():
            raise TranscriptError(f"{given}: not a transcript file or directory")
        before = len(found)
        for file in _walk(path):
            found.setdefault(file.absolute(), TranscriptFile.at(file))
        if len(found) == before and not any(_walk(path)):
            raise TranscriptError(
                f"{given}: no Claude Code transcripts (*.jsonl) found in this directory"
            )
    return sorted(found.values(), key=lambda f: (f.is_subagent, str(f.path)))


def head_of(fh: BinaryIO, length: int = HEAD_BYTES) -> str:
    """A fingerprint of the first ``length`` bytes of an open file (fewer if shorter).

    The number of bytes hashed is part of the value, so a later check hashes the same
    span even after the file has grown.
    """
    fh.seek(0)
    head = fh.read(length)
    return f"{len(head)}:{hashlib.blake2b(head, digest_size=16).hexdigest()}"


def head_hash(path: Path, length: int = HEAD_BYTES) -> str:
    """:func:`head_of` the file at ``path``."""
    with path.open("rb") as fh:
        return head_of(fh, length)


class Action(Enum):
    """What a run does with one file."""

    SKIP = "skip"  # unchanged since the last run
    APPEND = "append"  # read from the saved offset on
    RESET = "reset"  # truncated or replaced: forget its rows, read from the start
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
        """Lines before ``offset`` (line numbers go on from here)."""
        return self.state.line_count if self.action is Action.APPEND and self.state else 0


def plan_file(file: TranscriptFile, state: FileState | None) -> Plan:
    """Compare the file with its saved state (stat first; the head only when it changed)."""
    stat = file.path.stat()
    size, mtime_ns = stat.st_size, stat.st_mtime_ns
    if state is None:
        return Plan(file, Action.NEW, size, mtime_ns, None)
    if size == state.size and mtime_ns == state.mtime_ns:
        return Plan(file, Action.SKIP, size, mtime_ns, state)
    length, colon, _ = state.head_hash.partition(":")
    if (
        size < state.size
        or not (colon and length.isdigit())
        or head_hash(file.path, int(length)) != state.head_hash
    ):
        return Plan(file, Action.RESET, size, mtime_ns, state)
    return Plan(file, Action.APPEND, size, mtime_ns, state)
