"""The GraphQL schema: Strawberry types over the loaders; no SQL in here."""

from __future__ import annotations

from typing import Any

import strawberry
from graphql import GraphQLError
from strawberry.schema.config import StrawberryConfig
from strawberry.types import ExecutionContext

from graph.schema.context import ApiSettings, Context
from graph.schema.errors import ErrorCodes, MaskInternalErrors
from graph.schema.query import Query
from graph.schema.scalars import SCALARS
from graph.schema.types import Conversation, Event, Message, Session

__all__ = ["ApiSettings", "Context", "Schema", "build_schema", "sdl"]


class Schema(strawberry.Schema):
    """The schema, logging only what :class:`MaskInternalErrors` has not already logged."""

    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        # Expected errors are the client's business; internal ones were logged, with
        # their request id, as they were masked.
        return


def build_schema(**options: Any) -> Schema:
    """The sessiongraph schema with its extensions."""
    return Schema(
        query=Query,
        types=[Session, Conversation, Message, Event],
        extensions=[MaskInternalErrors, ErrorCodes],
        config=StrawberryConfig(scalar_map=SCALARS),
        **options,
    )


def sdl() -> str:
    """The schema in SDL, as committed in ``schema.graphql``."""
    return build_schema().as_str() + "\n"
