"""Claude Code transcript lines -> messages, events and what they say about the session.

This is the per-line hot path of the importer, so it does as little as it can: one
``orjson.loads``, a handful of dict lookups, and no copies of the record (the record
object read is the one stored, which is what makes export lossless).

The mapping (see DESIGN.md and shared/samples/claude-code/README.md):

- ``user`` / ``assistant`` records are messages. Assistant rows sharing ``message.id``
  and ``requestId`` are one API message, split one content block per row; they are
  merged under one ``msg_key`` even when other records sit between them, and the
  message's usage is its last row's (earlier rows repeat a provisional usage).
- Every other record is an event, kept whole.
"""

from __future__ import annotations

import math
import shlex
from pathlib import Path
from typing import Any, Final

from graph.blocks.claude_code import blocks as claude_code_blocks
from graph.blocks.claude_code import cache_writes_1h as claude_code_cache_writes_1h
from graph.claude_settings import projects_dir
from graph.content import Record
from graph.importers.batch import TOKENS_OUT_OF_RANGE, Batch, TitleRecord
from graph.importers.files import TranscriptFile, files_in
from graph.importers.lines import (
    CANONICAL_TS,
    LINE_KEY,
    MAX_TOKENS,
    TranscriptParser,
    normalize_timestamp,
)
from graph.importers.prompts import claude_code_prompt
from graph.inputs import EventLookup, NewEvent, NewMessage, TokenTotals
from graph.sources import Source

__all__ = [
    "AGENT_PARENT",
    "CLAUDE_CODE",
    "SYNTHETIC_MODEL",
    "TITLE_RANKS",
    "ClaudeCodeFormat",
    "ClaudeCodeParser",
]


# Which record sets the session title when several do: a rename by the user beats the
# title Claude generated, which beats an old-style conversation summary.
SOURCE: Final = Source.CLAUDE_CODE.value  # ``sessions.source`` of its sessions
TITLE_RANKS: Final = {"custom-title": 3, "ai-title": 2, "summary": 1}
# Where a subagent's starting tool call is, when its file is read in a later run than the
# main thread: the main thread's agent_progress events name the agent and that call.
AGENT_PARENT: Final = EventLookup(
    type="progress",
    subtype="agent_progress",
    match_path="$.data.agentId",
    value_path="$.parentToolUseID",
)
_TITLE_FIELDS: Final = {
    "custom-title": ("customTitle", "title"),
    "ai-title": ("aiTitle", "title"),
    "summary": ("summary",),
}
_MESSAGE_TYPES: Final = frozenset({"user", "assistant"})
# The model of assistant messages Claude Code writes itself (an API error, an interrupted
# request): no API response, so never billed.
SYNTHETIC_MODEL: Final = "<synthetic>"

_USAGE_FIELDS: Final = (
    "input_tokens",
    "output_tokens",
    "cache_read_input_tokens",
    "cache_creation_input_tokens",
)


def _str(value: Any) -> str | None:
    return value if value.__class__ is str and value else None


def _int(value: Any) -> int:
    """A token count: 0 when absent or not a number, -1 when out of range."""
    if value.__class__ is int or (isinstance(value, float) and math.isfinite(value)):
        number = int(value)
    else:
        return 0
    return number if 0 <= number <= MAX_TOKENS else -1


def _out_of_range(usage: Record) -> str:
    """Which counts of ``usage`` are out of range, for the problem report."""
    return ", ".join(
        f"{name}={usage.get(name)!r}" for name in _USAGE_FIELDS if _int(usage.get(name)) < 0
    )


