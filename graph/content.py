"""What a stored message is made of: its records, their content blocks, its readable text.

A message is stored as the list of transcript records it was built from (one per line,
with the line number), exactly as read. Blocks and text are derived from them on demand,
so nothing the transcript said is lost and nothing is stored twice.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import orjson

__all__ = [
    "Block",
    "Record",
    "blocks_of",
    "codex_blocks",
    "gemini_blocks",
    "readable_text",
    "records_of",
    "tool_result_text",
]

Record = dict[str, Any]
Block = dict[str, Any]


def records_of(content: bytes | str) -> list[tuple[int, Record]]:
    """The (line number, record) pairs of a stored message, in file order."""
    return [(int(line), record) for line, record in orjson.loads(content)]


def blocks_of(records: list[tuple[int, Record]]) -> list[Block]:
    """Every content block of the records, in order, in Claude Code's block vocabulary.

    A plain-string ``message.content`` (how user prompts are written) becomes one text
    block; a list contributes its blocks as they are. A non-object entry is kept as an
    ``unknown`` block so that nothing is hidden. A line of Claude Code's prompt history
    (``display``, with any pasted text) is a prompt too. Records of other agents are told
    by their shape (Codex: ``response_item``; Gemini CLI: top-level ``content``) and
    mapped onto the same blocks; a Gemini message whose id was written again is its last
    record.
    """
    if records and _is_gemini(records[-1][1]):
        return gemini_blocks(records[-1][1])
    blocks: list[Block] = []
    for _, record in records:
        if record.get("type") == "response_item":
            blocks.extend(codex_blocks(record))
            continue
        message = record.get("message")
        content = message.get("content") if isinstance(message, dict) else None
        if message is None and isinstance(record.get("display"), str):
            blocks += _history_blocks(record)
        elif isinstance(content, str):
            blocks.append({"type": "text", "text": content})
        elif isinstance(content, list):
            for block in content:
                blocks.append(block if isinstance(block, dict) else {"type": None, "value": block})
    return blocks


def _history_blocks(record: Record) -> list[Block]:
    """A prompt-history line: what was typed, then the text pasted into it."""
    blocks: list[Block] = [{"type": "text", "text": record["display"]}]
    pasted = record.get("pastedContents")
    for item in pasted.values() if isinstance(pasted, dict) else ():
        if isinstance(item, dict) and isinstance(item.get("content"), str):
            blocks.append({"type": "text", "text": item["content"]})
    return blocks


def _is_gemini(record: Record) -> bool:
    # Older chat documents hold items with the API's ``parts`` instead of ``content``.
    return "message" not in record and (
        ("id" in record and "content" in record) or "parts" in record
    )


def _json_or_text(value: Any) -> Any:
    """A tool call's arguments: the JSON they hold, else the text as it is."""
    if isinstance(value, str):
        try:
            return orjson.loads(value)
        except orjson.JSONDecodeError:
            return {"input": value}
    return value


def _codex_parts(content: Any) -> list[Block]:
    """A Codex message's parts as text/image blocks; encrypted parts are left out."""
    if isinstance(content, str):
        return [{"type": "text", "text": content}]
    blocks: list[Block] = []
    for part in content if isinstance(content, list) else ():
        kind = part.get("type") if isinstance(part, dict) else None
        if kind in ("input_text", "output_text", "text") and isinstance(part.get("text"), str):
            blocks.append({"type": "text", "text": part["text"]})
        elif kind == "input_image":
            blocks.append({"type": "image", "source": {"type": "url"}})
    return blocks


def _codex_output(output: Any) -> Any:
    """A tool output as tool-result content (text, or a list of text blocks)."""
    if isinstance(output, dict):
        output = output.get("content", [output]) if "content" in output else [output]
    return output


def codex_blocks(record: Record) -> list[Block]:
    """The blocks of one Codex ``response_item``: messages, reasoning summaries (never
    ``encrypted_content``), tool calls and outputs (tied by ``call_id``)."""
    item = record.get("payload")
    if not isinstance(item, dict):
        return []
    kind = item.get("type")
    if kind == "message":
        return _codex_parts(item.get("content"))
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
                "content": _codex_output(item.get("output", item.get("tools"))),
            }
        ]
    return []


def _gemini_parts(content: Any) -> list[Block]:
    if isinstance(content, str):
        return [{"type": "text", "text": content}] if content else []
    blocks: list[Block] = []
    for part in content if isinstance(content, list) else ():
        if isinstance(part, dict) and isinstance(part.get("text"), str):
            blocks.append({"type": "text", "text": part["text"]})
        elif isinstance(part, str):
            blocks.append({"type": "text", "text": part})
    return blocks


def gemini_blocks(record: Record) -> list[Block]:
    """The blocks of one Gemini CLI message record: thoughts, content parts, tool calls
    (each with its result, under the call's ``id``)."""
    blocks: list[Block] = []
    thoughts = record.get("thoughts")
    for thought in thoughts if isinstance(thoughts, list) else ():
        if isinstance(thought, dict):
            text = " ".join(
                value
                for value in (thought.get("subject"), thought.get("description"))
                if isinstance(value, str) and value
            )
            if text:
                blocks.append({"type": "thinking", "thinking": text})
    blocks.extend(_gemini_parts(record["content"] if "content" in record else record.get("parts")))
    calls = record.get("toolCalls")
    for call in calls if isinstance(calls, list) else ():
        if not isinstance(call, dict):
            continue
        blocks.append(
            {
                "type": "tool_use",
                "id": call.get("id"),
                "name": str(call.get("name")),
                "input": call.get("args"),
            }
        )
        if "result" in call:
            blocks.append(
                {
                    "type": "tool_result",
                    "tool_use_id": call.get("id"),
                    "content": _gemini_result(call.get("result")),
                    "is_error": call.get("status") == "error",
                }
            )
    return blocks


def _gemini_result(result: Any) -> Any:
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


def readable_text(blocks: list[Block], each: Callable[[str], str] | None = None) -> str:
    """The text a person reads: the text blocks, joined by blank lines (each passed
    through ``each`` first, when given)."""
    pieces = (
        block["text"]
        for block in blocks
        if block.get("type") == "text" and isinstance(block.get("text"), str)
    )
    return "\n\n".join(pieces if each is None else map(each, pieces))


def tool_result_text(content: Any) -> str:
    """A tool result's content as text (it is a string, or a list of text/image blocks)."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        parts = []
        for item in content:
            if isinstance(item, dict) and isinstance(item.get("text"), str):
                parts.append(item["text"])
            elif isinstance(item, dict) and item.get("type") == "image":
                parts.append("[image]")
        return "\n".join(parts)
    return "" if content is None else orjson.dumps(content).decode()
