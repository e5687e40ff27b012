"""``import_paths``: read what is new in each transcript file and store it, batch by batch.

Each batch (a few thousand lines of one file) is stored in a write transaction that
also saves how far the file was read, so an interrupted import leaves no rows without
their file state, and the next run carries on from the last committed batch. Files are
streamed line by line (by :mod:`graph.importers.reading`, in a worker process for a
large import); memory stays bounded by the batch size whatever the size of the corpus.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Final

from graph.errors import SessionSourceConflict
from graph.importers import aliases, reading
from graph.importers.batch import SOURCE_CONFLICT, UNREADABLE, Batch, Problem
from graph.importers.documents import keep_what_is_new
from graph.importers.files import (
    Action,
    Found,
    Plan,
    TranscriptFile,
    discover,
    plan_file,
    shown,
)
from graph.importers.formats import accepts, classify, format_named
from graph.importers.reading import FileJob, Limits, Piece, read_here
from graph.importers.summary import ImportProgress, ImportSummary
from graph.importers.titles import Titles, backfill_titles, derive_titles
from graph.importers.worker import WORKER_MIN_BYTES, WorkerReader
from graph.inputs import FILE_LINES
from graph.search.analysis import Analysis
from graph.secrets import redact_on_import
from graph.store import Added, FileState, NewConversation, NewSession
from graph.store.indexing import SearchIndexer
from graph.store.transcripts import ConversationContext

if TYPE_CHECKING:
    from pathlib import Path

    from graph.store import Store, Writer

__all__ = ["BATCH_BYTES", "BATCH_LINES", "import_paths"]

# What one batch, and one write transaction, holds at most (tests make them smaller).
log = logging.getLogger(__name__)
# Plans that carry on with what is stored of a file (its thread and line numbers).
_GOES_ON: Final = (Action.APPEND, Action.REWRITE)

BATCH_LINES: Final = reading.BATCH_LINES
BATCH_BYTES: Final = reading.BATCH_BYTES


async def import_paths(
    store: Store,
    paths: list[Path],
    *,
    progress: ImportProgress | None = None,
    worker: bool | None = None,
    redact: bool | None = None,
    defaults: bool = False,
) -> ImportSummary:
    """Import every Claude Code transcript under ``paths`` that has something new.

    Args:
        store: An open, migrated store.
        paths: Projects directories, project directories or single ``.jsonl`` files.
        progress: Told about files, lines and bytes as they are stored.
        worker: Read in a worker process, beside the writes (``None``: when there are
            at least :data:`~graph.importers.worker.WORKER_MIN_BYTES` to read).
        redact: Replace secrets in the records before they are stored (the records
            are then no longer the original ones; the files are not touched).
            ``None``: as ``secrets.toml``'s ``redact_on_import`` says.
        defaults: ``paths`` are the agents' own folders, not named by the user: one
            that holds no transcript (yet) is not an error.

    Raises:
        TranscriptError: a path does not exist or (unless ``defaults``) holds no
            transcript.
        WorkerError: the worker process failed (what was committed before stays).
    """
    started = time.perf_counter()
    found = discover(paths, classify, accepts, empty_ok=defaults)
    await backfill_titles(store)  # once per database, after migration 0007
    importer = _Importer(store, progress, worker, redact_on_import(redact))
    summary = await importer.run(found)
    summary.seconds = time.perf_counter() - started
    return summary


@dataclass(slots=True)
class _Chunk:
    """One batch of one file, with where reading got to after it."""

    plan: Plan
    batch: Batch
    head: str
    offset: int
    line_count: int
    first: bool
    last: bool
    resume: str | None


class _Importer:
    def __init__(
        self, store: Store, progress: ImportProgress | None, worker: bool | None, redact: bool
    ) -> None:
        self.store = store
        self.redact = redact
        self.progress = progress
        self.worker = worker
        self.summary = ImportSummary()
        # Where each file's rows go, once known: path -> its thread, and where its lines
        # start there (a file that joins a thread another file holds has lines of its own).
        self.contexts: dict[str, ConversationContext] = {}
        self.bases: dict[str, int] = {}
        # (session_pk, agentId) -> Task tool_use id, from the main threads read so far.
        self.links: dict[tuple[int, str], str] = {}
        self.titles = Titles()
        self.unreadable: list[Problem] = []
        # Files whose session another agent's session has: reported, their rows left out
        # and their state unsaved (a later run reports them again).
        self.refused: set[str] = set()

    async def run(self, found: Found) -> ImportSummary:
        files = aliases.distinct(found.files)  # a file reached twice (a symlink): once
        summary = self.summary
        summary.files = len(files)
        self.unreadable += [
            Problem(shown(skipped.path.absolute()), 0, UNREADABLE, skipped.reason)
            for skipped in found.skipped
        ]
        async with self.store.read() as reader:
            states = await reader.transcripts.file_states([str(f.path) for f in files])
        plans = self._plan(files, states)
        # A copy of a file new in this run is planned once that file is stored: it is then
        # known as the same transcript (see graph.importers.aliases).
        plans, later = aliases.first_of_each(plans)
        plans = await self._take_up(plans)
        if self.progress is not None:
            every = plans + later
            self.progress.start(len(every), sum(max(p.size - p.offset, 0) for p in every))
        await self._read(plans)
        if later:
            await self._read(await self._take_up(later))
        if plans or later:
            async with self.store.write() as writer:
                if self.titles.waiting:
                    await self.titles.finish(writer)
                # After the title records of this run: they win over a derived title.
                touched = sorted({context.session_pk for context in self.contexts.values()})
                await derive_titles(writer, self.store.codec, touched)
                self._count(writer.added)
        summary.add_problems(self.unreadable)
        return summary

    def _count(self, added: Added) -> None:
        """Add what a committed transaction inserted (not what other writers did)."""
        summary = self.summary
        summary.sessions_added += added.sessions
        summary.conversations_added += added.conversations
        summary.messages_added += added.messages
        summary.events_added += added.events

    def _plan(self, files: list[TranscriptFile], states: dict[str, FileState]) -> list[Plan]:
        plans = []
        for file in files:
            try:
                plan = plan_file(file, states.get(str(file.path)))
            except OSError as exc:
                self.unreadable.append(Problem(str(file.path), 0, UNREADABLE, _reason(exc)))
                continue
            if plan.action is Action.SKIP:
                self.summary.files_unchanged += 1
            else:
                plans.append(plan)
        return plans

    async def _take_up(self, plans: list[Plan]) -> list[Plan]:
        """Plans of new files that are stored transcripts (moved, copied...) go on from
        their states (see graph.importers.aliases): those unchanged are skipped."""
        kept = []
        for plan in await aliases.take_up(self.store, plans):
            if plan.action is Action.SKIP:
                self.summary.files_unchanged += 1
            else:
                kept.append(plan)
        return kept

    async def _read(self, plans: list[Plan]) -> None:
        """Read and store what ``plans`` say, those that carry on with a stored file
        checked first (see below)."""
        known = [p.state.conversation_pk for p in plans if p.action in _GOES_ON and p.state]
        if any(pk is not None for pk in known):
            async with self.store.read() as reader:
                by_pk = await reader.transcripts.conversation_contexts(
                    [pk for pk in known if pk is not None]
                )
            plans = [self._check_append(plan, by_pk) for plan in plans]
        if plans:
            await self._import_all(plans)

    def _check_append(self, plan: Plan, by_pk: dict[int, ConversationContext]) -> Plan:
        if plan.action not in _GOES_ON or plan.state is None:
            return plan
        pk = plan.state.conversation_pk
        if pk is None:
            return plan  # nothing stored from it yet (blank or bad lines so far)
        context = by_pk.get(pk)
        if context is None:  # its rows were deleted: read it all again
            return plan if plan.action is Action.REWRITE else replace(plan, action=Action.RESET)
        self.contexts[str(plan.file.path)] = context
        self.bases[str(plan.file.path)] = plan.state.line_base
        return plan

    async def _import_all(self, plans: list[Plan]) -> None:
        jobs = [self._job(plan) for plan in plans]
        limits = Limits(BATCH_LINES, BATCH_BYTES)
        analysis = _analysis(self.store)
        if self.redact and analysis is not None:
            analysis = analysis.redacting()
        use_worker = self.worker
        if use_worker is None:
            use_worker = sum(max(p.size - p.offset, 0) for p in plans) >= WORKER_MIN_BYTES
        reader = None
        if use_worker:
            try:
                reader = WorkerReader()
            except OSError as exc:  # no process to be had (limits): read here instead
                log.warning("could not start the import worker (%s); reading in-process", exc)
        if reader is None:
            for group in read_here(jobs, analysis, limits):
                await self._group(plans, group)
            return
        try:
            async with self.store.bulk():
                async for group in reader.groups(jobs, analysis, limits):
                    await self._group(plans, group)
        finally:
            reader.close()

    async def _group(self, plans: list[Plan], group: list[Piece]) -> None:
        for piece in group:
            if piece.problem is not None:
                self.unreadable.append(piece.problem)
        chunks = [_chunk(plans[p.job], p) for p in group if p.problem is None]
        if chunks:
            await self._write(chunks)

    def _job(self, plan: Plan) -> FileJob:
        path = str(plan.file.path)
        context = self.contexts.get(path)
        previous = context.ended_at if context else None
        return FileJob(
            path,
            plan.offset,
            plan.line_count,
            previous,
            plan.mtime_ns,
            plan.size,
            plan.file.source,
            plan.file.whole_file,
            plan.state.resume if plan.action is Action.APPEND and plan.state else None,
        )

    async def _write(self, chunks: list[_Chunk]) -> None:
        """Store chunks (of different files) and their files' states in one transaction."""
        async with self.store.write() as writer:
            for chunk in chunks:
                path = str(chunk.plan.file.path)
                if path in self.refused:
                    continue
                try:
                    await self._store_chunk(writer, chunk)
                except SessionSourceConflict as exc:
                    # Raised before the file's first row is written: the others go on.
                    self.refused.add(path)
                    self.unreadable.append(Problem(path, 0, SOURCE_CONFLICT, str(exc)))
        self._count(writer.added)
        for chunk in chunks:
            if str(chunk.plan.file.path) in self.refused:
                continue
            plan, batch = chunk.plan, chunk.batch
            summary = self.summary
            if chunk.first:
                summary.files_read += 1
                summary.files_reset += plan.action is Action.RESET
            summary.lines_read += batch.lines
            summary.bytes_read += batch.nbytes
            summary.messages_written += len(batch.messages)
            context = self.contexts.get(str(plan.file.path))
            if context is not None:
                summary.sessions.add(context.session_id)
            summary.add_problems(batch.problems)
            if self.progress is not None:
                self.progress.advance(lines=batch.lines, nbytes=batch.nbytes, files=int(chunk.last))

    async def _store_chunk(self, writer: Writer, chunk: _Chunk) -> None:
        plan, batch = chunk.plan, chunk.batch
        path = str(plan.file.path)
        context = self.contexts.get(path)
        # Until the end is reached the saved size must differ from the file's, or a run
        # after a crash would take the rest of the file as already read.
        size = plan.size if chunk.last else chunk.offset
        if chunk.first and plan.action is Action.RESET and plan.state is not None:
            if plan.state.conversation_pk is not None:
                await _forget(writer, plan.state.conversation_pk, plan.state.line_base)
            context = None
        if plan.action is Action.REWRITE and context is not None:
            base = self.bases.get(path, 0)
            await keep_what_is_new(writer, context, batch, range(base, base + FILE_LINES))
        context = await self._store_batch(writer, plan.file, context, batch)
        await writer.save_file_state(
            FileState(
                path,
                context.conversation_pk if context else None,
                size,
                plan.mtime_ns,
                chunk.head,
                chunk.offset,
                chunk.line_count,
                chunk.resume,
                self.bases.get(path, 0),
            )
        )
        if context is not None:
            # Set before the commit: the next chunk of this file may share the
            # transaction. A failed transaction ends the import, so none outlives it.
            self.contexts[path] = context

    async def _store_batch(
        self,
        writer: Writer,
        file: TranscriptFile,
        context: ConversationContext | None,
        batch: Batch,
    ) -> ConversationContext | None:
        path = str(file.path)
        if context is None:
            if not (batch.messages or batch.events):
                return None  # nothing to attach yet (blank or bad lines only)
            context = await self._open_conversation(writer, file, batch)
            # The file's first rows: in a thread that another file already holds (Gemini
            # CLI goes on with an old chat in a copy), its lines go after that file's.
            self.bases[path] = await writer.transcripts.free_line_base(
                context.conversation_pk, path
            )
        elif batch.cwd or batch.git_branch or batch.version or batch.metadata():
            await writer.upsert_session(_new_session(context.session_id, file, batch))
        batch.move_lines(self.bases.get(path, 0))
        session_pk, conversation_pk = context.session_pk, context.conversation_pk
        if batch.retired:  # before the batch's messages: one may come back under its key
            await writer.retire_messages(
                session_pk, conversation_pk, batch.retired, batch.retired_uuids
            )
        if batch.messages:
            await writer.add_messages(session_pk, conversation_pk, list(batch.messages.values()))
        if batch.events:
            await writer.add_events(session_pk, conversation_pk, batch.events)
        for agent, tool_use_id in batch.agent_links.items():
            self.links[(session_pk, agent)] = tool_use_id
            await writer.transcripts.link_agent(session_pk, agent, tool_use_id)
        if batch.titles:
            await self.titles.store(writer, context, batch.titles)
        self.titles.observe(session_pk, batch)
        return context

    async def _open_conversation(
        self, writer: Writer, file: TranscriptFile, batch: Batch
    ) -> ConversationContext:
        # A file can say that it is another session's thread (its location, or a record).
        sidechain = file.is_subagent or batch.parent_session_id is not None
        session_id = batch.parent_session_id or batch.session_id or file.session_hint
        session_pk = await writer.upsert_session(_new_session(session_id, file, batch))
        agent_id = (batch.agent_id or file.agent_hint) if sidechain else ""
        parent = None
        if sidechain:
            parent = self.links.get((session_pk, agent_id))
            lookup = format_named(file.source).agent_parent
            if parent is None and lookup is not None:
                parent = await writer.transcripts.first_event_value(session_pk, lookup, agent_id)
        conversation_pk = await writer.upsert_conversation(
            session_pk, NewConversation(agent_id, sidechain, parent)
        )
        return ConversationContext(session_pk, session_id, conversation_pk, agent_id, None)


