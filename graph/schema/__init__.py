"""The GraphQL schema: Strawberry types over the loaders; no SQL in here."""

from __future__ import annotations

from typing import Any

import strawberry
from graphql import GraphQLError
from strawberry.extensions import ParserCache, ValidationCache
from strawberry.schema.config import StrawberryConfig
from strawberry.types import ExecutionContext

from graph.schema.context import ApiSettings, Context
from graph.schema.errors import MaskInternalErrors, add_codes
from graph.schema.query import Query
from graph.schema.scalars import SCALARS
from graph.schema.types import Conversation, Event, Message, Session

__all__ = ["ApiSettings", "Context", "Schema", "build_schema", "sdl"]


class Schema(strawberry.Schema):
    """The schema; every error passes :meth:`process_errors` before it is returned."""

    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        # strawberry calls this for every error, whatever the phase (a parse error raised
        # inside a caching extension included), before extensions such as the masking one
        # see them: the one place where every error can be given its code. Nothing is
        # logged here: internal errors are logged, with their request id, when masked.
        add_codes(errors)


def build_schema(**options: Any) -> Schema:
    """The sessiongraph schema with its extensions."""
    return Schema(
        query=Query,
        types=[Session, Conversation, Message, Event],
        # Parsing and validating are per-document work: cached across requests (the
        # caches live at module level, so a fresh extension per request shares them).
        extensions=[
            MaskInternalErrors,
            lambda: ParserCache(maxsize=256),
            lambda: ValidationCache(maxsize=256),
        ],
        config=StrawberryConfig(scalar_map=SCALARS),
        **options,
    )


def sdl() -> str:
    """The schema in SDL, as committed in ``schema.graphql``."""
    return build_schema().as_str() + "\n"
