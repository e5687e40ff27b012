"""Write one session back out: the original records (jsonl, json) or a readable transcript.

``jsonl`` is the lossless form: every record of the main thread, then of each subagent
thread, in line order, each one the JSON object that was imported. A message's records
and the events between them are interleaved again by their line numbers. A thread read
from a file written as one JSON document (see :data:`~graph.inputs.DOCUMENT`) is that
document, on one line: its newest version, put back together. A thread read from more
than one file (Gemini CLI goes on with an old chat document in a ``.jsonl`` copy) is
each file in turn: each one has line numbers of its own (:data:`~graph.inputs.FILE_LINES`).
Rows are read a page at a time and written as they come, so a large session is not held
in memory.
"""

from __future__ import annotations

import heapq
import itertools
from contextlib import aclosing
from typing import TYPE_CHECKING, Any, Protocol

import orjson

from graph.content import Record
from graph.crypto import Codec, DecryptionFailed, PlainCodec
from graph.errors import UserInputError
from graph.export_format import ExportFormat
from graph.export_markdown import render_event, render_message, session_header
from graph.importers.formats import format_named
from graph.inputs import DOCUMENT, FILE_LINES, REMOVED
from graph.jsontext import deep_recursion, dumps, loads
from graph.secrets import SecretScanner
from graph.secrets.json_walk import map_strings
from graph.store.rows import EventRow, MessageRow

if TYPE_CHECKING:
    from collections.abc import AsyncGenerator, Callable

    from graph.store import ConversationRow, Reader, SessionRow, Store

__all__ = [
    "ExportFormat",
    "Output",
    "SecretPass",
    "export_session",
    "session_document",
    "thread_document",
    "thread_records",
]

_END = float("inf")


class Output(Protocol):
    """Where an export goes: a binary file, or anything with its ``write``."""

    def write(self, data: bytes, /) -> int: ...


class SecretPass:
    """What an export does with the secrets it writes: counts them, and masks them
    (``[REDACTED:kind:fingerprint]``) unless told to write the original values."""

    def __init__(self, scanner: SecretScanner, *, mask: bool) -> None:
        self.scanner = scanner
        self.mask = mask
        self.found = 0

    def text(self, value: str, key: str | None = None) -> str:
        """A text, or a JSON string value (``key``: the key it is the value of)."""
        findings = self.scanner.findings(value, key)
        if not findings:
            return value
        self.found += len(findings)
        return self.scanner.mask(value, findings) if self.mask else value

    def json(self, value: Any) -> Any:
        return map_strings(value, self.text, self.text)

    def deep(self, value: Any) -> Any:
        """:meth:`json`, for values as deep as an earlier version may have stored."""
        with deep_recursion():
            return self.json(value)


def _keep(value: Any) -> Any:
    return value


async def export_session(
    store: Store,
    session_id: str,
    out: Output,
    fmt: ExportFormat = ExportFormat.JSONL,
    secrets: SecretPass | None = None,
) -> int:
    """Write the session with Claude ``sessionId`` ``session_id`` to ``out``.

    ``secrets`` sees every value written (and may mask it); without one, values are
    written as stored.

    Returns:
        The number of records written (for markdown: records rendered or skipped).

    Raises:
        UserInputError: no session has that id.
    """
    async with store.read() as reader:
        found = (await reader.sessions_by_session_id([session_id]))[0]
        if found is None:
            raise UserInputError(f"no session with id {session_id!r} in the database")
        conversations = (await reader.conversations_of_sessions([found.id]))[0]
        codec = store.codec
        seen = secrets.deep if secrets is not None else _keep
        if fmt is ExportFormat.JSONL:
            return await _write_jsonl(reader, codec, conversations, out, seen)
        if fmt is ExportFormat.JSON:
            return await _write_json(reader, codec, found, conversations, out, seen)
        return await _write_markdown(reader, codec, found, conversations, out, seen)


