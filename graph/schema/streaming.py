"""Refusals of a streamed operation (WebSocket) answered as errors, as over HTTP.

strawberry's ``execute`` turns an exception raised by an extension before execution
(the parser's token limit and syntax errors, raised by the parser cache; the cost
limit's refusal) into an error result; its ``stream`` lets it escape the stream, and the
WebSocket handler then logs it as a crash and sends only ``complete``. Here such an
exception becomes the stream's one result: an error with its code, internal errors
masked.

A syntax error, or an ``operationName`` naming no operation, also goes out as an
``error`` message: strawberry's handler would close the whole socket (4400) on one,
every other subscription on it with it, where a validation error ends only its own
operation.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import aclosing
from typing import TYPE_CHECKING

from graphql import GraphQLError
from graphql.error import GraphQLSyntaxError
from strawberry.schema.exceptions import CannotGetOperationTypeError
from strawberry.types.execution import PreExecutionError

from graph.schema.errors import is_internal, masked

if TYPE_CHECKING:
    from strawberry.schema.schema import StreamResult

__all__ = ["refusing"]


async def refusing(
    results: StreamResult,
    add_codes: Callable[[list[GraphQLError]], None],
    request_id: str | None,
) -> StreamResult:
    """``results``, or, when they fail before their first, that failure as an error."""
    started = False
    try:
        async with aclosing(results):
            async for result in results:
                if not started and isinstance(result, PreExecutionError) and result.errors:
                    result.errors = [_kept_open(error) for error in result.errors]
                started = True
                yield result
    except Exception as exc:
        if started:
            raise  # past the first result strawberry answers errors itself
        error = exc if isinstance(exc, GraphQLError) else GraphQLError(str(exc), original_error=exc)
        add_codes([error])
        error = masked(error, request_id) if is_internal(error) else _kept_open(error)
        yield PreExecutionError(data=None, errors=[error])


def _kept_open(error: GraphQLError) -> GraphQLError:
    """``error``, as one the WebSocket handler sends rather than closes the socket for."""
    if isinstance(error, GraphQLSyntaxError) or isinstance(
        error.original_error, CannotGetOperationTypeError
    ):
        return GraphQLError(
            error.message,
            source=error.source,
            positions=error.positions,
            extensions=error.extensions,
        )
    return error
