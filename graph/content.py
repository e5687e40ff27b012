"""What a stored message is made of: its records, their content blocks, its readable text.

A message is stored as the list of transcript records it was built from (one per line,
with the line number), exactly as read. Blocks and text are derived from them on demand,
so nothing the transcript said is lost and nothing is stored twice.

Blocks follow one vocabulary (text, thinking, tool_use, tool_result, image), whatever
wrote the records; how a format's records become blocks is that format's business
(:mod:`graph.blocks`, by the session's ``source``). What is here holds for every format.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeAlias

import orjson

__all__ = [
    "Block",
    "BlocksOf",
    "Record",
    "TokensOf",
    "readable_text",
    "records_of",
    "tool_result_text",
]

Record = dict[str, Any]
Block = dict[str, Any]
# A format's reading of a message's (line number, record) pairs as content blocks.
BlocksOf: TypeAlias = Callable[[list[tuple[int, Record]]], list[Block]]
# A format's reading of a count of tokens out of a message's (line number, record) pairs.
TokensOf: TypeAlias = Callable[[list[tuple[int, Record]]], int]


def records_of(content: bytes | str) -> list[tuple[int, Record]]:
    """The (line number, record) pairs of a stored message, in file order."""
    return [(int(line), record) for line, record in orjson.loads(content)]


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