async def thread_records(
    reader: Reader,
    conversation_pk: int,
    codec: Codec | None = None,
    seen: Callable[[Any], Any] = _keep,
    lines: range | None = None,
) -> AsyncGenerator[tuple[int, Record], None]:
    """Every (line number, record) of a thread (in ``lines`` only, if given), in line
    order.

    Messages come in order of their first line, and all their records are at or after
    it, so a small heap of the pending records of messages already read is enough to
    merge them with the events.
    """
    codec = codec or PlainCodec()
    start = lines.start if lines is not None else 0
    async with (
        aclosing(reader.conversation_messages(conversation_pk, lines)) as messages,
        aclosing(reader.conversation_events(conversation_pk, lines)) as events,
    ):
        next_message = await anext(messages, None)
        next_event = await anext(events, None)
        pending: list[tuple[int, int, Record]] = []
        tiebreak = itertools.count()
        while True:
            # A message that started in an earlier file has its records here from
            # ``start`` on, at the earliest.
            m = max(next_message.seq, start) if next_message is not None else _END
            e = next_event.seq if next_event is not None else _END
            p = pending[0][0] if pending else _END
            if m == e == p == _END:
                return
            if m <= e and m <= p and next_message is not None:
                for line, record in _records(codec, next_message, lines):
                    heapq.heappush(pending, (line, next(tiebreak), seen(record)))
                next_message = await anext(messages, None)
            elif p <= e:
                line, _, record = heapq.heappop(pending)
                yield line, record
            elif next_event is not None:
                yield next_event.seq, seen(_data(codec, next_event))
                next_event = await anext(events, None)


async def thread_document(
    reader: Reader,
    conversation_pk: int,
    codec: Codec | None = None,
    seen: Callable[[Any], Any] = _keep,
    lines: range | None = None,
) -> Record | None:
    """The newest version of a thread (or of its file at ``lines``) read from one JSON
    document, or ``None`` if it was not: the newest :data:`~graph.inputs.DOCUMENT` event
    with its list filled again with the current records (the newest record of each
    message, and of each event by its uuid), in the order they first came."""
    codec = codec or PlainCodec()
    async with aclosing(reader.conversation_events(conversation_pk, lines)) as events:
        first = await anext(events, None)
        if first is None or first.type != DOCUMENT:
            return None
        header, key = first, first.subtype
        items: dict[str, tuple[int, Record]] = {}
        event: EventRow | None = first
        while event is not None:
            if event.type == DOCUMENT:
                header, key = event, event.subtype
            elif event.type != REMOVED:
                identity = f"u:{event.uuid}" if event.uuid is not None else f"s:{event.seq}"
                place = items[identity][0] if identity in items else event.seq
                items[identity] = (place, _data(codec, event))
            event = await anext(events, None)
    async with aclosing(reader.conversation_messages(conversation_pk, lines)) as messages:
        async for message in messages:
            if records := _records(codec, message, lines):
                items[f"m:{message.id}"] = (records[0][0], records[-1][1])
    document: Record = seen(_data(codec, header))
    if key:
        document[key] = [seen(record) for _, record in sorted(items.values(), key=_first)]
    return document


def _first(item: tuple[int, Record]) -> int:
    return item[0]


def _records(codec: Codec, row: MessageRow, lines: range | None = None) -> list[tuple[int, Record]]:
    """The message's (line, record) pairs (those in ``lines``, if given)."""
    pairs = loads(codec.open("messages", "content", row.row_key, row.records))
    if lines is None:
        return [(int(line), record) for line, record in pairs]
    return [(int(line), record) for line, record in pairs if int(line) in lines]


def _data(codec: Codec, row: EventRow) -> Record:
    value: Record = loads(codec.open("events", "data", row.row_key, row.data))
    return value


async def _write_jsonl(
    reader: Reader,
    codec: Codec,
    conversations: list[ConversationRow],
    out: Output,
    seen: Callable[[Any], Any],
) -> int:
    count = 0
    for conversation in conversations:
        for lines in await reader.thread_line_ranges(conversation.id):
            count += await _write_file(reader, codec, conversation.id, lines, out, seen)
    return count


async def _write_file(
    reader: Reader,
    codec: Codec,
    conversation_pk: int,
    lines: range,
    out: Output,
    seen: Callable[[Any], Any],
) -> int:
    """Write the records a thread holds of one of its files: one document, or lines."""
    document = await thread_document(reader, conversation_pk, codec, seen, lines)
    if document is not None:
        out.write(dumps(document, newline=True))
        return 1
    count = 0
    records = thread_records(reader, conversation_pk, codec, seen, lines)
    async with aclosing(records):
        async for _, record in records:
            out.write(dumps(record, newline=True))
            count += 1
    return count


def _text(codec: Codec, column: str, session: SessionRow) -> str | None:
    value = getattr(session, column)
    if value is None or not codec.encrypted:
        return value.decode() if isinstance(value, bytes) else value
    return codec.open("sessions", column, session.session_id, value).decode()