class ClaudeCodeParser(TranscriptParser):
    """Claude Code's records: messages, events, session facts, titles, agent links.

    Each record says what it belongs to, so a resumed read needs nothing carried over.
    """

    def _add(self, line_no: int, record: Record, batch: Batch, text: bytes | None) -> None:
        kind = record.get("type")
        if kind.__class__ is not str or not kind:
            kind = "unknown"  # also keeps unhashable values away from the lookups below
        ts = record.get("timestamp")
        if ts.__class__ is not str or not CANONICAL_TS.fullmatch(ts):
            ts = self._timestamp(record, kind)
        self._previous_ts = ts
        self._facts(record, batch)
        uuid = _str(record.get("uuid"))
        if kind in _MESSAGE_TYPES:
            self._message(line_no, record, kind, uuid, ts, batch, text)
            return
        subtype = _str(record.get("subtype"))
        if kind == "progress":
            data = record.get("data")
            if data.__class__ is dict:
                subtype = subtype or _str(data.get("type"))
                if subtype == "agent_progress":
                    agent, parent = _str(data.get("agentId")), _str(record.get("parentToolUseID"))
                    if agent and parent:
                        batch.agent_links[agent] = parent
        elif kind in TITLE_RANKS:
            self._title(record, kind, batch)
        batch.events.append(
            NewEvent(
                seq=line_no,
                type=kind,
                timestamp=ts,
                record=record,
                uuid=uuid,
                subtype=subtype,
                text=text,
            )
        )

    def _timestamp(self, record: Record, kind: str) -> str:
        ts = normalize_timestamp(record.get("timestamp"))
        if ts is None and kind == "file-history-snapshot":
            snapshot = record.get("snapshot")
            if snapshot.__class__ is dict:
                ts = normalize_timestamp(snapshot.get("timestamp"))
        return ts or self._previous_ts

    @staticmethod
    def _facts(record: Record, batch: Batch) -> None:
        if batch.session_id is None:
            batch.session_id = _str(record.get("sessionId"))
        if batch.cwd is None:
            batch.cwd = _str(record.get("cwd"))
        if batch.agent_id is None:
            batch.agent_id = _str(record.get("agentId"))
        branch = record.get("gitBranch")
        if branch.__class__ is str and branch:
            batch.git_branch = branch
        version = record.get("version")
        if version.__class__ is str and version:
            batch.version = version
        slug = record.get("slug")
        if slug.__class__ is str and slug:
            batch.slug = slug
        mode = record.get("permissionMode")
        if mode.__class__ is str and mode:
            batch.permission_mode = mode

    def _message(
        self,
        line_no: int,
        record: Record,
        kind: str,
        uuid: str | None,
        ts: str,
        batch: Batch,
        text: bytes | None,
    ) -> None:
        message = record.get("message")
        if message.__class__ is not dict:
            message = None
        message_id = _str(message.get("id")) if message is not None else None
        if kind == "assistant" and message_id is not None:
            request = record.get("requestId")
            key = f"m:{message_id}:{request if request.__class__ is str else ''}"
        else:
            key = f"u:{uuid}" if uuid is not None else f"{LINE_KEY}{line_no}"
        usage = self._usage(line_no, message)
        model = _str(message.get("model")) if message is not None else None
        entry = batch.messages.get(key)
        if entry is not None:
            entry.add(line_no, record, text)
            if usage is not None:
                entry.usage = usage
            entry.model = model or entry.model
        else:
            role = _str(message.get("role")) if message is not None else None
            entry = batch.messages[key] = NewMessage(
                msg_key=key,
                role=role or kind,
                timestamp=ts,
                records=[(line_no, record)],
                uuid=uuid,
                model=model,
                usage=usage or TokenTotals(),
                texts=None if text is None else [text],
                source=SOURCE,
            )
        entry.billed = entry.role == "assistant" and entry.model != SYNTHETIC_MODEL
        if kind == "user":
            _tool_result_link(record, message, batch)

    def _usage(self, line_no: int, message: Record | None) -> TokenTotals | None:
        usage = message.get("usage") if message is not None else None
        if usage.__class__ is not dict:
            return None
        # _USAGE_FIELDS spelled out: this runs for every message line.
        counts = (
            _int(usage.get("input_tokens")),
            _int(usage.get("output_tokens")),
            _int(usage.get("cache_read_input_tokens")),
            _int(usage.get("cache_creation_input_tokens")),
        )
        if min(counts) < 0:
            self._problem(line_no, TOKENS_OUT_OF_RANGE, _out_of_range(usage))
            counts = (max(counts[0], 0), max(counts[1], 0), max(counts[2], 0), max(counts[3], 0))
        # Of the cache writes, those with a 1-hour TTL (priced higher than 5 minutes).
        ttl = usage.get("cache_creation")
        one_hour = _int(ttl.get("ephemeral_1h_input_tokens")) if ttl.__class__ is dict else 0
        return TokenTotals(*counts, max(0, min(one_hour, counts[3])))

    @staticmethod
    def _title(record: Record, kind: str, batch: Batch) -> None:
        text = None
        for name in _TITLE_FIELDS[kind]:
            text = _str(record.get(name))
            if text is not None:
                break
        batch.titles.append(
            TitleRecord(
                rank=TITLE_RANKS[kind],
                title=text,
                summary=text if kind == "summary" else None,
                session_id=_str(record.get("sessionId")),
                leaf_uuid=_str(record.get("leafUuid")),
            )
        )


