"""The transcript formats sessiongraph reads, one module each, behind one small protocol.

A format says where its agent keeps transcripts by default (honouring the agent's own
environment variable), which files are its own, how a file maps to a session, how its
lines become format-neutral inputs (:mod:`graph.inputs`, through a line parser) or, for
a file written as one JSON document and rewritten whole, how that document does (a
document reader), and how a session is resumed. The importer, scanner and watcher
only ever ask the registry.

Adding an agent is one module with a :class:`TranscriptFormat` and one line in
:data:`FORMATS`, and its content blocks: a module under :mod:`graph.blocks`, whose
registry (by ``source``) the store and the search index read stored records with,
below the importers.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO, Final, Protocol

from graph.content import Block, Record
from graph.importers.claude_code import CLAUDE_CODE
from graph.importers.codex import CODEX
from graph.importers.files import TranscriptFile
from graph.importers.gemini import GEMINI_CLI
from graph.inputs import EventLookup

if TYPE_CHECKING:
    from graph.importers.batch import Batch

__all__ = [
    "FORMATS",
    "DocumentReader",
    "LineParser",
    "TranscriptFormat",
    "accepts",
    "classify",
    "default_locations",
    "format_for",
    "format_named",
    "sniff",
]

# The first line of a file is read up to this many bytes to tell its format.
_SNIFF_BYTES: Final = 64 << 10


class LineParser(Protocol):
    """Turns the lines of one file into batches (see ``TranscriptParser``)."""

    def resume(self, fh: BinaryIO, offset: int, state: str | None) -> None: ...

    def state(self) -> str | None: ...

    def feed(self, line_no: int, raw: bytes) -> None: ...

    def take(self) -> Batch: ...

    @property
    def batch(self) -> Batch: ...


class DocumentReader(Protocol):
    """Turns one version of a whole-file transcript into a batch."""

    def read(self, raw: bytes, first_line: int) -> Batch:
        """The batch of ``raw``, its records numbered from ``first_line + 1``."""
        ...


class TranscriptFormat(Protocol):
    """One agent's transcript format."""

    @property
    def source(self) -> str:
        """``sessions.source`` of its sessions (``claude-code``, ``codex``, ``gemini-cli``)."""
        ...

    @property
    def label(self) -> str:
        """The agent's name, for people."""
        ...

    @property
    def agent_parent(self) -> EventLookup | None:
        """Where a subagent thread's starting tool call is recorded in its session's
        stored events (for a subagent file read in a later run than that call)."""
        ...

    def default_roots(self) -> list[Path]:
        """Where the agent keeps its transcripts (existing or not)."""
        ...

    def accepts(self, path: Path) -> bool:
        """Whether a file of this name, met in a folder, may be one of its transcripts."""
        ...

    def claims(self, path: Path, first_line: bytes) -> bool:
        """Whether ``path`` (whose first line is ``first_line``) is one of its files."""
        ...

    def file_at(self, path: Path) -> TranscriptFile:
        """What the location of ``path`` says about its session and thread."""
        ...

    def subagent_files(self, transcript: Path, session_id: str) -> list[Path]:
        """The subagents' files of session ``session_id``, whose main file is
        ``transcript`` (what a hook names)."""
        ...

    def parser(
        self, path: str, *, previous_timestamp: str | None, fallback_timestamp: str
    ) -> LineParser:
        """A parser for the lines of ``path``."""
        ...

    def document_reader(self, path: str, *, fallback_timestamp: str) -> DocumentReader | None:
        """A reader of ``path`` as one document, if the format writes it so (see
        :attr:`~graph.importers.files.TranscriptFile.whole_file`); else ``None``."""
        ...

    def blocks(self, records: list[tuple[int, Record]]) -> list[Block]:
        """The content blocks of a stored message's (line, record) pairs, in Claude
        Code's block vocabulary (``graph.blocks.blocks_for(source)``)."""
        ...

    def cache_writes_1h(self, records: list[tuple[int, Record]]) -> int:
        """The cache writes with a 1-hour TTL a stored message's (line, record) pairs
        record (``graph.blocks.cache_writes_1h_for(source)``; 0 where the format records
        no TTL)."""
        ...

    def shown_model(self, model: str | None) -> str | None:
        """The model a message names, for people: ``None`` where the format records a
        placeholder instead of a model."""
        ...

    def typed_prompt(self, record: Record) -> str | None:
        """What the user typed in ``record``, if it is a prompt (a derived title's
        candidate); ``None`` for anything the agent wrote in the user's name."""
        ...

    def resume_command(self, session_id: str, cwd: str | None) -> str:
        """A shell command that resumes the session in the agent."""
        ...


FORMATS: Final[tuple[TranscriptFormat, ...]] = (CLAUDE_CODE, CODEX, GEMINI_CLI)
# Most specific first: Claude Code claims every JSONL file the others do not.
_CLAIM_ORDER: Final[tuple[TranscriptFormat, ...]] = (CODEX, GEMINI_CLI, CLAUDE_CODE)


def format_named(source: str) -> TranscriptFormat:
    """The format whose sessions have ``source``."""
    for candidate in FORMATS:
        if candidate.source == source:
            return candidate
    raise KeyError(source)


def sniff(path: Path) -> bytes:
    """The first line of ``path`` (at most 64 KiB of it); empty if it can not be read."""
    try:
        with path.open("rb") as fh:
            return fh.read(_SNIFF_BYTES).split(b"\n", 1)[0]
    except OSError:
        return b""


def format_for(path: Path) -> TranscriptFormat:
    """The format of the file at ``path``."""
    first = sniff(path)
    for candidate in _CLAIM_ORDER:
        if candidate.claims(path, first):
            return candidate
    return CLAUDE_CODE


def accepts(path: Path) -> bool:
    """Whether a file met in a folder may be a transcript of some format."""
    return any(candidate.accepts(path) for candidate in FORMATS)


def classify(path: Path) -> TranscriptFile:
    """What the file at ``path`` is, by its format's rules."""
    return format_for(path).file_at(path)


def default_locations() -> list[tuple[TranscriptFormat, Path]]:
    """Every agent's default transcript folder that exists, with its format."""
    return [(f, root) for f in FORMATS for root in f.default_roots() if root.is_dir()]
