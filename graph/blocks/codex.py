"""Codex CLI's content blocks: its ``response_item`` records mapped onto Claude Code's
block vocabulary (text, thinking, tool_use, tool_result, image)."""

from __future__ import annotations

from typing import Any

import orjson

from graph.content import Block, Record

__all__ = ["blocks", "item_blocks"]


def blocks(records: list[tuple[int, Record]]) -> list[Block]:
    """Every content block of the records' response items, in order (other records,
    events of the session, hold none)."""
    found: list[Block] = []
    for _, record in records:
        if record.get("type") == "response_item":
            found.extend(item_blocks(record))
    return found


def _json_or_text(value: Any) -> Any:
    """A tool call's arguments: the JSON they hold, else the text as it is."""
    if isinstance(value, str):
        try:
            return orjson.loads(value)
        except orjson.JSONDecodeError:
            return {"input": value}
    return value


def _parts(content: Any) -> list[Block]:
    """A Codex message's parts as text/image blocks; encrypted parts are left out."""
    if isinstance(content, str):
        return [{"type": "text", "text": content}]
    found: list[Block] = []
    for part in content if isinstance(content, list) else ():
        kind = part.get("type") if isinstance(part, dict) else None
        if kind in ("input_text", "output_text", "text") and isinstance(part.get("text"), str):
            found.append({"type": "text", "text": part["text"]})
        elif kind == "input_image":
            found.append({"type": "image", "source": {"type": "url"}})
    return found


def _output(output: Any) -> Any:
    """A tool output as tool-result content (text, or a list of text blocks)."""
    if isinstance(output, dict):
        output = output.get("content", [output]) if "content" in output else [output]
    return output


def item_blocks(record: Record) -> list[Block]:
    """The blocks of one Codex ``response_item``: messages, reasoning summaries (never
    ``encrypted_content``), tool calls and outputs (tied by ``call_id``)."""
    item = record.get("payload")
    if not isinstance(item, dict):
        return []
    kind = item.get("type")
    if kind == "message":
        return _parts(item.get("content"))
    if kind == "reasoning":
        summary = item.get("summary")
        texts = [
            part["text"]
            for part in (summary if isinstance(summary, list) else ())
            if isinstance(part, dict) and isinstance(part.get("text"), str)
        ]
        return [{"type": "thinking", "thinking": "\n\n".join(texts)}] if texts else []
    if kind in ("function_call", "custom_tool_call", "local_shell_call", "tool_search_call"):
        arguments = item.get("arguments", item.get("input", item.get("action")))
        name = item.get("name") if isinstance(item.get("name"), str) else kind
        return [
            {
                "type": "tool_use",
                "id": item.get("call_id"),
                "name": name,
                "input": _json_or_text(arguments),
            }
        ]
    if kind == "web_search_call":
        return [
            {
                "type": "tool_use",
                "id": item.get("id"),
                "name": "web_search",
                "input": item.get("action"),
            }
        ]
    if kind in ("function_call_output", "custom_tool_call_output", "tool_search_output"):
        return [
            {
                "type": "tool_result",
                "tool_use_id": item.get("call_id"),
                "content": _output(item.get("output", item.get("tools"))),
            }
        ]
    return []
