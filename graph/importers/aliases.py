"""One transcript reached by another path: moved (Codex archives a rollout into
``archived_sessions``), renamed, copied, or through a symlink.

Its records are stored once. A file is one transcript with another when it holds the
bytes the other's saved state says were read (the same first 4 KiB, and the same 4 KiB
before where reading stopped: what tells an append from a replaced file, see
:func:`~graph.importers.files.plan_file`): it takes up that state (its thread, where
its lines start there, how far it was read, what its parser carried over) instead of
being read from the start. Its lines are then the same lines of the same thread: what
it holds beyond that offset, read through either path, is stored once too. A moved
file's state moves with it (its old path would otherwise read as a new file if one
appeared there, and reset the thread). A copy made before the other file was read as
far (a backup) is known by comparing it with that file, if it is still there. A file
reached twice in one run is read once; a copy met in the same run as its original is
planned once the original is stored.

Copies share their lines: one appended to otherwise than its original would have its
new lines taken for the other's. No agent does that (a resumed or forked session goes on
in its own file, or in a copy of another format: see below).

Matching is by content, not by record ids: every line format is covered alike (Codex
lines have no id, and identical lines do occur in one rollout), and a file that is
recognised is not read at all. A file rewritten whole (a Gemini CLI ``.json`` chat) is
never matched: its ``.jsonl`` successor is another file by design (see the README).
"""

from __future__ import annotations

import io
from contextlib import suppress
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO, Final

from graph.importers.files import (
    Action,
    Plan,
    TranscriptFile,
    fingerprint,
    head_of,
    plan_file,
    tail_of,
)
from graph.inputs import FileState

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence

    from graph.store import Store

__all__ = ["Heads", "distinct", "first_of_each", "take_up", "taken_up"]

_CHUNK: Final = 1 << 20


def distinct(files: Iterable[TranscriptFile]) -> list[TranscriptFile]:
    """``files`` less any that is a file already listed (a symlinked folder or file)."""
    seen: set[tuple[int, int]] = set()
    kept = []
    for file in files:
        try:
            stat = file.path.stat()
        except OSError:
            kept.append(file)  # reported when it is planned
            continue
        if (stat.st_dev, stat.st_ino) not in seen:
            seen.add((stat.st_dev, stat.st_ino))
            kept.append(file)
    return kept


async def take_up(store: Store, plans: list[Plan]) -> list[Plan]:
    """``plans``, each new file that holds what another path's saved state says was read
    planned from that state instead (saved for it now; a moved file's old one dropped)."""
    new = [p for p in plans if p.action is Action.NEW and not p.file.whole_file]
    if not new:
        return plans
    async with store.read() as reader:
        heads = Heads(await reader.transcripts.file_heads())
        like = {id(plan): heads.paths_like(plan) for plan in new}
        wanted = sorted({path for paths in like.values() for path in paths})
        known = await reader.transcripts.file_states(wanted) if wanted else {}
    taken: dict[int, tuple[FileState, str | None]] = {}
    for plan in new:
        states = [known[path] for path in like[id(plan)] if path in known]
        for state in sorted(states, key=lambda state: -state.offset):  # read furthest
            found = taken_up(plan, state)
            if found is not None:
                taken[id(plan)] = (found[0], state.path if found[1] else None)
                break
    if not taken:
        return plans
    async with store.write() as writer:
        for state, gone in taken.values():
            await writer.save_file_state(state)
            if gone is not None:  # moved: a file that appears there is another one
                await writer.transcripts.forget_file(gone)
    replanned = []
    for plan in plans:
        if id(plan) in taken:
            with suppress(OSError):  # gone meanwhile: reported when it is read
                plan = plan_file(plan.file, taken[id(plan)][0])
        replanned.append(plan)
    return replanned


