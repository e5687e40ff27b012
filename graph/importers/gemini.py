"""Gemini CLI chats: ``~/.gemini/tmp/<project hash>/chats/session-*.jsonl``.

Written by gemini-cli's chat recording service: a first metadata line (``sessionId``,
``projectHash``, ``startTime``, ``lastUpdated``, ``kind``), then records:

- messages keyed by ``id`` (``type`` user or gemini; info, error and warning are
  events). A repeated ``id`` replaces the earlier record: every record is kept (export
  stays lossless) and the message reads as its last one (see
  :func:`graph.content.gemini_blocks`), with the last one's tokens.
- ``{"$set": {...}}``: metadata updates, kept as events.
- ``{"$rewindTo": "<id>"}``: drops the messages from that id on. Dropped messages that
  have not been stored yet (the same batch) become ``rewound`` events, so they stay in
  the record and the export but are no longer current messages.

Subagent chats sit in ``chats/<parent session id>/``. Token counts: ``input`` includes
``cached`` (cache reads); ``thoughts`` are output; ``tool`` (tool-use prompt) is input.
The older whole-file ``.json`` format is not read yet.
"""

from __future__ import annotations

import os
import shlex
from pathlib import Path
from typing import Any, BinaryIO, Final

from graph.importers.claude_code import (
    MAX_TOKENS,
    Batch,
    TranscriptParser,
    normalize_timestamp,
)
from graph.importers.files import TranscriptFile
from graph.inputs import NewEvent, NewMessage, TokenTotals

__all__ = ["GEMINI_CLI", "GeminiFormat", "GeminiParser"]

Record = dict[str, Any]

_ROLES: Final = {"user": "user", "gemini": "assistant"}


def _count(value: Any) -> int:
    return int(value) if value.__class__ is int and 0 <= value <= MAX_TOKENS else 0


def _totals(tokens: Any) -> TokenTotals:
    if not isinstance(tokens, dict):
        return TokenTotals()
    cached = _count(tokens.get("cached"))
    return TokenTotals(
        input=max(_count(tokens.get("input")) - cached, 0) + _count(tokens.get("tool")),
        output=_count(tokens.get("output")) + _count(tokens.get("thoughts")),
        cache_read=cached,
    )


def _str(value: Any) -> str | None:
    return value if value.__class__ is str and value else None


class GeminiParser(TranscriptParser):
    """Gemini CLI chat lines -> batches (the JSON reading is Claude Code's parser's)."""

    def __init__(
        self, path: str, *, previous_timestamp: str | None, fallback_timestamp: str
    ) -> None:
        super().__init__(
            path, previous_timestamp=previous_timestamp, fallback_timestamp=fallback_timestamp
        )
        self._subagent = Path(path).parent.parent.name == "chats"
        self._order: list[str] = []  # message keys of this run, in file order
        self._raw: dict[int, bytes | None] = {}  # this batch's message lines, as read

    def resume(self, fh: BinaryIO, offset: int) -> None:
        """Replay the lines before ``offset`` for the order of the messages (rewinds)."""
        fh.seek(0)
        for line_no, raw in enumerate(fh.read(offset).splitlines(keepends=True), start=1):
            self.feed(line_no, raw)
        self.take()

    def take(self) -> Batch:
        self._raw.clear()
        return super().take()

    def _add(self, line_no: int, record: Record, batch: Batch, text: bytes | None) -> None:
        ts = normalize_timestamp(record.get("timestamp")) or self._previous_ts
        self._previous_ts = ts
        kind = record.get("type")
        message_id = _str(record.get("id"))
        role = _ROLES.get(kind) if kind.__class__ is str else None
        if role is not None and message_id is not None:
            self._chat_message(line_no, record, role, f"g:{message_id}", ts, batch, text)
            return
        if "$rewindTo" in record:
            event_type = "$rewindTo"
            self._rewind(record.get("$rewindTo"), batch)
        elif "$set" in record:
            event_type = "$set"
        elif "projectHash" in record or ("sessionId" in record and "id" not in record):
            event_type = "session"
            if self._subagent:
                batch.agent_id = batch.agent_id or _str(record.get("sessionId"))
            else:
                batch.session_id = batch.session_id or _str(record.get("sessionId"))
        else:
            event_type = kind if kind.__class__ is str and kind else "unknown"
        batch.events.append(
            NewEvent(
                seq=line_no,
                type=event_type,
                timestamp=ts,
                record=record,
                uuid=message_id,
                text=text,
            )
        )

    def _chat_message(
        self,
        line_no: int,
        record: Record,
        role: str,
        key: str,
        ts: str,
        batch: Batch,
        text: bytes | None,
    ) -> None:
        self._raw[line_no] = text
        usage = _totals(record.get("tokens"))
        model = _str(record.get("model"))
        existing = batch.messages.get(key)
        if existing is not None:  # the same id again: the last record wins
            existing.add(line_no, record, text)
            existing.usage = usage
            existing.model = model or existing.model
            return
        if key not in self._order:
            self._order.append(key)
        batch.messages[key] = NewMessage(
            msg_key=key,
            role=role,
            timestamp=ts,
            records=[(line_no, record)],
            model=model,
            usage=usage,
            texts=None if text is None else [text],
        )

    def _rewind(self, target: Any, batch: Batch) -> None:
        """Make the messages from ``target`` on events, where they are not stored yet."""
        key = f"g:{target}"
        if not isinstance(target, str) or key not in self._order:
            return
        dropped = self._order[self._order.index(key) :]
        del self._order[self._order.index(key) :]
        for gone in dropped:
            message = batch.messages.pop(gone, None)
            if message is None:
                continue
            for line, record in message.records:
                batch.events.append(
                    NewEvent(
                        seq=line,
                        type="rewound",
                        timestamp=message.timestamp,
                        record=record,
                        uuid=_str(record.get("id")),
                        text=self._raw.get(line),
                    )
                )
        batch.events.sort(key=lambda event: event.seq)


class GeminiFormat:
    """Gemini CLI: ``$GEMINI_CLI_HOME/.gemini/tmp`` (default ``~/.gemini/tmp``)."""

    source: Final = "gemini-cli"
    label: Final = "Gemini CLI"

    def default_roots(self) -> list[Path]:
        home = os.environ.get("GEMINI_CLI_HOME")
        return [(Path(home) if home else Path.home()) / ".gemini" / "tmp"]

    def claims(self, path: Path, first_line: bytes) -> bool:
        if path.suffix != ".jsonl":
            return False
        if path.name.startswith("session-") and "chats" in path.parts:
            return True
        return first_line.startswith(b"{") and b'"projectHash"' in first_line

    def file_at(self, path: Path) -> TranscriptFile:
        path = path.absolute()
        if path.parent.parent.name == "chats":  # chats/<parent session id>/<agent>.jsonl
            project = path.parent.parent.parent
            return TranscriptFile(
                path, True, path.parent.name, path.stem, project, self.source, project.name
            )
        project = path.parent.parent if path.parent.name == "chats" else path.parent
        return TranscriptFile(path, False, path.stem, "", project, self.source, project.name)

    def parser(
        self, path: str, *, previous_timestamp: str | None, fallback_timestamp: str
    ) -> GeminiParser:
        return GeminiParser(
            path, previous_timestamp=previous_timestamp, fallback_timestamp=fallback_timestamp
        )

    def resume_command(self, session_id: str, cwd: str | None) -> str:
        command = f"gemini --resume {shlex.quote(session_id)}"
        return f"cd {shlex.quote(cwd)} && {command}" if cwd else command


GEMINI_CLI: Final = GeminiFormat()
