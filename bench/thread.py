"""One transcript file being written: the records of a main thread or a subagent."""

from __future__ import annotations

import string
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, BinaryIO

import orjson

from bench.tools import ToolCall, result_size, tool_call

if TYPE_CHECKING:
    import random
    from pathlib import Path

    from bench.generate import Corpus
    from bench.text import TextPool

__all__ = ["Thread"]

Json = dict[str, Any]
_B62 = string.ascii_letters + string.digits
_B64 = _B62 + "+/"


class Thread:
    """Writes one JSONL file record by record, keeping the counts of its corpus."""

    def __init__(
        self,
        fh: BinaryIO,
        rng: random.Random,
        text: TextPool,
        corpus: Corpus,
        base: Json,
        model: str,
        hooks: tuple[int, int],
    ) -> None:
        self.fh, self.rng, self.text, self.corpus = fh, rng, text, corpus
        self.base, self.model, self.hooks = base, model, hooks
        self.sidechain = False
        self.clock = 0
        self.parent: str | None = None
        self.messages = 0
        self.files_touched: list[str] = []

    @classmethod
    @contextmanager
    def open(
        cls,
        path: Path,
        rng: random.Random,
        text: TextPool,
        corpus: Corpus,
        base: Json,
        model: str,
        hooks: tuple[int, int],
    ) -> Iterator[Thread]:
        with path.open("wb", buffering=1 << 20) as fh:
            yield cls(fh, rng, text, corpus, base, model, hooks)
        corpus.files += 1

    # plumbing

    def _id(self, prefix: str, length: int = 22) -> str:
        return prefix + "".join(self.rng.choices(_B62, k=length))

    def _uuid(self) -> str:
        h = f"{self.rng.getrandbits(128):032x}"
        return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-a{h[17:20]}-{h[20:32]}"

    def _tick(self, low_ms: int, high_ms: int) -> str:
        self.clock += self.rng.randint(low_ms, high_ms)
        seconds, ms = divmod(self.clock, 1000)
        return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds)) + f".{ms:03d}Z"

    def _write(self, record: Json, *, message: bool) -> None:
        line = orjson.dumps(record) + b"\n"
        self.fh.write(line)
        corpus = self.corpus
        corpus.records += 1
        corpus.bytes += len(line)
        if message:
            corpus.message_records += 1
        else:
            corpus.events += 1

    def _row(self, kind: str, body: Json, *, message: bool, gap: tuple[int, int] = (5, 900)) -> str:
        """Write a chained record (parentUuid, common fields); its uuid."""
        uuid = self._uuid()
        record = {"parentUuid": self.parent, "isSidechain": self.sidechain, "userType": "external"}
        record.update(self.base)
        record["type"] = kind
        record.update(body)
        record["uuid"] = uuid
        record["timestamp"] = self._tick(*gap)
        self._write(record, message=message)
        self.parent = uuid
        return uuid

    def _count_message(self) -> None:
        self.messages += 1
        self.corpus.messages += 1

    # timeline events

    def progress(self, data: Json, tool_use_id: str, parent_tool_use_id: str) -> None:
        body = {"data": data, "parentToolUseID": parent_tool_use_id, "toolUseID": tool_use_id}
        self._row("progress", body, message=False, gap=(1, 60))

    def hook_progress(self, event: str, tool: str, tool_use_id: str, count: int) -> None:
        for i in range(count):
            data = {
                "type": "hook_progress",
                "hookEvent": event,
                "hookName": f"{event}:{tool}",
                "command": f"${{CLAUDE_PLUGIN_ROOT}}/hooks/hook-{i}.sh",
            }
            self.progress(data, tool_use_id, tool_use_id)

    def system(self, subtype: str, body: Json) -> None:
        self._row("system", {"subtype": subtype, **body, "isMeta": False}, message=False)

    def plain(self, record: Json) -> None:
        """A record without the chained common fields (snapshots, queue ops, titles)."""
        self._write(record, message=False)

    def session_start(self) -> None:
        self.hook_progress("SessionStart", "startup", self._uuid(), self.rng.randint(1, 2))

    def session_end(self, title: str) -> None:
        sid = self.base["sessionId"]
        if self.rng.random() < 0.2:
            self.plain({"type": "summary", "summary": title, "leafUuid": self.parent})
        if self.rng.random() < 0.1:
            self.plain({"type": "custom-title", "customTitle": title, "sessionId": sid})

    # messages

    def user_prompt(self, content: str) -> str:
        self._count_message()
        body = {"message": {"role": "user", "content": content}}
        return self._row("user", body, message=True, gap=(2_000, 300_000))

    def assistant(self, blocks: list[Json]) -> None:
        """One API message: one row per block, sharing id, requestId and usage."""
        self._count_message()
        msg_id, request_id = self._id("msg_01"), self._id("req_011C")
        rng = self.rng
        usage = {
            "input_tokens": rng.randint(1, 12),
            "cache_creation_input_tokens": rng.randint(0, 20_000),
            "cache_read_input_tokens": rng.randint(0, 150_000),
            "cache_creation": {"ephemeral_5m_input_tokens": 0, "ephemeral_1h_input_tokens": 0},
            "output_tokens": rng.randint(1, 30),
            "service_tier": "standard",
            "inference_geo": "not_available",
        }
        final_output = rng.randint(30, 4000)
        for i, block in enumerate(blocks):
            if i == len(blocks) - 1:
                usage = {**usage, "output_tokens": final_output}
            message = {
                "model": self.model,
                "id": msg_id,
                "type": "message",
                "role": "assistant",
                "content": [block],
                "stop_reason": None,
                "stop_sequence": None,
                "usage": usage,
            }
            self._row("assistant", {"message": message, "requestId": request_id}, message=True)

    def tool_result(self, tool_use_id: str, call: ToolCall, source: str) -> None:
        self._count_message()
        self.corpus.tool_results += 1
        block: Json = {"tool_use_id": tool_use_id, "type": "tool_result", "content": call.content}
        if call.is_error:
            block["is_error"] = True
        body = {
            "message": {"role": "user", "content": [block]},
            "toolUseResult": call.use_result,
            "sourceToolAssistantUUID": source,
        }
        self._row("user", body, message=True, gap=(50, 20_000))

    # composite steps

    def _preamble(self) -> list[Json]:
        rng, text = self.rng, self.text
        blocks: list[Json] = []
        if rng.random() < 0.3:
            signature = "".join(rng.choices(_B64, k=rng.randint(200, 600)))
            blocks.append(
                {
                    "type": "thinking",
                    "thinking": text.words(rng.randint(80, 1200)),
                    "signature": signature,
                }
            )
        if rng.random() < 0.5:
            blocks.append({"type": "text", "text": text.words(rng.randint(20, 400))})
        return blocks

    def tool_step(self, tools: list[str]) -> None:
        """An assistant message calling ``tools``, then each call's events and result."""
        calls = [
            (self._id("toolu_01"), tool_call(self.rng, self.text, t, self.base["cwd"]))
            for t in tools
        ]
        blocks = self._preamble()
        for use_id, call in calls:
            blocks.append(
                {
                    "type": "tool_use",
                    "id": use_id,
                    "name": call.name,
                    "input": call.input,
                    "caller": {"type": "direct"},
                }
            )
        self.assistant(blocks)
        source = self.parent or ""
        pre, post = self.hooks
        for use_id, call in calls:
            self.hook_progress("PreToolUse", call.name, use_id, pre)
            if call.name == "Bash":
                for n in range(self.rng.randint(1, 6)):
                    out = self.text.code_text(self.rng.randint(20, 200))
                    data = {
                        "type": "bash_progress",
                        "output": out,
                        "fullOutput": out,
                        "elapsedTimeSeconds": n + 1,
                        "totalLines": n + 1,
                        "timeoutMs": 120000,
                    }
                    self.progress(data, f"bash-progress-{n}", use_id)
            self.hook_progress("PostToolUse", call.name, use_id, post)
            self.tool_result(use_id, call, source)
            if call.name in ("Edit", "Write"):
                self.files_touched.append(str(call.input["file_path"]))

    def answer(self) -> str:
        """The final assistant message of a turn; its text."""
        reply = self.text.words(self.rng.randint(100, 2000))
        self.assistant([*self._preamble()[:1], {"type": "text", "text": reply}])
        return reply

    def turn_start(self, prompt: str) -> None:
        rng = self.rng
        prompt_uuid = self._uuid()
        backups = {
            p.rsplit("/", 1)[-1]: {
                "backupFileName": f"{rng.getrandbits(64):016x}@v1",
                "version": 1,
                "backupTime": self._tick(0, 5),
            }
            for p in self.files_touched[-8:]
        }
        snapshot = {
            "messageId": prompt_uuid,
            "trackedFileBackups": backups,
            "timestamp": self._tick(0, 5),
        }
        self.plain(
            {
                "type": "file-history-snapshot",
                "messageId": prompt_uuid,
                "snapshot": snapshot,
                "isSnapshotUpdate": bool(backups),
            }
        )
        if rng.random() < 0.1:
            for op in ("enqueue", "dequeue"):
                self.plain(
                    {
                        "type": "queue-operation",
                        "operation": op,
                        "timestamp": self._tick(5, 500),
                        "sessionId": self.base["sessionId"],
                        "content": prompt[:200],
                    }
                )
        self.user_prompt(prompt)
        self.hook_progress("UserPromptSubmit", "prompt", self._uuid(), rng.randint(1, 2))
        if rng.random() < 0.03:
            self.system(
                "local_command", {"content": "<command-name>/mcp</command-name>", "level": "info"}
            )

    def turn_end(self) -> None:
        rng, use_id = self.rng, self._uuid()
        self.hook_progress("Stop", "stop", use_id, self.hooks[1])
        self.system(
            "stop_hook_summary",
            {
                "hookCount": self.hooks[1],
                "hookInfos": [{"command": "hooks/stop.sh"}],
                "hookErrors": [],
                "preventedContinuation": False,
                "stopReason": "",
                "hasOutput": True,
                "level": "suggestion",
                "toolUseID": use_id,
            },
        )
        self.system("turn_duration", {"durationMs": rng.randint(2_000, 1_500_000)})
        if rng.random() < 0.02:
            self.system(
                "compact_boundary",
                {
                    "content": "Conversation compacted",
                    "level": "info",
                    "compactMetadata": {
                        "trigger": "auto",
                        "preTokens": rng.randint(90_000, 160_000),
                    },
                },
            )

    def task_call(self, prompt: str) -> str:
        """An assistant message starting a Task; the tool_use id."""
        use_id = self._id("toolu_01")
        task = {
            "description": self.text.short(),
            "prompt": prompt,
            "subagent_type": "general-purpose",
            "model": "sonnet",
        }
        call = {
            "type": "tool_use",
            "id": use_id,
            "name": "Task",
            "input": task,
            "caller": {"type": "direct"},
        }
        self.assistant([*self._preamble(), call])
        self.hook_progress("PreToolUse", "Task", use_id, self.hooks[0])
        return use_id

    def agent_progress(self, tool_use_id: str, agent_id: str, prompt: str) -> None:
        inner = {
            "type": "user",
            "uuid": self._uuid(),
            "timestamp": self._tick(0, 5),
            "message": {"role": "user", "content": [{"type": "text", "text": prompt[:600]}]},
        }
        data = {
            "message": inner,
            "normalizedMessages": [],
            "type": "agent_progress",
            "prompt": prompt[:2000],
            "agentId": agent_id,
        }
        self.progress(data, self._id("agent_msg_01"), tool_use_id)

    def task_result(self, tool_use_id: str, agent_id: str, prompt: str, result: str) -> None:
        rng = self.rng
        source = self.parent or ""
        self.hook_progress("PostToolUse", "Task", tool_use_id, self.hooks[1])
        extra = self.text.words(result_size(rng))
        use_result = {
            "status": "completed",
            "prompt": prompt,
            "agentId": agent_id,
            "content": [{"type": "text", "text": result}],
            "totalDurationMs": rng.randint(5_000, 600_000),
            "totalTokens": rng.randint(5_000, 90_000),
            "totalToolUseCount": rng.randint(1, 40),
        }
        self.tool_result(tool_use_id, ToolCall("Task", {}, result + extra, use_result), source)
