"""The coding agents sessiongraph reads: the value each one's sessions carry in
``sessions.source``. One enum, for the schema (``SessionSource``), the command line
(``--source``) and each format's module."""

from __future__ import annotations

from enum import Enum

__all__ = ["Source"]


class Source(Enum):
    """An agent that writes transcripts."""

    CLAUDE_CODE = "claude-code"
    CODEX = "codex"
    GEMINI_CLI = "gemini-cli"
