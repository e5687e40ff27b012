"""Session titles and summaries from ``custom-title``, ``ai-title`` and ``summary`` records.

A record with a ``sessionId`` names its session. An old-style ``summary`` has none: its
``leafUuid`` names the last message of the conversation it sums up, often in another
file (Claude Code wrote them at the top of the next session's file, or in files of
their own), which may be read before or after it. Such records wait until the end of
the run when their leaf is not stored yet; a leaf never found leaves the record with the
session of its own file.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from graph.importers.claude_code import TITLE_RANKS

if TYPE_CHECKING:
    from graph.importers.claude_code import Batch, TitleRecord
    from graph.store import Writer
    from graph.store.transcripts import ConversationContext

__all__ = ["Titles"]


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
                session_pk, title=title_text, summary=summaries.get(session_pk)
            )
