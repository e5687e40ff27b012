"""Session titles and summaries from ``custom-title``, ``ai-title`` and ``summary`` records,
and derived titles for the sessions that have none of those.

A record with a ``sessionId`` names its session. An old-style ``summary`` has none: its
``leafUuid`` names the last message of the conversation it sums up, often in another
file (Claude Code wrote them at the top of the next session's file, or in files of
their own), which may be read before or after it. Such records wait until the end of
the run when their leaf is not stored yet; a leaf never found leaves the record with the
session of its own file.

A session without a title record gets one derived from its first real prompt, else its
slug (:func:`derive_titles`); ``sessions.title_source`` says which, and a title record
arriving later replaces it. A derived title is stored with its secrets masked, whether
or not the import redacts the records (see :func:`graph.importers.prompts.title_of`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Final

import orjson

from graph.importers.claude_code import TITLE_RANKS
from graph.importers.formats import format_named
from graph.importers.history import history_title
from graph.importers.prompts import prompt_title
from graph.secrets import default_scanner
from graph.store.prompt_history import HISTORY_THREAD

if TYPE_CHECKING:
    from graph.crypto import Codec
    from graph.importers.batch import Batch, TitleRecord
    from graph.store import Store, Writer
    from graph.store.titling import UntitledSession
    from graph.store.transcripts import ConversationContext

__all__ = ["Titles", "backfill_titles", "derive_titles", "derived_title"]

# sessions.title_source of a title record, by its rank (migration 0007).
_SOURCES: Final = {
    TITLE_RANKS["custom-title"]: "custom",
    TITLE_RANKS["ai-title"]: "ai",
    TITLE_RANKS["summary"]: "summary",
}
# How many user messages of a thread are looked at for a prompt before giving up.
_PROMPTS_READ: Final = 200


class Titles:
    """Applies title records as batches are stored, and the waiting ones at the end."""

    def __init__(self) -> None:
        # (session_pk of the record's file, record) whose leaf is not stored yet.
        self._waiting: list[tuple[int, TitleRecord]] = []
        self._leaves: set[str] = set()
        # Waiting leaves met in the rows of files read afterwards: leaf -> session_pk.
        self._found: dict[str, int] = {}

    def observe(self, session_pk: int, batch: Batch) -> None:
        """Note which waiting leaves are rows of ``batch`` (stored in ``session_pk``)."""
        if not self._leaves:
            return
        leaves = self._leaves
        for message in batch.messages.values():
            # From the uuids, not the records: a packed message would decode them.
            for uuid in (message.uuid, *message.later_uuids):
                if uuid in leaves:
                    self._found[uuid] = session_pk

    async def store(
        self, writer: Writer, context: ConversationContext, titles: list[TitleRecord]
    ) -> None:
        """Apply the title records of one batch of the file of ``context``."""
        queries = writer.transcripts
        resolved: list[tuple[int, TitleRecord]] = []
        for title in titles:
            target: int | None = context.session_pk
            if title.session_id is not None and title.session_id != context.session_id:
                target = await queries.session_pk_of_session_id(title.session_id) or target
            elif title.session_id is None and title.leaf_uuid is not None:
                target = await queries.session_pk_of_message_uuid(title.leaf_uuid)
            if target is None:
                assert title.leaf_uuid is not None
                self._waiting.append((context.session_pk, title))
                self._leaves.add(title.leaf_uuid)
            else:
                resolved.append((target, title))
        await _apply(writer, resolved)

    @property
    def waiting(self) -> bool:
        return bool(self._waiting)

    async def finish(self, writer: Writer) -> None:
        """Apply the waiting records: to their leaf's session if now known, else their own."""
        queries = writer.transcripts
        resolved = []
        for own_pk, title in self._waiting:
            leaf = title.leaf_uuid
            assert leaf is not None
            target = self._found.get(leaf)
            if target is None:
                target = await queries.session_pk_of_message_uuid(leaf)
            if target is None:
                target = await queries.session_pk_of_record_uuid(leaf)
            resolved.append((target or own_pk, title))
        self._waiting.clear()
        self._leaves.clear()
        self._found.clear()
        await _apply(writer, resolved)


