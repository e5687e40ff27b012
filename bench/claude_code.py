"""Generated Claude Code transcripts, ``projects/<project>/<sessionId>.jsonl`` (subagents in
``<sessionId>/subagents/``), shaped as ``shared/samples/claude-code`` (2.1.x): ~70% events,
~5.9 KB of JSONL per API message (the samples average ~6.5 KB), so 10k messages are ~59 MB.
"""

from __future__ import annotations

import itertools
import random
from collections.abc import Iterator
from typing import BinaryIO, Final

import orjson

from bench.corpus import Corpus, Json, TextPool, iso_stamp, random_uuid

_PROJECTS: Final = (  # noqa: SIM905
    "sessiongraph billing-api web-frontend infra ml-pipeline docs-site data-etl auth-service "
    "search cli-tools"
).split()
_TOOLS: Final = ("Bash", "Read", "Edit", "Grep", "Write")
_WEIGHTS: Final = (35, 30, 15, 12, 8)
_ID: Final = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"


class _Thread:
    """One Claude Code JSONL file being written record by record."""

    def __init__(self, corpus: Corpus, fh: BinaryIO, base: Json, hooks: tuple[int, int]) -> None:
        self.corpus, self.fh, self.base = corpus, fh, base
        self.rng, self.text = corpus.rng, corpus.text
        self.hook_runs = hooks  # before and after each tool call
        self.sidechain, self.messages = "agentId" in base, 0
        self.parent: str | None = None
        self.clock = 1_756_684_800_000 + self.rng.randrange(180 * 24 * 3600 * 1000)
        self.model = self.rng.choice(("claude-opus-4-6", "claude-sonnet-4-5-20250929"))

    def _id(self, prefix: str, length: int = 22) -> str:
        return prefix + "".join(self.rng.choices(_ID, k=length))

    def _tick(self, low_ms: int, high_ms: int) -> str:
        self.clock += self.rng.randint(low_ms, high_ms)
        return iso_stamp(self.clock)

    def _count(self) -> None:
        self.messages += 1
        self.corpus.messages += 1

    def row(
        self, kind: str, body: Json, *, message: bool = False, gap: tuple[int, int] = (5, 900)
    ) -> None:
        """Write a record chained to the previous one, with the common fields."""
        uuid = random_uuid(self.rng)
        common = {"parentUuid": self.parent, "isSidechain": self.sidechain, "userType": "external"}
        record = {**common, **self.base, "type": kind, **body, "uuid": uuid}
        self.corpus.write(self.fh, record | {"timestamp": self._tick(*gap)}, message=message)
        self.parent = uuid

    def hooks(self, event: str, tool: str, use_id: str, count: int) -> None:
        for i in range(count):
            data = dict(type="hook_progress", hookEvent=event, hookName=f"{event}:{tool}")
            data["command"] = f"${{CLAUDE_PLUGIN_ROOT}}/hooks/hook-{i}.sh"
            ids = dict(parentToolUseID=use_id, toolUseID=use_id)
            self.row("progress", {"data": data, **ids}, gap=(1, 60))

    def prompt(self, content: str) -> None:
        self._count()
        body = {"message": {"role": "user", "content": content}}
        self.row("user", body, message=True, gap=(2_000, 300_000))

    def assistant(self, blocks: list[Json]) -> None:
        """One API message: one row per block, sharing id, requestId and usage."""
        self._count()
        msg_id, request_id, rng = self._id("msg_01"), self._id("req_011C"), self.rng
        usage = dict(input_tokens=rng.randint(1, 12), output_tokens=rng.randint(1, 30))
        usage["cache_creation_input_tokens"] = rng.randint(0, 20_000)
        usage["cache_read_input_tokens"] = rng.randint(0, 150_000)
        for i, block in enumerate(blocks):
            if i == len(blocks) - 1:  # output_tokens is final on the last row only
                usage = {**usage, "output_tokens": rng.randint(30, 4000)}
            message: Json = dict(model=self.model, id=msg_id, type="message", role="assistant")
            message |= dict(content=[block], stop_reason=None, usage=usage)
            self.row("assistant", {"message": message, "requestId": request_id}, message=True)

    def _preamble(self) -> list[Json]:
        rng, blocks = self.rng, []
        if rng.random() < 0.3:
            thinking = self.text.words(rng.randint(80, 1200))
            signature = self._id("", rng.randint(200, 600))
            blocks.append({"type": "thinking", "thinking": thinking, "signature": signature})
        if rng.random() < 0.5:
            blocks.append({"type": "text", "text": self.text.words(rng.randint(20, 400))})
        return blocks

    def tool_step(self, tools: list[str]) -> None:
        """An assistant message calling ``tools``, then each call's events and result."""
        rng, text, cwd = self.rng, self.text, self.base["cwd"]
        calls = [(self._id("toolu_01"), name) for name in tools]
        path = f"{cwd}/src/{text.short(1, 1)}/{text.short(1, 1)}.py"
        bash = {"command": f"cd {cwd} && pytest -q", "description": text.short()}
        grep = {"pattern": text.short(1, 2), "path": cwd}
        edit = dict(file_path=path, old_string=text.code_text(300), new_string=text.code_text(400))
        inputs = {"Bash": bash, "Grep": grep, "Edit": edit}
        uses: list[Json] = []
        for use_id, name in calls:
            use = dict(type="tool_use", id=use_id, name=name, caller={"type": "direct"})
            uses.append(use | {"input": inputs.get(name, {"file_path": path})})
        self.assistant([*self._preamble(), *uses])
        source = self.parent
        for use_id, name in calls:
            self.hooks("PreToolUse", name, use_id, self.hook_runs[0])
            for n in range(rng.randint(1, 6) if name == "Bash" else 0):
                out = text.code_text(rng.randint(20, 200))
                data: Json = dict(type="bash_progress", output=out, fullOutput=out)
                data |= dict(elapsedTimeSeconds=n + 1, totalLines=n + 1)
                ids = dict(toolUseID=f"bash-progress-{n}", parentToolUseID=use_id)
                self.row("progress", {"data": data, **ids}, gap=(1, 60))
            self.hooks("PostToolUse", name, use_id, self.hook_runs[1])
            if name in ("Edit", "Write"):
                out = f"The file {path} has been updated."
            else:  # 1-50 KB, skewed small
                out = text.code_text(int(1024 * 50 ** (rng.random() ** 12)))
            block = {"tool_use_id": use_id, "type": "tool_result", "content": out}
            self._count()
            body: Json = {"message": {"role": "user", "content": [block]}}
            body["toolUseResult"] = {"stdout": out, "stderr": "", "interrupted": False}
            body["sourceToolAssistantUUID"] = source
            self.row("user", body, message=True, gap=(50, 20_000))

    def answer(self) -> None:
        reply = self.text.words(self.rng.randint(100, 2000))
        self.assistant([*self._preamble()[:1], {"type": "text", "text": reply}])

    def turn(self, budget: int) -> None:
        """A user prompt, tool-using steps, the answer, and the turn's events."""
        rng, start = self.rng, self.messages
        uuid = random_uuid(rng)
        snapshot = {"messageId": uuid, "trackedFileBackups": {}, "timestamp": self._tick(0, 5)}
        record = {"type": "file-history-snapshot", "messageId": uuid, "snapshot": snapshot}
        self.corpus.write(self.fh, record | {"isSnapshotUpdate": False})
        self.prompt(self.text.words(int(60 * 30 ** rng.random())))
        self.hooks("UserPromptSubmit", "prompt", random_uuid(rng), rng.randint(1, 2))
        for _ in range(rng.randint(1, 10)):
            tools = rng.choices(_TOOLS, _WEIGHTS, k=rng.choice((1, 1, 1, 1, 2, 3)))
            if self.messages - start + 2 + len(tools) > budget:
                break
            self.tool_step(tools)
        self.answer()
        self.hooks("Stop", "stop", random_uuid(rng), self.hook_runs[1])
        summary: Json = {"subtype": "stop_hook_summary", "hookCount": self.hook_runs[1]}
        summary |= dict(hookErrors=[], preventedContinuation=False, level="suggestion")
        self.row("system", summary | {"isMeta": False})
        duration = rng.randint(2_000, 1_500_000)
        self.row("system", {"subtype": "turn_duration", "durationMs": duration, "isMeta": False})


