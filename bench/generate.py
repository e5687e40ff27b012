"""The one generator: deterministic Claude-Code-shaped transcripts, streamed to disk.

The layout is that of ``~/.claude/projects``: ``<project>/<sessionId>.jsonl``, subagents
in ``<project>/<sessionId>/subagents/agent-<agentId>.jsonl``. Records have the shapes of
``shared/samples/claude-code`` (2.1.x): user prompts with string content; assistant API
messages split over one row per block (thinking, text, tool_use) sharing ``message.id``
and ``requestId``; tool results (1-50 KB, skewed small) with a ``toolUseResult`` copy;
and the timeline: hook and bash progress, system records, file-history snapshots,
summaries. About 70% of the records are events, ~5.9 KB of JSONL per API message (the
real samples average ~6.5 KB): 10k messages make ~59 MB. Prose and code are slices of
pools built once, so generating is cheap; the same ``(messages, seed)`` gives the same
bytes. :func:`live_line` makes the lines the live scenario appends.
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO, Final

import orjson

__all__ = ["Corpus", "TextPool", "generate", "live_line"]

Json = dict[str, Any]
_WORDS: Final = (  # noqa: SIM905 - a word list reads better as one string
    "the a to of and in is it that for on with as this be are not by or from at we can "
    "will should test file function module error value return import class session query "
    "database index cursor page message event record export token usage schema migration "
    "connection reader writer loader resolver field type union block tool result assistant "
    "user system progress hook snapshot queue subagent thread conversation timeline search "
    "snippet encrypt decrypt key nonce cipher fixture assert expect raise handle parse stream "
    "batch commit rollback transaction pragma journal checkpoint vacuum analyze plan let me "
    "check implementation first then run tests and fix what fails I now update configuration "
    "build deploy review refactor rename split merge"
).split()
_CODE: Final = (
    "def {w}(self, {v}: int) -> None:",
    "    {v} = await self._{w}({v}, limit={n})",
    "    if {v} is None:",
    '        raise ValueError(f"bad {v}")',
    "class {W}:",
    "from {w}.{v} import {W}",
    "    assert {v} == {n}, {v}",
    "  src/{w}/{v}.py:{n}: {W}Error",
    "PASSED tests/test_{w}.py::test_{v}",
    "SELECT {v}, {w} FROM {v} WHERE id = ? LIMIT {n};",
)
_PROJECTS: Final = (
    "sessiongraph",
    "billing-api",
    "web-frontend",
    "infra",
    "ml-pipeline",
    "docs-site",
    "data-etl",
    "auth-service",
    "search",
    "cli-tools",
)
_TOOLS: Final = ("Bash", "Read", "Edit", "Grep", "Write")
_WEIGHTS: Final = (35, 30, 15, 12, 8)
_ID: Final = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"


class TextPool:
    """Deterministic prose and code, handed out as slices of two large strings."""

    def __init__(self, rng: random.Random, size: int = 1 << 19) -> None:
        self.rng = rng
        prose: list[str] = []
        code: list[str] = []
        while len(prose) < size // 70:  # ~70 characters a sentence
            words = " ".join(rng.choices(_WORDS, k=rng.randint(6, 18)))
            prose.append(words.capitalize() + rng.choice((". ", "? ", ".\n\n")))
        while len(code) < size // 30:  # ~30 characters a line
            w, v = rng.choice(_WORDS), rng.choice(_WORDS)
            code.append(rng.choice(_CODE).format(w=w, v=v, W=w.title(), n=rng.randint(0, 999)))
        self.prose, self.code = "".join(prose), "\n".join(code)

    def _cut(self, pool: str, length: int) -> str:
        length = max(1, min(length, len(pool)))
        start = self.rng.randrange(0, len(pool) - length + 1)
        return pool[start : start + length]

    def words(self, length: int) -> str:
        """About ``length`` characters of prose."""
        return self._cut(self.prose, length).strip() or "ok"

    def code_text(self, length: int) -> str:
        """About ``length`` characters of code or tool output."""
        return self._cut(self.code, length)

    def short(self, low: int = 3, high: int = 8) -> str:
        return " ".join(self.rng.choices(_WORDS, k=self.rng.randint(low, high)))


@dataclass(slots=True)
class Corpus:
    """What :func:`generate` wrote; ``root`` is the projects dir to import."""

    root: Path
    sessions: int = 0
    records: int = 0
    messages: int = 0
    events: int = 0
    bytes: int = 0

    @property
    def megabytes(self) -> float:
        return self.bytes / 1e6


class _Thread:
    """One JSONL file being written record by record, keeping its corpus's counts."""

    def __init__(
        self,
        fh: BinaryIO,
        rng: random.Random,
        text: TextPool,
        corpus: Corpus,
        base: Json,
        hooks: tuple[int, int],
        sidechain: bool = False,
    ) -> None:
        self.fh, self.rng, self.text, self.corpus, self.base = fh, rng, text, corpus, base
        self.base_hooks = hooks  # hook runs before and after each tool call
        self.sidechain, self.messages = sidechain, 0
        self.parent: str | None = None
        self.clock = 1_756_684_800_000 + rng.randrange(180 * 24 * 3600 * 1000)
        self.model = rng.choice(("claude-opus-4-6", "claude-sonnet-4-5-20250929"))

    def _id(self, prefix: str, length: int = 22) -> str:
        return prefix + "".join(self.rng.choices(_ID, k=length))

    def uuid(self) -> str:
        h = f"{self.rng.getrandbits(128):032x}"
        return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-a{h[17:20]}-{h[20:32]}"

    def _tick(self, low_ms: int, high_ms: int) -> str:
        self.clock += self.rng.randint(low_ms, high_ms)
        seconds, ms = divmod(self.clock, 1000)
        return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds)) + f".{ms:03d}Z"

    def write(self, record: Json, *, message: bool = False) -> None:
        line = orjson.dumps(record) + b"\n"
        self.fh.write(line)
        self.corpus.records += 1
        self.corpus.bytes += len(line)
        self.corpus.events += not message

    def row(
        self, kind: str, body: Json, *, message: bool = False, gap: tuple[int, int] = (5, 900)
    ) -> str:
        """Write a chained record (parentUuid and the common fields); its uuid."""
        uuid = self.uuid()
        self.write(
            {
                "parentUuid": self.parent,
                "isSidechain": self.sidechain,
                "userType": "external",
                **self.base,
                "type": kind,
                **body,
                "uuid": uuid,
                "timestamp": self._tick(*gap),
            },
            message=message,
        )
        self.parent = uuid
        return uuid

    def _message(self) -> None:
        self.messages += 1
        self.corpus.messages += 1

    def hooks(self, event: str, tool: str, use_id: str, count: int) -> None:
        for i in range(count):
            data = {
                "type": "hook_progress",
                "hookEvent": event,
                "hookName": f"{event}:{tool}",
                "command": f"${{CLAUDE_PLUGIN_ROOT}}/hooks/hook-{i}.sh",
            }
            self.row(
                "progress",
                {"data": data, "parentToolUseID": use_id, "toolUseID": use_id},
                gap=(1, 60),
            )

    def system(self, subtype: str, body: Json) -> None:
        self.row("system", {"subtype": subtype, **body, "isMeta": False})

    def prompt(self, content: str) -> None:
        self._message()
        self.row(
            "user",
            {"message": {"role": "user", "content": content}},
            message=True,
            gap=(2_000, 300_000),
        )

    def assistant(self, blocks: list[Json]) -> None:
        """One API message: one row per block, sharing id, requestId and usage."""
        self._message()
        msg_id, request_id, rng = self._id("msg_01"), self._id("req_011C"), self.rng
        usage = {
            "input_tokens": rng.randint(1, 12),
            "output_tokens": rng.randint(1, 30),
            "cache_creation_input_tokens": rng.randint(0, 20_000),
            "cache_read_input_tokens": rng.randint(0, 150_000),
        }
        for i, block in enumerate(blocks):
            if i == len(blocks) - 1:  # output_tokens is final on the last row only
                usage = {**usage, "output_tokens": rng.randint(30, 4000)}
            message = {
                "model": self.model,
                "id": msg_id,
                "type": "message",
                "role": "assistant",
                "content": [block],
                "stop_reason": None,
                "usage": usage,
            }
            self.row("assistant", {"message": message, "requestId": request_id}, message=True)

    def _preamble(self) -> list[Json]:
        rng, blocks = self.rng, []
        if rng.random() < 0.3:
            blocks.append(
                {
                    "type": "thinking",
                    "thinking": self.text.words(rng.randint(80, 1200)),
                    "signature": self._id("", rng.randint(200, 600)),
                }
            )
        if rng.random() < 0.5:
            blocks.append({"type": "text", "text": self.text.words(rng.randint(20, 400))})
        return blocks

    def tool_step(self, tools: list[str]) -> None:
        """An assistant message calling ``tools``, then each call's events and result."""
        rng, text, cwd = self.rng, self.text, self.base["cwd"]
        calls = [(self._id("toolu_01"), name) for name in tools]
        path = f"{cwd}/src/{text.short(1, 1)}/{text.short(1, 1)}.py"
        inputs = {
            "Bash": {"command": f"cd {cwd} && pytest -q", "description": text.short()},
            "Grep": {"pattern": text.short(1, 2), "path": cwd},
            "Edit": {
                "file_path": path,
                "old_string": text.code_text(300),
                "new_string": text.code_text(400),
            },
        }
        uses = [
            {
                "type": "tool_use",
                "id": use_id,
                "name": name,
                "caller": {"type": "direct"},
                "input": inputs.get(name, {"file_path": path}),
            }
            for use_id, name in calls
        ]
        self.assistant([*self._preamble(), *uses])
        source = self.parent
        for use_id, name in calls:
            self.hooks("PreToolUse", name, use_id, self.base_hooks[0])
            for n in range(rng.randint(1, 6) if name == "Bash" else 0):
                out = text.code_text(rng.randint(20, 200))
                data = {
                    "type": "bash_progress",
                    "output": out,
                    "fullOutput": out,
                    "elapsedTimeSeconds": n + 1,
                    "totalLines": n + 1,
                }
                self.row(
                    "progress",
                    {"data": data, "toolUseID": f"bash-progress-{n}", "parentToolUseID": use_id},
                    gap=(1, 60),
                )
            self.hooks("PostToolUse", name, use_id, self.base_hooks[1])
            changes = name in ("Edit", "Write")
            out = (
                f"The file {path} has been updated."
                if changes
                else text.code_text(int(1024 * 50 ** (rng.random() ** 12)))
            )
            block: Json = {"tool_use_id": use_id, "type": "tool_result", "content": out}
            self._message()
            self.row(
                "user",
                {
                    "message": {"role": "user", "content": [block]},
                    "toolUseResult": {"stdout": out, "stderr": "", "interrupted": False},
                    "sourceToolAssistantUUID": source,
                },
                message=True,
                gap=(50, 20_000),
            )

    def answer(self) -> str:
        reply = self.text.words(self.rng.randint(100, 2000))
        self.assistant([*self._preamble()[:1], {"type": "text", "text": reply}])
        return reply

    def turn(self, budget: int) -> None:
        """A user prompt, tool-using steps, the answer, and the turn's events."""
        rng, start = self.rng, self.messages
        prompt_uuid = self.uuid()
        snapshot = {
            "messageId": prompt_uuid,
            "trackedFileBackups": {},
            "timestamp": self._tick(0, 5),
        }
        self.write(
            {
                "type": "file-history-snapshot",
                "messageId": prompt_uuid,
                "snapshot": snapshot,
                "isSnapshotUpdate": False,
            }
        )
        self.prompt(self.text.words(int(60 * 30 ** rng.random())))
        self.hooks("UserPromptSubmit", "prompt", self.uuid(), rng.randint(1, 2))
        for _ in range(rng.randint(1, 10)):
            tools = rng.choices(_TOOLS, _WEIGHTS, k=rng.choice((1, 1, 1, 1, 2, 3)))
            if self.messages - start + 2 + len(tools) > budget:
                break
            self.tool_step(tools)
        self.answer()
        self.hooks("Stop", "stop", self.uuid(), self.base_hooks[1])
        summary = {
            "hookCount": self.base_hooks[1],
            "hookErrors": [],
            "preventedContinuation": False,
            "level": "suggestion",
        }
        self.system("stop_hook_summary", summary)
        self.system("turn_duration", {"durationMs": rng.randint(2_000, 1_500_000)})


