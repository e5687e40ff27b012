"""Generated Codex CLI rollouts, ``sessions/YYYY/MM/DD/rollout-<ts>-<uuid>.jsonl``, with
turns as cli 0.146 writes them (``shared/samples/codex``)."""

from __future__ import annotations

import json
import time
from functools import partial
from typing import Any

from bench.corpus import Corpus, iso_stamp, random_uuid


def codex_session(corpus: Corpus, clock: int, budget: int) -> int:
    """One rollout of about ``budget`` stored messages; the clock after its last line."""
    rng, text, session_id = corpus.rng, corpus.text, random_uuid(corpus.rng, "7")
    begun = time.gmtime(clock / 1000)
    day, stamp = time.strftime("%Y/%m/%d", begun), time.strftime("%Y-%m-%dT%H-%M-%S", begun)
    total = {"input_tokens": 0, "cached_input_tokens": 0, "output_tokens": 0}
    start = corpus.messages
    with corpus.open(f"{day}/rollout-{stamp}-{session_id}.jsonl") as fh:

        def write(kind: str, stored: bool = False, /, **payload: Any) -> None:
            nonlocal clock
            clock += rng.randint(5, 900)
            record = {"timestamp": iso_stamp(clock), "type": kind, "payload": payload}
            corpus.write(fh, record, message=stored)

        item = partial(write, "response_item", True)  # what the importer stores
        cwd = f"/home/dev/projects/{text.short(1, 1)}"
        meta = dict(id=session_id, cwd=cwd, cli_version="0.146.0", originator="codex_cli_rs")
        write("session_meta", **meta, git={"branch": "main"})
        while corpus.messages - start < budget:
            turn = random_uuid(rng, "7")
            write("turn_context", turn_id=turn, cwd=cwd, model="gpt-5.6-luna")
            write("event_msg", type="task_started", turn_id=turn)
            prompt = text.words(rng.randint(40, 600))
            item(type="message", role="user", content=[{"type": "input_text", "text": prompt}])
            write("event_msg", type="user_message", message=prompt)
            summary = [{"type": "summary_text", "text": text.words(rng.randint(80, 400))}]
            sealed = f"gAAAA{rng.getrandbits(512):0128x}"
            item(type="reasoning", summary=summary, encrypted_content=sealed)
            calls = rng.randint(1, 3)
            for _ in range(calls):
                call = f"call_{rng.getrandbits(64):016x}"
                command = ["bash", "-lc", text.code_text(rng.randint(20, 120))]
                arguments = json.dumps({"command": command})
                item(type="function_call", name="shell", call_id=call, arguments=arguments)
                output = text.code_text(rng.randint(100, 3000))
                item(type="function_call_output", call_id=call, output=output)
            answer = text.words(rng.randint(100, 1500))
            content = [{"type": "output_text", "text": answer}]
            item(type="message", role="assistant", content=content)
            write("event_msg", type="agent_message", message=answer)
            last = dict(
                input_tokens=rng.randint(5_000, 90_000), output_tokens=rng.randint(50, 3_000)
            )
            last["cached_input_tokens"] = rng.randint(0, 4_000)
            total = {key: total[key] + last[key] for key in total}
            for _ in range(2):  # Codex repeats unchanged totals
                info = {"total_token_usage": total, "last_token_usage": last}
                write("event_msg", type="token_count", info=info)
            write("event_msg", type="task_complete", turn_id=turn)
            corpus.messages += 2 + calls
    return clock
