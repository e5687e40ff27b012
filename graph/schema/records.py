"""What a message is made of, as the API serves it: its records, its content blocks as
its session's format reads them, and its text when the stored one will not do.

A page's rows are read without their records: one statement reads those of every
message of the request that needs them. Where the message's session is a row the
request has read, blocks and records are values of that shared load (no task per
message); a message found alone loads its session first.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

from strawberry.scalars import JSON

from graph.content import Block, BlocksOf, Record
from graph.importers.formats import format_named
from graph.schema.blocks import ContentBlock, to_block
from graph.schema.chained import Chained, then
from graph.schema.context import Context
from graph.store import MessageRow

__all__ = [
    "blocks_of",
    "built_text",
    "message_blocks",
    "message_records",
    "records_of",
]

T = TypeVar("T")

Records = list[tuple[int, Record]]


def message_records(context: Context, row: MessageRow) -> Records:
    """A message's (line, record) pairs, decrypted once per request (``row`` read with
    its records)."""
    pairs = context.open_json("messages", "content", row.row_key, row.records)
    return [(int(line), record) for line, record in pairs]


def message_blocks(context: Context, row: MessageRow, source: str) -> list[Block]:
    """A message's content blocks, as the format of its session (``source``) reads them
    (``row`` read with its records)."""
    return format_named(source).blocks(message_records(context, row))


def records_of(context: Context, row: MessageRow) -> list[JSON] | Chained[list[JSON]]:
    """The message's records, as served."""
    return _with_records(context, row, lambda records: [JSON(record) for _, record in records])


def blocks_of(
    context: Context, row: MessageRow
) -> list[ContentBlock] | Awaitable[list[ContentBlock]]:
    """The message's content blocks, as served."""
    session = context.loaders.remembered_session(row.session_pk)
    if session is None:  # a message found alone: its session is a load of its own
        return _blocks_alone(context, row)
    return _blocks_of(context, row, format_named(session.source).blocks)


async def _blocks_alone(context: Context, row: MessageRow) -> list[ContentBlock]:
    return await _settled(_blocks_of(context, row, await _format_of(context, row)))


def _blocks_of(
    context: Context, row: MessageRow, blocks: BlocksOf
) -> list[ContentBlock] | Chained[list[ContentBlock]]:
    return _with_records(context, row, lambda records: [to_block(b) for b in blocks(records)])


async def built_text(context: Context, row: MessageRow) -> str | None:
    """The message's text built from its records (the stored text would not do)."""
    blocks = await _format_of(context, row)
    return context.message_text(await _settled(_read(context, row)), blocks)


async def _format_of(context: Context, row: MessageRow) -> BlocksOf:
    """How the format of the message's session reads its records."""
    session = context.loaders.remembered_session(row.session_pk)
    session = session or await context.loaders.session.load(row.session_pk)
    assert session is not None  # a foreign key guarantees it
    return format_named(session.source).blocks


def _with_records(
    context: Context, row: MessageRow, make: Callable[[Records], T]
) -> T | Chained[T]:
    """What ``make`` makes of the message's records, once read."""
    read = _read(context, row)
    if isinstance(read, Chained):
        return read.then(lambda row: make(message_records(context, row)))
    return make(message_records(context, read))


def _read(context: Context, row: MessageRow) -> MessageRow | Chained[MessageRow]:
    """``row`` with its records (a page's rows are read without them)."""
    if row.content is not None:
        return row
    return then(
        context.loaders.message_content.load(row.id),
        lambda content: row._replace(content=content if content is not None else b"[]"),
    )


async def _settled(value: T | Chained[T]) -> T:
    return await value if isinstance(value, Chained) else value
