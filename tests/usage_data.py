"""Claude Code transcripts for usage tests, and an independent count of what they bill.

The count reads the JSONL records themselves, not the store: an API message is its
(message.id, requestId), counted once across every file, with its last row's usage.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

Record = dict[str, Any]


def assistant(
    session: str,
    uuid: str,
    msg_id: str,
    ts: str,
    *,
    model: str = "claude-sonnet-4-5-20250929",
    input: int = 10,
    output: int = 100,
    cache_read: int = 0,
    cache_write: int = 0,
    cache_write_1h: int = 0,
    text: str = "ok",
) -> Record:
    usage: Record = {
        "input_tokens": input,
        "output_tokens": output,
        "cache_read_input_tokens": cache_read,
        "cache_creation_input_tokens": cache_write,
    }
    if cache_write_1h:
        usage["cache_creation"] = {
            "ephemeral_5m_input_tokens": cache_write - cache_write_1h,
            "ephemeral_1h_input_tokens": cache_write_1h,
        }
    return {
        "type": "assistant",
        "sessionId": session,
        "uuid": uuid,
        "timestamp": ts,
        "requestId": f"req_{msg_id}",
        "cwd": "/home/dev/app",
        "gitBranch": "main",
        "message": {
            "id": msg_id,
            "role": "assistant",
            "model": model,
            "content": [{"type": "text", "text": text}],
            "usage": usage,
        },
    }


def user(session: str, uuid: str, ts: str, text: str = "hi") -> Record:
    return {
        "type": "user",
        "sessionId": session,
        "uuid": uuid,
        "timestamp": ts,
        "cwd": "/home/dev/app",
        "gitBranch": "main",
        "message": {"role": "user", "content": text},
    }


def replay(records: Iterable[Record], session: str) -> list[Record]:
    """``records`` as a resumed or forked session writes them: same ids, its sessionId."""
    return [{**record, "sessionId": session} for record in records]


def write(
    root: Path, session: str, records: Iterable[Record], project: str = "-home-dev-app"
) -> Path:
    folder = root / project
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{session}.jsonl"
    path.write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in records))
    return path


@dataclass(frozen=True, slots=True)
class Billed:
    """One API message as billed: its last row's usage."""

    session: str
    model: str | None
    timestamp: str
    input: int
    output: int
    cache_read: int
    cache_write: int
    cache_write_1h: int

    @property
    def total(self) -> int:
        return self.input + self.output + self.cache_read + self.cache_write


def billed_messages(paths: Iterable[Path]) -> dict[tuple[str, str], Billed]:
    """Every API message in ``paths`` once, by (message.id, requestId): the first file's
    (files in the order given), with the usage of its last row in that file."""
    found: dict[tuple[str, str], Billed] = {}
    for path in paths:
        here: dict[tuple[str, str], Billed] = {}
        for line in path.read_bytes().splitlines():
            record = orjson.loads(line)
            message = record.get("message")
            if record.get("type") != "assistant" or not isinstance(message, dict):
                continue
            usage = message.get("usage")
            if message.get("model") == "<synthetic>" or not isinstance(usage, dict):
                continue
            key = (message["id"], record.get("requestId") or "")
            first = here.get(key)
            ttl = usage.get("cache_creation") or {}
            here[key] = Billed(
                session=record["sessionId"],
                model=message.get("model"),
                timestamp=first.timestamp if first else record["timestamp"],
                input=usage.get("input_tokens", 0),
                output=usage.get("output_tokens", 0),
                cache_read=usage.get("cache_read_input_tokens", 0),
                cache_write=usage.get("cache_creation_input_tokens", 0),
                cache_write_1h=ttl.get("ephemeral_1h_input_tokens", 0),
            )
        for key, billed in here.items():
            found.setdefault(key, billed)
    return found


def first_row_output(paths: Iterable[Path]) -> int:
    """Output tokens as a tool that takes each message's FIRST row would count them."""
    seen: dict[tuple[str, str], int] = {}
    for path in paths:
        for line in path.read_bytes().splitlines():
            record = orjson.loads(line)
            message = record.get("message")
            if record.get("type") == "assistant" and isinstance(message, dict):
                key = (message["id"], record.get("requestId") or "")
                seen.setdefault(key, message.get("usage", {}).get("output_tokens", 0))
    return sum(seen.values())
