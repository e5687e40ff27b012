"""A transcript rewritten whole, read again: store what is new in it, retire what it lost.

A format that keeps a session as one JSON document (Gemini CLI's older ``.json`` chats)
rewrites it whole on every change, so each read yields every record again. Against what
the thread already holds:

- a message whose newest stored record equals the document's is left alone; one that
  changed gets the new record beside the old (it reads as the newest); a new one is added;
- a stored message the document no longer holds is retired (its records become
  :data:`~graph.inputs.REMOVED` events: kept, no longer current);
- an event (known by its uuid, else by its record) already stored as it is is not added
  again; one the document no longer holds is retired the same way;
- a new version of the document's own fields is a new :data:`~graph.inputs.DOCUMENT`
  event, unless it equals the newest stored one.

Nothing stored is deleted: every version of a record stays in the record store.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import orjson

from graph.inputs import DOCUMENT, REMOVED

if TYPE_CHECKING:
    from graph.importers.batch import Batch
    from graph.store import Writer
    from graph.store.transcripts import ConversationContext

__all__ = ["keep_what_is_new"]


async def keep_what_is_new(
    writer: Writer, context: ConversationContext, batch: Batch, own: range
) -> None:
    """Leave in ``batch`` (a whole document, read again) only what the thread's lines
    ``own`` (its file's) lack, and retire what they hold that the document no longer does."""
    if not any(event.type == DOCUMENT for event in batch.events):
        return  # the document was not read (a write under way?): nothing to compare with
    session_pk, conversation_pk = context.session_pk, context.conversation_pk
    newest, stored_events = await writer.transcripts.thread_contents(conversation_pk, own)
    gone = {key: REMOVED for key in newest if key not in batch.messages}
    for key, message in list(batch.messages.items()):
        if key in newest and newest[key] == message.records[-1][1]:
            del batch.messages[key]
    await writer.retire_messages(session_pk, conversation_pk, gone)

    header: Any = None
    lines: dict[str, list[int]] = {}  # current events: identity -> their lines
    latest: dict[str, Any] = {}  # identity -> newest record
    for seq, uuid, kind, record in stored_events:
        if kind == DOCUMENT:
            header = record
        elif kind != REMOVED:
            identity = _identity(uuid, record)
            lines.setdefault(identity, []).append(seq)
            latest[identity] = record
    kept = []
    for event in batch.events:
        if event.type == DOCUMENT:
            if event.record != header:
                kept.append(event)
            continue
        identity = _identity(event.uuid, event.record)
        if latest.pop(identity, None) != event.record:
            kept.append(event)
        lines.pop(identity, None)
    batch.events = kept
    left_out = sorted(seq for seqs in lines.values() for seq in seqs)
    await writer.retire_events(session_pk, conversation_pk, left_out, REMOVED)


def _identity(uuid: str | None, record: Any) -> str:
    if uuid is not None:
        return f"u:{uuid}"
    return "r:" + orjson.dumps(record, option=orjson.OPT_SORT_KEYS).decode()
