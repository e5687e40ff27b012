"""The floor of a GraphQL layer on this stack: strawberry's own execution of the flat page.

A minimal strawberry schema with the flat page's fields and nothing else: no limits, no
cursors, no masking, no encryption, no loaders, no plans; parsing and validation cached by
strawberry's own extensions. Its one resolver builds an object
per row from the raw page's rows (:meth:`bench.pages.RawPages.flat_rows`, read on the
loop's thread as the raw page reads them), and ``schema.execute`` completes them. What it
costs over the raw page is what strawberry and graphql-core themselves cost for the page's
50 objects and 400 field values: the part of sessiongraph's cost (``query.flat``) that no
resolver or loader of its own can remove.
"""

from __future__ import annotations

from typing import Any

import strawberry
from strawberry.extensions import ParserCache, ValidationCache

from bench.pages import FLAT, RawPages
from graph.schema.ids import encode_id

__all__ = ["FloorSchema"]


@strawberry.type
class TokenUsage:
    input: int
    output: int


@strawberry.type
class Session:
    id: strawberry.ID
    session_id: str
    title: str | None
    project: str | None
    message_count: int
    event_count: int
    token_usage: TokenUsage


@strawberry.type
class SessionEdge:
    node: Session


@strawberry.type
class SessionConnection:
    edges: list[SessionEdge]


def _edge(pk: int, sid: str, title: str | None, project: str | None, *counts: int) -> SessionEdge:
    messages, events, input_tokens, output_tokens = counts
    node = Session(
        id=strawberry.ID(encode_id("Session", pk)),
        session_id=sid,
        title=title,
        project=project,
        message_count=messages,
        event_count=events,
        token_usage=TokenUsage(input=input_tokens, output=output_tokens),
    )
    return SessionEdge(node=node)


class FloorSchema:
    """The flat page (:data:`bench.pages.FLAT`) answered by a minimal strawberry schema."""

    def __init__(self, raw: RawPages) -> None:
        @strawberry.type
        class Query:
            @strawberry.field
            def sessions(self, first: int) -> SessionConnection:
                return SessionConnection(edges=[_edge(*row) for row in raw.flat_rows()[:first]])

        # Factories, as strawberry asks: each request's extension shares one cache.
        caches = [lambda: ParserCache(maxsize=16), lambda: ValidationCache(maxsize=16)]
        self.schema = strawberry.Schema(Query, extensions=caches)

    async def flat(self) -> Any:
        """The flat page's JSON ``data``."""
        result = await self.schema.execute(FLAT)
        if result.errors:
            raise RuntimeError(f"GraphQL errors: {[e.message for e in result.errors]}")
        return result.data
