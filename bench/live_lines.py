"""Transcript lines for the live benchmarks: what Claude Code appends as a session runs.

A repeating cycle of a user prompt, an assistant reply (its own API message id, so no
two lines merge into one message) and a system event, in the shapes of
``shared/samples/claude-code``, with prose from :class:`bench.text.TextPool`. Every line
has its own ``uuid``: the ``uuid`` a ``sessionActivity`` subscriber receives names the
line it came from.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Final

import orjson

from bench.text import TextPool

if TYPE_CHECKING:
    import random

__all__ = ["LineMaker"]

_START: Final = datetime(2026, 3, 1, tzinfo=UTC)


class LineMaker:
    """Numbered JSONL lines of one session (``prefix`` keeps uuids apart between makers)."""

    def __init__(self, session_id: str, cwd: str, rng: random.Random, prefix: str = "line") -> None:
        self.session_id = session_id
        self.cwd = cwd
        self.rng = rng
        self.text = TextPool(rng, size=1 << 16)
        self.prefix = prefix
        self.count = 0
        self.parent: str | None = None

    def next(self) -> tuple[str, str]:
        """The next line's uuid and the line (with its newline)."""
        n = self.count
        self.count += 1
        uuid = f"{self.prefix}-{n:06d}"
        stamp = (_START + timedelta(milliseconds=250 * n)).strftime("%Y-%m-%dT%H:%M:%S.%f")
        record: dict[str, Any] = {
            "parentUuid": self.parent,
            "isSidechain": False,
            "userType": "external",
            "cwd": self.cwd,
            "sessionId": self.session_id,
            "version": "2.1.42",
            "gitBranch": "main",
            "uuid": uuid,
            "timestamp": stamp[:-3] + "Z",
        }
        kind = n % 3
        if kind == 0:
            record["type"] = "user"
            record["message"] = {
                "role": "user",
                "content": self.text.words(self.rng.randint(40, 600)),
            }
        elif kind == 1:
            record["type"] = "assistant"
            record["requestId"] = f"req_011C{self.prefix}{n:06d}"
            record["message"] = {
                "model": "claude-opus-4-6",
                "id": f"msg_01{self.prefix}{n:06d}",
                "type": "message",
                "role": "assistant",
                "content": [{"type": "text", "text": self.text.words(self.rng.randint(80, 2000))}],
                "stop_reason": None,
                "stop_sequence": None,
                "usage": {
                    "input_tokens": 3,
                    "output_tokens": self.rng.randint(10, 400),
                    "cache_read_input_tokens": self.rng.randint(0, 50_000),
                    "cache_creation_input_tokens": 0,
                },
            }
        else:
            record["type"] = "system"
            record["subtype"] = "informational"
            record["content"] = self.text.short(4, 12)
            record["level"] = "info"
            record["isMeta"] = False
        self.parent = uuid
        return uuid, orjson.dumps(record).decode() + "\n"
