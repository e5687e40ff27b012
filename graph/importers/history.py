"""Importing Claude Code's prompt history, ``~/.claude/history.jsonl``.

Claude Code appends every prompt typed to that file, one JSON object a line::

    {"display": "fix the test", "pastedContents": {}, "timestamp": 1759105062139,
     "project": "/home/me/proj", "sessionId": "0fd6a5d1-..."}

and, unlike the transcripts, never sweeps it. So it still names sessions whose
transcripts were deleted before sessiongraph saw them, and what was asked in them.

Each prompt of a session that has no transcript here becomes a user message (its record
is the history line as written, so ``export --format jsonl`` gives those lines back) in
a thread of its own, ``prompt-history``, and the session is flagged ``historyOnly``. A
session with a transcript here already has its prompts: its history lines are skipped.
Lines without a ``sessionId`` (older Claude Code versions) name no session and are
counted, not stored. The file is read incrementally, as the transcripts are.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

import orjson

from graph.errors import TranscriptError
from graph.importers.batch import (
    SKIPPED_NOT_JSON,
    SKIPPED_NOT_OBJECT,
    SKIPPED_NOT_PROMPT,
    Problem,
)
from graph.importers.files import (
    Action,
    TranscriptFile,
    encode_project,
    fingerprint,
    head_of,
    plan_file,
)
from graph.importers.prompts import title_of
from graph.secrets import default_scanner, redact_on_import
from graph.store import FileState, NewConversation, NewMessage, NewSession
from graph.store.prompt_history import (
    HISTORY_THREAD,
    settle_history_sessions,
)
from graph.times import format_timestamp

if TYPE_CHECKING:
    from graph.store import Store, Writer

__all__ = [
    "HISTORY_NAME",
    "HistorySummary",
    "history_title",
    "import_history",
    "is_history_file",
    "settle",
]

HISTORY_NAME: Final = "history.jsonl"

Record = dict[str, Any]


def is_history_file(path: Path) -> bool:
    """Whether a path given to ``import`` is a prompt history rather than a transcript."""
    return path.name == HISTORY_NAME and path.is_file()


@dataclass(slots=True)
class HistorySummary:
    """What an import of the prompt history read and stored."""

    lines_read: int = 0
    prompts_added: int = 0
    sessions_added: int = 0
    sessions_settled: int = 0  # history-only sessions whose transcript came after all
    without_session: int = 0
    lines_skipped: int = 0
    # The skipped lines, with file and line (the import's summary reports them).
    problems: list[Problem] = field(default_factory=list)

    def to_dict(self) -> dict[str, int]:
        """Keyed like ``import --json`` (camelCase)."""
        return {
            "linesRead": self.lines_read,
            "promptsAdded": self.prompts_added,
            "sessionsAdded": self.sessions_added,
            "sessionsSettled": self.sessions_settled,
            "withoutSession": self.without_session,
            "linesSkipped": self.lines_skipped,
        }


@dataclass(frozen=True, slots=True)
class _Prompt:
    line: int
    record: Record
    session_id: str
    cwd: str | None
    timestamp: str

    def message(self) -> NewMessage:
        # Keyed by what it is, not by its line: a rewritten history keeps its keys.
        digest = hashlib.blake2b(orjson.dumps(self.record.get("display")), digest_size=6)
        return NewMessage(
            msg_key=f"prompt:{self.timestamp}:{digest.hexdigest()}",
            role="user",
            timestamp=self.timestamp,
            records=[(self.line, self.record)],
        )


async def import_history(store: Store, path: Path, *, redact: bool | None = None) -> HistorySummary:
    """Import what is new in the prompt history at ``path``, its secrets redacted if
    ``redact`` (``None``: as ``secrets.toml``'s ``redact_on_import`` says).

    Raises:
        TranscriptError: ``path`` is not a file.
    """
    path = _located(path)
    redacting = redact_on_import(redact)
    summary = HistorySummary()
    async with store.read() as reader:
        states = await reader.transcripts.file_states([str(path)])
    plan = plan_file(TranscriptFile.at(path), states.get(str(path)))
    if plan.action is Action.SKIP:
        summary.sessions_settled = await settle(store)
        return summary
    prompts, offset, line_count = _read(path, plan.offset, plan.line_count, summary)
    by_session: dict[str, list[_Prompt]] = defaultdict(list)
    for prompt in prompts:
        by_session[prompt.session_id].append(prompt)
    async with store.write() as writer:
        known = await writer.transcripts.history_only_of(list(by_session))
        for session_id, session_prompts in by_session.items():
            if known.get(session_id, True):  # new, or known only from history
                await _store(
                    writer,
                    session_id,
                    session_prompts,
                    summary,
                    new=session_id not in known,
                    redact=redacting,
                )
        # The state is saved with the rows: a crash re-reads nothing or everything.
        size = plan.size if offset >= plan.size else offset
        with path.open("rb") as fh:
            saved = fingerprint(fh, head_of(fh), offset)
        await writer.save_file_state(
            FileState(str(path), None, size, plan.mtime_ns, saved, offset, line_count)
        )
        summary.sessions_settled = await settle_history_sessions(writer)
    return summary


async def settle(store: Store) -> int:
    """Drop the prompt-history thread of sessions whose transcript is now imported."""
    async with store.write() as writer:
        return await settle_history_sessions(writer)


async def _store(
    writer: Writer,
    session_id: str,
    prompts: list[_Prompt],
    summary: HistorySummary,
    *,
    new: bool,
    redact: bool,
) -> None:
    cwd = next((p.cwd for p in prompts if p.cwd), None)
    session = NewSession(session_id, project=encode_project(cwd) if cwd else None, cwd=cwd)
    session_pk = await writer.upsert_session(session)
    if new:
        await writer.transcripts.mark_history_only(session_pk)
        summary.sessions_added += 1
    thread = await writer.upsert_conversation(session_pk, NewConversation(HISTORY_THREAD))
    messages = {m.msg_key: m for m in (p.message() for p in prompts)}
    stored = await writer.transcripts.stored_message_keys(thread, list(messages))
    fresh = [m for key, m in messages.items() if key not in stored]
    if redact:  # keyed by the line as written (above), stored as redacted
        scanner = default_scanner()
        for message in fresh:
            message.redact(scanner.mask_json, scanner.could_contain_json)
    await writer.add_messages(session_pk, thread, fresh)
    summary.prompts_added += len(fresh)
    if new:
        title = history_title(prompts[0].record)
        if title:
            await writer.set_session_text(session_pk, title=title, title_source="prompt")


def history_title(record: Record) -> str:
    """The title of a session known only from history: its first prompt's, as a session
    whose title is derived from its first prompt (secrets masked before it is cut,
    redacting or not)."""
    return title_of(str(record.get("display") or ""), default_scanner().mask)


def _located(path: Path) -> Path:
    if not path.is_file():
        raise TranscriptError(f"{path}: no such file")
    return path.absolute()


def _read(
    path: Path, offset: int, line_count: int, summary: HistorySummary
) -> tuple[list[_Prompt], int, int]:
    """The prompts of the complete lines from ``offset`` on, and where reading ended."""
    prompts = []
    with path.open("rb") as fh:
        fh.seek(offset)
        for raw in fh:
            if not raw.endswith(b"\n"):
                break  # still being written: the next run takes it
            offset += len(raw)
            line_count += 1
            summary.lines_read += 1
            prompt = _prompt(line_count, raw)
            if prompt is None:
                if raw.strip():
                    summary.lines_skipped += 1
                    summary.problems.append(Problem(str(path), line_count, *_why_not(raw)))
            elif not prompt.session_id:
                summary.without_session += 1
            else:
                prompts.append(prompt)
    return prompts, offset, line_count


def _prompt(line: int, raw: bytes) -> _Prompt | None:
    """The prompt on one line (``session_id`` empty when it names none); None if not one."""
    try:
        record = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return None
    if not isinstance(record, dict) or not isinstance(record.get("display"), str):
        return None
    timestamp = _timestamp(record.get("timestamp"))
    if timestamp is None:
        return None
    session_id = record.get("sessionId")
    cwd = record.get("project")
    return _Prompt(
        line,
        record,
        session_id if isinstance(session_id, str) else "",
        cwd if isinstance(cwd, str) and cwd else None,
        timestamp,
    )


def _why_not(raw: bytes) -> tuple[str, str]:
    """Why a line that :func:`_prompt` refused is not a prompt: (problem kind, detail)."""
    try:
        record = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        return SKIPPED_NOT_JSON, str(exc)[:80]
    if not isinstance(record, dict):
        return SKIPPED_NOT_OBJECT, type(record).__name__
    if not isinstance(record.get("display"), str):
        return SKIPPED_NOT_PROMPT, "display is not a string"
    return SKIPPED_NOT_PROMPT, "timestamp is not a time in milliseconds"


def _timestamp(value: object) -> str | None:
    """Claude Code writes milliseconds since the epoch."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    try:
        return format_timestamp(datetime.fromtimestamp(value / 1000, UTC))
    except (OverflowError, OSError, ValueError):
        return None
