"""The one generator: deterministic Claude Code (:mod:`bench.claude_code`) or Codex CLI
(:mod:`bench.codex`) transcripts, streamed to disk; the same ``(agent, messages, seed)`` gives
the same bytes."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Final

from bench.claude_code import claude_session
from bench.codex import codex_session
from bench.corpus import Corpus, TextPool

AGENTS: Final = ("claude-code", "codex")


def generate(root: Path, messages: int, *, seed: int = 7, agent: str = "claude-code") -> Corpus:
    """Write a corpus of about ``messages`` messages by ``agent`` under ``root``."""
    codex = agent == "codex"
    rng = random.Random(f"sessiongraph-bench{'-codex' if codex else ''}:{seed}:{messages}")
    corpus = Corpus(root / ("sessions" if codex else "projects"), rng, TextPool(rng))
    clock = 1_760_000_000_000
    while corpus.messages < messages:
        if codex:
            clock = codex_session(corpus, clock, min(rng.randint(100, 300), messages))
        else:
            claude_session(corpus, min(rng.randint(100, 300), messages - corpus.messages))
    return corpus
