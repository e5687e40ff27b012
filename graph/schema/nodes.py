"""The table of node types: what ``node(id:)`` resolves, and what the schema declares.

Each type that has a global ID is listed once, here, with how its row is loaded; the
Query's ``node`` field and the schema's ``types`` are built from this table, and a global
ID naming a type that is not in it is refused.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final

from strawberry.dataloader import DataLoader

from graph.errors import BadIdError
from graph.loaders import Loaders
from graph.schema.context import Context, Info
from graph.schema.ids import decode_id
from graph.schema.types import Conversation, Event, Message, Session
from graph.schema.values import Node

__all__ = ["NODES", "NodeType", "resolve_node"]


@dataclass(frozen=True, slots=True)
class NodeType:
    """A type with global IDs: its GraphQL type, its per-request loader by pk, and how
    an object of it is made of a row."""

    type: type[Any]
    loader: Callable[[Loaders], DataLoader[int, Any]]
    build: Callable[[Any, Context], Node]


NODES: Final[dict[str, NodeType]] = {
    "Session": NodeType(Session, lambda loaders: loaders.session, Session.of),
    "Conversation": NodeType(Conversation, lambda loaders: loaders.conversation, Conversation.of),
    "Message": NodeType(Message, lambda loaders: loaders.message, Message.of),
    "Event": NodeType(Event, lambda loaders: loaders.event, Event.of),
}


async def resolve_node(info: Info, global_id: str) -> Node | None:
    """The object a global ID names (``None``: no such row)."""
    type_name, pk = decode_id(global_id)
    entry = NODES.get(type_name)
    if entry is None:
        raise BadIdError(f"{global_id!r} is not a valid ID", id=global_id)
    row = await entry.loader(info.context.loaders).load(pk)
    if row is None:
        return None
    return entry.build(row, info.context)
