"""A generated Codex CLI corpus: ``sessions/YYYY/MM/DD/rollout-<ts>-<uuid>.jsonl``.

Each turn is what cli 0.146 writes (see shared/samples/codex): ``turn_context``,
``task_started``, the prompt as a response item and its ``user_message`` echo, a
reasoning item (summary and opaque ``encrypted_content``), one to three shell calls
with their outputs, the answer and its ``agent_message`` echo, a ``token_count`` written
twice (Codex repeats them) and ``task_complete``. ``messages`` counts what the importer
stores as messages: the prompt, each output, and the turn's assistant message.
"""

from __future__ import annotations

import json
import random
import time
from pathlib import Path
from typing import Any

import orjson

from bench.generate import Corpus, TextPool

__all__ = ["generate_codex"]


def generate_codex(root: Path, messages: int, *, seed: int = 7) -> Corpus:
    """Write rollouts of about ``messages`` stored messages under ``root / "sessions"``."""
    rng = random.Random(f"sessiongraph-bench-codex:{seed}:{messages}")
    text = TextPool(rng)
    corpus = Corpus(root=root / "sessions")
    clock = 1_760_000_000_000
    while corpus.messages < messages:
        clock = _session(rng, text, corpus, clock, min(rng.randint(100, 300), messages))
    return corpus


def _uuid(rng: random.Random) -> str:
    h = f"{rng.getrandbits(128):032x}"
    return f"{h[:8]}-{h[8:12]}-7{h[13:16]}-a{h[17:20]}-{h[20:32]}"


def _session(rng: random.Random, text: TextPool, corpus: Corpus, clock: int, budget: int) -> int:
    session_id = _uuid(rng)
    day = time.strftime("%Y/%m/%d", time.gmtime(clock / 1000))
    stamp = time.strftime("%Y-%m-%dT%H-%M-%S", time.gmtime(clock / 1000))
    folder = corpus.root / day
    folder.mkdir(parents=True, exist_ok=True)
    total = {"input_tokens": 0, "cached_input_tokens": 0, "output_tokens": 0}
    stored = 0
    with (folder / f"rollout-{stamp}-{session_id}.jsonl").open("wb") as fh:

        def write(kind: str, payload: dict[str, Any], *, message: bool = False) -> None:
            nonlocal clock
            clock += rng.randint(5, 900)
            ts = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(clock // 1000))
            line = orjson.dumps(
                {"timestamp": f"{ts}.{clock % 1000:03d}Z", "type": kind, "payload": payload}
            )
            fh.write(line + b"\n")
            corpus.records += 1
            corpus.bytes += len(line) + 1
            corpus.events += not message

        cwd = f"/home/dev/projects/{text.short(1, 1)}"
        write(
            "session_meta",
            {
                "id": session_id,
                "cwd": cwd,
                "cli_version": "0.146.0",
                "originator": "codex_cli_rs",
                "git": {"branch": "main"},
            },
        )
        while stored < budget:
            turn = _uuid(rng)
            write("turn_context", {"turn_id": turn, "cwd": cwd, "model": "gpt-5.6-luna"})
            write("event_msg", {"type": "task_started", "turn_id": turn})
            prompt = text.words(rng.randint(40, 600))
            write(
                "response_item",
                {
                    "type": "message",
                    "role": "user",
                    "content": [{"type": "input_text", "text": prompt}],
                },
                message=True,
            )
            write("event_msg", {"type": "user_message", "message": prompt})
            write(
                "response_item",
                {
                    "type": "reasoning",
                    "summary": [{"type": "summary_text", "text": text.words(rng.randint(80, 400))}],
                    "encrypted_content": f"gAAAA{rng.getrandbits(512):0128x}",
                },
                message=True,
            )
            calls = rng.randint(1, 3)
            for _ in range(calls):
                call = f"call_{rng.getrandbits(64):016x}"
                command = ["bash", "-lc", text.code_text(rng.randint(20, 120))]
                write(
                    "response_item",
                    {
                        "type": "function_call",
                        "name": "shell",
                        "call_id": call,
                        "arguments": json.dumps({"command": command}),
                    },
                    message=True,
                )
                write(
                    "response_item",
                    {
                        "type": "function_call_output",
                        "call_id": call,
                        "output": text.code_text(rng.randint(100, 3000)),
                    },
                    message=True,
                )
            answer = text.words(rng.randint(100, 1500))
            write(
                "response_item",
                {
                    "type": "message",
                    "role": "assistant",
                    "content": [{"type": "output_text", "text": answer}],
                },
                message=True,
            )
            write("event_msg", {"type": "agent_message", "message": answer})
            last = {
                "input_tokens": rng.randint(5_000, 90_000),
                "output_tokens": rng.randint(50, 3_000),
                "cached_input_tokens": rng.randint(0, 4_000),
            }
            total = {key: total[key] + last[key] for key in total}
            for _ in range(2):  # Codex repeats unchanged totals
                write(
                    "event_msg",
                    {
                        "type": "token_count",
                        "info": {"total_token_usage": total, "last_token_usage": last},
                    },
                )
            write("event_msg", {"type": "task_complete", "turn_id": turn})
            stored += 2 + calls
            corpus.messages += 2 + calls
    corpus.sessions += 1
    return clock