class Heads:
    """The saved head fingerprints of the files stored so far, to look paths up by."""

    def __init__(self, heads: Iterable[tuple[str, str]]) -> None:
        self._paths: dict[str, list[str]] = {}
        for path, saved in heads:
            self._paths.setdefault(saved.partition(" ")[0], []).append(path)
        # A head is shorter than 4 KiB where its file was then: each length is tried.
        lengths = {_length(head) for head in self._paths}
        self._lengths = sorted(length for length in lengths if length)

    def paths_like(self, plan: Plan) -> list[str]:
        """The other paths whose saved head ``plan``'s file starts with."""
        if not self._lengths:
            return []
        try:
            with plan.file.path.open("rb") as fh:
                data = fh.read(self._lengths[-1])
        except OSError:
            return []  # reported when it is read
        start, size, own = io.BytesIO(data), len(data), str(plan.file.path)
        return [
            path
            for length in self._lengths
            if length <= size
            for path in self._paths.get(head_of(start, length), ())
            if path != own
        ]


def first_of_each(plans: Sequence[Plan]) -> tuple[list[Plan], list[Plan]]:
    """``plans`` split into those to read now and the new files that start like an
    earlier new one (a copy met in the same run): those wait until that one is stored."""
    now: list[Plan] = []
    later: list[Plan] = []
    heads: set[str] = set()
    for plan in plans:
        head = _head(plan) if plan.action is Action.NEW and not plan.file.whole_file else None
        (later if head is not None and head in heads else now).append(plan)
        if head is not None:
            heads.add(head)
    return now, later


def taken_up(plan: Plan, known: FileState) -> tuple[FileState, bool] | None:
    """The state ``plan``'s new file takes over from ``known`` (of another path), and
    whether that path is gone (moved); ``None`` if the file is not that transcript."""
    old = Path(known.path)
    moved = not old.exists()
    try:
        with plan.file.path.open("rb") as fh:
            if plan.size >= known.offset and _holds(fh, known.head_hash, known.offset):
                return replace(known, path=str(plan.file.path)), moved
            if moved or plan.size >= known.offset:
                return None
            # A copy made before the other file was read this far: already stored if
            # its bytes are the other's first ones.
            with old.open("rb") as other:
                state = _prefix_state(fh, other, plan, known)
            return None if state is None else (state, False)
    except OSError:
        return None


def _head(plan: Plan) -> str | None:
    try:
        with plan.file.path.open("rb") as fh:
            return head_of(fh)
    except OSError:
        return None  # reported when it is read


def _length(part: str) -> int | None:
    length, colon, _ = part.partition(":")
    return int(length) if colon and length.isdigit() else None


def _holds(fh: BinaryIO, saved: str, end: int) -> bool:
    """Whether the open file has the head, and the bytes before ``end``, of a saved
    fingerprint (see :func:`~graph.importers.files.fingerprint`)."""
    head, _, tail = saved.partition(" ")
    length = _length(head)
    if length is None or head_of(fh, length) != head:
        return False
    return not tail or tail_of(fh, end) == tail


def _prefix_state(fh: BinaryIO, other: BinaryIO, plan: Plan, known: FileState) -> FileState | None:
    """A state for a file whose complete lines are all among the first ``known.offset``
    bytes of ``other`` (which must still be what ``known`` read): read that far. A last
    line without its newline is left to wait for it, as a read would."""
    if not _holds(other, known.head_hash, known.offset):
        return None
    end = lines = 0
    fh.seek(0)
    while chunk := fh.read(_CHUNK):
        newline = chunk.rfind(b"\n")
        if newline >= 0:
            end = fh.tell() - len(chunk) + newline + 1
        lines += chunk.count(b"\n")
    if end == 0:
        return None
    fh.seek(0)
    other.seek(0)
    for start in range(0, end, _CHUNK):
        size = min(_CHUNK, end - start)
        if fh.read(size) != other.read(size):
            return None
    return FileState(
        str(plan.file.path),
        known.conversation_pk,
        plan.size,
        plan.mtime_ns,
        fingerprint(fh, head_of(fh), end),
        end,
        lines,
        None,  # its parser replays these lines if the file grows
        known.line_base,
    )