async def _apply(writer: Writer, resolved: list[tuple[int, TitleRecord]]) -> None:
    """Set each session's title and summary from its best, then latest, record.

    A title is only set when no record of a higher rank is stored for the session (a
    generated title arriving after the user's rename does not replace it).
    """
    best: dict[int, TitleRecord] = {}
    summaries: dict[int, str] = {}
    for session_pk, title in resolved:
        if title.title is not None:
            current = best.get(session_pk)
            if current is None or title.rank >= current.rank:
                best[session_pk] = title
        if title.summary is not None:
            summaries[session_pk] = title.summary
    for session_pk in sorted(best.keys() | summaries.keys()):
        title_text = None
        chosen = best.get(session_pk)
        if chosen is not None:
            stored = await writer.transcripts.best_title_rank(session_pk, TITLE_RANKS)
            title_text = chosen.title if chosen.rank >= stored else None
        if title_text is not None or session_pk in summaries:
            await writer.set_session_text(
                session_pk,
                title=title_text,
                summary=summaries.get(session_pk),
                title_source=_SOURCES[chosen.rank] if chosen is not None else None,
            )


async def derive_titles(writer: Writer, codec: Codec, session_pks: Sequence[int]) -> int:
    """Give those of ``session_pks`` that have no title record a derived title.

    The first real prompt of the main thread wins over the slug; a session titled by its
    slug is looked at again (its first prompt may have arrived since); one titled by a
    record or a prompt is left alone.

    Returns:
        How many sessions got a title or a better one.
    """
    changed = 0
    for session in await writer.transcripts.sessions_to_title(session_pks):
        title = await _first_prompt(writer, session.pk, session.source)
        if title is not None:
            await writer.set_session_text(session.pk, title=title, title_source="prompt")
            changed += 1
        elif session.title_source is None:
            slug = _slug(codec, session)
            if slug is not None:
                await writer.set_session_text(session.pk, title=slug, title_source="slug")
                changed += 1
    return changed


async def backfill_titles(store: Store) -> int:
    """Derive the titles of sessions stored before titles were derived (migration 0007).

    One transaction per batch, resuming from the cursor the migration left, so that an
    interrupted run carries on; nothing to do (one statement) once it has run.
    """
    changed = 0
    while True:
        async with store.write() as writer:
            pks = await writer.transcripts.next_untitled_sessions()
            if pks is None:
                return changed
            changed += await derive_titles(writer, store.codec, pks)


async def derived_title(writer: Writer, session_pk: int, source: str) -> str | None:
    """The title of a session titled by its first prompt, derived again from the prompts
    stored (main thread, else the prompt history): what ``secrets redact`` puts in place
    of a title cut before titles were masked, which may hold the start of a secret."""
    title = await _first_prompt(writer, session_pk, source)
    if title is not None:
        return title
    async for records in writer.transcripts.main_thread_prompts(session_pk, HISTORY_THREAD):
        return next((history_title(r) for _, r in records if isinstance(r, dict)), None)
    return None


async def _first_prompt(writer: Writer, session_pk: int, source: str) -> str | None:
    typed = format_named(source).typed_prompt
    # The rules the search index leaves secrets out by: the title is indexed too.
    mask = default_scanner().mask
    read = 0
    async for records in writer.transcripts.main_thread_prompts(session_pk):
        title = prompt_title(records, typed, mask)
        read += 1
        if title is not None or read >= _PROMPTS_READ:
            return title
    return None


def _slug(codec: Codec, session: UntitledSession) -> str | None:
    if session.metadata is None:
        return None
    facts: Any = orjson.loads(
        codec.open("sessions", "metadata", session.session_id, session.metadata)
    )
    slug = facts.get("slug") if isinstance(facts, dict) else None
    return slug if isinstance(slug, str) and slug else None