def session_document(
    session: SessionRow, codec: Codec | None = None, seen: Callable[[Any], Any] = _keep
) -> dict[str, Any]:
    """The session's own fields, as the ``json`` export writes them."""
    codec = codec or PlainCodec()
    metadata = (
        orjson.loads(codec.open("sessions", "metadata", session.session_id, session.metadata))
        if session.metadata
        else None
    )
    return {
        "sessionId": session.session_id,
        "title": seen(_text(codec, "title", session)),
        "summary": seen(_text(codec, "summary", session)),
        "project": session.project,
        "cwd": session.cwd,
        "gitBranch": session.git_branch,
        "version": session.version,
        "metadata": seen(metadata),
        "startedAt": session.started_at or None,
        "endedAt": session.ended_at or None,
        "models": orjson.loads(session.models),
        "messageCount": session.message_count,
        "eventCount": session.event_count,
        "tokenUsage": {
            "input": session.input_tokens,
            "output": session.output_tokens,
            "cacheRead": session.cache_read_tokens,
            "cacheCreation": session.cache_creation_tokens,
        },
    }


async def _write_json(
    reader: Reader,
    codec: Codec,
    session: SessionRow,
    conversations: list[ConversationRow],
    out: Output,
    seen: Callable[[Any], Any],
) -> int:
    # Written piece by piece: the document can be as large as the session.
    count = 0
    document = session_document(session, codec, seen)
    out.write(b'{"session":' + orjson.dumps(document) + b',"conversations":[')
    for index, conversation in enumerate(conversations):
        head = {
            "agentId": conversation.agent_id,
            "isSidechain": bool(conversation.is_sidechain),
            "parentToolUseId": conversation.parent_tool_use_id,
            "startedAt": conversation.started_at,
            "endedAt": conversation.ended_at,
            "messageCount": conversation.message_count,
            "eventCount": conversation.event_count,
        }
        out.write((b"," if index else b"") + orjson.dumps(head)[:-1] + b',"records":[')
        first = True
        async with aclosing(thread_records(reader, conversation.id, codec, seen)) as records:
            async for line, record in records:
                # The thread's n-th file (from 1) and the line in it, not the thread's
                # internal numbering (each further file's from a multiple of 2^32 on).
                file, line_in_file = divmod(line, FILE_LINES)
                item = dumps({"file": file + 1, "line": line_in_file, "record": record})
                out.write(item if first else b"," + item)
                first = False
                count += 1
        out.write(b"]}")
    out.write(b"]}\n")
    return count


async def _write_markdown(
    reader: Reader,
    codec: Codec,
    session: SessionRow,
    conversations: list[ConversationRow],
    out: Output,
    seen: Callable[[Any], Any],
) -> int:
    count = 0
    agent = format_named(session.source)
    out.write(session_header(session_document(session, codec, seen)).encode())
    for conversation in conversations:
        if conversation.is_sidechain:
            parent = conversation.parent_tool_use_id
            started = f" (started by tool call `{parent}`)" if parent else ""
            out.write(f"\n## Subagent `{conversation.agent_id}`{started}\n".encode())
        else:
            out.write(b"\n## Main conversation\n")
        async with aclosing(_thread_rows(reader, conversation.id)) as rows:
            async for row in rows:
                kind = "message" if isinstance(row, MessageRow) else "event"
                try:
                    if isinstance(row, MessageRow):
                        records = [(line, seen(record)) for line, record in _records(codec, row)]
                        model, blocks = agent.shown_model(row.model), agent.blocks(records)
                        text = render_message(row.role, row.timestamp, model, blocks)
                        count += len(records)
                    else:
                        text = render_event(seen(_data(codec, row)), row.timestamp)
                        count += 1
                except DecryptionFailed as exc:
                    # A transcript to read goes on past a value that does not authenticate
                    # (the jsonl and json exports, copies of the records, stop there).
                    text = f"\n*A {kind} here does not authenticate ({exc}): see "
                    text += "`sessiongraph doctor`.*\n"
                if text:
                    out.write(text.encode())
    return count


async def _thread_rows(
    reader: Reader, conversation_pk: int
) -> AsyncGenerator[MessageRow | EventRow, None]:
    """A thread's messages and events, by the line each starts at."""
    async with (
        aclosing(reader.conversation_messages(conversation_pk)) as messages,
        aclosing(reader.conversation_events(conversation_pk)) as events,
    ):
        message = await anext(messages, None)
        event = await anext(events, None)
        while message is not None or event is not None:
            if event is None or (message is not None and message.seq < event.seq):
                assert message is not None
                yield message
                message = await anext(messages, None)
            else:
                yield event
                event = await anext(events, None)
