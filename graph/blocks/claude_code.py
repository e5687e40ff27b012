"""Claude Code's content blocks: its records already hold them (``message.content``).

Also what else the store reads out of stored records of Claude Code sessions: the
1-hour part of a message's cache writes.
"""

from __future__ import annotations

from graph.content import Block, Record

__all__ = ["blocks", "cache_writes_1h"]


def blocks(records: list[tuple[int, Record]]) -> list[Block]:
    """Every content block of the records, in order.

    A plain-string ``message.content`` (how user prompts are written) becomes one text
    block; a list contributes its blocks as they are. A non-object entry is kept as an
    ``unknown`` block so that nothing is hidden. A line of the prompt history
    (``display``, with any pasted text) is a prompt too.
    """
    found: list[Block] = []
    for _, record in records:
        message = record.get("message")
        content = message.get("content") if isinstance(message, dict) else None
        if message is None and isinstance(record.get("display"), str):
            found += _history_blocks(record)
        elif isinstance(content, str):
            found.append({"type": "text", "text": content})
        elif isinstance(content, list):
            for block in content:
                found.append(block if isinstance(block, dict) else {"type": None, "value": block})
    return found


def _history_blocks(record: Record) -> list[Block]:
    """A prompt-history line: what was typed, then the text pasted into it."""
    found: list[Block] = [{"type": "text", "text": record["display"]}]
    pasted = record.get("pastedContents")
    for item in pasted.values() if isinstance(pasted, dict) else ():
        if isinstance(item, dict) and isinstance(item.get("content"), str):
            found.append({"type": "text", "text": item["content"]})
    return found


def cache_writes_1h(records: list[tuple[int, Record]]) -> int:
    """The cache writes with a 1-hour TTL in the last record's usage (the message's):
    ``message.usage.cache_creation.ephemeral_1h_input_tokens``, else 0."""
    for _, record in reversed(records):
        message = record.get("message")
        usage = message.get("usage") if isinstance(message, dict) else None
        if isinstance(usage, dict):
            ttl = usage.get("cache_creation")
            value = ttl.get("ephemeral_1h_input_tokens") if isinstance(ttl, dict) else None
            return value if isinstance(value, int) and not isinstance(value, bool) else 0
    return 0
