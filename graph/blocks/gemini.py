"""Gemini CLI's content blocks: a message record's thoughts, content parts and tool
calls mapped onto Claude Code's block vocabulary."""

from __future__ import annotations

from typing import Any

import orjson

from graph.content import Block, Record

__all__ = ["blocks", "record_blocks"]


def blocks(records: list[tuple[int, Record]]) -> list[Block]:
    """The blocks of a message: those of its last record (a message whose id was written
    again is its last version)."""
    return record_blocks(records[-1][1]) if records else []


def _parts(content: Any) -> list[Block]:
    if isinstance(content, str):
        return [{"type": "text", "text": content}] if content else []
    found: list[Block] = []
    for part in content if isinstance(content, list) else ():
        if isinstance(part, dict) and isinstance(part.get("text"), str):
            found.append({"type": "text", "text": part["text"]})
        elif isinstance(part, str):
            found.append({"type": "text", "text": part})
    return found


def record_blocks(record: Record) -> list[Block]:
    """The blocks of one Gemini CLI message record: thoughts, content parts, tool calls
    (each with its result, under the call's ``id``)."""
    found: list[Block] = []
    thoughts = record.get("thoughts")
    for thought in thoughts if isinstance(thoughts, list) else ():
        if isinstance(thought, dict):
            text = " ".join(
                value
                for value in (thought.get("subject"), thought.get("description"))
                if isinstance(value, str) and value
            )
            if text:
                found.append({"type": "thinking", "thinking": text})
    found.extend(_parts(record["content"] if "content" in record else record.get("parts")))
    calls = record.get("toolCalls")
    for call in calls if isinstance(calls, list) else ():
        if not isinstance(call, dict):
            continue
        found.append(
            {
                "type": "tool_use",
                "id": call.get("id"),
                "name": str(call.get("name")),
                "input": call.get("args"),
            }
        )
        if "result" in call:
            found.append(
                {
                    "type": "tool_result",
                    "tool_use_id": call.get("id"),
                    "content": _result(call.get("result")),
                    "is_error": call.get("status") == "error",
                }
            )
    return found


def _result(result: Any) -> Any:
    """A tool call's ``result`` (function responses) as tool-result text blocks."""
    if not isinstance(result, list):
        return result
    texts: list[Block] = []
    for part in result:
        response = part.get("functionResponse") if isinstance(part, dict) else None
        payload = response.get("response") if isinstance(response, dict) else part
        if isinstance(payload, dict):
            value = payload.get("output", payload.get("error", payload))
            text = value if isinstance(value, str) else orjson.dumps(value).decode()
        else:
            text = payload if isinstance(payload, str) else orjson.dumps(payload).decode()
        texts.append({"type": "text", "text": text})
    return texts