def _tool_result_link(record: Record, message: Record | None, batch: Batch) -> None:
    # The user row carrying a Task tool's result names the agent that ran it.
    result = record.get("toolUseResult")
    if result.__class__ is not dict or message is None:
        return
    agent = _str(result.get("agentId"))
    content = message.get("content")
    if agent is None or content.__class__ is not list:
        return
    for block in content:
        if block.__class__ is dict and block.get("type") == "tool_result":
            tool_use_id = _str(block.get("tool_use_id"))
            if tool_use_id:
                batch.agent_links.setdefault(agent, tool_use_id)
                return


class ClaudeCodeFormat:
    """Claude Code: ``$CLAUDE_CONFIG_DIR/projects`` (default ``~/.claude/projects``)."""

    source: Final = SOURCE
    label: Final = "Claude Code"
    agent_parent: Final = AGENT_PARENT

    def default_roots(self) -> list[Path]:
        return [projects_dir()]

    def accepts(self, path: Path) -> bool:
        return path.suffix == ".jsonl"

    def document_reader(self, path: str, *, fallback_timestamp: str) -> None:
        return None  # lines only

    def claims(self, path: Path, first_line: bytes) -> bool:
        return path.suffix == ".jsonl"

    def file_at(self, path: Path) -> TranscriptFile:
        return TranscriptFile.at(path)

    def subagent_files(self, transcript: Path, session_id: str) -> list[Path]:
        # <sessionId>.jsonl, and <sessionId>/subagents/agent-<id>.jsonl beside it.
        return files_in(transcript.with_suffix("") / "subagents", self.accepts)

    def parser(
        self, path: str, *, previous_timestamp: str | None, fallback_timestamp: str
    ) -> ClaudeCodeParser:
        return ClaudeCodeParser(
            path, previous_timestamp=previous_timestamp, fallback_timestamp=fallback_timestamp
        )

    # Its content blocks and 1-hour cache writes: what graph.blocks reads stored records
    # of its sessions with.
    blocks: Final = staticmethod(claude_code_blocks)
    cache_writes_1h: Final = staticmethod(claude_code_cache_writes_1h)

    def typed_prompt(self, record: dict[str, Any]) -> str | None:
        return claude_code_prompt(record)

    def shown_model(self, model: str | None) -> str | None:
        # Messages Claude Code writes itself (an interruption, an API error) name a
        # placeholder, no model.
        return None if model == SYNTHETIC_MODEL else model

    def resume_command(self, session_id: str, cwd: str | None) -> str:
        return _in_cwd(f"claude --resume {shlex.quote(session_id)}", cwd)


def _in_cwd(command: str, cwd: str | None) -> str:
    return f"cd {shlex.quote(cwd)} && {command}" if cwd else command


CLAUDE_CODE: Final = ClaudeCodeFormat()