def claude_session(corpus: Corpus, budget: int) -> None:
    rng, text = corpus.rng, corpus.text
    project, session_id = rng.choice(_PROJECTS), random_uuid(rng)
    cwd, folder = f"/home/dev/projects/{project}", f"-home-dev-projects-{project}"
    version = rng.choice(("2.1.39", "2.1.42"))
    branch = rng.choice(("main", "master", f"feature/{text.short(1, 1)}"))
    base = {"cwd": cwd, "sessionId": session_id, "version": version, "gitBranch": branch}
    hooks = (rng.randint(1, 3), rng.randint(2, 3))
    subagents = 1 if rng.random() < 0.35 else 0
    with corpus.open(f"{folder}/{session_id}.jsonl") as fh:
        main = _Thread(corpus, fh, base, hooks)
        while main.messages < budget:
            left = budget - main.messages
            if not (subagents and left > 60):
                main.turn(left)
                continue
            subagents -= 1
            agent = f"{rng.getrandbits(28):07x}"
            with corpus.open(f"{folder}/{session_id}/subagents/agent-{agent}.jsonl") as sub_fh:
                sub = _Thread(corpus, sub_fh, {**base, "agentId": agent}, hooks)
                sub.prompt(text.words(rng.randint(200, 1500)))
                while sub.messages < 40:
                    sub.tool_step(rng.choices(_TOOLS[:4], k=1))
                sub.answer()
            main.messages += sub.messages  # the session's budget covers its subagents
        if rng.random() < 0.3:
            summary = {"type": "summary", "summary": text.short(3, 7), "leafUuid": main.parent}
            corpus.write(fh, summary)


def live_lines(session_id: str, seed: int) -> Iterator[tuple[str, str]]:
    """Lines of a session being written (user, assistant, system), each with its own uuid and
    message id, so that the ``uuid`` a subscriber receives names its line."""
    text = TextPool(random.Random(seed), size=1 << 16)
    for n in itertools.count():
        uuid, stamp = f"{session_id[:8]}-live-{n:06d}", iso_stamp(1_772_000_000_000 + n * 250)
        record: Json = dict(parentUuid=None, isSidechain=False, cwd="/home/dev/live")
        record |= dict(sessionId=session_id, version="2.1.42", uuid=uuid, timestamp=stamp)
        if n % 3 == 0:
            record |= {"type": "user", "message": {"role": "user", "content": text.words(300)}}
        elif n % 3 == 1:
            message: Json = dict(model="claude-opus-4-6", id=f"msg_live{n:06d}", type="message")
            message |= dict(role="assistant", content=[{"type": "text", "text": text.words(800)}])
            message["usage"] = {"input_tokens": 3, "output_tokens": 200}
            record |= {"type": "assistant", "requestId": f"req_live{n:06d}", "message": message}
        else:
            record |= dict(type="system", subtype="informational", level="info")
            record["content"] = text.short(4, 12)
        yield uuid, orjson.dumps(record).decode() + "\n"
