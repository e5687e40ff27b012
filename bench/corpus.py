"""Reading a generated corpus back as store rows, one session at a time.

This is the benchmark's own minimal parse (no importer code), used for the two
baselines: the store's write API fed pre-parsed rows, and plain ``sqlite3.executemany``
of the final rows. It streams: one session (main file + subagents) is in memory at once.
Rows have the store's shapes: a message's ``content`` is the JSON list of its
``[line, record]`` pairs, an event's ``data`` its record.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import orjson

from graph.store import NewConversation, NewEvent, NewMessage, NewSession, TokenTotals

if TYPE_CHECKING:
    from pathlib import Path

__all__ = ["ParsedSession", "ParsedThread", "SessionRows", "read_sessions", "session_rows"]

_MESSAGE_TYPES = frozenset(("user", "assistant"))


@dataclass(slots=True)
class ParsedThread:
    conversation: NewConversation
    messages: list[NewMessage] = field(default_factory=list)
    events: list[NewEvent] = field(default_factory=list)


@dataclass(slots=True)
class ParsedSession:
    session: NewSession
    threads: list[ParsedThread]
    title: str | None = None
    nbytes: int = 0


def read_sessions(root: Path) -> Iterator[ParsedSession]:
    """Every session under the projects dir ``root``, main thread first."""
    for project in sorted(p for p in root.iterdir() if p.is_dir()):
        for main in sorted(project.glob("*.jsonl")):
            session_id = main.stem
            parsed = ParsedSession(NewSession(session_id, project=project.name), [])
            subagents = sorted((project / session_id / "subagents").glob("agent-*.jsonl"))
            for path in [main, *subagents]:
                agent_id = "" if path is main else path.stem.removeprefix("agent-")
                parsed.threads.append(_read_thread(path, agent_id, parsed))
            yield parsed


def _read_thread(path: Path, agent_id: str, parsed: ParsedSession) -> ParsedThread:
    thread = ParsedThread(NewConversation(agent_id, is_sidechain=bool(agent_id)))
    by_key: dict[str, NewMessage] = {}
    session = parsed.session
    with path.open("rb") as fh:
        for line_no, raw in enumerate(fh, 1):
            parsed.nbytes += len(raw)
            record: dict[str, Any] = orjson.loads(raw)
            kind = record.get("type") or "unknown"
            ts = record.get("timestamp") or ""
            if session.cwd is None and "cwd" in record:
                session.cwd, session.git_branch = record["cwd"], record.get("gitBranch")
                session.version = record.get("version")
            message = record.get("message")
            if kind in _MESSAGE_TYPES and isinstance(message, dict):
                _add_message(by_key, thread, line_no, record, message, kind, ts)
                continue
            data = record.get("data")
            subtype = record.get("subtype") or (
                data.get("type") if isinstance(data, dict) else None
            )
            if kind in ("summary", "custom-title"):
                parsed.title = record.get("customTitle") or record.get("summary")
            thread.events.append(
                NewEvent(line_no, kind, ts, record, uuid=record.get("uuid"), subtype=subtype)
            )
    return thread


def _add_message(
    by_key: dict[str, NewMessage],
    thread: ParsedThread,
    line_no: int,
    record: dict[str, Any],
    message: dict[str, Any],
    kind: str,
    ts: str,
) -> None:
    if kind == "assistant" and "id" in message:
        key = f"m:{message['id']}:{record.get('requestId') or ''}"
    else:
        key = f"u:{record.get('uuid')}"
    usage = message.get("usage")
    tokens = (
        TokenTotals(
            usage.get("input_tokens", 0),
            usage.get("output_tokens", 0),
            usage.get("cache_read_input_tokens", 0),
            usage.get("cache_creation_input_tokens", 0),
        )
        if isinstance(usage, dict)
        else TokenTotals()
    )
    existing = by_key.get(key)
    if existing is not None:
        existing.records.append((line_no, record))
        existing.usage = tokens  # the last row's usage is the message's
        return
    new = NewMessage(
        key,
        message.get("role") or kind,
        ts,
        [(line_no, record)],
        uuid=record.get("uuid"),
        model=message.get("model"),
        usage=tokens,
    )
    by_key[key] = new
    thread.messages.append(new)


@dataclass(slots=True)
class SessionRows:
    """The final rows of one session, with explicit primary keys, ready for executemany."""

    session: tuple[Any, ...]
    conversations: list[tuple[Any, ...]]
    messages: list[tuple[Any, ...]]
    events: list[tuple[Any, ...]]


def session_rows(parsed: ParsedSession, session_pk: int, next_conversation_pk: int) -> SessionRows:
    """Rows as the importer leaves them: counts, token totals and time spans filled in."""
    conversations, messages, events = [], [], []
    times: list[str] = []
    totals = [0, 0, 0, 0]
    models: set[str] = set()
    for offset, thread in enumerate(parsed.threads):
        cpk = next_conversation_pk + offset
        span = [m.timestamp for m in thread.messages] + [e.timestamp for e in thread.events]
        conversations.append(
            (
                cpk,
                session_pk,
                thread.conversation.agent_id,
                int(thread.conversation.is_sidechain),
                None,
                min(span, default=None),
                max(span, default=None),
                len(thread.messages),
                len(thread.events),
            )
        )
        times.extend(span)
        for m in thread.messages:
            u = m.usage
            totals = [
                totals[0] + u.input,
                totals[1] + u.output,
                totals[2] + u.cache_read,
                totals[3] + u.cache_creation,
            ]
            if m.model and m.model != "<synthetic>":
                models.add(m.model)
            messages.append(
                (
                    session_pk,
                    cpk,
                    m.seq,
                    m.msg_key,
                    m.uuid,
                    m.role,
                    m.model,
                    m.timestamp,
                    u.input,
                    u.output,
                    u.cache_read,
                    u.cache_creation,
                    orjson.dumps(m.records),
                )
            )
        for e in thread.events:
            events.append(
                (
                    session_pk,
                    cpk,
                    e.seq,
                    e.uuid,
                    e.type,
                    e.subtype,
                    e.timestamp,
                    orjson.dumps(e.record),
                )
            )
    s = parsed.session
    session = (
        session_pk,
        s.session_id,
        s.project,
        s.cwd,
        s.git_branch,
        s.version,
        parsed.title,
        None,
        None,
        min(times, default=""),
        max(times, default=""),
        orjson.dumps(sorted(models)).decode(),
        len(parsed.threads),
        sum(1 for t in parsed.threads if t.conversation.is_sidechain),
        len(messages),
        len(events),
        *totals,
    )
    return SessionRows(session, conversations, messages, events)
