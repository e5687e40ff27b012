"""What a stored message is made of: its records, their content blocks, its readable text.

A message is stored as the list of transcript records it was built from (one per line,
with the line number), exactly as read. Blocks and text are derived from them on demand,
so nothing the transcript said is lost and nothing is stored twice.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import orjson

__all__ = ["Block", "Record", "blocks_of", "readable_text", "records_of", "tool_result_text"]

Record = dict[str, Any]
Block = dict[str, Any]


def records_of(content: bytes | str) -> list[tuple[int, Record]]:
    """The (line number, record) pairs of a stored message, in file order."""
    return [(int(line), record) for line, record in orjson.loads(content)]


def blocks_of(records: list[tuple[int, Record]]) -> list[Block]:
    """Every content block of the records, in order.

    A plain-string ``message.content`` (how user prompts are written) becomes one text
    block; a list contributes its blocks as they are. A non-object entry is kept as an
    ``unknown`` block so that nothing is hidden. A line of Claude Code's prompt history
    (``display``, with any pasted text) is a prompt too.
    """
    blocks: list[Block] = []
    for _, record in records:
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