def generate(root: Path, messages: int, *, seed: int = 7) -> Corpus:
    """Write a corpus of about ``messages`` API messages under ``root / "projects"``."""
    rng = random.Random(f"sessiongraph-bench:{seed}:{messages}")
    text = TextPool(rng)
    corpus = Corpus(root=root / "projects")
    while corpus.messages < messages:
        _session(rng, text, corpus, min(rng.randint(100, 300), messages - corpus.messages))
    return corpus


def _session(rng: random.Random, text: TextPool, corpus: Corpus, budget: int) -> None:
    project = rng.choice(_PROJECTS)
    session_id = _uuid(rng)
    cwd = f"/home/dev/projects/{project}"
    folder = corpus.root / ("-" + cwd.strip("/").replace("/", "-"))
    folder.mkdir(parents=True, exist_ok=True)
    base = {
        "cwd": cwd,
        "sessionId": session_id,
        "version": rng.choice(("2.1.39", "2.1.42")),
        "gitBranch": rng.choice(("main", "master", f"feature/{text.short(1, 1)}")),
    }
    hooks = (rng.randint(1, 3), rng.randint(2, 3))
    subagents = 1 if rng.random() < 0.35 else 0
    with (folder / f"{session_id}.jsonl").open("wb", buffering=1 << 20) as fh:
        main = _Thread(fh, rng, text, corpus, base, hooks)
        while main.messages < budget:
            left = budget - main.messages
            if subagents and left > 60:
                subagents -= 1
                agent = f"{rng.getrandbits(28):07x}"
                sub_dir = folder / session_id / "subagents"
                sub_dir.mkdir(parents=True, exist_ok=True)
                with (sub_dir / f"agent-{agent}.jsonl").open("wb") as sub_fh:
                    sub = _Thread(
                        sub_fh, rng, text, corpus, {**base, "agentId": agent}, hooks, True
                    )
                    sub.prompt(text.words(rng.randint(200, 1500)))
                    while sub.messages < 40:
                        sub.tool_step(rng.choices(_TOOLS[:4], k=1))
                    sub.answer()
                main.messages += sub.messages  # the session's budget covers its subagents
            else:
                main.turn(left)
        if rng.random() < 0.3:
            main.write({"type": "summary", "summary": text.short(3, 7), "leafUuid": main.parent})
    corpus.sessions += 1


