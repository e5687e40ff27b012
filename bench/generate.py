"""The one generator: deterministic Claude Code or Codex CLI transcripts, streamed to disk.

``agent="claude-code"`` writes a ``~/.claude/projects`` tree (:mod:`bench.claude_code`),
``agent="codex"`` a ``$CODEX_HOME/sessions`` tree (:mod:`bench.codex`), both from the
text pools of :mod:`bench.corpus`. The same ``(agent, messages, seed)`` gives the same
bytes. :func:`live_line` makes the lines the live scenario appends.
"""

from __future__ import annotations

import random
from pathlib import Path
from typing import Final

from bench.claude_code import claude_session, live_line
from bench.codex import codex_session
from bench.corpus import Corpus, TextPool

__all__ = ["AGENTS", "Corpus", "TextPool", "generate", "live_line"]

AGENTS: Final = ("claude-code", "codex")


def generate(root: Path, messages: int, *, seed: int = 7, agent: str = "claude-code") -> Corpus:
    """Write a corpus of about ``messages`` messages by ``agent`` under ``root``."""
    codex = agent == "codex"
    rng = random.Random(f"sessiongraph-bench{'-codex' if codex else ''}:{seed}:{messages}")
    text = TextPool(rng)
    corpus = Corpus(root=root / ("sessions" if codex else "projects"))
    clock = 1_760_000_000_000
    while corpus.messages < messages:
        if codex:
            clock = codex_session(rng, text, corpus, clock, min(rng.randint(100, 300), messages))
        else:
            budget = min(rng.randint(100, 300), messages - corpus.messages)
            claude_session(rng, text, corpus, budget)
    return corpus
