"""Every GraphQL error leaves with an ``extensions.code``; unexpected ones leave masked.

Expected errors (:class:`~graph.errors.SessiongraphError`) keep their message and gain
their class's code. Syntax and validation errors get the codes Apollo clients know.
Anything else is a bug: it is logged here with the request id and its traceback, and the
client sees only "Internal error" and that id.
"""

from __future__ import annotations

import logging
from typing import Final

from graphql import GraphQLError, VariableDefinitionNode
from graphql.error import GraphQLSyntaxError
from strawberry.extensions import MaskErrors
from strawberry.schema.exceptions import CannotGetOperationTypeError

from graph.crypto import DecryptionFailed
from graph.errors import SessiongraphError

__all__ = [
    "LIMIT_CODES",
    "MaskInternalErrors",
    "add_codes",
    "is_internal",
    "masked",
    "unreadable_only",
]

log = logging.getLogger("graph.errors")


# The messages of strawberry's limiting validation rules, and the codes they get.
_LIMIT_MESSAGES = (
    ("exceeds maximum operation depth", "QUERY_TOO_DEEP"),
    ("aliases found", "TOO_MANY_ALIASES"),
)
LIMIT_CODES = frozenset(
    {
        "QUERY_TOO_DEEP",
        "TOO_MANY_ALIASES",
        "QUERY_TOO_LONG",
        "QUERY_TOO_COSTLY",
        "QUERY_TOO_COMPLEX",
        "QUERY_TIMEOUT",
    }
)


def unreadable_only(errors: list[GraphQLError]) -> bool:
    """Whether an answer's errors are all values that do not authenticate: each left out
    (null) where it stands, the rest of the answer worth showing (the CLI, MCP)."""
    return all(isinstance(error.original_error, DecryptionFailed) for error in errors)


def is_internal(error: GraphQLError) -> bool:
    """An error raised by a resolver that is not one of ours: a bug to hide."""
    original = error.original_error
    return original is not None and not isinstance(
        original, SessiongraphError | GraphQLError | CannotGetOperationTypeError
    )


def _code(error: GraphQLError) -> str:
    original = error.original_error
    if isinstance(original, SessiongraphError):
        return original.code
    if isinstance(original, CannotGetOperationTypeError):
        return "BAD_REQUEST"  # no operation of that name, or several and no name: as over HTTP
    if isinstance(error, GraphQLSyntaxError):
        if "tokens" in error.message and "more than" in error.message:
            return "QUERY_TOO_LONG"
        return "GRAPHQL_PARSE_FAILED"
    for fragment, code in _LIMIT_MESSAGES:
        if fragment in error.message:
            return code
    if any(isinstance(node, VariableDefinitionNode) for node in error.nodes or ()):
        return "BAD_USER_INPUT"  # a variable's value does not fit its type
    if error.path is None:
        return "GRAPHQL_VALIDATION_FAILED"
    return "BAD_USER_INPUT"


def add_codes(errors: list[GraphQLError], *, hide_suggestions: bool = False) -> None:
    """Give expected errors their ``extensions.code`` and details (internal ones are
    masked later, by :class:`MaskInternalErrors`); optionally drop "Did you mean" hints."""
    for error in errors:
        if is_internal(error):
            continue
        if hide_suggestions and " Did you mean" in error.message:
            error.message = error.message[: error.message.index(" Did you mean")]
        original = error.original_error
        details = original.extensions if isinstance(original, SessiongraphError) else {}
        error.extensions = {**(error.extensions or {}), **details, "code": _code(error)}


_MASKED: Final = "Internal error"


def masked(error: GraphQLError, request_id: str | None) -> GraphQLError:
    """``error`` (internal) logged with its traceback, and what the client sees of it."""
    log.error(
        "internal error in %s (request %s)",
        ".".join(map(str, error.path or [])) or "operation",
        request_id,
        exc_info=error.original_error,
    )
    return GraphQLError(
        _MASKED,
        error.nodes,
        error.source,
        error.positions,
        error.path,
        extensions={"code": "INTERNAL_SERVER_ERROR", "requestId": request_id},
    )


class MaskInternalErrors(MaskErrors):
    """strawberry's MaskErrors, keeping a code and the request id on what it masks."""

    def __init__(self) -> None:
        super().__init__(should_mask_error=is_internal, error_message=_MASKED)

    def anonymise_error(self, error: GraphQLError) -> GraphQLError:
        return masked(error, getattr(self.execution_context.context, "request_id", None))