def _uuid(rng: random.Random) -> str:
    h = f"{rng.getrandbits(128):032x}"
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-a{h[17:20]}-{h[20:32]}"


def live_line(session_id: str, n: int, text: TextPool) -> tuple[str, str]:
    """Line ``n`` of a session being written (user, assistant, system in turn): its uuid
    and the JSONL line. Every line has its own uuid and message id, so the ``uuid`` a
    subscriber receives names the line it came from."""
    uuid = f"{session_id[:8]}-live-{n:06d}"
    seconds, ms = divmod(n * 250, 1000)
    stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(1_772_000_000 + seconds))
    record: Json = {
        "parentUuid": None,
        "isSidechain": False,
        "cwd": "/home/dev/live",
        "sessionId": session_id,
        "version": "2.1.42",
        "uuid": uuid,
        "timestamp": f"{stamp}.{ms:03d}Z",
    }
    if n % 3 == 0:
        record |= {"type": "user", "message": {"role": "user", "content": text.words(300)}}
    elif n % 3 == 1:
        record |= {
            "type": "assistant",
            "requestId": f"req_live{n:06d}",
            "message": {
                "model": "claude-opus-4-6",
                "id": f"msg_live{n:06d}",
                "type": "message",
                "role": "assistant",
                "content": [{"type": "text", "text": text.words(800)}],
                "usage": {"input_tokens": 3, "output_tokens": 200},
            },
        }
    else:
        record |= {
            "type": "system",
            "subtype": "informational",
            "level": "info",
            "content": text.short(4, 12),
        }
    return uuid, orjson.dumps(record).decode() + "\n"