async def _forget(writer: Writer, conversation_pk: int, base: int) -> None:
    """Delete what a file read again from its start stored: its thread, or only its lines
    where other files' lines share the thread."""
    own = range(base, base + FILE_LINES)
    if await writer.transcripts.thread_line_ranges(conversation_pk) in ([], [own]):
        await writer.clear_conversation(conversation_pk)
    else:
        await writer.clear_lines(conversation_pk, own)


def _new_session(session_id: str, file: TranscriptFile, batch: Batch) -> NewSession:
    if batch.parent_session_id is not None:
        # A thread that names its session (a Codex sub-agent's rollout): the session's
        # facts are its own file's, not those of a thread it spawned.
        return NewSession(session_id=session_id, source=file.source)
    return NewSession(
        session_id=session_id,
        source=file.source,
        project=file.project(batch.cwd),
        cwd=batch.cwd,
        git_branch=batch.git_branch,
        version=batch.version,
        metadata=batch.metadata(),
    )


def _chunk(plan: Plan, piece: Piece) -> _Chunk:
    return _Chunk(
        plan,
        piece.batch,
        piece.head,
        piece.offset,
        piece.line_count,
        piece.first,
        piece.last,
        piece.resume,
    )


def _analysis(store: Store) -> Analysis | None:
    """How the store's search index analyzes text, so batches come with documents."""
    for hook in store.hooks:
        if isinstance(hook, SearchIndexer):
            return hook.analysis
    return None


def _reason(exc: OSError) -> str:
    return exc.strerror or type(exc).__name__
