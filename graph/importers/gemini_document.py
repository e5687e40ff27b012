"""Gemini CLI's older chat files: ``chats/session-*.json``, one JSON document each.

Older gemini-cli versions (its ``ChatRecordingService``) keep a session as one document,
``{sessionId, projectHash, startTime, lastUpdated, messages: [...]}``, pretty-printed and
rewritten whole on every change: a message is appended, or the last one is updated in
place (its tool calls, its tokens, text streamed onto it). The document is read whole
each time it changes (see :attr:`graph.importers.files.Action.REWRITE`):

- the document less its messages (the list left empty, in its place) is a
  :data:`~graph.inputs.DOCUMENT` event, whose subtype names the list's key; export puts
  the newest one back together with the current messages, equal as JSON to the file;
- each item of the list is read as a line of the JSONL form would be (see
  :mod:`graph.importers.gemini`): user and gemini messages are messages under their
  ``id``, the rest (info, error, warning) events. Items are numbered after the header,
  and a later version of the document is numbered on after the earlier one's, so each
  version of a record keeps its own line.

Drift seen in older files is read too: a ``history`` list instead of ``messages``,
items with a ``role`` and ``parts`` instead of ``type`` and ``content``, no ``id``
(such an item is known by its place in the list).
"""

from __future__ import annotations

from typing import Any, Final

import orjson

from graph.importers.batch import (
    REPAIRED_JSON,
    SKIPPED_NOT_JSON,
    SKIPPED_NOT_OBJECT,
    SKIPPED_TOO_DEEP,
    Batch,
)
from graph.importers.gemini import GeminiParser
from graph.importers.lines import MAX_DEPTH, lenient_loads, nesting_depth, normalize_timestamp
from graph.inputs import DOCUMENT, NewEvent

__all__ = ["GeminiDocumentReader"]

Record = dict[str, Any]

_LIST_KEYS: Final = ("messages", "history")
_ROLES: Final = {"user": "user", "gemini": "assistant", "model": "assistant"}


class GeminiDocumentReader(GeminiParser):
    """One version of a chat document -> a batch (an item is read like a JSONL line)."""

    def read(self, raw: bytes, first_line: int) -> Batch:
        """The batch of the document ``raw``, its records numbered from ``first_line + 1``.

        A document that is not a JSON object gives a batch with the problem only.
        """
        batch = self.batch
        batch.nbytes = len(raw)
        try:
            document = orjson.loads(raw)
        except orjson.JSONDecodeError as exc:
            try:  # valid JSON orjson refuses (a lone surrogate): kept, those values replaced
                document, notes = lenient_loads(raw)
            except ValueError:
                self._problem(first_line + 1, SKIPPED_NOT_JSON, str(exc)[:80])
                return self.take()
            if notes:
                self._problem(first_line + 1, REPAIRED_JSON, "; ".join(notes))
        if document.__class__ is not dict:
            self._problem(first_line + 1, SKIPPED_NOT_OBJECT, type(document).__name__)
            return self.take()
        key = next((k for k in _LIST_KEYS if isinstance(document.get(k), list)), None)
        items: list[Any] = document[key] if key is not None else []
        header = {**document, key: []} if key is not None else document
        # Only a document with that many brackets can nest that deeply (as for a line).
        deep = raw.count(b"{") + raw.count(b"[") > MAX_DEPTH
        line = first_line + 1
        self._header(line, header, key, batch)
        for index, item in enumerate(items):
            line += 1
            if item.__class__ is not dict:
                self._problem(line, SKIPPED_NOT_OBJECT, type(item).__name__)
            elif deep and nesting_depth(item) > MAX_DEPTH:
                self._problem(line, SKIPPED_TOO_DEEP, f"more than {MAX_DEPTH} levels")
            else:
                self._item(line, index, item, batch)
        batch.lines = line - first_line
        return self.take()

    def _header(self, line: int, header: Record, key: str | None, batch: Batch) -> None:
        ts = (
            normalize_timestamp(header.get("lastUpdated"))
            or normalize_timestamp(header.get("startTime"))
            or self._previous_ts
        )
        self._previous_ts = ts
        session_id = header.get("sessionId")
        if isinstance(session_id, str) and session_id:
            if self._subagent:
                batch.agent_id = batch.agent_id or session_id
            else:
                batch.session_id = batch.session_id or session_id
        self._summary(header, batch)
        batch.events.append(
            NewEvent(seq=line, type=DOCUMENT, timestamp=ts, record=header, subtype=key)
        )

    def _item(self, line: int, index: int, item: Record, batch: Batch) -> None:
        kind = item.get("type", item.get("role"))
        role = _ROLES.get(kind) if kind.__class__ is str else None
        if role is None:
            self._add(line, item, batch, None)  # info, error, warning: events
            return
        message_id = item.get("id")
        key = f"g:{message_id}" if isinstance(message_id, str) and message_id else f"p:{index}"
        ts = normalize_timestamp(item.get("timestamp")) or self._previous_ts
        self._previous_ts = ts
        self._chat_message(line, item, role, key, ts, batch, None)
