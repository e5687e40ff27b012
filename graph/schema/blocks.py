"""Message content blocks as a GraphQL union, one type per block kind."""

from __future__ import annotations

from typing import Annotated, Any, TypeAlias

import strawberry
from strawberry.scalars import JSON

from graph.content import Block, tool_result_text

__all__ = ["ContentBlock", "to_block"]


@strawberry.type(description="Text written by the user or the assistant.")
class TextBlock:
    text: str


@strawberry.type(description="The assistant's visible reasoning.")
class ThinkingBlock:
    thinking: str


@strawberry.type(description="A tool call the assistant made.")
class ToolUseBlock:
    tool_use_id: str | None
    name: str
    input: JSON | None = strawberry.field(
        description="The call's arguments as recorded; null when the record has none (a "
        "Codex call whose `arguments` is null)."
    )


@strawberry.type(description="What a tool returned, sent back as part of a user message.")
class ToolResultBlock:
    tool_use_id: str | None
    content: str = strawberry.field(description="The result as text (images as [image]).")
    raw_content: JSON | None = strawberry.field(
        description="The result exactly as recorded; null when the record has none."
    )
    is_error: bool


@strawberry.type(description="An image; its data is not served, only what it is.")
class ImageBlock:
    media_type: str | None
    source_type: str | None
    size_bytes: int | None


@strawberry.type(description="A block of a kind this version does not know, kept as it was.")
class UnknownBlock:
    type: str | None
    data: JSON


ContentBlock: TypeAlias = Annotated[
    TextBlock | ThinkingBlock | ToolUseBlock | ToolResultBlock | ImageBlock | UnknownBlock,
    strawberry.union("ContentBlock"),
]


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def to_block(block: Block) -> ContentBlock:
    """The typed block for one stored content block (never raises on odd shapes)."""
    kind = block.get("type")
    if kind == "text" and isinstance(block.get("text"), str):
        return TextBlock(text=block["text"])
    if kind == "thinking" and isinstance(block.get("thinking"), str):
        return ThinkingBlock(thinking=block["thinking"])
    if kind == "tool_use" and isinstance(block.get("name"), str):
        return ToolUseBlock(
            tool_use_id=_str(block.get("id")), name=block["name"], input=JSON(block.get("input"))
        )
    if kind == "tool_result":
        content = block.get("content")
        return ToolResultBlock(
            tool_use_id=_str(block.get("tool_use_id")),
            content=tool_result_text(content),
            raw_content=JSON(content),
            is_error=block.get("is_error") is True,
        )
    if kind == "image":
        source = block.get("source")
        source = source if isinstance(source, dict) else {}
        data = source.get("data")
        return ImageBlock(
            media_type=_str(source.get("media_type")),
            source_type=_str(source.get("type")),
            size_bytes=len(data) * 3 // 4 if isinstance(data, str) else None,
        )
    return UnknownBlock(type=_str(kind), data=JSON(block))
