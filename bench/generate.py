"""Deterministic, realistic Claude-Code-shaped transcripts, streamed to disk.

The layout is that of ``~/.claude/projects``::

    projects/<project>/<sessionId>.jsonl
    projects/<project>/<sessionId>/subagents/agent-<agentId>.jsonl

and the records have the shapes of ``shared/samples/claude-code`` (Claude Code 2.1.x):
user prompts with string content; assistant API messages split over several rows that
share ``message.id`` + ``requestId``, one content block per row (thinking, text,
tool_use), each repeating ``usage`` with ``output_tokens`` final only on the last row;
tool results as user rows with ``tool_result`` blocks (1-50 KB for tools that produce
output) and a ``toolUseResult``; and the timeline: hook/bash/agent progress, system
records, file-history snapshots, queue operations, summaries and titles. About 70% of the
records are events. The corpus is sized by its number of API messages (user rows count
one each; assistant rows sharing an id count once), ~5.9 KB of JSONL per message (the
real samples average ~6.5 KB), so 10k messages make ~59 MB and 100k ~590 MB.

Every record is written as soon as it is made: memory does not depend on corpus size.
The same ``(messages, seed)`` always gives byte-identical files.
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import orjson

from bench.text import TextPool
from bench.thread import Thread

if TYPE_CHECKING:
    from pathlib import Path

__all__ = ["Corpus", "generate", "live_line"]

_EPOCH_MS = int(datetime(2025, 9, 1, tzinfo=UTC).timestamp() * 1000)
_SPAN_MS = 180 * 24 * 3600 * 1000
_PROJECT_NAMES = (
    "sessiongraph", "spotter", "billing-api", "web-frontend", "infra", "ml-pipeline",
    "docs-site", "mobile-app", "data-etl", "auth-service", "search", "cli-tools",
)  # fmt: skip
_TOOLS = ("Bash", "Read", "Edit", "Grep", "Glob", "Write", "WebFetch", "TodoWrite", "Skill")
_TOOL_WEIGHTS = (30, 25, 12, 10, 6, 5, 3, 4, 2)


@dataclass(slots=True)
class Corpus:
    """What :func:`generate` wrote; ``root`` is the projects dir to import."""

    root: Path
    seed: int
    sessions: int = 0
    files: int = 0
    subagent_files: int = 0
    records: int = 0
    message_records: int = 0
    messages: int = 0
    events: int = 0
    tool_results: int = 0
    bytes: int = 0

    @property
    def event_share(self) -> float:
        return self.events / self.records if self.records else 0.0

    @property
    def megabytes(self) -> float:
        return self.bytes / 1e6


def generate(root: Path, messages: int, *, seed: int = 7) -> Corpus:
    """Write a corpus of about ``messages`` API messages under ``root / "projects"``."""
    rng = random.Random(f"sessiongraph-bench:{seed}:{messages}")
    text = TextPool(rng)
    corpus = Corpus(root=root / "projects", seed=seed)
    projects = [
        _PROJECT_NAMES[i % len(_PROJECT_NAMES)]
        + (f"-{i // len(_PROJECT_NAMES)}" if i >= 12 else "")
        for i in range(max(3, min(40, messages // 4000 + 3)))
    ]
    while corpus.messages < messages:
        budget = min(rng.randint(100, 300), messages - corpus.messages)
        project = rng.choice(projects)
        start_ms = _EPOCH_MS + rng.randrange(_SPAN_MS)
        _write_session(rng, text, corpus, project, start_ms, budget)
    return corpus


def _write_session(
    rng: random.Random, text: TextPool, corpus: Corpus, project: str, start_ms: int, budget: int
) -> None:
    session_id = _uuid(rng)
    cwd = f"/home/dev/projects/{project}"
    folder = corpus.root / ("-" + cwd.strip("/").replace("/", "-"))
    folder.mkdir(parents=True, exist_ok=True)
    base = {
        "cwd": cwd,
        "sessionId": session_id,
        "version": rng.choice(("2.1.38", "2.1.39", "2.1.42")),
        "gitBranch": rng.choice(("main", "main", "master", f"feature/{text.short(1, 1)}")),
        "slug": "-".join(text.short(3, 3).split()),
    }
    model = rng.choice(("claude-opus-4-6", "claude-opus-4-6", "claude-sonnet-4-5-20250929"))
    hooks = (rng.randint(1, 3), rng.randint(2, 3))
    with Thread.open(folder / f"{session_id}.jsonl", rng, text, corpus, base, model, hooks) as main:
        main.clock = start_ms
        main.session_start()
        tasks_left = 2 if rng.random() < 0.35 else 0
        while main.messages < budget:
            remaining = budget - main.messages
            if tasks_left and remaining > 60 and rng.random() < 0.3:
                tasks_left -= 1
                _task_turn(main, folder / session_id / "subagents", min(remaining - 20, 60))
            else:
                _turn(main, remaining)
        main.session_end(title=text.short(3, 7))
    corpus.sessions += 1


def _turn(thread: Thread, budget: int) -> None:
    """One user prompt, tool-using steps, and the final answer."""
    rng, text = thread.rng, thread.text
    start = thread.messages
    thread.turn_start(text.words(int(60 * 30 ** rng.random())))
    for _ in range(rng.randint(1, 10)):
        tools = rng.choices(_TOOLS, _TOOL_WEIGHTS, k=rng.choice((1, 1, 1, 1, 2, 3)))
        if thread.messages - start + 2 + len(tools) > budget:
            break
        thread.tool_step(tools)
    thread.answer()
    thread.turn_end()


def _task_turn(main: Thread, subagents: Path, sub_budget: int) -> None:
    """A turn whose step runs a Task: a subagent thread in its own file."""
    rng, text = main.rng, main.text
    main.turn_start(text.words(int(80 * 20 ** rng.random())))
    prompt = text.words(rng.randint(200, 1500))
    agent_id = f"{rng.getrandbits(28):07x}"
    tool_use_id = main.task_call(prompt)
    subagents.mkdir(parents=True, exist_ok=True)
    sub_base = {**main.base, "agentId": agent_id}
    sub_model = rng.choice(("claude-sonnet-4-5-20250929", "claude-haiku-4-5-20251001"))
    path = subagents / f"agent-{agent_id}.jsonl"
    with Thread.open(path, rng, text, main.corpus, sub_base, sub_model, main.hooks) as sub:
        sub.sidechain = True
        sub.clock = main.clock
        sub.user_prompt(prompt)
        while sub.messages < sub_budget - 1:
            before = sub.messages
            for _ in range(rng.randint(1, 6)):
                tools = rng.choices(_TOOLS[:5], k=rng.choice((1, 1, 2)))
                if sub.messages + 1 + len(tools) >= sub_budget:
                    break
                sub.tool_step(tools)
                main.clock = max(main.clock, sub.clock)
                main.agent_progress(tool_use_id, agent_id, prompt)
            if sub.messages == before:
                break
        result = sub.answer()
        main.clock = max(main.clock, sub.clock)
        main.messages += sub.messages  # the session's budget covers its subagents
    main.corpus.subagent_files += 1
    main.task_result(tool_use_id, agent_id, prompt, result)
    main.answer()
    main.turn_end()


def _uuid(rng: random.Random) -> str:
    h = f"{rng.getrandbits(128):032x}"
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-a{h[17:20]}-{h[20:32]}"


def live_line(session_id: str, n: int, text: TextPool) -> tuple[str, str]:
    """Line ``n`` of a session being written (user, assistant, system in turn): its uuid
    and the JSONL line. Every line has its own uuid and message id, so the ``uuid`` a
    subscriber receives names the line it came from."""
    uuid = f"{session_id[:8]}-live-{n:06d}"
    seconds, ms = divmod(n * 250, 1000)
    record: dict[str, object] = {
        "parentUuid": None, "isSidechain": False, "userType": "external",
        "cwd": "/home/dev/live", "sessionId": session_id, "version": "2.1.42",
        "gitBranch": "main", "uuid": uuid,
        "timestamp": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(1_772_000_000 + seconds))
        + f".{ms:03d}Z",
    }  # fmt: skip
    if n % 3 == 0:
        record |= {"type": "user", "message": {"role": "user", "content": text.words(300)}}
    elif n % 3 == 1:
        record |= {"type": "assistant", "requestId": f"req_live{n:06d}", "message": {
            "model": "claude-opus-4-6", "id": f"msg_live{n:06d}", "type": "message",
            "role": "assistant", "content": [{"type": "text", "text": text.words(800)}],
            "usage": {"input_tokens": 3, "output_tokens": 200}}}  # fmt: skip
    else:
        record |= {"type": "system", "subtype": "informational", "level": "info",
                   "content": text.short(4, 12)}  # fmt: skip
    return uuid, orjson.dumps(record).decode() + "\n"
